/* SPDX-License-Identifier: AGPL-3.0-or-later
 * journal.c — the inbound journal's applier (schema/015). When batch.c
 * falls behind, a big batch stores its replies in the journal first; this
 * file threads them into conversations, oldest first, with calls of
 * tocsin_inbound_journal_apply (about 200 replies each), two side by side
 * once the burst eased (one core each in PostgreSQL). It calls whenever no
 * member message came for QUIET_MS (a carrier's retries and a closed-loop
 * load both leave gaps of a few milliseconds between batches, which are not
 * the end of a burst), so a burst is acknowledged first and threaded as
 * soon as it eases, and at least once a second meanwhile, so no reply
 * waits for the burst's end. At startup it drains what an earlier
 * gateway left. It also keeps the backlog estimate batch.c consults before
 * journaling more: past TOCSIN_GATEWAY_JOURNAL_MAX, replies are stored the
 * full way again, which slows the carrier down instead of the journal
 * growing without bound. Knows nothing of HTTP. */
#include <stdlib.h>
#include <string.h>

#include "gateway.h"
#include "log.h"

#define APPLY_BATCH "200"   /* replies a call takes (whole journal rows: a few more) */
#define APPLIERS 2          /* calls side by side once quiet (040 lets them) */
#define TICK_MS 20          /* how often a quiet queue is checked for */
#define QUIET_MS 20         /* no member message for this long: the burst eased */
#define FORCE_AFTER_MS 1000 /* longest gap between applies while replies wait */

static const char apply_sql[] =
    "SELECT applied, failed, more FROM tocsin_inbound_journal_apply($1)";

/* The applier's state (g->journal). */
struct gw_journal {
    struct gateway *g;
    uv_timer_t timer; /* data: this struct */
    int stopped;
    int running;          /* apply calls in flight */
    int waiting;          /* replies may wait in the journal */
    unsigned added;       /* journaling events */
    long long backlog;    /* journaled minus applied, by this gateway (an estimate) */
    uint64_t last_run_ms; /* when the last apply call started */
    uint64_t retry_at_ms; /* after a failed call, not before this */
};

static double backlog_read(void *ctx)
{
    const struct gw_journal *jr = ctx;
    return (double)jr->backlog;
}

static struct tocsin_metric m_journaled = TOCSIN_METRIC_COUNTER(
    "tocsin_gateway_journaled_total", "replies stored in the inbound journal first", NULL);
static struct tocsin_metric m_applied = TOCSIN_METRIC_COUNTER(
    "tocsin_gateway_journal_applied_total", "journaled replies threaded into conversations", NULL);
static struct tocsin_metric m_failed = TOCSIN_METRIC_COUNTER(
    "tocsin_gateway_journal_failed_total",
    "journaled replies that could not be applied (kept in inbound_journal_failed)", NULL);
static struct tocsin_metric m_backlog =
    TOCSIN_METRIC_GAUGE("tocsin_gateway_journal_backlog",
                        "replies this gateway journaled that are not applied yet", NULL);

/* One apply call in flight. */
struct apply_call {
    struct gw_journal *jr;
    unsigned seen; /* jr->added when it started: rows journaled after may not be seen */
};

static void run(struct gw_journal *jr, int calls);

