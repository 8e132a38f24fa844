/* SPDX-License-Identifier: AGPL-3.0-or-later
 * control.c — the simulator's control API under /sim/ (documented in
 * docs/carrier-sim.md): counts for "exactly once" and rate checks, fault
 * settings, reset, and the members' side — a phone texting the short code
 * (a signed inbound webhook to the gateway) and a phone's thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compliance.h"
#include "crypto.h"
#include "phone.h"
#include "sim.h"

void sim_faults_default(struct sim_faults *f)
{
    json_decref(f->fail_prefixes);
    memset(f, 0, sizeof *f);
    f->slow_ms = 2000;
    f->fail_prefixes = json_array();
}

json_t *sim_faults_json(const struct sim_faults *f)
{
    return json_pack("{s:f,s:f,s:f,s:f,s:f,s:i,s:b,s:b,s:O}", "p429", f->p429, "p500", f->p500,
                     "ptimeout", f->ptimeout, "preset", f->preset, "pslow", f->pslow, "slow_ms",
                     (int)f->slow_ms, "duplicate_receipts", f->duplicate_receipts,
                     "receipts_before_response", f->receipts_before_response, "fail_prefixes",
                     f->fail_prefixes);
}

static int prob(json_t *j, const char *key, double *out, char *err, size_t errlen)
{
    json_t *v = json_object_get(j, key);
    if (!v)
        return 0;
    if (!json_is_number(v) || json_number_value(v) < 0 || json_number_value(v) > 1) {
        snprintf(err, errlen, "invalid %s: must be a number from 0 to 1", key);
        return -1;
    }
    *out = json_number_value(v);
    return 0;
}

int sim_faults_apply(struct sim_faults *f, json_t *j, char *err, size_t errlen)
{
    struct sim_faults n = *f;
    if (!json_is_object(j)) {
        snprintf(err, errlen, "faults must be a JSON object");
        return -1;
    }
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v)
    {
        static const char *const known[] = {
            "p429",          "p500",    "ptimeout",           "preset",
            "pslow",         "slow_ms", "duplicate_receipts", "receipts_before_response",
            "fail_prefixes", NULL};
        int ok = 0;
        for (const char *const *k = known; *k; k++)
            ok |= strcmp(*k, key) == 0;
        if (!ok) {
            snprintf(err, errlen, "unknown fault \"%.40s\"", key);
            return -1;
        }
    }
    if (prob(j, "p429", &n.p429, err, errlen) || prob(j, "p500", &n.p500, err, errlen) ||
        prob(j, "ptimeout", &n.ptimeout, err, errlen) ||
        prob(j, "preset", &n.preset, err, errlen) || prob(j, "pslow", &n.pslow, err, errlen))
        return -1;
    if ((v = json_object_get(j, "slow_ms"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 600000) {
            snprintf(err, errlen, "invalid slow_ms: must be 0 to 600000");
            return -1;
        }
        n.slow_ms = (unsigned)json_integer_value(v);
    }
    if ((v = json_object_get(j, "duplicate_receipts")))
        n.duplicate_receipts = json_is_true(v);
    if ((v = json_object_get(j, "receipts_before_response")))
        n.receipts_before_response = json_is_true(v);
    if ((v = json_object_get(j, "fail_prefixes"))) {
        size_t i;
        json_t *p;
        if (!json_is_array(v)) {
            snprintf(err, errlen, "invalid fail_prefixes: must be an array of strings");
            return -1;
        }
        json_array_foreach(v, i, p) if (!json_is_string(p))
        {
            snprintf(err, errlen, "invalid fail_prefixes: must be an array of strings");
            return -1;
        }
        json_decref(f->fail_prefixes);
        n.fail_prefixes = json_incref(v);
    }
    *f = n;
    return 0;
}

/* --- handlers --- */

static void faults_get(struct tocsin_http_req *r, void *ctx)
{
    struct sim *s = ctx;
    tocsin_http_respond_json(r, 200, sim_faults_json(&s->faults));
}

static void faults_post(struct tocsin_http_req *r, void *ctx)
{
    struct sim *s = ctx;
    char err[200];
    json_t *j = tocsin_http_json(r, err, sizeof err);
    if (!j || sim_faults_apply(&s->faults, j, err, sizeof err)) {
        json_decref(j);
        tocsin_http_error(r, 400, "bad_faults", "%s", err);
        return;
    }
    json_decref(j);
    tocsin_http_respond_json(r, 200, sim_faults_json(&s->faults));
}

