/* SPDX-License-Identifier: AGPL-3.0-or-later
 * org.c — `tocsinctl org create`: a chapter or the national body (an org
 * with chapters is national: its admins get the dashboard's Chapters
 * screen, schema 028), in its own phone region if given (schema 037);
 * `tocsinctl org set`: its settings kept in the database (the phone
 * region checked against libphonenumber's regions, lib/phone). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "dbsync.h"
#include "phone.h"
#include "tocsinctl.h"

int tocsinctl_org_create(struct tocsinctl *ctl, int argc, char **argv)
{
    const char *name = NULL, *parent = NULL, *help = NULL, *help_es = NULL, *region = NULL;
    const char *pos[1];
    int national = 0;
    const struct ctl_opt opts[] = {CTL_NEEDED("--name", name),
                                   CTL_VALUE("--parent", parent),
                                   CTL_FLAG("--national", national),
                                   CTL_VALUE("--help-text", help),
                                   CTL_VALUE("--help-text-es", help_es),
                                   CTL_VALUE("--phone-region", region),
                                   CTL_END};
    int go = ctl_begin(
        ctl, argc, argv,
        &(struct ctl_args){.opts = opts, .pos = pos, .maxpos = 1, .pos_missing = "missing SLUG"});
    if (go != CTL_GO)
        return go;
    if (national && parent) {
        fprintf(stderr, "tocsinctl org create: a chapter (--parent) cannot be --national\n");
        return TOCSINCTL_USAGE;
    }
    char why[200];
    if (region && tocsin_phone_region_check("--phone-region", region, why, sizeof why) != 0) {
        fprintf(stderr, "tocsinctl org create: %s\n", why);
        return TOCSINCTL_USAGE;
    }
    PGconn *conn = tocsinctl_db(ctl);
    if (!conn)
        return TOCSINCTL_FAIL;
    const char *params[] = {pos[0], name, parent, help, help_es, national ? "true" : "false",
                            region};
    char err[512];
    /* A chapter's parent becomes national, unless it is itself a chapter
     * (no row: refused below). */
    PGresult *res = tocsin_dbsync_exec(
        conn,
        "WITH p AS (UPDATE orgs SET national = true WHERE slug = $3 AND parent_org_id IS NULL"
        "           RETURNING id)"
        "INSERT INTO orgs (slug, name, parent_org_id, help_text, help_text_es, national,"
        "                  phone_region) "
        "SELECT $1, $2, p.id, $4, $5, $6::boolean, $7 FROM (SELECT NULL) x "
        "LEFT JOIN p ON true WHERE $3::text IS NULL OR p.id IS NOT NULL RETURNING id",
        7, params, err, sizeof err);
    int rc = TOCSINCTL_FAIL;
    if (!res && strcmp(tocsin_dbsync_last_sqlstate(), "23505") == 0)
        fprintf(stderr, "tocsinctl org create: org \"%s\" already exists\n", pos[0]);
    else if (!res && strcmp(tocsin_dbsync_last_sqlstate(), "23514") == 0)
        fprintf(stderr, "tocsinctl org create: invalid slug \"%s\" or name: %s\n", pos[0], err);
    else if (!res)
        fprintf(stderr, "tocsinctl org create: %s\n", err);
    else if (PQntuples(res) == 0)
        fprintf(stderr,
                "tocsinctl org create: parent org \"%s\" does not exist or is itself a chapter\n",
                parent);
    else {
        printf("created org %s (id %s)\n", pos[0], PQgetvalue(res, 0, 0));
        rc = TOCSINCTL_OK;
    }
    PQclear(res);
    return rc;
}

/* Reads on/off (also true/false, yes/no, 1/0) into *v; 0, or -1. */
static int on_off(const char *s, int *v)
{
    static const char *const on[] = {"on", "true", "yes", "1"}, *const off[] = {"off", "false",
                                                                                "no", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(s, on[i]) == 0)
            return *v = 1, 0;
        if (strcmp(s, off[i]) == 0)
            return *v = 0, 0;
    }
    return -1;
}

