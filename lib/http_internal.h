/* SPDX-License-Identifier: AGPL-3.0-or-later
 * http_internal.h — the structures shared by http_server.c (the server),
 * http_conn.c (a connection's life), http_parse.c (llhttp callbacks),
 * http_response.c (writing) and http_router.c (dispatch). Not public API. */
#ifndef TOCSIN_HTTP_INTERNAL_H
#define TOCSIN_HTTP_INTERNAL_H

#include <llhttp.h>
#include <uv.h>

#include "arena.h"
#include "client_addr.h"
#include "http.h"

#define HTTP_MAX_HEADERS 100
#define HTTP_MAX_ROUTES 64
#define HTTP_MAX_EXTRA_HEADERS 16

struct http_route {
    const char *method;
    const char *path;
    size_t path_len;
    int prefix; /* path ended in a slash and star: match path_len bytes */
    tocsin_http_handler handler;
    void *ctx;
};

struct http_header {
    tocsin_str name, value;
    size_t name_off, value_off; /* while parsing: offsets into conn->in */
};

enum req_state {
    REQ_NONE = 0,  /* no request, or still parsing one */
    REQ_HANDLER,   /* handed to the handler, no response yet */
    REQ_WRITING,   /* response queued, waiting for the write to finish */
    REQ_STREAMING, /* stream_begin called, stream_end not yet */
};

struct tocsin_http_req {
    struct tocsin_http_conn *conn;
    struct tocsin_arena arena;
    tocsin_str method, path, query, url, body, route_tail;
    struct http_header headers[HTTP_MAX_HEADERS];
    size_t nheaders;
    size_t url_off;
    int keep_alive;
    int expect_continue;
    int stream_ended; /* tocsin_http_stream_end() was called */
    uint64_t start_ns;
    int status;
    size_t bytes_out;
    const char *extra_headers[HTTP_MAX_EXTRA_HEADERS][2];
    size_t nextra;
    void (*on_abort)(void *ctx);
    void *on_abort_ctx;
    char client[TOCSIN_ADDR_STRLEN]; /* tocsin_http_remote_addr(), "" until asked */
};

struct tocsin_http_conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uint64_t deadline;  /* loop time (ms) the current timeout ends, 0: none */
    uint64_t timer_due; /* when the uv_timer, if active, fires */
    struct tocsin_http_server *server;
    struct tocsin_http_conn *prev, *next;
    llhttp_t parser;
    char *in; /* received bytes not yet parsed, from in_start */
    size_t in_len, in_cap, in_start;
    size_t req_start; /* offset in `in` where the current request began */
    char *body;       /* the current request's body */
    size_t body_len, body_cap;
    struct tocsin_http_req req;
    enum req_state state;
    int parsing_headers; /* between message begin and headers complete */
    int in_message;      /* between message begin and message complete */
    size_t exec_start;   /* offset in `in` the current llhttp_execute began at */
    size_t head_start;   /* offset in `in` the current request's head began at */
    int reject_status;   /* 413/431/503/400 decided inside a parser callback */
    int over_budget;     /* conn_alloc refused to grow: 431 or 503 follows */
    int handle_open;     /* tcp handle not yet closed (or closing) */
    int closing;         /* close requested */
    int aborted;         /* the client went away / the server is closing */
    int eof;             /* the client half-closed after its request */
    int reading;
    int in_process;                         /* inside conn_process(): do not re-enter */
    int in_dispatch;                        /* inside the handler called by conn_process() */
    int finish_pending;                     /* response written, not yet finished (arena kept) */
    struct tocsin_http_conn *deferred_next; /* in server->deferred */
    int detached;                           /* test/fuzz connection without a socket */
    char remote[48];
};

struct tocsin_http_server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    int listening;
    int port;
    struct tocsin_http_options opts;
    llhttp_settings_t settings;
    struct http_route routes[HTTP_MAX_ROUTES];
    size_t nroutes;
    struct tocsin_http_conn *conns;
    unsigned nconns;
    size_t buffered; /* sum of every connection's in_cap and body_cap */
    int closing;
    uv_idle_t idle;                    /* runs http_server_run_deferred() */
    struct tocsin_http_conn *deferred; /* responses to finish next turn */
    int idle_closing;
    void (*close_done)(void *);
    void *close_arg;
    tocsin_http_health_fn health;
    void *health_ctx;
};

/* http_server.c */
void http_server_maybe_finish_close(struct tocsin_http_server *s);
void http_server_run_deferred(uv_idle_t *idle);

/* http_conn.c */
void http_conn_timer(struct tocsin_http_conn *c, unsigned ms); /* 0 stops it */
void http_conn_start_reading(struct tocsin_http_conn *c);
/* Writes bufs (which need not outlive the call: what the socket does not
 * take at once is copied); done(c, status, arg) runs once written, maybe
 * before http_conn_write returns. */
void http_conn_write(struct tocsin_http_conn *c, const uv_buf_t *bufs, unsigned nbufs,
                     void (*done)(struct tocsin_http_conn *c, int status, void *arg), void *arg);
/* The response is written (or dropped): finishes it (access log, metrics,
 * arena reset, next request) once no handler code can still be running. */
void http_conn_response_done(struct tocsin_http_conn *c);
void http_conn_finish_response(struct tocsin_http_conn *c);
void http_conn_abort(struct tocsin_http_conn *c); /* client gone: on_abort */
void http_conn_close(struct tocsin_http_conn *c);
void http_conn_maybe_free(struct tocsin_http_conn *c);
/* Resizes one of c's buffers (*buf of *cap bytes) to cap bytes, counted
 * against the server's max_buffered_bytes. Returns 0; -1 out of memory;
 * -2 over the server-wide cap (nothing changed). */
int http_conn_buffer_resize(struct tocsin_http_conn *c, char **buf, size_t *cap, size_t newcap);

/* http_parse.c */
void http_parser_settings_init(llhttp_settings_t *s);

/* http_router.c */
void http_dispatch(struct tocsin_http_server *s, struct tocsin_http_req *r);

/* http_response.c */
void http_metrics_count(int status);
void http_metrics_register(void);

#endif
