/* SPDX-License-Identifier: AGPL-3.0-or-later
 * zones.c — `tocsinctl zones refresh`: writes the database's phone_zones
 * (quiet-hours zones per NANP area code and country, schema/006) from
 * lib/zones and the offline geocoder, in one transaction under the
 * migration lock. migrate runs it after applying migrations, or when the
 * table holds only its defaults, so a fresh database is ready; it is
 * idempotent (only changed rows are written) and safe to rerun after a
 * libphonenumber upgrade. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "dbsync.h"
#include "pgarray.h"
#include "tocsinctl.h"
#include "zones.h"

#define ZONES_LOCK_KEY "7236201" /* migrate's: refresh and migrations never interleave */
#define ZONES_BUF_MAX (1 << 20)

struct zrows {
    struct tocsin_pgarray prefix, region, zones, end;
    const char *lit[4]; /* the finished literals, in that order */
};

static void add_row(struct zrows *r, const char *prefix, const char *region, const char *zones,
                    int end)
{
    tocsin_pgarray_add_text(&r->prefix, prefix);
    tocsin_pgarray_add_text(&r->region, region);
    tocsin_pgarray_add_text(&r->zones, zones);
    tocsin_pgarray_add_int(&r->end, end);
}

/* Every row: NANP area codes the geocoder names, countries, defaults. */
static int build_rows(struct zrows *r)
{
    for (int npa = 200; npa <= 999; npa++) {
        const struct tocsin_place_zones *p = tocsin_zones_for_npa(npa);
        if (p) {
            char prefix[16];
            snprintf(prefix, sizeof prefix, "+1%03d", npa);
            add_row(r, prefix, p->name, p->zones, p->quiet_end_hour);
        }
    }
    size_t n;
    const struct tocsin_country_zones *c = tocsin_zones_countries(&n);
    for (size_t i = 0; i < n; i++)
        add_row(r, c[i].prefix, c[i].region, c[i].zones, c[i].quiet_end_hour);
    add_row(r, "+1", tocsin_zones_nanp_unknown.name, tocsin_zones_nanp_unknown.zones,
            tocsin_zones_nanp_unknown.quiet_end_hour);
    add_row(r, tocsin_zones_world_unknown.prefix, tocsin_zones_world_unknown.region,
            tocsin_zones_world_unknown.zones, tocsin_zones_world_unknown.quiet_end_hour);
    r->lit[0] = tocsin_pgarray_finish(&r->prefix);
    r->lit[1] = tocsin_pgarray_finish(&r->region);
    r->lit[2] = tocsin_pgarray_finish(&r->zones);
    r->lit[3] = tocsin_pgarray_finish(&r->end);
    return r->lit[0] && r->lit[1] && r->lit[2] && r->lit[3] ? 0 : -1;
}

static const char refresh_sql[] =
    "WITH names AS MATERIALIZED (SELECT name FROM pg_timezone_names),"
    " src AS (SELECT t.p, t.r, t.z::text[] AS z, t.e::smallint AS e"
    "               FROM unnest($1::text[], $2::text[], $3::text[], $4::int[]) AS t(p, r, z, e)),"
    " bad AS (SELECT DISTINCT x.zone FROM src, unnest(src.z) AS x(zone)"
    "          WHERE NOT EXISTS (SELECT 1 FROM names n WHERE n.name = x.zone)),"
    " tz AS (INSERT INTO tz_names SELECT DISTINCT name FROM names"
    "         WHERE NOT EXISTS (SELECT 1 FROM bad) ON CONFLICT DO NOTHING),"
    " up AS (INSERT INTO phone_zones AS z (prefix, region, zones, quiet_end_hour)"
    "         SELECT p, r, z, e FROM src WHERE NOT EXISTS (SELECT 1 FROM bad)"
    "         ON CONFLICT (prefix) DO UPDATE SET region = EXCLUDED.region, zones = EXCLUDED.zones,"
    "            quiet_end_hour = EXCLUDED.quiet_end_hour, updated_at = now()"
    "         WHERE (z.region, z.zones, z.quiet_end_hour)"
    "               IS DISTINCT FROM (EXCLUDED.region, EXCLUDED.zones, EXCLUDED.quiet_end_hour)"
    "         RETURNING 1),"
    " del AS (DELETE FROM phone_zones WHERE prefix NOT IN (SELECT p FROM src)"
    "          AND NOT EXISTS (SELECT 1 FROM bad) RETURNING 1)"
    " SELECT (SELECT count(*) FROM up) + (SELECT count(*) FROM del) AS changed,"
    "        (SELECT string_agg(zone, ', ' ORDER BY zone) FROM bad) AS unknown_zones";

