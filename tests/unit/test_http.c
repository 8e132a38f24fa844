/* SPDX-License-Identifier: AGPL-3.0-or-later
 * test_http.c — the HTTP layer over real loopback sockets: a server runs on
 * its own libuv loop in a thread; each test talks raw HTTP/1.1 to it with a
 * blocking client socket and asserts on the bytes that come back. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "http.h"
#include "http_test_client.h"
#include "http_test_server.h"
#include "log.h"

static struct test_server srv;
static int healthy = 1;
static int aborted_count;     /* handlers that saw their client go */
static int async_taken;       /* requests h_async took */
static int bad_after_respond; /* handlers that found their request changed after responding */

/* --- handlers --- */

static void h_hello(struct tocsin_http_req *r, void *ctx)
{
    (void)ctx;
    tocsin_http_respond(r, 200, "text/plain", "hello", 5);
}

static void h_touch(struct tocsin_http_req *r, void *ctx)
{
    (void)ctx;
    char *mark = tocsin_arena_strndup(tocsin_http_arena(r), "mark", 4);
    tocsin_http_respond(r, 200, "text/plain", mark, 4);
    if (strcmp(mark, "mark") != 0 || tocsin_http_header(r, "x-touch").len != 3)
        __atomic_add_fetch(&bad_after_respond, 1, __ATOMIC_SEQ_CST);
}

static char *big_body; /* BIG_LEN bytes, for a client that does not read */
#define BIG_LEN (48u << 20)

static void h_big(struct tocsin_http_req *r, void *ctx)
{
    (void)ctx;
    if (!big_body) {
        big_body = malloc(BIG_LEN);
        memset(big_body, 'b', BIG_LEN);
    }
    tocsin_http_respond(r, 200, "application/octet-stream", big_body, BIG_LEN);
}

static void h_echo(struct tocsin_http_req *r, void *ctx)
{
    (void)ctx;
    tocsin_str b = tocsin_http_body(r);
    tocsin_http_respond(r, 200, "application/octet-stream", b.base, b.len);
}

static void h_tail(struct tocsin_http_req *r, void *ctx)
{
    (void)ctx;
    tocsin_str t = tocsin_http_route_tail(r);
    tocsin_http_respond(r, 200, "text/plain", t.base, t.len);
}

static void h_form(struct tocsin_http_req *r, void *ctx)
{
    (void)ctx;
    struct tocsin_kv *kv;
    size_t n;
    char err[128];
    if (tocsin_http_form(r, 0, &kv, &n, err, sizeof err)) {
        tocsin_http_error(r, 400, "bad_form", "%s", err);
        return;
    }
    json_t *o = json_object();
    for (size_t i = 0; i < n; i++)
        json_object_set_new(
            o, tocsin_arena_strndup(tocsin_http_arena(r), kv[i].key.base, kv[i].key.len),
            json_stringn(kv[i].value.base, kv[i].value.len));
    tocsin_http_respond_json(r, 200, o);
}

static void h_json(struct tocsin_http_req *r, void *ctx)
{
    (void)ctx;
    char err[200];
    json_t *j = tocsin_http_json(r, err, sizeof err);
    if (!j) {
        tocsin_http_error(r, 400, "bad_json", "%s", err);
        return;
    }
    tocsin_http_respond_json(r, 200, json_pack("{s:b}", "ok", 1));
    json_decref(j);
}

struct later {
    uv_timer_t timer;
    struct tocsin_http_req *req;
    char *path; /* in the request's arena */
};

static void later_closed(uv_handle_t *h)
{
    free(h->data);
}

static void later_fire(uv_timer_t *t)
{
    struct later *l = t->data;
    if (tocsin_http_aborted(l->req))
        __atomic_add_fetch(&aborted_count, 1, __ATOMIC_SEQ_CST);
    tocsin_http_respond(l->req, 200, "text/plain", "later", 5);
    /* The request and its arena stay valid until this callback returns
     * (ASan reports it if they were released already). */
    tocsin_str p = tocsin_http_path(l->req);
    if (p.len != strlen(l->path) || memcmp(p.base, l->path, p.len) != 0)
        __atomic_add_fetch(&bad_after_respond, 1, __ATOMIC_SEQ_CST);
    uv_close((uv_handle_t *)&l->timer, later_closed);
}

