/* SPDX-License-Identifier: AGPL-3.0-or-later
 * main.c — tocsin-worker: sends queued outbound messages through carrier
 * APIs. This file wires the daemon: the worker's identity and clock, the
 * HTTP client, LISTEN tocsin_outbox wake-ups, and the clean stop (stop
 * claiming, give back what was claimed but not sent, let requests in
 * flight finish and their outcomes be written, release dispatcher leases,
 * exit 0). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "crypto.h"
#include "daemon.h"
#include "log.h"
#include "worker.h"

static double real_now(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

double wk_now(const struct worker *w)
{
    return real_now() + w->clock_offset_s;
}

void wk_now_param(const struct worker *w, char *buf, size_t size)
{
    snprintf(buf, size, "%.3f", wk_now(w));
}

static int worker_port(const struct tocsin_config *cfg)
{
    return cfg->worker_metrics_port;
}

static void outbox_notified(const char *channel, const char *payload, void *ctx)
{
    struct worker *w = ctx;
    (void)channel;
    char *end;
    long long id = strtoll(payload, &end, 10);
    struct wk_sender *s = *end == '\0' ? wk_sender_find(w, id) : NULL;
    if (!s) {
        wk_senders_refresh(w); /* a sender we have not loaded yet */
        return;
    }
    s->more = 1;
    wk_sender_pump(s);
}

/* A sender added, disabled, or given new credentials (the dashboard's
 * Senders screen): load the table again now rather than at the next
 * housekeeping pass, so the old secret is not used for another round. */
static void senders_notified(const char *channel, const char *payload, void *ctx)
{
    (void)channel;
    (void)payload;
    wk_senders_refresh(ctx);
}

static void listen_connected(void *ctx)
{
    struct worker *w = ctx;
    /* Notifications sent while we were not listening are lost: look again. */
    for (struct wk_sender *s = w->senders; s; s = s->next)
        s->more = 1;
    wk_pump_all(w);
}

static void sealing_key_published(const struct tocsin_db_result *r, void *ctx)
{
    (void)ctx;
    if (r->error)
        log_warn("sealing_key_not_published", "reason=%s", tocsin_log_q(r->error));
}

/* The dashboard seals the carrier secrets an admin types with the public
 * half of the key pair derived from our key (lib/crypto.h); it reads it
 * from the table, so publish it at every start (the key may have changed). */
static void publish_sealing_key(struct worker *w)
{
    char param[67];
    if (!w->d->cfg.has_secret_key || tocsin_sealing_public_key_param(w->d->cfg.secret_key, param))
        return;
    const char *params[] = {param};
    tocsin_db_query(w->d->db, TOCSIN_SEALING_KEY_PUBLISH_SQL, 1, params, sealing_key_published, w);
}

static int worker_start(struct tocsin_daemon *d)
{
    struct worker *w = calloc(1, sizeof *w);
    if (!w)
        return -1;
    d->app = w;
    w->d = d;
    wk_dispatch_metrics_register();
    wk_outcomes_metrics_register();
    if (*d->cfg.worker_id) {
        snprintf(w->id, sizeof w->id, "%s", d->cfg.worker_id);
    } else {
        char host[64] = "localhost";
        gethostname(host, sizeof host - 1);
        snprintf(w->id, sizeof w->id, "%s:%d", host, (int)getpid());
    }
    if (d->cfg.worker_fake_now)
        w->clock_offset_s = (double)d->cfg.worker_fake_now - real_now();
    srand((unsigned)getpid() ^ (unsigned)real_now());
    w->http = tocsin_http_client_new(d->loop, d->cfg.worker_concurrency);
    if (!w->http)
        return -1;
    uv_timer_init(d->loop, &w->flush_timer);
    w->flush_timer.data = w;
    if (tocsin_db_listen(d->db, "tocsin_outbox", outbox_notified, w) != 0 ||
        tocsin_db_listen(d->db, "tocsin_senders", senders_notified, w) != 0)
        return -1;
    tocsin_db_on_listen_connected(d->db, listen_connected, w);
    wk_housekeeping_start(w);
    publish_sealing_key(w);
    log_info("worker_started", "worker_id=%s batch=%u concurrency=%u lease_s=%u fake_clock=%s",
             w->id, d->cfg.worker_batch, d->cfg.worker_concurrency, d->cfg.worker_lease_seconds,
             d->cfg.worker_fake_now ? "yes" : "no");
    return 0;
}

static void worker_stop(struct tocsin_daemon *d)
{
    struct worker *w = d->app;
    w->stopping = 1;
    wk_housekeeping_stop(w);
}

static void leases_gone(struct worker *w)
{
    void (*done)(struct tocsin_daemon *) = w->drained;
    w->drained = NULL;
    log_info("worker_drained", "worker_id=%s", w->id);
    if (done)
        done(w->d);
}

static void unsent_released(struct worker *w)
{
    w->releasing = 0;
    w->unsent_released = 1;
    wk_check_drained(w);
}

static int busy(const struct worker *w)
{
    if (w->in_flight > 0 || wk_outcomes_pending(w))
        return 1;
    for (const struct wk_sender *s = w->senders; s; s = s->next)
        if (s->claiming || s->marking)
            return 1;
    return 0;
}

/* A stop ends in order: nothing new is claimed or stamped; once every
 * claim, stamp, request and outcome write in flight has come back, what
 * is claimed but unsent goes back to the queue, then the dispatcher
 * leases are released, then the daemon closes. Called after each of
 * those completes. */
void wk_check_drained(struct worker *w)
{
    if (!w->stopping || !w->drained || w->releasing || busy(w))
        return;
    w->releasing = 1;
    if (!w->unsent_released)
        wk_release_unsent(w, NULL, unsent_released);
    else
        wk_accounts_release(w, leases_gone);
}

static void worker_drain(struct tocsin_daemon *d, void (*done)(struct tocsin_daemon *d))
{
    struct worker *w = d->app;
    w->drained = done;
    log_info("worker_draining", "in_flight=%u outcomes_pending=%d", w->in_flight,
             wk_outcomes_pending(w));
    wk_check_drained(w);
}

static void http_closed(void *arg)
{
    (void)arg;
}

static void worker_cleanup(struct tocsin_daemon *d)
{
    struct worker *w = d->app;
    if (!w)
        return;
    wk_senders_free(w);
    wk_outcomes_free(w);
    tocsin_http_client_close(w->http, http_closed, NULL);
    uv_close((uv_handle_t *)&w->housekeeping, NULL);
    uv_close((uv_handle_t *)&w->poll, NULL);
    uv_close((uv_handle_t *)&w->flush_timer, NULL);
    uv_run(d->loop, UV_RUN_DEFAULT);
    free(w);
}

static const struct tocsin_daemon_spec worker_spec = {
    .name = "worker",
    .summary =
        "Sends queued outbound messages through the carrier APIs, paced per sender and account.",
    .port = worker_port,
    .start = worker_start,
    .stop = worker_stop,
    .drain = worker_drain,
    .cleanup = worker_cleanup,
};

int main(int argc, char **argv)
{
    return tocsin_daemon_main(&worker_spec, argc, argv);
}
