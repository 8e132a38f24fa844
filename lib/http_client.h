/* SPDX-License-Identifier: AGPL-3.0-or-later
 * http_client.h — outgoing HTTP/1.1 and HTTPS on the libuv loop, our own
 * (http_client.c, http_client_conn.c): keep-alive connections are reused
 * per origin; the number of transfers in flight is bounded (more wait in a
 * queue). Each response says whether the request left this machine, so a
 * caller can tell "refused before sending, safe to retry" from "sent,
 * outcome unknown", and no request is ever sent twice. HTTPS verifies the
 * certificate against the system's CAs (SSL_CERT_FILE / SSL_CERT_DIR
 * override them) and the URL's host. Response heads are capped at 64 KB,
 * bodies at 4 MB. Not thread-safe: one loop. */
#ifndef TOCSIN_HTTP_CLIENT_H
#define TOCSIN_HTTP_CLIENT_H

#include <stddef.h>

#include <uv.h>

struct tocsin_http_client;

struct tocsin_http_client_request {
    const char *method; /* "GET", "POST" */
    const char *url;
    const char *const *headers; /* "Name: value" strings, NULL-terminated, or NULL */
    const char *body;           /* copied */
    size_t body_len;
    const char *basic_auth;  /* "user:password", or NULL */
    long timeout_ms;         /* whole transfer (default 10000) */
    long connect_timeout_ms; /* default 3000 */
};

struct tocsin_http_client_response {
    long status;      /* HTTP status, 0 when there was no response */
    const char *body; /* NUL-terminated; valid during the callback */
    size_t body_len;
    const char *error; /* NULL, or why the transfer failed */
    int timed_out;
    int request_sent; /* 1 once any byte of the request went out */
};

typedef void (*tocsin_http_client_cb)(const struct tocsin_http_client_response *r, void *ctx);

/* max_in_flight: concurrent transfers (1..1000). NULL if out of memory.
 * Ignores SIGPIPE if the process left it at its default. */
struct tocsin_http_client *tocsin_http_client_new(uv_loop_t *loop, unsigned max_in_flight);

/* Starts a request; cb is called exactly once, on a later loop turn.
 * Returns 0, or -1 (closing, out of memory, or a bad request: a URL that
 * is not absolute http(s), a method that is not upper-case letters, a
 * header without a name or with CR/LF; cb not called, nothing sent). */
int tocsin_http_client_send(struct tocsin_http_client *c,
                            const struct tocsin_http_client_request *req, tocsin_http_client_cb cb,
                            void *ctx);

/* Transfers in flight plus queued. */
unsigned tocsin_http_client_pending(const struct tocsin_http_client *c);

/* Lets pending transfers finish, then frees the client and calls done(arg). */
void tocsin_http_client_close(struct tocsin_http_client *c, void (*done)(void *arg), void *arg);

#endif
