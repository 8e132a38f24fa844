/* SPDX-License-Identifier: AGPL-3.0-or-later
 * db_conn.c — one libpq connection driven by the libuv loop: non-blocking
 * connect (PQconnectPoll), sending a job (one statement, or a pipeline of
 * statements with Sync points), reading results and notifications as the
 * socket becomes readable, and reconnecting with backoff when it breaks.
 * A transaction batch goes out as BEGIN, its statements, COMMIT and one
 * Sync, so a failure at COMMIT is seen as COMMIT's own result. The pool
 * and its queue are in db.c. */
#include "db_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static void conn_poll_cb(uv_poll_t *p, int status, int events);
static void conn_down(struct db_conn *c, const char *why);

static void conn_handle_closed(struct db_conn *c)
{
    if (--c->handles_open == 0 && c->closing)
        db_conn_closed(c);
}

static void poll_closed(uv_handle_t *h)
{
    struct db_conn *c = h->data;
    free(h);
    conn_handle_closed(c);
}

static void retry_closed(uv_handle_t *h)
{
    conn_handle_closed(h->data);
}

static void conn_drop_poll(struct db_conn *c)
{
    if (c->poll) {
        uv_close((uv_handle_t *)c->poll, poll_closed);
        c->poll = NULL;
        c->poll_fd = -1;
    }
}

/* Watches libpq's current socket, re-creating the handle if libpq switched
 * sockets (it may while connecting, e.g. trying several hosts). */
static int conn_watch(struct db_conn *c, int events)
{
    int fd = PQsocket(c->pg);
    if (fd < 0)
        return -1;
    if (c->poll && c->poll_fd != fd)
        conn_drop_poll(c);
    if (!c->poll) {
        uv_poll_t *p = malloc(sizeof *p);
        if (!p || uv_poll_init(c->db->loop, p, fd) != 0) {
            free(p);
            return -1;
        }
        p->data = c;
        c->poll = p;
        c->poll_fd = fd;
        c->poll_events = 0;
        c->handles_open++;
    }
    if (c->poll_events == events) /* unchanged: spare the epoll_ctl */
        return 0;
    int rc = uv_poll_start(c->poll, events, conn_poll_cb);
    c->poll_events = rc == 0 ? events : 0;
    return rc;
}

static void retry_fired(uv_timer_t *t)
{
    db_conn_start(t->data);
}

void db_conn_init(struct tocsin_db *db, struct db_conn *c, int is_listener)
{
    memset(c, 0, sizeof *c);
    c->db = db;
    c->is_listener = is_listener;
    c->poll_fd = -1;
    uv_timer_init(db->loop, &c->retry);
    c->retry.data = c;
    c->handles_open = 1;
}

void db_conn_start(struct db_conn *c)
{
    if (c->closing)
        return;
    c->pg = PQconnectStart(c->db->conninfo);
    if (!c->pg || PQstatus(c->pg) == CONNECTION_BAD) {
        conn_down(c, c->pg ? PQerrorMessage(c->pg) : "out of memory");
        return;
    }
    PQsetnonblocking(c->pg, 1);
    c->state = DB_CONNECTING;
    if (conn_watch(c, UV_WRITABLE) != 0)
        conn_down(c, "could not watch the database socket");
}

