/* SPDX-License-Identifier: AGPL-3.0-or-later
 * fuzz_http.c — feeds arbitrary bytes through the HTTP layer's real
 * connection code (parsing, limits, routing, responses) on a connection
 * with no socket. The first byte splits the input in two feeds, so
 * requests cut at any point are exercised too. */
#include <stdint.h>
#include <string.h>

#include "http.h"
#include "log.h"

static void echo(struct tocsin_http_req *r, void *ctx)
{
    (void)ctx;
    struct tocsin_kv *kv;
    size_t n;
    char err[128];
    if (tocsin_http_form(r, 0, &kv, &n, err, sizeof err) == 0 && n > 0 &&
        tocsin_form_get(kv, n, "json").base) {
        json_t *j = tocsin_http_json(r, err, sizeof err);
        json_decref(j);
    }
    tocsin_str b = tocsin_http_body(r);
    tocsin_http_respond(r, 200, "text/plain", b.base, b.len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uv_loop_t loop;
    static struct tocsin_http_server *server;
    if (!server) {
        tocsin_log_init("fuzz", TOCSIN_LOG_ERROR);
        uv_loop_init(&loop);
        struct tocsin_http_options o;
        tocsin_http_options_from_config(&o, NULL);
        o.max_header_bytes = 1024;
        o.max_body_bytes = 2048;
        o.access_log = 0;
        server = tocsin_http_server_new(&loop, &o);
        tocsin_http_route(server, "POST", "/echo", echo, NULL);
        tocsin_http_route(server, "GET", "/api/*", echo, NULL);
        tocsin_http_add_standard_routes(server, NULL, NULL);
    }
    struct tocsin_http_conn *c = tocsin_http_test_conn_new(server);
    if (!c)
        return 0;
    size_t split = size ? data[0] % (size + 1) : 0;
    if (size)
        data++, size--;
    if (split > size)
        split = size;
    if (tocsin_http_test_conn_feed(c, (const char *)data, split) == 0)
        tocsin_http_test_conn_feed(c, (const char *)data + split, size - split);
    tocsin_http_test_conn_free(c);
    return 0;
}