static void reset(struct tocsin_http_req *r, void *ctx)
{
    struct sim *s = ctx;
    sim_store_reset(s);
    sim_faults_default(&s->faults);
    tocsin_http_respond_json(r, 200, json_pack("{s:b}", "reset", 1));
}

/* Query parameter as a NUL-terminated arena string, or NULL. */
static const char *query(struct tocsin_http_req *r, const char *key)
{
    struct tocsin_kv *kv;
    size_t n;
    char err[100];
    if (tocsin_http_form(r, 1, &kv, &n, err, sizeof err))
        return NULL;
    tocsin_str v = tocsin_form_get(kv, n, key);
    return v.base; /* form values are NUL-terminated in the arena */
}

static void count(struct tocsin_http_req *r, void *ctx)
{
    struct sim *s = ctx;
    const char *to = query(r, "to"), *body = query(r, "body");
    if (!to || !body) {
        tocsin_http_error(r, 400, "bad_request", "give to and body");
        return;
    }
    tocsin_http_respond_json(
        r, 200, json_pack("{s:I}", "count", (json_int_t)sim_store_accepted(s, to, body)));
}

static void rates(struct tocsin_http_req *r, void *ctx)
{
    struct sim *s = ctx;
    const char *from = query(r, "from");
    const struct sim_sender *d = from ? sim_store_sender(s, from) : NULL;
    json_t *per = json_object();
    json_int_t max = 0;
    for (size_t i = 0; d && i < d->n; i++) {
        char second[24];
        snprintf(second, sizeof second, "%llu", (unsigned long long)d->v[i].second);
        json_object_set_new(per, second, json_integer((json_int_t)d->v[i].segments));
        if ((json_int_t)d->v[i].segments > max)
            max = (json_int_t)d->v[i].segments;
    }
    tocsin_http_respond_json(r, 200,
                             json_pack("{s:o,s:I}", "segments_per_second", per, "max", max));
}

static void messages(struct tocsin_http_req *r, void *ctx)
{
    struct sim *s = ctx;
    const char *to = query(r, "to");
    json_t *list = json_array();
    for (size_t i = 0; i < s->nlist; i++)
        if (!to || strcmp(s->list[i]->to, to) == 0)
            json_array_append_new(list, sim_message_json(s->list[i]));
    tocsin_http_respond_json(
        r, 200,
        json_pack("{s:o,s:I}", "messages", list, "accepted", (json_int_t)s->accepted_total));
}

static void phone_thread(struct tocsin_http_req *r, void *ctx)
{
    struct sim *s = ctx;
    tocsin_str raw = tocsin_http_route_tail(r);
    char decoded[40];
    size_t n = 0;
    for (size_t i = 0; i < raw.len && n + 1 < sizeof decoded; i++) {
        if (raw.base[i] == '%' && i + 2 < raw.len && raw.base[i + 1] == '2' &&
            (raw.base[i + 2] == 'B' || raw.base[i + 2] == 'b')) {
            decoded[n++] = '+'; /* a browser writes "+1..." as "%2B1..." */
            i += 2;
        } else {
            decoded[n++] = raw.base[i];
        }
    }
    tocsin_str number = {decoded, n};
    json_t *list = json_array();
    for (size_t i = 0; i < s->nlist; i++) {
        struct sim_message *m = s->list[i];
        tocsin_str party = tocsin_str_from(m->outbound ? m->to : m->from);
        if (tocsin_str_eq(party, number))
            json_array_append_new(list, sim_message_json(m));
    }
    tocsin_http_respond_json(
        r, 200, json_pack("{s:s%,s:o}", "number", number.base, number.len, "messages", list));
}

/* --- a member texts the short code --- */

struct inbound {
    struct tocsin_http_req *req;
    char sid[35];
};

static void inbound_done(const struct tocsin_http_client_response *resp, void *ctx)
{
    struct inbound *in = ctx;
    json_t *j = json_pack("{s:s,s:I,s:s?}", "message_sid", in->sid, "gateway_status",
                          (json_int_t)resp->status, "error", resp->error);
    tocsin_http_respond_json(in->req, resp->error ? 502 : 200, j);
    free(in);
}

/* The carrier's default answers to the reserved words it knows (Twilio's
 * default opt-out handling on long codes and toll-free numbers: STOP,
 * START and HELP each get a standard reply; the carrier's words, not the
 * program's). */
