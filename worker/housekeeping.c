/* SPDX-License-Identifier: AGPL-3.0-or-later
 * housekeeping.c — the worker's once-a-second duties: take or renew the
 * dispatcher lease of each carrier account (one worker sends for an
 * account at a time, so its rate limit needs no round trip per message;
 * another worker takes over within a lease if this one dies), stop
 * dispatching the moment a lease may have lapsed, sweep messages of dead
 * workers, match delivery receipts left pending by a race with the
 * recording of their ids (tocsin_receipts_rematch, schema 014), drive
 * blasts (tocsin_blasts_tick), let slowed senders recover, ask whether
 * the nightly retention run is due (retention.c), and poll for due
 * messages in case a NOTIFY was missed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "worker.h"

#define TICK_MS 1000
#define REFRESH_EVERY 5 /* ticks */
#define SWEEP_EVERY 2   /* ticks */
/* Stop dispatching this long before the lease we were granted ends. */
#define LEASE_MARGIN_MS 2000

struct acquire_job {
    struct worker *w;
    struct wk_account *a;
    uint64_t asked_ms;
};

static void lease_lost(struct worker *w, struct wk_account *a, const char *why)
{
    if (!a->held)
        return;
    a->held = 0;
    log_warn("dispatch_lease_lost", "account=%s reason=%s", tocsin_log_q(a->key),
             tocsin_log_q(why));
    wk_release_unsent(w, a, NULL);
}

static void acquired(const struct tocsin_db_result *r, void *ctx)
{
    struct acquire_job *job = ctx;
    struct worker *w = job->w;
    struct wk_account *a = job->a;
    a->acquiring = 0;
    if (r->error) {
        log_warn("dispatch_lease_failed", "account=%s reason=%s", tocsin_log_q(a->key),
                 tocsin_log_q(r->error));
    } else if (PQntuples(r->res) == 1 && strcmp(PQgetvalue(r->res, 0, 0), "t") == 0) {
        if (!a->held)
            log_info("dispatch_lease_taken", "account=%s", tocsin_log_q(a->key));
        a->held = 1;
        a->held_until_ms =
            job->asked_ms + w->d->cfg.worker_dispatch_lease_seconds * 1000ull - LEASE_MARGIN_MS;
        for (struct wk_sender *s = w->senders; s; s = s->next)
            if (s->account == a)
                wk_sender_pump(s);
    } else {
        lease_lost(w, a, "another worker holds it");
    }
    free(job);
}

static void acquire(struct worker *w, struct wk_account *a)
{
    if (a->acquiring)
        return;
    struct acquire_job *job = calloc(1, sizeof *job);
    if (!job)
        return;
    job->w = w;
    job->a = a;
    job->asked_ms = uv_now(w->d->loop);
    char secs[16];
    snprintf(secs, sizeof secs, "%u", w->d->cfg.worker_dispatch_lease_seconds);
    const char *params[] = {a->key, w->id, secs};
    a->acquiring = 1;
    if (tocsin_db_query(w->d->db, "SELECT coalesce(tocsin_dispatch_acquire($1, $2, $3), false)", 3,
                        params, acquired, job) != 0) {
        a->acquiring = 0;
        free(job);
    }
}

void wk_accounts_acquire(struct worker *w)
{
    if (w->stopping)
        return;
    for (struct wk_account *a = w->accounts; a; a = a->next)
        if (!a->held)
            acquire(w, a);
}

static void swept(const struct tocsin_db_result *r, void *ctx)
{
    struct worker *w = ctx;
    w->sweeping = 0;
    if (r->error)
        log_warn("sweep_failed", "reason=%s", tocsin_log_q(r->error));
    else if (strcmp(PQgetvalue(r->res, 0, 0), "0") != 0)
        log_warn("leases_swept",
                 "count=%s note=\"messages of a lost worker: queued again if never sent, "
                 "else unknown\"",
                 PQgetvalue(r->res, 0, 0));
}

static void rematched(const struct tocsin_db_result *r, void *ctx)
{
    struct worker *w = ctx;
    w->rematching = 0;
    if (r->error)
        log_warn("receipts_rematch_failed", "reason=%s", tocsin_log_q(r->error));
    else if (strcmp(PQgetvalue(r->res, 0, 0), "0") != 0)
        log_info("receipts_rematched",
                 "count=%s note=\"receipts that came while their message's id was "
                 "being recorded\"",
                 PQgetvalue(r->res, 0, 0));
}

