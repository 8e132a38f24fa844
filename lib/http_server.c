/* SPDX-License-Identifier: AGPL-3.0-or-later
 * http_server.c — listening, connections, reading, llhttp parsing, limits
 * and timeouts. Requests on a connection are handled one at a time in
 * arrival order: the parser pauses at the end of each message, the request
 * goes to the router, and parsing resumes once its response is written.
 * Responses are built in http_response.c; routes live in http_router.c. */
#define _DEFAULT_SOURCE /* SO_REUSEPORT */
#include "http_internal.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

#define READ_CHUNK 16384
#define PIPELINE_SLACK 65536 /* bytes buffered beyond a request in flight */

static void conn_process(struct tocsin_http_conn *c);
static void conn_reject(struct tocsin_http_conn *c, int status, const char *code, const char *msg);

void tocsin_http_options_from_config(struct tocsin_http_options *o, const struct tocsin_config *cfg)
{
    memset(o, 0, sizeof *o);
    o->max_header_bytes = cfg ? cfg->http_max_header_bytes : 16384;
    o->max_body_bytes = cfg ? cfg->http_max_body_bytes : 1048576;
    o->header_timeout_ms = cfg ? cfg->http_header_timeout_ms : 10000;
    o->body_timeout_ms = cfg ? cfg->http_body_timeout_ms : 30000;
    o->idle_timeout_ms = cfg ? cfg->http_idle_timeout_ms : 60000;
    o->max_connections = cfg ? cfg->http_max_connections : 10000;
    o->access_log = 1;
}

static uint64_t now_ns(void)
{
    return uv_hrtime();
}

/* --- timers ------------------------------------------------------------ */

static void conn_timer_fired(uv_timer_t *t)
{
    struct tocsin_http_conn *c = container_of(t, struct tocsin_http_conn, timer);
    if (c->state != REQ_NONE)
        return; /* a handler owns the request; it answers */
    if (c->in_message) {
        conn_reject(c, 408, "request_timeout", "the request was not received in time");
        return;
    }
    http_conn_close(c); /* idle keep-alive connection */
}

static void conn_timer(struct tocsin_http_conn *c, unsigned ms)
{
    if (c->detached || c->closing)
        return;
    if (ms)
        uv_timer_start(&c->timer, conn_timer_fired, ms, 0);
    else
        uv_timer_stop(&c->timer);
}

/* --- lifecycle --------------------------------------------------------- */

static void server_maybe_finish_close(struct tocsin_http_server *s)
{
    if (!s->closing || s->conns || s->listening)
        return;
    void (*done)(void *) = s->close_done;
    void *arg = s->close_arg;
    free(s);
    if (done)
        done(arg);
}

static void conn_maybe_free(struct tocsin_http_conn *c)
{
    if (c->handle_open || c->state != REQ_NONE)
        return;
    struct tocsin_http_server *s = c->server;
    if (c->prev)
        c->prev->next = c->next;
    else if (s->conns == c)
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->nconns--;
    tocsin_arena_free(&c->req.arena);
    free(c->in);
    free(c->body);
    free(c);
    server_maybe_finish_close(s);
}

static void conn_handle_closed(uv_handle_t *h)
{
    struct tocsin_http_conn *c = h->data;
    if (--c->handle_open == 0)
        conn_maybe_free(c);
}

/* Marks the client gone: a pending handler's response will be dropped. */
static void conn_abort(struct tocsin_http_conn *c)
{
    if (c->aborted)
        return;
    c->aborted = 1;
    if (c->req.on_abort && (c->state == REQ_HANDLER || c->state == REQ_STREAMING)) {
        void (*cb)(void *) = c->req.on_abort;
        c->req.on_abort = NULL;
        cb(c->req.on_abort_ctx);
    }
}

void http_conn_close(struct tocsin_http_conn *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    if (c->detached)
        return; /* tocsin_http_test_conn_free() releases it */
    uv_close((uv_handle_t *)&c->tcp, conn_handle_closed);
    uv_close((uv_handle_t *)&c->timer, conn_handle_closed);
}

