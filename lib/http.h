/* SPDX-License-Identifier: AGPL-3.0-or-later
 * http.h — a small HTTP/1.1 server on libuv with llhttp doing the parsing:
 * keep-alive and pipelining (requests on one connection are answered in
 * order, one at a time), caps on header and body size (431 / 413) and on
 * the bytes buffered for all connections together (503),
 * header/body/idle timeouts, Expect: 100-continue, routing by method and
 * path, a per-request arena, uniform JSON errors, an access log line, and
 * streaming responses (Server-Sent Events).
 *
 * A handler may answer at once or later (after a database commit on the
 * same loop). Every request gets exactly one response call; the request
 * (its views and its arena) stays valid until then even if the client has
 * gone (tocsin_http_aborted() tells, and the response is then discarded),
 * and still until the callback that responded returns to the loop: the
 * response is finished, and the arena released, on the next loop turn.
 * Responses are written with uv_try_write first; whatever the socket does
 * not take is copied, so response bodies need not outlive the call.
 * Not thread-safe: one loop. */
#ifndef TOCSIN_HTTP_H
#define TOCSIN_HTTP_H

#include <stddef.h>

#include <jansson.h>
#include <uv.h>

#include "arena.h"
#include "common.h"
#include "config.h"
#include "crypto.h"
#include "form.h" /* tocsin_form_get */

struct tocsin_http_server;
struct tocsin_http_req;

struct tocsin_http_options {
    size_t max_header_bytes;    /* request line + headers; above: 431 */
    size_t max_body_bytes;      /* above: 413 */
    unsigned header_timeout_ms; /* from the first byte of a request to the end of its headers */
    unsigned body_timeout_ms;   /* from the end of the headers to the end of the body */
    unsigned idle_timeout_ms;   /* keep-alive: between requests */
    unsigned write_timeout_ms;  /* for the client to take a response (default: body_timeout_ms) */
    /* A timeout of 0 disables that timeout. */
    unsigned max_connections;
    /* Request bytes held in memory for all connections together (their
     * input and body buffers); a connection that would take more gets 503
     * (0: no cap). Each connection is also capped on its own: input up
     * to its head cap plus a pipelining allowance, body up to
     * max_body_bytes; idle keep-alive connections hold no buffer. */
    size_t max_buffered_bytes;
    int reuseport;  /* SO_REUSEPORT, so several processes share a port */
    int access_log; /* one info line per request (default on) */
    /* Proxies whose X-Forwarded-For names the client (NULL: none); must
     * outlive the server. */
    const struct tocsin_trusted_proxies *trusted_proxies;
};

/* Defaults, overridden by the TOCSIN_HTTP_* settings in cfg. */
void tocsin_http_options_from_config(struct tocsin_http_options *o,
                                     const struct tocsin_config *cfg);

typedef void (*tocsin_http_handler)(struct tocsin_http_req *req, void *ctx);

/* Creates a server on loop; name appears in log lines ("gateway").
 * Returns NULL if out of memory. Free it with tocsin_http_server_close(). */
struct tocsin_http_server *tocsin_http_server_new(uv_loop_t *loop,
                                                  const struct tocsin_http_options *opts);

/* Routes method + path to handler. A path ending in "/ *" (no space) matches that prefix
 * and anything below it (tocsin_http_route_tail() gives the rest). Exact
 * routes win over prefixes; longer prefixes over shorter. A known path with
 * another method gets 405 with Allow; an unknown path 404. Returns 0, or -1
 * if the table is full (64 routes). method and path must outlive the server. */
int tocsin_http_route(struct tocsin_http_server *s, const char *method, const char *path,
                      tocsin_http_handler handler, void *ctx);

/* GET /healthz and GET /metrics. health (may be NULL) returns NULL when
 * healthy or the reason it is not (then 503). */
typedef const char *(*tocsin_http_health_fn)(void *ctx);
void tocsin_http_add_standard_routes(struct tocsin_http_server *s, tocsin_http_health_fn health,
                                     void *ctx);

/* Listens on addr:port (port 0 = any free port). Returns 0 or a negative
 * libuv error, logged with its reason. */
int tocsin_http_listen(struct tocsin_http_server *s, const char *addr, int port);

/* The port actually bound (after tocsin_http_listen with port 0). */
int tocsin_http_port(const struct tocsin_http_server *s);

/* Stops listening, closes idle connections at once and busy ones when
 * their response is done (or aborts them), then frees the server and calls
 * done(arg). */
void tocsin_http_server_close(struct tocsin_http_server *s, void (*done)(void *arg), void *arg);

/* Number of open connections. */
unsigned tocsin_http_connections(const struct tocsin_http_server *s);

