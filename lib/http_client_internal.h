/* SPDX-License-Identifier: AGPL-3.0-or-later
 * http_client_internal.h — what http_client.c (the pool and the transfers)
 * and http_client_conn.c (one connection's I/O) share. Not for callers:
 * they use http_client.h. */
#ifndef TOCSIN_HTTP_CLIENT_INTERNAL_H
#define TOCSIN_HTTP_CLIENT_INTERNAL_H

#include <stdint.h>

#include <llhttp.h>
#include <uv.h>

#include "dynbuf.h"
#include "http_client.h"
#include "http_url.h"
#include "tls_session.h"

#define HC_MAX_BODY (4 * 1024 * 1024) /* a response body, NUL included */
#define HC_MAX_HEAD (64 * 1024)       /* a response's status line and headers */
#define HC_MAX_REQUEST (1024 * 1024)  /* a request, head and body */
#define HC_READ_BUF (16 * 1024)

struct hc_conn;

struct hc_transfer {
    struct hc_transfer *next; /* in the queue, or the delivery list */
    struct tocsin_http_client *client;
    struct hc_conn *conn; /* while attached */
    struct tocsin_http_url url;
    char origin[TOCSIN_HTTP_HOST_MAX + 24];
    struct tocsin_dynbuf request; /* head and body, as sent */
    struct tocsin_dynbuf body;    /* the response's */
    long status;
    int sent;     /* a byte of the request reached the kernel */
    int reopened; /* its first connection died before a byte was written */
    int timed_out;
    char error[256]; /* "" unless the transfer failed */
    uint64_t started_ms;
    long timeout_ms, connect_timeout_ms;
    tocsin_http_client_cb cb;
    void *ctx;
    char url_text[]; /* the URL as given: url.target points into it */
};

enum hc_conn_state { HC_RESOLVING, HC_CONNECTING, HC_HANDSHAKE, HC_READY, HC_CLOSING };

struct hc_conn {
    uv_tcp_t tcp;
    uv_timer_t timer; /* the attached transfer's deadline */
    uv_connect_t connect_req;
    uv_getaddrinfo_t resolve_req;
    uv_write_t write_req;
    struct tocsin_http_client *client;
    struct hc_conn *idle_next;
    char origin[TOCSIN_HTTP_HOST_MAX + 24];
    enum hc_conn_state state;
    struct tocsin_tls *tls;        /* NULL for http:// */
    struct hc_transfer *t;         /* the transfer using it, or NULL when idle */
    struct addrinfo *addrs, *addr; /* every address resolved, the one tried */
    llhttp_t parser;
    size_t head_bytes; /* of the response being read, until its headers end */
    int head_done, message_done, too_big;
    int out_has_request;      /* k->out holds bytes of the attached request */
    int reused;               /* attached again after a response: may have died idle */
    int reopening;            /* the socket is closing for the host's next address */
    struct tocsin_dynbuf out; /* bytes not yet handed to the kernel */
    char *writing;            /* the buffer a uv_write holds, or NULL */
    int handles;              /* open libuv handles and requests; freed at 0 */
    int tcp_open, resolving;
    uint64_t idle_since;
    char rbuf[HC_READ_BUF];
    int reading; /* rbuf is lent to libuv */
};

struct tocsin_http_client {
    uv_loop_t *loop;
    uv_timer_t kick;
    unsigned max_in_flight, in_flight, queued, nidle, nconns;
    struct hc_transfer *qhead, *qtail; /* waiting for a slot */
    struct hc_transfer *dhead, *dtail; /* ended, callbacks not yet made */
    struct hc_conn *idle;              /* keep-alive connections, newest first */
    int in_send, in_run;
    int closing, closing_now, kick_closed;
    void (*close_done)(void *);
    void *close_arg;
};

/* http_client.c */
void hc_transfer_done(struct hc_transfer *t);
void hc_transfer_fail(struct hc_transfer *t, const char *why, int timed_out);
void hc_idle_add(struct tocsin_http_client *c, struct hc_conn *k);
void hc_idle_remove(struct tocsin_http_client *c, struct hc_conn *k);
void hc_client_run(struct tocsin_http_client *c);
void hc_client_maybe_free(struct tocsin_http_client *c);

/* http_client_conn.c */
void hc_conn_open(struct tocsin_http_client *c, struct hc_transfer *t);
void hc_conn_attach(struct hc_conn *k, struct hc_transfer *t);
void hc_conn_close(struct hc_conn *k);
int hc_conn_alive(struct hc_conn *k);

#endif
