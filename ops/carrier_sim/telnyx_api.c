/* SPDX-License-Identifier: AGPL-3.0-or-later
 * telnyx_api.c — Telnyx's v2 messaging API as the simulator speaks it:
 * POST /v2/messages (Bearer API key, JSON in and out, Telnyx's error
 * shape), GET /v2/balance (a harmless check of the API key, as tocsinctl
 * doctor makes it) and the webhook events it sends back (message.sent,
 * message.finalized, message.received), JSON signed with Ed25519 over
 * "timestamp|body" in telnyx-signature-ed25519 / telnyx-timestamp. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "crypto.h"
#include "json_write.h"
#include "log.h"
#include "phone.h"
#include "sim.h"
#include "sms.h"

static void telnyx_error(struct tocsin_http_req *r, int status, const char *code, const char *title,
                         const char *detail)
{
    tocsin_http_respond_json(
        r, status,
        json_pack("{s:[{s:s,s:s,s:s}]}", "errors", "code", code, "title", title, "detail", detail));
}

static void iso8601(uint64_t ms, char out[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03uZ", (unsigned)(ms % 1000));
}

/* Telnyx message ids are UUIDs; ours are derived from the store's sid. */
static void message_id(const struct sim_message *m, char out[37])
{
    const char *h = m->sid + 2; /* 32 hex digits */
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
}

/* Writes the message object Telnyx sends and returns; -1 if one of its
 * strings is not UTF-8 (json_pack refused those: no object at all). */
static int message_object(struct sim_jw *w, const struct sim_message *m, const char *status)
{
    char id[37], at[32];
    message_id(m, id);
    iso8601(m->created_ms, at);
    struct tocsin_sms_info info;
    int ok = tocsin_sms_count(m->body, strlen(m->body), &info) == 0, bad = 0;
    if (m->outbound)
        SIM_JW_LIT(w, "{\"record_type\":\"message\",\"direction\":\"outbound\"");
    else
        SIM_JW_LIT(w, "{\"record_type\":\"message\",\"direction\":\"inbound\"");
    bad |= sim_jw_member(w, "id", id);
    SIM_JW_LIT(w, ",\"type\":\"SMS\",\"from\":{");
    bad |= sim_jw_member(w, "phone_number", m->from);
    SIM_JW_LIT(w, "},\"to\":[{");
    bad |= sim_jw_member(w, "phone_number", m->to);
    bad |= sim_jw_member(w, "status", status);
    SIM_JW_LIT(w, "}]");
    bad |= sim_jw_member(w, "text", m->body);
    SIM_JW_LIT(w, ",\"media\":[]");
    bad |= sim_jw_member(w, "encoding", ok ? tocsin_sms_encoding_name(info.encoding) : "GSM-7");
    SIM_JW_LIT(w, ",\"parts\":");
    sim_jw_int(w, m->segments);
    bad |= sim_jw_member(w, "received_at", at);
    bad |= sim_jw_member(w, "webhook_url", m->status_callback);
    SIM_JW_LIT(w, ",\"errors\":[]}");
    return bad ? -1 : 0;
}

void sim_telnyx_event(struct sim *s, const struct sim_message *m, const char *event_type,
                      const char *status, const char *url, tocsin_http_client_cb cb, void *ctx)
{
    char hex[33], id[40], at[32], ts[24], sig[89], sig_header[128], ts_header[64], storage[4096];
    sim_randpool_hex16(&s->random, hex);
    snprintf(id, sizeof id, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16,
             hex + 20);
    uint64_t now = sim_now_ms();
    iso8601(now, at);
    struct sim_jw w;
    sim_jw_init(&w, storage, sizeof storage);
    w.raw_utf8 = 1; /* as json_dumps(JSON_COMPACT) wrote events */
    int bad = 0;
    SIM_JW_LIT(&w, "{\"data\":{");
    bad |= sim_jw_member(&w, "event_type", event_type);
    bad |= sim_jw_member(&w, "id", id);
    bad |= sim_jw_member(&w, "occurred_at", at);
    SIM_JW_LIT(&w, ",\"payload\":");
    bad |= message_object(&w, m, status);
    SIM_JW_LIT(&w, ",\"record_type\":\"event\"},\"meta\":{\"attempt\":1");
    bad |= url ? sim_jw_member(&w, "delivered_to", url) : -1;
    SIM_JW_LIT(&w, "}}");
    if (bad || w.failed) {
        sim_jw_free(&w);
        return;
    }
    snprintf(ts, sizeof ts, "%llu", (unsigned long long)(now / 1000));
    tocsin_ed25519_sign(s->telnyx_sk, tocsin_str_from(ts), (tocsin_str){w.base, w.len}, sig);
    snprintf(sig_header, sizeof sig_header, "telnyx-signature-ed25519: %s", sig);
    snprintf(ts_header, sizeof ts_header, "telnyx-timestamp: %s", ts);
    const char *headers[] = {"Content-Type: application/json", sig_header, ts_header, NULL};
    struct tocsin_http_client_request req = {.method = "POST",
                                             .url = url,
                                             .headers = headers,
                                             .body = w.base,
                                             .body_len = w.len,
                                             .timeout_ms = 15000};
    if (tocsin_http_client_send(s->client, &req, cb, ctx) != 0)
        log_warn("sim_callback_failed", "url=%s reason=\"could not start the request\"",
                 tocsin_log_q(url));
    sim_jw_free(&w);
}