/* --- the request (views valid until the response is complete) --- */
tocsin_str tocsin_http_method(const struct tocsin_http_req *r);
tocsin_str tocsin_http_path(const struct tocsin_http_req *r);  /* without ?query */
tocsin_str tocsin_http_query(const struct tocsin_http_req *r); /* after '?', may be empty */
tocsin_str tocsin_http_route_tail(const struct tocsin_http_req *r);
tocsin_str tocsin_http_body(const struct tocsin_http_req *r);
/* Header value by case-insensitive name; {NULL, 0} if absent. */
tocsin_str tocsin_http_header(const struct tocsin_http_req *r, const char *name);
/* The client's address (client_addr.h): the TCP peer, or what trusted
 * proxies forwarded. Valid until the response is complete. */
const char *tocsin_http_remote_addr(struct tocsin_http_req *r);
/* The TCP peer, whatever proxies say. */
const char *tocsin_http_peer_addr(const struct tocsin_http_req *r);
struct tocsin_arena *tocsin_http_arena(struct tocsin_http_req *r);
/* 1 once the client has gone (for a stream, also once the server closes). */
int tocsin_http_aborted(const struct tocsin_http_req *r);
/* Calls cb(ctx) once if the client goes away before the response ends
 * (streams use it to drop a subscriber): on a reset or a write error, and
 * for a stream also on an orderly close. A plain close (FIN) while a
 * handler is still working is taken as a half-close: the answer is still
 * sent, then the connection closes. cb may respond or end the stream. */
void tocsin_http_on_abort(struct tocsin_http_req *r, void (*cb)(void *ctx), void *ctx);

/* Decodes an application/x-www-form-urlencoded body (or query with
 * from_query) into pairs allocated in the request's arena. Returns 0, or -1
 * with a reason in err (bad %-escape, more than 256 fields). */
int tocsin_http_form(struct tocsin_http_req *r, int from_query, struct tocsin_kv **pairs, size_t *n,
                     char *err, size_t errlen);

/* Parses the body as JSON (objects and arrays nested at most
 * TOCSIN_HTTP_JSON_MAX_DEPTH deep; the body is already bounded by
 * max_body_bytes). Returns a new reference, or NULL with a reason
 * ("invalid JSON at line 1 column 5: ...") in err. */
#define TOCSIN_HTTP_JSON_MAX_DEPTH 32
json_t *tocsin_http_json(struct tocsin_http_req *r, char *err, size_t errlen);

/* --- the response: exactly one of respond/respond_json/error/stream --- */

/* Adds a response header (copied). */
void tocsin_http_add_header(struct tocsin_http_req *r, const char *name, const char *value);

/* Sends status with body (copied); content_type may be NULL when len is 0. */
void tocsin_http_respond(struct tocsin_http_req *r, int status, const char *content_type,
                         const void *body, size_t len);

/* Sends json (the reference is stolen) as application/json. */
void tocsin_http_respond_json(struct tocsin_http_req *r, int status, json_t *json);

/* Sends {"error":{"status":N,"code":"...","message":"..."}}. */
void tocsin_http_error(struct tocsin_http_req *r, int status, const char *code, const char *fmt,
                       ...) __attribute__((format(printf, 4, 5)));

/* Ends the request by closing the connection without any response (a
 * test double of a carrier that read the request and then vanished). */
void tocsin_http_drop(struct tocsin_http_req *r);

/* Streaming (Server-Sent Events): begin sends the headers with no
 * Content-Length and no chunked coding — the body is delimited by the
 * connection, which closes at the end; write sends data (copied if the
 * socket cannot take it at once), end finishes. write returns 0, or -1
 * once the client has gone or has left more than 1 MiB unread.
 *
 * Ownership: exactly one path ends a stream. When write returns -1 the
 * on_abort callback has been disarmed and will never run: the caller
 * ends the stream (and frees what it keeps for it). on_abort runs only
 * from the loop, never inside a call the application makes, when the
 * client goes while no write of ours is failing; it may end the stream
 * itself, and a second end from the same loop turn is then ignored. */
void tocsin_http_stream_begin(struct tocsin_http_req *r, int status, const char *content_type);
int tocsin_http_stream_write(struct tocsin_http_req *r, const void *data, size_t len);
void tocsin_http_stream_end(struct tocsin_http_req *r);

/* The reason phrase of a status code ("Not Found"). */
const char *tocsin_http_reason(int status);

/* Test hook (fuzzing): feeds bytes to a connection that is not attached to
 * a socket; responses are discarded. Returns 0 while the connection would
 * stay open, -1 once it would close. */
struct tocsin_http_conn;
struct tocsin_http_conn *tocsin_http_test_conn_new(struct tocsin_http_server *s);
int tocsin_http_test_conn_feed(struct tocsin_http_conn *c, const char *data, size_t len);
void tocsin_http_test_conn_free(struct tocsin_http_conn *c);

#endif
