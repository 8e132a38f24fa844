/* SPDX-License-Identifier: AGPL-3.0-or-later
 * http_client.c — the pool and the transfers of the outgoing HTTP/1.1
 * client (see http_client.h): requests queue under the in-flight bound,
 * each takes an idle keep-alive connection to its origin or opens one, and
 * its callback comes once with the response or the reason there is none.
 * A connection's own I/O (resolve, connect, TLS, reads, writes, the
 * response parser) is http_client_conn.c. */
#include "http_client.h"

#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "http_client_internal.h"

#define CLIENT_MAX_IDLE_MS 2000

/* --- building the request --- */

static int token_char(unsigned char c)
{
    return isalnum(c) || strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* "Name: value" with a token name and no CR, LF or NUL anywhere. */
static int header_ok(const char *h)
{
    const char *colon = strchr(h, ':');
    if (!colon || colon == h || strlen(h) > 8192)
        return 0;
    for (const char *p = h; p < colon; p++)
        if (!token_char((unsigned char)*p))
            return 0;
    for (const char *p = colon; *p; p++)
        if (*p == '\r' || *p == '\n')
            return 0;
    return 1;
}

static int method_ok(const char *m)
{
    size_t n = strlen(m);
    if (n == 0 || n > 16)
        return 0;
    for (; *m; m++)
        if (*m < 'A' || *m > 'Z')
            return 0;
    return 1;
}

/* The whole request, head and body, in t->request. */
static int build_request(struct hc_transfer *t, const struct tocsin_http_client_request *req)
{
    struct tocsin_dynbuf *b = &t->request;
    const struct tocsin_http_url *u = &t->url;
    tocsin_dynbuf_add_str(b, req->method);
    tocsin_dynbuf_add_str(b, " ");
    if (!u->target || u->target[0] == '?')
        tocsin_dynbuf_add_str(b, "/");
    if (u->target)
        tocsin_dynbuf_add(b, u->target, u->target_len);
    tocsin_dynbuf_add_str(b, " HTTP/1.1\r\nHost: ");
    tocsin_dynbuf_add_str(b, u->authority);
    tocsin_dynbuf_add_str(b, "\r\nUser-Agent: tocsin/0.1\r\n");
    if (req->basic_auth) {
        size_t n = strlen(req->basic_auth);
        if (n > 1024 || strpbrk(req->basic_auth, "\r\n"))
            return -1;
        unsigned char enc[4 * ((1024 + 2) / 3) + 1];
        EVP_EncodeBlock(enc, (const unsigned char *)req->basic_auth, (int)n);
        tocsin_dynbuf_add_str(b, "Authorization: Basic ");
        tocsin_dynbuf_add_str(b, (const char *)enc);
        tocsin_dynbuf_add_str(b, "\r\n");
    }
    int accept = 0;
    for (const char *const *h = req->headers; h && *h; h++) {
        if (!header_ok(*h))
            return -1;
        accept |= strncasecmp(*h, "Accept:", 7) == 0;
        tocsin_dynbuf_add_str(b, *h);
        tocsin_dynbuf_add_str(b, "\r\n");
    }
    if (!accept) /* what libcurl sent: some gateways refuse a request without it */
        tocsin_dynbuf_add_str(b, "Accept: */*\r\n");
    if (req->body || strcmp(req->method, "GET") != 0) {
        char cl[48];
        snprintf(cl, sizeof cl, "Content-Length: %zu\r\n", req->body ? req->body_len : 0);
        tocsin_dynbuf_add_str(b, cl);
    }
    tocsin_dynbuf_add_str(b, "\r\n");
    if (req->body)
        tocsin_dynbuf_add(b, req->body, req->body_len);
    return b->failed ? -1 : 0;
}

/* --- finishing --- */

static void transfer_free(struct hc_transfer *t)
{
    tocsin_dynbuf_free(&t->request);
    tocsin_dynbuf_free(&t->body);
    free(t);
}

static void deliver(struct hc_transfer *t)
{
    struct tocsin_http_client_response r = {0};
    r.status = t->error[0] ? 0 : t->status;
    r.body = t->body.data && !t->error[0] ? t->body.data : "";
    r.body_len = t->error[0] ? 0 : t->body.len;
    r.error = t->error[0] ? t->error : NULL;
    r.timed_out = t->timed_out;
    r.request_sent = t->sent;
    if (t->cb)
        t->cb(&r, t->ctx);
    transfer_free(t);
}

static void maybe_finish_close(struct tocsin_http_client *c);

static void on_kick(uv_timer_t *timer)
{
    struct tocsin_http_client *c = timer->data;
    hc_client_run(c);
}

/* Callbacks never run inside tocsin_http_client_send: a transfer that ends
 * there (a dead idle connection) is delivered from a zero timer. */
static void kick(struct tocsin_http_client *c)
{
    if (!uv_is_active((uv_handle_t *)&c->kick))
        uv_timer_start(&c->kick, on_kick, 0, 0);
}

void hc_transfer_done(struct hc_transfer *t)
{
    struct tocsin_http_client *c = t->client;
    t->conn = NULL;
    t->next = NULL;
    if (c->dtail)
        c->dtail->next = t;
    else
        c->dhead = t;
    c->dtail = t;
    c->in_flight--;
    if (c->in_send)
        kick(c);
}

void hc_transfer_fail(struct hc_transfer *t, const char *why, int timed_out)
{
    snprintf(t->error, sizeof t->error, "%s", why);
    t->timed_out = timed_out;
    hc_transfer_done(t);
}

/* --- connections by origin --- */

void hc_idle_add(struct tocsin_http_client *c, struct hc_conn *k)
{
    if (c->closing || c->nidle >= c->max_in_flight) {
        hc_conn_close(k);
        return;
    }
    k->idle_since = uv_now(c->loop);
    /* An idle connection keeps reading (to see a close at once) but does
     * not keep the loop alive: a daemon that has drained exits without
     * waiting for the server to time it out. */
    uv_unref((uv_handle_t *)&k->tcp);
    k->idle_next = c->idle;
    c->idle = k;
    c->nidle++;
}

void hc_idle_remove(struct tocsin_http_client *c, struct hc_conn *k)
{
    for (struct hc_conn **p = &c->idle; *p; p = &(*p)->idle_next) {
        if (*p == k) {
            *p = k->idle_next;
            k->idle_next = NULL;
            c->nidle--;
            return;
        }
    }
}

/* The most recently used idle connection to the transfer's origin. One
 * idle past CLIENT_MAX_IDLE_MS is closed rather than reused: a server
 * that times keep-alive out (Apache's default is 5 s) may close it just
 * as a request goes out, and a request lost that way can only be
 * reported as sent with no outcome; a new connection is cheaper than an
 * 'unknown' message. */
static struct hc_conn *idle_take(struct tocsin_http_client *c, const char *origin)
{
    uint64_t now = uv_now(c->loop);
    for (struct hc_conn **p = &c->idle; *p;) {
        struct hc_conn *k = *p;
        if (now - k->idle_since > CLIENT_MAX_IDLE_MS) {
            *p = k->idle_next;
            c->nidle--;
            k->idle_next = NULL;
            hc_conn_close(k);
            continue;
        }
        if (strcmp(k->origin, origin) == 0) {
            *p = k->idle_next;
            k->idle_next = NULL;
            c->nidle--;
            if (hc_conn_alive(k))
                return k;
            hc_conn_close(k);
            continue;
        }
        p = &k->idle_next;
    }
    return NULL;
}

static void start_queued(struct tocsin_http_client *c)
{
    while (c->qhead && c->in_flight < c->max_in_flight && !c->closing_now) {
        struct hc_transfer *t = c->qhead;
        c->qhead = t->next;
        if (!c->qhead)
            c->qtail = NULL;
        t->next = NULL;
        c->queued--;
        c->in_flight++;
        t->started_ms = uv_now(c->loop);
        struct hc_conn *k = idle_take(c, t->origin);
        if (k)
            hc_conn_attach(k, t);
        else
            hc_conn_open(c, t); /* fails the transfer itself if it cannot */
    }
}

/* Starts what may start and delivers what has ended, until neither moves. */
void hc_client_run(struct tocsin_http_client *c)
{
    if (c->in_run)
        return;
    c->in_run = 1;
    for (;;) {
        start_queued(c);
        struct hc_transfer *t = c->dhead;
        if (!t)
            break;
        c->dhead = t->next;
        if (!c->dhead)
            c->dtail = NULL;
        deliver(t);
    }
    c->in_run = 0;
    maybe_finish_close(c);
}

/* --- the public API --- */

struct tocsin_http_client *tocsin_http_client_new(uv_loop_t *loop, unsigned max_in_flight)
{
    /* A write to a socket the peer reset raises SIGPIPE, and libuv writes
     * with plain write(2): a process that left it at its default would die
     * on a carrier's reset. Every daemon ignores it already
     * (tocsin_daemon); this covers any other caller. */
    struct sigaction old;
    if (sigaction(SIGPIPE, NULL, &old) == 0 && old.sa_handler == SIG_DFL)
        signal(SIGPIPE, SIG_IGN);
    struct tocsin_http_client *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->loop = loop;
    c->max_in_flight = max_in_flight < 1 ? 1 : max_in_flight > 1000 ? 1000 : max_in_flight;
    uv_timer_init(loop, &c->kick);
    c->kick.data = c;
    return c;
}

int tocsin_http_client_send(struct tocsin_http_client *c,
                            const struct tocsin_http_client_request *req, tocsin_http_client_cb cb,
                            void *ctx)
{
    if (c->closing || !req->url || !req->method || !method_ok(req->method))
        return -1;
    size_t url_len = strnlen(req->url, TOCSIN_HTTP_URL_MAX + 1);
    if (url_len > TOCSIN_HTTP_URL_MAX)
        return -1;
    struct hc_transfer *t = calloc(1, sizeof *t + url_len + 1);
    if (!t)
        return -1;
    const char *why;
    if (tocsin_http_url_parse(req->url, &t->url, &why) != 0) {
        free(t);
        return -1;
    }
    /* The target view must point into memory the transfer owns. */
    memcpy(t->url_text, req->url, url_len + 1);
    if (t->url.target)
        t->url.target = t->url_text + (t->url.target - req->url);
    tocsin_http_url_origin(&t->url, t->origin, sizeof t->origin);
    t->client = c;
    t->cb = cb;
    t->ctx = ctx;
    t->timeout_ms = req->timeout_ms > 0 ? req->timeout_ms : 10000;
    t->connect_timeout_ms = req->connect_timeout_ms > 0 ? req->connect_timeout_ms : 3000;
    tocsin_dynbuf_init(&t->request, HC_MAX_REQUEST);
    tocsin_dynbuf_init(&t->body, HC_MAX_BODY - 1);
    if (build_request(t, req) != 0) {
        transfer_free(t);
        return -1;
    }
    if (c->qtail)
        c->qtail->next = t;
    else
        c->qhead = t;
    c->qtail = t;
    c->queued++;
    c->in_send = 1;
    start_queued(c);
    c->in_send = 0;
    return 0;
}

unsigned tocsin_http_client_pending(const struct tocsin_http_client *c)
{
    return c->in_flight + c->queued;
}

static void kick_closed(uv_handle_t *h)
{
    struct tocsin_http_client *c = h->data;
    c->kick_closed = 1;
    hc_client_maybe_free(c);
}

void hc_client_maybe_free(struct tocsin_http_client *c)
{
    if (!c->closing_now || !c->kick_closed || c->nconns)
        return;
    void (*done)(void *) = c->close_done;
    void *arg = c->close_arg;
    free(c);
    if (done)
        done(arg);
}

static void maybe_finish_close(struct tocsin_http_client *c)
{
    if (!c->closing || c->closing_now || c->in_flight || c->queued || c->dhead || c->in_run)
        return;
    c->closing_now = 1;
    while (c->idle) {
        struct hc_conn *k = c->idle;
        c->idle = k->idle_next;
        c->nidle--;
        k->idle_next = NULL;
        hc_conn_close(k);
    }
    uv_timer_stop(&c->kick);
    uv_close((uv_handle_t *)&c->kick, kick_closed);
}

void tocsin_http_client_close(struct tocsin_http_client *c, void (*done)(void *arg), void *arg)
{
    c->closing = 1;
    c->close_done = done;
    c->close_arg = arg;
    maybe_finish_close(c);
}
