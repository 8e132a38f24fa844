/* SPDX-License-Identifier: AGPL-3.0-or-later
 * test_http_lifecycle.c — a server's own life, on the test's thread and
 * loop (turned by hand between blocking client calls): the connection cap,
 * and a clean close that waits for a pending handler, answers it with
 * "Connection: close", closes idle connections at once and leaves no
 * handle on the loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "http.h"
#include "http_test_client.h"
#include "log.h"

struct later {
    uv_timer_t timer;
    struct tocsin_http_req *req;
};

static void later_closed(uv_handle_t *h)
{
    free(h->data);
}

static void h_hello(struct tocsin_http_req *r, void *ctx)
{
    (void)ctx;
    tocsin_http_respond(r, 200, "text/plain", "hello", 5);
}

struct local {
    uv_loop_t loop;
    struct tocsin_http_server *s;
    int closed;
    int handled;
};

static void local_closed(void *arg)
{
    ((struct local *)arg)->closed = 1;
}

static void h_local_later_fire(uv_timer_t *t)
{
    struct later *l = t->data;
    tocsin_http_respond(l->req, 200, "text/plain", "later", 5);
    uv_close((uv_handle_t *)&l->timer, later_closed);
}

static void h_local_later(struct tocsin_http_req *r, void *ctx)
{
    struct local *lo = ctx;
    lo->handled++;
    struct later *l = calloc(1, sizeof *l);
    l->req = r;
    uv_timer_init(&lo->loop, &l->timer);
    l->timer.data = l;
    uv_timer_start(&l->timer, h_local_later_fire, 100, 0);
}

static void local_start(struct local *lo, unsigned max_connections)
{
    memset(lo, 0, sizeof *lo);
    uv_loop_init(&lo->loop);
    struct tocsin_http_options o;
    tocsin_http_options_from_config(&o, NULL);
    o.max_connections = max_connections;
    o.access_log = 0;
    lo->s = tocsin_http_server_new(&lo->loop, &o);
    tocsin_http_route(lo->s, "GET", "/hello", h_hello, NULL);
    tocsin_http_route(lo->s, "GET", "/later", h_local_later, lo);
    assert_int_equal(tocsin_http_listen(lo->s, "127.0.0.1", 0), 0);
}

static void local_spin(struct local *lo, int ms)
{
    for (int i = 0; i < ms; i++) {
        uv_run(&lo->loop, UV_RUN_NOWAIT);
        struct timespec pause = {0, 1000 * 1000};
        nanosleep(&pause, NULL);
    }
}

static int local_client(struct local *lo)
{
    return test_client(tocsin_http_port(lo->s));
}

static void test_max_connections(void **state)
{
    (void)state;
    struct local lo;
    local_start(&lo, 2);
    int a = local_client(&lo), b = local_client(&lo), c = local_client(&lo);
    local_spin(&lo, 50);
    assert_int_equal(tocsin_http_connections(lo.s), 2);
    assert_true(peer_closed(c)); /* the third was accepted and closed */
    send_str(a, "GET /hello HTTP/1.1\r\n\r\n");
    send_str(b, "GET /hello HTTP/1.1\r\n\r\n");
    local_spin(&lo, 50);
    assert_non_null(strstr(read_responses(a, 1), "200 OK"));
    assert_non_null(strstr(read_responses(b, 1), "200 OK"));
    close(a);
    close(b);
    close(c);
    tocsin_http_server_close(lo.s, local_closed, &lo);
    local_spin(&lo, 50);
    assert_true(lo.closed);
    assert_int_equal(uv_loop_close(&lo.loop), 0);
}

static void test_server_close_is_clean(void **state)
{
    (void)state;
    struct local lo;
    local_start(&lo, 100);
    int idle = local_client(&lo), busy = local_client(&lo);
    send_str(busy, "GET /later HTTP/1.1\r\n\r\n");
    for (int i = 0; i < 1000 && !lo.handled; i++)
        local_spin(&lo, 1);
    assert_int_equal(lo.handled, 1);
    tocsin_http_server_close(lo.s, local_closed, &lo);
    local_spin(&lo, 20);
    assert_false(lo.closed); /* a handler still holds a request */
    assert_true(peer_closed(idle));
    for (int i = 0; i < 1000 && !lo.closed; i++)
        local_spin(&lo, 1);
    assert_true(lo.closed);
    const char *r = read_responses(busy, -1); /* answered, then closed */
    assert_non_null(strstr(r, "HTTP/1.1 200 OK"));
    assert_non_null(strstr(r, "Connection: close\r\n"));
    assert_non_null(strstr(r, "\r\n\r\nlater"));
    close(idle);
    close(busy);
    assert_int_equal(uv_loop_close(&lo.loop), 0); /* no handle left behind */
}

int main(void)
{
    tocsin_log_init("test", getenv("TEST_DEBUG") ? TOCSIN_LOG_DEBUG : TOCSIN_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_max_connections),
        cmocka_unit_test(test_server_close_is_clean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
