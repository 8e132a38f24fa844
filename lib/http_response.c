/* SPDX-License-Identifier: AGPL-3.0-or-later
 * http_response.c — writing responses: status line and headers, bodies,
 * uniform JSON errors, streams (Server-Sent Events), and the request
 * accessors and HTTP metrics. Response bytes are handed to http_conn_write,
 * which copies whatever the socket does not take at once. */
#include "http_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"

static struct tocsin_metric http_metrics[] = {
    TOCSIN_METRIC_COUNTER("tocsin_http_requests_total", "HTTP requests answered, by status class",
                          "code=\"1xx\""),
    TOCSIN_METRIC_COUNTER("tocsin_http_requests_total", "HTTP requests answered, by status class",
                          "code=\"2xx\""),
    TOCSIN_METRIC_COUNTER("tocsin_http_requests_total", "HTTP requests answered, by status class",
                          "code=\"3xx\""),
    TOCSIN_METRIC_COUNTER("tocsin_http_requests_total", "HTTP requests answered, by status class",
                          "code=\"4xx\""),
    TOCSIN_METRIC_COUNTER("tocsin_http_requests_total", "HTTP requests answered, by status class",
                          "code=\"5xx\""),
};

void http_metrics_register(void)
{
    for (size_t i = 0; i < ARRAY_SIZE(http_metrics); i++)
        tocsin_metric_register(&http_metrics[i]);
}

void http_metrics_count(int status)
{
    int cls = status / 100;
    if (cls >= 1 && cls <= 5)
        tocsin_metric_add(&http_metrics[cls - 1], 1);
}

const char *tocsin_http_reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 303:
        return "See Other";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 417:
        return "Expectation Failed";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return "Unknown";
    }
}

/* --- request accessors --- */

tocsin_str tocsin_http_method(const struct tocsin_http_req *r)
{
    return r->method;
}
tocsin_str tocsin_http_path(const struct tocsin_http_req *r)
{
    return r->path;
}
tocsin_str tocsin_http_query(const struct tocsin_http_req *r)
{
    return r->query;
}
tocsin_str tocsin_http_route_tail(const struct tocsin_http_req *r)
{
    return r->route_tail;
}
tocsin_str tocsin_http_body(const struct tocsin_http_req *r)
{
    return r->body;
}
const char *tocsin_http_peer_addr(const struct tocsin_http_req *r)
{
    return r->conn->remote;
}

const char *tocsin_http_remote_addr(struct tocsin_http_req *r)
{
    if (r->client[0])
        return r->client;
    const char *v[HTTP_MAX_HEADERS];
    size_t len[HTTP_MAX_HEADERS], n = 0;
    static const tocsin_str xff = {"x-forwarded-for", 15};
    for (size_t i = 0; i < r->nheaders; i++)
        if (r->headers[i].name.base && tocsin_str_eq_nocase(r->headers[i].name, xff)) {
            v[n] = r->headers[i].value.base ? r->headers[i].value.base : "";
            len[n++] = r->headers[i].value.base ? r->headers[i].value.len : 0;
        }
    tocsin_client_addr(r->conn->server->opts.trusted_proxies, r->conn->remote, v, len, n,
                       r->client);
    return r->client;
}
struct tocsin_arena *tocsin_http_arena(struct tocsin_http_req *r)
{
    return &r->arena;
}
int tocsin_http_aborted(const struct tocsin_http_req *r)
{
    return r->conn->aborted;
}

tocsin_str tocsin_http_header(const struct tocsin_http_req *r, const char *name)
{
    tocsin_str n = tocsin_str_from(name);
    for (size_t i = 0; i < r->nheaders; i++)
        if (r->headers[i].name.base && tocsin_str_eq_nocase(r->headers[i].name, n))
            return r->headers[i].value;
    return TSTR_NULL;
}

void tocsin_http_on_abort(struct tocsin_http_req *r, void (*cb)(void *ctx), void *ctx)
{
    r->on_abort = cb;
    r->on_abort_ctx = ctx;
}