static void applied(const struct tocsin_db_result *r, void *ctx)
{
    struct apply_call *call = ctx;
    struct gw_journal *jr = call->jr;
    unsigned seen = call->seen;
    free(call);
    jr->running--;
    if (r->error) {
        log_warn("journal_apply_failed", "reason=%s retry_in_ms=%d", tocsin_log_q(r->error),
                 FORCE_AFTER_MS);
        jr->retry_at_ms = uv_now(jr->g->d->loop) + FORCE_AFTER_MS;
        return; /* the timer tries again */
    }
    if (PQntuples(r->res) != 1)
        return;
    long done = strtol(PQgetvalue(r->res, 0, PQfnumber(r->res, "applied")), NULL, 10);
    long failed = strtol(PQgetvalue(r->res, 0, PQfnumber(r->res, "failed")), NULL, 10);
    int more = strcmp(PQgetvalue(r->res, 0, PQfnumber(r->res, "more")), "t") == 0;
    tocsin_metric_add(&m_applied, (double)(done));
    if (failed > 0) {
        tocsin_metric_add(&m_failed, (double)failed);
        log_error("journal_rows_failed",
                  "count=%ld where=inbound_journal_failed reason=\"refused by the database\"",
                  failed);
    }
    jr->backlog -= done + failed;
    if ((!more && jr->running == 0) || jr->backlog < 0) /* drained, or others' rows counted too */
        jr->backlog = 0;
    /* Rows journaled while the call ran may have committed after it looked;
     * a call still running keeps the journal waiting until it answers. */
    jr->waiting = more || jr->added != seen || jr->running > 0;
    if (more && done + failed > 0 &&
        gw_batch_quiet(jr->g, GW_SPOOL_INBOUND, uv_now(jr->g->d->loop), QUIET_MS))
        run(jr, APPLIERS); /* still quiet: keep draining (else the tick asks again) */
}

/* Starts apply calls until `calls` are in flight. */
static void run(struct gw_journal *jr, int calls)
{
    while (jr->running < calls && !jr->stopped && jr->waiting) {
        struct apply_call *call = malloc(sizeof *call);
        if (!call)
            return;
        call->jr = jr;
        call->seen = jr->added;
        const char *params[] = {APPLY_BATCH};
        jr->last_run_ms = uv_now(jr->g->d->loop);
        if (tocsin_db_query(jr->g->d->db, apply_sql, 1, params, applied, call) != 0) {
            free(call);
            return;
        }
        jr->running++;
    }
}

static void tick(uv_timer_t *t)
{
    struct gw_journal *jr = t->data;
    uint64_t now = uv_now(jr->g->d->loop);
    if (!jr->waiting || now < jr->retry_at_ms)
        return;
    if (gw_batch_quiet(jr->g, GW_SPOOL_INBOUND, now, QUIET_MS))
        run(jr, APPLIERS);
    else if (now - jr->last_run_ms >= FORCE_AFTER_MS)
        run(jr, 1); /* one call a second while the burst lasts */
}

int gw_journal_start(struct gateway *g)
{
    struct gw_journal *jr = calloc(1, sizeof *jr);
    if (!jr)
        return -1;
    jr->g = g;
    jr->waiting = 1; /* whatever an earlier gateway left */
    m_backlog.read = backlog_read;
    m_backlog.read_ctx = jr;
    tocsin_metric_register(&m_journaled);
    tocsin_metric_register(&m_applied);
    tocsin_metric_register(&m_failed);
    tocsin_metric_register(&m_backlog);
    if (uv_timer_init(g->d->loop, &jr->timer) != 0) {
        free(jr);
        return -1;
    }
    jr->timer.data = jr;
    g->journal = jr;
    return uv_timer_start(&jr->timer, tick, TICK_MS, TICK_MS) == 0 ? 0 : -1;
}

int gw_journal_has_room(const struct gateway *g)
{
    const struct gw_journal *jr = g->journal;
    return jr && !jr->stopped && g->d->cfg.gateway_journal_at > 0 &&
           jr->backlog < (long long)g->d->cfg.gateway_journal_max;
}

void gw_journal_added(struct gateway *g, int n)
{
    struct gw_journal *jr = g->journal;
    if (n <= 0 || !jr)
        return;
    tocsin_metric_add(&m_journaled, n);
    jr->backlog += n;
    jr->added++;
    jr->waiting = 1;
}

void gw_journal_stop(struct gateway *g)
{
    struct gw_journal *jr = g->journal;
    if (!jr || jr->stopped)
        return;
    jr->stopped = 1;
    uv_close((uv_handle_t *)&jr->timer, NULL);
}

/* After the loop ended (the timer is closed). */
void gw_journal_free(struct gateway *g)
{
    m_backlog.read = NULL; /* the gauge reads 0 from now on */
    m_backlog.read_ctx = NULL;
    free(g->journal);
    g->journal = NULL;
}
