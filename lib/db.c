/* SPDX-License-Identifier: AGPL-3.0-or-later
 * db.c — the asynchronous PostgreSQL pool: the FIFO queue of jobs, handing
 * jobs to ready connections, deadlines for queued jobs, health and
 * counters, and shutdown. Jobs are in db_job.c, batches in db_batch.c,
 * LISTEN in db_listen.c, one connection's I/O in db_conn.c. */
#include "db_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"

static struct tocsin_metric m_up =
    TOCSIN_METRIC_GAUGE("tocsin_db_up", "1 when a database connection is up", NULL);
static struct tocsin_metric m_reconnects = TOCSIN_METRIC_COUNTER(
    "tocsin_db_reconnects_total", "database connections re-established", NULL);

static double db_up(void *ctx)
{
    return tocsin_db_ready(ctx);
}

uint64_t db_now_ms(struct tocsin_db *db)
{
    return uv_now(db->loop);
}

void db_count_reconnect(struct tocsin_db *db)
{
    db->stats.reconnects++;
    tocsin_metric_add(&m_reconnects, 1);
}

/* --- the queue --- */

static void db_dispatch(struct tocsin_db *db);

static void kick_fired(uv_idle_t *idle)
{
    uv_idle_stop(idle);
    db_dispatch(idle->data);
}

static void kick(struct tocsin_db *db)
{
    if (!uv_is_active((uv_handle_t *)&db->kick))
        uv_idle_start(&db->kick, kick_fired);
}

/* Queues a job and dispatches on the next loop turn: a callback never runs
 * inside the call that queued it, and jobs queued together go out together. */
void db_queue_push(struct tocsin_db *db, struct db_job *job)
{
    job->deadline_ms = db_now_ms(db) + db->queue_timeout_ms;
    if (db->tail)
        db->tail->next = job;
    else
        db->head = job;
    db->tail = job;
    kick(db);
}

static struct db_job *queue_pop(struct tocsin_db *db)
{
    struct db_job *job = db->head;
    if (job) {
        db->head = job->next;
        if (!db->head)
            db->tail = NULL;
        job->next = NULL;
    }
    return job;
}

static void db_maybe_closed(struct tocsin_db *db);

static void db_dispatch(struct tocsin_db *db)
{
    if (db->closing) { /* nothing new starts: fail what waits */
        struct db_job *job;
        while ((job = queue_pop(db))) {
            snprintf(job->error, sizeof job->error,
                     "query cancelled: the database pool is closing");
            db_job_finish(db, job, 0);
        }
        db_maybe_closed(db);
        return;
    }
    for (unsigned i = 0; i < db->nconns && db->head; i++)
        if (db->conns[i].state == DB_READY)
            db_conn_send(&db->conns[i], queue_pop(db));
}

void db_conn_became_ready(struct db_conn *c)
{
    struct tocsin_db *db = c->db;
    if (!c->is_listener) {
        db_dispatch(db);
        return;
    }
    /* After every connect, and for channels added while it was busy. */
    if (c->state == DB_READY && !db->closing && (c->needs_listen || db->relisten)) {
        c->needs_listen = 0;
        db->relisten = 0;
        db_listen_send(c);
    }
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
    db->conninfo = strdup(o->conninfo ? o->conninfo : "");
    if (!db->conninfo) {
        free(db);
        return NULL;
    }
    db->reconnect_max_ms = o->reconnect_max_ms ? o->reconnect_max_ms : 10000;
    if (db->reconnect_max_ms < 100)
        db->reconnect_max_ms = 100;
    db->queue_timeout_ms = o->queue_timeout_ms ? o->queue_timeout_ms : 30000;
    db->close_grace_ms = o->close_grace_ms ? o->close_grace_ms : 5000;
    db->nconns = o->pool_size ? (o->pool_size > DB_MAX_POOL ? DB_MAX_POOL : o->pool_size) : 2;
    uv_timer_init(loop, &db->sweep);
    db->sweep.data = db;
    uv_timer_start(&db->sweep, sweep_fired, 250, 250);
    uv_idle_init(loop, &db->kick);
    db->kick.data = db;
    db->handles_open = 2 + (int)db->nconns; /* sweep, kick, connections */
    m_up.read = db_up;
    m_up.read_ctx = db;
    db_job_register_metrics();
    tocsin_metric_register(&m_up);
    tocsin_metric_register(&m_reconnects);
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
    struct db_job *job = db_job_new_single(sql, nparams, params);
    if (!job)
        return -1;
    job->cb = cb;
    job->ctx = ctx;
    db_queue_push(db, job);
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

void tocsin_db_get_stats(const struct tocsin_db *db, struct tocsin_db_stats *out)
{
    *out = db->stats;
    out->queued = out->busy = 0;
    for (const struct db_job *j = db->head; j; j = j->next)
        out->queued++;
    for (unsigned i = 0; i < db->nconns; i++)
        out->busy += db->conns[i].state == DB_BUSY;
}

/* --- shutdown --- */

static void db_free(struct tocsin_db *db)
{
    void (*done)(void *) = db->close_done;
    void *arg = db->close_arg;
    if (m_up.read_ctx == db) { /* the gauge must not read a freed pool */
        m_up.read = NULL;
        m_up.read_ctx = NULL;
        m_up.value = 0;
    }
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

static void own_handle_closed(uv_handle_t *h) /* the pool's timer and idle handles */
{
    struct tocsin_db *db = h->data;
    if (--db->handles_open == 0)
        db_free(db);
}

/* Once no job runs (or the grace period is over), closes everything. */
static void db_maybe_closed(struct tocsin_db *db)
{
    if (db->closing != 1)
        return;
    int running = 0;
    for (unsigned i = 0; i < db->nconns; i++)
        running += db->conns[i].job != NULL;
    if (running && db_now_ms(db) < db->close_deadline_ms)
        return;
    if (running)
        log_warn("db_close_forced", "running=%d grace_ms=%u", running, db->close_grace_ms);
    db->closing = 2;
    for (unsigned i = 0; i < db->nconns; i++)
        db_conn_close(&db->conns[i]);
    if (db->listener)
        db_conn_close(db->listener);
    uv_timer_stop(&db->sweep);
    uv_idle_stop(&db->kick);
    uv_close((uv_handle_t *)&db->sweep, own_handle_closed);
    uv_close((uv_handle_t *)&db->kick, own_handle_closed);
}

void tocsin_db_close(struct tocsin_db *db, void (*done)(void *arg), void *arg)
{
    if (db->closing)
        return;
    db->closing = 1;
    db->close_deadline_ms = db_now_ms(db) + db->close_grace_ms;
    db->close_done = done;
    db->close_arg = arg;
    kick(db); /* cancels the queue on the next turn, then closes when idle */
}
