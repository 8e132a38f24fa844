/* SPDX-License-Identifier: AGPL-3.0-or-later
 * keyword.c — message intent: reserved words, the org's pcre2 keywords,
 * and the plain-words revocation patterns (all kept here, in one list). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "keyword.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcre2.h>

#include "compliance.h"
#include "log.h"
#include "normalize.h"

#define KEYWORD_SET_MAX 256

struct compiled {
    long long id;
    pcre2_code *re;
};

struct tocsin_keyword_set {
    struct compiled *items;
    size_t n;
    pcre2_match_data *md;
    pcre2_match_context *limits;
};

/* A match context with Tocsin's limits, or NULL when out of memory. */
static pcre2_match_context *limits_new(void)
{
    pcre2_match_context *mc = pcre2_match_context_create(NULL);
    if (mc) {
        pcre2_set_match_limit(mc, TOCSIN_KEYWORD_MATCH_LIMIT);
        pcre2_set_depth_limit(mc, TOCSIN_KEYWORD_DEPTH_LIMIT);
        pcre2_set_heap_limit(mc, TOCSIN_KEYWORD_HEAP_LIMIT_KIB);
    }
    return mc;
}

/* 1 when pcre2 stopped a match at one of the limits. */
static int hit_limit(int rc)
{
    return rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
           rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT ||
           rc == PCRE2_ERROR_NOMEMORY;
}

/* Patterns see the folded message (lib/normalize): their own non-ASCII
 * letters are folded the same way and case is ignored. */
static pcre2_code *compile(const char *pattern, int *code, PCRE2_SIZE *off)
{
    size_t len = strlen(pattern);
    char *folded = malloc(2 * len + 1);
    if (!folded) {
        *code = PCRE2_ERROR_NOMEMORY;
        *off = 0;
        return NULL;
    }
    size_t n = tocsin_normalize_pattern(pattern, len, folded, 2 * len + 1);
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)folded, n,
                                   PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF | PCRE2_CASELESS,
                                   code, off, NULL);
    free(folded);
    if (re)
        pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* falls back to the interpreter */
    return re;
}

struct tocsin_keyword_set *tocsin_keyword_set_new(const struct tocsin_keyword_def *defs, size_t n,
                                                  char *err, size_t errlen)
{
    if (n > KEYWORD_SET_MAX) {
        snprintf(err, errlen, "more than %d keywords", KEYWORD_SET_MAX);
        return NULL;
    }
    struct tocsin_keyword_set *set = calloc(1, sizeof *set);
    if (!set || !(set->items = calloc(n ? n : 1, sizeof *set->items)) ||
        !(set->md = pcre2_match_data_create(4, NULL)) || !(set->limits = limits_new())) {
        tocsin_keyword_set_free(set);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        int code;
        PCRE2_SIZE off;
        pcre2_code *re = compile(defs[i].pattern, &code, &off);
        if (!re) {
            PCRE2_UCHAR msg[160];
            pcre2_get_error_message(code, msg, sizeof msg);
            snprintf(err, errlen, "keyword %lld: pattern error at offset %zu: %s", defs[i].id,
                     (size_t)off, (char *)msg);
            tocsin_keyword_set_free(set);
            return NULL;
        }
        set->items[set->n].id = defs[i].id;
        set->items[set->n++].re = re;
    }
    return set;
}

void tocsin_keyword_set_free(struct tocsin_keyword_set *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++)
        pcre2_code_free(set->items[i].re);
    free(set->items);
    pcre2_match_data_free(set->md);
    pcre2_match_context_free(set->limits);
    free(set);
}

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

static int is_trailing_punct(unsigned char c)
{
    return strchr(".!?,;:'\"()-*~", c) != NULL && c != '\0';
}

size_t tocsin_keyword_trim(const char *body, size_t len, const char **start)
{
    const unsigned char *s = (const unsigned char *)body;
    for (;;) {
        if (len && (is_space(s[len - 1]) || is_trailing_punct(s[len - 1]))) {
            len--;
        } else if (len >= 2 && s[len - 2] == 0xC2 && (s[len - 1] == 0xA1 || s[len - 1] == 0xBF)) {
            len -= 2; /* ¡ ¿ */
        } else if (len >= 2 && s[len - 2] == 0xC2 && s[len - 1] == 0xA0) {
            len -= 2; /* no-break space */
        } else {
            break;
        }
    }
    /* Opening marks may lead: "¡ALTO!", a quoted "STOP". */
    for (;;) {
        if (len >= 2 && s[0] == 0xC2 && (s[1] == 0xA1 || s[1] == 0xBF))
            s += 2, len -= 2;
        else if (len && (s[0] == '"' || s[0] == '\'' || s[0] == '(' || is_space(s[0])))
            s++, len--;
        else
            break;
    }
    *start = (const char *)s;
    return len;
}

