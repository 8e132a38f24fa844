/* SPDX-License-Identifier: AGPL-3.0-or-later
 * http_client_conn.c — one connection of the outgoing HTTP client: it
 * resolves (uv_getaddrinfo; an address literal directly), connects,
 * speaks TLS for https:// (tls_session.c), writes a transfer's request
 * (uv_try_write first: one syscall when the socket has room), reads and
 * parses the response (llhttp) under size caps, and keeps the transfer's
 * deadline. It records whether any byte of the request reached the
 * kernel, so a failure says "not sent: safe to retry" or "sent: outcome
 * unknown". A request is never sent twice: a connection that drops after
 * the request went out fails the transfer, and only a connection found
 * dead before a single byte was written is replaced. Idle keep-alive
 * connections keep reading, so a server's close is seen at once. */
#include <errno.h>
#include <netdb.h>
#include <sys/socket.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_client_internal.h"

static void on_handle_closed(uv_handle_t *h);
static void send_request(struct hc_conn *k);
static void parse(struct hc_conn *k, const char *data, size_t len);

/* --- lifetime --- */

static void maybe_free(struct hc_conn *k)
{
    if (k->handles || k->resolving || k->writing)
        return;
    struct tocsin_http_client *c = k->client;
    tocsin_dynbuf_free(&k->out);
    if (k->addrs)
        uv_freeaddrinfo(k->addrs);
    free(k);
    c->nconns--;
    hc_client_maybe_free(c);
}

void hc_conn_close(struct hc_conn *k)
{
    if (k->state == HC_CLOSING)
        return;
    k->state = HC_CLOSING;
    tocsin_tls_free(k->tls);
    k->tls = NULL;
    if (k->resolving)
        uv_cancel((uv_req_t *)&k->resolve_req); /* its callback still comes */
    uv_timer_stop(&k->timer);
    uv_close((uv_handle_t *)&k->timer, on_handle_closed);
    if (k->tcp_open && !k->reopening)
        uv_close((uv_handle_t *)&k->tcp, on_handle_closed);
}

static void on_handle_closed(uv_handle_t *h)
{
    struct hc_conn *k = h->data;
    k->handles--;
    maybe_free(k);
}

/* Ends the attached transfer with why (the request's sent flag as it
 * stands) and closes the connection. */
static void conn_fail(struct hc_conn *k, const char *why, int timed_out)
{
    struct hc_transfer *t = k->t;
    k->t = NULL;
    if (t)
        hc_transfer_fail(t, why, timed_out);
    hc_conn_close(k);
}

