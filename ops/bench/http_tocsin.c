/* SPDX-License-Identifier: AGPL-3.0-or-later
 * http_tocsin.c — the same "hello" as http_hello.c, served through lib/'s
 * HTTP layer (routing, limits, timers, arena, metrics; access log off as
 * in production at this rate). Usage: bench_http_tocsin PORT */
#include <stdlib.h>

#include "http.h"
#include "log.h"

static void hello(struct tocsin_http_req *r, void *ctx)
{
    (void)ctx;
    tocsin_http_respond(r, 200, "text/plain", "hello", 5);
}

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 8098;
    tocsin_log_init("bench", TOCSIN_LOG_WARN);
    uv_loop_t *loop = uv_default_loop();
    struct tocsin_http_options o;
    tocsin_http_options_from_config(&o, NULL);
    o.access_log = 0;
    struct tocsin_http_server *s = tocsin_http_server_new(loop, &o);
    tocsin_http_route(s, "GET", "/hello", hello, NULL);
    tocsin_http_add_standard_routes(s, NULL, NULL);
    if (tocsin_http_listen(s, "127.0.0.1", port))
        return 1;
    return uv_run(loop, UV_RUN_DEFAULT);
}
