/* SPDX-License-Identifier: AGPL-3.0-or-later
 * test_http_client_wire.c — the outgoing HTTP client against a scripted
 * server on a thread (blocking sockets, optionally TLS with certificates
 * made here): what a carrier, a proxy or an attacker in between can do on
 * the wire. A request is never sent twice (a connection dropped after the
 * request went out is an error with request_sent, whether it was fresh or
 * kept alive); a kept-alive connection the server closed is not reused;
 * extra bytes, oversized heads and bodies, and broken HTTP fail the
 * transfer; chunked and close-delimited bodies are read whole; header
 * injection is refused before anything is sent; TLS verifies the chain
 * and the name (DNS or IP), refuses another CA and another name with
 * request_sent 0, and keeps its connection alive. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "http_client.h"
#include "http_client_result.h"
#include "log.h"

/* --- what the server does with each request, in order --- */

enum act {
    ANSWER,          /* 201 with the request's body, kept alive */
    ANSWER_CLOSE,    /* 201, then close the connection */
    READ_CLOSE,      /* read the request, close without answering */
    ANSWER_GARBAGE,  /* 201 and then bytes nobody asked for */
    ANSWER_CHUNKED,  /* the body in chunks */
    ANSWER_BY_CLOSE, /* no length: the body ends when the connection does */
    HUGE_HEAD,       /* 70 KB of headers */
    HUGE_BODY,       /* a body past 4 MB */
    NOT_HTTP,        /* something else entirely */
    INTERIM,         /* a 100 Continue, then the 201 */
};

struct wire_server {
    int fd, port;
    SSL_CTX *tls; /* NULL: plain */
    enum act script[16];
    int nscript;
    pthread_t thread;
    /* counted by the server */
    int requests, connections;
    char last_request[8192];
};

struct peer {
    int fd;
    SSL *ssl;
};

static ssize_t peer_read(struct peer *p, char *buf, size_t n)
{
    return p->ssl ? SSL_read(p->ssl, buf, (int)n) : read(p->fd, buf, n);
}

static void peer_write(struct peer *p, const char *buf, size_t n)
{
    while (n) {
        ssize_t w = p->ssl ? SSL_write(p->ssl, buf, (int)n) : write(p->fd, buf, n);
        if (w <= 0)
            return;
        buf += w;
        n -= (size_t)w;
    }
}

static void peer_printf(struct peer *p, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    peer_write(p, buf, (size_t)n);
}

/* Reads one request (head and Content-Length body) into buf; its length,
 * or 0 when the client closed. */
static size_t read_request(struct peer *p, char *buf, size_t cap)
{
    size_t len = 0;
    for (;;) {
        buf[len] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (end) {
            const char *cl = strstr(buf, "Content-Length: ");
            size_t want = (size_t)(end + 4 - buf) + (cl ? strtoul(cl + 16, NULL, 10) : 0);
            if (len >= want)
                return len;
        }
        ssize_t n = peer_read(p, buf + len, cap - 1 - len);
        if (n <= 0)
            return 0;
        len += (size_t)n;
    }
}