/* --- writing ----------------------------------------------------------- */

struct conn_write {
    uv_write_t w;
    struct tocsin_http_conn *conn;
    void (*done)(struct tocsin_http_conn *c, int status, void *arg);
    void *arg;
};

static void conn_write_done(uv_write_t *w, int status)
{
    struct conn_write *cw = container_of(w, struct conn_write, w);
    struct tocsin_http_conn *c = cw->conn;
    void (*done)(struct tocsin_http_conn *, int, void *) = cw->done;
    void *arg = cw->arg;
    free(cw);
    if (status < 0 && !c->aborted) {
        conn_abort(c);
        http_conn_close(c);
    }
    if (done)
        done(c, status, arg);
}

void http_conn_write(struct tocsin_http_conn *c, uv_buf_t *bufs, unsigned nbufs,
                     void (*done)(struct tocsin_http_conn *c, int status, void *arg), void *arg)
{
    if (c->detached || c->closing) {
        if (done)
            done(c, c->closing ? UV_ECANCELED : 0, arg);
        return;
    }
    struct conn_write *cw = malloc(sizeof *cw);
    if (!cw) {
        conn_abort(c);
        http_conn_close(c);
        if (done)
            done(c, UV_ENOMEM, arg);
        return;
    }
    cw->conn = c;
    cw->done = done;
    cw->arg = arg;
    int rc = uv_write(&cw->w, (uv_stream_t *)&c->tcp, bufs, nbufs, conn_write_done);
    if (rc < 0) {
        free(cw);
        conn_abort(c);
        http_conn_close(c);
        if (done)
            done(c, rc, arg);
    }
}

/* --- reading ----------------------------------------------------------- */

static void conn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    struct tocsin_http_conn *c = h->data;
    /* Bytes already parsed can go, unless header offsets still point at
     * them (they are copied to the arena when the headers complete). */
    if (!c->parsing_headers && c->in_start > 0) {
        memmove(c->in, c->in + c->in_start, c->in_len - c->in_start);
        c->in_len -= c->in_start;
        c->in_start = 0;
    }
    if (c->in_cap - c->in_len < READ_CHUNK) {
        size_t cap = c->in_cap ? c->in_cap * 2 : READ_CHUNK * 2;
        char *in = realloc(c->in, cap);
        if (!in) {
            buf->base = NULL;
            buf->len = 0; /* libuv reports UV_ENOBUFS: the connection closes */
            return;
        }
        c->in = in;
        c->in_cap = cap;
    }
    buf->base = c->in + c->in_len;
    buf->len = c->in_cap - c->in_len;
}

static void conn_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    struct tocsin_http_conn *c = stream->data;
    if (nread > 0) {
        c->in_len += (size_t)nread;
        if (c->state == REQ_NONE) {
            conn_process(c);
        } else if (c->in_len - c->in_start > c->server->opts.max_header_bytes + PIPELINE_SLACK) {
            uv_read_stop(stream); /* enough pipelined; resume after the response */
            c->reading = 0;
        }
        return;
    }
    if (nread == 0)
        return;
    log_debug("http_read_end", "remote=%s reason=\"%s\" state=%d", c->remote, uv_strerror((int)nread), (int)c->state);
    if (nread == UV_EOF && (c->state == REQ_HANDLER || c->state == REQ_WRITING)) {
        c->eof = 1; /* half-close after the request: answer, then close */
        uv_read_stop(stream);
        c->reading = 0;
        return;
    }
    conn_abort(c);
    http_conn_close(c);
}

static void conn_start_reading(struct tocsin_http_conn *c)
{
    if (c->reading || c->detached || c->closing || c->eof)
        return;
    if (uv_read_start((uv_stream_t *)&c->tcp, conn_alloc, conn_read) == 0)
        c->reading = 1;
}

/* --- parser callbacks -------------------------------------------------- */

static struct tocsin_http_conn *parser_conn(llhttp_t *p)
{
    return p->data;
}

