/* SPDX-License-Identifier: AGPL-3.0-or-later
 * keyword_rules.c — the checks an opt-in keyword passes before it is
 * stored: the word, its pcre2 pattern (compiled as the gateway compiles
 * it) and its confirmation (lib/compliance). Touches no database. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <stdio.h>
#include <string.h>

#include <pcre2.h>

#include "compliance.h"
#include "keyword.h"
#include "keyword_rules.h"

static int keyword_valid(const char *k, char *up, size_t upsize)
{
    size_t n = strlen(k);
    if (n == 0 || n > TOCSIN_KEYWORD_MAX || n >= upsize)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = k[i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 32);
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            return 0;
        up[i] = c;
    }
    up[n] = '\0';
    return 1;
}

/* Lower-cases ASCII and the Latin-1 capitals (UTF-8 C3 80..9E but the
 * multiplication sign), as "SÍ" -> "sí". out is always NUL-terminated. */
static void to_lower(const char *in, char *out, size_t outsize)
{
    size_t o = 0;
    for (size_t i = 0; in[i] && o + 1 < outsize; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c + 32);
        else if (i > 0 && (unsigned char)in[i - 1] == 0xc3 && c >= 0x80 && c <= 0x9e && c != 0x97)
            c = (unsigned char)(c + 0x20);
        out[o++] = (char)c;
    }
    out[o] = '\0';
}

/* 1 if re matches subject (NUL-terminated) anywhere. */
static int matches(const pcre2_code *re, pcre2_match_data *md, const char *subject)
{
    return pcre2_match(re, (PCRE2_SPTR)subject, strlen(subject), 0, 0, md, NULL) >= 0;
}

/* Compiles pattern as the gateway will (UTF, Unicode properties) and
 * refuses one that matches an empty message or a reserved word in upper or
 * lower case: the gateway would never let it act on those, and whoever
 * wrote it meant something else; or one that reaches the gateway's match
 * limits on hostile messages (lib/keyword). Returns 0, or -1 with err set. */
static int check_pattern(const char *pattern, char *err, size_t errlen)
{
    int code;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                                   PCRE2_UTF | PCRE2_UCP, &code, &off, NULL);
    if (!re) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(code, msg, sizeof msg);
        snprintf(err, errlen, "invalid pattern \"%s\": %s at offset %zu", pattern, (char *)msg,
                 (size_t)off);
        return -1;
    }
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    int rc = 0;
    if (!md) {
        snprintf(err, errlen, "could not check pattern \"%s\": out of memory", pattern);
        rc = -1;
    } else if (matches(re, md, "")) {
        snprintf(err, errlen, "invalid pattern \"%s\": it matches an empty message", pattern);
        rc = -1;
    }
    const char *const *lists[] = {tocsin_opt_out_words, tocsin_opt_in_words, tocsin_help_words};
    for (size_t l = 0; rc == 0 && l < sizeof lists / sizeof lists[0]; l++)
        for (const char *const *w = lists[l]; rc == 0 && *w; w++) {
            char lower[32];
            to_lower(*w, lower, sizeof lower);
            if (matches(re, md, *w) || matches(re, md, lower)) {
                snprintf(err, errlen, "invalid pattern \"%s\": it matches the reserved word %s",
                         pattern, *w);
                rc = -1;
            }
        }
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    if (rc == 0) /* the gateway would give up on it: refuse it now */
        rc = tocsin_keyword_pattern_cost_check(pattern, err, errlen);
    return rc;
}

int tocsin_keyword_rules_check(const char *keyword, const char *pattern, const char *reply,
                               const char *org_name, struct tocsin_keyword_checked *out, char *err,
                               size_t errlen)
{
    if (!keyword_valid(keyword, out->keyword, sizeof out->keyword)) {
        snprintf(err, errlen, "invalid keyword \"%.40s\": 1 to 20 letters A-Z or digits", keyword);
        return -1;
    }
    if (tocsin_reserved_word(out->keyword, strlen(out->keyword)) != TOCSIN_RESERVED_NONE) {
        snprintf(err, errlen, "keyword \"%s\" is reserved for opt-out, opt-in or help",
                 out->keyword);
        return -1;
    }
    if (pattern && (!*pattern || strlen(pattern) > TOCSIN_KEYWORD_PATTERN_MAX)) {
        snprintf(err, errlen, "invalid pattern: must be 1 to %d bytes", TOCSIN_KEYWORD_PATTERN_MAX);
        return -1;
    }
    if (pattern)
        snprintf(out->pattern, sizeof out->pattern, "%s", pattern);
    else /* the whole message, any case, surrounding space and trailing punctuation ignored */
        snprintf(out->pattern, sizeof out->pattern, "(?i)^\\s*%s[\\s\\p{P}]*$", out->keyword);
    if (check_pattern(out->pattern, err, errlen))
        return -1;
    size_t rlen = strlen(reply);
    if (rlen == 0 || rlen > 1600) {
        snprintf(err, errlen, "invalid confirmation: must be 1 to 1600 bytes");
        return -1;
    }
    return tocsin_confirmation_check(reply, rlen, org_name, err, errlen);
}
