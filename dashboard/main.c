/* SPDX-License-Identifier: AGPL-3.0-or-later
 * main.c — tocsin-dashboard: the volunteer inbox and campaign tools (JSON
 * API under /api/ and the static web app). This file wires the daemon,
 * the static files, the API, live events and auto-release together. */
#include <stdlib.h>
#include <string.h>

#include "dashboard.h"
#include "log.h"
#include "ratelimit.h"
#include "sso.h"
#include "static_files.h"

/* Login attempts: per account 5 at once, then one per 15 s (at most 240 an
 * hour); per client address (an IPv6 /64) 30 at once, then one per 10 s
 * (an office behind one NAT shares it). A refused attempt waits at most
 * one interval, so a correct password is never locked out for longer than
 * 15 s whoever is guessing. In memory: the dashboard is one process, so
 * counts held here see every attempt; a flood costs no database writes;
 * a restart forgets them, which argon2id's cost still makes affordable. */
#define LOGIN_BURST_PER_ACCOUNT 5
#define LOGIN_INTERVAL_PER_ACCOUNT_MS 15000
#define LOGIN_BURST_PER_ADDRESS 30
#define LOGIN_INTERVAL_PER_ADDRESS_MS 10000
/* Second-factor codes, per user: 5 at once, then one a minute. A guesser
 * who has the password wins with 3 in 10^6 per try (a code is good for
 * three steps): at most 1,445 tries a day, 0.43 %. */
#define CODE_BURST_PER_USER 5
#define CODE_INTERVAL_PER_USER_MS 60000
/* Single sign-on starts per client address: 60 at once (an office behind
 * one NAT at nine o'clock), then one a second. Each start keeps a row until
 * it expires, so this also bounds what one address can make the table hold;
 * a callback needs a live state, which only a start makes. */
#define SSO_BURST_PER_ADDRESS 60
#define SSO_INTERVAL_PER_ADDRESS_MS 1000

static int dashboard_port(const struct tocsin_config *cfg)
{
    return cfg->dashboard_port;
}

static int dashboard_start(struct tocsin_daemon *d)
{
    const char *dir =
        *d->cfg.dashboard_static_dir ? d->cfg.dashboard_static_dir : TOCSIN_STATIC_DIR;
    struct dashboard *dash = calloc(1, sizeof *dash);
    if (!dash)
        return -1;
    d->app = dash;
    dash->d = d;
    dash->secure_cookies = strncmp(d->cfg.dashboard_url, "https://", 8) == 0;
    dash->static_files = dash_static_files_load(dir);
    dash->throttle =
        tocsin_ratelimit_new(1000.0 / LOGIN_INTERVAL_PER_ACCOUNT_MS, LOGIN_BURST_PER_ACCOUNT, 8192);
    dash->throttle_ip =
        tocsin_ratelimit_new(1000.0 / LOGIN_INTERVAL_PER_ADDRESS_MS, LOGIN_BURST_PER_ADDRESS, 8192);
    dash->throttle_code =
        tocsin_ratelimit_new(1000.0 / CODE_INTERVAL_PER_USER_MS, CODE_BURST_PER_USER, 8192);
    dash->sso_throttle =
        tocsin_ratelimit_new(1000.0 / SSO_INTERVAL_PER_ADDRESS_MS, SSO_BURST_PER_ADDRESS, 8192);
    dash->events = dash_events_new(dash);
    dash->sso = sso_cache_new(dash);
    if (!dash->static_files || !dash->throttle || !dash->throttle_ip || !dash->throttle_code ||
        !dash->events || !dash->sso || !dash->sso_throttle ||
        dash_password_init(d->loop, d->cfg.dashboard_password_concurrency,
                           d->cfg.dashboard_password_queue) != 0 ||
        dash_events_start(dash->events) != 0) {
        log_error("dashboard_start_failed", "reason=\"out of memory or bad static folder\"");
        return -1;
    }
    dash_static_files_routes(dash->static_files, d->http);
    api_register(dash);
    sso_routes(dash);
    dash_release_start(dash);
    return 0;
}

static void dashboard_stop(struct tocsin_daemon *d)
{
    struct dashboard *dash = d->app;
    dash_events_stop(dash->events);
    dash_release_stop(dash);
}

static void dashboard_cleanup(struct tocsin_daemon *d)
{
    struct dashboard *dash = d->app;
    if (!dash)
        return;
    dash_static_files_free(dash->static_files);
    tocsin_ratelimit_free(dash->throttle);
    tocsin_ratelimit_free(dash->throttle_ip);
    tocsin_ratelimit_free(dash->throttle_code);
    tocsin_ratelimit_free(dash->sso_throttle);
    if (dash->sso) {
        /* The back channel's client closes its handles on the loop, as the
         * worker's does. */
        sso_cache_free(dash->sso);
        uv_run(d->loop, UV_RUN_DEFAULT);
    }
    dash_events_free(dash->events);
    free(dash);
}

static const struct tocsin_daemon_command dashboard_commands[] = {
    {"--routes", "print the /api/ route table: method, path, least role, access, handler",
     api_routes_print},
    {NULL, NULL, NULL},
};

static const struct tocsin_daemon_spec dashboard_spec = {
    .name = "dashboard",
    .summary = "Serves the volunteer inbox and the campaign tools (web app and /api/).",
    .port = dashboard_port,
    .commands = dashboard_commands,
    .refuses_secret_key = 1,
    .check_config = tocsin_config_check_region,
    .start = dashboard_start,
    .stop = dashboard_stop,
    .cleanup = dashboard_cleanup,
};

int main(int argc, char **argv)
{
    return tocsin_daemon_main(&dashboard_spec, argc, argv);
}
