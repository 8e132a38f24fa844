/* SPDX-License-Identifier: AGPL-3.0-or-later
 * main.c — tocsin-worker: sends queued outbound messages through carrier
 * APIs. This file wires the daemon (metrics port, database, wake-ups on the
 * tocsin_outbox channel); claiming and sending arrive with the worker issue. */
#include "daemon.h"
#include "log.h"

static int worker_port(const struct tocsin_config *cfg)
{
    return cfg->worker_metrics_port;
}

static void outbox_notified(const char *channel, const char *payload, void *ctx)
{
    (void)ctx;
    log_debug("outbox_wakeup", "channel=%s sender=%s", channel, payload);
}

static int worker_start(struct tocsin_daemon *d)
{
    return tocsin_db_listen(d->db, "tocsin_outbox", outbox_notified, d);
}

static const struct tocsin_daemon_spec worker_spec = {
    .name = "worker",
    .summary = "Sends queued outbound messages through the carrier APIs.",
    .port = worker_port,
    .start = worker_start,
};

int main(int argc, char **argv)
{
    return tocsin_daemon_main(&worker_spec, argc, argv);
}
