/* SPDX-License-Identifier: AGPL-3.0-or-later
 * api_messages.c — a volunteer's reply: counted with lib/sms (the worker's
 * own rules) and queued as one row of `messages` (lane conversational,
 * purpose reply) that the worker sends. Refused for a number on the org's
 * opt-out list and for a closed conversation; never sent from here. */
#include <stdio.h>
#include <string.h>

#include "dashboard.h"
#include "sms.h"

#define MESSAGE_MAX_CHARS 1600

static const char reply_sql[] =
    "WITH c AS (SELECT c.id, c.org_id, c.contact_id, c.sender_id, c.state, c.assignee_id, ct.phone,"
    "                  s.provider"
    "             FROM conversations c"
    "             JOIN contacts ct ON ct.org_id = c.org_id AND ct.id = c.contact_id"
    "             JOIN senders s ON s.org_id = c.org_id AND s.id = c.sender_id"
    "            WHERE c.id = $4::bigint AND c.org_id = $1::bigint"
    "              AND ($3::text <> 'volunteer' OR c.assignee_id = $2::bigint)),"
    " o AS (SELECT 1 FROM opt_outs o JOIN c ON o.org_id = c.org_id AND o.phone = c.phone),"
    " m AS (INSERT INTO messages (org_id, sender_id, provider, contact_id, to_phone, body, encoding,"
    "                             segments, lane, purpose, conversation_id, sent_by_user_id)"
    "       SELECT org_id, sender_id, provider, contact_id, phone, $5::text, $6::text, $7::int,"
    "              'conversational', 'reply', id, $2::bigint"
    "         FROM c WHERE state = 'open' AND NOT EXISTS (SELECT 1 FROM o)"
    "       RETURNING id, state, created_at, encoding, segments),"
    " u AS (UPDATE conversations SET last_outbound_at = now(), unread = 0,"
    "              assignee_active_at = CASE WHEN assignee_id = $2::bigint THEN now()"
    "                                        ELSE assignee_active_at END"
    "        WHERE id = $4::bigint AND EXISTS (SELECT 1 FROM m)),"
    " a AS (INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)"
    "       SELECT $1::bigint, $2::bigint, 'message.send', 'message', id,"
    "              jsonb_build_object('conversation_id', $4::bigint, 'segments', segments) FROM m)"
    "SELECT CASE WHEN EXISTS (SELECT 1 FROM m) THEN 201 WHEN EXISTS (SELECT 1 FROM o) THEN 409"
    "            ELSE 409 END,"
    "       CASE WHEN EXISTS (SELECT 1 FROM m) THEN"
    "                 (SELECT json_build_object('id', id, 'direction', 'outbound', 'state', state,"
    "                         'at', created_at, 'body', $5::text, 'encoding', encoding,"
    "                         'segments', segments) FROM m)"
    "            WHEN EXISTS (SELECT 1 FROM o) THEN"
    "                 tocsin_api_error(409, 'opted_out', 'this member has opted out: nothing more can be sent')"
    "            ELSE tocsin_api_error(409, 'closed', 'the conversation is closed') END"
    "  FROM c";

int api_add_message_body(struct api_call *call, const char *body)
{
    struct tocsin_sms_info info;
    if (!body || !*body) {
        tocsin_http_error(call->req, 400, "invalid", "write a message first");
        return -1;
    }
    if (tocsin_sms_count(body, strlen(body), &info) != 0) {
        tocsin_http_error(call->req, 422, "invalid", "the message is not valid UTF-8");
        return -1;
    }
    if (info.chars > MESSAGE_MAX_CHARS) {
        tocsin_http_error(call->req, 422, "too_long", "the message has %zu characters; at most %d",
                          info.chars, MESSAGE_MAX_CHARS);
        return -1;
    }
    char segments[16];
    snprintf(segments, sizeof segments, "%zu", info.segments);
    if (api_add_param(call, tocsin_sms_encoding_name(info.encoding)) ||
        api_add_param(call, segments)) {
        tocsin_http_error(call->req, 500, "internal", "too many parameters");
        return -1;
    }
    return 0;
}

void api_reply(struct api_call *call)
{
    if (api_add_message_body(call, call->params[4]) == 0) /* the route's "body" field */
        api_run_sql(call, reply_sql);
}
