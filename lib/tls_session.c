/* SPDX-License-Identifier: AGPL-3.0-or-later
 * tls_session.c — OpenSSL over memory BIOs (see tls_session.h). */
#include "tls_session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

struct tocsin_tls {
    SSL *ssl;
    BIO *in, *out; /* socket -> OpenSSL, OpenSSL -> socket; owned by ssl */
    char error[256];
};

static SSL_CTX *client_ctx;
static int client_ctx_tried;

/* A client context trusting ca_file alone, or the system's store. */
static SSL_CTX *make_client_ctx(const char *ca_file)
{
    SSL_CTX *c = SSL_CTX_new(TLS_client_method());
    if (!c)
        return NULL;
    int trusted = ca_file ? SSL_CTX_load_verify_locations(c, ca_file, NULL)
                          : SSL_CTX_set_default_verify_paths(c);
    if (SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION) != 1 || trusted != 1) {
        SSL_CTX_free(c);
        ERR_clear_error();
        return NULL;
    }
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
    return c;
}

SSL_CTX *tocsin_tls_client_ctx(void)
{
    if (!client_ctx_tried) {
        client_ctx_tried = 1;
        client_ctx = make_client_ctx(NULL);
    }
    return client_ctx;
}

int tocsin_tls_client_use_ca_file(const char *path)
{
    if (client_ctx_tried)
        return -1;
    SSL_CTX *c = make_client_ctx(path);
    if (!c)
        return -1;
    client_ctx_tried = 1;
    client_ctx = c;
    return 0;
}

struct tocsin_tls *tocsin_tls_new(SSL_CTX *ctx, const char *host, int host_is_ip)
{
    struct tocsin_tls *t = calloc(1, sizeof *t);
    if (!t || !ctx || !(t->ssl = SSL_new(ctx)))
        goto fail;
    t->in = BIO_new(BIO_s_mem());
    t->out = BIO_new(BIO_s_mem());
    if (!t->in || !t->out) {
        BIO_free(t->in);
        BIO_free(t->out);
        goto fail;
    }
    /* An empty memory BIO reads as "retry", not end of file. */
    BIO_set_mem_eof_return(t->in, -1);
    SSL_set_bio(t->ssl, t->in, t->out);
    if (!host) {
        SSL_set_accept_state(t->ssl);
        return t;
    }
    SSL_set_connect_state(t->ssl);
    X509_VERIFY_PARAM *param = SSL_get0_param(t->ssl);
    if (host_is_ip) {
        if (X509_VERIFY_PARAM_set1_ip_asc(param, host) != 1)
            goto fail;
    } else {
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        if (SSL_set_tlsext_host_name(t->ssl, host) != 1 || SSL_set1_host(t->ssl, host) != 1)
            goto fail;
    }
    return t;
fail:
    tocsin_tls_free(t);
    return NULL;
}

void tocsin_tls_free(struct tocsin_tls *t)
{
    if (!t)
        return;
    SSL_free(t->ssl); /* frees both BIOs */
    free(t);
}

int tocsin_tls_feed(struct tocsin_tls *t, const char *data, size_t len)
{
    while (len) {
        int chunk = len > 1 << 30 ? 1 << 30 : (int)len;
        int n = BIO_write(t->in, data, chunk);
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Records why OpenSSL failed: the certificate's verdict when that is the
 * cause, else the first queued error. Clears the thread's error queue so
 * one session's failure never shows up as another's. */
static void note_error(struct tocsin_tls *t, int ret)
{
    int code = SSL_get_error(t->ssl, ret);
    long verdict = SSL_get_verify_result(t->ssl);
    unsigned long e = ERR_peek_error();
    if (code == SSL_ERROR_ZERO_RETURN) {
        t->error[0] = '\0';
    } else if (verdict != X509_V_OK) {
        snprintf(t->error, sizeof t->error, "TLS: the certificate was refused: %s",
                 X509_verify_cert_error_string(verdict));
    } else if (e) {
        char buf[200];
        ERR_error_string_n(e, buf, sizeof buf);
        snprintf(t->error, sizeof t->error, "TLS: %s", buf);
    } else {
        snprintf(t->error, sizeof t->error, "TLS: the peer closed the connection");
    }
    ERR_clear_error();
}

int tocsin_tls_handshake(struct tocsin_tls *t)
{
    int r = SSL_do_handshake(t->ssl);
    if (r == 1)
        return 1;
    int code = SSL_get_error(t->ssl, r);
    if (code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE)
        return 0;
    note_error(t, r);
    if (!t->error[0])
        snprintf(t->error, sizeof t->error, "TLS: the peer closed during the handshake");
    return -1;
}

ssize_t tocsin_tls_read(struct tocsin_tls *t, char *buf, size_t cap)
{
    if (cap == 0)
        return 0;
    int r = SSL_read(t->ssl, buf, cap > 1 << 30 ? 1 << 30 : (int)cap);
    if (r > 0)
        return r;
    int code = SSL_get_error(t->ssl, r);
    if (code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE)
        return 0;
    note_error(t, r);
    return -1;
}

int tocsin_tls_write(struct tocsin_tls *t, const char *data, size_t len)
{
    while (len) {
        int chunk = len > 1 << 30 ? 1 << 30 : (int)len;
        int r = SSL_write(t->ssl, data, chunk);
        if (r <= 0) {
            /* A memory BIO takes everything: any failure is final. */
            note_error(t, r);
            return -1;
        }
        data += r;
        len -= (size_t)r;
    }
    return 0;
}

size_t tocsin_tls_pending_out(const struct tocsin_tls *t)
{
    return BIO_ctrl_pending(t->out);
}

size_t tocsin_tls_take_out(struct tocsin_tls *t, char *buf, size_t cap)
{
    size_t pending = BIO_ctrl_pending(t->out);
    if (!pending || !cap)
        return 0;
    int n = BIO_read(t->out, buf, (int)(pending < cap ? pending : cap > 1 << 30 ? 1 << 30 : cap));
    return n > 0 ? (size_t)n : 0;
}

const char *tocsin_tls_error(const struct tocsin_tls *t)
{
    return t->error;
}
