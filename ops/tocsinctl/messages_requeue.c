/* SPDX-License-Identifier: AGPL-3.0-or-later
 * messages_requeue.c — `tocsinctl messages requeue --state unknown`: the
 * operator's confirmed resend of messages that may or may not have reached
 * the carrier (tocsin_messages_requeue in schema/functions/blasts.sql), which
 * the worker never resends by itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "dbsync.h"
#include "tocsinctl.h"

int tocsinctl_messages_requeue(struct tocsinctl *ctl, int argc, char **argv)
{
    const char *state = NULL, *org = NULL, *sender = NULL, *blast = NULL;
    int dry = 0;
    const struct ctl_opt opts[] = {CTL_NEEDED("--state", state),  CTL_VALUE("--org", org),
                                   CTL_VALUE("--sender", sender), CTL_VALUE("--blast", blast),
                                   CTL_FLAG("--dry-run", dry),    CTL_END};
    int go = ctl_begin(ctl, argc, argv, &(struct ctl_args){.opts = opts});
    if (go != CTL_GO)
        return go;
    if (strcmp(state, "unknown") != 0) {
        fprintf(
            stderr,
            "tocsinctl messages requeue: invalid state \"%s\": only unknown messages are requeued\n",
            state);
        return TOCSINCTL_USAGE;
    }
    if (blast && !ctl_valid_id(blast)) {
        fprintf(stderr,
                "tocsinctl messages requeue: invalid blast id \"%s\": must be a positive integer\n",
                blast);
        return TOCSINCTL_USAGE;
    }
    long long org_id;
    PGconn *conn = ctl_connect(ctl, org, &org_id);
    if (!conn)
        return TOCSINCTL_FAIL;
    int rc = TOCSINCTL_FAIL;
    char org_s[24];
    if (org)
        snprintf(org_s, sizeof org_s, "%lld", org_id);
    const char *params[] = {org ? org_s : NULL, sender, blast, dry ? "t" : "f"};
    PGresult *res = tocsinctl_exec(
        conn, "messages requeue",
        "SELECT CASE WHEN $2::text IS NOT NULL AND NOT EXISTS"
        "              (SELECT 1 FROM senders WHERE address = $2 AND ($1::bigint IS NULL OR org_id = $1))"
        "            THEN -1"
        "            ELSE tocsin_messages_requeue($1, NULL, (SELECT id FROM senders WHERE address = $2),"
        "                                         $3::bigint, $4::boolean) END",
        4, params);
    if (!res)
        goto out;
    long n = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    if (n < 0) {
        fprintf(stderr, "tocsinctl messages requeue: sender \"%s\" does not exist%s\n", sender,
                org ? " in this org" : "");
        goto out;
    }
    printf(dry ? "would requeue %ld unknown messages (dry run)\n"
               : "requeued %ld unknown messages\n",
           n);
    rc = TOCSINCTL_OK;
out:
    return rc;
}