static void conn_failf(struct hc_conn *k, int timed_out, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void conn_failf(struct hc_conn *k, int timed_out, const char *fmt, ...)
{
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    conn_fail(k, why, timed_out);
}

/* A write failed. On a kept-alive connection that failed before a byte
 * of the request left, the server had closed it while idle: the request
 * goes out once more on a new connection (nothing was sent, so nothing can
 * be sent twice). Otherwise the transfer fails. */
static void write_failed(struct hc_conn *k, int status)
{
    struct hc_transfer *t = k->t;
    if (t && k->reused && !t->sent && !t->reopened) {
        k->t = NULL;
        t->conn = NULL;
        t->reopened = 1;
        hc_conn_close(k);
        hc_conn_open(k->client, t);
        return;
    }
    conn_failf(k, 0, "writing to %s failed: %s", k->origin, uv_strerror(status));
}

/* --- the deadline --- */

static void on_deadline(uv_timer_t *timer)
{
    struct hc_conn *k = timer->data;
    struct hc_transfer *t = k->t;
    if (!t)
        return;
    if (k->state == HC_HANDSHAKE)
        conn_failf(k, 1, "the TLS handshake with %s timed out", k->origin);
    else if (k->state < HC_READY)
        conn_failf(k, 1, "connecting to %s timed out", k->origin);
    else
        conn_failf(k, 1, "%s did not answer in time", k->origin);
    hc_client_run(k->client);
}

/* Arms the timer for what is left of the transfer's time, or of its
 * connect time while connecting. */
static void arm_deadline(struct hc_conn *k)
{
    struct hc_transfer *t = k->t;
    uint64_t now = uv_now(k->client->loop);
    uint64_t used = now - t->started_ms;
    uint64_t left = used >= (uint64_t)t->timeout_ms ? 1 : (uint64_t)t->timeout_ms - used;
    if (k->state < HC_READY && (uint64_t)t->connect_timeout_ms < left)
        left = (uint64_t)t->connect_timeout_ms;
    uv_timer_start(&k->timer, on_deadline, left, 0);
}

/* --- writing --- */

static void flush(struct hc_conn *k);

static void on_written(uv_write_t *req, int status)
{
    struct hc_conn *k = req->data;
    free(k->writing);
    k->writing = NULL;
    if (k->state == HC_CLOSING) {
        maybe_free(k);
        return;
    }
    if (status < 0)
        write_failed(k, status);
    else
        flush(k);
    hc_client_run(k->client);
}

/* Hands k->out to the kernel: what uv_try_write takes now, the rest to one
 * uv_write at a time. Once any byte of a request leaves, it was sent. */
static void flush(struct hc_conn *k)
{
    while (!k->writing && k->out.len && k->state != HC_CLOSING) {
        uv_buf_t b = uv_buf_init(k->out.data, (unsigned)k->out.len);
        int n = uv_try_write((uv_stream_t *)&k->tcp, &b, 1);
        if (n == UV_EAGAIN)
            n = 0;
        if (n < 0) {
            write_failed(k, n);
            return;
        }
        if (n > 0 && k->t && k->out_has_request)
            k->t->sent = 1;
        k->out.len -= (size_t)n;
        memmove(k->out.data, k->out.data + n, k->out.len);
        if (!k->out.len)
            break;
        /* The socket is full: the rest goes out as it drains. */
        k->writing = k->out.data;
        b = uv_buf_init(k->writing, (unsigned)k->out.len);
        tocsin_dynbuf_init(&k->out, 2 * HC_MAX_REQUEST);
        k->write_req.data = k;
        int rc = uv_write(&k->write_req, (uv_stream_t *)&k->tcp, &b, 1, on_written);
        if (rc != 0) {
            free(k->writing);
            k->writing = NULL;
            write_failed(k, rc);
            return;
        }
        if (k->t && k->out_has_request)
            k->t->sent = 1;
    }
    if (!k->out.len && !k->writing)
        k->out_has_request = 0;
}

/* What TLS has for the socket, into k->out. */
static int tls_pump_out(struct hc_conn *k)
{
    size_t n;
    while ((n = tocsin_tls_pending_out(k->tls)) > 0) {
        char *dst = tocsin_dynbuf_reserve(&k->out, n);
        if (!dst)
            return -1;
        tocsin_dynbuf_commit(&k->out, tocsin_tls_take_out(k->tls, dst, n));
    }
    return 0;
}

static void send_request(struct hc_conn *k)
{
    struct hc_transfer *t = k->t;
    int rc;
    if (k->tls)
        rc = tocsin_tls_write(k->tls, t->request.data, t->request.len) || tls_pump_out(k);
    else
        rc = tocsin_dynbuf_add(&k->out, t->request.data, t->request.len);
    if (rc != 0) {
        conn_fail(k, "out of memory while sending", 0);
        return;
    }
    k->out_has_request = 1;
    flush(k);
}

/* --- reading --- */

static int on_headers_complete(llhttp_t *p)
{
    struct hc_conn *k = p->data;
    k->head_done = 1;
    if (k->t)
        k->t->status = p->status_code;
    return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t len)
{
    struct hc_conn *k = p->data;
    if (!k->t || tocsin_dynbuf_add(&k->t->body, at, len) != 0) {
        k->too_big = 1;
        return -1;
    }
    return 0;
}

static int on_message_complete(llhttp_t *p)
{
    struct hc_conn *k = p->data;
    int status = p->status_code;
    if (status >= 100 && status < 200 && status != 101) {
        /* An interim answer (100 Continue, 103 Early Hints): the real one follows. */
        k->head_done = 0;
        k->head_bytes = 0;
        if (k->t)
            tocsin_dynbuf_reset(&k->t->body);
        return 0;
    }
    k->message_done = 1;
    return HPE_PAUSED;
}

static const llhttp_settings_t *parser_settings(void)
{
    static llhttp_settings_t s;
    static int ready;
    if (!ready) {
        llhttp_settings_init(&s);
        s.on_headers_complete = on_headers_complete;
        s.on_body = on_body;
        s.on_message_complete = on_message_complete;
        ready = 1;
    }
    return &s;
}

static void reset_response(struct hc_conn *k)
{
    llhttp_reset(&k->parser);
    k->head_done = k->message_done = k->too_big = 0;
    k->head_bytes = 0;
}

/* The attached transfer got its whole response. */
static void complete(struct hc_conn *k, int keep_alive)
{
    struct hc_transfer *t = k->t;
    k->t = NULL;
    uv_timer_stop(&k->timer);
    if (t->status == 101) {
        hc_transfer_fail(t, "the carrier switched protocols (101)", 0);
        hc_conn_close(k);
        return;
    }
    hc_transfer_done(t);
    if (keep_alive && k->state == HC_READY) {
        reset_response(k);
        hc_idle_add(k->client, k);
    } else {
        hc_conn_close(k);
    }
}

static void parse(struct hc_conn *k, const char *data, size_t len)
{
    if (!k->t) {
        /* Bytes nobody asked for: the stream can no longer be trusted. */
        hc_idle_remove(k->client, k);
        hc_conn_close(k);
        return;
    }
    if (!k->head_done)
        k->head_bytes += len;
    llhttp_errno_t err = llhttp_execute(&k->parser, data, len);
    if (err == HPE_PAUSED && k->message_done) {
        size_t used = (size_t)(llhttp_get_error_pos(&k->parser) - data);
        complete(k, used == len && llhttp_should_keep_alive(&k->parser));
        return;
    }
    if (err != HPE_OK) {
        if (k->too_big)
            conn_failf(k, 0, "the response from %s is larger than 4 MB", k->origin);
        else
            conn_failf(k, 0, "the response from %s is not valid HTTP: %s", k->origin,
                       llhttp_errno_name(err));
        return;
    }
    if (!k->head_done && k->head_bytes > HC_MAX_HEAD)
        conn_failf(k, 0, "the response headers from %s are larger than 64 KB", k->origin);
}

/* The peer closed (or the read failed): a response delimited by the close
 * is complete; anything else ends the transfer with no response. */
static void on_closed_by_peer(struct hc_conn *k, const char *why)
{
    if (!k->t) {
        hc_idle_remove(k->client, k);
        hc_conn_close(k);
        return;
    }
    if (k->state == HC_READY && k->head_done && llhttp_finish(&k->parser) == HPE_PAUSED &&
        k->message_done) {
        complete(k, 0);
        return;
    }
    if (k->state == HC_HANDSHAKE)
        conn_failf(k, 0, "TLS with %s failed: %s", k->origin, why);
    else
        conn_failf(k, 0, "%s closed the connection before its answer was complete: %s", k->origin,
                   why);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    struct hc_conn *k = h->data;
    *buf = uv_buf_init(k->rbuf, sizeof k->rbuf);
}

static void on_tls_ready(struct hc_conn *k);

static void read_tls(struct hc_conn *k, const char *data, size_t len)
{
    if (tocsin_tls_feed(k->tls, data, len) != 0) {
        conn_fail(k, "out of memory while reading", 0);
        return;
    }
    if (k->state == HC_HANDSHAKE) {
        int r = tocsin_tls_handshake(k->tls);
        if (tls_pump_out(k) != 0) {
            conn_fail(k, "out of memory during the TLS handshake", 0);
            return;
        }
        flush(k);
        if (r < 0) {
            conn_failf(k, 0, "TLS with %s failed: %s", k->origin, tocsin_tls_error(k->tls));
            return;
        }
        if (r == 0 || k->state == HC_CLOSING)
            return;
        on_tls_ready(k);
        if (k->state == HC_CLOSING)
            return;
    }
    char plain[HC_READ_BUF];
    for (;;) {
        ssize_t n = tocsin_tls_read(k->tls, plain, sizeof plain);
        if (n == 0)
            break;
        if (n < 0) {
            const char *e = tocsin_tls_error(k->tls);
            on_closed_by_peer(k, e[0] ? e : "end of the TLS session");
            return;
        }
        parse(k, plain, (size_t)n);
        if (k->state == HC_CLOSING)
            return;
    }
    /* Reading may have queued TLS records of its own (a key update). */
    if (tls_pump_out(k) == 0)
        flush(k);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct hc_conn *k = s->data;
    struct tocsin_http_client *c = k->client;
    if (nread == 0 || k->state == HC_CLOSING)
        return;
    if (nread < 0)
        on_closed_by_peer(k, nread == UV_EOF ? "end of stream" : uv_strerror((int)nread));
    else if (k->tls)
        read_tls(k, buf->base, (size_t)nread);
    else
        parse(k, buf->base, (size_t)nread);
    hc_client_run(c);
}

/* --- connecting --- */

static void on_tls_ready(struct hc_conn *k)
{
    k->state = HC_READY;
    arm_deadline(k);
    send_request(k);
}

static void connect_next(struct hc_conn *k);

static void on_tcp_reopened(uv_handle_t *h)
{
    struct hc_conn *k = h->data;
    k->reopening = 0;
    if (k->state == HC_CLOSING) {
        k->handles--;
        k->tcp_open = 0;
        maybe_free(k);
        return;
    }
    uv_tcp_init(k->client->loop, &k->tcp);
    k->tcp.data = k;
    connect_next(k);
    hc_client_run(k->client);
}

static void on_connect(uv_connect_t *req, int status)
{
    struct hc_conn *k = req->data;
    if (k->state == HC_CLOSING)
        return;
    if (status < 0) {
        if (k->addr && k->addr->ai_next) {
            /* Another of the host's addresses, on a fresh socket. */
            k->addr = k->addr->ai_next;
            k->reopening = 1;
            uv_close((uv_handle_t *)&k->tcp, on_tcp_reopened);
            return;
        }
        conn_failf(k, 0, "could not connect to %s: %s", k->origin, uv_strerror(status));
        hc_client_run(k->client);
        return;
    }
    uv_tcp_nodelay(&k->tcp, 1);
    int rc = uv_read_start((uv_stream_t *)&k->tcp, on_alloc, on_read);
    if (rc != 0) {
        conn_failf(k, 0, "could not read from %s: %s", k->origin, uv_strerror(rc));
    } else if (k->tls) {
        k->state = HC_HANDSHAKE;
        int r = tocsin_tls_handshake(k->tls); /* the ClientHello */
        if (r < 0 || tls_pump_out(k) != 0)
            conn_failf(k, 0, "TLS with %s failed: %s", k->origin, tocsin_tls_error(k->tls));
        else
            flush(k);
    } else {
        k->state = HC_READY;
        arm_deadline(k);
        send_request(k);
    }
    hc_client_run(k->client);
}

static void connect_to(struct hc_conn *k, const struct sockaddr *sa)
{
    k->state = HC_CONNECTING;
    k->connect_req.data = k;
    int rc = uv_tcp_connect(&k->connect_req, &k->tcp, sa, on_connect);
    if (rc != 0)
        conn_failf(k, 0, "could not connect to %s: %s", k->origin, uv_strerror(rc));
}

static void connect_next(struct hc_conn *k)
{
    connect_to(k, k->addr->ai_addr);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct hc_conn *k = req->data;
    k->resolving = 0;
    if (k->state == HC_CLOSING) {
        if (res)
            uv_freeaddrinfo(res);
        maybe_free(k);
        return;
    }
    if (status < 0 || !res) {
        if (res)
            uv_freeaddrinfo(res);
        conn_failf(k, 0, "could not resolve %s: %s", k->t ? k->t->url.host : k->origin,
                   uv_strerror(status));
    } else {
        k->addrs = k->addr = res;
        connect_next(k);
    }
    hc_client_run(k->client);
}

void hc_conn_open(struct tocsin_http_client *c, struct hc_transfer *t)
{
    struct hc_conn *k = calloc(1, sizeof *k);
    if (!k) {
        hc_transfer_fail(t, "out of memory", 0);
        return;
    }
    k->client = c;
    c->nconns++;
    snprintf(k->origin, sizeof k->origin, "%s", t->origin);
    tocsin_dynbuf_init(&k->out, 2 * HC_MAX_REQUEST);
    llhttp_init(&k->parser, HTTP_RESPONSE, parser_settings());
    k->parser.data = k;
    uv_timer_init(c->loop, &k->timer);
    k->timer.data = k;
    uv_tcp_init(c->loop, &k->tcp);
    k->tcp.data = k;
    k->handles = 2;
    k->tcp_open = 1;
    k->t = t;
    t->conn = k;
    k->state = HC_RESOLVING;
    arm_deadline(k);
    const struct tocsin_http_url *u = &t->url;
    if (u->tls) {
        k->tls = tocsin_tls_new(tocsin_tls_client_ctx(), u->host, u->host_is_ip);
        if (!k->tls) {
            conn_fail(k, "TLS could not be set up (OpenSSL: out of memory, or no CA store)", 0);
            return;
        }
    }
    if (u->host_is_ip) {
        struct sockaddr_storage ss;
        int rc = strchr(u->host, ':') ? uv_ip6_addr(u->host, u->port, (struct sockaddr_in6 *)&ss)
                                      : uv_ip4_addr(u->host, u->port, (struct sockaddr_in *)&ss);
        if (rc != 0)
            conn_failf(k, 0, "%s is not an address: %s", u->host, uv_strerror(rc));
        else
            connect_to(k, (const struct sockaddr *)&ss);
        return;
    }
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG};
    char port[8];
    snprintf(port, sizeof port, "%d", u->port);
    k->resolve_req.data = k;
    k->resolving = 1;
    int rc = uv_getaddrinfo(c->loop, &k->resolve_req, on_resolved, u->host, port, &hints);
    if (rc != 0) {
        k->resolving = 0;
        conn_failf(k, 0, "could not resolve %s: %s", u->host, uv_strerror(rc));
    }
}

/* Whether an idle connection may carry a request: its socket holds no end
 * of stream (nor bytes) that the loop has not read yet. A server that
 * closed it between our last read and now would otherwise take the
 * request into a socket it already closed, and the request could only be
 * reported as sent with no outcome. One recv(2) per reuse. */
int hc_conn_alive(struct hc_conn *k)
{
    uv_os_fd_t fd;
    if (k->state != HC_READY || uv_fileno((uv_handle_t *)&k->tcp, &fd) != 0)
        return 0;
    char c;
    ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

void hc_conn_attach(struct hc_conn *k, struct hc_transfer *t)
{
    k->t = t;
    t->conn = k;
    k->reused = 1;
    uv_ref((uv_handle_t *)&k->tcp);
    reset_response(k);
    arm_deadline(k);
    send_request(k);
}
