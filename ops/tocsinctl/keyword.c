/* SPDX-License-Identifier: AGPL-3.0-or-later
 * keyword.c — `tocsinctl keyword add`: an opt-in keyword (JOIN, UNETE...)
 * with its list and its confirmation. Refuses reserved words (STOP, HELP,
 * START and their Spanish forms), patterns pcre2 cannot compile or that
 * match an empty message or a reserved word, and confirmations that lack
 * a CTIA part (lib/compliance). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcre2.h>

#include "args.h"
#include "compliance.h"
#include "dbsync.h"
#include "records.h"
#include "tocsinctl.h"

static int keyword_valid(const char *k, char *up, size_t upsize)
{
    size_t n = strlen(k);
    if (n == 0 || n > 20 || n >= upsize)
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
 * lower case: the gateway would never let it act on those, and an operator
 * who wrote it meant something else. Returns 0, or -1 with err set. */
static int check_pattern(const char *pattern, char *err, size_t errlen)
{
    int code;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP,
                                   &code, &off, NULL);
    if (!re) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(code, msg, sizeof msg);
        snprintf(err, errlen, "invalid pattern \"%s\": %s at offset %zu", pattern, (char *)msg, (size_t)off);
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
                snprintf(err, errlen, "invalid pattern \"%s\": it matches the reserved word %s", pattern, *w);
                rc = -1;
            }
        }
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    return rc;
}

int ctl_insert_keyword(PGconn *conn, long long org_id, const struct ctl_keyword *k, char *err,
                       size_t errlen)
{
    char up[32];
    if (!keyword_valid(k->keyword, up, sizeof up)) {
        snprintf(err, errlen, "invalid keyword \"%s\": 1 to 20 letters A-Z or digits", k->keyword);
        return -1;
    }
    if (tocsin_reserved_word(up, strlen(up)) != TOCSIN_RESERVED_NONE) {
        snprintf(err, errlen, "keyword \"%s\" is reserved for opt-out, opt-in or help", up);
        return -1;
    }
    char pattern[600];
    if (k->pattern && (!*k->pattern || strlen(k->pattern) > 500)) {
        snprintf(err, errlen, "invalid pattern: must be 1 to 500 bytes");
        return -1;
    }
    if (k->pattern)
        snprintf(pattern, sizeof pattern, "%s", k->pattern);
    else /* the whole message, any case, surrounding space and trailing punctuation ignored */
        snprintf(pattern, sizeof pattern, "(?i)^\\s*%s[\\s\\p{P}]*$", up);
    if (check_pattern(pattern, err, errlen))
        return -1;
    char org[24];
    snprintf(org, sizeof org, "%lld", org_id);
    const char *p1[] = {org};
    PGresult *res = tocsin_dbsync_exec(conn, "SELECT name FROM orgs WHERE id = $1", 1, p1, err, errlen);
    if (!res)
        return -1;
    char org_name[256];
    snprintf(org_name, sizeof org_name, "%s", PQntuples(res) ? PQgetvalue(res, 0, 0) : "");
    PQclear(res);
    if (tocsin_confirmation_check(k->reply, strlen(k->reply), org_name, err, errlen))
        return -1;
    const char *params[] = {org, k->sender, k->list, up, pattern, k->reply};
    char dberr[512];
    res = tocsin_dbsync_exec(
        conn,
        "WITH l AS (INSERT INTO lists (org_id, name) VALUES ($1, $3)"
        "           ON CONFLICT (org_id, name) DO UPDATE SET name = EXCLUDED.name RETURNING id),"
        " s AS (SELECT id FROM senders WHERE org_id = $1 AND address = $2)"
        " INSERT INTO keywords (org_id, sender_id, list_id, keyword, pattern, reply)"
        " SELECT $1, (SELECT id FROM s), l.id, $4, $5, $6 FROM l"
        " WHERE $2::text IS NULL OR EXISTS (SELECT 1 FROM s) RETURNING id",
        6, params, dberr, sizeof dberr);
    if (!res) {
        if (strcmp(tocsin_dbsync_last_sqlstate(), "23505") == 0)
            snprintf(err, errlen, "keyword \"%s\" already exists", up);
        else
            snprintf(err, errlen, "%s", dberr);
        return -1;
    }
    int found = PQntuples(res) == 1;
    PQclear(res);
    if (!found) {
        snprintf(err, errlen, "sender \"%s\" does not exist in this org", k->sender);
        return -1;
    }
    return 0;
}

static int add_keyword(PGconn *conn, long long org_id, void *arg, char *err, size_t errlen)
{
    return ctl_insert_keyword(conn, org_id, arg, err, errlen);
}

int tocsinctl_keyword_add(struct tocsinctl *ctl, int argc, char **argv)
{
    const char *org = NULL;
    struct ctl_keyword k = {0};
    const struct ctl_opt opts[] = {{"--org", &org, NULL},          {"--keyword", &k.keyword, NULL},
                                   {"--pattern", &k.pattern, NULL}, {"--sender", &k.sender, NULL},
                                   {"--list", &k.list, NULL},       {"--reply", &k.reply, NULL},
                                   {NULL, NULL, NULL}};
    int np = ctl_parse("keyword add", argc, argv, opts, NULL, 0);
    if (np == -2) {
        printf("Usage: tocsinctl keyword add --org SLUG --keyword WORD --list NAME --reply TEXT\n"
               "                             [--pattern PCRE2] [--sender ADDRESS]\n\n"
               "Adds an opt-in keyword. A member who texts it is subscribed to the list and\n"
               "gets TEXT, which must name the org and say how often messages come,\n"
               "\"Msg&data rates may apply\", HELP for help and STOP to cancel. The default\n"
               "pattern matches the whole message in any case, ignoring surrounding spaces\n"
               "and trailing punctuation. Without --sender it applies to every sender.\n");
        return TOCSINCTL_OK;
    }
    if (np < 0 || ctl_require("keyword add", "--org", org) ||
        ctl_require("keyword add", "--keyword", k.keyword) ||
        ctl_require("keyword add", "--list", k.list) || ctl_require("keyword add", "--reply", k.reply))
        return TOCSINCTL_USAGE;
    char done[300];
    snprintf(done, sizeof done, "added keyword %s (list %s) to org %s", k.keyword, k.list, org);
    return tocsinctl_for_org(ctl, "keyword add", org, add_keyword, &k, done);
}