#define CARRIER_STOP_REPLY                                                                         \
    "You have successfully been unsubscribed. You will not receive any more messages from this "   \
    "number. Reply START to resubscribe."
#define CARRIER_START_REPLY                                                                        \
    "You have successfully been re-subscribed to messages from this number. Reply HELP for help. " \
    "Reply STOP to unsubscribe. Msg&Data Rates May Apply."
#define CARRIER_HELP_REPLY "Reply STOP to unsubscribe. Msg&Data Rates May Apply."

static void carrier_says(struct sim *s, const struct sim_account *a, const struct sim_message *in,
                         tocsin_str text)
{
    struct sim_message *c = sim_store_add(s, a->sid, in->to, in->from, text, NULL, 1);
    if (c) {
        c->carrier = 1;
        snprintf(c->status, sizeof c->status, "delivered");
    }
}

/* Where the carrier answers reserved words (sim_store_handling), it keeps
 * its own opt-out list and answers STOP (once), START and HELP itself; it
 * knows the English words only (Spanish ones pass to the program
 * unanswered), and says nothing to HELP from a number it has blocked. The
 * message is read by the same code Tocsin reads it with (lib/compliance,
 * lib/normalize); Tocsin sends no answer of its own to these words there
 * (tocsin_receive_inbound), so the member gets exactly one. */
static void carrier_reserved_words(struct sim *s, const struct sim_account *a, const char *provider,
                                   const struct sim_message *in)
{
    if (sim_store_handling(s, in->to, provider) != SIM_OPT_OUT_CARRIER)
        return;
    size_t len = strlen(in->body);
    enum tocsin_reserved w = tocsin_reserved_word(in->body, len);
    const char *lang = tocsin_reserved_language(in->body, len);
    if (w == TOCSIN_RESERVED_NONE || (lang && strcmp(lang, "es") == 0))
        return;
    int was_out = sim_store_opted_out(s, in->from, in->to);
    switch (w) {
    case TOCSIN_RESERVED_OPT_OUT:
        sim_store_set_opted_out(s, in->from, in->to, 1);
        if (!was_out)
            carrier_says(s, a, in, TSTR(CARRIER_STOP_REPLY));
        break;
    case TOCSIN_RESERVED_OPT_IN:
        sim_store_set_opted_out(s, in->from, in->to, 0);
        carrier_says(s, a, in, TSTR(CARRIER_START_REPLY));
        break;
    case TOCSIN_RESERVED_HELP:
        if (!was_out)
            carrier_says(s, a, in, TSTR(CARRIER_HELP_REPLY));
        break;
    case TOCSIN_RESERVED_NONE:
        break;
    }
}

/* POST /sim/senders {"number", "opt_out_handling": "carrier"|"program"}. */
static void senders_post(struct tocsin_http_req *r, void *ctx)
{
    struct sim *s = ctx;
    char err[200];
    json_t *j = tocsin_http_json(r, err, sizeof err);
    const char *number = NULL, *handling = NULL;
    if (!j || json_unpack(j, "{s:s,s:s}", "number", &number, "opt_out_handling", &handling) != 0 ||
        !*number || strlen(number) > 31 ||
        (strcmp(handling, "carrier") != 0 && strcmp(handling, "program") != 0)) {
        json_decref(j);
        tocsin_http_error(r, 400, "bad_request",
                          "give JSON {\"number\", \"opt_out_handling\": \"carrier\"|\"program\"}");
        return;
    }
    int h = strcmp(handling, "carrier") == 0 ? SIM_OPT_OUT_CARRIER : SIM_OPT_OUT_PROGRAM;
    if (sim_store_set_handling(s, number, h)) {
        json_decref(j);
        tocsin_http_error(r, 503, "out_of_memory", "out of memory");
        return;
    }
    tocsin_http_respond_json(
        r, 200, json_pack("{s:s,s:s}", "number", number, "opt_out_handling", handling));
    json_decref(j);
}