/* --- revocation in plain words --- */

/* One place for the patterns; tests/unit/test_keyword.c holds true and
 * false positives for each. Matched case-insensitively anywhere. */
static const char *const revocation_patterns[] = {
    /* English */
    "\\b(stop|quit|cease)\\s+(texting|messaging|sending|contacting|txting)\\b",
    "\\b(remove|delete|take)\\s+(me|my\\s+(number|#))\\b",
    "\\bunsubscribe\\b",
    "\\bno\\s+more\\s+(texts?|messages?|msgs?|sms)\\b",
    "\\bdon'?t\\s+(text|message|contact|txt)\\s+me\\b",
    "\\bdo\\s+not\\s+(text|message|contact)\\s+me\\b",
    "\\b(leave|let)\\s+me\\s+alone\\b",
    "\\bopt\\s*(me\\s+)?out\\b",
    "\\blose\\s+my\\s+number\\b",
    "\\bnot\\s+interested\\b",
    /* Spanish */
    "\\bdej(a|en|ar)\\s+de\\s+(enviar|mandar|escribir)",
    "\\bno\\s+(me\\s+)?(env[ií]en|manden|escriban)\\s+m[aá]s\\b",
    "\\b(b[oó]rr(a|e)me|s[aá]c(a|q)u?(e)?me)\\b",
    "\\bya\\s+no\\s+(quiero|deseo)\\s+(recibir|mensajes)",
    "\\bno\\s+m[aá]s\\s+mensajes\\b",
    "\\bdarme\\s+de\\s+baja\\b",
};

static pcre2_code *revocation_re;
static pcre2_match_data *revocation_md;
static pcre2_match_context *revocation_limits;

int tocsin_likely_revocation(const char *body, size_t len)
{
    if (!revocation_re) {
        /* One alternation: a single pass over the message. */
        char pattern[4096] = "(?i)(?:";
        size_t n = strlen(pattern);
        for (size_t i = 0; i < sizeof revocation_patterns / sizeof revocation_patterns[0]; i++)
            n += (size_t)snprintf(pattern + n, sizeof pattern - n, "%s(?:%s)", i ? "|" : "",
                                  revocation_patterns[i]);
        snprintf(pattern + n, sizeof pattern - n, ")");
        int code;
        PCRE2_SIZE off;
        revocation_re = compile(pattern, &code, &off);
        revocation_md =
            revocation_re ? pcre2_match_data_create_from_pattern(revocation_re, NULL) : NULL;
        revocation_limits = limits_new();
        if (!revocation_re || !revocation_md || !revocation_limits)
            return 0;
    }
    return pcre2_match(revocation_re, (PCRE2_SPTR)body, len, 0, 0, revocation_md,
                       revocation_limits) >= 0;
}

static void classify_folded(const struct tocsin_keyword_set *set, const char *body, size_t len,
                            struct tocsin_classification *out)
{
    memset(out, 0, sizeof *out);
    const char *word;
    size_t wl = tocsin_keyword_trim(body, len, &word);
    switch (tocsin_reserved_word(word, wl)) {
    case TOCSIN_RESERVED_OPT_OUT:
        out->intent = TOCSIN_INTENT_OPT_OUT;
        return;
    case TOCSIN_RESERVED_OPT_IN:
        out->intent = TOCSIN_INTENT_OPT_IN;
        return;
    case TOCSIN_RESERVED_HELP:
        out->intent = TOCSIN_INTENT_HELP;
        return;
    default:
        break;
    }
    for (size_t i = 0; set && i < set->n; i++) {
        int rc = pcre2_match(set->items[i].re, (PCRE2_SPTR)body, len, 0, 0, set->md, set->limits);
        if (rc >= 0) {
            out->intent = TOCSIN_INTENT_KEYWORD;
            out->keyword_id = set->items[i].id;
            return;
        }
        if (hit_limit(rc)) /* a costly pattern saved before creation checked it */
            log_warn("keyword_match_limit", "keyword_id=%lld rc=%d bytes=%zu", set->items[i].id, rc,
                     len);
    }
    out->intent = TOCSIN_INTENT_REPLY;
    out->likely_revocation = tocsin_likely_revocation(body, len);
}

/* --- creation-time cost check --- */

#define CORPUS_LEN 1600

/* subject = unit repeated to fill CORPUS_LEN bytes less the end, then end. */
static size_t corpus_fill(char *subject, const char *unit, size_t ulen, const char *end)
{
    size_t n = 0, elen = strlen(end);
    while (ulen && n + ulen + elen <= CORPUS_LEN) {
        memcpy(subject + n, unit, ulen);
        n += ulen;
    }
    memcpy(subject + n, end, elen);
    return n + elen;
}