/* Counts request-line and header bytes against the cap (431). */
static int header_budget(struct tocsin_http_conn *c, size_t len)
{
    c->header_bytes += len;
    if (c->header_bytes > c->server->opts.max_header_bytes) {
        c->reject_status = 431;
        return -1;
    }
    return 0;
}

static int on_message_begin(llhttp_t *p)
{
    struct tocsin_http_conn *c = parser_conn(p);
    struct tocsin_http_req *r = &c->req;
    r->nheaders = 0;
    r->url = TSTR_NULL;
    r->url_off = 0;
    r->body = TSTR_NULL;
    r->start_ns = now_ns();
    r->status = 0;
    r->bytes_out = 0;
    c->body_len = 0;
    c->header_bytes = 0;
    c->parsing_headers = 1;
    c->in_message = 1;
    conn_timer(c, c->server->opts.header_timeout_ms);
    return 0;
}

static int on_url(llhttp_t *p, const char *at, size_t len)
{
    struct tocsin_http_conn *c = parser_conn(p);
    if (header_budget(c, len))
        return -1;
    if (c->req.url.len == 0)
        c->req.url_off = (size_t)(at - c->in);
    c->req.url.len += len;
    return 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t len)
{
    struct tocsin_http_conn *c = parser_conn(p);
    struct tocsin_http_req *r = &c->req;
    if (header_budget(c, len))
        return -1;
    struct http_header *h = r->nheaders ? &r->headers[r->nheaders - 1] : NULL;
    if (!h || h->value.base) { /* value.base marks "field finished" while parsing */
        if (r->nheaders == HTTP_MAX_HEADERS) {
            c->reject_status = 431;
            return -1;
        }
        h = &r->headers[r->nheaders++];
        memset(h, 0, sizeof *h);
        c->header_bytes += 4; /* ": " and CRLF */
        h->name_off = (size_t)(at - c->in);
    }
    h->name.len += len;
    return 0;
}

static int on_header_field_complete(llhttp_t *p)
{
    struct tocsin_http_conn *c = parser_conn(p);
    struct http_header *h = &c->req.headers[c->req.nheaders - 1];
    h->value.base = ""; /* field done; the value may be empty */
    h->value_off = SIZE_MAX;
    return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t len)
{
    struct tocsin_http_conn *c = parser_conn(p);
    if (header_budget(c, len))
        return -1;
    struct http_header *h = &c->req.headers[c->req.nheaders - 1];
    if (h->value_off == SIZE_MAX)
        h->value_off = (size_t)(at - c->in);
    h->value.len += len;
    return 0;
}

/* Turns the offsets collected while parsing into arena strings, so the
 * input buffer may move from now on. */
static int req_fix_strings(struct tocsin_http_conn *c)
{
    struct tocsin_http_req *r = &c->req;
    char *url = tocsin_arena_strndup(&r->arena, c->in + r->url_off, r->url.len);
    if (!url)
        return -1;
    r->url.base = url;
    const char *q = memchr(url, '?', r->url.len);
    r->path = (tocsin_str){url, q ? (size_t)(q - url) : r->url.len};
    r->query = q ? (tocsin_str){q + 1, r->url.len - (size_t)(q - url) - 1} : TSTR("");
    for (size_t i = 0; i < r->nheaders; i++) {
        struct http_header *h = &r->headers[i];
        char *name = tocsin_arena_strndup(&r->arena, c->in + h->name_off, h->name.len);
        const char *value = h->value_off == SIZE_MAX
                                ? ""
                                : tocsin_arena_strndup(&r->arena, c->in + h->value_off, h->value.len);
        if (!name || !value)
            return -1;
        h->name.base = name;
        h->value.base = value;
        if (h->value_off == SIZE_MAX)
            h->value.len = 0;
    }
    const char *m = llhttp_method_name((llhttp_method_t)c->parser.method);
    r->method = tocsin_str_from(m);
    return 0;
}