/* Fails the running job, drops the connection and schedules a retry. */
static void conn_down(struct db_conn *c, const char *why)
{
    struct tocsin_db *db = c->db;
    char reason[200];
    snprintf(reason, sizeof reason, "%s", why ? why : "unknown error");
    for (size_t n = strlen(reason); n && (reason[n - 1] == '\n' || reason[n - 1] == ' ');)
        reason[--n] = '\0';
    for (char *p = reason; *p; p++)
        if (*p == '\n' || *p == '\t' || *p == '"')
            *p = ' ';
    snprintf(db->last_error, sizeof db->last_error, "%s", reason);
    int was_up = c->state == DB_READY || c->state == DB_BUSY;
    conn_drop_poll(c);
    if (c->pg) {
        PQfinish(c->pg);
        c->pg = NULL;
    }
    c->state = DB_DOWN;
    struct db_job *job = c->job;
    c->job = NULL;
    if (job) {
        /* A transaction the server already failed is definitely rolled
         * back; anything else that was sent may or may not have run. */
        int rolled_back = db_job_rolled_back(job);
        if (!rolled_back)
            snprintf(job->error, sizeof job->error, "connection to the database was lost: %s",
                     reason);
        db_job_finish(db, job, job->sent && !rolled_back);
    }
    if (c->closing)
        return;
    unsigned base = 100u << (c->attempt < 7 ? c->attempt : 7);
    if (base > db->reconnect_max_ms)
        base = db->reconnect_max_ms;
    unsigned delay = base / 2 + (unsigned)rand() % (base / 2 + 1); /* 50-100% jitter */
    if (was_up || c->attempt == 0)
        log_warn("db_disconnected", "reason=%s retry_ms=%u listener=%d", tocsin_log_q(reason),
                 delay, c->is_listener);
    else
        log_info("db_reconnect_failed", "reason=%s retry_ms=%u attempt=%u listener=%d",
                 tocsin_log_q(reason), delay, c->attempt, c->is_listener);
    c->attempt++;
    uv_timer_start(&c->retry, retry_fired, delay, 0);
}

void db_conn_close(struct db_conn *c)
{
    c->closing = 1;
    struct db_job *job = c->job;
    c->job = NULL;
    if (job) { /* the close grace period ran out, or the listener's LISTEN */
        snprintf(job->error, sizeof job->error,
                 "database pool closed while the query ran: its outcome is unknown");
        db_job_finish(c->db, job, job->sent);
    }
    uv_timer_stop(&c->retry);
    conn_drop_poll(c);
    if (c->pg) {
        PQfinish(c->pg);
        c->pg = NULL;
    }
    c->state = DB_DOWN;
    uv_close((uv_handle_t *)&c->retry, retry_closed);
}

/* --- sending --- */

static int conn_flush(struct db_conn *c)
{
    int rc = PQflush(c->pg);
    if (rc < 0)
        return -1;
    return conn_watch(c, rc == 1 ? UV_READABLE | UV_WRITABLE : UV_READABLE);
}

static int send_stmt(PGconn *pg, const struct db_stmt *s)
{
    if (s->nparams < 0)
        return PQsendQuery(pg, s->sql);
    return PQsendQueryParams(pg, s->sql, s->nparams, NULL, (const char *const *)s->params, NULL,
                             NULL, 0);
}

static int send_pipeline(PGconn *pg, const struct db_job *job)
{
    static const struct db_stmt begin = {"BEGIN", 0, NULL}, commit = {"COMMIT", 0, NULL};
    if (!PQenterPipelineMode(pg) || (job->transaction && !send_stmt(pg, &begin)))
        return 0;
    for (int i = 0; i < job->nstmts; i++) {
        if (!send_stmt(pg, &job->stmts[i]))
            return 0;
        /* Without a transaction every statement gets its own Sync, so each
         * commits (or fails) on its own. */
        if (!job->transaction && !PQpipelineSync(pg))
            return 0;
    }
    return !job->transaction || (send_stmt(pg, &commit) && PQpipelineSync(pg));
}

void db_conn_send(struct db_conn *c, struct db_job *job)
{
    PGconn *pg = c->pg;
    int ok = job->pipeline ? send_pipeline(pg, job) : send_stmt(pg, &job->stmts[0]);
    c->job = job;
    c->state = DB_BUSY;
    if (!ok && PQstatus(pg) == CONNECTION_BAD) {
        /* Nothing left libpq: the query provably never ran. Put it back at
         * the head of the queue (the listener LISTENs again anyway) and
         * reconnect. */
        c->job = NULL;
        if (job->internal) /* LISTEN is sent again, ROLLBACK moot */
            db_job_free(job);
        else
            db_job_requeue(c->db, job);
        conn_down(c, PQerrorMessage(pg));
        return;
    }
    if (!ok) {
        snprintf(job->error, sizeof job->error, "could not send the query: %s", PQerrorMessage(pg));
        if (PQpipelineStatus(pg) != PQ_PIPELINE_OFF && PQexitPipelineMode(pg) == 0) {
            conn_down(c, "pipeline stuck after a send error");
            return;
        }
        c->job = NULL;
        c->state = DB_READY;
        db_job_finish(c->db, job, 0);
        db_conn_became_ready(c);
        return;
    }
    job->sent = 1;
    if (conn_flush(c) != 0)
        conn_down(c, PQerrorMessage(pg));
}

