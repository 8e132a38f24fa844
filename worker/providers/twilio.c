/* SPDX-License-Identifier: AGPL-3.0-or-later
 * twilio.c — the Twilio provider: POST {base}/2010-04-01/Accounts/{Sid}/
 * Messages.json, form-encoded, HTTP basic auth; reads Twilio's resource on
 * 2xx and its {"code","message"} errors on 4xx (20429 retry, 21610 opt-out). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "form.h"
#include "provider.h"

static int twilio_build(const struct provider_account *a, const struct provider_message *m,
                        struct provider_request *req, char *err, size_t errlen)
{
    memset(req, 0, sizeof *req);
    if (!a->account_sid || strlen(a->account_sid) != 34 || strncmp(a->account_sid, "AC", 2) != 0) {
        snprintf(err, errlen, "invalid Twilio account SID \"%s\"",
                 a->account_sid ? a->account_sid : "");
        return -1;
    }
    if (!a->base_url ||
        (strncmp(a->base_url, "https://", 8) && strncmp(a->base_url, "http://", 7))) {
        snprintf(err, errlen, "invalid Twilio base URL");
        return -1;
    }
    int n = snprintf(req->url, sizeof req->url, "%s/2010-04-01/Accounts/%s/Messages.json",
                     a->base_url, a->account_sid);
    if (n < 0 || (size_t)n >= sizeof req->url) {
        snprintf(err, errlen, "the Twilio base URL is too long");
        return -1;
    }
    size_t cap = strlen(m->body) * 3 + strlen(m->to) * 3 + strlen(m->from) * 3 +
                 (m->status_callback ? strlen(m->status_callback) * 3 : 0) + 200;
    req->body = malloc(cap);
    if (!req->body) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char validity[24];
    size_t used = 0;
    used = tocsin_form_append(req->body, cap, used, TSTR("To"), tocsin_str_from(m->to));
    used = tocsin_form_append(req->body, cap, used, TSTR("From"), tocsin_str_from(m->from));
    used = tocsin_form_append(req->body, cap, used, TSTR("Body"), tocsin_str_from(m->body));
    if (m->status_callback)
        used = tocsin_form_append(req->body, cap, used, TSTR("StatusCallback"),
                                  tocsin_str_from(m->status_callback));
    if (m->validity_seconds > 0) {
        /* Twilio accepts 1 to 36000 seconds (ten hours). */
        long v = m->validity_seconds > 36000 ? 36000 : m->validity_seconds;
        snprintf(validity, sizeof validity, "%ld", v);
        used = tocsin_form_append(req->body, cap, used, TSTR("ValidityPeriod"),
                                  tocsin_str_from(validity));
    }
    req->body_len = used;
    snprintf(req->header_store[0], sizeof req->header_store[0],
             "Content-Type: application/x-www-form-urlencoded");
    snprintf(req->header_store[1], sizeof req->header_store[1], "Accept: application/json");
    req->headers[0] = req->header_store[0];
    req->headers[1] = req->header_store[1];
    snprintf(req->basic_auth, sizeof req->basic_auth, "%s:%s", a->account_sid,
             a->secret ? a->secret : "");
    return 0;
}

static void twilio_classify(const struct tocsin_http_client_response *r, struct provider_outcome *o)
{
    if (r->status >= 200 && r->status < 300) {
        static const char *const sid_path[] = {"sid"};
        char sid[sizeof o->provider_id];
        if (provider_json_string(r, sid_path, 1, sid, sizeof sid) &&
            (strncmp(sid, "SM", 2) == 0 || strncmp(sid, "MM", 2) == 0)) {
            o->kind = OUTCOME_SENT;
            snprintf(o->provider_id, sizeof o->provider_id, "%s", sid);
        } else {
            o->kind = OUTCOME_UNKNOWN; /* accepted, but we cannot match receipts to it */
            snprintf(o->error_message, sizeof o->error_message, "2xx without a message sid");
        }
        return;
    }
    json_error_t e;
    json_t *j = json_loadb(r->body, r->body_len, 0, &e);
    json_t *code = json_object_get(j, "code");
    const char *message = json_string_value(json_object_get(j, "message"));
    long long c = json_is_integer(code) ? json_integer_value(code) : 0;
    if (c)
        snprintf(o->error_code, sizeof o->error_code, "%lld", c);
    else
        snprintf(o->error_code, sizeof o->error_code, "http_%ld", r->status);
    snprintf(o->error_message, sizeof o->error_message, "%s",
             message ? message : "carrier refused the message");
    if (r->status == 429 || c == 20429) {
        o->kind = OUTCOME_RETRY; /* never processed: safe to send again, slower */
        o->slow_down = 1;
    } else {
        o->kind = OUTCOME_FAILED;
        o->opt_out = c == 21610;
    }
    json_decref(j);
}

const struct tocsin_provider tocsin_provider_twilio = {
    .name = "twilio",
    .build_request = twilio_build,
    .classify_response = twilio_classify,
};
