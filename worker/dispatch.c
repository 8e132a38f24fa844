/* SPDX-License-Identifier: AGPL-3.0-or-later
 * dispatch.c — one sender's messages on their way out, while this worker
 * holds the sender's carrier account: claim due messages (tocsin_claim),
 * stamp a small group just before it leaves (tocsin_mark_going, so a lost
 * worker later means 'unknown', never a resend), release each message when
 * the sender's and the account's pacers allow, send it through the
 * provider, and hand the carrier's answer to outcomes.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "pgarray.h"
#include "worker.h"

static struct tocsin_metric m_claimed =
    TOCSIN_METRIC_COUNTER("tocsin_worker_claimed_total", "messages claimed", NULL);
static struct tocsin_metric m_requests =
    TOCSIN_METRIC_COUNTER("tocsin_worker_requests_total", "carrier requests sent", NULL);
static struct tocsin_metric m_throttled = TOCSIN_METRIC_COUNTER(
    "tocsin_worker_throttled_total", "carrier answers asking us to slow down (429)", NULL);

void wk_dispatch_metrics_register(void)
{
    tocsin_metric_register(&m_claimed);
    tocsin_metric_register(&m_requests);
    tocsin_metric_register(&m_throttled);
}

/* Seconds of sending one claim covers, and of sending stamped ahead. */
#define CLAIM_AHEAD_S 2.0
#define MARK_AHEAD_S 0.1
/* Stamped ahead at most this many times the concurrency: a stamp call has
 * a fixed cost (the worker's claims read whole, the call itself), and at
 * groups of about 100 it was about 5 us of PostgreSQL a message more than
 * at about 200 (issue 22). What is stamped and not yet sent is what a lost
 * worker leaves unknown; below 1,280 messages/s a sender stamps 0.1 s
 * ahead, as before. */
#define MARK_AHEAD_CONCURRENCY 2

struct mark_job {
    struct wk_sender *s;
    struct wk_msg *group; /* the messages being stamped, in order */
};

struct send_job {
    struct wk_msg *m;
};

static void queue_push(struct wk_queue *q, struct wk_msg *m)
{
    m->next = NULL;
    if (q->tail)
        q->tail->next = m;
    else
        q->head = m;
    q->tail = m;
    q->count++;
}

static struct wk_msg *queue_pop(struct wk_queue *q)
{
    struct wk_msg *m = q->head;
    if (m) {
        q->head = m->next;
        if (!q->head)
            q->tail = NULL;
        q->count--;
        m->next = NULL;
    }
    return m;
}

static void queue_prepend(struct wk_queue *q, struct wk_msg *list)
{
    struct wk_msg *last = NULL;
    unsigned n = 0;
    for (struct wk_msg *m = list; m; m = m->next) {
        last = m;
        n++;
    }
    if (!last)
        return;
    last->next = q->head;
    q->head = list;
    if (!q->tail)
        q->tail = last;
    q->count += n;
}

static void sender_timer_fired(uv_timer_t *t)
{
    wk_sender_pump(t->data);
}

void wk_msg_free(struct wk_msg *m)
{
    if (m) {
        free(m->to);
        free(m->body);
        free(m);
    }
}

static double effective_rate(const struct wk_sender *s)
{
    double r = s->rate * s->slow;
    if (s->account && s->account->limit > 0 && s->account->limit < r)
        r = s->account->limit;
    return r > 0.01 ? r : 0.01;
}

static int dispatching(const struct wk_sender *s)
{
    const struct worker *w = s->w;
    return !w->stopping && s->account && s->account->held &&
           uv_now(w->d->loop) < s->account->held_until_ms;
}

/* ---- claim ---- */

static void claimed_rows(struct wk_sender *s, const struct tocsin_db_result *r);

static void claimed(const struct tocsin_db_result *r, void *ctx)
{
    struct wk_sender *s = ctx;
    s->claiming = 0;
    claimed_rows(s, r);
    wk_check_drained(s->w);
}

