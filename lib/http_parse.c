/* SPDX-License-Identifier: AGPL-3.0-or-later
 * http_parse.c — the llhttp callbacks: request line and headers kept as
 * offsets into the connection's input while they arrive, then copied into
 * the request's arena; the header (431) and body (413) caps, Expect:
 * 100-continue, and the pause at the end of each message that hands the
 * request to http_conn.c. Owns no memory of its own. */
#include "http_internal.h"

#include <string.h>

static struct tocsin_http_conn *parser_conn(llhttp_t *p)
{
    return p->data;
}

/* Checks the head against its cap (431) by position: every byte from the
 * request's first to `end` counts, including what llhttp skips without a
 * callback (spaces before a value, line ends), so padding is no way past
 * the cap. */
static int header_budget(struct tocsin_http_conn *c, const char *end)
{
    if ((size_t)(end - c->in) - c->head_start > c->server->opts.max_header_bytes) {
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
    r->start_ns = uv_hrtime();
    r->status = 0;
    r->bytes_out = 0;
    c->body_len = 0;
    c->head_start = c->exec_start; /* a request begins where an execute does */
    c->parsing_headers = 1;
    c->in_message = 1;
    http_conn_timer(c, c->server->opts.header_timeout_ms);
    return 0;
}

static int on_url(llhttp_t *p, const char *at, size_t len)
{
    struct tocsin_http_conn *c = parser_conn(p);
    if (header_budget(c, at + len))
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
    if (header_budget(c, at + len))
        return -1;
    struct http_header *h = r->nheaders ? &r->headers[r->nheaders - 1] : NULL;
    if (!h || h->value.base) { /* value.base marks "field finished" while parsing */
        if (r->nheaders == HTTP_MAX_HEADERS) {
            c->reject_status = 431;
            return -1;
        }
        h = &r->headers[r->nheaders++];
        memset(h, 0, sizeof *h);
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
    if (header_budget(c, at + len))
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
        const char *value =
            h->value_off == SIZE_MAX
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
    http_conn_timer(c, has_body ? c->server->opts.body_timeout_ms : 0);
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
        if (cap > c->server->opts.max_body_bytes)
            cap = c->server->opts.max_body_bytes; /* checked above: it fits */
        int rc = http_conn_buffer_resize(c, &c->body, &c->body_cap, cap);
        if (rc) {
            c->reject_status = 503;
            c->over_budget = rc == -2;
            return -1;
        }
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
    http_conn_timer(c, 0);
    return HPE_PAUSED; /* hand the request over before parsing the next */
}

void http_parser_settings_init(llhttp_settings_t *s)
{
    llhttp_settings_init(s);
    s->on_message_begin = on_message_begin;
    s->on_url = on_url;
    s->on_header_field = on_header_field;
    s->on_header_field_complete = on_header_field_complete;
    s->on_header_value = on_header_value;
    s->on_headers_complete = on_headers_complete;
    s->on_body = on_body;
    s->on_message_complete = on_message_complete;
}
