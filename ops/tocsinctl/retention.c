/* SPDX-License-Identifier: AGPL-3.0-or-later
 * retention.c — `tocsinctl retention run [--dry-run] [--org SLUG]`: what
 * the worker's nightly retention run would remove now, per org and kind
 * (tocsin_retention_due), or the run itself on demand, batch by batch as
 * the worker does (tocsin_retention_batch, schema/functions/retention.sql:
 * 1,000 rows per transaction). The rules are the SQL's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "dbsync.h"
#include "tocsinctl.h"

static int dry_run(PGconn *conn, const char *org_s)
{
    const char *params[] = {org_s};
    PGresult *res = tocsinctl_exec(
        conn, "retention run",
        "SELECT o.slug, d.kind, d.due FROM tocsin_retention_due($1::bigint) d"
        " JOIN orgs o ON o.id = d.org_id ORDER BY o.slug, array_position(tocsin_retention_kinds(), "
        "d.kind)",
        1, params);
    if (!res)
        return TOCSINCTL_FAIL;
    printf("%-24s %-16s %s\n", "org", "kind", "would remove");
    for (int i = 0; i < PQntuples(res); i++)
        printf("%-24s %-16s %s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
               PQgetvalue(res, i, 2));
    printf("(dry run: nothing changed; opt-outs in force and each number's latest consent "
           "event are never removed)\n");
    PQclear(res);
    return TOCSINCTL_OK;
}

/* Batch after batch until the SQL names no next kind, printing each
 * kind's total as it ends; the counts of a run over every org are
 * recorded as the worker's are. */
static int run(PGconn *conn, const char *org_s)
{
    char kind[64] = "", after[24] = "0", counts[1024] = "{";
    size_t off = 1;
    long long total = 0;
    for (;;) {
        const char *params[] = {kind[0] ? kind : NULL, org_s, after};
        PGresult *res = tocsinctl_exec(conn, "retention run",
                                       "SELECT kind, changed, next_kind, next_after FROM "
                                       "tocsin_retention_step($1, $2::bigint, $3::bigint, 1000)",
                                       3, params);
        if (!res)
            return TOCSINCTL_FAIL;
        const char *this_kind = PQgetvalue(res, 0, 0);
        total += strtoll(PQgetvalue(res, 0, 1), NULL, 10);
        int last = PQgetisnull(res, 0, 2);
        if (last || strcmp(PQgetvalue(res, 0, 2), this_kind) != 0) {
            printf("%-16s %lld removed\n", this_kind, total);
            if (off < sizeof counts)
                off += (size_t)snprintf(counts + off, sizeof counts - off, "%s\"%s\":%lld",
                                        off > 1 ? "," : "", this_kind, total);
            total = 0;
        }
        if (!last) {
            snprintf(kind, sizeof kind, "%s", PQgetvalue(res, 0, 2));
            snprintf(after, sizeof after, "%s", PQgetvalue(res, 0, 3));
        }
        PQclear(res);
        if (last)
            break;
    }
    if (off + 2 > sizeof counts) {
        fprintf(stderr, "tocsinctl retention run: too many kinds to record\n");
        return TOCSINCTL_FAIL;
    }
    snprintf(counts + off, sizeof counts - off, "}");
    if (!org_s) {
        const char *params[] = {"tocsinctl", counts};
        PGresult *res = tocsinctl_exec(
            conn, "retention run", "SELECT tocsin_retention_finished($1, $2::jsonb)", 2, params);
        if (!res)
            return TOCSINCTL_FAIL;
        PQclear(res);
    }
    return TOCSINCTL_OK;
}

int tocsinctl_retention_run(struct tocsinctl *ctl, int argc, char **argv)
{
    const char *org = NULL;
    int dry = 0;
    const struct ctl_opt opts[] = {CTL_VALUE("--org", org), CTL_FLAG("--dry-run", dry), CTL_END};
    PGconn *conn;
    long long org_id;
    int go =
        ctl_begin(ctl, argc, argv,
                  &(struct ctl_args){.opts = opts, .conn = &conn, .org = &org, .org_id = &org_id});
    if (go != CTL_GO)
        return go;
    char org_s[24];
    if (org)
        snprintf(org_s, sizeof org_s, "%lld", org_id);
    return dry ? dry_run(conn, org ? org_s : NULL) : run(conn, org ? org_s : NULL);
}
