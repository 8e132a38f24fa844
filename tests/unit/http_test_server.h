/* SPDX-License-Identifier: AGPL-3.0-or-later
 * http_test_server.h — a Tocsin HTTP server on its own libuv loop in a
 * thread, for the HTTP unit tests whose clients are blocking sockets
 * (http_test_client.h). The test fills in the options and a function that
 * adds its routes; start returns once the server listens on a free
 * loopback port (or failed), stop closes it from its own thread and joins.
 * Header-only: static functions. */
#ifndef TOCSIN_HTTP_TEST_SERVER_H
#define TOCSIN_HTTP_TEST_SERVER_H

#include <pthread.h>

#include "http.h"

struct test_server {
    struct tocsin_http_options options;              /* set before start */
    void (*add_routes)(struct tocsin_http_server *); /* called on the server's thread */
    uv_loop_t loop; /* the server's loop (handlers may add timers) */
    struct tocsin_http_server *server;
    int port; /* > 0 once listening, -1 if listening failed */
    /* private */
    uv_async_t stop;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

static void test_server_on_stop(uv_async_t *a)
{
    struct test_server *t = a->data;
    tocsin_http_server_close(t->server, NULL, NULL);
    uv_close((uv_handle_t *)&t->stop, NULL);
}

static void *test_server_main(void *arg)
{
    struct test_server *t = arg;
    uv_loop_init(&t->loop);
    uv_async_init(&t->loop, &t->stop, test_server_on_stop);
    t->stop.data = t;
    t->server = tocsin_http_server_new(&t->loop, &t->options);
    t->add_routes(t->server);
    int rc = tocsin_http_listen(t->server, "127.0.0.1", 0);
    pthread_mutex_lock(&t->mu);
    t->port = rc == 0 ? tocsin_http_port(t->server) : -1;
    pthread_cond_signal(&t->cv);
    pthread_mutex_unlock(&t->mu);
    uv_run(&t->loop, UV_RUN_DEFAULT);
    uv_loop_close(&t->loop);
    return NULL;
}

/* Returns 0 once t listens (its port in t->port), -1 if it could not. */
static int test_server_start(struct test_server *t)
{
    t->port = 0;
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, NULL);
    if (pthread_create(&t->thread, NULL, test_server_main, t) != 0)
        return -1;
    pthread_mutex_lock(&t->mu);
    while (t->port == 0)
        pthread_cond_wait(&t->cv, &t->mu);
    pthread_mutex_unlock(&t->mu);
    return t->port > 0 ? 0 : -1;
}

static void test_server_stop(struct test_server *t)
{
    uv_async_send(&t->stop);
    pthread_join(t->thread, NULL);
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->cv);
}

#endif
