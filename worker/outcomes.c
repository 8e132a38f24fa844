/* SPDX-License-Identifier: AGPL-3.0-or-later
 * outcomes.c — writes carriers' answers back in batches: every answer that
 * arrives within a millisecond or two (or 500 of them), or while the
 * previous write is under way, goes to the database as one
 * tocsin_record_outcomes call; one write at a time, and the next gathers
 * for a while unless many are waiting already. A batch that fails is
 * kept and written again later (the function only touches rows this worker
 * still holds, so writing twice changes nothing), so no answer is lost
 * while the database is away. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "pgarray.h"
#include "worker.h"

static struct tocsin_metric m_sent =
    TOCSIN_METRIC_COUNTER("tocsin_worker_sent_total", "messages the carrier accepted", NULL);
static struct tocsin_metric m_retry = TOCSIN_METRIC_COUNTER(
    "tocsin_worker_retried_total", "messages queued again (429, never sent)", NULL);
static struct tocsin_metric m_failed = TOCSIN_METRIC_COUNTER(
    "tocsin_worker_failed_total", "messages the carrier refused for good", NULL);
static struct tocsin_metric m_unknown =
    TOCSIN_METRIC_COUNTER("tocsin_worker_unknown_total",
                          "messages whose fate is unknown (5xx, timeout): never resent", NULL);

void wk_outcomes_metrics_register(void)
{
    tocsin_metric_register(&m_sent);
    tocsin_metric_register(&m_retry);
    tocsin_metric_register(&m_failed);
    tocsin_metric_register(&m_unknown);
}

/* A write has a fixed cost besides its rows (finding the batch's claims,
 * the statements of the triggers, the call itself): at the ~160 rows that
 * gathered while the previous write ran it was several microseconds of
 * PostgreSQL's CPU a message (issue 22). So after a write the next one
 * waits FLUSH_GATHER_MS for company unless FLUSH_FULL are waiting already.
 * An answer waits at most about that long more to be recorded; the first
 * answer after a quiet spell still goes after FLUSH_DELAY_MS. */
#define FLUSH_MAX 500
#define FLUSH_FULL 400
#define FLUSH_DELAY_MS 2
#define FLUSH_GATHER_MS 20
#define RETRY_DELAY_MS 500

struct flush_job {
    struct worker *w;
    struct wk_outcome *batch;
    unsigned n;
};

static void flush(struct worker *w);

static void count(const struct wk_outcome *o)
{
    struct tocsin_metric *m = strcmp(o->kind, "sent") == 0     ? &m_sent
                              : strcmp(o->kind, "retry") == 0  ? &m_retry
                              : strcmp(o->kind, "failed") == 0 ? &m_failed
                                                               : &m_unknown;
    tocsin_metric_add(m, 1);
}

static int append(struct worker *w, const struct wk_outcome *o, unsigned n)
{
    if (w->n_outcomes + n > w->cap_outcomes) {
        unsigned cap = w->cap_outcomes ? w->cap_outcomes : 256;
        while (cap < w->n_outcomes + n)
            cap *= 2;
        struct wk_outcome *grown = realloc(w->outcomes, cap * sizeof *grown);
        if (!grown)
            return -1;
        w->outcomes = grown;
        w->cap_outcomes = cap;
    }
    memcpy(w->outcomes + w->n_outcomes, o, n * sizeof *o);
    w->n_outcomes += n;
    return 0;
}

static void flush_timer_fired(uv_timer_t *t)
{
    struct worker *w = t->data;
    w->flush_armed = 0;
    flush(w);
}

static void arm(struct worker *w, uint64_t ms)
{
    if (w->flush_armed)
        return;
    w->flush_armed = 1;
    uv_timer_start(&w->flush_timer, flush_timer_fired, ms, 0);
}

void wk_outcome_add(struct worker *w, const struct wk_outcome *o)
{
    if (append(w, o, 1) != 0) {
        /* The row stays claimed and stamped: the sweep marks it unknown. */
        log_error("outcome_lost", "message_id=%lld outcome=%s reason=\"out of memory\"", o->id,
                  o->kind);
        return;
    }
    if (w->n_outcomes >= FLUSH_MAX)
        flush(w);
    else
        arm(w, FLUSH_DELAY_MS);
}