static void *serve(void *arg)
{
    struct wire_server *s = arg;
    int step = 0;
    while (step < s->nscript) {
        int fd = accept(s->fd, NULL, NULL);
        if (fd < 0)
            break;
        s->connections++;
        struct peer p = {fd, NULL};
        if (s->tls) {
            p.ssl = SSL_new(s->tls);
            SSL_set_fd(p.ssl, fd);
            if (SSL_accept(p.ssl) != 1) { /* the client refused us: next connection */
                SSL_free(p.ssl);
                close(fd);
                ERR_clear_error();
                continue;
            }
        }
        char req[8192];
        int open = 1;
        while (open && step < s->nscript) {
            size_t n = read_request(&p, req, sizeof req);
            if (!n)
                break;
            s->requests++;
            snprintf(s->last_request, sizeof s->last_request, "%s", req);
            const char *body = strstr(req, "\r\n\r\n") + 4;
            switch (s->script[step++]) {
            case ANSWER:
                peer_printf(&p, "HTTP/1.1 201 Created\r\nContent-Length: %zu\r\n\r\n%s",
                            strlen(body), body);
                break;
            case ANSWER_CLOSE:
                peer_printf(&p, "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok");
                open = 0;
                break;
            case READ_CLOSE:
                open = 0;
                break;
            case ANSWER_GARBAGE:
                peer_printf(&p, "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200");
                break;
            case ANSWER_CHUNKED:
                peer_printf(&p, "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
                                "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n");
                break;
            case ANSWER_BY_CLOSE:
                peer_printf(&p, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nto the end");
                open = 0;
                break;
            case HUGE_HEAD:
                peer_printf(&p, "HTTP/1.1 200 OK\r\n");
                for (int i = 0; i < 1000; i++)
                    peer_printf(&p, "X-Pad-%d: %070d\r\n", i, i);
                peer_printf(&p, "Content-Length: 0\r\n\r\n");
                break;
            case HUGE_BODY: {
                peer_printf(&p, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", 5 << 20);
                static char chunk[65536];
                memset(chunk, 'z', sizeof chunk);
                for (int i = 0; i < 80; i++)
                    peer_write(&p, chunk, sizeof chunk);
                open = 0;
                break;
            }
            case NOT_HTTP:
                peer_printf(&p, "SSH-2.0-OpenSSH_9.2\r\n\r\n");
                break;
            case INTERIM:
                peer_printf(&p, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\n"
                                "Content-Length: 5\r\n\r\nfinal");
                break;
            }
        }
        if (p.ssl) {
            SSL_shutdown(p.ssl);
            SSL_free(p.ssl);
        }
        close(fd);
    }
    return NULL;
}

static void server_start(struct wire_server *s, SSL_CTX *tls, int n, const enum act *script)
{
    memset(s, 0, sizeof *s);
    s->tls = tls;
    s->nscript = n;
    memcpy(s->script, script, sizeof *script * (size_t)n);
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s->fd, 16), 0);
    socklen_t al = sizeof a;
    getsockname(s->fd, (struct sockaddr *)&a, &al);
    s->port = ntohs(a.sin_port);
    pthread_create(&s->thread, NULL, serve, s);
}

static void server_stop(struct wire_server *s)
{
    shutdown(s->fd, SHUT_RDWR); /* ends a waiting accept */
    pthread_join(s->thread, NULL);
    close(s->fd);
}

/* --- the client side --- */

static uv_loop_t loop;
static struct tocsin_http_client *client;

static void run_until(int *flag)
{
    for (int i = 0; i < 1000000 && !*flag; i++)
        uv_run(&loop, UV_RUN_ONCE);
    assert_true(*flag);
}