static const char continue_line[] = "HTTP/1.1 100 Continue\r\n\r\n";

static int on_headers_complete(llhttp_t *p)
{
    struct tocsin_http_conn *c = parser_conn(p);
    struct tocsin_http_req *r = &c->req;
    c->parsing_headers = 0;
    if (req_fix_strings(c)) {
        c->reject_status = 503;
        return -1;
    }
    r->keep_alive = llhttp_should_keep_alive(p);
    int has_body = (p->flags & F_CHUNKED) || ((p->flags & F_CONTENT_LENGTH) && p->content_length);
    if ((p->flags & F_CONTENT_LENGTH) && p->content_length > c->server->opts.max_body_bytes) {
        c->reject_status = 413;
        return -1;
    }
    tocsin_str expect = tocsin_http_header(r, "expect");
    if (expect.len && has_body) {
        if (!tocsin_str_eq_nocase(expect, TSTR("100-continue"))) {
            c->reject_status = 417;
            return -1;
        }
        uv_buf_t b = uv_buf_init((char *)continue_line, sizeof continue_line - 1);
        http_conn_write(c, &b, 1, NULL, NULL);
    }
    conn_timer(c, has_body ? c->server->opts.body_timeout_ms : 0);
    return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t len)
{
    struct tocsin_http_conn *c = parser_conn(p);
    if (c->body_len + len > c->server->opts.max_body_bytes) {
        c->reject_status = 413;
        return -1;
    }
    if (c->body_len + len > c->body_cap) {
        size_t cap = c->body_cap ? c->body_cap : 4096;
        while (cap < c->body_len + len)
            cap *= 2;
        char *b = realloc(c->body, cap);
        if (!b) {
            c->reject_status = 503;
            return -1;
        }
        c->body = b;
        c->body_cap = cap;
    }
    memcpy(c->body + c->body_len, at, len);
    c->body_len += len;
    return 0;
}

static int on_message_complete(llhttp_t *p)
{
    struct tocsin_http_conn *c = parser_conn(p);
    c->req.body = (tocsin_str){c->body_len ? c->body : "", c->body_len};
    c->in_message = 0;
    conn_timer(c, 0);
    return HPE_PAUSED; /* hand the request over before parsing the next */
}

/* --- processing -------------------------------------------------------- */

static void conn_reject(struct tocsin_http_conn *c, int status, const char *code, const char *msg)
{
    struct tocsin_http_req *r = &c->req;
    if (!r->method.base)
        r->method = TSTR("-");
    if (!r->path.base)
        r->path = TSTR("-");
    r->keep_alive = 0;
    c->parsing_headers = 0;
    c->state = REQ_HANDLER;
    tocsin_http_error(r, status, code, "%s", msg);
}

static void conn_parse_failed(struct tocsin_http_conn *c, llhttp_errno_t err)
{
    switch (c->reject_status) {
    case 431:
        conn_reject(c, 431, "headers_too_large", "request headers are too large");
        return;
    case 413:
        conn_reject(c, 413, "body_too_large", "request body is too large");
        return;
    case 417:
        conn_reject(c, 417, "expectation_failed", "only \"Expect: 100-continue\" is supported");
        return;
    case 503:
        conn_reject(c, 503, "out_of_memory", "the server is out of memory");
        return;
    default:
        break;
    }
    if (err == HPE_PAUSED_UPGRADE) {
        conn_reject(c, 501, "not_implemented", "protocol upgrades are not supported");
        return;
    }
    char msg[160];
    snprintf(msg, sizeof msg, "malformed request: %s", llhttp_get_error_reason(&c->parser));
    conn_reject(c, 400, "bad_request", msg);
}

