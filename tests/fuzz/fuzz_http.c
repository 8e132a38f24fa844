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

static void json_route(struct tocsin_http_req *r, void *ctx)
{
    (void)ctx;
    char err[128];
    json_t *j = tocsin_http_json(r, err, sizeof err);
    if (!j) {
        tocsin_http_error(r, 400, "bad_json", "%s", err);
        return;
    }
    tocsin_http_respond_json(r, 200, j);
}

static void query_route(struct tocsin_http_req *r, void *ctx)
{
    (void)ctx;
    struct tocsin_kv *kv;
    size_t n;
    char err[128];
    if (tocsin_http_form(r, 1, &kv, &n, err, sizeof err)) {
        tocsin_http_error(r, 400, "bad_form", "%s", err);
        return;
    }
    tocsin_str v = tocsin_form_get(kv, n, "v");
    tocsin_http_add_header(r, "X-Fields", n ? "some" : "none");
    tocsin_http_respond(r, 200, "text/plain", v.base, v.len);
}

static void stream_route(struct tocsin_http_req *r, void *ctx)
{
    (void)ctx;
    tocsin_str b = tocsin_http_query(r);
    tocsin_http_stream_begin(r, 200, "text/event-stream");
    tocsin_http_stream_write(r, b.base, b.len);
    tocsin_http_stream_end(r);
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
        tocsin_http_route(server, "POST", "/json", json_route, NULL);
        tocsin_http_route(server, "GET", "/q", query_route, NULL);
        tocsin_http_route(server, "GET", "/stream", stream_route, NULL);
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