static void post(const char *scheme, const char *host, int port, const char *body,
                 struct result *res)
{
    char url[256];
    snprintf(url, sizeof url, "%s://%s:%d/2010-04-01/Messages.json", scheme, host, port);
    const char *headers[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    struct tocsin_http_client_request req = {.method = "POST",
                                             .url = url,
                                             .headers = headers,
                                             .body = body,
                                             .body_len = strlen(body),
                                             .basic_auth = "AC1:tok",
                                             .timeout_ms = 5000,
                                             .connect_timeout_ms = 2000};
    memset(res, 0, sizeof *res);
    assert_int_equal(tocsin_http_client_send(client, &req, on_result, res), 0);
    assert_int_equal(res->done, 0); /* never inside the call */
    run_until(&res->done);
}

static int setup(void **state)
{
    (void)state;
    tocsin_log_init("test", TOCSIN_LOG_ERROR);
    uv_loop_init(&loop);
    client = tocsin_http_client_new(&loop, 4);
    return client ? 0 : -1;
}

static void closed(void *arg)
{
    *(int *)arg = 1;
}

static int teardown(void **state)
{
    (void)state;
    int done = 0;
    tocsin_http_client_close(client, closed, &done);
    run_until(&done);
    uv_run(&loop, UV_RUN_DEFAULT);
    return uv_loop_close(&loop) == 0 ? 0 : -1;
}

/* --- plain HTTP --- */

static void test_keep_alive_then_dropped_after_sending(void **state)
{
    (void)state;
    struct wire_server s;
    enum act script[] = {ANSWER, ANSWER, READ_CLOSE, ANSWER};
    server_start(&s, NULL, 4, script);
    struct result r;
    post("http", "127.0.0.1", s.port, "To=%2B1&Body=one", &r);
    assert_int_equal(r.status, 201);
    assert_string_equal(r.body, "To=%2B1&Body=one");
    assert_non_null(strstr(s.last_request, "Authorization: Basic QUMxOnRvaw==\r\n"));
    assert_non_null(strstr(s.last_request, "Host: 127.0.0.1:"));
    assert_memory_equal(s.last_request, "POST /2010-04-01/Messages.json HTTP/1.1\r\n", 41);
    assert_non_null(strstr(s.last_request, "\r\nContent-Length: 16\r\n"));
    assert_non_null(strstr(s.last_request, "\r\nAccept: */*\r\n"));
    post("http", "127.0.0.1", s.port, "two", &r);
    assert_int_equal(r.status, 201);
    assert_int_equal(s.connections, 1); /* kept alive */
    /* ...but an idle connection does not keep the loop alive: a daemon
     * that has drained exits at once. */
    assert_int_equal(uv_loop_alive(&loop), 0);
    /* The server reads the third and hangs up: no answer, and the client
     * must not send it again on a new connection (curl would). */
    post("http", "127.0.0.1", s.port, "three", &r);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.sent, 1);
    assert_non_null(strstr(r.error, "closed the connection"));
    assert_int_equal(s.requests, 3);
    post("http", "127.0.0.1", s.port, "four", &r);
    assert_int_equal(r.status, 201);
    assert_int_equal(s.requests, 4);
    assert_int_equal(s.connections, 2);
    server_stop(&s);
}

/* The server answers and closes; the next request must open a new
 * connection and succeed, whether the loop read the close while the
 * connection sat idle (loop_ran) or the close still waits in the socket
 * when the request is sent (the loop was busy elsewhere: not run here).
 * Either way the request is not lost into a closed connection. */
static void close_between_requests(int loop_ran)
{
    struct wire_server s;
    enum act script[] = {ANSWER_CLOSE, ANSWER};
    server_start(&s, NULL, 2, script);
    struct result r;
    post("http", "127.0.0.1", s.port, "a", &r);
    assert_int_equal(r.status, 201);
    for (int i = 0; i < 50; i++) {
        if (loop_ran)
            uv_run(&loop, UV_RUN_NOWAIT);
        uv_sleep(2);
    }
    post("http", "127.0.0.1", s.port, "b", &r);
    assert_string_equal(r.error, "");
    assert_int_equal(r.status, 201);
    assert_int_equal(s.requests, 2);
    assert_int_equal(s.connections, 2);
    server_stop(&s);
}

static void test_server_closes_idle_connection(void **state)
{
    (void)state;
    close_between_requests(1);
}

static void test_server_closed_while_loop_busy(void **state)
{
    (void)state;
    close_between_requests(0);
}

static void test_bodies_by_chunks_close_and_interim(void **state)
{
    (void)state;
    struct wire_server s;
    enum act script[] = {ANSWER_CHUNKED, INTERIM, ANSWER_BY_CLOSE};
    server_start(&s, NULL, 3, script);
    struct result r;
    post("http", "127.0.0.1", s.port, "a", &r);
    assert_int_equal(r.status, 201);
    assert_string_equal(r.body, "abcdefg");
    post("http", "127.0.0.1", s.port, "b", &r);
    assert_int_equal(r.status, 201);
    assert_string_equal(r.body, "final");
    post("http", "127.0.0.1", s.port, "c", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "to the end");
    assert_int_equal(s.connections, 1);
    server_stop(&s);
}

