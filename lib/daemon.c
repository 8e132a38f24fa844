/* SPDX-License-Identifier: AGPL-3.0-or-later
 * daemon.c — the shared main() of tocsin-gateway, -worker and -dashboard. */
#include "daemon.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "log.h"

#define TOCSIN_VERSION "0.1.0"

int tocsin_ignore_sigpipe(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    return sigaction(SIGPIPE, &sa, NULL);
}

static void daemon_usage(const struct tocsin_daemon_spec *spec, FILE *f)
{
    fprintf(f, "Usage: tocsin-%s [--help | --version | --config-markdown", spec->name);
    for (const struct tocsin_daemon_command *c = spec->commands; c && c->flag; c++)
        fprintf(f, " | %s", c->flag);
    fprintf(f,
            "]\n\n%s\n\n"
            "Listens on TOCSIN_BIND_ADDR; serves GET /healthz (503 while the database is\n"
            "unreachable) and GET /metrics (Prometheus). Stops cleanly on SIGTERM or SIGINT.\n"
            "Configuration comes from the environment only.\n\n"
            "  --config-markdown  print the configuration table of README.md\n",
            spec->summary);
    for (const struct tocsin_daemon_command *c = spec->commands; c && c->flag; c++)
        fprintf(f, "  %-17s  %s\n", c->flag, c->help);
    fputc('\n', f);
    tocsin_config_print_help(f);
}

/* Runs the command argv names; 0 when it is one, -1 otherwise. */
static int daemon_command(const struct tocsin_daemon_spec *spec, const char *arg)
{
    if (strcmp(arg, "--config-markdown") == 0) {
        tocsin_config_print_markdown(stdout);
        return 0;
    }
    for (const struct tocsin_daemon_command *c = spec->commands; c && c->flag; c++)
        if (strcmp(arg, c->flag) == 0) {
            c->run(stdout);
            return 0;
        }
    return -1;
}

static const char *daemon_health(void *ctx)
{
    struct tocsin_daemon *d = ctx;
    static char reason[300];
    if (d->stopping)
        return "shutting down";
    if (tocsin_db_ready(d->db))
        return NULL;
    if (d->spec->works_without_db && d->spec->works_without_db(d))
        return NULL;
    snprintf(reason, sizeof reason, "database connection is down: %s",
             tocsin_db_last_error(d->db)[0] ? tocsin_db_last_error(d->db) : "connecting");
    return reason;
}

static void db_closed(void *arg)
{
    struct tocsin_daemon *d = arg;
    d->db = NULL;
    uv_close((uv_handle_t *)&d->sigterm, NULL);
    uv_close((uv_handle_t *)&d->sigint, NULL);
}

static void http_closed(void *arg)
{
    struct tocsin_daemon *d = arg;
    d->http = NULL;
    tocsin_db_close(d->db, db_closed, d);
}

static void drained(struct tocsin_daemon *d)
{
    tocsin_http_server_close(d->http, http_closed, d);
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct tocsin_daemon *d = s->data;
    if (d->stopping) {
        log_warn("shutdown_forced", "signal=%d", signum);
        exit(1);
    }
    d->stopping = 1;
    log_info("shutdown", "signal=%d", signum);
    if (d->spec->stop)
        d->spec->stop(d);
    if (d->spec->drain)
        d->spec->drain(d, drained);
    else
        drained(d);
}

int tocsin_daemon_main(const struct tocsin_daemon_spec *spec, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            daemon_usage(spec, stdout);
            return 0;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("tocsin-%s %s\n", spec->name, TOCSIN_VERSION);
            return 0;
        }
        if (daemon_command(spec, argv[i]) == 0)
            return 0;
        fprintf(stderr, "tocsin-%s: unknown argument \"%s\" (see --help)\n", spec->name, argv[i]);
        return 2;
    }
    struct tocsin_daemon d;
    memset(&d, 0, sizeof d);
    d.spec = spec;
    char err[256];
    if (spec->refuses_secret_key && tocsin_config_has_secret_key_setting()) {
        fprintf(
            stderr,
            "tocsin-%s: TOCSIN_SECRET_KEY or TOCSIN_SECRET_KEY_FILE is set, but this daemon never "
            "opens carrier credentials and must not hold their key: start it without them "
            "(ops/daemon-exec %s ...)\n",
            spec->name, spec->name);
        return 2;
    }
    if (tocsin_config_load(&d.cfg, err, sizeof err) ||
        (spec->check_config && spec->check_config(&d.cfg, err, sizeof err))) {
        fprintf(stderr, "tocsin-%s: %s\n", spec->name, err);
        return 2;
    }
    tocsin_log_init(spec->name, d.cfg.log_level);
    if (tocsin_ignore_sigpipe()) {
        log_error("startup_failed", "reason=\"could not ignore SIGPIPE\"");
        return 1;
    }
    if (tocsin_crypto_init()) {
        log_error("startup_failed", "reason=\"could not initialise libsodium\"");
        return 1;
    }
    d.loop = uv_default_loop();
    struct tocsin_db_options dbo = {.conninfo = d.cfg.database_url,
                                    .pool_size = d.cfg.db_pool_size,
                                    .reconnect_max_ms = d.cfg.db_reconnect_max_ms};
    d.db = tocsin_db_new(d.loop, &dbo);
    struct tocsin_http_options ho;
    tocsin_http_options_from_config(&ho, &d.cfg);
    ho.reuseport = spec->reuseport;
    d.http = tocsin_http_server_new(d.loop, &ho);
    if (!d.db || !d.http) {
        log_error("startup_failed", "reason=\"out of memory\"");
        return 1;
    }
    tocsin_http_add_standard_routes(d.http, daemon_health, &d);
    if (spec->start(&d) != 0)
        return 1;
    int port = spec->port(&d.cfg);
    if (tocsin_http_listen(d.http, d.cfg.bind_addr, port) != 0)
        return 1;
    uv_signal_init(d.loop, &d.sigterm);
    uv_signal_init(d.loop, &d.sigint);
    d.sigterm.data = d.sigint.data = &d;
    uv_signal_start(&d.sigterm, on_signal, SIGTERM);
    uv_signal_start(&d.sigint, on_signal, SIGINT);
    log_info("started", "version=%s port=%d", TOCSIN_VERSION, port);
    uv_run(d.loop, UV_RUN_DEFAULT);
    if (spec->cleanup)
        spec->cleanup(&d);
    uv_loop_close(d.loop);
    log_info("stopped", NULL);
    return 0;
}