static void blasts_ticked(const struct tocsin_db_result *r, void *ctx)
{
    struct worker *w = ctx;
    w->ticking_blasts = 0;
    if (r->error)
        log_warn("blasts_tick_failed", "reason=%s", tocsin_log_q(r->error));
    else if (strcmp(PQgetvalue(r->res, 0, 0), "0") != 0) {
        log_info("blasts_ticked", "changed=%s", PQgetvalue(r->res, 0, 0));
        for (struct wk_sender *s = w->senders; s; s = s->next)
            s->more = 1;
        wk_pump_all(w);
    }
}

static void recover_slowed(struct worker *w)
{
    uint64_t now = uv_now(w->d->loop);
    for (struct wk_sender *s = w->senders; s; s = s->next) {
        if (s->slow >= 1 || now - s->last_throttle_ms < 2000)
            continue;
        s->slow = s->slow * 1.25 > 1 ? 1 : s->slow * 1.25;
        tocsin_pacer_set_rate(&s->pacer, s->rate * s->slow);
    }
}

static void tick(uv_timer_t *t)
{
    struct worker *w = t->data;
    if (w->stopping)
        return;
    uint64_t now = uv_now(w->d->loop);
    if (w->ticks++ % REFRESH_EVERY == 0)
        wk_senders_refresh(w);
    for (struct wk_account *a = w->accounts; a; a = a->next) {
        if (a->held && now >= a->held_until_ms)
            lease_lost(w, a, "not renewed in time");
        acquire(w, a);
    }
    if (w->ticks % SWEEP_EVERY == 0 && !w->sweeping) {
        w->sweeping = 1;
        if (tocsin_db_query(w->d->db, "SELECT tocsin_sweep_leases()", 0, NULL, swept, w) != 0)
            w->sweeping = 0;
    }
    if (w->ticks % SWEEP_EVERY == 1 && !w->rematching) {
        w->rematching = 1;
        if (tocsin_db_query(w->d->db, "SELECT tocsin_receipts_rematch()", 0, NULL, rematched, w) !=
            0)
            w->rematching = 0;
    }
    if (!w->ticking_blasts) {
        char nowp[40];
        wk_now_param(w, nowp, sizeof nowp);
        const char *params[] = {nowp};
        w->ticking_blasts = 1;
        if (tocsin_db_query(w->d->db, "SELECT tocsin_blasts_tick(to_timestamp($1::float8))", 1,
                            params, blasts_ticked, w) != 0)
            w->ticking_blasts = 0;
    }
    recover_slowed(w);
    wk_retention_tick(w);
}

static void poll_fired(uv_timer_t *t)
{
    struct worker *w = t->data;
    for (struct wk_sender *s = w->senders; s; s = s->next)
        s->more = 1;
    wk_pump_all(w);
}

void wk_housekeeping_start(struct worker *w)
{
    uv_timer_init(w->d->loop, &w->housekeeping);
    w->housekeeping.data = w;
    uv_timer_start(&w->housekeeping, tick, 0, TICK_MS);
    uv_timer_init(w->d->loop, &w->poll);
    w->poll.data = w;
    uv_timer_start(&w->poll, poll_fired, w->d->cfg.worker_poll_ms, w->d->cfg.worker_poll_ms);
}

void wk_housekeeping_stop(struct worker *w)
{
    uv_timer_stop(&w->housekeeping);
    uv_timer_stop(&w->poll);
}

static void leases_released(const struct tocsin_db_result *r, void *ctx)
{
    struct worker *w = ctx;
    if (r->error)
        log_warn("dispatch_release_failed", "reason=%s note=\"they lapse on their own\"",
                 tocsin_log_q(r->error));
    for (struct wk_account *a = w->accounts; a; a = a->next)
        a->held = 0;
    if (w->leases_released)
        w->leases_released(w);
}

void wk_accounts_release(struct worker *w, void (*done)(struct worker *w))
{
    int held = 0;
    for (struct wk_account *a = w->accounts; a; a = a->next)
        held |= a->held;
    /* Nothing to give back, or no database to tell: the leases lapse on
     * their own, and a stop must not wait for a connection. */
    if (!held || !tocsin_db_ready(w->d->db)) {
        if (done)
            done(w);
        return;
    }
    const char *params[] = {w->id};
    w->leases_released = done;
    if (tocsin_db_query(w->d->db, "SELECT tocsin_dispatch_release($1)", 1, params, leases_released,
                        w) != 0 &&
        done)
        done(w);
}