static void test_hostile_answers(void **state)
{
    (void)state;
    struct wire_server s;
    enum act script[] = {ANSWER_GARBAGE, ANSWER, HUGE_HEAD, HUGE_BODY, NOT_HTTP};
    server_start(&s, NULL, 5, script);
    struct result r;
    /* The answer is read; the bytes after it mean the connection is not reused. */
    post("http", "127.0.0.1", s.port, "a", &r);
    assert_int_equal(r.status, 201);
    assert_string_equal(r.body, "ok");
    post("http", "127.0.0.1", s.port, "b", &r);
    assert_int_equal(r.status, 201);
    assert_int_equal(s.connections, 2);
    post("http", "127.0.0.1", s.port, "c", &r);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.sent, 1);
    assert_non_null(strstr(r.error, "larger than 64 KB"));
    post("http", "127.0.0.1", s.port, "d", &r);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.error, "larger than 4 MB"));
    post("http", "127.0.0.1", s.port, "e", &r);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.sent, 1);
    assert_non_null(strstr(r.error, "not valid HTTP"));
    server_stop(&s);
}

static void test_refused_before_sending(void **state)
{
    (void)state;
    struct result r = {0};
    const char *injected[] = {"X-A: 1\r\nX-B: 2", NULL};
    const char *no_colon[] = {"X-A", NULL};
    struct tocsin_http_client_request req = {.method = "POST", .url = "http://127.0.0.1:9/x"};
    req.headers = injected;
    assert_int_equal(tocsin_http_client_send(client, &req, on_result, &r), -1);
    req.headers = no_colon;
    assert_int_equal(tocsin_http_client_send(client, &req, on_result, &r), -1);
    req.headers = NULL;
    req.method = "PO ST";
    assert_int_equal(tocsin_http_client_send(client, &req, on_result, &r), -1);
    req.method = "POST";
    req.url = "http://127.0.0.1:9/x y";
    assert_int_equal(tocsin_http_client_send(client, &req, on_result, &r), -1);
    req.url = "http://127.0.0.1:9/x";
    req.basic_auth = "u:p\r\nX-Evil: 1";
    assert_int_equal(tocsin_http_client_send(client, &req, on_result, &r), -1);
    assert_int_equal(r.done, 0);
    assert_int_equal(tocsin_http_client_pending(client), 0);
    /* A name that does not resolve: an error, nothing sent. */
    req.basic_auth = NULL;
    req.url = "http://no-such-host.invalid/x";
    assert_int_equal(tocsin_http_client_send(client, &req, on_result, &r), 0);
    run_until(&r.done);
    assert_int_equal(r.sent, 0);
    assert_non_null(strstr(r.error, "could not resolve"));
}

/* --- TLS --- */

static EVP_PKEY *new_key(void)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    assert_non_null(k);
    return k;
}

/* A certificate for subject cn with SAN san (NULL: a CA), signed by
 * issuer/ikey (NULL: self-signed). */
static X509 *new_cert(EVP_PKEY *key, const char *cn, const char *san, X509 *issuer, EVP_PKEY *ikey)
{
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), rand() & 0x7fffffff);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
                                            san ? "critical,CA:FALSE" : "critical,CA:TRUE");
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    if (san) {
        e = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, san);
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    }
    assert_true(X509_sign(x, ikey ? ikey : key, EVP_sha256()) > 0);
    return x;
}

static SSL_CTX *server_ctx(X509 *cert, EVP_PKEY *key)
{
    SSL_CTX *c = SSL_CTX_new(TLS_server_method());
    assert_int_equal(SSL_CTX_use_certificate(c, cert), 1);
    assert_int_equal(SSL_CTX_use_PrivateKey(c, key), 1);
    return c;
}

static EVP_PKEY *ca_key, *other_ca_key, *srv_key;
static X509 *ca, *other_ca;
static char ca_file[64];

/* The client trusts ca only: OpenSSL reads SSL_CERT_FILE when the
 * client's context is made, which is at its first https request. */
