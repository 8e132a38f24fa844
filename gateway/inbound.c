/* SPDX-License-Identifier: AGPL-3.0-or-later
 * inbound.c — what the gateway does with an authentic webhook, whichever
 * carrier sent it: a member's message goes through the keyword engine and
 * tocsin_receive_inbound() (schema/functions/inbound.sql) in one statement; a
 * receipt through tocsin_apply_receipt(), scoped to the sender whose
 * credentials verified it (schema/017). The carrier is answered only
 * after the statement committed, or its record is durable in the spool
 * (store.c); a failure answers 503 so it retries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compliance.h"
#include "gateway.h"
#include "log.h"
#include "sms.h"
#include "spool.h"

static struct tocsin_metric m_inbound = TOCSIN_METRIC_COUNTER(
    "tocsin_gateway_inbound_total", "member messages stored (retries excluded)", NULL);
static struct tocsin_metric m_receipts =
    TOCSIN_METRIC_COUNTER("tocsin_gateway_receipts_total", "delivery receipts received", NULL);

void gw_inbound_metrics_register(void)
{
    tocsin_metric_register(&m_inbound);
    tocsin_metric_register(&m_receipts);
}

static const char *const intent_names[] = {"reply", "opt_out", "opt_in", "help", "keyword"};

static void answer(struct gw_inbound *in)
{
    tocsin_http_respond(in->req, in->ok_status, in->ok_type, in->ok_body,
                        in->ok_body ? strlen(in->ok_body) : 0);
}

static void inbound_stored(int status, const PGresult *res, int row, const char *why, void *ctx)
{
    struct gw_inbound *in = ctx;
    if (status < 0) {
        log_warn("inbound_failed", "provider=%s message_id=%s reason=%s", in->provider,
                 tocsin_log_q(in->message_id), tocsin_log_q(why));
        tocsin_http_error(in->req, 503, "unavailable", "the message could not be stored; retry");
        return;
    }
    int spooled = status == GW_STORE_SPOOLED;
    const char *action = spooled ? "spooled" : PQgetvalue(res, row, PQfnumber(res, GW_COL_ACTION));
    if (strcmp(action, "duplicate") != 0) {
        tocsin_metric_add(&m_inbound, 1);
    }
    int id_col = spooled ? -1 : PQfnumber(res, GW_COL_INBOUND_ID);
    int no_id = spooled || PQgetisnull(res, row, id_col); /* spooled, journaled */
    log_info("inbound", "provider=%s message_sid=%s action=%s inbound_id=%s", in->provider,
             tocsin_log_q(in->message_id), action, no_id ? "-" : PQgetvalue(res, row, id_col));
    answer(in);
}

/* The reply a keyword calls for ("" for none). The answers to STOP, START
 * and HELP are written by tocsin_receive_inbound (schema/functions/inbound.sql): they depend
 * on the member's remembered language, on what START gave back and on
 * whether the carrier answers STOP itself. */
static void reply_for(const struct gw_sender *s, const struct tocsin_classification *c, char *out,
                      size_t size)
{
    out[0] = '\0';
    if (c->intent == TOCSIN_INTENT_KEYWORD) {
        const char *k = gw_keyword_reply(s, c->keyword_id);
        snprintf(out, size, "%s", k ? k : "");
    }
}