int tocsinctl_org_set(struct tocsinctl *ctl, int argc, char **argv)
{
    const char *max_conv = NULL, *two_factor = NULL, *region = NULL;
    const char *pos[1];
    const struct ctl_opt opts[] = {CTL_VALUE("--volunteer-max-conversations", max_conv),
                                   CTL_VALUE("--require-two-factor", two_factor),
                                   CTL_VALUE("--phone-region", region), CTL_END};
    int go = ctl_begin(
        ctl, argc, argv,
        &(struct ctl_args){.opts = opts, .pos = pos, .maxpos = 1, .pos_missing = "missing SLUG"});
    if (go != CTL_GO)
        return go;
    if (!max_conv && !two_factor && !region) {
        fprintf(stderr, "tocsinctl org set: give --volunteer-max-conversations N, "
                        "--require-two-factor on|off or --phone-region CC (see --help)\n");
        return TOCSINCTL_USAGE;
    }
    char why[200];
    if (region && strcmp(region, "default") != 0 &&
        tocsin_phone_region_check("--phone-region", region, why, sizeof why) != 0) {
        fprintf(stderr, "tocsinctl org set: %s; or default for TOCSIN_DEFAULT_REGION\n", why);
        return TOCSINCTL_USAGE;
    }
    if (max_conv) {
        char *end;
        long n = strtol(max_conv, &end, 10);
        if (*max_conv == '\0' || *end != '\0' || n < 1 || n > 500) {
            fprintf(stderr,
                    "tocsinctl org set: invalid --volunteer-max-conversations \"%s\": must be 1 "
                    "to 500\n",
                    max_conv);
            return TOCSINCTL_USAGE;
        }
    }
    int req = 0;
    if (two_factor && on_off(two_factor, &req) != 0) {
        fprintf(stderr, "tocsinctl org set: invalid --require-two-factor \"%s\": on or off\n",
                two_factor);
        return TOCSINCTL_USAGE;
    }
    PGconn *conn = tocsinctl_db(ctl);
    if (!conn)
        return TOCSINCTL_FAIL;
    const char *params[] = {pos[0], max_conv, two_factor ? (req ? "true" : "false") : NULL, region};
    char err[512];
    /* A change of the two-factor rule or of the phone region is audited
     * as the dashboard's is ($4 'default': back to NULL). */
    PGresult *res = tocsin_dbsync_exec(
        conn,
        "WITH old AS (SELECT id, require_two_factor, phone_region FROM orgs WHERE slug = $1),"
        " u AS (UPDATE orgs SET"
        "         volunteer_max_conversations = coalesce($2::int, volunteer_max_conversations),"
        "         require_two_factor = coalesce($3::boolean, require_two_factor),"
        "         phone_region = CASE WHEN $4::text IS NULL THEN phone_region"
        "                             ELSE nullif($4::text, 'default') END"
        "        WHERE slug = $1"
        "       RETURNING id, volunteer_max_conversations, require_two_factor, phone_region),"
        " a AS (INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id,"
        "                                 details)"
        "       SELECT u.id, NULL, 'org.settings', 'org', u.id,"
        "              jsonb_build_object('by', 'tocsinctl')"
        "              || CASE WHEN u.require_two_factor IS DISTINCT FROM old.require_two_factor"
        "                 THEN jsonb_build_object('require_two_factor', jsonb_build_object("
        "                      'old', old.require_two_factor, 'new', u.require_two_factor))"
        "                 ELSE '{}' END"
        "              || CASE WHEN u.phone_region IS DISTINCT FROM old.phone_region"
        "                 THEN jsonb_build_object('phone_region', jsonb_build_object("
        "                      'old', old.phone_region, 'new', u.phone_region))"
        "                 ELSE '{}' END"
        "         FROM u JOIN old USING (id)"
        "        WHERE u.require_two_factor IS DISTINCT FROM old.require_two_factor"
        "           OR u.phone_region IS DISTINCT FROM old.phone_region)"
        "SELECT volunteer_max_conversations, require_two_factor,"
        "       coalesce(phone_region, 'default') FROM u",
        4, params, err, sizeof err);
    int rc = TOCSINCTL_FAIL;
    if (!res)
        fprintf(stderr, "tocsinctl org set: %s\n", err);
    else if (PQntuples(res) == 0)
        fprintf(stderr, "tocsinctl org set: org \"%s\" does not exist\n", pos[0]);
    else {
        printf("org %s:", pos[0]);
        if (max_conv)
            printf(" volunteer_max_conversations=%s", PQgetvalue(res, 0, 0));
        if (two_factor)
            printf(" require_two_factor=%s",
                   strcmp(PQgetvalue(res, 0, 1), "t") == 0 ? "on" : "off");
        if (region)
            printf(" phone_region=%s", PQgetvalue(res, 0, 2));
        printf("\n");
        rc = TOCSINCTL_OK;
    }
    PQclear(res);
    return rc;
}
