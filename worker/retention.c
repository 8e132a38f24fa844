/* SPDX-License-Identifier: AGPL-3.0-or-later
 * retention.c — the worker's nightly retention run (issue 20): every few
 * seconds it asks whether the run is due (tocsin_retention_claim: one
 * worker wins it a night), then calls tocsin_retention_step (schema/
 * functions/retention.sql) batch after batch — each at most
 * RETENTION_BATCH rows in its own transaction, the SQL naming the next
 * kind and where it starts — pausing after each batch that wrote, so no
 * lock is held long and the WAL grows a batch at a time. What is removed
 * and kept, and which kinds there are, is the SQL's; this file only paces
 * it and adds up the counts. A run cut short by a stop or an error
 * resumes at the next night's run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "worker.h"

#define RETENTION_BATCH "1000"
#define RETENTION_PAUSE_MS 100
#define RETENTION_ASK_EVERY 5 /* housekeeping ticks */

static void finished(const struct tocsin_db_result *r, void *ctx)
{
    struct worker *w = ctx;
    w->retention.running = 0;
    if (r->error)
        log_warn("retention_record_failed", "reason=%s", tocsin_log_q(r->error));
    wk_check_drained(w);
}

/* Adds n rows of kind to the run's counts (a kind not seen yet gets a
 * slot while there is one). */
static void count(struct wk_retention *rt, const char *kind, long long n)
{
    unsigned i;
    for (i = 0; i < rt->n_kinds; i++)
        if (strcmp(rt->kinds[i], kind) == 0)
            break;
    if (i == rt->n_kinds) {
        if (i == WK_RETENTION_KINDS_MAX)
            return;
        snprintf(rt->kinds[i], sizeof rt->kinds[i], "%s", kind);
        rt->counts[i] = 0;
        rt->n_kinds++;
    }
    rt->counts[i] += n;
}

static void run_end(struct worker *w, const char *why)
{
    struct wk_retention *rt = &w->retention;
    char counts[WK_RETENTION_KINDS_MAX * 64 + 8], line[WK_RETENTION_KINDS_MAX * 64 + 8];
    size_t off = 0, loff = 0;
    counts[0] = line[0] = '\0';
    off += (size_t)snprintf(counts, sizeof counts, "{");
    for (unsigned i = 0; i < rt->n_kinds; i++) {
        off += (size_t)snprintf(counts + off, sizeof counts - off, "%s\"%s\":%lld", i ? "," : "",
                                rt->kinds[i], rt->counts[i]);
        loff += (size_t)snprintf(line + loff, sizeof line - loff, "%s%s=%lld", i ? " " : "",
                                 rt->kinds[i], rt->counts[i]);
        if (off >= sizeof counts || loff >= sizeof line)
            break;
    }
    if (off < sizeof counts)
        snprintf(counts + off, sizeof counts - off, "}");
    log_info("retention_run_ended", "removed=%s result=%s", tocsin_log_q(line), tocsin_log_q(why));
    if (strcmp(why, "done") != 0 || !tocsin_db_ready(w->d->db)) {
        rt->running = 0;
        return;
    }
    const char *params[] = {w->id, counts};
    if (tocsin_db_query(w->d->db, "SELECT tocsin_retention_finished($1, $2::jsonb)", 2, params,
                        finished, w) != 0)
        rt->running = 0;
}

static void batch_next(struct worker *w);

static void pause_fired(uv_timer_t *t)
{
    batch_next(t->data);
}

static void batch_step(struct worker *w, const struct tocsin_db_result *r)
{
    struct wk_retention *rt = &w->retention;
    if (r->error || PQntuples(r->res) != 1) {
        log_warn("retention_batch_failed", "kind=%s reason=%s",
                 tocsin_log_q(rt->kind[0] ? rt->kind : "first"),
                 tocsin_log_q(r->error ? r->error : "no row"));
        run_end(w, "failed");
        return;
    }
    long long changed = strtoll(PQgetvalue(r->res, 0, 1), NULL, 10);
    count(rt, PQgetvalue(r->res, 0, 0), changed);
    if (PQgetisnull(r->res, 0, 2)) {
        run_end(w, "done");
        return;
    }
    snprintf(rt->kind, sizeof rt->kind, "%s", PQgetvalue(r->res, 0, 2));
    rt->after = strtoll(PQgetvalue(r->res, 0, 3), NULL, 10);
    if (w->stopping) {
        run_end(w, "stopped");
        return;
    }
    /* Yield: after a batch that wrote, the next waits a moment, so other
     * work and autovacuum get their turn and the WAL is written a batch at
     * a time; a batch that only looked (the long-done part of the table)
     * goes on at the loop's next turn. */
    uv_timer_start(&rt->pause, pause_fired, changed > 0 ? RETENTION_PAUSE_MS : 0, 0);
}

static void batch_done(const struct tocsin_db_result *r, void *ctx)
{
    struct worker *w = ctx;
    w->retention.batch_in_flight = 0;
    batch_step(w, r);
    wk_check_drained(w);
}

static void batch_next(struct worker *w)
{
    struct wk_retention *rt = &w->retention;
    if (w->stopping) {
        run_end(w, "stopped");
        return;
    }
    char after[24];
    snprintf(after, sizeof after, "%lld", rt->after);
    const char *params[] = {rt->kind[0] ? rt->kind : NULL, after, RETENTION_BATCH};
    rt->batch_in_flight = 1;
    if (tocsin_db_query(w->d->db,
                        "SELECT kind, changed, next_kind, next_after FROM "
                        "tocsin_retention_step($1, NULL, $2::bigint, $3::int)",
                        3, params, batch_done, w) != 0) {
        rt->batch_in_flight = 0;
        run_end(w, "failed");
    }
}

static void claimed(const struct tocsin_db_result *r, void *ctx)
{
    struct worker *w = ctx;
    struct wk_retention *rt = &w->retention;
    rt->asking = 0;
    if (r->error)
        log_warn("retention_claim_failed", "reason=%s", tocsin_log_q(r->error));
    if (r->error || PQntuples(r->res) != 1 || strcmp(PQgetvalue(r->res, 0, 0), "t") != 0 ||
        w->stopping) {
        wk_check_drained(w);
        return;
    }
    log_info("retention_run_started", "worker_id=%s", w->id);
    rt->running = 1;
    rt->kind[0] = '\0';
    rt->after = 0;
    rt->n_kinds = 0;
    batch_next(w);
}

void wk_retention_tick(struct worker *w)
{
    struct wk_retention *rt = &w->retention;
    if (w->stopping || rt->running || rt->asking || w->ticks % RETENTION_ASK_EVERY != 0)
        return;
    const char *params[] = {w->id};
    rt->asking = 1;
    if (tocsin_db_query(w->d->db, "SELECT tocsin_retention_claim($1)", 1, params, claimed, w) != 0)
        rt->asking = 0;
}

void wk_retention_init(struct worker *w)
{
    uv_timer_init(w->d->loop, &w->retention.pause);
    w->retention.pause.data = w;
}

void wk_retention_stop(struct worker *w)
{
    uv_timer_stop(&w->retention.pause);
    if (w->retention.running && !w->retention.batch_in_flight)
        run_end(w, "stopped");
}

void wk_retention_close(struct worker *w)
{
    uv_close((uv_handle_t *)&w->retention.pause, NULL);
}

int wk_retention_busy(const struct worker *w)
{
    return w->retention.batch_in_flight || w->retention.asking;
}
