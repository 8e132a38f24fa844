/* SPDX-License-Identifier: AGPL-3.0-or-later
 * twilio_webhooks.c — Twilio's webhooks: POST /twilio/inbound (a member's
 * message) and POST /twilio/status (a delivery receipt). Each is checked
 * against X-Twilio-Signature for the sender's auth token and the public URL
 * the operator configured, applied in one database round trip, and only
 * then acknowledged, so a carrier that retries loses nothing and a retried
 * webhook is applied once. The signature is checked before any shared
 * budget is spent (gateway.h): junk cannot push a real webhook into 429. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "gateway.h"
#include "log.h"
#include "webhook_fields.h"
#include "webhook_paths.h"

struct tocsin_metric gw_rejected_signatures = TOCSIN_METRIC_COUNTER(
    "tocsin_gateway_rejected_signatures_total", "webhooks refused for a bad signature", NULL);

static const char twiml_empty[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>";

struct hook {
    struct gateway *g;
    struct tocsin_http_req *req;
    struct tocsin_kv *kv;
    size_t n;
    int is_status;
    int suspect; /* its address is out of junk budget: cached senders only */
    char url[700];
    struct gw_twilio_fields f;
    struct gw_inbound in;
};

static const char *cstr(struct hook *h, tocsin_str s)
{
    return tocsin_arena_strndup(tocsin_http_arena(h->req), s.base ? s.base : "", s.len);
}

/* The one answer to a webhook we cannot attribute: a bad signature and a
 * number no sender has look the same to the caller. */
static void refuse(struct hook *h)
{
    tocsin_http_error(h->req, 403, "bad_signature", "the X-Twilio-Signature does not match");
}

static void sender_found(struct gw_sender *s, int status, const char *why, void *ctx)
{
    struct hook *h = ctx;
    if (!s) {
        log_warn("webhook_refused", "to=%s status=%d reason=%s remote=%s",
                 tocsin_log_qn(h->f.to.base, h->f.to.len), status, tocsin_log_q(why),
                 tocsin_http_remote_addr(h->req));
        if (status == 404) { /* unknown number: charged and answered as junk */
            gw_junk(h->g, h->req);
            refuse(h);
        } else {
            gw_sender_refused(h->req, status, why);
        }
        return;
    }
    tocsin_str sig = tocsin_http_header(h->req, "x-twilio-signature");
    if (!tocsin_twilio_verify_url(tocsin_str_from(s->secret), h->url, h->kv, h->n, sig)) {
        tocsin_metric_add(&gw_rejected_signatures, 1);
        gw_junk(h->g, h->req);
        log_warn("webhook_bad_signature", "url=%s remote=%s", tocsin_log_q(h->url),
                 tocsin_http_remote_addr(h->req));
        refuse(h);
        return;
    }
    if (!gw_admit(h->g, h->req))
        return;
    h->in = (struct gw_inbound){.req = h->req,
                                .provider = "twilio",
                                .message_id = cstr(h, h->f.sid),
                                .from = cstr(h, h->f.from),
                                .body = cstr(h, h->f.body),
                                .num_media = h->f.num_media,
                                .ok_status = 200,
                                .ok_type = "text/xml",
                                .ok_body = twiml_empty};
    if (h->is_status)
        gw_receipt_apply(h->g, s, &h->in, cstr(h, h->f.status), cstr(h, h->f.error_code));
    else
        gw_inbound_apply(h->g, s, &h->in);
}

/* Reads and checks the form; returns the hook, or NULL after answering. */
static struct hook *hook_begin(struct gateway *g, struct tocsin_http_req *r, int is_status)
{
    struct hook *h = tocsin_arena_alloc(tocsin_http_arena(r), sizeof *h);
    char err[160];
    if (!h) {
        tocsin_http_error(r, 503, "out_of_memory", "out of memory");
        return NULL;
    }
    memset(h, 0, sizeof *h);
    h->g = g;
    h->req = r;
    h->is_status = is_status;
    h->suspect = gw_suspect(g, r);
    if (tocsin_http_form(r, 0, &h->kv, &h->n, err, sizeof err)) {
        gw_junk(g, r);
        tocsin_http_error(r, 400, "bad_form", "%s", err);
        return NULL;
    }
    const char *bad = gw_twilio_fields(h->kv, h->n, is_status, &h->f);
    if (bad) {
        gw_junk(g, r);
        tocsin_http_error(r, 400, "bad_webhook", "%s", bad);
        return NULL;
    }
    /* The URL Twilio signed: the public base the operator configured (behind
     * a proxy, the Host we see is not the one Twilio called) + path + query. */
    tocsin_str path = tocsin_http_path(r), query = tocsin_http_query(r);
    snprintf(h->url, sizeof h->url, "%s%.*s%s%.*s", g->d->cfg.public_url, (int)path.len, path.base,
             query.len ? "?" : "", (int)query.len, query.base);
    return h;
}

static void on_inbound(struct tocsin_http_req *r, void *ctx)
{
    struct hook *h = hook_begin(ctx, r, 0);
    if (h)
        gw_sender_lookup(h->g, cstr(h, h->f.to), h->suspect, sender_found, h);
}

static void on_status(struct tocsin_http_req *r, void *ctx)
{
    struct hook *h = hook_begin(ctx, r, 1);
    /* The receipt's From is our sender: its token signed the callback. */
    if (h)
        gw_sender_lookup(h->g, cstr(h, h->f.from.base ? h->f.from : h->f.to), h->suspect,
                         sender_found, h);
}

void gw_twilio_routes(struct gateway *g)
{
    tocsin_metric_register(&gw_rejected_signatures);
    tocsin_http_route(g->d->http, "POST", TOCSIN_PATH_TWILIO_INBOUND, on_inbound, g);
    tocsin_http_route(g->d->http, "POST", TOCSIN_PATH_TWILIO_STATUS, on_status, g);
}
