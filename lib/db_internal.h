/* SPDX-License-Identifier: AGPL-3.0-or-later
 * db_internal.h — structures shared by the lib/db files: db.c (the pool,
 * its queue, shutdown), db_job.c (jobs and their outcome), db_batch.c (the
 * batch API), db_listen.c (LISTEN/NOTIFY) and db_conn.c (one libpq
 * connection on the loop). */
#ifndef TOCSIN_DB_INTERNAL_H
#define TOCSIN_DB_INTERNAL_H

#include <stdint.h>

#include "db.h"

#define DB_MAX_POOL 16
#define DB_MAX_CHANNELS 32

struct db_stmt {
    char *sql;
    int nparams; /* -1: simple protocol, several statements, no parameters */
    char **params;
};

struct db_job {
    struct db_job *next;
    struct db_stmt *stmts;
    int nstmts;
    int pipeline;    /* batch: send in pipeline mode */
    int transaction; /* batch: BEGIN ... COMMIT around the statements */
    int internal;    /* LISTEN or ROLLBACK: not counted in the stats */
    tocsin_db_cb cb;
    void *ctx;
    uint64_t deadline_ms;
    /* while running */
    int sent;
    PGresult **results;       /* one per statement */
    PGresult *begin, *commit; /* a transaction's own BEGIN and COMMIT */
    int received;             /* pipeline: statements whose results are complete */
    int sync_seen;
    char error[512];
    char sqlstate[6];
    char raised[256]; /* see tocsin_db_result.raised */
};

enum db_conn_state { DB_DOWN, DB_CONNECTING, DB_READY, DB_BUSY };

struct db_conn {
    struct tocsin_db *db;
    PGconn *pg;
    uv_poll_t *poll; /* re-created whenever libpq's socket changes */
    int poll_fd;
    int poll_events; /* what poll watches now */
    uv_timer_t retry;
    enum db_conn_state state;
    unsigned attempt;
    int was_connected; /* a later connect is a reconnect */
    int is_listener;
    int needs_listen;   /* listener: connected, LISTEN not yet sent */
    struct db_job *job; /* running */
    int closing;
    int handles_open;
};

struct db_channel {
    char name[64];
    tocsin_db_notify_cb cb;
    void *ctx;
};

struct tocsin_db {
    uv_loop_t *loop;
    char *conninfo;
    unsigned reconnect_max_ms;
    unsigned queue_timeout_ms;
    unsigned close_grace_ms;
    struct db_conn conns[DB_MAX_POOL];
    unsigned nconns;
    struct db_conn *listener;   /* NULL until the first LISTEN */
    struct db_job *head, *tail; /* queued, not yet sent */
    int relisten;               /* a channel was added while the listener was busy */
    uv_timer_t sweep;
    uv_idle_t kick; /* dispatches queued jobs on the next loop turn */
    struct db_channel channels[DB_MAX_CHANNELS];
    unsigned nchannels;
    void (*on_listen_connected)(void *);
    void *on_listen_connected_ctx;
    char last_error[256];
    struct tocsin_db_stats stats;
    int closing; /* 1: draining running jobs, 2: closing handles */
    uint64_t close_deadline_ms;
    void (*close_done)(void *);
    void *close_arg;
    int handles_open;
};

/* db_conn.c */
void db_conn_init(struct tocsin_db *db, struct db_conn *c, int is_listener);
void db_conn_start(struct db_conn *c);
/* Sends job on a READY connection; on failure the job is finished or
 * requeued and the connection may go down. */
void db_conn_send(struct db_conn *c, struct db_job *job);
/* Fails a running job as ambiguous, finishes libpq, closes the handles;
 * db_conn_closed follows once they are closed. */
void db_conn_close(struct db_conn *c);

/* db_job.c */
void db_job_register_metrics(void);
/* A job of one statement (sql and params copied); NULL if out of memory. */
struct db_job *db_job_new_single(const char *sql, int nparams, const char *const *params);
int db_stmt_fill(struct db_stmt *s, const char *sql, int nparams, const char *const *params);
void db_job_free(struct db_job *job);
/* Stores the result of statement slot (-1: BEGIN, nstmts: COMMIT). */
void db_job_take_result(struct db_job *job, int slot, PGresult *r);
/* 1 when a received result proves a transaction job rolled back. */
int db_job_rolled_back(const struct db_job *job);
/* Calls the job's callback with its outcome and frees it. */
void db_job_finish(struct tocsin_db *db, struct db_job *job, int ambiguous);
/* Puts a job that was never sent back at the head of the queue. */
void db_job_requeue(struct tocsin_db *db, struct db_job *job);

/* db.c */
void db_queue_push(struct tocsin_db *db, struct db_job *job);
void db_conn_became_ready(struct db_conn *c);
void db_conn_closed(struct db_conn *c);
uint64_t db_now_ms(struct tocsin_db *db);
void db_count_reconnect(struct tocsin_db *db);

/* db_listen.c */
void db_listen_send(struct db_conn *c);
void db_notify(struct tocsin_db *db, const char *channel, const char *payload);

#endif