static void claimed_rows(struct wk_sender *s, const struct tocsin_db_result *r)
{
    if (r->error) {
        /* An ambiguous claim leaves rows claimed (out of the outbox, in a
         * claims row) without us knowing them: the lease sweep gives them
         * back (never stamped, so into the outbox again). */
        log_warn("claim_failed", "sender_id=%lld ambiguous=%d reason=%s", s->id, r->ambiguous,
                 tocsin_log_q(r->error));
        return; /* the poll timer tries again */
    }
    int n = PQntuples(r->res);
    int i_id = PQfnumber(r->res, "id"), i_to = PQfnumber(r->res, "to_phone"),
        i_body = PQfnumber(r->res, "body"), i_segments = PQfnumber(r->res, "segments"),
        i_validity = PQfnumber(r->res, "validity_seconds");
    for (int i = 0; i < n; i++) {
        struct wk_msg *m = calloc(1, sizeof *m);
        if (m) {
            m->id = strtoll(PQgetvalue(r->res, i, i_id), NULL, 10);
            m->to = strdup(PQgetvalue(r->res, i, i_to));
            m->body = strdup(PQgetvalue(r->res, i, i_body));
            m->segments = (unsigned)strtoul(PQgetvalue(r->res, i, i_segments), NULL, 10);
            m->validity_seconds = strtol(PQgetvalue(r->res, i, i_validity), NULL, 10);
            m->sender = s;
        }
        if (!m || !m->to || !m->body) {
            /* Left claimed and unstamped: the sweep re-queues it. */
            log_error("claim_out_of_memory", "sender_id=%lld", s->id);
            wk_msg_free(m);
            continue;
        }
        queue_push(&s->claimed, m);
    }
    s->more = n > 0;
    if (n > 0) {
        tocsin_metric_add(&m_claimed, n);
        log_debug("claimed", "sender_id=%lld count=%d", s->id, n);
    }
    wk_sender_pump(s);
}

static void maybe_claim(struct wk_sender *s)
{
    struct worker *w = s->w;
    if (s->claiming || !s->more)
        return;
    double ahead = ceil(effective_rate(s) * CLAIM_AHEAD_S);
    unsigned limit = ahead < 1                        ? 1
                     : ahead > w->d->cfg.worker_batch ? w->d->cfg.worker_batch
                                                      : (unsigned)ahead;
    if (s->claimed.count + s->ready.count > limit / 2)
        return;
    char sender[24], lim[16], now[40], lease[16];
    snprintf(sender, sizeof sender, "%lld", s->id);
    snprintf(lim, sizeof lim, "%u", limit);
    wk_now_param(w, now, sizeof now);
    snprintf(lease, sizeof lease, "%u", w->d->cfg.worker_lease_seconds);
    const char *params[] = {sender, w->id, lim, now, lease};
    s->claiming = 1;
    if (tocsin_db_query(w->d->db,
                        "SELECT id, to_phone, body, segments,"
                        " coalesce(validity_seconds, 0) AS validity_seconds"
                        " FROM tocsin_claim($1, $2, $3, to_timestamp($4::float8), $5)",
                        5, params, claimed, s) != 0)
        s->claiming = 0;
}

/* ---- stamp ---- */

static void marked_rows(struct mark_job *job, const struct tocsin_db_result *r);

