/* SPDX-License-Identifier: AGPL-3.0-or-later
 * http_hello.c — the bound for ops/bench/http.sh: the smallest libuv +
 * llhttp server that answers every request with "hello" (keep-alive, no
 * routing, no limits, no timers, no logging; uv_try_write first, like
 * lib/http, so the ratio measures the layer and not the write path).
 * Usage: bench_http_hello PORT */
#include <stdlib.h>
#include <string.h>

#include <llhttp.h>
#include <uv.h>

static llhttp_settings_t settings;
static const char reply[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello";

struct client {
    uv_tcp_t tcp;
    llhttp_t parser;
    char buf[65536];
};

static void on_closed(uv_handle_t *h)
{
    free(h->data);
}

static void on_written(uv_write_t *w, int status)
{
    (void)status;
    free(w);
}

static int on_complete(llhttp_t *p)
{
    struct client *c = p->data;
    uv_buf_t b = uv_buf_init((char *)reply, sizeof reply - 1);
    /* As lib/http does: straight into the socket when it takes it all. */
    int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (n == (int)b.len)
        return 0;
    if (n > 0)
        b = uv_buf_init(b.base + n, b.len - (unsigned)n);
    uv_write_t *w = malloc(sizeof *w);
    uv_write(w, (uv_stream_t *)&c->tcp, &b, 1, on_written);
    return 0;
}

static void on_alloc(uv_handle_t *h, size_t s, uv_buf_t *b)
{
    (void)s;
    struct client *c = h->data;
    *b = uv_buf_init(c->buf, sizeof c->buf);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    struct client *c = s->data;
    if (n < 0 || (n > 0 && llhttp_execute(&c->parser, b->base, (size_t)n) != HPE_OK))
        uv_close((uv_handle_t *)s, on_closed);
}

static void on_conn(uv_stream_t *server, int status)
{
    if (status < 0)
        return;
    struct client *c = calloc(1, sizeof *c);
    uv_tcp_init(server->loop, &c->tcp);
    c->tcp.data = c;
    llhttp_init(&c->parser, HTTP_REQUEST, &settings);
    c->parser.data = c;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) == 0) {
        uv_tcp_nodelay(&c->tcp, 1);
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    } else {
        uv_close((uv_handle_t *)&c->tcp, on_closed);
    }
}

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 8099;
    llhttp_settings_init(&settings);
    settings.on_message_complete = on_complete;
    uv_loop_t *loop = uv_default_loop();
    uv_tcp_t server;
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", port, &addr);
    uv_tcp_init(loop, &server);
    if (uv_tcp_bind(&server, (struct sockaddr *)&addr, 0) ||
        uv_listen((uv_stream_t *)&server, 1024, on_conn))
        return 1;
    return uv_run(loop, UV_RUN_DEFAULT);
}
