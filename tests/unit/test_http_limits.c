/* SPDX-License-Identifier: AGPL-3.0-or-later
 * test_http_limits.c — hostile clients against the HTTP server's memory
 * caps: header values padded with spaces (which llhttp skips and the old
 * count missed), many tiny headers, a head that never ends, and a slow
 * drip of unfinished heads on many connections at once against the
 * server-wide cap on buffered bytes (503), after which the server serves
 * again. The server runs on its own thread (http_test_server.h); the tests
 * are blocking clients. */
#define _DEFAULT_SOURCE /* usleep */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http.h"
#include "http_test_client.h"
#include "http_test_server.h"

#define MAX_HEADER 2048
#define MAX_BUFFERED (256 * 1024)

static struct test_server srv;

static void h_hello(struct tocsin_http_req *r, void *ctx)
{
    (void)ctx;
    tocsin_http_respond(r, 200, "text/plain", "hello", 5);
}

static void h_echo(struct tocsin_http_req *r, void *ctx)
{
    (void)ctx;
    tocsin_str b = tocsin_http_body(r);
    tocsin_http_respond(r, 200, "text/plain", b.base, b.len);
}

static void add_routes(struct tocsin_http_server *server)
{
    tocsin_http_route(server, "GET", "/hello", h_hello, NULL);
    tocsin_http_route(server, "POST", "/echo", h_echo, NULL);
}

static int setup(void **state)
{
    (void)state;
    tocsin_log_init("test", getenv("TEST_DEBUG") ? TOCSIN_LOG_DEBUG : TOCSIN_LOG_ERROR);
    struct tocsin_http_options *o = &srv.options;
    tocsin_http_options_from_config(o, NULL);
    o->max_header_bytes = MAX_HEADER;
    o->max_body_bytes = 65536;
    o->max_buffered_bytes = MAX_BUFFERED;
    /* Far beyond any test's run on a loaded machine: an answer that comes
     * is the server's decision, never a timeout's. */
    o->header_timeout_ms = 60000;
    o->body_timeout_ms = 3000;
    o->idle_timeout_ms = 3000;
    o->access_log = 0;
    srv.add_routes = add_routes;
    return test_server_start(&srv);
}

static int teardown(void **state)
{
    (void)state;
    test_server_stop(&srv);
    return 0;
}

/* Sends s, stopping quietly if the server has answered and closed (it
 * refuses an oversized head as soon as the cap is passed, perhaps while
 * the rest is on its way; on a loaded machine the send then fails). Each
 * case asserts the status it reads, so nothing is hidden. */