static int cmp_id(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

static void marked(const struct tocsin_db_result *r, void *ctx)
{
    struct mark_job *job = ctx;
    struct wk_sender *s = job->s;
    s->marking = 0;
    marked_rows(job, r);
    wk_check_drained(s->w);
}

static void marked_rows(struct mark_job *job, const struct tocsin_db_result *r)
{
    struct wk_sender *s = job->s;
    struct wk_msg *m, *next;
    if (r->error) {
        if (r->ambiguous) {
            /* Stamped or not, we cannot tell: sending could duplicate a
             * message the sweep re-queues. Leave them to the sweep. */
            log_warn("mark_ambiguous", "sender_id=%lld reason=%s", s->id, tocsin_log_q(r->error));
            for (m = job->group; m; m = next) {
                next = m->next;
                wk_msg_free(m);
            }
        } else {
            log_warn("mark_failed", "sender_id=%lld reason=%s", s->id, tocsin_log_q(r->error));
            /* Not stamped: back to the front of the claimed queue, and
             * a pause before the next try. */
            queue_prepend(&s->claimed, job->group);
            s->mark_backoff_until = uv_now(s->w->d->loop) + 500;
            if (!uv_is_active((uv_handle_t *)&s->timer))
                uv_timer_start(&s->timer, sender_timer_fired, 500, 0);
        }
        free(job);
        return;
    }
    /* The ids that may go, parsed once and sorted for lookups. */
    int n = PQntuples(r->res);
    long long *going = n > 0 ? malloc((size_t)n * sizeof *going) : NULL;
    for (int i = 0; going && i < n; i++)
        going[i] = strtoll(PQgetvalue(r->res, i, 0), NULL, 10);
    if (going)
        qsort(going, (size_t)n, sizeof *going, cmp_id);
    for (m = job->group; m; m = next) {
        next = m->next;
        /* Out of memory: these are stamped, so none is sent (the sweep
         * makes them unknown) rather than guessing. */
        int go = going && bsearch(&m->id, going, (size_t)n, sizeof *going, cmp_id) != NULL;
        if (go) {
            queue_push(&s->ready, m);
        } else {
            log_info("not_sent", "message_id=%lld reason=\"opted out or no longer ours\"", m->id);
            wk_msg_free(m);
        }
    }
    free(going);
    free(job);
    wk_sender_pump(s);
}

static void maybe_mark(struct wk_sender *s)
{
    struct worker *w = s->w;
    if (s->marking || s->claimed.count == 0 || uv_now(w->d->loop) < s->mark_backoff_until)
        return;
    double want = ceil(effective_rate(s) * MARK_AHEAD_S);
    double most = (double)w->d->cfg.worker_concurrency * MARK_AHEAD_CONCURRENCY;
    unsigned target = want < 1 ? 1 : want > most ? (unsigned)most : (unsigned)want;
    if (s->ready.count >= target)
        return;
    struct mark_job *job = calloc(1, sizeof *job);
    if (!job)
        return;
    job->s = s;
    struct tocsin_pgarray ids;
    tocsin_pgarray_init(&ids, 0);
    struct wk_msg **tail = &job->group;
    for (unsigned i = s->ready.count; i < target && s->claimed.head; i++) {
        struct wk_msg *m = queue_pop(&s->claimed);
        tocsin_pgarray_add_int(&ids, m->id);
        *tail = m;
        tail = &m->next;
    }
    const char *arr = tocsin_pgarray_finish(&ids);
    const char *params[] = {arr, w->id};
    s->marking = 1;
    if (!arr || tocsin_db_query(w->d->db, "SELECT tocsin_mark_going($1::bigint[], $2)", 2, params,
                                marked, job) != 0) {
        s->marking = 0;
        struct tocsin_db_result fake = {.error = "could not queue the stamp", .sqlstate = ""};
        marked(&fake, job); /* back to the claimed queue */
    }
    tocsin_pgarray_free(&ids);
}

/* ---- send ---- */

static void throttle(struct wk_sender *s)
{
    uint64_t now = uv_now(s->w->d->loop);
    tocsin_metric_add(&m_throttled, 1);
    s->throttled_streak++;
    if (now - s->last_throttle_ms > 1000 || s->last_throttle_ms == 0) {
        s->slow = s->slow * 0.5 < 0.05 ? 0.05 : s->slow * 0.5;
        tocsin_pacer_set_rate(&s->pacer, s->rate * s->slow);
        log_warn("sender_slowed", "sender_id=%lld rate=%.2f", s->id, s->rate * s->slow);
    }
    s->last_throttle_ms = now;
}

static int retry_delay_ms(struct wk_sender *s, int throttled)
{
    double base =
        throttled ? 1000.0 * pow(2, s->throttled_streak > 6 ? 6 : s->throttled_streak) : 1000.0;
    double jitter = 0.5 + (double)rand() / RAND_MAX; /* 0.5x .. 1.5x */
    double ms = base * jitter;
    return ms > 60000 ? 60000 : (int)ms;
}

static void answered(const struct tocsin_http_client_response *r, void *ctx)
{
    struct send_job *job = ctx;
    struct wk_msg *m = job->m;
    struct wk_sender *s = m->sender;
    struct worker *w = s->w;
    w->in_flight--;
    struct provider_outcome o;
    provider_classify(s->provider, r, &o);
    struct wk_outcome out = {.id = m->id, .opt_out = o.opt_out};
    snprintf(out.code, sizeof out.code, "%s", o.error_code);
    snprintf(out.error, sizeof out.error, "%s", o.error_message);
    switch (o.kind) {
    case OUTCOME_SENT:
        out.kind = "sent";
        snprintf(out.provider_id, sizeof out.provider_id, "%s", o.provider_id);
        s->throttled_streak = 0;
        break;
    case OUTCOME_RETRY:
        out.kind = "retry";
        if (o.slow_down)
            throttle(s);
        out.retry_ms = retry_delay_ms(s, o.slow_down);
        break;
    case OUTCOME_FAILED:
        out.kind = "failed";
        break;
    default:
        out.kind = "unknown";
        break;
    }
    log_info("message_outcome",
             "message_id=%lld sender_id=%lld outcome=%s status=%ld provider_id=%s code=%s", m->id,
             s->id, out.kind, r->status, tocsin_log_q(out.provider_id), tocsin_log_q(out.code));
    wk_outcome_add(w, &out);
    wk_msg_free(m);
    free(job);
    wk_sender_pump(s);
    wk_check_drained(w);
}

static void send_one(struct wk_sender *s, struct wk_msg *m)
{
    struct worker *w = s->w;
    struct provider_account a = {s->base_url, s->account_sid, s->secret};
    struct provider_message pm = {s->address, m->to, m->body, s->status_callback,
                                  m->validity_seconds};
    struct provider_request req;
    char err[200];
    struct send_job *job = calloc(1, sizeof *job);
    if (!job || s->provider->build_request(&a, &pm, &req, err, sizeof err) != 0) {
        /* Nothing left this machine: a definite failure, not a retry loop. */
        struct wk_outcome out = {.id = m->id, .kind = "failed"};
        snprintf(out.code, sizeof out.code, "request");
        snprintf(out.error, sizeof out.error, "%s", job ? err : "out of memory");
        wk_outcome_add(w, &out);
        free(job);
        wk_msg_free(m);
        return;
    }
    job->m = m;
    struct tocsin_http_client_request creq;
    provider_request_to_client(&req, &creq);
    creq.timeout_ms = w->d->cfg.worker_http_timeout_ms;
    int rc = tocsin_http_client_send(w->http, &creq, answered, job);
    provider_request_free(&req);
    if (rc != 0) {
        struct wk_outcome out = {.id = m->id, .kind = "retry", .retry_ms = 1000};
        snprintf(out.error, sizeof out.error, "the HTTP client refused the request");
        wk_outcome_add(w, &out);
        free(job);
        wk_msg_free(m);
        return;
    }
    w->in_flight++;
    tocsin_metric_add(&m_requests, 1);
}

static void send_ready(struct wk_sender *s)
{
    struct worker *w = s->w;
    while (s->ready.head && w->in_flight < w->d->cfg.worker_concurrency) {
        /* A fresh clock: the loop's cached time can be a whole busy turn
         * old, and a send logged earlier than it left lets a later one
         * into the carrier's same second. */
        uv_update_time(w->d->loop);
        uint64_t now = uv_now(w->d->loop);
        unsigned units = s->ready.head->segments ? s->ready.head->segments : 1;
        uint64_t wait = tocsin_pacer_wait(&s->pacer, now, units);
        if (s->account->limit > 0) {
            uint64_t aw = tocsin_pacer_wait(&s->account->pacer, now, units);
            wait = aw > wait ? aw : wait;
        }
        if (wait > 0) {
            if (!uv_is_active((uv_handle_t *)&s->timer))
                uv_timer_start(&s->timer, sender_timer_fired, wait, 0);
            return;
        }
        tocsin_pacer_take(&s->pacer, now, units);
        if (s->account->limit > 0)
            tocsin_pacer_take(&s->account->pacer, now, units);
        send_one(s, queue_pop(&s->ready));
    }
}

void wk_sender_pump(struct wk_sender *s)
{
    if (!dispatching(s))
        return;
    send_ready(s);
    maybe_mark(s);
    maybe_claim(s);
}

void wk_pump_all(struct worker *w)
{
    for (struct wk_sender *s = w->senders; s; s = s->next)
        wk_sender_pump(s);
}

/* ---- release ---- */

struct release_job {
    struct worker *w;
    void (*done)(struct worker *w);
};

static void released(const struct tocsin_db_result *r, void *ctx)
{
    struct release_job *job = ctx;
    if (r->error)
        log_warn("release_failed", "reason=%s note=\"the lease sweep re-queues them\"",
                 tocsin_log_q(r->error));
    else
        log_info("released", "count=%s", PQgetvalue(r->res, 0, 0));
    if (job->done)
        job->done(job->w);
    free(job);
}

static void take_all(struct wk_queue *q, struct tocsin_pgarray *ids)
{
    struct wk_msg *m;
    while ((m = queue_pop(q))) {
        tocsin_pgarray_add_int(ids, m->id);
        wk_msg_free(m);
    }
}

void wk_release_unsent(struct worker *w, struct wk_account *only, void (*done)(struct worker *w))
{
    struct tocsin_pgarray ids;
    tocsin_pgarray_init(&ids, 0);
    for (struct wk_sender *s = w->senders; s; s = s->next) {
        if (only && s->account != only)
            continue;
        take_all(&s->claimed, &ids);
        take_all(&s->ready, &ids);
        uv_timer_stop(&s->timer);
    }
    struct release_job *job = calloc(1, sizeof *job);
    const char *arr = tocsin_pgarray_finish(&ids);
    const char *params[] = {arr, w->id};
    if (ids.n > 0 && job && arr) {
        job->w = w;
        job->done = done;
        if (tocsin_db_query(w->d->db, "SELECT tocsin_release_claims($1::bigint[], $2)", 2, params,
                            released, job) == 0) {
            tocsin_pgarray_free(&ids);
            return;
        }
    }
    free(job);
    tocsin_pgarray_free(&ids);
    if (done)
        done(w);
}