static void h_async(struct tocsin_http_req *r, void *ctx)
{
    __atomic_add_fetch(&async_taken, 1, __ATOMIC_SEQ_CST);
    struct later *l = calloc(1, sizeof *l);
    l->req = r;
    tocsin_str p = tocsin_http_path(r);
    l->path = tocsin_arena_strndup(tocsin_http_arena(r), p.base, p.len);
    uv_timer_init(&srv.loop, &l->timer);
    l->timer.data = l;
    uv_timer_start(&l->timer, later_fire, (uint64_t)(uintptr_t)ctx, 0);
}

struct streamer {
    uv_timer_t timer;
    struct tocsin_http_req *req;
    int sent;
};

static void stream_tick(uv_timer_t *t)
{
    struct streamer *s = t->data;
    char ev[64];
    int n = snprintf(ev, sizeof ev, "data: event %d\n\n", s->sent);
    if (tocsin_http_stream_write(s->req, ev, (size_t)n) < 0 || ++s->sent == 3) {
        tocsin_http_stream_end(s->req);
        uv_close((uv_handle_t *)&s->timer, later_closed);
    }
}

static void h_stream(struct tocsin_http_req *r, void *ctx)
{
    (void)ctx;
    struct streamer *s = calloc(1, sizeof *s);
    s->req = r;
    tocsin_http_stream_begin(r, 200, "text/event-stream");
    uv_timer_init(&srv.loop, &s->timer);
    s->timer.data = s;
    uv_timer_start(&s->timer, stream_tick, 10, 10);
}

static int stream_aborts; /* on_abort calls seen by endless streams */
static int stream_ends;   /* endless streams ended by their owner, by either path */

/* The one owner's end of an endless stream, reached exactly once: from
 * on_abort when the loop finds the client gone, or from a write that
 * failed (which disarmed on_abort). A second run would close the timer
 * twice, which libuv aborts on, and free twice. */
static void endless_finish(struct streamer *s)
{
    __atomic_add_fetch(&stream_ends, 1, __ATOMIC_SEQ_CST);
    tocsin_http_stream_end(s->req);
    uv_close((uv_handle_t *)&s->timer, later_closed);
}

static void endless_aborted(void *ctx)
{
    struct streamer *s = ctx;
    __atomic_add_fetch(&stream_aborts, 1, __ATOMIC_SEQ_CST);
    endless_finish(s);
    tocsin_http_stream_end(s->req); /* a second end in the same turn: ignored */
}

static void endless_tick(uv_timer_t *t)
{
    struct streamer *s = t->data;
    if (tocsin_http_stream_write(s->req, "data: tick\n\n", 12) != 0)
        endless_finish(s);
}

static void h_endless(struct tocsin_http_req *r, void *ctx)
{
    (void)ctx;
    struct streamer *s = calloc(1, sizeof *s);
    s->req = r;
    tocsin_http_on_abort(r, endless_aborted, s);
    tocsin_http_stream_begin(r, 200, "text/event-stream");
    uv_timer_init(&srv.loop, &s->timer);
    s->timer.data = s;
    uv_timer_start(&s->timer, endless_tick, 10, 10);
}

static const char *health(void *ctx)
{
    (void)ctx;
    return healthy ? NULL : "database connection is down";
}

/* --- the server --- */

static void add_routes(struct tocsin_http_server *server)
{
    tocsin_http_route(server, "GET", "/hello", h_hello, NULL);
    tocsin_http_route(server, "POST", "/echo", h_echo, NULL);
    tocsin_http_route(server, "GET", "/api/*", h_tail, NULL);
    tocsin_http_route(server, "POST", "/form", h_form, NULL);
    tocsin_http_route(server, "POST", "/json", h_json, NULL);
    tocsin_http_route(server, "GET", "/async", h_async, (void *)(uintptr_t)30);
    /* Long enough that the client's reset, sent once the handler has the
     * request, comes first even on a loaded machine. */
    tocsin_http_route(server, "GET", "/slow", h_async, (void *)(uintptr_t)1500);
    tocsin_http_route(server, "GET", "/stream", h_stream, NULL);
    tocsin_http_route(server, "GET", "/endless", h_endless, NULL);
    tocsin_http_route(server, "GET", "/touch", h_touch, NULL);
    tocsin_http_route(server, "GET", "/big", h_big, NULL);
    tocsin_http_add_standard_routes(server, health, NULL);
}

