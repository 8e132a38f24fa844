/* SPDX-License-Identifier: AGPL-3.0-or-later
 * main.c — tocsin-gateway: receives carrier webhooks (member messages and
 * delivery receipts). This file wires the daemon to the webhook routes. */
#include "gateway.h"

static struct gateway gateway;

static int gateway_port(const struct tocsin_config *cfg)
{
    return cfg->gateway_port;
}

static int gateway_start(struct tocsin_daemon *d)
{
    gateway.d = d;
    gw_twilio_routes(&gateway);
    gw_telnyx_routes(&gateway);
    return 0;
}

static void gateway_cleanup(struct tocsin_daemon *d)
{
    (void)d;
    gw_senders_free();
}

static const struct tocsin_daemon_spec gateway_spec = {
    .name = "gateway",
    .summary = "Receives carrier webhooks: member messages and delivery receipts.",
    .port = gateway_port,
    .reuseport = 1, /* scale out: start more gateways on the same port */
    .start = gateway_start,
    .cleanup = gateway_cleanup,
};

int main(int argc, char **argv)
{
    return tocsin_daemon_main(&gateway_spec, argc, argv);
}