int ctl_zones_refresh(PGconn *conn, int only_if_empty, char *err, size_t errlen)
{
    struct zrows r = {0};
    tocsin_pgarray_init(&r.prefix, ZONES_BUF_MAX);
    tocsin_pgarray_init(&r.region, ZONES_BUF_MAX);
    tocsin_pgarray_init(&r.zones, ZONES_BUF_MAX);
    tocsin_pgarray_init(&r.end, ZONES_BUF_MAX);
    int rc = -1;
    PGresult *res = NULL;
    if (tocsin_dbsync_command(conn, "BEGIN", err, errlen) ||
        tocsin_dbsync_command(conn, "SELECT pg_advisory_xact_lock(" ZONES_LOCK_KEY ")", err,
                              errlen))
        goto out;
    if (only_if_empty) {
        res =
            tocsin_dbsync_exec(conn, "SELECT count(*) > 2 FROM phone_zones", 0, NULL, err, errlen);
        if (!res)
            goto out;
        int full = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
        PQclear(res);
        res = NULL;
        if (full) {
            rc = tocsin_dbsync_command(conn, "COMMIT", err, errlen) ? -1 : 0;
            goto out;
        }
    }
    if (build_rows(&r)) {
        snprintf(err, errlen, "could not build the zone table: out of memory");
        goto out;
    }
    res = tocsin_dbsync_exec(conn, refresh_sql, 4, r.lit, err, errlen);
    if (!res)
        goto out;
    int i_changed = PQfnumber(res, "changed"), i_unknown = PQfnumber(res, "unknown_zones");
    if (!PQgetisnull(res, 0, i_unknown)) {
        snprintf(err, errlen, "unknown time zones in lib/zones.c: %s",
                 PQgetvalue(res, 0, i_unknown));
        goto out;
    }
    if (tocsin_dbsync_command(conn, "SELECT tocsin_phone_zone_keys_rebuild()", err, errlen) ||
        tocsin_dbsync_command(conn, "COMMIT", err, errlen))
        goto out;
    printf("phone_zones: %u prefixes, %ld changed\n", r.prefix.n,
           strtol(PQgetvalue(res, 0, i_changed), NULL, 10));
    rc = 0;
out:
    if (rc < 0) {
        char ignored[128];
        tocsin_dbsync_command(conn, "ROLLBACK", ignored, sizeof ignored);
    }
    PQclear(res);
    tocsin_pgarray_free(&r.prefix);
    tocsin_pgarray_free(&r.region);
    tocsin_pgarray_free(&r.zones);
    tocsin_pgarray_free(&r.end);
    return rc;
}

int tocsinctl_zones_refresh(struct tocsinctl *ctl, int argc, char **argv)
{
    const struct ctl_opt opts[] = {CTL_END};
    PGconn *conn;
    int go = ctl_begin(ctl, argc, argv, &(struct ctl_args){.opts = opts, .conn = &conn});
    if (go != CTL_GO)
        return go;
    char err[512];
    int rc = ctl_zones_refresh(conn, 0, err, sizeof err);
    if (rc)
        fprintf(stderr, "tocsinctl zones refresh: %s\n", err);
    return rc ? TOCSINCTL_FAIL : TOCSINCTL_OK;
}
