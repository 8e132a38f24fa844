/* SPDX-License-Identifier: AGPL-3.0-or-later
 * tls_session.h — one TLS connection over memory buffers (OpenSSL memory
 * BIOs), with no I/O of its own: the caller feeds it the bytes its socket
 * read and sends the bytes it hands back. So the same code serves a libuv
 * stream, a blocking test server or a fuzzer. A client session verifies
 * the peer's certificate chain against the system's CAs (OpenSSL's
 * defaults: SSL_CERT_FILE and SSL_CERT_DIR override them) and its name
 * against the host it was made for; TLS 1.2 at least. */
#ifndef TOCSIN_TLS_SESSION_H
#define TOCSIN_TLS_SESSION_H

#include <stddef.h>
#include <sys/types.h>

typedef struct ssl_ctx_st SSL_CTX;
struct tocsin_tls;

/* The process's client context (made on first use; NULL if OpenSSL could
 * not make it). Freed at exit by OpenSSL. */
SSL_CTX *tocsin_tls_client_ctx(void);

/* Makes the client context trust the certificates in path (PEM) instead
 * of the system's store: `tocsinctl doctor --ca-file`. Only before the
 * context is first used. Returns 0, or -1 (already made, or the file is
 * not a readable PEM file of certificates). */
int tocsin_tls_client_use_ca_file(const char *path);

/* A client session for host (a DNS name, or an address when host_is_ip),
 * or a server session (host NULL) on a context that has its certificate.
 * NULL if out of memory. */
struct tocsin_tls *tocsin_tls_new(SSL_CTX *ctx, const char *host, int host_is_ip);
void tocsin_tls_free(struct tocsin_tls *t);

/* Bytes read from the socket. Returns 0, or -1 if out of memory. */
int tocsin_tls_feed(struct tocsin_tls *t, const char *data, size_t len);

/* Advances the handshake with what was fed: 1 done, 0 needs more bytes
 * from the peer (send what tocsin_tls_take_out has first), -1 failed (see
 * tocsin_tls_error). */
int tocsin_tls_handshake(struct tocsin_tls *t);

/* Plaintext received: up to cap bytes into buf. Returns the count, 0 when
 * nothing more is available yet, -1 when the peer closed the session or it
 * failed (tocsin_tls_error says which; "" for a clean close). */
ssize_t tocsin_tls_read(struct tocsin_tls *t, char *buf, size_t cap);

/* Plaintext to send (after the handshake). Returns 0 or -1. */
int tocsin_tls_write(struct tocsin_tls *t, const char *data, size_t len);

/* The bytes waiting to go to the socket: copies up to cap into buf and
 * returns how many (0 when none). */
size_t tocsin_tls_take_out(struct tocsin_tls *t, char *buf, size_t cap);
size_t tocsin_tls_pending_out(const struct tocsin_tls *t);

/* Why the last call failed: a sentence naming the TLS or certificate
 * error; "" when nothing failed or the peer closed cleanly. */
const char *tocsin_tls_error(const struct tocsin_tls *t);

#endif
