/* SPDX-License-Identifier: AGPL-3.0-or-later
 * http_conn.c — one connection's life: reading into its input buffer,
 * running the parser, handing each request to the router one at a time,
 * writing (uv_try_write first), timeouts, aborts, and freeing the
 * connection once its socket is closed and no handler holds its request.
 * Parsing callbacks are in http_parse.c; the server itself in http_server.c. */
#include "http_internal.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define READ_CHUNK 16384
#define PIPELINE_SLACK 65536 /* bytes buffered beyond a request in flight */

/* The most a connection's input buffer grows to: the pipelined bytes read
 * while a handler works, a whole head after them (a head's bytes cannot
 * move while it is parsed), and room for a read; twice that covers it. */
static size_t conn_in_max(const struct tocsin_http_conn *c)
{
    return 2 * (c->server->opts.max_header_bytes + PIPELINE_SLACK + READ_CHUNK);
}

int http_conn_buffer_resize(struct tocsin_http_conn *c, char **buf, size_t *cap, size_t newcap)
{
    struct tocsin_http_server *s = c->server;
    assert(s->buffered >= *cap);
    size_t total = s->buffered - *cap + newcap;
    if (newcap > *cap && s->opts.max_buffered_bytes && total > s->opts.max_buffered_bytes)
        return -2;
    char *b = newcap ? realloc(*buf, newcap) : (free(*buf), NULL);
    if (newcap && !b)
        return -1;
    *buf = b;
    *cap = newcap;
    s->buffered = total;
    return 0;
}

/* Gives back a connection's buffers (between requests on a kept-alive
 * connection with nothing pipelined, and when it is freed). */
static void conn_release_buffers(struct tocsin_http_conn *c)
{
    http_conn_buffer_resize(c, &c->in, &c->in_cap, 0);
    http_conn_buffer_resize(c, &c->body, &c->body_cap, 0);
    c->in_len = c->in_start = 0;
    c->body_len = 0;
}

static void conn_process(struct tocsin_http_conn *c);
static void conn_reject(struct tocsin_http_conn *c, int status, const char *code, const char *msg);
static void conn_overloaded(struct tocsin_http_conn *c);

/* --- timers ------------------------------------------------------------ */

/* One deadline per connection. The uv_timer is re-armed only when a
 * deadline comes sooner than the timer's: most requests move the deadline
 * later (header, then idle timeout), which then costs no timer-heap work;
 * the timer wakes once, sees the new deadline and sleeps again. */
static void conn_timer_fired(uv_timer_t *t)
{
    struct tocsin_http_conn *c = container_of(t, struct tocsin_http_conn, timer);
    if (!c->deadline)
        return; /* stopped */
    uint64_t now = uv_now(t->loop);
    if (now < c->deadline) {
        c->timer_due = c->deadline;
        uv_timer_start(t, conn_timer_fired, c->deadline - now, 0);
        return;
    }
    c->deadline = 0;
    if (c->state == REQ_WRITING && !c->finish_pending) {
        /* The client reads too slowly (or not at all) to take the answer. */
        log_warn("http_write_timeout", "remote=%s status=%d", c->remote, c->req.status);
        http_conn_abort(c);
        http_conn_close(c);
        return;
    }
    if (c->state != REQ_NONE)
        return; /* a handler owns the request; it answers */
    if (c->in_message) {
        conn_reject(c, 408, "request_timeout", "the request was not received in time");
        return;
    }
    http_conn_close(c); /* idle keep-alive connection, or one that sent nothing */
}

void http_conn_timer(struct tocsin_http_conn *c, unsigned ms)
{
    if (c->detached || c->closing)
        return;
    if (!ms) {
        c->deadline = 0; /* a running timer will find nothing to do */
        return;
    }
    c->deadline = uv_now(c->timer.loop) + ms;
    if (!uv_is_active((uv_handle_t *)&c->timer) || c->timer_due > c->deadline) {
        c->timer_due = c->deadline;
        uv_timer_start(&c->timer, conn_timer_fired, ms, 0);
    }
}

/* --- lifecycle --------------------------------------------------------- */

void http_conn_maybe_free(struct tocsin_http_conn *c)
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
    conn_release_buffers(c);
    free(c);
    http_server_maybe_finish_close(s);
}

static void conn_handle_closed(uv_handle_t *h)
{
    struct tocsin_http_conn *c = h->data;
    if (--c->handle_open == 0)
        http_conn_maybe_free(c);
}

void http_conn_abort(struct tocsin_http_conn *c)
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
    char data[]; /* what uv_try_write did not take */
};

static void conn_write_done(uv_write_t *w, int status)
{
    struct conn_write *cw = container_of(w, struct conn_write, w);
    struct tocsin_http_conn *c = cw->conn;
    void (*done)(struct tocsin_http_conn *, int, void *) = cw->done;
    void *arg = cw->arg;
    free(cw);
    if (status < 0 && !c->aborted) {
        http_conn_abort(c);
        http_conn_close(c);
    }
    if (done)
        done(c, status, arg);
}

