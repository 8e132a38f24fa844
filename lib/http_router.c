/* SPDX-License-Identifier: AGPL-3.0-or-later
 * http_router.c — routing by method and path (exact, then longest prefix),
 * 404/405 answers, and the standard /healthz and /metrics routes. */
#include "http_internal.h"

#include <stdlib.h>
#include <string.h>

#include "metrics.h"

int tocsin_http_route(struct tocsin_http_server *s, const char *method, const char *path,
                      tocsin_http_handler handler, void *ctx)
{
    if (s->nroutes == HTTP_MAX_ROUTES || path[0] != '/')
        return -1;
    struct http_route *rt = &s->routes[s->nroutes++];
    size_t len = strlen(path);
    rt->method = method;
    rt->path = path;
    rt->prefix = len >= 2 && path[len - 1] == '*' && path[len - 2] == '/';
    rt->path_len = rt->prefix ? len - 1 : len;
    rt->handler = handler;
    rt->ctx = ctx;
    return 0;
}

static int route_matches_path(const struct http_route *rt, tocsin_str path)
{
    if (rt->prefix)
        return path.len >= rt->path_len && memcmp(path.base, rt->path, rt->path_len) == 0;
    return path.len == rt->path_len && memcmp(path.base, rt->path, path.len) == 0;
}

void http_dispatch(struct tocsin_http_server *s, struct tocsin_http_req *r)
{
    const struct http_route *best = NULL;
    int path_known = 0;
    char allow[128] = "";
    for (size_t i = 0; i < s->nroutes; i++) {
        const struct http_route *rt = &s->routes[i];
        if (!route_matches_path(rt, r->path))
            continue;
        path_known = 1;
        if (!tocsin_str_eq(r->method, tocsin_str_from(rt->method))) {
            size_t n = strlen(allow);
            if (!strstr(allow, rt->method))
                snprintf(allow + n, sizeof allow - n, "%s%s", n ? ", " : "", rt->method);
            continue;
        }
        if (!best || (best->prefix && !rt->prefix) ||
            (best->prefix && rt->prefix && rt->path_len > best->path_len))
            best = rt;
    }
    if (best) {
        r->route_tail =
            best->prefix ? (tocsin_str){r->path.base + best->path_len, r->path.len - best->path_len}
                         : TSTR("");
        best->handler(r, best->ctx);
        return;
    }
    if (path_known) {
        tocsin_http_add_header(r, "Allow", allow);
        tocsin_http_error(r, 405, "method_not_allowed", "method %.*s is not allowed here",
                          (int)r->method.len, r->method.base);
        return;
    }
    tocsin_http_error(r, 404, "not_found", "no such resource");
}

/* --- /healthz and /metrics --- */

static void healthz(struct tocsin_http_req *r, void *ctx)
{
    struct tocsin_http_server *s = ctx;
    const char *problem = s->health ? s->health(s->health_ctx) : NULL;
    if (problem)
        tocsin_http_respond_json(
            r, 503, json_pack("{s:s,s:s}", "status", "unavailable", "reason", problem));
    else
        tocsin_http_respond_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

static double open_connections(void *ctx)
{
    return ((struct tocsin_http_server *)ctx)->nconns;
}

static struct tocsin_metric metric_connections =
    TOCSIN_METRIC_GAUGE("tocsin_http_open_connections", "open HTTP connections", NULL);

static void metrics(struct tocsin_http_req *r, void *ctx)
{
    (void)ctx;
    size_t need = tocsin_metrics_render(NULL, 0) + 1;
    char *buf = tocsin_arena_alloc(&r->arena, need);
    if (!buf) {
        tocsin_http_error(r, 503, "out_of_memory", "could not render metrics");
        return;
    }
    size_t len = tocsin_metrics_render(buf, need);
    tocsin_http_respond(r, 200, "text/plain; version=0.0.4; charset=utf-8", buf, len);
}

void tocsin_http_add_standard_routes(struct tocsin_http_server *s, tocsin_http_health_fn health,
                                     void *ctx)
{
    s->health = health;
    s->health_ctx = ctx;
    metric_connections.read = open_connections;
    metric_connections.read_ctx = s;
    tocsin_metric_register(&metric_connections);
    tocsin_http_route(s, "GET", "/healthz", healthz, s);
    tocsin_http_route(s, "GET", "/metrics", metrics, s);
}