static void trust_test_ca(void)
{
    if (ca)
        return;
    ca_key = new_key();
    other_ca_key = new_key();
    srv_key = new_key();
    ca = new_cert(ca_key, "Tocsin test CA", NULL, NULL, NULL);
    other_ca = new_cert(other_ca_key, "Someone else's CA", NULL, NULL, NULL);
    snprintf(ca_file, sizeof ca_file, "/tmp/tocsin-test-ca-%d.pem", (int)getpid());
    FILE *f = fopen(ca_file, "w");
    PEM_write_X509(f, ca);
    fclose(f);
    setenv("SSL_CERT_FILE", ca_file, 1);
    setenv("SSL_CERT_DIR", "/nonexistent", 1);
}

static void test_tls_verified_and_kept_alive(void **state)
{
    (void)state;
    trust_test_ca();
    X509 *cert = new_cert(srv_key, "carrier", "DNS:localhost,IP:127.0.0.1", ca, ca_key);
    SSL_CTX *ctx = server_ctx(cert, srv_key);
    struct wire_server s;
    enum act script[] = {ANSWER, ANSWER_CLOSE, ANSWER, READ_CLOSE};
    server_start(&s, ctx, 4, script);
    struct result r;
    post("https", "127.0.0.1", s.port, "Body=tls", &r);
    assert_string_equal(r.error, "");
    assert_int_equal(r.status, 201);
    assert_string_equal(r.body, "Body=tls");
    post("https", "127.0.0.1", s.port, "Body=again", &r);
    assert_int_equal(r.status, 201);
    assert_string_equal(r.body, "ok");
    assert_int_equal(s.connections, 1);
    /* By name (the server, one connection at a time, closed the first):
     * localhost may resolve to ::1 first, where nobody listens; the client
     * goes on to 127.0.0.1. */
    post("https", "localhost", s.port, "Body=by-name", &r);
    assert_string_equal(r.error, "");
    assert_int_equal(r.status, 201);
    post("https", "localhost", s.port, "Body=dropped", &r);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.sent, 1);
    assert_int_equal(s.requests, 4);
    server_stop(&s);
    SSL_CTX_free(ctx);
    X509_free(cert);
}

static void test_tls_refuses_wrong_name_and_wrong_ca(void **state)
{
    (void)state;
    trust_test_ca();
    X509 *wrong_name = new_cert(srv_key, "carrier", "DNS:api.other.test", ca, ca_key);
    X509 *wrong_ca =
        new_cert(srv_key, "carrier", "IP:127.0.0.1,DNS:localhost", other_ca, other_ca_key);
    SSL_CTX *c1 = server_ctx(wrong_name, srv_key), *c2 = server_ctx(wrong_ca, srv_key);
    struct wire_server s;
    enum act script[] = {ANSWER};
    server_start(&s, c1, 1, script);
    struct result r;
    post("https", "127.0.0.1", s.port, "Body=x", &r);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.sent, 0);
    assert_non_null(strstr(r.error, "certificate"));
    server_stop(&s);
    assert_int_equal(s.requests, 0);
    server_start(&s, c2, 1, script);
    post("https", "localhost", s.port, "Body=x", &r);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.sent, 0);
    assert_non_null(strstr(r.error, "certificate"));
    server_stop(&s);
    assert_int_equal(s.requests, 0);
    /* Plain HTTP to a TLS server, and TLS to a plain one, fail cleanly. */
    enum act plain[] = {ANSWER};
    server_start(&s, NULL, 1, plain);
    post("https", "127.0.0.1", s.port, "Body=x", &r);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.sent, 0);
    assert_non_null(strstr(r.error, "TLS"));
    server_stop(&s);
    SSL_CTX_free(c1);
    SSL_CTX_free(c2);
    X509_free(wrong_name);
    X509_free(wrong_ca);
}

static int teardown_all(void **state)
{
    (void)state;
    if (ca) {
        unlink(ca_file);
        X509_free(ca);
        X509_free(other_ca);
        EVP_PKEY_free(ca_key);
        EVP_PKEY_free(other_ca_key);
        EVP_PKEY_free(srv_key);
    }
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_keep_alive_then_dropped_after_sending, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_server_closes_idle_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_closed_while_loop_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bodies_by_chunks_close_and_interim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_answers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_before_sending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_verified_and_kept_alive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_refuses_wrong_name_and_wrong_ca, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, teardown_all);
}