static void conn_process(struct tocsin_http_conn *c)
{
    if (c->in_process)
        return;
    c->in_process = 1;
    while (!c->closing && c->state == REQ_NONE && c->in_start < c->in_len) {
        const char *start = c->in + c->in_start;
        llhttp_errno_t err = llhttp_execute(&c->parser, start, c->in_len - c->in_start);
        if (err == HPE_OK) {
            c->in_start = c->in_len;
            break;
        }
        if (err == HPE_PAUSED) {
            c->in_start += (size_t)(llhttp_get_error_pos(&c->parser) - start);
            llhttp_resume(&c->parser);
            c->state = REQ_HANDLER;
            c->req.start_ns = c->req.start_ns ? c->req.start_ns : now_ns();
            http_dispatch(c->server, &c->req);
            continue;
        }
        conn_parse_failed(c, err);
        break;
    }
    c->in_process = 0;
}

void http_conn_response_done(struct tocsin_http_conn *c)
{
    struct tocsin_http_req *r = &c->req;
    struct tocsin_http_server *s = c->server;
    http_metrics_count(r->status);
    if (s->opts.access_log && tocsin_log_enabled(TOCSIN_LOG_INFO)) {
        char path[200];
        tocsin_log_quote(path, sizeof path, r->path.base ? r->path.base : "-", r->path.len);
        log_info("http_request", "method=%.*s path=%s status=%d bytes=%zu duration_ms=%.3f remote=%s",
                 (int)r->method.len, r->method.base ? r->method.base : "-", path, r->status,
                 r->bytes_out, (double)(now_ns() - r->start_ns) / 1e6, c->remote);
    }
    int keep = r->keep_alive && !c->aborted && !c->eof && !s->closing;
    c->state = REQ_NONE;
    tocsin_arena_reset(&r->arena);
    r->method = r->path = r->query = r->url = TSTR_NULL;
    r->nheaders = r->nextra = 0;
    r->start_ns = 0;
    r->on_abort = NULL;
    if (c->body_cap > 65536) { /* don't keep a big body buffer around */
        free(c->body);
        c->body = NULL;
        c->body_cap = 0;
    }
    c->body_len = 0;
    if (!keep) {
        http_conn_close(c);
        conn_maybe_free(c);
        return;
    }
    conn_timer(c, s->opts.idle_timeout_ms);
    conn_start_reading(c);
    conn_process(c);
}

/* --- server ------------------------------------------------------------ */

static void conn_init(struct tocsin_http_server *s, struct tocsin_http_conn *c)
{
    c->server = s;
    llhttp_init(&c->parser, HTTP_REQUEST, &s->settings);
    c->parser.data = c;
    tocsin_arena_init(&c->req.arena, 4096);
    c->req.conn = c;
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->nconns++;
}

static void on_connection(uv_stream_t *listener, int status)
{
    struct tocsin_http_server *s = listener->data;
    if (status < 0) {
        log_warn("http_accept_failed", "reason=\"%s\"", uv_strerror(status));
        return;
    }
    struct tocsin_http_conn *c = calloc(1, sizeof *c);
    if (!c)
        return;
    uv_tcp_init(s->loop, &c->tcp);
    uv_timer_init(s->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->handle_open = 2;
    conn_init(s, c);
    if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0 || s->nconns > s->opts.max_connections) {
        if (s->nconns > s->opts.max_connections)
            log_warn("http_connection_refused", "reason=\"too many connections\" open=%u",
                     s->nconns - 1);
        http_conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET6)
            uv_ip6_name((struct sockaddr_in6 *)&ss, c->remote, sizeof c->remote);
        else
            uv_ip4_name((struct sockaddr_in *)&ss, c->remote, sizeof c->remote);
    }
    conn_timer(c, s->opts.header_timeout_ms);
    conn_start_reading(c);
}

struct tocsin_http_server *tocsin_http_server_new(uv_loop_t *loop,
                                                  const struct tocsin_http_options *opts)
{
    struct tocsin_http_server *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->loop = loop;
    if (opts)
        s->opts = *opts;
    else
        tocsin_http_options_from_config(&s->opts, NULL);
    llhttp_settings_init(&s->settings);
    s->settings.on_message_begin = on_message_begin;
    s->settings.on_url = on_url;
    s->settings.on_header_field = on_header_field;
    s->settings.on_header_field_complete = on_header_field_complete;
    s->settings.on_header_value = on_header_value;
    s->settings.on_headers_complete = on_headers_complete;
    s->settings.on_body = on_body;
    s->settings.on_message_complete = on_message_complete;
    http_metrics_register();
    return s;
}