static void conn_write_failed(struct tocsin_http_conn *c, int rc,
                              void (*done)(struct tocsin_http_conn *, int, void *), void *arg)
{
    http_conn_abort(c);
    http_conn_close(c);
    if (done)
        done(c, rc, arg);
}

void http_conn_write(struct tocsin_http_conn *c, const uv_buf_t *bufs, unsigned nbufs,
                     void (*done)(struct tocsin_http_conn *c, int status, void *arg), void *arg)
{
    if (c->detached || c->closing) {
        if (done)
            done(c, c->closing ? UV_ECANCELED : 0, arg);
        return;
    }
    size_t total = 0;
    for (unsigned i = 0; i < nbufs; i++)
        total += bufs[i].len;
    /* Most answers fit in the socket buffer: no request, no copy. libuv
     * refuses (UV_EAGAIN) while earlier writes are queued, so order holds. */
    int rc = uv_try_write((uv_stream_t *)&c->tcp, bufs, nbufs);
    if (rc < 0 && rc != UV_EAGAIN) {
        conn_write_failed(c, rc, done, arg);
        return;
    }
    size_t sent = rc > 0 ? (size_t)rc : 0;
    if (sent == total && rc != UV_EAGAIN) {
        if (done)
            done(c, 0, arg);
        return;
    }
    struct conn_write *cw = malloc(sizeof *cw + (total - sent));
    if (!cw) {
        conn_write_failed(c, UV_ENOMEM, done, arg);
        return;
    }
    size_t off = 0, k = 0;
    for (unsigned i = 0; i < nbufs; i++) { /* copy the bytes after `sent` */
        size_t skip = sent > off ? sent - off : 0;
        if (skip < bufs[i].len) {
            memcpy(cw->data + k, bufs[i].base + skip, bufs[i].len - skip);
            k += bufs[i].len - skip;
        }
        off += bufs[i].len;
    }
    cw->conn = c;
    cw->done = done;
    cw->arg = arg;
    uv_buf_t rest = uv_buf_init(cw->data, (unsigned)k);
    rc = uv_write(&cw->w, (uv_stream_t *)&c->tcp, &rest, 1, conn_write_done);
    if (rc < 0) {
        free(cw);
        conn_write_failed(c, rc, done, arg);
        return;
    }
    if (c->state == REQ_WRITING)
        http_conn_timer(c, c->server->opts.write_timeout_ms);
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
    if (c->in_cap - c->in_len < READ_CHUNK && c->in_cap < conn_in_max(c)) {
        size_t cap = c->in_cap ? c->in_cap * 2 : READ_CHUNK * 2;
        if (cap > conn_in_max(c))
            cap = conn_in_max(c);
        int rc = http_conn_buffer_resize(c, &c->in, &c->in_cap, cap);
        if (rc == -1) {
            buf->base = NULL;
            buf->len = 0; /* libuv reports UV_ENOBUFS: the connection closes */
            return;
        }
        if (rc == -2 && c->in_cap == c->in_len)
            c->over_budget = 1; /* nowhere to read into: conn_read refuses */
    }
    if (c->in_cap == c->in_len) {
        c->over_budget = 1; /* at the per-connection cap, or the server's */
        buf->base = NULL;
        buf->len = 0; /* UV_ENOBUFS */
        return;
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
    if (nread == UV_ENOBUFS && c->over_budget) {
        /* No room to read into. A handler at work: wait for its answer
         * (reading resumes after it). Otherwise: refuse. */
        c->over_budget = 0;
        uv_read_stop(stream);
        c->reading = 0;
        if (c->state == REQ_NONE) {
            if (c->parsing_headers && c->in_cap >= conn_in_max(c))
                conn_reject(c, 431, "headers_too_large", "request headers are too large");
            else
                conn_overloaded(c);
        }
        return;
    }
    log_debug("http_read_end", "remote=%s reason=%s state=%d", c->remote,
              tocsin_log_q(uv_strerror((int)nread)), (int)c->state);
    if (nread == UV_EOF && (c->state == REQ_HANDLER || c->state == REQ_WRITING)) {
        c->eof = 1; /* half-close after the request: answer, then close */
        uv_read_stop(stream);
        c->reading = 0;
        return;
    }
    http_conn_abort(c);
    http_conn_close(c);
}

void http_conn_start_reading(struct tocsin_http_conn *c)
{
    if (c->reading || c->detached || c->closing || c->eof)
        return;
    if (uv_read_start((uv_stream_t *)&c->tcp, conn_alloc, conn_read) == 0)
        c->reading = 1;
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
    c->in_dispatch = 1;
    tocsin_http_error(r, status, code, "%s", msg);
    c->in_dispatch = 0;
    if (c->finish_pending)
        http_conn_finish_response(c);
}

/* The server holds max_buffered_bytes for its connections already. */
static void conn_overloaded(struct tocsin_http_conn *c)
{
    log_warn("http_overloaded", "remote=%s buffered=%zu max=%zu", c->remote, c->server->buffered,
             c->server->opts.max_buffered_bytes);
    tocsin_http_add_header(&c->req, "Retry-After", "1");
    conn_reject(c, 503, "overloaded", "the server holds too many unfinished requests; retry");
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
        if (c->over_budget) {
            c->over_budget = 0;
            conn_overloaded(c);
            return;
        }
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

/* Parses buffered bytes while no request is in flight. A handler that
 * answers at once has its response finished here, after it returned, so
 * it may still use the request until then. */
static void conn_process(struct tocsin_http_conn *c)
{
    if (c->in_process)
        return;
    c->in_process = 1;
    while (!c->closing && c->state == REQ_NONE && c->in_start < c->in_len) {
        const char *start = c->in + c->in_start;
        c->exec_start = c->in_start;
        llhttp_errno_t err = llhttp_execute(&c->parser, start, c->in_len - c->in_start);
        if (err == HPE_OK) {
            c->in_start = c->in_len;
            /* Bytes llhttp took without a callback (spaces before a value,
             * line ends) count toward the head's cap all the same. */
            if (c->parsing_headers && c->in_len - c->head_start > c->server->opts.max_header_bytes)
                conn_reject(c, 431, "headers_too_large", "request headers are too large");
            break;
        }
        if (err != HPE_PAUSED) {
            conn_parse_failed(c, err);
            break;
        }
        c->in_start += (size_t)(llhttp_get_error_pos(&c->parser) - start);
        llhttp_resume(&c->parser);
        c->state = REQ_HANDLER;
        c->in_dispatch = 1;
        http_dispatch(c->server, &c->req);
        c->in_dispatch = 0;
        if (c->finish_pending)
            http_conn_finish_response(c);
    }
    c->in_process = 0;
}

/* --- finishing a response ---------------------------------------------- */

void http_conn_response_done(struct tocsin_http_conn *c)
{
    struct tocsin_http_server *s = c->server;
    c->finish_pending = 1;
    if (c->in_dispatch)
        return; /* conn_process finishes it when the handler returns */
    if (c->detached) {
        http_conn_finish_response(c);
        return;
    }
    /* Called from inside a handler's callback: finish on the next loop
     * turn so the caller may still touch the request after responding. */
    c->deferred_next = s->deferred;
    s->deferred = c;
    uv_idle_start(&s->idle, http_server_run_deferred);
}

void http_conn_finish_response(struct tocsin_http_conn *c)
{
    struct tocsin_http_req *r = &c->req;
    struct tocsin_http_server *s = c->server;
    c->finish_pending = 0;
    http_metrics_count(r->status);
    if (s->opts.access_log && tocsin_log_enabled(TOCSIN_LOG_INFO)) {
        char path[200];
        tocsin_log_quote(path, sizeof path, r->path.base ? r->path.base : "-", r->path.len);
        log_info("http_request", "method=%.*s path=%s status=%d bytes=%zu duration_ms=%.3f remote=%s",
                 (int)r->method.len, r->method.base ? r->method.base : "-", path, r->status,
                 r->bytes_out, (double)(uv_hrtime() - r->start_ns) / 1e6, c->remote);
    }
    int keep = r->keep_alive && !c->aborted && !c->eof && !s->closing;
    c->state = REQ_NONE;
    tocsin_arena_reset(&r->arena);
    r->method = r->path = r->query = r->url = TSTR_NULL;
    r->nheaders = r->nextra = 0;
    r->start_ns = 0;
    r->on_abort = NULL;
    r->stream_ended = 0;
    c->body_len = 0;
    if (keep && c->in_start == c->in_len)
        conn_release_buffers(c);  /* idle until the next request: hold nothing */
    else if (c->body_cap > 65536) /* don't keep a big body buffer around */
        http_conn_buffer_resize(c, &c->body, &c->body_cap, 0);
    if (!keep) {
        http_conn_close(c);
        http_conn_maybe_free(c);
        return;
    }
    http_conn_timer(c, s->opts.idle_timeout_ms);
    http_conn_start_reading(c);
    conn_process(c);
}

/* --- test hook ----------------------------------------------------------- */

int tocsin_http_test_conn_feed(struct tocsin_http_conn *c, const char *data, size_t len)
{
    if (c->closing)
        return -1;
    if (len == 0)
        return 0;
    if (c->in_cap - c->in_len < len &&
        http_conn_buffer_resize(c, &c->in, &c->in_cap, c->in_len + len + 1) != 0)
        return -1;
    memcpy(c->in + c->in_len, data, len);
    c->in_len += len;
    conn_process(c);
    return c->closing ? -1 : 0;
}
