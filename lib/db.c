/* SPDX-License-Identifier: AGPL-3.0-or-later
 * db.c — the asynchronous PostgreSQL pool: the FIFO queue of jobs, handing
 * jobs to ready connections, deadlines for queued jobs, LISTEN channels,
 * result delivery, metrics and shutdown. One connection's I/O is in
 * db_conn.c. */
#include "db_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"

static struct tocsin_metric m_queries =
    TOCSIN_METRIC_COUNTER("tocsin_db_queries_total", "database jobs completed", NULL);
static struct tocsin_metric m_errors =
    TOCSIN_METRIC_COUNTER("tocsin_db_errors_total", "database jobs that failed", NULL);
static struct tocsin_metric m_up =
    TOCSIN_METRIC_GAUGE("tocsin_db_up", "1 when a database connection is up", NULL);

static double db_up(void *ctx)
{
    return tocsin_db_ready(ctx);
}

uint64_t db_now_ms(struct tocsin_db *db)
{
    return uv_now(db->loop);
}

/* --- jobs --- */

static void job_free(struct db_job *job)
{
    for (int i = 0; i < job->nstmts; i++) {
        struct db_stmt *s = &job->stmts[i];
        free(s->sql);
        for (int k = 0; k < s->nparams; k++)
            free(s->params[k]);
        free(s->params);
        if (job->results)
            PQclear(job->results[i]);
    }
    free(job->results);
    free(job->stmts);
    free(job);
}

static int stmt_fill(struct db_stmt *s, const char *sql, int nparams, const char *const *params)
{
    s->sql = strdup(sql);
    s->nparams = nparams;
    s->params = nparams > 0 ? calloc((size_t)nparams, sizeof *s->params) : NULL;
    if (!s->sql || (nparams > 0 && !s->params))
        return -1;
    for (int i = 0; i < nparams; i++)
        if (params[i] && !(s->params[i] = strdup(params[i])))
            return -1;
    return 0;
}

/* A job of one statement; NULL if out of memory. */
static struct db_job *job_new_single(const char *sql, int nparams, const char *const *params)
{
    struct db_job *job = calloc(1, sizeof *job);
    if (!job)
        return NULL;
    job->nstmts = 1;
    job->stmts = calloc(1, sizeof *job->stmts);
    job->results = calloc(1, sizeof *job->results);
    if (!job->stmts || !job->results || stmt_fill(job->stmts, sql, nparams, params)) {
        job_free(job);
        return NULL;
    }
    return job;
}

static void db_dispatch(struct tocsin_db *db);
static void db_maybe_closed(struct tocsin_db *db);

static void kick_fired(uv_idle_t *idle)
{
    struct tocsin_db *db = idle->data;
    uv_idle_stop(idle);
    db_dispatch(db);
}

/* Queues a job and dispatches on the next loop turn: a callback never runs
 * inside the call that queued it, and jobs queued together go out together. */
static void queue_push(struct tocsin_db *db, struct db_job *job)
{
    job->deadline_ms = db_now_ms(db) + db->queue_timeout_ms;
    if (db->tail)
        db->tail->next = job;
    else
        db->head = job;
    db->tail = job;
    if (!uv_is_active((uv_handle_t *)&db->kick))
        uv_idle_start(&db->kick, kick_fired);
}

void db_job_requeue(struct tocsin_db *db, struct db_job *job)
{
    for (int i = 0; i < job->nstmts; i++) {
        PQclear(job->results[i]);
        job->results[i] = NULL;
    }
    job->sent = job->received = job->sync_seen = 0;
    job->next = db->head;
    db->head = job;
    if (!db->tail)
        db->tail = job;
}

