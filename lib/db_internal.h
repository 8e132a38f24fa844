/* SPDX-License-Identifier: AGPL-3.0-or-later
 * db_internal.h — structures shared by db.c (the pool, its queue and the
 * public API) and db_conn.c (one libpq connection on the loop). */
#ifndef TOCSIN_DB_INTERNAL_H
#define TOCSIN_DB_INTERNAL_H

#include <stdint.h>

#include "db.h"

#define DB_MAX_POOL 16
#define DB_MAX_CHANNELS 32

struct db_stmt {
    char *sql;
    int nparams;
    char **params;
};

struct db_job {
    struct db_job *next;
    struct db_stmt *stmts;
    int nstmts;
    int pipeline;    /* batch: send in pipeline mode */
    int transaction; /* batch: BEGIN ... COMMIT around the statements */
    tocsin_db_cb cb;
    void *ctx;
    uint64_t deadline_ms;
    /* while running */
    int sent;
    PGresult **results; /* one per statement */
    int received;       /* statements whose results are complete */
    PGresult *pending;  /* result of the statement being read */
    int in_tx_wrapper;  /* index offset: BEGIN occupies slot -1 */
    int sync_seen;
    char error[512];
    char sqlstate[6];
};

enum db_conn_state { DB_DOWN, DB_CONNECTING, DB_READY, DB_BUSY };

struct db_conn {
    struct tocsin_db *db;
    PGconn *pg;
    uv_poll_t *poll; /* re-created whenever libpq's socket changes */
    int poll_fd;
    uv_timer_t retry;
    enum db_conn_state state;
    unsigned attempt;
    int is_listener;
    int needs_listen; /* listener: connected, LISTEN not yet sent */
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
    struct db_conn conns[DB_MAX_POOL];
    unsigned nconns;
    struct db_conn *listener; /* NULL until the first LISTEN */
    struct db_job *head, *tail; /* queued, not yet sent */
    int relisten; /* a channel was added while the listener was busy */
    uv_timer_t sweep;
    uv_idle_t kick; /* dispatches queued jobs on the next loop turn */
    struct db_channel channels[DB_MAX_CHANNELS];
    unsigned nchannels;
    void (*on_listen_connected)(void *);
    void *on_listen_connected_ctx;
    char last_error[256];
    int closing;
    void (*close_done)(void *);
    void *close_arg;
    int handles_open;
};

/* db_conn.c */
void db_conn_init(struct tocsin_db *db, struct db_conn *c, int is_listener);
void db_conn_start(struct db_conn *c);
int db_conn_send(struct db_conn *c, struct db_job *job);
void db_conn_close(struct db_conn *c);

/* db.c */
void db_job_finish(struct tocsin_db *db, struct db_job *job, int ambiguous);
/* Puts a job that was never sent back at the head of the queue. */
void db_job_requeue(struct tocsin_db *db, struct db_job *job);
void db_conn_became_ready(struct db_conn *c);
void db_notify(struct tocsin_db *db, const char *channel, const char *payload);
void db_conn_closed(struct db_conn *c);
uint64_t db_now_ms(struct tocsin_db *db);

#endif
