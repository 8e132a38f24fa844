/* SPDX-License-Identifier: AGPL-3.0-or-later
 * prog_webhook_sink.c — a stand-in receiver of carrier webhooks for the
 * simulator's tests: verifies X-Twilio-Signature against the token and the
 * URL it was called at, and appends one line per webhook to a log file:
 *   /path valid=1 MessageSid=SM... MessageStatus=sent ErrorCode= From=... To=... Body=...
 * and, with TELNYX_PUBLIC_KEY (base64), Telnyx events under /telnyx/:
 *   /telnyx/webhook valid=1 event=message.finalized status=delivered text=...
 * Usage: prog_webhook_sink PORT TOKEN LOGFILE [TELNYX_PUBLIC_KEY] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "http.h"
#include "log.h"

static const char *token;
static unsigned char telnyx_pk[32];
static int have_telnyx;
static FILE *out;
static int port;

static void field(const struct tocsin_kv *kv, size_t n, const char *key)
{
    tocsin_str v = tocsin_form_get(kv, n, key);
    fprintf(out, " %s=%.*s", key, (int)v.len, v.base ? v.base : "");
}

static void hook(struct tocsin_http_req *r, void *ctx)
{
    (void)ctx;
    struct tocsin_kv *kv;
    size_t n;
    char err[128], url[256];
    if (tocsin_http_form(r, 0, &kv, &n, err, sizeof err)) {
        tocsin_http_error(r, 400, "bad_form", "%s", err);
        return;
    }
    tocsin_str path = tocsin_http_path(r);
    snprintf(url, sizeof url, "http://127.0.0.1:%d%.*s", port, (int)path.len, path.base);
    struct tocsin_kv *copy = tocsin_arena_alloc(tocsin_http_arena(r), (n ? n : 1) * sizeof *copy);
    memcpy(copy, kv, n * sizeof *kv);
    int valid = tocsin_twilio_verify(tocsin_str_from(token), tocsin_str_from(url), copy, n,
                                     tocsin_http_header(r, "x-twilio-signature"));
    fprintf(out, "%.*s valid=%d", (int)path.len, path.base, valid);
    const char *keys[] = {"MessageSid", "MessageStatus", "ErrorCode", "AccountSid", "From",
                          "To",         "Body"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        field(kv, n, keys[i]);
    fprintf(out, "\n");
    fflush(out);
    tocsin_http_respond(r, 200, "text/xml", "<Response/>", 11);
}

static void telnyx_hook(struct tocsin_http_req *r, void *ctx)
{
    (void)ctx;
    tocsin_str body = tocsin_http_body(r);
    int valid = have_telnyx &&
                tocsin_ed25519_verify(telnyx_pk, tocsin_http_header(r, "telnyx-timestamp"), body,
                                      tocsin_http_header(r, "telnyx-signature-ed25519"));
    json_error_t e;
    json_t *j = json_loadb(body.base, body.len, 0, &e);
    const char *event = "", *status = "", *text = "";
    json_unpack(j, "{s:{s:s,s:{s:[{s:s}],s:s}}}", "data", "event_type", &event, "payload", "to",
                "status", &status, "text", &text);
    tocsin_str path = tocsin_http_path(r);
    fprintf(out, "%.*s valid=%d event=%s status=%s text=%s\n", (int)path.len, path.base, valid,
            event, status, text);
    fflush(out);
    json_decref(j);
    tocsin_http_respond(r, 200, NULL, NULL, 0);
}

int main(int argc, char **argv)
{
    if (argc != 4 && argc != 5)
        return 2;
    if (argc == 5)
        have_telnyx =
            tocsin_base64_decode(argv[4], strlen(argv[4]), telnyx_pk, sizeof telnyx_pk) == 32;
    port = atoi(argv[1]);
    token = argv[2];
    out = fopen(argv[3], "a");
    if (!out)
        return 1;
    tocsin_log_init("sink", TOCSIN_LOG_WARN);
    tocsin_crypto_init();
    uv_loop_t *loop = uv_default_loop();
    struct tocsin_http_server *s = tocsin_http_server_new(loop, NULL);
    tocsin_http_route(s, "POST", "/twilio/*", hook, NULL);
    tocsin_http_route(s, "POST", "/telnyx/*", telnyx_hook, NULL);
    tocsin_http_add_standard_routes(s, NULL, NULL);
    if (tocsin_http_listen(s, "127.0.0.1", port))
        return 1;
    return uv_run(loop, UV_RUN_DEFAULT);
}
