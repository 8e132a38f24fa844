/* SPDX-License-Identifier: AGPL-3.0-or-later
 * dbsync.c — blocking libpq wrappers with uniform error text. */
#include "dbsync.h"

#include <stdio.h>
#include <string.h>

static _Thread_local char last_sqlstate[6];

PGconn *tocsin_dbsync_connect(const char *conninfo, char *err, size_t errlen)
{
    PGconn *conn = PQconnectdb(conninfo);
    if (!conn) {
        snprintf(err, errlen, "could not connect to database: out of memory");
        return NULL;
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", PQerrorMessage(conn));
        size_t n = strlen(msg);
        while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
            msg[--n] = '\0';
        snprintf(err, errlen, "could not connect to database: %s", msg);
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

static void dbsync_error(PGresult *res, PGconn *conn, char *err, size_t errlen)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    snprintf(last_sqlstate, sizeof last_sqlstate, "%s", state ? state : "");
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (!msg)
        msg = PQerrorMessage(conn);
    const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
    snprintf(err, errlen, "%s%s%s (SQLSTATE %s)", msg, detail ? ": " : "", detail ? detail : "",
             state ? state : "none");
}

PGresult *tocsin_dbsync_exec(PGconn *conn, const char *sql, int nparams, const char *const *params,
                             char *err, size_t errlen)
{
    PGresult *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        last_sqlstate[0] = '\0';
        return res;
    }
    dbsync_error(res, conn, err, errlen);
    PQclear(res);
    return NULL;
}

int tocsin_dbsync_command(PGconn *conn, const char *sql, char *err, size_t errlen)
{
    /* PQexec (simple protocol) so a migration file may hold many statements. */
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY) {
        last_sqlstate[0] = '\0';
        PQclear(res);
        return 0;
    }
    dbsync_error(res, conn, err, errlen);
    PQclear(res);
    return -1;
}

const char *tocsin_dbsync_last_sqlstate(void)
{
    return last_sqlstate;
}
