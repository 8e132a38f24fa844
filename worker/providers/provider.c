/* SPDX-License-Identifier: AGPL-3.0-or-later
 * provider.c — the provider registry and the classification rules shared
 * by every carrier (what "ambiguous" means does not depend on the carrier). */
#include "provider.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "json_scan.h"

const struct tocsin_provider *tocsin_provider_find(const char *name)
{
    if (strcmp(name, "twilio") == 0)
        return &tocsin_provider_twilio;
    if (strcmp(name, "telnyx") == 0)
        return &tocsin_provider_telnyx;
    return NULL;
}

void provider_classify(const struct tocsin_provider *p, const struct tocsin_http_client_response *r,
                       struct provider_outcome *o)
{
    memset(o, 0, sizeof *o);
    if (r->status == 0) {
        o->kind = r->request_sent ? OUTCOME_UNKNOWN : OUTCOME_RETRY;
        snprintf(o->error_message, sizeof o->error_message, "%s%s",
                 r->request_sent ? "no answer after the request was sent: " : "not sent: ",
                 r->error ? r->error : "connection failed");
        return;
    }
    if (r->status >= 500) {
        o->kind = OUTCOME_UNKNOWN;
        snprintf(o->error_code, sizeof o->error_code, "http_%ld", r->status);
        snprintf(o->error_message, sizeof o->error_message, "carrier answered %ld", r->status);
        return;
    }
    p->classify_response(r, o);
}

void provider_request_to_client(const struct provider_request *req,
                                struct tocsin_http_client_request *out)
{
    memset(out, 0, sizeof *out);
    out->method = "POST";
    out->url = req->url;
    out->headers = req->headers;
    out->body = req->body;
    out->body_len = req->body_len;
    out->basic_auth = req->basic_auth[0] ? req->basic_auth : NULL;
    out->timeout_ms = 15000;
    out->connect_timeout_ms = 3000;
}

void provider_request_free(struct provider_request *req)
{
    free(req->body);
    req->body = NULL;
}

int provider_json_string(const struct tocsin_http_client_response *r, const char *const *path,
                         size_t npath, char *out, size_t outlen)
{
    int found = tocsin_json_scan_string(r->body, r->body_len, path, npath, out, outlen);
    if (found >= 0)
        return found;
    json_error_t e;
    json_t *at = json_loadb(r->body, r->body_len, 0, &e);
    json_t *root = at;
    for (size_t i = 0; at && i < npath; i++)
        at = json_object_get(at, path[i]);
    const char *s = json_string_value(at);
    if (s)
        snprintf(out, outlen, "%s", s);
    json_decref(root);
    return s != NULL;
}