static void flushed(const struct tocsin_db_result *r, void *ctx)
{
    struct flush_job *job = ctx;
    struct worker *w = job->w;
    w->flushes_in_flight--;
    if (r->error) {
        log_warn("outcomes_write_failed", "count=%u ambiguous=%d reason=%s retry_ms=%d", job->n,
                 r->ambiguous, tocsin_log_q(r->error), RETRY_DELAY_MS);
        if (append(w, job->batch, job->n) != 0)
            log_error("outcomes_lost", "count=%u reason=\"out of memory\"", job->n);
        uv_timer_stop(&w->flush_timer);
        w->flush_armed = 0;
        arm(w, RETRY_DELAY_MS);
    } else {
        for (unsigned i = 0; i < job->n; i++)
            count(&job->batch[i]);
    }
    free(job->batch);
    free(job);
    if (!r->error && (w->n_outcomes >= FLUSH_FULL || w->stopping)) {
        flush(w);
    } else if (!r->error && w->n_outcomes > 0) {
        uv_timer_stop(&w->flush_timer);
        w->flush_armed = 0;
        arm(w, FLUSH_GATHER_MS);
    }
    wk_pump_all(w);
    wk_check_drained(w);
}

static void flush(struct worker *w)
{
    if (w->n_outcomes == 0)
        return;
    /* One write at a time: two would both count down the claims row of
     * their batch (schema 034, tocsin_claims_settle) and the second would
     * wait for the first to commit, holding a pool connection that claims
     * and stamps need. What arrives meanwhile goes in the next, larger
     * write, sent as soon as this one is done (flushed). */
    if (w->flushes_in_flight > 0)
        return;
    unsigned n = w->n_outcomes > FLUSH_MAX ? FLUSH_MAX : w->n_outcomes;
    struct flush_job *job = calloc(1, sizeof *job);
    struct wk_outcome *batch = malloc(n * sizeof *batch);
    if (!job || !batch) {
        free(job);
        free(batch);
        arm(w, RETRY_DELAY_MS);
        return;
    }
    memcpy(batch, w->outcomes, n * sizeof *batch);
    memmove(w->outcomes, w->outcomes + n, (w->n_outcomes - n) * sizeof *batch);
    w->n_outcomes -= n;
    job->w = w;
    job->batch = batch;
    job->n = n;

    struct tocsin_pgarray ids, kinds, pids, codes, errors, retry, optout;
    tocsin_pgarray_init(&ids, 0);
    tocsin_pgarray_init(&kinds, 0);
    tocsin_pgarray_init(&pids, 0);
    tocsin_pgarray_init(&codes, 0);
    tocsin_pgarray_init(&errors, 0);
    tocsin_pgarray_init(&retry, 0);
    tocsin_pgarray_init(&optout, 0);
    for (unsigned i = 0; i < n; i++) {
        const struct wk_outcome *o = &batch[i];
        tocsin_pgarray_add_int(&ids, o->id);
        tocsin_pgarray_add_text(&kinds, o->kind);
        tocsin_pgarray_add_text(&pids, o->provider_id[0] ? o->provider_id : NULL);
        tocsin_pgarray_add_text(&codes, o->code[0] ? o->code : NULL);
        tocsin_pgarray_add_text(&errors, o->error[0] ? o->error : NULL);
        tocsin_pgarray_add_int(&retry, o->retry_ms);
        tocsin_pgarray_add_bool(&optout, o->opt_out);
    }
    const char *params[] = {w->id,
                            tocsin_pgarray_finish(&ids),
                            tocsin_pgarray_finish(&kinds),
                            tocsin_pgarray_finish(&pids),
                            tocsin_pgarray_finish(&codes),
                            tocsin_pgarray_finish(&errors),
                            tocsin_pgarray_finish(&retry),
                            tocsin_pgarray_finish(&optout)};
    int ok = 1;
    for (int i = 1; i < 8; i++)
        ok = ok && params[i];
    w->flushes_in_flight++;
    if (!ok ||
        tocsin_db_query(w->d->db,
                        "SELECT tocsin_record_outcomes($1, $2::bigint[], $3::text[], $4::text[],"
                        " $5::text[], $6::text[], $7::int[], $8::boolean[])",
                        8, params, flushed, job) != 0) {
        struct tocsin_db_result fake = {.error = "could not queue the write", .sqlstate = ""};
        flushed(&fake, job);
    }
    tocsin_pgarray_free(&ids);
    tocsin_pgarray_free(&kinds);
    tocsin_pgarray_free(&pids);
    tocsin_pgarray_free(&codes);
    tocsin_pgarray_free(&errors);
    tocsin_pgarray_free(&retry);
    tocsin_pgarray_free(&optout);
    if (w->n_outcomes > 0)
        arm(w, FLUSH_DELAY_MS);
}

int wk_outcomes_pending(const struct worker *w)
{
    return w->n_outcomes > 0 || w->flushes_in_flight > 0;
}

void wk_outcomes_free(struct worker *w)
{
    free(w->outcomes);
    w->outcomes = NULL;
    w->n_outcomes = w->cap_outcomes = 0;
}
