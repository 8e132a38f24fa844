/* SPDX-License-Identifier: AGPL-3.0-or-later
 * http_client_result.h — what the HTTP client tests keep of a response:
 * a callback that copies it into a struct result the test then asserts
 * on. Header-only: static functions. */
#ifndef TOCSIN_HTTP_CLIENT_RESULT_H
#define TOCSIN_HTTP_CLIENT_RESULT_H

#include <stdio.h>

#include "http_client.h"

struct result {
    int done;
    long status;
    char body[512];
    size_t body_len;
    char error[256];
    int sent, timed_out;
};

static void on_result(const struct tocsin_http_client_response *r, void *ctx)
{
    struct result *res = ctx;
    res->done = 1;
    res->status = r->status;
    res->sent = r->request_sent;
    res->timed_out = r->timed_out;
    res->body_len = r->body_len;
    snprintf(res->body, sizeof res->body, "%s", r->body);
    snprintf(res->error, sizeof res->error, "%s", r->error ? r->error : "");
}

#endif
