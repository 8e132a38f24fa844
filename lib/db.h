/* SPDX-License-Identifier: AGPL-3.0-or-later
 * db.h — asynchronous PostgreSQL on the libuv loop, for the daemons.
 * libpq runs non-blocking with uv_poll on its socket; queries are always
 * parameterized (text parameters, NULL = SQL NULL). A tocsin_db is a small
 * pool of connections sharing one FIFO queue, plus a dedicated connection
 * for LISTEN/NOTIFY. Lost connections come back with exponential backoff
 * and jitter. Not thread-safe: everything runs on one loop.
 *
 * What a failure means (r->error set):
 *  - ambiguous == 0: the job definitely did not take effect (never sent,
 *    cancelled while queued, a SQL error, or a transaction that the server
 *    reported rolled back). Safe to retry.
 *  - ambiguous == 1: the job was sent, then the connection broke before its
 *    outcome arrived: it may or may not have run (a COMMIT may have landed).
 *    It is never re-run by this module; the caller must check or use an
 *    idempotent retry. */
#ifndef TOCSIN_DB_H
#define TOCSIN_DB_H

#include <libpq-fe.h>
#include <uv.h>

struct tocsin_db;

struct tocsin_db_options {
    const char *conninfo;      /* libpq connection string (copied) */
    unsigned pool_size;        /* query connections, 1..16 (default 2) */
    unsigned reconnect_max_ms; /* backoff cap, db_reconnect_max_ms (default 10000) */
    unsigned queue_timeout_ms; /* a queued query fails after this (default 30000) */
    unsigned close_grace_ms;   /* tocsin_db_close waits this long for running
                                  queries before dropping them (default 5000) */
};

/* What a callback receives. Every pointer in it, the PGresults included,
 * belongs to the pool and is valid during the callback only: never PQclear
 * them, copy what you need. */
struct tocsin_db_result {
    PGresult *res;      /* the last statement's result, or NULL on error */
    PGresult **results; /* batches: one per statement added (NULL where it did not run) */
    int nresults;
    const char *error;    /* NULL on success, else "message (SQLSTATE xxxxx)" */
    const char *sqlstate; /* "" when not from the server */
    int ambiguous;        /* see the top of this file */
    /* On error: the primary message alone when a PL/pgSQL RAISE of ours
     * produced it (words written for people, e.g. "invalid body: ..."),
     * else NULL. error itself may carry the server's DETAIL (a violated
     * constraint's "Failing row contains (...)": a whole row of data) and
     * names tables: for logs only, never for a client. */
    const char *raised;
};

typedef void (*tocsin_db_cb)(const struct tocsin_db_result *r, void *ctx);

/* Creates the pool and starts connecting (connection errors are retried,
 * never reported here). Returns NULL if out of memory. Free it with
 * tocsin_db_close. */
struct tocsin_db *tocsin_db_new(uv_loop_t *loop, const struct tocsin_db_options *o);

/* Queues one statement, sent as soon as a connection is free (also while
 * connecting or reconnecting). sql and params are copied; cb (may be NULL)
 * is called exactly once, never before this function returns. Returns 0,
 * or -1 when the pool is closing or out of memory (cb is not called).
 * Consecutive queries may run on different connections: for several
 * statements as one unit use a transaction batch. A connection left inside
 * a transaction (a failed batch, a stray BEGIN) is rolled back before it
 * takes another job. */
int tocsin_db_query(struct tocsin_db *db, const char *sql, int nparams, const char *const *params,
                    tocsin_db_cb cb, void *ctx);

/* A batch: statements sent in one round trip in libpq's pipeline mode, on
 * one connection. With transaction set they run between BEGIN and COMMIT
 * (sent in the same pipeline) and the batch succeeds only if COMMIT did:
 * a failure at COMMIT (a deferred constraint, a serialization failure) is
 * the batch's error. Without it every statement commits or fails on its
 * own. The callback gets one result per statement (r->results; r->res is
 * the last one); r->error is the first failing statement's error. */
struct tocsin_db_batch;
/* Returns a batch owned by the caller until tocsin_db_batch_run, or NULL if
 * out of memory. */
struct tocsin_db_batch *tocsin_db_batch_new(struct tocsin_db *db, int transaction);
/* Adds a statement (sql and params copied). Returns 0 or -1 (out of memory
 * or nparams < 0); after a -1 the batch can only be run, which fails. */
int tocsin_db_batch_add(struct tocsin_db_batch *b, const char *sql, int nparams,
                        const char *const *params);
/* Queues the batch, which then belongs to the pool. Returns 0 (cb called
 * once, later) or -1 when empty, after a failed add, out of memory or
 * closing (the batch is freed and cb not called). */
int tocsin_db_batch_run(struct tocsin_db_batch *b, tocsin_db_cb cb, void *ctx);

/* LISTEN on channel (lower-case letters, digits, underscore; up to 63) on
 * the pool's listening connection, which LISTENs again to every channel
 * after a reconnect. cb gets every notification's payload (valid during the
 * call). Returns 0, or -1 for a bad channel name, too many channels (32) or
 * a closing pool. */
typedef void (*tocsin_db_notify_cb)(const char *channel, const char *payload, void *ctx);
int tocsin_db_listen(struct tocsin_db *db, const char *channel, tocsin_db_notify_cb cb, void *ctx);

/* cb runs each time the listening connection has (re)subscribed to every
 * channel: the first time, and after each reconnect — notifications sent
 * while it was down are lost, so a subscriber re-polls for what it missed. */
void tocsin_db_on_listen_connected(struct tocsin_db *db, void (*cb)(void *ctx), void *ctx);

/* 1 when at least one query connection is up (for /healthz). */
int tocsin_db_ready(const struct tocsin_db *db);
static inline int tocsin_db_is_ready(const struct tocsin_db *db)
{
    return tocsin_db_ready(db);
}

/* The last connection error, "" if none. Owned by the pool. */
const char *tocsin_db_last_error(const struct tocsin_db *db);

/* Counters since tocsin_db_new, for metrics. The pool also feeds the
 * process-wide tocsin_db_*_total metrics. */
struct tocsin_db_stats {
    unsigned long long queries;    /* jobs (query or batch) that succeeded */
    unsigned long long errors;     /* jobs that failed, ambiguous ones included */
    unsigned long long ambiguous;  /* jobs whose outcome is unknown */
    unsigned long long reconnects; /* connections re-established after a loss */
    unsigned queued;               /* jobs waiting for a connection now */
    unsigned busy;                 /* connections running a job now */
};
void tocsin_db_get_stats(const struct tocsin_db *db, struct tocsin_db_stats *out);

/* Shuts the pool down: queued jobs fail at once with "query cancelled"
 * (not ambiguous); running jobs get up to close_grace_ms to finish, after
 * which they fail as ambiguous. Callbacks run on later loop turns, then
 * every connection and handle is closed, the pool freed and done(arg)
 * called (done may be NULL). Calling it twice does nothing. */
void tocsin_db_close(struct tocsin_db *db, void (*done)(void *arg), void *arg);

#endif
