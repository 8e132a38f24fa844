/* SPDX-License-Identifier: AGPL-3.0-or-later
 * prog_provider_send.c — sends one message through a worker provider
 * (request built by the provider, sent by lib/http_client, answer
 * classified by the provider) and prints the outcome:
 *   outcome=sent id=SM...   outcome=retry|failed|unknown code=... opt_out=0|1 message=...
 * Usage: prog_provider_send PROVIDER BASE_URL ACCOUNT_SID SECRET FROM TO BODY [CALLBACK
 * [TIMEOUT_MS]] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_client.h"
#include "log.h"
#include "provider.h"

static const char *const kind_names[] = {"sent", "retry", "failed", "unknown"};
static const struct tocsin_provider *provider;
static int done;

static void on_answer(const struct tocsin_http_client_response *r, void *ctx)
{
    (void)ctx;
    struct provider_outcome o;
    provider_classify(provider, r, &o);
    if (o.kind == OUTCOME_SENT)
        printf("outcome=sent id=%s\n", o.provider_id);
    else
        printf("outcome=%s code=%s opt_out=%d slow_down=%d message=%s\n", kind_names[o.kind],
               o.error_code, o.opt_out, o.slow_down, o.error_message);
    done = 1;
}

int main(int argc, char **argv)
{
    if (argc < 8) {
        fprintf(
            stderr,
            "usage: prog_provider_send PROVIDER BASE_URL ACCOUNT_SID SECRET FROM TO BODY [CALLBACK [TIMEOUT_MS]]\n");
        return 2;
    }
    tocsin_log_init("provider_send", TOCSIN_LOG_WARN);
    provider = tocsin_provider_find(argv[1]);
    if (!provider)
        return 2;
    struct provider_account a = {argv[2], argv[3], argv[4]};
    struct provider_message m = {argv[5], argv[6], argv[7], argc > 8 ? argv[8] : NULL, 3600};
    struct provider_request req;
    char err[200];
    if (provider->build_request(&a, &m, &req, err, sizeof err)) {
        fprintf(stderr, "prog_provider_send: %s\n", err);
        return 1;
    }
    uv_loop_t *loop = uv_default_loop();
    struct tocsin_http_client *c = tocsin_http_client_new(loop, 4);
    struct tocsin_http_client_request creq;
    provider_request_to_client(&req, &creq);
    if (argc > 9)
        creq.timeout_ms = atol(argv[9]);
    tocsin_http_client_send(c, &creq, on_answer, NULL);
    provider_request_free(&req);
    while (!done)
        uv_run(loop, UV_RUN_ONCE);
    tocsin_http_client_close(c, NULL, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    return 0;
}
