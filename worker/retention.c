/* SPDX-License-Identifier: AGPL-3.0-or-later
 * retention.c — the worker's nightly retention run (issue 20): every few
 * seconds it asks whether the run is due (tocsin_retention_claim: one
 * worker wins it a night), then takes every kind in order, one bounded
 * batch per transaction (tocsin_retention_batch, schema/functions/
 * retention.sql: at most RETENTION_BATCH rows), pausing between batches so
 * no lock is held long and the WAL grows a batch at a time. What is
 * removed and kept is the SQL's; this file only paces it. A run cut short
 * by a stop or an error resumes at the next night's run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "worker.h"

#define RETENTION_BATCH "1000"
#define RETENTION_PAUSE_MS 100
#define RETENTION_ASK_EVERY 5 /* housekeeping ticks */

static const char *const kinds[] = {"outbound_bodies", "inbound_bodies", "sessions", "audit_events",
                                    "consent_events"};
#define N_KINDS (sizeof kinds / sizeof kinds[0])

static void finished(const struct tocsin_db_result *r, void *ctx)
{
    struct worker *w = ctx;
    w->retention.running = 0;
    if (r->error)
        log_warn("retention_record_failed", "reason=%s", tocsin_log_q(r->error));
    wk_check_drained(w);
}

static void run_end(struct worker *w, const char *why)
{
    struct wk_retention *rt = &w->retention;
    char counts[512];
    size_t off = 0;
    off += (size_t)snprintf(counts + off, sizeof counts - off, "{");
    for (size_t k = 0; k < N_KINDS; k++)
        off += (size_t)snprintf(counts + off, sizeof counts - off, "%s\"%s\":%lld", k ? "," : "",
                                kinds[k], rt->counts[k]);
    snprintf(counts + off, sizeof counts - off, "}");
    log_info("retention_run_ended",
             "outbound_bodies=%lld inbound_bodies=%lld sessions=%lld audit_events=%lld "
             "consent_events=%lld result=%s",
             rt->counts[0], rt->counts[1], rt->counts[2], rt->counts[3], rt->counts[4],
             tocsin_log_q(why));
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

static void batch_step(struct worker *w, const struct tocsin_db_result *r);

static void batch_done(const struct tocsin_db_result *r, void *ctx)
{
    struct worker *w = ctx;
    w->retention.batch_in_flight = 0;
    batch_step(w, r);
    wk_check_drained(w);
}

static void batch_step(struct worker *w, const struct tocsin_db_result *r)
{
    struct wk_retention *rt = &w->retention;
    if (r->error) {
        log_warn("retention_batch_failed", "kind=%s reason=%s", kinds[rt->kind],
                 tocsin_log_q(r->error));
        run_end(w, "failed");
        return;
    }
    if (PQntuples(r->res) != 1) {
        run_end(w, "failed");
        return;
    }
    long long changed = strtoll(PQgetvalue(r->res, 0, 0), NULL, 10);
    rt->counts[rt->kind] += changed;
    rt->after = strtoll(PQgetvalue(r->res, 0, 1), NULL, 10);
    if (strcmp(PQgetvalue(r->res, 0, 2), "t") == 0) {
        rt->kind++;
        rt->after = 0;
    }
    if (rt->kind >= N_KINDS) {
        run_end(w, "done");
        return;
    }
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

static void batch_next(struct worker *w)
{
    struct wk_retention *rt = &w->retention;
    if (w->stopping) {
        run_end(w, "stopped");
        return;
    }
    char after[24];
    snprintf(after, sizeof after, "%lld", rt->after);
    const char *params[] = {kinds[rt->kind], after, RETENTION_BATCH};
    rt->batch_in_flight = 1;
    if (tocsin_db_query(w->d->db,
                        "SELECT changed, next_after, done FROM tocsin_retention_batch($1, NULL, "
                        "$2::bigint, $3::int)",
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
    rt->kind = 0;
    rt->after = 0;
    memset(rt->counts, 0, sizeof rt->counts);
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
