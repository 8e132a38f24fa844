/* SPDX-License-Identifier: AGPL-3.0-or-later
 * queue_metrics.c — `tocsinctl metrics`: the figures only the database
 * knows, as Prometheus text for node_exporter's textfile collector: per
 * sender, the messages due and waiting and how long the oldest has
 * waited (a worker that stopped claiming shows here, not in its own
 * /metrics), and the messages whose fate is unknown. Reads the outbox
 * (schema 034: queued, not claimed) and unknown_messages (schema 035);
 * writes nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "dbsync.h"
#include "tocsinctl.h"

/* Prints a label value with Prometheus's escapes (\\, \", \n). */
static void label_value(const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            printf("\\%c", *s);
        else if (*s == '\n')
            printf("\\n");
        else
            putchar(*s);
    }
}

int tocsinctl_metrics(struct tocsinctl *ctl, int argc, char **argv)
{
    PGconn *conn;
    int go = ctl_begin(ctl, argc, argv, &(struct ctl_args){.conn = &conn});
    if (go != CTL_GO)
        return go;
    PGresult *res = tocsinctl_exec(
        conn, "metrics",
        "SELECT s.address, coalesce(q.due, 0), coalesce(q.age, 0), coalesce(u.n, 0)"
        " FROM senders s"
        " LEFT JOIN (SELECT sender_id, count(*) AS due,"
        "                   extract(epoch FROM now() - min(not_before))::bigint AS age"
        "              FROM outbox WHERE not_before <= now() GROUP BY sender_id) q"
        "        ON q.sender_id = s.id"
        " LEFT JOIN (SELECT sender_id, count(*) AS n FROM unknown_messages GROUP BY sender_id) u"
        "        ON u.sender_id = s.id"
        " ORDER BY s.address",
        0, NULL);
    if (!res)
        return TOCSINCTL_FAIL;
    static const char *const names[][2] = {
        {"tocsin_queue_due_messages", "Queued messages whose time has come, by sender."},
        {"tocsin_queue_oldest_due_age_seconds",
         "Seconds the oldest due queued message has waited, by sender."},
        {"tocsin_messages_unknown", "Messages whose fate is unknown (sent, no answer), by sender."},
    };
    for (int m = 0; m < 3; m++) {
        printf("# HELP %s %s\n# TYPE %s gauge\n", names[m][0], names[m][1], names[m][0]);
        for (int i = 0; i < PQntuples(res); i++) {
            printf("%s{sender=\"", names[m][0]);
            label_value(PQgetvalue(res, i, 0));
            printf("\"} %s\n", PQgetvalue(res, i, m + 1));
        }
    }
    PQclear(res);
    return TOCSINCTL_OK;
}