/* --- receiving --- */

/* Reads whatever results are complete. Returns 1 when the job is done.
 * In a transaction, result slot -1 is BEGIN and nstmts is COMMIT. */
static int conn_read_results(struct db_conn *c)
{
    struct db_job *job = c->job;
    int syncs_expected = job->transaction ? 1 : job->nstmts;
    while (PQstatus(c->pg) == CONNECTION_OK && !PQisBusy(c->pg)) {
        PGresult *r = PQgetResult(c->pg);
        if (!job->pipeline) {
            if (!r)
                return 1;
            db_job_take_result(job, 0, r);
            continue;
        }
        if (!r) {
            job->received++; /* the end of one statement's results */
            continue;
        }
        if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            if (++job->sync_seen == syncs_expected) {
                PQexitPipelineMode(c->pg);
                return 1;
            }
            continue;
        }
        db_job_take_result(job, job->received - job->transaction, r);
    }
    return 0;
}

/* Delivers the finished job. A connection goes back to the pool only
 * outside a transaction: a failed transaction batch (its COMMIT skipped)
 * or a stray BEGIN is rolled back first. */
static void conn_job_done(struct db_conn *c)
{
    struct db_job *job = c->job;
    c->job = NULL;
    c->state = DB_READY;
    db_job_finish(c->db, job, 0);
    if (!c->pg || PQtransactionStatus(c->pg) == PQTRANS_IDLE)
        return;
    struct db_job *rollback = db_job_new_single("ROLLBACK", -1, NULL);
    if (!rollback) {
        conn_down(c, "out of memory");
        return;
    }
    rollback->internal = 1;
    db_conn_send(c, rollback);
}

static void conn_read_notifies(struct db_conn *c)
{
    PGnotify *n;
    while (c->pg && (n = PQnotifies(c->pg))) {
        db_notify(c->db, n->relname, n->extra);
        PQfreemem(n);
    }
}

static void conn_connected(struct db_conn *c)
{
    c->state = DB_READY;
    c->attempt = 0;
    c->needs_listen = c->is_listener;
    if (conn_watch(c, UV_READABLE) != 0) {
        conn_down(c, "could not watch the database socket");
        return;
    }
    log_info("db_connected", "listener=%d reconnect=%d server_version=%d", c->is_listener,
             c->was_connected, PQserverVersion(c->pg));
    if (c->was_connected)
        db_count_reconnect(c->db);
    c->was_connected = 1;
    db_conn_became_ready(c);
}

static void conn_poll_cb(uv_poll_t *p, int status, int events)
{
    struct db_conn *c = p->data;
    if (c->poll != p || !c->pg)
        return;
    if (c->state == DB_CONNECTING) {
        switch (PQconnectPoll(c->pg)) {
        case PGRES_POLLING_READING:
            if (conn_watch(c, UV_READABLE) != 0)
                conn_down(c, "could not watch the database socket");
            return;
        case PGRES_POLLING_WRITING:
            if (conn_watch(c, UV_WRITABLE) != 0)
                conn_down(c, "could not watch the database socket");
            return;
        case PGRES_POLLING_OK:
            conn_connected(c);
            return;
        default:
            conn_down(c, PQerrorMessage(c->pg));
            return;
        }
    }
    if (status < 0) {
        conn_down(c, uv_strerror(status));
        return;
    }
    if ((events & UV_WRITABLE) && conn_flush(c) != 0) {
        conn_down(c, PQerrorMessage(c->pg));
        return;
    }
    if (!(events & UV_READABLE))
        return;
    if (!PQconsumeInput(c->pg)) {
        conn_down(c, PQerrorMessage(c->pg));
        return;
    }
    if (c->state == DB_BUSY && conn_read_results(c))
        conn_job_done(c);
    conn_read_notifies(c);
    if (!c->pg)
        return;
    if (PQstatus(c->pg) == CONNECTION_BAD) {
        conn_down(c, PQerrorMessage(c->pg));
        return;
    }
    if (c->state == DB_READY)
        db_conn_became_ready(c);
}
