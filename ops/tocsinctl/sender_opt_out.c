/* SPDX-License-Identifier: AGPL-3.0-or-later
 * sender_opt_out.c — `tocsinctl sender show` and `tocsinctl sender
 * opt-out`: who answers STOP for a sender (schema/019): the carrier
 * (Twilio's default opt-out handling on long codes and toll-free numbers:
 * it confirms and refuses later messages with 21610, so Tocsin sends no
 * confirmation of its own) or the program (a standalone short code). */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "dbsync.h"
#include "tocsinctl.h"

static const char show_sql[] =
    "SELECT s.address, s.kind, s.provider, o.slug,"
    " tocsin_sender_opt_out_handling(s.kind, s.provider, s.opt_out_handling) AS handling,"
    " s.opt_out_handling IS NULL AS by_default, s.messages_per_second"
    " FROM senders s JOIN orgs o ON o.id = s.org_id WHERE s.address = $1";

static int print_sender(PGconn *conn, const char *verb, const char *address)
{
    const char *params[] = {address};
    PGresult *res = tocsinctl_exec(conn, verb, show_sql, 1, params);
    if (!res)
        return TOCSINCTL_FAIL;
    if (PQntuples(res) != 1) {
        fprintf(stderr, "tocsinctl %s: no sender has the address \"%s\"\n", verb, address);
        PQclear(res);
        return TOCSINCTL_FAIL;
    }
    const char *addr = PQgetvalue(res, 0, PQfnumber(res, "address")),
               *kind = PQgetvalue(res, 0, PQfnumber(res, "kind")),
               *provider = PQgetvalue(res, 0, PQfnumber(res, "provider")),
               *org = PQgetvalue(res, 0, PQfnumber(res, "slug")),
               *handling = PQgetvalue(res, 0, PQfnumber(res, "handling")),
               *by_default = PQgetvalue(res, 0, PQfnumber(res, "by_default")),
               *rate = PQgetvalue(res, 0, PQfnumber(res, "messages_per_second"));
    char why[64];
    if (strcmp(by_default, "t") == 0)
        snprintf(why, sizeof why, "default for a %s %s", provider, kind);
    else
        snprintf(why, sizeof why, "set");
    printf("address           %s\n"
           "org               %s\n"
           "kind              %s\n"
           "provider          %s\n"
           "messages/second   %s\n"
           "opt-out handling  %s (%s)\n",
           addr, org, kind, provider, rate, handling, why);
    printf("%s\n", strcmp(handling, "carrier") == 0
                       ? "                  the carrier answers STOP and refuses later messages "
                         "(21610); Tocsin confirms only Spanish opt-out words"
                       : "                  Tocsin sends the one STOP confirmation");
    PQclear(res);
    return TOCSINCTL_OK;
}

int tocsinctl_sender_show(struct tocsinctl *ctl, int argc, char **argv)
{
    const char *address = NULL;
    const struct ctl_opt opts[] = {CTL_NEEDED("--address", address), CTL_END};
    PGconn *conn;
    int go = ctl_begin(ctl, argc, argv, &(struct ctl_args){.opts = opts, .conn = &conn});
    if (go != CTL_GO)
        return go;
    int rc = print_sender(conn, "sender show", address);
    return rc;
}

int tocsinctl_sender_opt_out(struct tocsinctl *ctl, int argc, char **argv)
{
    const char *address = NULL, *by = NULL;
    const struct ctl_opt opts[] = {CTL_NEEDED("--address", address), CTL_NEEDED("--handled-by", by),
                                   CTL_END};
    int go = ctl_begin(ctl, argc, argv, &(struct ctl_args){.opts = opts});
    if (go != CTL_GO)
        return go;
    if (strcmp(by, "carrier") && strcmp(by, "program") && strcmp(by, "default")) {
        fprintf(stderr,
                "tocsinctl sender opt-out: invalid --handled-by \"%s\": must be carrier, "
                "program or default\n",
                by);
        return TOCSINCTL_USAGE;
    }
    PGconn *conn = tocsinctl_db(ctl);
    if (!conn)
        return TOCSINCTL_FAIL;
    const char *params[] = {address, strcmp(by, "default") ? by : NULL};
    PGresult *res =
        tocsinctl_exec(conn, "sender opt-out",
                       "UPDATE senders SET opt_out_handling = $2 WHERE address = $1", 2, params);
    int rc = res ? TOCSINCTL_OK : TOCSINCTL_FAIL;
    if (res && strcmp(PQcmdTuples(res), "1") != 0) {
        fprintf(stderr, "tocsinctl sender opt-out: no sender has the address \"%s\"\n", address);
        rc = TOCSINCTL_FAIL;
    }
    PQclear(res);
    if (rc == TOCSINCTL_OK)
        rc = print_sender(conn, "sender opt-out", address);
    return rc;
}
