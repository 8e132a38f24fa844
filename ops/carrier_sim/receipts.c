/* SPDX-License-Identifier: AGPL-3.0-or-later
 * receipts.c — what the simulated carrier posts back: status callbacks
 * (sent, then delivered, or undelivered for recipients in a failure range)
 * as Twilio sends them, form-encoded and signed with X-Twilio-Signature. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "form.h"
#include "log.h"
#include "sim.h"

static void post_done(const struct tocsin_http_client_response *r, void *ctx)
{
    char *url = ctx;
    if (r->error || r->status >= 300)
        log_warn("sim_callback_failed", "url=%s status=%ld reason=%s", tocsin_log_q(url), r->status,
                 tocsin_log_q(r->error ? r->error : "non-2xx"));
    free(url);
}

void sim_post_signed(struct sim *s, const char *token, const char *url, struct tocsin_kv *params,
                     size_t n, tocsin_http_client_cb cb, void *ctx)
{
    char sig[29], header[64], body[8192];
    size_t used = 0;
    body[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        size_t next = tocsin_form_append(body, sizeof body, used, params[i].key, params[i].value);
        if (next == (size_t)-1)
            break; /* callbacks are small; a member's 1600 characters fit */
        used = next;
    }
    tocsin_twilio_signature(tocsin_str_from(token), tocsin_str_from(url), params, n, sig);
    snprintf(header, sizeof header, "X-Twilio-Signature: %s", sig);
    const char *headers[] = {"Content-Type: application/x-www-form-urlencoded", header, NULL};
    struct tocsin_http_client_request req = {.method = "POST",
                                             .url = url,
                                             .headers = headers,
                                             .body = body,
                                             .body_len = used,
                                             .timeout_ms = 15000};
    if (!cb) {
        cb = post_done;
        ctx = strdup(url);
    }
    if (tocsin_http_client_send(s->client, &req, cb, ctx) != 0 && cb == post_done)
        free(ctx);
}

static const struct sim_account *account_of(struct sim *s, const struct sim_message *m)
{
    return sim_account_find(s, tocsin_str_from(m->account));
}

static void send_status(struct sim *s, struct sim_message *m, const char *status,
                        const char *error_code)
{
    snprintf(m->status, sizeof m->status, "%s", status);
    if (m->telnyx) {
        if (!m->status_callback)
            return;
        const char *event = strcmp(status, "sent") == 0 ? "message.sent" : "message.finalized";
        const char *tstatus = strcmp(status, "undelivered") == 0 ? "delivery_failed" : status;
        int times = s->faults.duplicate_receipts ? 2 : 1;
        for (int i = 0; i < times; i++)
            sim_telnyx_event(s, m, event, tstatus, m->status_callback, NULL, NULL);
        return;
    }
    const struct sim_account *a = account_of(s, m);
    if (!m->status_callback || !a)
        return;
    struct tocsin_kv p[10];
    size_t n = 0;
#define KV(k, v) p[n++] = (struct tocsin_kv){TSTR(k), tocsin_str_from(v)}
    KV("AccountSid", m->account);
    KV("ApiVersion", "2010-04-01");
    KV("From", m->from);
    KV("MessageSid", m->sid);
    KV("MessageStatus", status);
    KV("SmsSid", m->sid);
    KV("SmsStatus", status);
    KV("To", m->to);
    if (error_code)
        KV("ErrorCode", error_code);
#undef KV
    int times = s->faults.duplicate_receipts ? 2 : 1;
    for (int i = 0; i < times; i++)
        sim_post_signed(s, a->token, m->status_callback, p, n, NULL, NULL);
}

static int fails(struct sim *s, const struct sim_message *m)
{
    size_t i;
    json_t *prefix;
    json_array_foreach(s->faults.fail_prefixes, i, prefix)
    {
        const char *pre = json_string_value(prefix);
        if (pre && strncmp(m->to, pre, strlen(pre)) == 0)
            return 1;
    }
    return 0;
}

struct receipt_timer {
    uv_timer_t timer;
    struct sim *sim;
    char sid[35];
    int step;
};

static void receipt_closed(uv_handle_t *h)
{
    free(h->data);
}

static void receipt_fire(uv_timer_t *t)
{
    struct receipt_timer *rt = t->data;
    struct sim_message *m = sim_store_find(rt->sim, rt->sid);
    if (!m) { /* reset meanwhile */
        uv_close((uv_handle_t *)t, receipt_closed);
        return;
    }
    if (rt->step == 0) {
        send_status(rt->sim, m, "sent", NULL);
        rt->step = 1;
        uv_timer_start(t, receipt_fire, rt->sim->receipt_delay_ms, 0);
        return;
    }
    if (fails(rt->sim, m))
        send_status(rt->sim, m, "undelivered", "30003");
    else
        send_status(rt->sim, m, "delivered", NULL);
    uv_close((uv_handle_t *)t, receipt_closed);
}

void sim_receipts_schedule(struct sim *s, struct sim_message *m)
{
    struct receipt_timer *rt = calloc(1, sizeof *rt);
    if (!rt)
        return;
    rt->sim = s;
    snprintf(rt->sid, sizeof rt->sid, "%s", m->sid);
    uv_timer_init(s->loop, &rt->timer);
    rt->timer.data = rt;
    uv_timer_start(&rt->timer, receipt_fire,
                   s->faults.receipts_before_response ? 0 : s->receipt_delay_ms, 0);
}
