/* SPDX-License-Identifier: AGPL-3.0-or-later
 * audit.c — `tocsinctl audit verify [--org SLUG]`: walks each org's audit
 * chain (schema 032) in order and recomputes every row's hash here, in C,
 * from the row's columns (the encoding of schema/functions/0_audit_hash.sql),
 * so a database whose hashing function was replaced cannot vouch for
 * itself. Reports the first broken link of each org — a row edited, a row
 * missing, rows moved, rows cut from the end — and exits 1 if any. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "crypto.h"
#include "dbsync.h"
#include "tocsinctl.h"

#define AUDIT_BATCH 5000
#define AUDIT_BATCH_TEXT "5000"

/* One hex digit's value, or -1. */
static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* 64 lower-case hex digits into 32 bytes; -1 if it is not that. */
static int hex32(const char *hex, unsigned char out[32])
{
    if (strlen(hex) != 64)
        return -1;
    for (int i = 0; i < 32; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

/* Appends one field of the encoding: "N;" or "S<len>:<text>;". buf has
 * room (row_hash sizes it: the text and 24 bytes for each field). */
static size_t put_field(char *buf, size_t size, size_t at, const char *v)
{
    if (!v) {
        memcpy(buf + at, "N;", 2);
        return at + 2;
    }
    size_t n = strlen(v);
    at += (size_t)snprintf(buf + at, size - at, "S%zu:", n);
    memcpy(buf + at, v, n);
    buf[at + n] = ';';
    return at + n + 1;
}

/* The columns a row is hashed over, in the encoding's order. */
enum { C_ID, C_ORG, C_SEQ, C_MICROS, C_USER, C_ACTION, C_STYPE, C_SID, C_DETAILS, C_NHASHED };
enum { C_PREV = C_NHASHED, C_HASH, C_AT, C_NCOLS };

/* SHA-256 of prev and the canonical encoding of row i; -1 out of memory. */
static int row_hash(PGresult *res, int i, const unsigned char prev[32], unsigned char out[32])
{
    static const char tag[] = "tocsin-audit-v1;";
    size_t len = 32 + sizeof tag;
    for (int c = 0; c < C_NHASHED; c++)
        len += strlen(PQgetvalue(res, i, c)) + 24;
    char *buf = malloc(len);
    if (!buf)
        return -1;
    memcpy(buf, prev, 32);
    memcpy(buf + 32, tag, sizeof tag - 1);
    size_t at = 32 + sizeof tag - 1;
    for (int c = 0; c < C_NHASHED; c++)
        at = put_field(buf, len, at, PQgetisnull(res, i, c) ? NULL : PQgetvalue(res, i, c));
    tocsin_sha256(buf, at, out);
    free(buf);
    return 0;
}

struct chain {
    const char *slug;
    long long next_seq;     /* the seq the next row must carry */
    unsigned char prev[32]; /* the hash it must follow */
    long long rows;
};

/* Checks one batch; returns 1 at the first broken link (printed), 0 if
 * the batch is sound, -1 on a failure of our own. */
static int check_batch(struct chain *ch, PGresult *res)
{
    for (int i = 0; i < PQntuples(res); i++) {
        const char *id = PQgetvalue(res, i, C_ID), *at = PQgetvalue(res, i, C_AT);
        long long seq = strtoll(PQgetvalue(res, i, C_SEQ), NULL, 10);
        unsigned char stored_prev[32], stored[32], computed[32];
        if (seq != ch->next_seq) {
            printf("org %s: broken link at audit row %s (seq %lld, %s): expected seq %lld; %s\n",
                   ch->slug, id, seq, at, ch->next_seq,
                   seq > ch->next_seq ? "a row before it was removed" : "rows were moved");
            return 1;
        }
        if (hex32(PQgetvalue(res, i, C_PREV), stored_prev) ||
            hex32(PQgetvalue(res, i, C_HASH), stored)) {
            printf("org %s: broken link at audit row %s (seq %lld, %s): its hashes are malformed\n",
                   ch->slug, id, seq, at);
            return 1;
        }
        if (memcmp(stored_prev, ch->prev, 32) != 0) {
            printf("org %s: broken link at audit row %s (seq %lld, %s): it does not follow the row "
                   "before it (a row before it was removed, replaced or moved)\n",
                   ch->slug, id, seq, at);
            return 1;
        }
        if (row_hash(res, i, ch->prev, computed) != 0)
            return -1;
        if (memcmp(computed, stored, 32) != 0) {
            printf("org %s: broken link at audit row %s (seq %lld, %s): its contents do not match "
                   "its hash (the row was edited)\n",
                   ch->slug, id, seq, at);
            return 1;
        }
        memcpy(ch->prev, stored, 32);
        ch->next_seq++;
        ch->rows++;
    }
    return 0;
}

static const char rows_sql[] =
    "SELECT id::text, org_id::text, seq::text, (extract(epoch FROM created_at) * 1000000)::bigint::text,"
    "       user_id::text, action, subject_type, subject_id::text, details::text,"
    "       encode(prev_hash, 'hex'), encode(hash, 'hex'),"
    "       to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS\"Z\"')"
    "  FROM audit_events WHERE org_id = $1::bigint AND seq >= $2::bigint"
    " ORDER BY audit_events.seq LIMIT " AUDIT_BATCH_TEXT; /* the column, not its text */

/* One org's chain: 0 intact, 1 broken (printed), -1 failed. */
static int verify_org(PGconn *conn, PGresult *orgs, int o)
{
    struct chain ch = {PQgetvalue(orgs, o, 1), 1, {0}, 0};
    const char *org_id = PQgetvalue(orgs, o, 0);
    int has_head = !PQgetisnull(orgs, o, 2);
    long long last_seq = has_head ? strtoll(PQgetvalue(orgs, o, 2), NULL, 10) : 0;
    unsigned char last_hash[32] = {0};
    if (has_head) {
        ch.next_seq = strtoll(PQgetvalue(orgs, o, 4), NULL, 10) + 1;
        if (hex32(PQgetvalue(orgs, o, 5), ch.prev) || hex32(PQgetvalue(orgs, o, 3), last_hash)) {
            printf("org %s: its chain head is malformed\n", ch.slug);
            return 1;
        }
    }
    for (;;) {
        char from[24];
        snprintf(from, sizeof from, "%lld", ch.next_seq);
        const char *params[] = {org_id, from};
        /* Rows below the anchor are found too (seq >= 1 on the first
         * batch when there is no head): a row with a seq the chain has
         * passed shows as "moved". */
        if (ch.rows == 0)
            params[1] = "0";
        PGresult *res = tocsinctl_exec(conn, "audit verify", rows_sql, 2, params);
        if (!res)
            return -1;
        int n = PQntuples(res), bad = check_batch(&ch, res);
        PQclear(res);
        if (bad)
            return bad;
        if (n < AUDIT_BATCH)
            break;
    }
    if (!has_head && ch.rows > 0) {
        printf("org %s: its chain head is missing (%lld rows)\n", ch.slug, ch.rows);
        return 1;
    }
    if (ch.next_seq - 1 != last_seq || memcmp(ch.prev, last_hash, 32) != 0) {
        printf("org %s: broken link at the end: the chain stops at seq %lld but its head says %lld "
               "(rows were removed from the end)\n",
               ch.slug, ch.next_seq - 1, last_seq);
        return 1;
    }
    printf("org %s: %lld rows, chain intact\n", ch.slug, ch.rows);
    return 0;
}

int tocsinctl_audit_verify(struct tocsinctl *ctl, int argc, char **argv)
{
    const char *org = NULL;
    const struct ctl_opt opts[] = {CTL_VALUE("--org", org), CTL_END};
    PGconn *conn;
    int go = ctl_begin(ctl, argc, argv, &(struct ctl_args){.opts = opts, .conn = &conn});
    if (go != CTL_GO)
        return go;
    const char *params[] = {org};
    PGresult *orgs =
        tocsinctl_exec(conn, "audit verify",
                       "SELECT o.id, o.slug, h.last_seq, encode(h.last_hash, 'hex'), h.anchor_seq,"
                       "       encode(h.anchor_hash, 'hex')"
                       "  FROM orgs o LEFT JOIN audit_chain_heads h ON h.org_id = o.id"
                       " WHERE $1::text IS NULL OR o.slug = $1 ORDER BY o.id",
                       1, params);
    if (!orgs)
        return TOCSINCTL_FAIL;
    if (org && PQntuples(orgs) == 0) {
        fprintf(stderr, "tocsinctl audit verify: org \"%s\" does not exist\n", org);
        PQclear(orgs);
        return TOCSINCTL_FAIL;
    }
    int rc = TOCSINCTL_OK;
    for (int o = 0; o < PQntuples(orgs); o++) {
        int r = verify_org(conn, orgs, o);
        if (r != 0)
            rc = TOCSINCTL_FAIL;
        if (r < 0)
            break;
    }
    PQclear(orgs);
    return rc;
}