int tocsin_keyword_pattern_cost_check(const char *pattern, char *err, size_t errlen)
{
    int code;
    PCRE2_SIZE off;
    pcre2_code *re = compile(pattern, &code, &off);
    pcre2_match_data *md = re ? pcre2_match_data_create_from_pattern(re, NULL) : NULL;
    pcre2_match_context *mc = limits_new();
    char *subject = malloc(CORPUS_LEN);
    int rc = 0;
    if (!re || !md || !mc || !subject) {
        snprintf(err, errlen,
                 re ? "could not check pattern \"%s\": out of memory" : "invalid pattern \"%s\"",
                 pattern);
        rc = -1;
        goto out;
    }
    /* Units: common characters and words, then each character of the
     * pattern (its literals are what its loops consume) and the pattern's
     * letters and digits in order ("(ab|a)+" -> "aba"). */
    char units[96][24];
    size_t nunits = 0;
    static const char *const common[] = {
        "a",  "A", "0", " ", "a ", "ab", "0 ", ".", "-", "!", "\xc3\xa9", "join ", "stop texting ",
        "a\n"};
    for (size_t i = 0; i < sizeof common / sizeof common[0]; i++)
        snprintf(units[nunits++], sizeof units[0], "%s", common[i]);
    char letters[24];
    size_t nl = 0;
    for (const unsigned char *p = (const unsigned char *)pattern; *p; p++) {
        if (*p < 0x20 || *p >= 0x7f)
            continue;
        int seen = 0;
        for (size_t i = 0; i < nunits && !seen; i++)
            seen = units[i][0] == (char)*p && units[i][1] == '\0';
        if (!seen && nunits < sizeof units / sizeof units[0] - 1) {
            units[nunits][0] = (char)*p;
            units[nunits++][1] = '\0';
        }
        if (((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z') || (*p >= '0' && *p <= '9'))
            if (nl < sizeof letters - 1)
                letters[nl++] = (char)*p;
    }
    letters[nl] = '\0';
    if (nl)
        snprintf(units[nunits++], sizeof units[0], "%s", letters);
    /* Ends: a byte that fails the match alone, and that byte before each
     * character of the pattern, so a pattern that requires one ("^(\d+)*x",
     * "(a|ab)+!") finds it and backtracks instead of being ruled out at
     * once by pcre2's required-character check. */
    char ends[2 + 32][3] = {"\x01", " "};
    size_t nends = 2;
    for (const unsigned char *p = (const unsigned char *)pattern; *p && nends < 34; p++) {
        if (*p <= 0x20 || *p >= 0x7f)
            continue;
        int seen = 0;
        for (size_t k = 2; k < nends && !seen; k++)
            seen = ends[k][1] == (char)*p;
        if (!seen) {
            ends[nends][0] = '\x01';
            ends[nends][1] = (char)*p;
            ends[nends++][2] = '\0';
        }
    }
    for (size_t u = 0; u < nunits && rc == 0; u++) {
        for (size_t e = 0; e < nends && rc == 0; e++) {
            size_t len = corpus_fill(subject, units[u], strlen(units[u]), ends[e]);
            int m = pcre2_match(re, (PCRE2_SPTR)subject, len, 0, 0, md, mc);
            if (hit_limit(m)) {
                char shown[40];
                tocsin_log_quote(shown, sizeof shown, units[u], strlen(units[u]));
                snprintf(err, errlen,
                         "pattern \"%s\" is too costly: it backtracks past %d steps on %d bytes of"
                         " %s; write it without nested repeats such as (a+)+",
                         pattern, TOCSIN_KEYWORD_MATCH_LIMIT, CORPUS_LEN, shown);
                rc = -1;
            }
        }
    }
out:
    free(subject);
    pcre2_match_context_free(mc);
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    return rc;
}

/* Every rule reads the message folded once (lib/normalize). */
void tocsin_keyword_classify(const struct tocsin_keyword_set *set, const char *body, size_t len,
                             struct tocsin_classification *out)
{
    char stack[4096], *folded = stack;
    size_t cap = 2 * len + 1;
    if (cap > sizeof stack && !(folded = malloc(cap))) {
        memset(out, 0, sizeof *out);
        return; /* out of memory: an ordinary reply, for a person to read */
    }
    len = tocsin_normalize_message(body, len, folded, folded == stack ? sizeof stack : cap);
    classify_folded(set, folded, len, out);
    if (folded != stack)
        free(folded);
}
