/* SPDX-License-Identifier: AGPL-3.0-or-later
 * outreach.c — `tocsinctl outreach create|status`: a lead's peer-to-peer
 * campaign from the command line (schema/functions/outreach.sql validates and
 * audits; user NULL: the CLI) and its progress. The audience is imported
 * with `tocsinctl contacts import --outreach ID`; volunteers text it from
 * the dashboard. Exit 2 for usage and input the database refuses, 1 when
 * the campaign or org does not exist or the database fails. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "tocsinctl.h"

int tocsinctl_outreach_create(struct tocsinctl *ctl, int argc, char **argv)
{
    const char *org = NULL, *name = NULL, *sender = NULL, *script = NULL, *batch = NULL,
               *from = NULL, *until = NULL;
    const struct ctl_opt opts[] = {
        CTL_NEEDED("--org", org),         CTL_NEEDED("--name", name),
        CTL_NEEDED("--sender", sender),   CTL_NEEDED("--script", script),
        CTL_VALUE("--batch-size", batch), CTL_VALUE("--hours-start", from),
        CTL_VALUE("--hours-end", until),  CTL_END};
    PGconn *conn;
    long long org_id;
    int go =
        ctl_begin(ctl, argc, argv,
                  &(struct ctl_args){.opts = opts, .conn = &conn, .org = &org, .org_id = &org_id});
    if (go != CTL_GO)
        return go;
    int rc = TOCSINCTL_FAIL;
    char org_s[24];
    snprintf(org_s, sizeof org_s, "%lld", org_id);
    const char *p[] = {org_s, name, sender, script, batch, from, until};
    PGresult *res = tocsinctl_exec(
        conn, "outreach create",
        "SELECT o.status, o.body->>'id' AS id, o.body->'error'->>'message' AS error FROM senders s,"
        " tocsin_outreach_create($1, 0, $2, s.id, $4, $5::int, $6::int, $7::int) o"
        " WHERE s.org_id = $1 AND s.address = $3",
        7, p);
    if (!res) {
        rc = TOCSINCTL_USAGE; /* a bad number or a refused check */
        goto out;
    }
    if (PQntuples(res) == 0) {
        fprintf(stderr, "tocsinctl outreach create: sender \"%s\" does not exist in org \"%s\"\n",
                sender, org);
    } else if (strcmp(PQgetvalue(res, 0, PQfnumber(res, "status")), "201") != 0) {
        fprintf(stderr, "tocsinctl outreach create: %s\n",
                PQgetvalue(res, 0, PQfnumber(res, "error")));
        rc = TOCSINCTL_USAGE;
    } else {
        printf("created outreach campaign %s\n", PQgetvalue(res, 0, PQfnumber(res, "id")));
        rc = TOCSINCTL_OK;
    }
    PQclear(res);
out:
    return rc;
}

int tocsinctl_outreach_status(struct tocsinctl *ctl, int argc, char **argv)
{
    const char *org = NULL;
    const char *pos[1] = {NULL};
    const struct ctl_opt opts[] = {CTL_NEEDED("--org", org), CTL_END};
    int go = ctl_begin(ctl, argc, argv, &(struct ctl_args){.opts = opts, .pos = pos, .maxpos = 1});
    if (go != CTL_GO)
        return go;
    if (pos[0] && strspn(pos[0], "0123456789") != strlen(pos[0])) {
        fprintf(
            stderr,
            "tocsinctl outreach status: invalid campaign id \"%s\": must be a positive integer\n",
            pos[0]);
        return TOCSINCTL_USAGE;
    }
    long long org_id;
    PGconn *conn = ctl_connect(ctl, org, &org_id);
    int rc = TOCSINCTL_FAIL;
    if (!conn)
        goto out;
    char org_s[24];
    snprintf(org_s, sizeof org_s, "%lld", org_id);
    const char *p[] = {org_s, pos[0]};
    PGresult *res = tocsinctl_exec(
        conn, "outreach status",
        "SELECT c.id, c.state, c.name, x.g->>'pending', x.g->>'claimed', x.g->>'texted', x.g->>'replied',"
        "       x.g->>'opted_out'"
        "  FROM outreach_campaigns c"
        " CROSS JOIN LATERAL (SELECT tocsin_outreach_progress(c.org_id, c.id)::jsonb AS g) x"
        " WHERE c.org_id = $1 AND ($2::bigint IS NULL OR c.id = $2::bigint) ORDER BY c.id",
        2, p);
    if (!res)
        goto out;
    for (int i = 0; i < PQntuples(res); i++)
        printf("%s %s \"%s\" pending=%s claimed=%s texted=%s replied=%s opted_out=%s\n",
               PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
               PQgetvalue(res, i, 3), PQgetvalue(res, i, 4), PQgetvalue(res, i, 5),
               PQgetvalue(res, i, 6), PQgetvalue(res, i, 7));
    if (pos[0] && PQntuples(res) == 0)
        fprintf(stderr,
                "tocsinctl outreach status: outreach campaign %s does not exist in org \"%s\"\n",
                pos[0], org);
    else
        rc = TOCSINCTL_OK;
    PQclear(res);
out:
    return rc;
}
