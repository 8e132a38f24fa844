/* SPDX-License-Identifier: AGPL-3.0-or-later
 * telnyx_webhooks.c — Telnyx's v2 webhooks at POST /telnyx/webhook: JSON
 * events signed with Ed25519 over "timestamp|body" (telnyx-signature-ed25519,
 * telnyx-timestamp), refused when the signature does not verify with the
 * sender's public key or the timestamp is more than 5 minutes off.
 * message.received is a member's message; message.sent and
 * message.finalized are receipts; other events are acknowledged. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "crypto.h"
#include "gateway.h"
#include "log.h"
#include "webhook_fields.h"
#include "webhook_paths.h"

#define TELNYX_MAX_SKEW_S 300

struct telnyx_hook {
    struct gateway *g;
    struct tocsin_http_req *req;
    json_t *event;
    struct gw_telnyx_fields f;
    struct gw_inbound in;
};

static void finish(struct telnyx_hook *h)
{
    json_decref(h->event);
    h->event = NULL;
}

/* 1 when the telnyx-timestamp is present and within TELNYX_MAX_SKEW_S. */
static int timestamp_fresh(tocsin_str ts)
{
    /* Without overflow whatever the header holds (INT64_MIN: lib/crypto). */
    return tocsin_telnyx_timestamp_fresh(ts, (long long)time(NULL), TELNYX_MAX_SKEW_S);
}

/* The one answer to an event we cannot attribute: a bad signature and a
 * number no sender has look the same to the caller. */
static void refuse(struct telnyx_hook *h, int fresh)
{
    tocsin_http_error(h->req, 403, "bad_signature",
                      fresh ? "the telnyx-signature-ed25519 does not verify"
                            : "the telnyx-timestamp is missing or more than 5 minutes off");
    finish(h);
}

static void sender_found(struct gw_sender *s, int status, const char *why, void *ctx)
{
    struct telnyx_hook *h = ctx;
    tocsin_str ts = tocsin_http_header(h->req, "telnyx-timestamp");
    int fresh = timestamp_fresh(ts);
    if (!s) {
        log_warn("webhook_refused", "provider=telnyx status=%d reason=%s remote=%s", status,
                 tocsin_log_q(why), tocsin_http_remote_addr(h->req));
        if (status == 404) { /* unknown number: charged and answered as junk */
            gw_junk(h->g, h->req);
            refuse(h, fresh);
            return;
        }
        gw_sender_refused(h->req, status, why);
        finish(h);
        return;
    }
    tocsin_str sig = tocsin_http_header(h->req, "telnyx-signature-ed25519");
    if (!s->has_telnyx_pk || !fresh ||
        !tocsin_ed25519_verify(s->telnyx_pk, ts, tocsin_http_body(h->req), sig)) {
        tocsin_metric_add(&gw_rejected_signatures, 1);
        gw_junk(h->g, h->req);
        log_warn("webhook_bad_signature", "provider=telnyx fresh=%d remote=%s", fresh,
                 tocsin_http_remote_addr(h->req));
        refuse(h, fresh);
        return;
    }
    if (!gw_admit(h->g, h->req)) {
        finish(h);
        return;
    }
    struct tocsin_arena *a = tocsin_http_arena(h->req);
    h->in = (struct gw_inbound){.req = h->req,
                                .provider = "telnyx",
                                .message_id = tocsin_arena_strndup(a, h->f.id, strlen(h->f.id)),
                                .from = tocsin_arena_strndup(a, h->f.from, strlen(h->f.from)),
                                .body = tocsin_arena_strndup(a, h->f.text, strlen(h->f.text)),
                                .ok_status = 200,
                                .ok_type = NULL,
                                .ok_body = NULL};
    const char *receipt_status =
        h->f.status ? tocsin_arena_strndup(a, h->f.status, strlen(h->f.status)) : "";
    const char *code =
        h->f.error_code ? tocsin_arena_strndup(a, h->f.error_code, strlen(h->f.error_code)) : NULL;
    int receipt = strcmp(h->f.type, "message.received") != 0;
    finish(h); /* the strings above live in the arena from here on */
    if (receipt)
        gw_receipt_apply(h->g, s, &h->in, receipt_status, code);
    else
        gw_inbound_apply(h->g, s, &h->in);
}

static void on_webhook(struct tocsin_http_req *r, void *ctx)
{
    struct telnyx_hook *h = tocsin_arena_alloc(tocsin_http_arena(r), sizeof *h);
    char err[200];
    if (!h) {
        tocsin_http_error(r, 503, "out_of_memory", "out of memory");
        return;
    }
    memset(h, 0, sizeof *h);
    h->g = ctx;
    h->req = r;
    h->event = tocsin_http_json(r, err, sizeof err);
    if (!h->event) {
        gw_junk(ctx, r);
        tocsin_http_error(r, 400, "bad_json", "%s", err);
        return;
    }
    const char *bad = gw_telnyx_fields(h->event, &h->f);
    if (bad) {
        gw_junk(ctx, r);
        tocsin_http_error(r, 400, "bad_webhook", "%s", bad);
        finish(h);
        return;
    }
    int received = h->f.received;
    if (!received && !h->f.receipt) { /* an event we do not use */
        tocsin_http_respond(r, 200, NULL, NULL, 0);
        finish(h);
        return;
    }
    /* A member writes to our number (to); a receipt is about a message from it (from). */
    const char *ours = received ? h->f.to : h->f.from;
    gw_sender_lookup(h->g, tocsin_arena_strndup(tocsin_http_arena(r), ours, strlen(ours)),
                     gw_suspect(h->g, r), sender_found, h);
}

void gw_telnyx_routes(struct gateway *g)
{
    tocsin_http_route(g->d->http, "POST", TOCSIN_PATH_TELNYX_WEBHOOK, on_webhook, g);
}