int tocsin_http_listen(struct tocsin_http_server *s, const char *addr, int port)
{
    struct sockaddr_storage ss;
    int rc = strchr(addr, ':') ? uv_ip6_addr(addr, port, (struct sockaddr_in6 *)&ss)
                               : uv_ip4_addr(addr, port, (struct sockaddr_in *)&ss);
    if (rc == 0)
        rc = uv_tcp_init_ex(s->loop, &s->listener, ss.ss_family);
    if (rc < 0) {
        log_error("http_listen_failed", "addr=%s port=%d reason=\"%s\"", addr, port, uv_strerror(rc));
        return rc;
    }
    s->listener.data = s;
    s->listening = 1;
    if (s->opts.reuseport) {
        uv_os_fd_t fd;
        int one = 1;
        if (uv_fileno((uv_handle_t *)&s->listener, &fd) == 0)
            setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    }
    rc = uv_tcp_bind(&s->listener, (struct sockaddr *)&ss, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&s->listener, 1024, on_connection);
    if (rc < 0) {
        log_error("http_listen_failed", "addr=%s port=%d reason=\"%s\"", addr, port, uv_strerror(rc));
        return rc;
    }
    struct sockaddr_storage bound;
    int len = sizeof bound;
    uv_tcp_getsockname(&s->listener, (struct sockaddr *)&bound, &len);
    s->port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
    log_info("http_listening", "addr=%s port=%d", addr, s->port);
    return 0;
}

int tocsin_http_port(const struct tocsin_http_server *s)
{
    return s->port;
}

unsigned tocsin_http_connections(const struct tocsin_http_server *s)
{
    return s->nconns;
}

static void listener_closed(uv_handle_t *h)
{
    struct tocsin_http_server *s = h->data;
    s->listening = 0;
    server_maybe_finish_close(s);
}

void tocsin_http_server_close(struct tocsin_http_server *s, void (*done)(void *arg), void *arg)
{
    s->closing = 1;
    s->close_done = done;
    s->close_arg = arg;
    for (struct tocsin_http_conn *c = s->conns, *next; c; c = next) {
        next = c->next;
        if (c->state == REQ_STREAMING)
            conn_abort(c);
        if (c->state == REQ_NONE || c->state == REQ_STREAMING)
            http_conn_close(c);
        /* REQ_HANDLER / REQ_WRITING close when their response is done. */
    }
    if (s->listening)
        uv_close((uv_handle_t *)&s->listener, listener_closed);
    else
        server_maybe_finish_close(s);
}

/* --- test hook ----------------------------------------------------------- */

struct tocsin_http_conn *tocsin_http_test_conn_new(struct tocsin_http_server *s)
{
    struct tocsin_http_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->detached = 1;
    c->handle_open = 1;
    snprintf(c->remote, sizeof c->remote, "test");
    conn_init(s, c);
    return c;
}

int tocsin_http_test_conn_feed(struct tocsin_http_conn *c, const char *data, size_t len)
{
    if (c->closing)
        return -1;
    if (len == 0)
        return 0;
    if (c->in_cap - c->in_len < len) {
        size_t cap = c->in_len + len + 1;
        char *in = realloc(c->in, cap);
        if (!in)
            return -1;
        c->in = in;
        c->in_cap = cap;
    }
    memcpy(c->in + c->in_len, data, len);
    c->in_len += len;
    conn_process(c);
    return c->closing ? -1 : 0;
}

void tocsin_http_test_conn_free(struct tocsin_http_conn *c)
{
    c->handle_open = 0;
    if (c->state != REQ_NONE) { /* a handler that never answered: drop it */
        c->aborted = 1;
        c->state = REQ_NONE;
    }
    conn_maybe_free(c);
}
