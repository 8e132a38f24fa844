/* SPDX-License-Identifier: AGPL-3.0-or-later
 * dbsync.h — blocking PostgreSQL helpers for tocsinctl and tests only.
 * Daemons must use db.h (asynchronous, on the libuv loop). Queries are
 * always parameterized; errors come back as PostgreSQL's own message. */
#ifndef TOCSIN_DBSYNC_H
#define TOCSIN_DBSYNC_H

#include <stddef.h>

#include <libpq-fe.h>

/* Connects with a libpq connection string. Returns NULL with the reason in
 * err. The caller closes the connection with PQfinish(). */
PGconn *tocsin_dbsync_connect(const char *conninfo, char *err, size_t errlen);

/* Runs one parameterized statement (text parameters, NULL entries are SQL
 * NULL). Returns the result (caller PQclear()s it) when the status is
 * COMMAND_OK or TUPLES_OK; otherwise NULL with "message (SQLSTATE xxxxx)"
 * in err. */
PGresult *tocsin_dbsync_exec(PGconn *conn, const char *sql, int nparams, const char *const *params,
                             char *err, size_t errlen);

/* Runs a statement with no parameters and no interesting result (BEGIN,
 * COMMIT, a migration file). Returns 0, or -1 with err. */
int tocsin_dbsync_command(PGconn *conn, const char *sql, char *err, size_t errlen);

/* SQLSTATE of the last failed tocsin_dbsync_exec/command on this thread,
 * "" if none (to tell a unique violation 23505 from other errors). */
const char *tocsin_dbsync_last_sqlstate(void);

#endif
