/* SPDX-License-Identifier: AGPL-3.0-or-later
 * telnyx.c — the Telnyx provider: POST {base}/v2/messages with JSON and a
 * Bearer API key; reads {"data": {"id"}} on 2xx and {"errors": [...]} on
 * 4xx (429 retry, 40300 "blocked due to STOP" opts the contact out). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "provider.h"

static int telnyx_build(const struct provider_account *a, const struct provider_message *m,
                        struct provider_request *req, char *err, size_t errlen)
{
    memset(req, 0, sizeof *req);
    if (!a->base_url ||
        (strncmp(a->base_url, "https://", 8) && strncmp(a->base_url, "http://", 7))) {
        snprintf(err, errlen, "invalid Telnyx base URL");
        return -1;
    }
    int n = snprintf(req->url, sizeof req->url, "%s/v2/messages", a->base_url);
    if (n < 0 || (size_t)n >= sizeof req->url || !a->secret || strlen(a->secret) > 500) {
        snprintf(err, errlen, "the Telnyx base URL or API key is too long or missing");
        return -1;
    }
    json_t *j = json_pack("{s:s,s:s,s:s}", "from", m->from, "to", m->to, "text", m->body);
    if (j && m->status_callback)
        json_object_set_new(j, "webhook_url", json_string(m->status_callback));
    req->body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!req->body) {
        snprintf(err, errlen, "could not encode the message (invalid UTF-8?)");
        return -1;
    }
    req->body_len = strlen(req->body);
    snprintf(req->header_store[0], sizeof req->header_store[0], "Content-Type: application/json");
    snprintf(req->header_store[1], sizeof req->header_store[1], "Accept: application/json");
    snprintf(req->header_store[2], sizeof req->header_store[2], "Authorization: Bearer %s",
             a->secret);
    for (int i = 0; i < 3; i++)
        req->headers[i] = req->header_store[i];
    return 0;
}

static void telnyx_classify(const struct tocsin_http_client_response *r, struct provider_outcome *o)
{
    if (r->status >= 200 && r->status < 300) {
        static const char *const id_path[] = {"data", "id"};
        if (provider_json_string(r, id_path, 2, o->provider_id, sizeof o->provider_id))
            o->kind = OUTCOME_SENT;
        else {
            o->kind = OUTCOME_UNKNOWN;
            o->provider_id[0] = '\0';
            snprintf(o->error_message, sizeof o->error_message, "2xx without a message id");
        }
        return;
    }
    json_error_t e;
    json_t *j = json_loadb(r->body, r->body_len, 0, &e);
    json_t *first = json_array_get(json_object_get(j, "errors"), 0);
    const char *code = json_string_value(json_object_get(first, "code"));
    const char *detail = json_string_value(json_object_get(first, "detail"));
    if (!detail)
        detail = json_string_value(json_object_get(first, "title"));
    if (code)
        snprintf(o->error_code, sizeof o->error_code, "%s", code);
    else
        snprintf(o->error_code, sizeof o->error_code, "http_%ld", r->status);
    snprintf(o->error_message, sizeof o->error_message, "%s",
             detail ? detail : "carrier refused the message");
    if (r->status == 429) {
        o->kind = OUTCOME_RETRY;
        o->slow_down = 1;
    } else {
        o->kind = OUTCOME_FAILED;
        o->opt_out = code && strcmp(code, "40300") == 0;
    }
    json_decref(j);
}

const struct tocsin_provider tocsin_provider_telnyx = {
    .name = "telnyx",
    .build_request = telnyx_build,
    .classify_response = telnyx_classify,
};
