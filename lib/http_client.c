/* SPDX-License-Identifier: AGPL-3.0-or-later
 * http_client.c — libcurl multi on libuv (see http_client.h). */
#include "http_client.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "common.h"
#include "dynbuf.h"
#include "log.h"

#define CLIENT_MAX_BODY (4 * 1024 * 1024)

struct transfer {
    struct transfer *next; /* queue link while waiting */
    struct tocsin_http_client *client;
    CURL *easy;
    struct curl_slist *headers;
    char *body_in;                 /* request body copy */
    struct tocsin_dynbuf body_out; /* response body, at most CLIENT_MAX_BODY - 1 bytes */
    int too_big;
    char errbuf[CURL_ERROR_SIZE];
    tocsin_http_client_cb cb;
    void *ctx;
};

struct sock_ctx {
    uv_poll_t poll;
    curl_socket_t fd;
    struct tocsin_http_client *client;
    struct sock_ctx *prev, *next; /* every open poll handle, for shutdown */
    int closing;
};

struct tocsin_http_client {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    unsigned max_in_flight, in_flight, queued;
    struct transfer *qhead, *qtail;
    struct sock_ctx *socks;
    unsigned npolls; /* poll handles not yet closed */
    int timer_closed;
    int in_check; /* inside check_done: closing waits until it returns */
    int closing;
    void (*close_done)(void *);
    void *close_arg;
    /* Finished easy handles, reset and kept for the next transfers: an
     * easy handle's setup costs more than a keep-alive request. */
    CURL **spare;
    unsigned nspare;
};

static void check_done(struct tocsin_http_client *c);
static void maybe_finish_close(struct tocsin_http_client *c);

/* --- libcurl callbacks --- */

static size_t on_write(char *data, size_t size, size_t n, void *userp)
{
    struct transfer *t = userp;
    size_t len = size * n;
    if (len > t->body_out.max - t->body_out.len) {
        t->too_big = 1;
        return 0; /* aborts the transfer */
    }
    return tocsin_dynbuf_add(&t->body_out, data, len) == 0 ? len : 0; /* 0: out of memory */
}

static void try_free(struct tocsin_http_client *c);

static void poll_closed(uv_handle_t *h)
{
    struct sock_ctx *s = h->data;
    struct tocsin_http_client *c = s->client;
    free(s);
    c->npolls--;
    try_free(c);
}

static void sock_close(struct tocsin_http_client *c, struct sock_ctx *s)
{
    if (s->closing)
        return;
    s->closing = 1;
    if (s->prev)
        s->prev->next = s->next;
    else
        c->socks = s->next;
    if (s->next)
        s->next->prev = s->prev;
    uv_poll_stop(&s->poll);
    uv_close((uv_handle_t *)&s->poll, poll_closed);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    struct sock_ctx *s = p->data;
    int flags = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    struct tocsin_http_client *c = s->client;
    int running;
    if (!c->multi)
        return;
    curl_multi_socket_action(c->multi, s->fd, flags, &running);
    check_done(c);
}

static int on_socket(CURL *easy, curl_socket_t fd, int action, void *userp, void *socketp)
{
    (void)easy;
    struct tocsin_http_client *c = userp;
    struct sock_ctx *s = socketp;
    if (action == CURL_POLL_REMOVE) {
        if (s) {
            if (c->closing != 2)
                curl_multi_assign(c->multi, fd, NULL);
            sock_close(c, s);
        }
        return 0;
    }
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s || uv_poll_init_socket(c->loop, &s->poll, fd) != 0) {
            free(s);
            return -1;
        }
        s->fd = fd;
        s->client = c;
        s->poll.data = s;
        s->next = c->socks;
        if (c->socks)
            c->socks->prev = s;
        c->socks = s;
        c->npolls++;
        curl_multi_assign(c->multi, fd, s);
    }
    int events =
        (action == CURL_POLL_IN ? UV_READABLE : 0) | (action == CURL_POLL_OUT ? UV_WRITABLE : 0);
    if (action == CURL_POLL_INOUT)
        events = UV_READABLE | UV_WRITABLE;
    uv_poll_start(&s->poll, events, on_poll);
    return 0;
}

static void on_timer(uv_timer_t *t)
{
    struct tocsin_http_client *c = t->data;
    int running;
    if (!c->multi)
        return;
    curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(c);
}

static int on_timeout(CURLM *multi, long ms, void *userp)
{
    (void)multi;
    struct tocsin_http_client *c = userp;
    if (ms < 0)
        uv_timer_stop(&c->timer);
    else
        uv_timer_start(&c->timer, on_timer, (uint64_t)ms, 0);
    return 0;
}

/* --- transfers --- */

static CURL *easy_take(struct tocsin_http_client *c)
{
    return c->nspare ? c->spare[--c->nspare] : curl_easy_init();
}

static void easy_give_back(struct tocsin_http_client *c, CURL *e)
{
    if (c && !c->closing && c->spare && c->nspare < c->max_in_flight) {
        curl_easy_reset(e);
        c->spare[c->nspare++] = e;
    } else {
        curl_easy_cleanup(e);
    }
}

static void transfer_free(struct transfer *t)
{
    if (t->easy)
        easy_give_back(t->client, t->easy);
    curl_slist_free_all(t->headers);
    free(t->body_in);
    tocsin_dynbuf_free(&t->body_out);
    free(t);
}

