/* SPDX-License-Identifier: AGPL-3.0-or-later
 * db.h — asynchronous PostgreSQL on the libuv loop, for the daemons.
 * libpq runs non-blocking with uv_poll on its socket; queries are always
 * parameterized (text parameters, NULL = SQL NULL). A tocsin_db is a small
 * pool of connections sharing one FIFO queue, plus a dedicated connection
 * for LISTEN/NOTIFY. Lost connections come back with exponential backoff
 * and jitter; a query that was already sent when its connection broke is
 * reported as *ambiguous* (it may have run) and is never re-run. Queries
 * waiting for a connection fail after a deadline. Not thread-safe: one loop. */
#ifndef TOCSIN_DB_H
#define TOCSIN_DB_H

#include <libpq-fe.h>
#include <uv.h>

struct tocsin_db;

struct tocsin_db_options {
    const char *conninfo;       /* libpq connection string (copied) */
    unsigned pool_size;         /* query connections, 1..16 (default 2) */
    unsigned reconnect_max_ms;  /* backoff cap (default 10000) */
    unsigned queue_timeout_ms;  /* a queued query fails after this (default 30000) */
};

struct tocsin_db_result {
    PGresult *res;         /* the last result, or NULL on error; valid during the callback only */
    PGresult **results;    /* batches: one per statement (NULL where it did not run) */
    int nresults;
    const char *error;     /* NULL on success, else "message (SQLSTATE xxxxx)" */
    const char *sqlstate;  /* "" when not from the server */
    int ambiguous;         /* sent, then the connection broke: it may have committed */
};

typedef void (*tocsin_db_cb)(const struct tocsin_db_result *r, void *ctx);

/* Creates the pool and starts connecting. Returns NULL if out of memory. */
struct tocsin_db *tocsin_db_new(uv_loop_t *loop, const struct tocsin_db_options *o);

/* Queues one statement. sql and params are copied; cb (may be NULL) is
 * called exactly once, never before this function returns. Returns 0, or
 * -1 when the pool is closing or out of memory (cb is not called). */
int tocsin_db_query(struct tocsin_db *db, const char *sql, int nparams, const char *const *params,
                    tocsin_db_cb cb, void *ctx);

/* A batch: statements sent in one round trip in libpq's pipeline mode.
 * With transaction set they run between BEGIN and COMMIT, and the batch
 * succeeds only if COMMIT did. The callback gets one result per statement
 * (r->results). The first failing statement's error is r->error. */
struct tocsin_db_batch;
struct tocsin_db_batch *tocsin_db_batch_new(struct tocsin_db *db, int transaction);
int tocsin_db_batch_add(struct tocsin_db_batch *b, const char *sql, int nparams,
                        const char *const *params);
/* Queues the batch (which is then owned by the pool). Returns 0 or -1
 * (the batch is freed and cb not called). */
int tocsin_db_batch_run(struct tocsin_db_batch *b, tocsin_db_cb cb, void *ctx);

/* LISTEN on channel (letters, digits, underscore; up to 63). cb gets every
 * notification's payload. Returns 0 or -1 for a bad channel name. */
typedef void (*tocsin_db_notify_cb)(const char *channel, const char *payload, void *ctx);
int tocsin_db_listen(struct tocsin_db *db, const char *channel, tocsin_db_notify_cb cb, void *ctx);

/* Called after every (re)connection of the LISTEN connection, so a
 * subscriber can look for what it missed while disconnected. */
void tocsin_db_on_listen_connected(struct tocsin_db *db, void (*cb)(void *ctx), void *ctx);

/* 1 when at least one query connection is up. */
int tocsin_db_ready(const struct tocsin_db *db);
/* The last connection error, "" if none. */
const char *tocsin_db_last_error(const struct tocsin_db *db);

/* Lets queued and running queries finish (failing them at once if the
 * database is unreachable), closes every connection, frees the pool, then
 * calls done(arg). */
void tocsin_db_close(struct tocsin_db *db, void (*done)(void *arg), void *arg);

#endif
