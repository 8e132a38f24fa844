/* SPDX-License-Identifier: AGPL-3.0-or-later
 * main.c — tocsin-gateway: receives carrier webhooks (member messages and
 * delivery receipts). This file wires the daemon to the webhook routes. */
#include "gateway.h"

static struct gateway gateway;

static int gateway_port(const struct tocsin_config *cfg)
{
    return cfg->gateway_port;
}

static struct tocsin_metric m_limited = TOCSIN_METRIC_COUNTER(
    "tocsin_gateway_rate_limited_total", "authentic webhooks refused with 429 by the global limit", NULL);
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

static int gateway_start(struct tocsin_daemon *d)
{
    gateway.d = d;
    gw_statements_build(&gateway.sql);
    unsigned ip = d->cfg.gateway_rate_per_ip, all = d->cfg.gateway_rate_global;
    gateway.junk_per_ip = tocsin_ratelimit_new(ip, 2.0 * ip, 8192);
    gateway.junk_global = tocsin_ratelimit_new(all, 2.0 * all, 1);
    gateway.authentic = tocsin_ratelimit_new(all, 2.0 * all, 1);
    if (!gateway.junk_per_ip || !gateway.junk_global || !gateway.authentic)
        return -1;
    tocsin_metric_register(&m_limited);
    tocsin_metric_register(&m_junk);
    gw_inbound_metrics_register();
    if (gw_batch_start(&gateway) != 0 || gw_store_start(&gateway) != 0 || gw_journal_start(&gateway) != 0 ||
        gw_senders_start(&gateway) != 0)
        return -1;
    gw_twilio_routes(&gateway);
    gw_telnyx_routes(&gateway);
    return 0;
}

static void gateway_stop(struct tocsin_daemon *d)
{
    (void)d;
    gw_store_stop(&gateway);
    gw_journal_stop();
}

static void gateway_cleanup(struct tocsin_daemon *d)
{
    (void)d;
    gw_store_free();
    gw_senders_free();
    tocsin_ratelimit_free(gateway.junk_per_ip);
    tocsin_ratelimit_free(gateway.junk_global);
    tocsin_ratelimit_free(gateway.authentic);
}

/* Without the database the gateway still accepts webhooks into its spool:
 * healthy for a load balancer as long as the spool has room. */
static int gateway_spooling(struct tocsin_daemon *d)
{
    (void)d;
    return gateway.d && gw_store_can_spool(&gateway);
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
