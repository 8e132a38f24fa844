/* SPDX-License-Identifier: AGPL-3.0-or-later
 * twilio_api.c — Twilio's Messages API as the simulator speaks it:
 * POST /2010-04-01/Accounts/{Sid}/Messages.json (basic auth, form body,
 * Twilio's validation and error shape, 201 with a message resource) and
 * GET .../Messages/{Sid}.json, with the configured faults injected, and
 * GET /2010-04-01/Accounts/{Sid}.json (the account itself: the harmless
 * credentials check of tocsinctl doctor). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "crypto.h"
#include "json_write.h"
#include "phone.h"
#include "sim.h"
#include "sms.h"

const struct sim_account *sim_account_find(struct sim *s, tocsin_str sid)
{
    for (int i = 0; i < s->naccounts; i++)
        if (tocsin_str_eq(sid, tocsin_str_from(s->accounts[i].sid)))
            return &s->accounts[i];
    return NULL;
}

static void twilio_error(struct tocsin_http_req *r, int status, int code, const char *message)
{
    char more[80];
    snprintf(more, sizeof more, "https://www.twilio.com/docs/errors/%d", code);
    tocsin_http_respond_json(r, status,
                             json_pack("{s:i,s:s,s:s,s:i}", "code", code, "message", message,
                                       "more_info", more, "status", status));
}

/* Checks HTTP basic auth against the account named in the path. */
static const struct sim_account *authenticate(struct sim *s, struct tocsin_http_req *r,
                                              tocsin_str path_sid)
{
    tocsin_str auth = tocsin_http_header(r, "authorization");
    if (auth.len < 7 || !tocsin_str_eq_nocase((tocsin_str){auth.base, 6}, TSTR("Basic ")))
        return NULL;
    unsigned char raw[256];
    long n = tocsin_base64_decode(auth.base + 6, auth.len - 6, raw, sizeof raw - 1);
    if (n <= 0)
        return NULL;
    raw[n] = '\0';
    char *colon = strchr((char *)raw, ':');
    if (!colon)
        return NULL;
    *colon = '\0';
    const struct sim_account *a = sim_account_find(s, tocsin_str_from((char *)raw));
    if (!a || !tocsin_str_eq(path_sid, tocsin_str_from(a->sid)))
        return NULL;
    size_t tl = strlen(colon + 1);
    if (tl != strlen(a->token) || !tocsin_ct_equal(colon + 1, a->token, tl))
        return NULL;
    return a;
}

static void rfc2822(uint64_t ms, char out[40])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 40, "%a, %d %b %Y %H:%M:%S +0000", &tm);
}

/* Writes the message resource in Twilio's shape (strings where Twilio has
 * them), member for member what a jansson object built with
 * json_string() would dump: a value that is not UTF-8 leaves its member
 * out. Check w->failed afterwards. */
static void resource(struct sim_jw *w, const struct sim_message *m)
{
    char date[40], uri[160], media[180];
    rfc2822(m->created_ms, date);
    snprintf(uri, sizeof uri, "/2010-04-01/Accounts/%s/Messages/%s.json", m->account, m->sid);
    snprintf(media, sizeof media, "/2010-04-01/Accounts/%s/Messages/%s/Media.json", m->account,
             m->sid);
    SIM_JW_LIT(w, "{");
    sim_jw_member(w, "account_sid", m->account);
    sim_jw_sep(w);
    SIM_JW_LIT(w, "\"api_version\":\"2010-04-01\"");
    sim_jw_member(w, "body", m->body);
    sim_jw_member(w, "date_created", date);
    sim_jw_member(w, "date_updated", date);
    sim_jw_sep(w);
    SIM_JW_LIT(w, "\"date_sent\":null,\"direction\":\"outbound-api\",\"error_code\":null,"
                  "\"error_message\":null");
    sim_jw_member(w, "from", m->from);
    SIM_JW_LIT(w, ",\"messaging_service_sid\":null,\"num_media\":\"0\",\"num_segments\":\"");
    sim_jw_int(w, m->segments);
    SIM_JW_LIT(w, "\",\"price\":null,\"price_unit\":\"USD\"");
    sim_jw_member(w, "sid", m->sid);
    sim_jw_member(w, "status", m->status);
    sim_jw_member(w, "to", m->to);
    sim_jw_member(w, "uri", uri);
    size_t before = w->len;
    sim_jw_sep(w);
    SIM_JW_LIT(w, "\"subresource_uris\":{");
    if (sim_jw_member(w, "media", media) == 0)
        SIM_JW_LIT(w, "}");
    else
        w->len = before; /* json_pack("{s:s}") failed: the member was left out */
    SIM_JW_LIT(w, "}");
}