static int setup(void **state)
{
    (void)state;
    tocsin_log_init("test", getenv("TEST_DEBUG") ? TOCSIN_LOG_DEBUG : TOCSIN_LOG_ERROR);
    struct tocsin_http_options *o = &srv.options;
    tocsin_http_options_from_config(o, NULL);
    o->max_header_bytes = 2048;
    o->max_body_bytes = 4096;
    o->header_timeout_ms = 300;
    o->body_timeout_ms = 300;
    o->idle_timeout_ms = 500;
    o->write_timeout_ms = 300;
    o->access_log = 0;
    srv.add_routes = add_routes;
    return test_server_start(&srv);
}

static int teardown(void **state)
{
    (void)state;
    test_server_stop(&srv);
    free(big_body);
    return 0;
}

/* --- client helpers --- */

static int client(void)
{
    return test_client(srv.port);
}

/* --- tests --- */

static void test_simple_get(void **state)
{
    (void)state;
    int fd = client();
    send_str(fd, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    const char *r = read_responses(fd, 1);
    assert_non_null(strstr(r, "HTTP/1.1 200 OK\r\n"));
    assert_non_null(strstr(r, "Content-Length: 5\r\n"));
    assert_non_null(strstr(r, "\r\n\r\nhello"));
    assert_null(strstr(r, "Connection: close"));
    close(fd);
}

static void test_keep_alive_and_pipelining(void **state)
{
    (void)state;
    int fd = client();
    send_str(fd, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_int_equal(count_complete(read_responses(fd, 1)), 1);
    send_str(fd, "GET /api/one HTTP/1.1\r\nHost: x\r\n\r\n"
                 "GET /async HTTP/1.1\r\nHost: x\r\n\r\n"
                 "GET /api/three/x HTTP/1.1\r\nHost: x\r\n\r\n");
    const char *r = read_responses(fd, 3);
    const char *a = strstr(r, "\r\n\r\none"), *b = strstr(r, "\r\n\r\nlater"),
               *c = strstr(r, "\r\n\r\nthree/x");
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_true(a < b && b < c); /* answered in order, though /async is slow */
    close(fd);
}

static void test_not_found_and_method(void **state)
{
    (void)state;
    int fd = client();
    send_str(fd, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\nDELETE /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    const char *r = read_responses(fd, 2);
    assert_non_null(strstr(r, "HTTP/1.1 404 Not Found"));
    assert_non_null(strstr(r, "{\"error\":{\"status\":404,\"code\":\"not_found\""));
    assert_non_null(strstr(r, "HTTP/1.1 405 Method Not Allowed"));
    assert_non_null(strstr(r, "Allow: GET\r\n"));
    close(fd);
}

static void test_header_too_large(void **state)
{
    (void)state;
    int fd = client();
    char big[3000];
    memset(big, 'a', sizeof big);
    big[sizeof big - 1] = '\0';
    send_str(fd, "GET /hello HTTP/1.1\r\nX-Big: ");
    send_str(fd, big);
    send_str(fd, "\r\n\r\n");
    const char *r = read_responses(fd, 1);
    assert_non_null(strstr(r, "HTTP/1.1 431 "));
    assert_non_null(strstr(r, "Connection: close"));
    close(fd);
}

static void test_body_too_large(void **state)
{
    (void)state;
    int fd = client();
    send_str(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n");
    const char *r = read_responses(fd, 1);
    assert_non_null(strstr(r, "HTTP/1.1 413 "));
    close(fd);
    /* Chunked bodies are capped as they arrive. */
    fd = client();
    send_str(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    char chunk[1100];
    memset(chunk, 'z', sizeof chunk);
    /* The server answers 413 and closes once the cap is passed, perhaps
     * while chunks are still on their way: a send that fails then is the
     * server having answered (it failed the test on a loaded machine). */
    for (int i = 0; i < 5; i++) {
        char head[] = "44c\r\n";
        if (send(fd, head, sizeof head - 1, MSG_NOSIGNAL) < 0 ||
            send(fd, chunk, sizeof chunk, MSG_NOSIGNAL) < 0 ||
            send(fd, "\r\n", 2, MSG_NOSIGNAL) < 0)
            break;
    }
    r = read_responses(fd, 1);
    assert_non_null(strstr(r, "HTTP/1.1 413 "));
    close(fd);
}

static void test_chunked_body_echo(void **state)
{
    (void)state;
    int fd = client();
    send_str(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    const char *r = read_responses(fd, 1);
    assert_non_null(strstr(r, "Content-Length: 11\r\n"));
    assert_non_null(strstr(r, "\r\n\r\nhello world"));
    close(fd);
}

static void test_expect_continue(void **state)
{
    (void)state;
    int fd = client();
    send_str(fd,
             "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
    char buf[64] = "";
    ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
    assert_true(n > 0);
    assert_string_equal(buf, "HTTP/1.1 100 Continue\r\n\r\n");
    send_str(fd, "ping");
    const char *r = read_responses(fd, 1);
    assert_non_null(strstr(r, "HTTP/1.1 200 OK"));
    assert_non_null(strstr(r, "\r\n\r\nping"));
    close(fd);
}

static void test_header_timeout(void **state)
{
    (void)state;
    int fd = client();
    send_str(fd, "GET /hello HTTP/1.1\r\nHost: x\r\n"); /* never finishes */
    const char *r = read_responses(fd, 1);
    assert_non_null(strstr(r, "HTTP/1.1 408 "));
    assert_true(peer_closed(fd));
    close(fd);
    /* A connection that sends nothing is closed too. */
    fd = client();
    assert_true(peer_closed(fd));
    close(fd);
}

static void test_idle_timeout_closes(void **state)
{
    (void)state;
    int fd = client();
    send_str(fd, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    read_responses(fd, 1);
    assert_true(peer_closed(fd)); /* after idle_timeout_ms */
    close(fd);
}

/* wait_count: polls *counter (bumped on the server's thread) until it
 * reaches want, for up to a minute (a bound for a hung test, not a measure
 * of speed); returns what it last read. */
static int wait_count(int *counter, int want)
{
    int now = __atomic_load_n(counter, __ATOMIC_SEQ_CST);
    for (int i = 0; i < 6000 && now < want; i++) {
        struct timespec pause = {0, 10 * 1000 * 1000};
        nanosleep(&pause, NULL);
        now = __atomic_load_n(counter, __ATOMIC_SEQ_CST);
    }
    return now;
}

static void test_client_gone_while_pending(void **state)
{
    (void)state;
    int before = __atomic_load_n(&aborted_count, __ATOMIC_SEQ_CST);
    int taken = __atomic_load_n(&async_taken, __ATOMIC_SEQ_CST);
    int fd = client();
    send_str(fd, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_int_equal(wait_count(&async_taken, taken + 1), taken + 1); /* the handler has it */
    struct linger lg = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg); /* RST on close */
    close(fd);
    /* The handler saw its client gone and answered the dead request safely. */
    assert_int_equal(wait_count(&aborted_count, before + 1), before + 1);
    fd = client(); /* the server is still fine */
    send_str(fd, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_non_null(strstr(read_responses(fd, 1), "200 OK"));
    close(fd);
}

static void test_form_decoding(void **state)
{
    (void)state;
    int fd = client();
    const char *body = "From=%2B14155552671&Body=Hello+there%21&Empty=&Flag";
    char req[512];
    snprintf(req, sizeof req, "POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n%s",
             strlen(body), body);
    send_str(fd, req);
    const char *r = read_responses(fd, 1);
    assert_non_null(strstr(r, "\"From\":\"+14155552671\""));
    assert_non_null(strstr(r, "\"Body\":\"Hello there!\""));
    assert_non_null(strstr(r, "\"Empty\":\"\""));
    assert_non_null(strstr(r, "\"Flag\":\"\""));
    body = "a=%zz";
    snprintf(req, sizeof req, "POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n%s",
             strlen(body), body);
    send_str(fd, req);
    r = read_responses(fd, 1);
    assert_non_null(strstr(r, "HTTP/1.1 400 "));
    assert_non_null(strstr(r, "bad percent-escape"));
    close(fd);
}

static void test_json_errors(void **state)
{
    (void)state;
    int fd = client();
    send_str(fd, "POST /json HTTP/1.1\r\nHost: x\r\nContent-Length: 8\r\n\r\n{\"a\": 1,");
    const char *r = read_responses(fd, 1);
    assert_non_null(strstr(r, "HTTP/1.1 400 "));
    assert_non_null(strstr(r, "invalid JSON at line 1"));
    send_str(fd, "POST /json HTTP/1.1\r\nHost: x\r\nContent-Length: 8\r\n\r\n{\"a\": 1}");
    assert_non_null(strstr(read_responses(fd, 1), "{\"ok\":true}"));
    close(fd);
}

static void test_malformed_request(void **state)
{
    (void)state;
    int fd = client();
    send_str(fd, "GARBAGE\r\n\r\n");
    const char *r = read_responses(fd, 1);
    assert_non_null(strstr(r, "HTTP/1.1 400 "));
    assert_non_null(strstr(r, "malformed request"));
    assert_true(peer_closed(fd));
    close(fd);
}

static void test_healthz_and_metrics(void **state)
{
    (void)state;
    int fd = client();
    send_str(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_non_null(strstr(read_responses(fd, 1), "200 OK\r\n"));
    healthy = 0;
    send_str(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    const char *r = read_responses(fd, 1);
    assert_non_null(strstr(r, "HTTP/1.1 503 "));
    assert_non_null(strstr(r, "database connection is down"));
    healthy = 1;
    send_str(fd, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    r = read_responses(fd, 1);
    assert_non_null(strstr(r, "# TYPE tocsin_http_requests_total counter"));
    assert_non_null(strstr(r, "tocsin_http_requests_total{code=\"4xx\"} "));
    assert_non_null(strstr(r, "tocsin_http_open_connections "));
    close(fd);
}

static void test_stream(void **state)
{
    (void)state;
    int fd = client();
    send_str(fd, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
    const char *r = read_responses(fd, -1); /* until close */
    assert_non_null(strstr(r, "Content-Type: text/event-stream"));
    assert_null(strstr(r, "Content-Length"));
    assert_non_null(strstr(r, "data: event 0\n\ndata: event 1\n\ndata: event 2\n\n"));
    close(fd);
}

static void test_http10_closes(void **state)
{
    (void)state;
    int fd = client();
    send_str(fd, "GET /hello HTTP/1.0\r\n\r\n");
    const char *r = read_responses(fd, -1);
    assert_non_null(strstr(r, "Connection: close"));
    assert_non_null(strstr(r, "hello"));
    close(fd);
}

static void test_request_valid_after_respond(void **state)
{
    (void)state;
    int fd = client();
    /* Pipelined: the first answer is written at once (uv_try_write), the
     * handler still reads its request and arena afterwards. */
    send_str(fd, "GET /touch HTTP/1.1\r\nX-Touch: yes\r\n\r\n"
                 "GET /async HTTP/1.1\r\nHost: x\r\n\r\n"
                 "GET /touch HTTP/1.1\r\nX-Touch: yes\r\n\r\n");
    const char *r = read_responses(fd, 3);
    const char *a = strstr(r, "\r\n\r\nmark"), *b = strstr(r, "\r\n\r\nlater");
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(strstr(b, "\r\n\r\nmark"));
    assert_int_equal(__atomic_load_n(&bad_after_respond, __ATOMIC_SEQ_CST), 0);
    close(fd);
}

static void test_expect_refused(void **state)
{
    (void)state;
    int fd = client();
    /* Too large: 413 at once, never "100 Continue", nothing of the body read. */
    send_str(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n"
                 "Expect: 100-continue\r\n\r\n");
    const char *r = read_responses(fd, 1);
    assert_null(strstr(r, "100 Continue"));
    assert_non_null(strstr(r, "HTTP/1.1 413 "));
    assert_non_null(strstr(r, "\"code\":\"body_too_large\""));
    assert_true(peer_closed(fd));
    close(fd);
    fd = client();
    send_str(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 200-ok\r\n\r\n");
    r = read_responses(fd, 1);
    assert_non_null(strstr(r, "HTTP/1.1 417 Expectation Failed"));
    close(fd);
}

static void test_json_too_deep(void **state)
{
    (void)state;
    char body[2 * TOCSIN_HTTP_JSON_MAX_DEPTH + 16], req[256];
    size_t d = TOCSIN_HTTP_JSON_MAX_DEPTH + 1;
    memset(body, '[', d);
    memset(body + d, ']', d);
    body[2 * d] = '\0';
    int fd = client();
    snprintf(req, sizeof req, "POST /json HTTP/1.1\r\nContent-Length: %zu\r\n\r\n%s", 2 * d, body);
    send_str(fd, req);
    assert_non_null(strstr(read_responses(fd, 1), "nested deeper than 32 levels"));
    /* Exactly the limit parses; brackets inside strings do not count. */
    d = TOCSIN_HTTP_JSON_MAX_DEPTH;
    memset(body, '[', d);
    memcpy(body + d, "\"[[{\\\"\"", 7); /* the string "[[{\" */
    memset(body + d + 7, ']', d);
    body[2 * d + 7] = '\0';
    snprintf(req, sizeof req, "POST /json HTTP/1.1\r\nContent-Length: %zu\r\n\r\n%s", strlen(body),
             body);
    send_str(fd, req);
    assert_non_null(strstr(read_responses(fd, 1), "{\"ok\":true}"));
    close(fd);
}

static void test_slow_reader_times_out(void **state)
{
    (void)state;
    int fd = client();
    int small = 65536;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    send_str(fd, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
    struct timespec wait = {0, 800 * 1000 * 1000}; /* > write_timeout_ms */
    nanosleep(&wait, NULL);
    size_t got = 0;
    static char sink[1 << 16];
    for (;;) { /* what the kernel buffered, then the end */
        ssize_t n = recv(fd, sink, sizeof sink, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    assert_true(got > 0);
    assert_true(got < BIG_LEN); /* the server gave up on us */
    close(fd);
    fd = client(); /* and is still fine */
    send_str(fd, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_non_null(strstr(read_responses(fd, 1), "200 OK"));
    close(fd);
}

static void test_stream_client_gone(void **state)
{
    (void)state;
    int before = __atomic_load_n(&stream_aborts, __ATOMIC_SEQ_CST);
    int fd = client();
    send_str(fd, "GET /endless HTTP/1.1\r\nHost: x\r\n\r\n");
    char buf[512];
    ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
    assert_true(n > 0);
    close(fd); /* a plain FIN: the stream must learn of it */
    assert_int_equal(wait_count(&stream_aborts, before + 1), before + 1);
}

/* A client resets a stream while the server has stopped reading (100 KB
 * pipelined behind the request), so the next write is the first to learn
 * of it and fails inside tocsin_http_stream_write: the owner must end the
 * stream once, and the server go on. (It used to run on_abort inside the
 * write and return -1 too: dashboard/events.c then freed its subscriber
 * twice.) */
static void test_stream_reset_during_write(void **state)
{
    (void)state;
    int ends = __atomic_load_n(&stream_ends, __ATOMIC_SEQ_CST);
    int fd = client();
    size_t junk_len = 100 * 1024;
    char *req = malloc(junk_len + 64);
    int head = snprintf(req, 64, "GET /endless HTTP/1.1\r\nHost: x\r\n\r\n");
    memset(req + head, 'x', junk_len);
    send_all(fd, req, (size_t)head + junk_len);
    free(req);
    char buf[512];
    assert_true(recv(fd, buf, sizeof buf - 1, 0) > 0);
    struct linger lg = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd); /* RST */
    wait_count(&stream_ends, ends + 1);
    struct timespec settle = {0, 100 * 1000 * 1000}; /* a second end would come in the same turns */
    nanosleep(&settle, NULL);
    assert_int_equal(__atomic_load_n(&stream_ends, __ATOMIC_SEQ_CST), ends + 1);
    fd = client(); /* and the server is still there */
    send_str(fd, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_non_null(strstr(read_responses(fd, 1), "200 OK"));
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_get),
        cmocka_unit_test(test_keep_alive_and_pipelining),
        cmocka_unit_test(test_not_found_and_method),
        cmocka_unit_test(test_header_too_large),
        cmocka_unit_test(test_body_too_large),
        cmocka_unit_test(test_chunked_body_echo),
        cmocka_unit_test(test_expect_continue),
        cmocka_unit_test(test_header_timeout),
        cmocka_unit_test(test_idle_timeout_closes),
        cmocka_unit_test(test_client_gone_while_pending),
        cmocka_unit_test(test_form_decoding),
        cmocka_unit_test(test_json_errors),
        cmocka_unit_test(test_malformed_request),
        cmocka_unit_test(test_healthz_and_metrics),
        cmocka_unit_test(test_stream),
        cmocka_unit_test(test_http10_closes),
        cmocka_unit_test(test_request_valid_after_respond),
        cmocka_unit_test(test_expect_refused),
        cmocka_unit_test(test_json_too_deep),
        cmocka_unit_test(test_slow_reader_times_out),
        cmocka_unit_test(test_stream_client_gone),
        cmocka_unit_test(test_stream_reset_during_write),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