static void start_queued(struct tocsin_http_client *c)
{
    while (c->qhead && c->in_flight < c->max_in_flight) {
        struct transfer *t = c->qhead;
        c->qhead = t->next;
        if (!c->qhead)
            c->qtail = NULL;
        c->queued--;
        c->in_flight++;
        curl_multi_add_handle(c->multi, t->easy);
    }
}

static void check_done(struct tocsin_http_client *c)
{
    CURLMsg *msg;
    int left;
    if (!c->multi)
        return;
    c->in_check = 1;
    while ((msg = curl_multi_info_read(c->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct transfer *t;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
        CURLcode code = msg->data.result;
        struct tocsin_http_client_response r = {0};
        long request_size = 0;
        curl_easy_getinfo(t->easy, CURLINFO_REQUEST_SIZE, &request_size);
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &r.status);
        r.request_sent = request_size > 0;
        r.body = t->body_out.data ? t->body_out.data : "";
        r.body_len = t->body_out.len;
        r.timed_out = code == CURLE_OPERATION_TIMEDOUT;
        if (t->too_big)
            r.error = "response body too large";
        else if (code != CURLE_OK)
            r.error = t->errbuf[0] ? t->errbuf : curl_easy_strerror(code);
        curl_multi_remove_handle(c->multi, t->easy);
        c->in_flight--;
        if (t->cb)
            t->cb(&r, t->ctx);
        transfer_free(t);
    }
    c->in_check = 0;
    start_queued(c);
    maybe_finish_close(c);
}

struct tocsin_http_client *tocsin_http_client_new(uv_loop_t *loop, unsigned max_in_flight)
{
    static int curl_ready;
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return NULL;
        curl_ready = 1;
    }
    struct tocsin_http_client *c = calloc(1, sizeof *c);
    if (!c || !(c->multi = curl_multi_init())) {
        free(c);
        return NULL;
    }
    c->loop = loop;
    c->max_in_flight = max_in_flight < 1 ? 1 : max_in_flight > 1000 ? 1000 : max_in_flight;
    c->spare = calloc(c->max_in_flight, sizeof *c->spare); /* NULL: no reuse, still correct */
    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_timeout);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)c->max_in_flight);
    /* Keep a connection per transfer in flight: libcurl's default cache
     * (4 x handles) shrinks when few are running and closes connections it
     * will reopen a moment later. */
    curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long)c->max_in_flight);
    return c;
}

int tocsin_http_client_send(struct tocsin_http_client *c,
                            const struct tocsin_http_client_request *req, tocsin_http_client_cb cb,
                            void *ctx)
{
    if (c->closing || !req->url || !req->method)
        return -1;
    struct transfer *t = calloc(1, sizeof *t);
    if (!t || !(t->easy = easy_take(c))) {
        free(t);
        return -1;
    }
    t->client = c;
    tocsin_dynbuf_init(&t->body_out, CLIENT_MAX_BODY - 1);
    t->cb = cb;
    t->ctx = ctx;
    CURL *e = t->easy;
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms : 10000L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     req->connect_timeout_ms > 0 ? req->connect_timeout_ms : 3000L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "tocsin/0.1");
    if (strcmp(req->method, "GET") != 0)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
    if (req->body) {
        t->body_in = malloc(req->body_len ? req->body_len : 1);
        if (!t->body_in) {
            transfer_free(t);
            return -1;
        }
        memcpy(t->body_in, req->body, req->body_len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->body_in);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    }
    t->headers = curl_slist_append(NULL, "Expect:"); /* no 100-continue round trip */
    for (const char *const *h = req->headers; h && *h; h++)
        t->headers = curl_slist_append(t->headers, *h);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    if (req->basic_auth) {
        curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(e, CURLOPT_USERPWD, req->basic_auth);
    }
    if (c->qtail)
        c->qtail->next = t;
    else
        c->qhead = t;
    c->qtail = t;
    c->queued++;
    start_queued(c); /* curl starts it from its timer: the callback comes later */
    return 0;
}

unsigned tocsin_http_client_pending(const struct tocsin_http_client *c)
{
    return c->in_flight + c->queued;
}

static void try_free(struct tocsin_http_client *c)
{
    if (c->closing != 2 || !c->timer_closed || c->npolls)
        return;
    void (*done)(void *) = c->close_done;
    void *arg = c->close_arg;
    free(c);
    if (done)
        done(arg);
}

static void timer_closed(uv_handle_t *h)
{
    struct tocsin_http_client *c = h->data;
    c->timer_closed = 1;
    try_free(c);
}

static void maybe_finish_close(struct tocsin_http_client *c)
{
    if (c->closing != 1 || c->in_flight || c->queued || c->in_check)
        return;
    c->closing = 2;
    while (c->nspare)
        curl_easy_cleanup(c->spare[--c->nspare]);
    free(c->spare);
    c->spare = NULL;
    /* Closes cached keep-alive connections (their sockets come back through
     * on_socket as REMOVE); any poll handle left is closed here. */
    curl_multi_cleanup(c->multi);
    c->multi = NULL;
    while (c->socks)
        sock_close(c, c->socks);
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, timer_closed);
}

void tocsin_http_client_close(struct tocsin_http_client *c, void (*done)(void *arg), void *arg)
{
    c->closing = 1;
    c->close_done = done;
    c->close_arg = arg;
    maybe_finish_close(c);
}
