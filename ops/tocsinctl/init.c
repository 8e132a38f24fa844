/* SPDX-License-Identifier: AGPL-3.0-or-later
 * init.c — `tocsinctl init`: the first organisation of a new installation
 * and an invite link for its first admin, who sets her own password in
 * the dashboard. Refuses a database that already has an organisation, so
 * it cannot be mistaken for `org create`. No demo data. */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "crypto.h"
#include "dbsync.h"
#include "tocsinctl.h"

int tocsinctl_init(struct tocsinctl *ctl, int argc, char **argv)
{
    const char *name = NULL, *email = NULL, *help = NULL;
    const char *pos[1];
    int national = 0;
    const struct ctl_opt opts[] = {CTL_NEEDED("--name", name), CTL_NEEDED("--admin-email", email),
                                   CTL_VALUE("--help-text", help), CTL_FLAG("--national", national),
                                   CTL_END};
    int go = ctl_begin(
        ctl, argc, argv,
        &(struct ctl_args){.opts = opts, .pos = pos, .maxpos = 1, .pos_missing = "missing SLUG"});
    if (go != CTL_GO)
        return go;
    char token[64];
    if (tocsin_random_token(32, token, sizeof token) != 0) {
        fprintf(stderr, "tocsinctl init: could not make an invite token\n");
        return TOCSINCTL_FAIL;
    }
    PGconn *conn = tocsinctl_db(ctl);
    if (!conn)
        return TOCSINCTL_FAIL;
    const char *params[] = {pos[0], name, help, email, token, national ? "true" : "false"};
    char err[512];
    /* One statement: the org only if there is none yet, its invite with it
     * (the token's SHA-256 is stored, as the dashboard stores its own). */
    PGresult *res = tocsin_dbsync_exec(
        conn,
        "WITH o AS (INSERT INTO orgs (slug, name, help_text, national)"
        "           SELECT $1, $2, $3, $6::boolean WHERE NOT EXISTS (SELECT 1 FROM orgs)"
        "           RETURNING id),"
        " i AS (INSERT INTO invites (org_id, token_hash, email, role, expires_at)"
        "       SELECT id, sha256(convert_to($5, 'UTF8')), $4, 'admin', now() + interval '7 days' FROM o"
        "       RETURNING id, org_id),"
        " a AS (INSERT INTO audit_events (org_id, action, subject_type, subject_id, details)"
        "       SELECT org_id, 'invite.create', 'invite', id, jsonb_build_object('role', 'admin', 'email', $4::text)"
        "         FROM i)"
        "SELECT org_id FROM i",
        6, params, err, sizeof err);
    int rc = TOCSINCTL_FAIL;
    if (!res)
        fprintf(stderr, "tocsinctl init: %s\n", err);
    else if (PQntuples(res) == 0)
        fprintf(stderr,
                "tocsinctl init: this database already has an organisation (use org create)\n");
    else {
        printf("created org %s (id %s)\n", pos[0], PQgetvalue(res, 0, 0));
        printf("invite for the first admin (%s), valid 7 days:\n%s/#token=%s\n", email,
               ctl->cfg.dashboard_url, token);
        rc = TOCSINCTL_OK;
    }
    PQclear(res);
    return rc;
}
