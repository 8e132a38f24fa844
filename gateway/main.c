/* SPDX-License-Identifier: AGPL-3.0-or-later
 * main.c — tocsin-gateway: receives carrier webhooks (member messages and
 * delivery receipts). This file wires the daemon; the webhook handlers
 * arrive with the gateway issue. */
#include "daemon.h"

static int gateway_port(const struct tocsin_config *cfg)
{
    return cfg->gateway_port;
}

static int gateway_start(struct tocsin_daemon *d)
{
    (void)d;
    return 0;
}

static const struct tocsin_daemon_spec gateway_spec = {
    .name = "gateway",
    .summary = "Receives carrier webhooks: member messages and delivery receipts.",
    .port = gateway_port,
    .reuseport = 1, /* scale out: start more gateways on the same port */
    .start = gateway_start,
};

int main(int argc, char **argv)
{
    return tocsin_daemon_main(&gateway_spec, argc, argv);
}