static int authorized(struct sim *s, struct tocsin_http_req *r)
{
    tocsin_str auth = tocsin_http_header(r, "authorization");
    if (auth.len < 8 || !tocsin_str_eq_nocase((tocsin_str){auth.base, 7}, TSTR("Bearer ")))
        return 0;
    tocsin_str key = {auth.base + 7, auth.len - 7};
    for (int i = 0; i < s->ntelnyx; i++) {
        size_t kl = strlen(s->telnyx_keys[i]);
        if (kl == key.len && tocsin_ct_equal(key.base, s->telnyx_keys[i], kl))
            return 1;
    }
    return 0;
}

static void create(struct tocsin_http_req *r, void *ctx)
{
    struct sim *s = ctx;
    if (!authorized(s, r)) {
        telnyx_error(r, 401, "10009", "Authentication failed",
                     "The API key is missing or invalid.");
        return;
    }
    char err[200];
    json_t *j = tocsin_http_json(r, err, sizeof err);
    const char *from = NULL, *to = NULL, *text = NULL, *webhook = NULL, *profile = NULL;
    if (!j || json_unpack(j, "{s?s,s?s,s?s,s?s,s?s}", "from", &from, "to", &to, "text", &text,
                          "webhook_url", &webhook, "messaging_profile_id", &profile) != 0) {
        json_decref(j);
        telnyx_error(r, 400, "10015", "Bad Request", j ? "fields must be strings" : err);
        return;
    }
    if (!s->benchmark && s->faults.p429 > 0 &&
        randombytes_uniform(1000000) < s->faults.p429 * 1000000.0) {
        json_decref(j);
        telnyx_error(r, 429, "10011", "Too many requests", "Rate limit exceeded.");
        return;
    }
    const char *problem = NULL, *code = "10005";
    if (!to || !tocsin_phone_looks_e164(to, strlen(to)))
        problem = "The 'to' parameter must be a phone number in E.164 format.", code = "40310";
    else if (!from && !profile)
        problem = "Either 'from' or 'messaging_profile_id' is required.", code = "40305";
    else if (!text || !*text)
        problem = "The 'text' parameter is required.", code = "40306";
    if (problem) {
        json_decref(j);
        telnyx_error(r, 422, code, "Invalid parameter", problem);
        return;
    }
    struct sim_message *m = sim_store_add(s, s->accounts[0].sid, from ? from : profile, to,
                                          tocsin_str_from(text), webhook, 1);
    json_decref(j);
    if (!m) {
        telnyx_error(r, 500, "10007", "Unexpected error", "out of memory");
        return;
    }
    m->telnyx = 1;
    sim_store_count(s, m);
    if (!s->benchmark)
        sim_receipts_schedule(s, m);
    char storage[2048];
    struct sim_jw w;
    sim_jw_init(&w, storage, sizeof storage);
    SIM_JW_LIT(&w, "{\"data\":");
    int bad = message_object(&w, m, "queued");
    SIM_JW_LIT(&w, "}");
    if (bad || w.failed)
        telnyx_error(r, 500, "10007", "Unexpected error", "could not encode the message");
    else
        tocsin_http_respond(r, 200, "application/json", w.base, w.len);
    sim_jw_free(&w);
}

/* GET /v2/balance: what Telnyx answers an account's valid API key. */
static void balance(struct tocsin_http_req *r, void *ctx)
{
    struct sim *s = ctx;
    if (!authorized(s, r)) {
        telnyx_error(r, 401, "10009", "Authentication failed",
                     "The API key is missing or invalid.");
        return;
    }
    tocsin_http_respond_json(r, 200,
                             json_pack("{s:{s:s,s:s,s:s}}", "data", "record_type", "balance",
                                       "balance", "100.00", "currency", "USD"));
}

void sim_telnyx_routes(struct sim *s)
{
    tocsin_http_route(s->http, "GET", "/v2/balance", balance, s);
    tocsin_http_route(s->http, "POST", "/v2/messages", create, s);
}