static void inbound(struct tocsin_http_req *r, void *ctx)
{
    struct sim *s = ctx;
    char err[200];
    json_t *j = tocsin_http_json(r, err, sizeof err);
    const char *from = NULL, *to = NULL, *body = NULL, *account = NULL, *provider = "twilio";
    if (!j ||
        json_unpack(j, "{s:s,s:s,s:s,s?:s,s?:s}", "from", &from, "to", &to, "body", &body,
                    "account", &account, "provider", &provider) != 0 ||
        (strcmp(provider, "twilio") && strcmp(provider, "telnyx"))) {
        json_decref(j);
        tocsin_http_error(
            r, 400, "bad_request",
            "give JSON {\"from\", \"to\", \"body\"[, \"account\", \"provider\": twilio|telnyx]}%s%s",
            j ? "" : ": ", j ? "" : err);
        return;
    }
    const struct sim_account *a =
        account ? sim_account_find(s, tocsin_str_from(account)) : &s->accounts[0];
    if (!a || !tocsin_phone_looks_e164(from, strlen(from)) || strlen(body) > 1600) {
        json_decref(j);
        tocsin_http_error(r, 400, "bad_request",
                          "unknown account, from not in E.164, or body over 1600 characters");
        return;
    }
    struct sim_message *m = sim_store_add(s, a->sid, from, to, tocsin_str_from(body), NULL, 0);
    struct inbound *in = calloc(1, sizeof *in);
    if (!m || !in) {
        free(in);
        json_decref(j);
        tocsin_http_error(r, 503, "out_of_memory", "out of memory");
        return;
    }
    carrier_reserved_words(s, a, provider, m);
    in->req = r;
    snprintf(in->sid, sizeof in->sid, "%s", m->sid);
    char url[300], segments[8];
    if (strcmp(provider, "telnyx") == 0) {
        m->telnyx = 1;
        snprintf(url, sizeof url, "%s/telnyx/webhook", s->gateway_url);
        sim_telnyx_event(s, m, "message.received", "webhook_delivered", url, inbound_done, in);
        json_decref(j);
        return;
    }
    snprintf(url, sizeof url, "%s/twilio/inbound", s->gateway_url);
    snprintf(segments, sizeof segments, "%d", m->segments);
    struct tocsin_kv p[] = {
        {TSTR("AccountSid"), tocsin_str_from(a->sid)},
        {TSTR("ApiVersion"), TSTR("2010-04-01")},
        {TSTR("Body"), tocsin_str_from(m->body)},
        {TSTR("From"), tocsin_str_from(m->from)},
        {TSTR("MessageSid"), tocsin_str_from(m->sid)},
        {TSTR("NumMedia"), TSTR("0")},
        {TSTR("NumSegments"), tocsin_str_from(segments)},
        {TSTR("SmsMessageSid"), tocsin_str_from(m->sid)},
        {TSTR("SmsSid"), tocsin_str_from(m->sid)},
        {TSTR("SmsStatus"), TSTR("received")},
        {TSTR("To"), tocsin_str_from(m->to)},
    };
    sim_post_signed(s, a->token, url, p, ARRAY_SIZE(p), inbound_done, in);
    json_decref(j);
}

static void telnyx_public_key(struct tocsin_http_req *r, void *ctx)
{
    struct sim *s = ctx;
    char b64[64];
    tocsin_base64_encode(s->telnyx_pk, sizeof s->telnyx_pk, b64, sizeof b64);
    tocsin_http_respond_json(r, 200, json_pack("{s:s}", "public_key", b64));
}

static void stats(struct tocsin_http_req *r, void *ctx)
{
    struct sim *s = ctx;
    tocsin_http_respond_json(r, 200,
                             json_pack("{s:I,s:I,s:i}", "accepted", (json_int_t)s->accepted_total,
                                       "messages", (json_int_t)s->nlist, "in_flight_callbacks",
                                       (int)tocsin_http_client_pending(s->client)));
}

void sim_control_routes(struct sim *s)
{
    tocsin_http_route(s->http, "GET", "/sim/faults", faults_get, s);
    tocsin_http_route(s->http, "POST", "/sim/faults", faults_post, s);
    tocsin_http_route(s->http, "POST", "/sim/reset", reset, s);
    tocsin_http_route(s->http, "GET", "/sim/count", count, s);
    tocsin_http_route(s->http, "GET", "/sim/rates", rates, s);
    tocsin_http_route(s->http, "GET", "/sim/messages", messages, s);
    tocsin_http_route(s->http, "GET", "/sim/stats", stats, s);
    tocsin_http_route(s->http, "POST", "/sim/inbound", inbound, s);
    tocsin_http_route(s->http, "POST", "/sim/senders", senders_post, s);
    tocsin_http_route(s->http, "GET", "/sim/phones/*", phone_thread, s);
    tocsin_http_route(s->http, "GET", "/sim/telnyx/public-key", telnyx_public_key, s);
}