static int chance(double p)
{
    return p > 0 && (double)randombytes_uniform(1000000) < p * 1000000.0;
}

struct delayed {
    uv_timer_t timer;
    struct tocsin_http_req *req;
    int status;
    size_t len;
    char body[]; /* the resource as it was when the answer was decided */
};

static void delayed_closed(uv_handle_t *h)
{
    free(h->data);
}

static void delayed_fire(uv_timer_t *t)
{
    struct delayed *d = t->data;
    tocsin_http_respond(d->req, d->status, "application/json", d->body, d->len);
    uv_close((uv_handle_t *)&d->timer, delayed_closed);
}

/* Answers with m's resource as it is now, after ms milliseconds (at once
 * when ms is 0, or when there is no memory to wait with). */
static void respond_resource(struct sim *s, struct tocsin_http_req *r, int status,
                             const struct sim_message *m, unsigned ms)
{
    char storage[2048];
    struct sim_jw w;
    sim_jw_init(&w, storage, sizeof storage);
    resource(&w, m);
    struct delayed *d = NULL;
    if (w.failed) {
        twilio_error(r, 500, 20500, "Internal Server Error");
    } else if (ms && (d = malloc(sizeof *d + w.len))) {
        memset(d, 0, sizeof *d);
        d->req = r;
        d->status = status;
        d->len = w.len;
        memcpy(d->body, w.base, w.len);
        uv_timer_init(s->loop, &d->timer);
        d->timer.data = d;
        uv_timer_start(&d->timer, delayed_fire, ms, 0);
    } else {
        tocsin_http_respond(r, status, "application/json", w.base, w.len);
    }
    sim_jw_free(&w);
}

static void create_message(struct sim *s, struct tocsin_http_req *r, const struct sim_account *a)
{
    struct tocsin_kv *kv;
    size_t n;
    char err[160];
    if (tocsin_http_form(r, 0, &kv, &n, err, sizeof err)) {
        twilio_error(r, 400, 21100, err);
        return;
    }
    if (!s->benchmark && chance(s->faults.p429)) {
        twilio_error(r, 429, 20429, "Too Many Requests");
        return;
    }
    if (!s->benchmark && chance(s->faults.p500)) {
        twilio_error(r, 500, 20500, "Internal Server Error");
        return;
    }
    tocsin_str to = tocsin_form_get(kv, n, "To"), from = tocsin_form_get(kv, n, "From");
    tocsin_str service = tocsin_form_get(kv, n, "MessagingServiceSid");
    tocsin_str body = tocsin_form_get(kv, n, "Body"), media = tocsin_form_get(kv, n, "MediaUrl");
    tocsin_str callback = tocsin_form_get(kv, n, "StatusCallback");
    char msg[200];
    if (!to.base || !to.len) {
        twilio_error(r, 400, 21604, "A 'To' phone number is required.");
        return;
    }
    if (!tocsin_phone_looks_e164(to.base, to.len)) {
        snprintf(msg, sizeof msg, "The 'To' number %.*s is not a valid phone number.",
                 (int)(to.len > 40 ? 40 : to.len), to.base);
        twilio_error(r, 400, 21211, msg);
        return;
    }
    if ((!from.base || !from.len) && (!service.base || !service.len)) {
        twilio_error(r, 400, 21603, "A 'From' phone number is required.");
        return;
    }
    if ((!body.base || !body.len) && !media.base) {
        twilio_error(r, 400, 21602, "Message body is required.");
        return;
    }
    struct tocsin_sms_info info;
    if (body.base && tocsin_sms_count(body.base, body.len, &info) == 0 && info.chars > 1600) {
        twilio_error(r, 400, 21617,
                     "The concatenated message body exceeds the 1600 character limit.");
        return;
    }
    char to_s[32], from_s[32];
    snprintf(to_s, sizeof to_s, "%.*s", (int)to.len, to.base);
    snprintf(from_s, sizeof from_s, "%.*s", (int)(from.base ? from.len : service.len),
             from.base ? from.base : service.base);
    if (sim_store_opted_out(s, to_s, from_s)) {
        twilio_error(r, 400, 21610, "Attempt to send to unsubscribed recipient");
        return;
    }
    char cb[512] = "";
    if (callback.base)
        snprintf(cb, sizeof cb, "%.*s", (int)callback.len, callback.base);
    struct sim_message *m =
        sim_store_add(s, a->sid, from_s, to_s, body.base ? body : TSTR(""), cb, 1);
    if (!m) {
        twilio_error(r, 500, 20500, "Internal Server Error");
        return;
    }
    sim_store_count(s, m);
    if (s->benchmark) {
        respond_resource(s, r, 201, m, 0);
        return;
    }
    /* Faults after the message was accepted: the client cannot know it went. */
    if (chance(s->faults.ptimeout)) {
        sim_receipts_schedule(s, m);
        return; /* never answered; the client times out and the request stays open */
    }
    if (chance(s->faults.preset)) {
        sim_receipts_schedule(s, m);
        tocsin_http_drop(r);
        return;
    }
    if (s->faults.receipts_before_response) {
        sim_receipts_schedule(s, m);
        respond_resource(s, r, 201, m, 100 + s->receipt_delay_ms * 3);
        return;
    }
    sim_receipts_schedule(s, m);
    respond_resource(s, r, 201, m, chance(s->faults.pslow) ? s->faults.slow_ms : 0);
}

