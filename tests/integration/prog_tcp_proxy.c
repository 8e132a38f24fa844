/* SPDX-License-Identifier: AGPL-3.0-or-later
 * prog_tcp_proxy.c — a small TCP proxy for tests that need to lose a peer:
 * every connection to --listen PORT (127.0.0.1) is relayed to --to
 * HOST:PORT. Kill it (all relayed connections drop at once), SIGSTOP it
 * (they hang), start it again on the same port (it comes back). Prints
 * "listening PORT" once it accepts. Nothing else: no parsing, no delays.
 * Usage: prog_tcp_proxy --listen PORT --to HOST:PORT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

struct side {
    uv_tcp_t tcp;
    struct pair *pair;
};

/* One relayed connection: the client's side and the upstream side. */
struct pair {
    struct side client, upstream;
    uv_connect_t connect;
    int closing;
    int open_handles;
};

static struct sockaddr_storage upstream_addr;

static void on_closed(uv_handle_t *h)
{
    struct side *s = h->data;
    if (--s->pair->open_handles == 0)
        free(s->pair);
}

static void pair_close(struct pair *p)
{
    if (p->closing)
        return;
    p->closing = 1;
    uv_close((uv_handle_t *)&p->client.tcp, on_closed);
    uv_close((uv_handle_t *)&p->upstream.tcp, on_closed);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    buf->base = malloc(suggested);
    buf->len = buf->base ? suggested : 0;
}

struct write_req {
    uv_write_t req;
    char *data;
};

static void on_written(uv_write_t *req, int status)
{
    struct write_req *w = (struct write_req *)req;
    struct side *to = req->handle->data;
    if (status < 0)
        pair_close(to->pair);
    free(w->data);
    free(w);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct side *from = stream->data;
    struct pair *p = from->pair;
    struct side *to = from == &p->client ? &p->upstream : &p->client;
    if (nread <= 0) {
        free(buf->base);
        if (nread < 0)
            pair_close(p);
        return;
    }
    struct write_req *w = malloc(sizeof *w);
    if (!w || p->closing) {
        free(w);
        free(buf->base);
        return;
    }
    w->data = buf->base;
    uv_buf_t out = uv_buf_init(buf->base, (unsigned)nread);
    if (uv_write(&w->req, (uv_stream_t *)&to->tcp, &out, 1, on_written) != 0) {
        free(w->data);
        free(w);
        pair_close(p);
    }
}

static void on_upstream(uv_connect_t *req, int status)
{
    struct pair *p = req->data;
    if (status < 0 || p->closing) {
        pair_close(p);
        return;
    }
    uv_read_start((uv_stream_t *)&p->client.tcp, on_alloc, on_read);
    uv_read_start((uv_stream_t *)&p->upstream.tcp, on_alloc, on_read);
}

static void on_connection(uv_stream_t *server, int status)
{
    if (status < 0)
        return;
    struct pair *p = calloc(1, sizeof *p);
    if (!p)
        return;
    p->client.pair = p->upstream.pair = p;
    uv_tcp_init(server->loop, &p->client.tcp);
    uv_tcp_init(server->loop, &p->upstream.tcp);
    p->client.tcp.data = &p->client;
    p->upstream.tcp.data = &p->upstream;
    p->open_handles = 2;
    p->connect.data = p;
    if (uv_accept(server, (uv_stream_t *)&p->client.tcp) != 0 ||
        uv_tcp_connect(&p->connect, &p->upstream.tcp, (struct sockaddr *)&upstream_addr,
                       on_upstream) != 0)
        pair_close(p);
}

int main(int argc, char **argv)
{
    const char *listen = NULL, *to = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--listen") == 0)
            listen = argv[i + 1];
        else if (strcmp(argv[i], "--to") == 0)
            to = argv[i + 1];
    }
    char host[256];
    const char *colon = to ? strrchr(to, ':') : NULL;
    if (!listen || !colon || (size_t)(colon - to) >= sizeof host) {
        fprintf(stderr, "usage: prog_tcp_proxy --listen PORT --to HOST:PORT\n");
        return 2;
    }
    snprintf(host, sizeof host, "%.*s", (int)(colon - to), to);
    int lport = (int)strtol(listen, NULL, 10), uport = (int)strtol(colon + 1, NULL, 10);
    struct sockaddr_in bind_addr;
    if (uv_ip4_addr(host, uport, (struct sockaddr_in *)&upstream_addr) != 0 &&
        uv_ip6_addr(host, uport, (struct sockaddr_in6 *)&upstream_addr) != 0) {
        fprintf(stderr, "prog_tcp_proxy: invalid upstream address \"%s\"\n", to);
        return 2;
    }
    uv_ip4_addr("127.0.0.1", lport, &bind_addr);
    uv_loop_t *loop = uv_default_loop();
    uv_tcp_t server;
    uv_tcp_init(loop, &server);
    int rc = uv_tcp_bind(&server, (struct sockaddr *)&bind_addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&server, 128, on_connection);
    if (rc != 0) {
        fprintf(stderr, "prog_tcp_proxy: could not listen on port %d: %s\n", lport,
                uv_strerror(rc));
        return 1;
    }
    printf("listening %d\n", lport);
    fflush(stdout);
    return uv_run(loop, UV_RUN_DEFAULT);
}