static void send_text(int fd, const char *s)
{
    size_t n = strlen(s);
    while (n) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

static void send_spaces(int fd, size_t n, char c)
{
    char pad[1024];
    memset(pad, c, sizeof pad);
    while (n) {
        size_t k = n < sizeof pad ? n : sizeof pad;
        ssize_t w = send(fd, pad, k, MSG_NOSIGNAL);
        if (w <= 0)
            return; /* the server answered and closed: fine */
        n -= (size_t)w;
    }
}

static void assert_status(const char *r, const char *status)
{
    if (strncmp(r, status, strlen(status)) != 0)
        fail_msg("wanted \"%s\", got \"%.60s\"", status, r);
}

/* Leading spaces (and tabs) of a value are skipped by llhttp before its
 * value callback: they count against the header cap all the same. */
static void test_padded_header_value(void **state)
{
    (void)state;
    int fd = test_client(srv.port);
    send_text(fd, "GET /hello HTTP/1.1\r\nHost: x\r\nX-Pad:");
    send_spaces(fd, 3 * MAX_HEADER, ' ');
    send_text(fd, "v\r\n\r\n");
    assert_status(read_responses(fd, 1), "HTTP/1.1 431 ");
    close(fd);

    fd = test_client(srv.port);
    send_text(fd, "GET /hello HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < 40; i++) { /* 40 headers of 100 tabs each: 4 KB */
        char name[32];
        snprintf(name, sizeof name, "X-Pad-%d:", i);
        send_text(fd, name);
        send_spaces(fd, 100, '\t');
        send_text(fd, "v\r\n");
    }
    send_text(fd, "\r\n");
    assert_status(read_responses(fd, 1), "HTTP/1.1 431 ");
    close(fd);

    /* Under the cap, padding is still fine. */
    fd = test_client(srv.port);
    send_text(fd, "GET /hello HTTP/1.1\r\nHost: x\r\nX-Pad:");
    send_spaces(fd, 500, ' ');
    send_text(fd, "v\r\n\r\n");
    assert_status(read_responses(fd, 1), "HTTP/1.1 200 ");
    close(fd);
}

static void test_many_tiny_headers(void **state)
{
    (void)state;
    int fd = test_client(srv.port);
    send_text(fd, "GET /hello HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < 150; i++)
        send_text(fd, "a:b\r\n");
    send_text(fd, "\r\n");
    assert_status(read_responses(fd, 1), "HTTP/1.1 431 ");
    close(fd);

    /* 300 one-letter headers folded into few bytes each: the count of
     * bytes, not only of headers, is what the cap sees. */
    fd = test_client(srv.port);
    send_text(fd, "GET /hello HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < 60; i++)
        send_text(fd, "a:b\r\n");
    send_text(fd, "\r\n");
    assert_status(read_responses(fd, 1), "HTTP/1.1 200 ");
    close(fd);
}

/* A head that never ends, padding only (which llhttp takes without a
 * callback), sent as fast as the client can: the server answers 431 once
 * the cap is passed. On main it read and kept all of it, answering only
 * at the header timeout (408, a minute here): the status tells them apart,
 * with no clock. */
static void test_endless_head(void **state)
{
    (void)state;
    int fd = test_client(srv.port);
    send_text(fd, "GET /hello HTTP/1.1\r\nHost: x\r\nX-Pad:");
    char chunk[4096], peek;
    memset(chunk, ' ', sizeof chunk);
    for (size_t sent = 0; sent < (1u << 20);) {
        if (recv(fd, &peek, 1, MSG_PEEK | MSG_DONTWAIT) > 0)
            break; /* answered */
        ssize_t w = send(fd, chunk, sizeof chunk, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0)
            sent += (size_t)w;
        else if (errno == EAGAIN || errno == EWOULDBLOCK)
            usleep(1000);
        else
            break; /* closed after answering */
    }
    assert_status(read_responses(fd, 1), "HTTP/1.1 431 ");
    close(fd);
}

/* Many connections each send an unfinished head, a little at a time:
 * once the server holds MAX_BUFFERED bytes for them the others get 503
 * at once (not after the header timeout); once they go, it serves. */

/* refusals: reads what has come on each unanswered connection (without
 * waiting), marks the 503s in answered[] and returns how many there are. */
static int refusals(const int *fds, int *answered, int n)
{
    int refused = 0;
    for (int i = 0; i < n; i++) {
        if (!answered[i]) {
            char r[256];
            ssize_t got = recv(fds[i], r, sizeof r - 1, MSG_DONTWAIT);
            r[got > 0 ? got : 0] = '\0';
            if (got > 0 && strncmp(r, "HTTP/1.1 503 ", 13) == 0)
                answered[i] = 1;
            else if (!(got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)))
                fail_msg("connection %d: %zd bytes, \"%.60s\"", i, got, r);
        }
        refused += answered[i];
    }
    return refused;
}

static void test_slow_drip_many_connections(void **state)
{
    (void)state;
    enum { N = 40 };
    int fds[N];
    for (int i = 0; i < N; i++) {
        fds[i] = test_client(srv.port);
        send_text(fds[i], "POST /echo HTTP/1.1\r\nHost: x\r\nX-Drip: ");
    }
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < N; i++) {
            ssize_t w = send(fds[i], "d", 1, MSG_NOSIGNAL);
            (void)w;
        }
        usleep(20000);
    }
    /* Polled, not slept on: the first refusals, then one more connection's
     * answer (the cap is still held: 503), after which the server has long
     * read what the drip sent; the rest are still waiting, within the cap. */
    int answered[N] = {0};
    for (int tries = 0; refusals(fds, answered, N) == 0; tries++) {
        if (tries == 6000)
            fail_msg("no connection refused in a minute");
        usleep(10000);
    }
    int probe = test_client(srv.port);
    send_text(probe, "POST /echo HTTP/1.1\r\nHost: x\r\nX-Drip: ");
    assert_status(read_responses(probe, 1), "HTTP/1.1 503 ");
    close(probe);
    int refused = refusals(fds, answered, N), waiting = N - refused;
    if (waiting == 0)
        fail_msg("every connection refused: the cap is too tight");
    for (int i = 0; i < N; i++)
        close(fds[i]);
    usleep(100000); /* the server sees them go */
    int fd = test_client(srv.port);
    send_text(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok");
    const char *r = read_responses(fd, 1);
    assert_status(r, "HTTP/1.1 200 ");
    assert_non_null(strstr(r, "\r\n\r\nok"));
    close(fd);
}

/* Keep-alive connections between requests hold no buffers: many idle
 * ones do not use up the cap. */
static void test_idle_connections_hold_nothing(void **state)
{
    (void)state;
    enum { N = 40 };
    int fds[N];
    for (int i = 0; i < N; i++) {
        fds[i] = test_client(srv.port);
        send_text(fds[i], "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_status(read_responses(fds[i], 1), "HTTP/1.1 200 ");
    }
    int fd = test_client(srv.port);
    send_text(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok");
    assert_status(read_responses(fd, 1), "HTTP/1.1 200 ");
    close(fd);
    for (int i = 0; i < N; i++)
        close(fds[i]);
}

int main(void)
{
    (void)peer_closed; /* http_test_client.h's, unused here */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_padded_header_value),
        cmocka_unit_test(test_many_tiny_headers),
        cmocka_unit_test(test_endless_head),
        cmocka_unit_test(test_slow_drip_many_connections),
        cmocka_unit_test(test_idle_connections_hold_nothing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
