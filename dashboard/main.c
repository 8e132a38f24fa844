/* SPDX-License-Identifier: AGPL-3.0-or-later
 * main.c — tocsin-dashboard: the volunteer inbox and campaign tools (JSON
 * API under /api/ and the static web app). This file wires the daemon and
 * the static files; the API arrives with the dashboard issue. */
#include "daemon.h"
#include "static_files.h"

static int dashboard_port(const struct tocsin_config *cfg)
{
    return cfg->dashboard_port;
}

static int dashboard_start(struct tocsin_daemon *d)
{
    const char *dir = *d->cfg.dashboard_static_dir ? d->cfg.dashboard_static_dir : TOCSIN_STATIC_DIR;
    struct static_files *sf = static_files_load(dir);
    if (!sf)
        return -1;
    d->app = sf;
    static_files_routes(sf, d->http);
    return 0;
}

static void dashboard_cleanup(struct tocsin_daemon *d)
{
    static_files_free(d->app);
}

static const struct tocsin_daemon_spec dashboard_spec = {
    .name = "dashboard",
    .summary = "Serves the volunteer inbox and the campaign tools (web app and /api/).",
    .port = dashboard_port,
    .start = dashboard_start,
    .cleanup = dashboard_cleanup,
};

int main(int argc, char **argv)
{
    return tocsin_daemon_main(&dashboard_spec, argc, argv);
}