void tocsin_http_add_header(struct tocsin_http_req *r, const char *name, const char *value)
{
    if (r->nextra == HTTP_MAX_EXTRA_HEADERS)
        return;
    const char *n = tocsin_arena_strndup(&r->arena, name, strlen(name));
    const char *v = tocsin_arena_strndup(&r->arena, value, strlen(value));
    if (!n || !v)
        return;
    r->extra_headers[r->nextra][0] = n;
    r->extra_headers[r->nextra][1] = v;
    r->nextra++;
}

/* --- responses --- */

static void response_written(struct tocsin_http_conn *c, int status, void *arg)
{
    (void)status;
    (void)arg;
    http_conn_response_done(c);
}

static char *put(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

#define PUT_LIT(p, lit) put((p), (lit), sizeof(lit) - 1)

static char *put_str(char *p, const char *s)
{
    return put(p, s, strlen(s));
}

static char *put_uint(char *p, unsigned long long v)
{
    char digits[24];
    size_t n = 0;
    do
        digits[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    while (n)
        *p++ = digits[--n];
    return p;
}

/* Formats the status line and headers into the arena (memcpy, not printf:
 * this runs for every response). length < 0 means no Content-Length (a
 * stream that ends with the connection). */
static char *response_head(struct tocsin_http_req *r, int status, const char *content_type,
                           long long length, int keep, size_t *out_len)
{
    const char *reason = tocsin_http_reason(status);
    size_t cap = 128 + strlen(reason) + (content_type ? strlen(content_type) : 0);
    for (size_t i = 0; i < r->nextra; i++)
        cap += strlen(r->extra_headers[i][0]) + strlen(r->extra_headers[i][1]) + 4;
    char *h = tocsin_arena_alloc(&r->arena, cap);
    if (!h)
        return NULL;
    char *p = PUT_LIT(h, "HTTP/1.1 ");
    p = put_uint(p, status >= 100 && status <= 999 ? (unsigned)status : 500);
    *p++ = ' ';
    p = put_str(p, reason);
    if (content_type) {
        p = PUT_LIT(p, "\r\nContent-Type: ");
        p = put_str(p, content_type);
    }
    if (length >= 0) {
        p = PUT_LIT(p, "\r\nContent-Length: ");
        p = put_uint(p, (unsigned long long)length);
    }
    for (size_t i = 0; i < r->nextra; i++) {
        p = PUT_LIT(p, "\r\n");
        p = put_str(p, r->extra_headers[i][0]);
        p = PUT_LIT(p, ": ");
        p = put_str(p, r->extra_headers[i][1]);
    }
    if (!keep)
        p = PUT_LIT(p, "\r\nConnection: close");
    else if (r->conn->parser.http_minor == 0)
        p = PUT_LIT(p, "\r\nConnection: keep-alive");
    p = PUT_LIT(p, "\r\n\r\n");
    *out_len = (size_t)(p - h);
    return h;
}

static int response_keep_alive(const struct tocsin_http_req *r)
{
    const struct tocsin_http_conn *c = r->conn;
    return r->keep_alive && !c->eof && !c->server->closing;
}

void tocsin_http_respond(struct tocsin_http_req *r, int status, const char *content_type,
                         const void *body, size_t len)
{
    struct tocsin_http_conn *c = r->conn;
    if (c->state != REQ_HANDLER) {
        log_error("http_double_response", "status=%d", status);
        abort(); /* a handler answered twice: a bug that must not go unnoticed */
    }
    r->status = status;
    c->state = REQ_WRITING;
    if (c->aborted || c->closing) {
        http_conn_response_done(c);
        return;
    }
    int keep = response_keep_alive(r);
    r->keep_alive = keep;
    size_t head_len;
    char *head = response_head(r, status, content_type, (long long)len, keep, &head_len);
    if (!head) {
        c->aborted = 1; /* out of memory: drop the connection */
        http_conn_response_done(c);
        return;
    }
    uv_buf_t bufs[2] = {uv_buf_init(head, (unsigned)head_len),
                        uv_buf_init((char *)body, (unsigned)len)};
    r->bytes_out = len;
    http_conn_write(c, bufs, len ? 2 : 1, response_written, NULL);
}

void tocsin_http_drop(struct tocsin_http_req *r)
{
    struct tocsin_http_conn *c = r->conn;
    if (c->state != REQ_HANDLER)
        abort();
    r->status = 0;
    r->keep_alive = 0;
    c->state = REQ_WRITING;
    c->aborted = 1;
    http_conn_response_done(c); /* not keep-alive: the connection closes */
}

void tocsin_http_respond_json(struct tocsin_http_req *r, int status, json_t *json)
{
    char *text = json ? json_dumps(json, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    json_decref(json);
    if (!text) {
        static const char fallback[] =
            "{\"error\":{\"status\":500,\"code\":\"internal\",\"message\":\"could not encode the response\"}}";
        tocsin_http_respond(r, 500, "application/json", fallback, sizeof fallback - 1);
        return;
    }
    tocsin_http_respond(r, status, "application/json", text, strlen(text));
    free(text);
}

void tocsin_http_error(struct tocsin_http_req *r, int status, const char *code, const char *fmt,
                       ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *j = json_pack("{s:{s:i,s:s,s:s%}}", "error", "status", status, "code", code, "message",
                          msg, strlen(msg));
    tocsin_http_respond_json(r, status, j);
}

/* --- streams --- */

void tocsin_http_stream_begin(struct tocsin_http_req *r, int status, const char *content_type)
{
    struct tocsin_http_conn *c = r->conn;
    if (c->state != REQ_HANDLER)
        abort();
    r->status = status;
    r->keep_alive = 0;
    c->state = REQ_STREAMING;
    if (c->aborted || c->closing)
        return;
    size_t head_len;
    char *head = response_head(r, status, content_type, -1, 0, &head_len);
    if (!head) {
        c->aborted = 1;
        return;
    }
    uv_buf_t b = uv_buf_init(head, (unsigned)head_len);
    http_conn_write(c, &b, 1, NULL, NULL);
}

/* One owner ends a stream. A write that fails reports it by returning -1
 * and disarms on_abort first, so the callback (which typically frees the
 * caller's state) never runs inside this call: the caller, still holding
 * its state, ends the stream. on_abort is only called from the loop
 * (a read error, a failed queued write, a timeout, the server closing). */
int tocsin_http_stream_write(struct tocsin_http_req *r, const void *data, size_t len)
{
    struct tocsin_http_conn *c = r->conn;
    if (c->state != REQ_STREAMING)
        return -1;
    if (c->aborted || c->closing) {
        r->on_abort = NULL;
        return -1;
    }
    if (!c->detached && uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) > 1048576) {
        log_warn("http_stream_slow_client", "remote=%s queued_bytes=%zu", c->remote,
                 uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp));
        r->on_abort = NULL;
        c->aborted = 1; /* a client that reads nothing cannot hold our memory */
        return -1;
    }
    r->bytes_out += len;
    void (*on_abort)(void *) = r->on_abort;
    r->on_abort = NULL; /* a synchronous failure is reported by the return value */
    uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
    http_conn_write(c, &b, 1, NULL, NULL);
    if (c->aborted)
        return -1;
    r->on_abort = on_abort;
    return 0;
}

void tocsin_http_stream_end(struct tocsin_http_req *r)
{
    struct tocsin_http_conn *c = r->conn;
    if (c->state == REQ_WRITING && r->stream_ended)
        return; /* ended already, by an on_abort callback */
    if (c->state != REQ_STREAMING)
        abort();
    r->stream_ended = 1;
    c->state = REQ_WRITING;
    if (c->aborted || c->closing) {
        http_conn_response_done(c);
        return;
    }
    /* An empty write completes after everything queued before it. */
    uv_buf_t b = uv_buf_init("", 0);
    http_conn_write(c, &b, 1, response_written, NULL);
}