static int result_ok(const PGresult *r)
{
    ExecStatusType st = PQresultStatus(r);
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

/* Fills job->error/sqlstate from the first failed result, if any. */
static void job_check_results(struct db_job *job)
{
    for (int i = 0; i < job->nstmts && !job->error[0]; i++) {
        PGresult *r = job->results[i];
        if (!r) {
            snprintf(job->error, sizeof job->error, "statement %d did not run", i + 1);
            continue;
        }
        if (result_ok(r) || PQresultStatus(r) == PGRES_PIPELINE_ABORTED)
            continue;
        const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
        const char *detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        snprintf(job->sqlstate, sizeof job->sqlstate, "%s", state ? state : "");
        snprintf(job->error, sizeof job->error, "%s%s%s (SQLSTATE %s)",
                 msg ? msg : PQresultErrorMessage(r), detail ? ": " : "", detail ? detail : "",
                 state ? state : "none");
    }
}

void db_job_finish(struct tocsin_db *db, struct db_job *job, int ambiguous)
{
    (void)db;
    if (!job->error[0])
        job_check_results(job);
    struct tocsin_db_result res = {0};
    res.results = job->results;
    res.nresults = job->nstmts;
    res.res = job->results ? job->results[job->nstmts - 1] : NULL;
    res.error = job->error[0] ? job->error : NULL;
    res.sqlstate = job->sqlstate;
    res.ambiguous = job->error[0] && ambiguous;
    if (res.error)
        res.res = NULL;
    tocsin_metric_add(res.error ? &m_errors : &m_queries, 1);
    if (res.error && tocsin_log_enabled(TOCSIN_LOG_DEBUG))
        log_debug("db_query_failed", "sqlstate=%s ambiguous=%d", job->sqlstate[0] ? job->sqlstate : "-",
                  res.ambiguous);
    if (job->cb)
        job->cb(&res, job->ctx);
    job_free(job);
}

/* --- dispatch --- */

static void db_dispatch(struct tocsin_db *db)
{
    for (unsigned i = 0; i < db->nconns && db->head; i++) {
        struct db_conn *c = &db->conns[i];
        if (c->state != DB_READY)
            continue;
        struct db_job *job = db->head;
        db->head = job->next;
        if (!db->head)
            db->tail = NULL;
        job->next = NULL;
        db_conn_send(c, job);
    }
    if (db->closing)
        db_maybe_closed(db);
}

static void listener_send_listens(struct db_conn *c);

void db_conn_became_ready(struct db_conn *c)
{
    struct tocsin_db *db = c->db;
    if (c->is_listener) {
        /* After every connect, and for channels added while it was busy. */
        if (c->state == DB_READY && (c->needs_listen || db->relisten)) {
            c->needs_listen = 0;
            db->relisten = 0;
            listener_send_listens(c);
        }
        return;
    }
    db_dispatch(db);
}

/* Fails queued jobs whose deadline passed (no connection came up). */
static void sweep_fired(uv_timer_t *t)
{
    struct tocsin_db *db = t->data;
    uint64_t now = db_now_ms(db);
    struct db_job **pp = &db->head, *prev = NULL;
    while (*pp) {
        struct db_job *job = *pp;
        if (job->deadline_ms > now) {
            prev = job;
            pp = &job->next;
            continue;
        }
        *pp = job->next;
        if (db->tail == job)
            db->tail = prev;
        snprintf(job->error, sizeof job->error, "database unavailable: %s",
                 db->last_error[0] ? db->last_error : "no connection within the deadline");
        db_job_finish(db, job, 0);
    }
    if (db->closing)
        db_maybe_closed(db);
}

/* --- public API --- */

struct tocsin_db *tocsin_db_new(uv_loop_t *loop, const struct tocsin_db_options *o)
{
    struct tocsin_db *db = calloc(1, sizeof *db);
    if (!db)
        return NULL;
    db->loop = loop;
    db->conninfo = strdup(o->conninfo);
    if (!db->conninfo) {
        free(db);
        return NULL;
    }
    db->reconnect_max_ms = o->reconnect_max_ms ? o->reconnect_max_ms : 10000;
    db->queue_timeout_ms = o->queue_timeout_ms ? o->queue_timeout_ms : 30000;
    db->nconns = o->pool_size ? (o->pool_size > DB_MAX_POOL ? DB_MAX_POOL : o->pool_size) : 2;
    uv_timer_init(loop, &db->sweep);
    db->sweep.data = db;
    uv_timer_start(&db->sweep, sweep_fired, 250, 250);
    uv_idle_init(loop, &db->kick);
    db->kick.data = db;
    db->handles_open = 2;
    m_up.read = db_up;
    m_up.read_ctx = db;
    tocsin_metric_register(&m_queries);
    tocsin_metric_register(&m_errors);
    tocsin_metric_register(&m_up);
    for (unsigned i = 0; i < db->nconns; i++) {
        db_conn_init(db, &db->conns[i], 0);
        db_conn_start(&db->conns[i]);
    }
    return db;
}

int tocsin_db_query(struct tocsin_db *db, const char *sql, int nparams, const char *const *params,
                    tocsin_db_cb cb, void *ctx)
{
    if (db->closing || nparams < 0)
        return -1;
    struct db_job *job = job_new_single(sql, nparams, params);
    if (!job)
        return -1;
    job->cb = cb;
    job->ctx = ctx;
    queue_push(db, job);
    return 0;
}

struct tocsin_db_batch {
    struct tocsin_db *db;
    struct db_job *job;
    int cap;
    int failed;
};

struct tocsin_db_batch *tocsin_db_batch_new(struct tocsin_db *db, int transaction)
{
    struct tocsin_db_batch *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->db = db;
    b->job = calloc(1, sizeof *b->job);
    if (!b->job) {
        free(b);
        return NULL;
    }
    b->job->pipeline = 1;
    b->job->transaction = transaction;
    return b;
}

int tocsin_db_batch_add(struct tocsin_db_batch *b, const char *sql, int nparams,
                        const char *const *params)
{
    struct db_job *job = b->job;
    if (nparams < 0)
        b->failed = 1;
    if (b->failed)
        return -1;
    if (job->nstmts == b->cap) {
        int cap = b->cap ? b->cap * 2 : 8;
        struct db_stmt *s = realloc(job->stmts, (size_t)cap * sizeof *s);
        if (!s) {
            b->failed = 1;
            return -1;
        }
        job->stmts = s;
        b->cap = cap;
    }
    struct db_stmt *s = &job->stmts[job->nstmts++];
    memset(s, 0, sizeof *s);
    if (stmt_fill(s, sql, nparams, params)) {
        b->failed = 1;
        return -1;
    }
    return 0;
}

int tocsin_db_batch_run(struct tocsin_db_batch *b, tocsin_db_cb cb, void *ctx)
{
    struct db_job *job = b->job;
    struct tocsin_db *db = b->db;
    int bad = b->failed || job->nstmts == 0 || db->closing;
    free(b);
    if (!bad) {
        job->results = calloc((size_t)job->nstmts, sizeof *job->results);
        bad = !job->results;
    }
    if (bad) {
        job_free(job);
        return -1;
    }
    job->cb = cb;
    job->ctx = ctx;
    queue_push(db, job);
    return 0;
}

int tocsin_db_ready(const struct tocsin_db *db)
{
    for (unsigned i = 0; i < db->nconns; i++)
        if (db->conns[i].state == DB_READY || db->conns[i].state == DB_BUSY)
            return 1;
    return 0;
}

const char *tocsin_db_last_error(const struct tocsin_db *db)
{
    return db->last_error;
}

/* --- LISTEN/NOTIFY --- */

static void listen_done(const struct tocsin_db_result *r, void *ctx)
{
    struct tocsin_db *db = ctx;
    if (r->error) {
        log_warn("db_listen_failed", "reason=\"%s\"", r->error);
        return;
    }
    if (db->on_listen_connected)
        db->on_listen_connected(db->on_listen_connected_ctx);
}

static void listener_send_listens(struct db_conn *c)
{
    struct tocsin_db *db = c->db;
    if (db->nchannels == 0 || c->state != DB_READY)
        return;
    char sql[DB_MAX_CHANNELS * 80] = "";
    size_t n = 0;
    for (unsigned i = 0; i < db->nchannels; i++) {
        char *q = PQescapeIdentifier(c->pg, db->channels[i].name, strlen(db->channels[i].name));
        if (!q)
            continue;
        n += (size_t)snprintf(sql + n, sizeof sql - n, "LISTEN %s;", q);
        PQfreemem(q);
    }
    struct db_job *job = job_new_single(sql, 0, NULL);
    if (!job)
        return;
    job->stmts[0].nparams = -1; /* simple protocol: several statements */
    job->cb = listen_done;
    job->ctx = db;
    db_conn_send(c, job);
}

static void listener_ready(struct db_conn *c)
{
    listener_send_listens(c);
}

int tocsin_db_listen(struct tocsin_db *db, const char *channel, tocsin_db_notify_cb cb, void *ctx)
{
    size_t len = strlen(channel);
    if (len == 0 || len > 63 || db->nchannels == DB_MAX_CHANNELS || db->closing)
        return -1;
    for (size_t i = 0; i < len; i++) {
        char ch = channel[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'))
            return -1;
    }
    struct db_channel *chan = &db->channels[db->nchannels++];
    snprintf(chan->name, sizeof chan->name, "%s", channel);
    chan->cb = cb;
    chan->ctx = ctx;
    if (!db->listener) {
        db->listener = calloc(1, sizeof *db->listener);
        if (!db->listener)
            return -1;
        db_conn_init(db, db->listener, 1);
        db_conn_start(db->listener);
    } else if (db->listener->state == DB_READY) {
        listener_ready(db->listener);
    } else {
        db->relisten = 1; /* LISTEN again once the listener is idle */
    }
    return 0;
}

void tocsin_db_on_listen_connected(struct tocsin_db *db, void (*cb)(void *ctx), void *ctx)
{
    db->on_listen_connected = cb;
    db->on_listen_connected_ctx = ctx;
}

void db_notify(struct tocsin_db *db, const char *channel, const char *payload)
{
    for (unsigned i = 0; i < db->nchannels; i++)
        if (strcmp(db->channels[i].name, channel) == 0)
            db->channels[i].cb(channel, payload, db->channels[i].ctx);
}

/* --- shutdown --- */

static void db_free(struct tocsin_db *db)
{
    void (*done)(void *) = db->close_done;
    void *arg = db->close_arg;
    free(db->listener);
    free(db->conninfo);
    free(db);
    if (done)
        done(arg);
}

void db_conn_closed(struct db_conn *c)
{
    struct tocsin_db *db = c->db;
    if (--db->handles_open == 0)
        db_free(db);
}

static void sweep_closed(uv_handle_t *h) /* the pool's own timer and idle handles */
{
    struct tocsin_db *db = h->data;
    if (--db->handles_open == 0)
        db_free(db);
}

static void db_maybe_closed(struct tocsin_db *db)
{
    if (db->head)
        return;
    for (unsigned i = 0; i < db->nconns; i++)
        if (db->conns[i].job)
            return;
    if (db->closing == 2)
        return;
    db->closing = 2; /* all work done: close the connections */
    for (unsigned i = 0; i < db->nconns; i++) {
        db->handles_open++;
        db_conn_close(&db->conns[i]);
    }
    if (db->listener) {
        db->handles_open++;
        db_conn_close(db->listener);
    }
    uv_timer_stop(&db->sweep);
    uv_close((uv_handle_t *)&db->sweep, sweep_closed);
    uv_close((uv_handle_t *)&db->kick, sweep_closed);
}

void tocsin_db_close(struct tocsin_db *db, void (*done)(void *arg), void *arg)
{
    db->closing = 1;
    db->close_done = done;
    db->close_arg = arg;
    if (!tocsin_db_ready(db)) { /* nothing can run: fail what waits */
        while (db->head) {
            struct db_job *job = db->head;
            db->head = job->next;
            snprintf(job->error, sizeof job->error, "database unavailable: the server is shutting down");
            db_job_finish(db, job, 0);
        }
        db->tail = NULL;
    }
    db_maybe_closed(db);
}
