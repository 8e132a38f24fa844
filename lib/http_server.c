/* SPDX-License-Identifier: AGPL-3.0-or-later
 * http_server.c — the server: options, listening, accepting connections
 * (up to max_connections), finishing responses deferred to the next loop
 * turn, and closing everything cleanly. A connection's own life is in
 * http_conn.c, parsing in http_parse.c, responses in http_response.c and
 * routes in http_router.c. */
#define _DEFAULT_SOURCE /* SO_REUSEPORT */
#include "http_internal.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

void tocsin_http_options_from_config(struct tocsin_http_options *o, const struct tocsin_config *cfg)
{
    memset(o, 0, sizeof *o);
    o->max_header_bytes = cfg ? cfg->http_max_header_bytes : 16384;
    o->max_body_bytes = cfg ? cfg->http_max_body_bytes : 1048576;
    o->header_timeout_ms = cfg ? cfg->http_header_timeout_ms : 10000;
    o->body_timeout_ms = cfg ? cfg->http_body_timeout_ms : 30000;
    o->idle_timeout_ms = cfg ? cfg->http_idle_timeout_ms : 60000;
    o->write_timeout_ms = o->body_timeout_ms;
    o->max_connections = cfg ? cfg->http_max_connections : 10000;
    o->max_buffered_bytes = cfg ? (size_t)cfg->http_max_buffered_bytes : 268435456;
    o->access_log = 1;
}

/* --- closing ------------------------------------------------------------ */

static void server_idle_closed(uv_handle_t *h)
{
    struct tocsin_http_server *s = h->data;
    void (*done)(void *) = s->close_done;
    void *arg = s->close_arg;
    free(s);
    if (done)
        done(arg);
}

void http_server_maybe_finish_close(struct tocsin_http_server *s)
{
    if (!s->closing || s->conns || s->listening || s->idle_closing)
        return;
    s->idle_closing = 1;
    uv_close((uv_handle_t *)&s->idle, server_idle_closed);
}

static void listener_closed(uv_handle_t *h)
{
    struct tocsin_http_server *s = h->data;
    s->listening = 0;
    http_server_maybe_finish_close(s);
}

void tocsin_http_server_close(struct tocsin_http_server *s, void (*done)(void *arg), void *arg)
{
    s->closing = 1;
    s->close_done = done;
    s->close_arg = arg;
    for (struct tocsin_http_conn *c = s->conns, *next; c; c = next) {
        next = c->next;
        if (c->state == REQ_STREAMING)
            http_conn_abort(c);
        if (c->state == REQ_NONE || c->state == REQ_STREAMING)
            http_conn_close(c);
        /* REQ_HANDLER / REQ_WRITING close when their response is done. */
    }
    if (s->listening)
        uv_close((uv_handle_t *)&s->listener, listener_closed);
    else
        http_server_maybe_finish_close(s);
}

/* Finishes the responses given from inside handlers' own callbacks. */
void http_server_run_deferred(uv_idle_t *idle)
{
    struct tocsin_http_server *s = idle->data;
    uv_idle_stop(idle);
    struct tocsin_http_conn *c;
    while ((c = s->deferred) != NULL) {
        s->deferred = c->deferred_next;
        c->deferred_next = NULL;
        http_conn_finish_response(c); /* may free c, and close s's idle */
    }
}

/* --- connections --------------------------------------------------------- */

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

static void conn_remote_name(struct tocsin_http_conn *c)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) != 0)
        return;
    if (ss.ss_family == AF_INET6)
        uv_ip6_name((struct sockaddr_in6 *)&ss, c->remote, sizeof c->remote);
    else
        uv_ip4_name((struct sockaddr_in *)&ss, c->remote, sizeof c->remote);
}

static void on_connection(uv_stream_t *listener, int status)
{
    struct tocsin_http_server *s = listener->data;
    if (status < 0) {
        log_warn("http_accept_failed", "reason=%s", tocsin_log_q(uv_strerror(status)));
        return;
    }
    struct tocsin_http_conn *c = calloc(1, sizeof *c);
    if (!c)
        return; /* the connection waits in the backlog */
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
    conn_remote_name(c);
    http_conn_timer(c, s->opts.header_timeout_ms);
    http_conn_start_reading(c);
}

/* --- the server ------------------------------------------------------------ */

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
    uv_idle_init(loop, &s->idle);
    s->idle.data = s;
    http_parser_settings_init(&s->settings);
    http_metrics_register();
    return s;
}

static int listen_failed(const char *addr, int port, int rc)
{
    log_error("http_listen_failed", "addr=%s port=%d reason=%s", addr, port,
              tocsin_log_q(uv_strerror(rc)));
    return rc;
}

int tocsin_http_listen(struct tocsin_http_server *s, const char *addr, int port)
{
    struct sockaddr_storage ss;
    int rc = strchr(addr, ':') ? uv_ip6_addr(addr, port, (struct sockaddr_in6 *)&ss)
                               : uv_ip4_addr(addr, port, (struct sockaddr_in *)&ss);
    if (rc == 0)
        rc = uv_tcp_init_ex(s->loop, &s->listener, ss.ss_family);
    if (rc < 0)
        return listen_failed(addr, port, rc);
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
    if (rc < 0)
        return listen_failed(addr, port, rc);
    struct sockaddr_storage bound;
    int len = sizeof bound;
    uv_tcp_getsockname(&s->listener, (struct sockaddr *)&bound, &len);
    s->port = ntohs(((struct sockaddr_in *)&bound)->sin_port); /* same offset in sockaddr_in6 */
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

/* --- test hook (no socket) ---------------------------------------------- */

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

void tocsin_http_test_conn_free(struct tocsin_http_conn *c)
{
    c->handle_open = 0;
    if (c->state != REQ_NONE) { /* a handler that never answered: drop it */
        c->aborted = 1;
        c->state = REQ_NONE;
    }
    http_conn_maybe_free(c);
}