void gw_inbound_apply(struct gateway *g, struct gw_sender *s, struct gw_inbound *in)
{
    struct tocsin_classification c;
    tocsin_keyword_classify(s->keywords, in->body, strlen(in->body), &c);
    char reply[1700];
    reply_for(s, &c, reply, sizeof reply);
    struct tocsin_sms_info info = {0};
    if (reply[0] && tocsin_sms_count(reply, strlen(reply), &info) != 0)
        reply[0] = '\0';
    char sender_id[24], keyword_id[24], media[12], segments[12];
    snprintf(sender_id, sizeof sender_id, "%lld", s->id);
    snprintf(keyword_id, sizeof keyword_id, "%lld", c.keyword_id);
    snprintf(media, sizeof media, "%d", in->num_media);
    snprintf(segments, sizeof segments, "%zu", info.segments);
    /* A reserved word's language rides on the intent ("opt_out:es"). */
    char intent[16];
    const char *lang = c.intent == TOCSIN_INTENT_OPT_OUT || c.intent == TOCSIN_INTENT_OPT_IN ||
                               c.intent == TOCSIN_INTENT_HELP
                           ? tocsin_reserved_language(in->body, strlen(in->body))
                           : NULL;
    snprintf(intent, sizeof intent, "%s%s%s", intent_names[c.intent], lang ? ":" : "",
             lang ? lang : "");
    int keyword = c.intent == TOCSIN_INTENT_KEYWORD, has_reply = reply[0] != '\0';
    const char *params[GW_INBOUND_PARAMS] = {
        [GW_IN_PROVIDER] = in->provider,
        [GW_IN_MESSAGE_ID] = in->message_id,
        [GW_IN_SENDER_ID] = sender_id,
        [GW_IN_FROM] = in->from,
        [GW_IN_BODY] = in->body,
        [GW_IN_NUM_MEDIA] = media,
        [GW_IN_INTENT] = intent,
        [GW_IN_KEYWORD_ID] = keyword ? keyword_id : NULL,
        [GW_IN_LIKELY_REVOCATION] = c.likely_revocation ? "true" : "false",
        [GW_IN_REPLY] = has_reply ? reply : NULL,
        [GW_IN_REPLY_ENCODING] = has_reply ? tocsin_sms_encoding_name(info.encoding) : NULL,
        [GW_IN_REPLY_SEGMENTS] = has_reply ? segments : NULL,
    };
    gw_store_apply(g, GW_SPOOL_INBOUND, params, GW_INBOUND_PARAMS, inbound_stored, in);
}

static void receipt_applied(int status, const PGresult *res, int row, const char *why, void *ctx)
{
    struct gw_inbound *in = ctx;
    if (status < 0) {
        log_warn("receipt_failed", "provider=%s message_id=%s reason=%s", in->provider,
                 tocsin_log_q(in->message_id), tocsin_log_q(why));
        tocsin_http_error(in->req, 503, "unavailable", "the receipt could not be stored; retry");
        return;
    }
    tocsin_metric_add(&m_receipts, 1);
    const char *outcome = status == GW_STORE_SPOOLED
                              ? "spooled"
                              : PQgetvalue(res, row, PQfnumber(res, GW_COL_OUTCOME));
    /* foreign: the id is another sender's message (schema/017), a
     * misconfigured account or a forged callback; dropped: this sender
     * already has the most pending receipts. Both are for an operator. */
    int odd = strcmp(outcome, "foreign") == 0 || strcmp(outcome, "dropped") == 0;
    tocsin_log(odd ? TOCSIN_LOG_WARN : TOCSIN_LOG_INFO, "receipt",
               "provider=%s message_sid=%s outcome=%s", in->provider, tocsin_log_q(in->message_id),
               tocsin_log_q(outcome));
    answer(in);
}

void gw_receipt_apply(struct gateway *g, const struct gw_sender *s, struct gw_inbound *in,
                      const char *status, const char *error_code)
{
    char sender_id[24];
    snprintf(sender_id, sizeof sender_id, "%lld", s->id);
    const char *params[GW_RECEIPT_PARAMS] = {
        [GW_RC_PROVIDER] = in->provider,
        [GW_RC_MESSAGE_ID] = in->message_id,
        [GW_RC_SENDER_ID] = sender_id,
        [GW_RC_STATUS] = status,
        [GW_RC_ERROR_CODE] = error_code && *error_code ? error_code : NULL,
        [GW_RC_PAYLOAD] = NULL,
    };
    gw_store_apply(g, GW_SPOOL_RECEIPT, params, GW_RECEIPT_PARAMS, receipt_applied, in);
}
