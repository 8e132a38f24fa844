/* SPDX-License-Identifier: AGPL-3.0-or-later
 * main.c — tocsin-gateway: receives carrier webhooks (member messages and
 * delivery receipts). This file wires the daemon to the webhook routes. */
#include <stdlib.h>

#include "gateway.h"

static int gateway_port(const struct tocsin_config *cfg)
{
    return cfg->gateway_port;
}

static struct tocsin_metric m_limited =
    TOCSIN_METRIC_COUNTER("tocsin_gateway_rate_limited_total",
                          "authentic webhooks refused with 429 by the global limit", NULL);
static struct tocsin_metric m_junk = TOCSIN_METRIC_COUNTER(
    "tocsin_gateway_unverified_total",
    "webhooks that failed verification (bad signature, unknown sender, malformed)", NULL);

static void addr_key(struct tocsin_http_req *r, char key[TOCSIN_ADDR_KEY_LEN])
{
    tocsin_client_addr_key(tocsin_http_remote_addr(r), key);
}

int gw_suspect(struct gateway *g, struct tocsin_http_req *r)
{
    uint64_t now = uv_now(g->d->loop);
    char key[TOCSIN_ADDR_KEY_LEN];
    addr_key(r, key);
    return !tocsin_ratelimit_peek(g->junk_per_ip, key, now) ||
           !tocsin_ratelimit_peek(g->junk_global, "*", now);
}

void gw_junk(struct gateway *g, struct tocsin_http_req *r)
{
    uint64_t now = uv_now(g->d->loop);
    char key[TOCSIN_ADDR_KEY_LEN];
    addr_key(r, key);
    tocsin_metric_add(&m_junk, 1);
    tocsin_ratelimit_take(g->junk_per_ip, key, now);
    tocsin_ratelimit_take(g->junk_global, "*", now);
}

void gw_sender_refused(struct tocsin_http_req *r, int status, const char *why)
{
    if (status == 429)
        tocsin_http_add_header(r, "Retry-After", "1");
    tocsin_http_error(r, status, status == 429 ? "rate_limited" : "unavailable", "%s", why);
}

int gw_admit(struct gateway *g, struct tocsin_http_req *r)
{
    if (tocsin_ratelimit_take(g->authentic, "*", uv_now(g->d->loop)))
        return 1;
    tocsin_metric_add(&m_limited, 1);
    tocsin_http_add_header(r, "Retry-After", "1");
    tocsin_http_error(r, 429, "rate_limited", "too many requests; retry later");
    return 0;
}

static void gateway_cleanup(struct tocsin_daemon *d);

/* On failure everything made so far is freed: the loop never runs. */
static int gateway_start(struct tocsin_daemon *d)
{
    struct gateway *g = calloc(1, sizeof *g);
    if (!g)
        return -1;
    d->app = g;
    g->d = d;
    gw_statements_build(&g->sql);
    unsigned ip = d->cfg.gateway_rate_per_ip, all = d->cfg.gateway_rate_global;
    g->junk_per_ip = tocsin_ratelimit_new(ip, 2.0 * ip, 8192);
    g->junk_global = tocsin_ratelimit_new(all, 2.0 * all, 1);
    g->authentic = tocsin_ratelimit_new(all, 2.0 * all, 1);
    if (!g->junk_per_ip || !g->junk_global || !g->authentic)
        goto failed;
    tocsin_metric_register(&m_limited);
    tocsin_metric_register(&m_junk);
    gw_inbound_metrics_register();
    if (gw_batch_start(g) != 0 || gw_store_start(g) != 0 || gw_journal_start(g) != 0 ||
        gw_senders_start(g) != 0)
        goto failed;
    gw_twilio_routes(g);
    gw_telnyx_routes(g);
    return 0;
failed:
    gateway_cleanup(d);
    return -1;
}

static void gateway_stop(struct tocsin_daemon *d)
{
    struct gateway *g = d->app;
    gw_store_stop(g);
    gw_journal_stop(g);
}

/* After the loop ended (every handle is closed), or after a failed start
 * (the loop never runs). */
static void gateway_cleanup(struct tocsin_daemon *d)
{
    struct gateway *g = d->app;
    if (!g)
        return;
    gw_store_free(g);
    gw_batch_free(g);
    gw_journal_free(g);
    gw_senders_free(g);
    tocsin_ratelimit_free(g->junk_per_ip);
    tocsin_ratelimit_free(g->junk_global);
    tocsin_ratelimit_free(g->authentic);
    free(g);
    d->app = NULL;
}

/* Without the database the gateway still accepts webhooks into its spool:
 * healthy for a load balancer as long as the spool has room. */
static int gateway_spooling(struct tocsin_daemon *d)
{
    const struct gateway *g = d->app;
    return g && gw_store_can_spool(g);
}
static const struct tocsin_daemon_spec gateway_spec = {
    .name = "gateway",
    .summary = "Receives carrier webhooks: member messages and delivery receipts.",
    .port = gateway_port,
    .reuseport = 1, /* scale out: start more gateways on the same port */
    .start = gateway_start,
    .stop = gateway_stop,
    .works_without_db = gateway_spooling,
    .cleanup = gateway_cleanup,
};

int main(int argc, char **argv)
{
    return tocsin_daemon_main(&gateway_spec, argc, argv);
}