/* GET /2010-04-01/Accounts/{AccountSid}.json: the account, as Twilio
 * answers it (status active) to its own credentials; 401 otherwise. */
static void account_fetch(struct sim *s, struct tocsin_http_req *r, tocsin_str tail)
{
    if (!tocsin_str_eq(tocsin_http_method(r), TSTR("GET")) || tail.len <= 5 ||
        memcmp(tail.base + tail.len - 5, ".json", 5) != 0) {
        twilio_error(r, 404, 20404, "The requested resource was not found");
        return;
    }
    const struct sim_account *a = authenticate(s, r, (tocsin_str){tail.base, tail.len - 5});
    if (!a) {
        tocsin_http_add_header(r, "WWW-Authenticate", "Basic realm=\"Twilio API\"");
        twilio_error(r, 401, 20003, "Authenticate");
        return;
    }
    tocsin_http_respond_json(r, 200,
                             json_pack("{s:s,s:s,s:s,s:s}", "sid", a->sid, "status", "active",
                                       "type", "Full", "friendly_name", "carrier simulator"));
}

/* /2010-04-01/Accounts/{AccountSid}/Messages.json and .../Messages/{Sid}.json */
static void accounts_route(struct tocsin_http_req *r, void *ctx)
{
    struct sim *s = ctx;
    tocsin_str tail = tocsin_http_route_tail(r);
    const char *slash = memchr(tail.base, '/', tail.len);
    if (!slash) {
        account_fetch(s, r, tail);
        return;
    }
    tocsin_str sid = {tail.base, (size_t)(slash - tail.base)};
    tocsin_str rest = {slash, tail.len - sid.len};
    const struct sim_account *a = authenticate(s, r, sid);
    if (!a) {
        tocsin_http_add_header(r, "WWW-Authenticate", "Basic realm=\"Twilio API\"");
        twilio_error(r, 401, 20003, "Authenticate");
        return;
    }
    int is_post = tocsin_str_eq(tocsin_http_method(r), TSTR("POST"));
    if (tocsin_str_eq(rest, TSTR("/Messages.json")) && is_post) {
        create_message(s, r, a);
        return;
    }
    static const char prefix[] = "/Messages/";
    if (!is_post && rest.len > sizeof prefix + 4 &&
        memcmp(rest.base, prefix, sizeof prefix - 1) == 0 &&
        memcmp(rest.base + rest.len - 5, ".json", 5) == 0) {
        char msid[64];
        size_t ml = rest.len - (sizeof prefix - 1) - 5;
        snprintf(msid, sizeof msid, "%.*s", (int)(ml < 60 ? ml : 60),
                 rest.base + sizeof prefix - 1);
        struct sim_message *m = sim_store_find(s, msid);
        if (!m || strcmp(m->account, a->sid) != 0) {
            twilio_error(r, 404, 20404, "The requested resource was not found");
            return;
        }
        respond_resource(s, r, 200, m, 0);
        return;
    }
    twilio_error(r, 404, 20404, "The requested resource was not found");
}

void sim_twilio_routes(struct sim *s)
{
    tocsin_http_route(s->http, "POST", "/2010-04-01/Accounts/*", accounts_route, s);
    tocsin_http_route(s->http, "GET", "/2010-04-01/Accounts/*", accounts_route, s);
}
