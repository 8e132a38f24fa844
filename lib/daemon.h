/* SPDX-License-Identifier: AGPL-3.0-or-later
 * daemon.h — what every Tocsin daemon does the same way: --help,
 * --version and --config-markdown, configuration from the environment, logging, the libuv loop,
 * the database pool, the HTTP server with /healthz (503 while the database
 * is down) and /metrics, and a clean stop on SIGTERM/SIGINT (stop taking
 * work, finish in-flight requests and queries, close, exit 0). A daemon
 * supplies a spec with its name, port and start/stop hooks. */
#ifndef TOCSIN_DAEMON_H
#define TOCSIN_DAEMON_H

#include <stdio.h>

#include <uv.h>

#include "config.h"
#include "db.h"
#include "http.h"

struct tocsin_daemon;

/* A flag that prints something about the daemon and exits 0 without
 * loading configuration (--routes of the dashboard). */
struct tocsin_daemon_command {
    const char *flag; /* "--routes" */
    const char *help; /* one line for --help */
    void (*run)(FILE *out);
};

struct tocsin_daemon_spec {
    const char *name;    /* "gateway": binary tocsin-gateway, log component */
    const char *summary; /* one line for --help */
    int (*port)(const struct tocsin_config *cfg);
    /* The daemon's own commands besides --help, --version and
     * --config-markdown; terminated by a NULL flag. May be NULL. */
    const struct tocsin_daemon_command *commands;
    int reuseport; /* several processes may share the port (SO_REUSEPORT) */
    /* 1 for a daemon that never opens carrier credentials (the dashboard):
     * it refuses to start when their key is in its environment, where
     * /proc/<pid>/environ and core dumps of a process facing browsers
     * would show it. */
    int refuses_secret_key;
    /* Optional: the daemon's own check of the loaded configuration, 0 or -1
     * with a message in err (the dashboard reads numbers people typed:
     * tocsin_config_check_region). A pointer, not a flag, so a daemon that
     * never checks (the worker) links neither the check nor the phone shim
     * and libphonenumber behind it. May be NULL. */
    int (*check_config)(const struct tocsin_config *cfg, char *err, size_t errlen);
    /* Registers routes and starts the daemon's own work; returns 0, or -1
     * (after logging why) to exit with status 1. */
    int (*start)(struct tocsin_daemon *d);
    /* Stops taking new work; called once on SIGTERM/SIGINT before the HTTP
     * server and the database close. May be NULL. */
    void (*stop)(struct tocsin_daemon *d);
    /* Optional: 1 when the daemon still does its job while the database
     * is unreachable (the gateway, while its spool has room), so /healthz
     * stays 200 and a load balancer keeps sending it work. May be NULL. */
    int (*works_without_db)(struct tocsin_daemon *d);
    /* Optional: finishes in-flight work (e.g. carrier requests whose
     * outcomes must be written) while the database is still open, then
     * calls done(d) exactly once; the HTTP server and database close after
     * that. Called right after stop. May be NULL. */
    void (*drain)(struct tocsin_daemon *d, void (*done)(struct tocsin_daemon *d));
    /* Frees the daemon's own state after the loop ended. May be NULL. */
    void (*cleanup)(struct tocsin_daemon *d);
};

struct tocsin_daemon {
    const struct tocsin_daemon_spec *spec;
    uv_loop_t *loop;
    struct tocsin_config cfg;
    struct tocsin_db *db;
    struct tocsin_http_server *http;
    void *app; /* the daemon's own state */
    uv_signal_t sigterm, sigint;
    int stopping;
};

/* Ignores SIGPIPE for the whole process: a write to a peer that has gone
 * (a client's socket, a closed stderr pipe) then fails with EPIPE, which
 * the caller handles, instead of killing the daemon. libuv writes with
 * write(2), not send(MSG_NOSIGNAL). Returns 0, or -1 (errno set). */
int tocsin_ignore_sigpipe(void);

/* Runs the daemon; returns the process exit status (0 after a clean stop,
 * 1 on a startup failure, 2 on bad arguments or configuration). */
int tocsin_daemon_main(const struct tocsin_daemon_spec *spec, int argc, char **argv);

#endif
