/* SPDX-License-Identifier: AGPL-3.0-or-later
 * api_outreach.c — a volunteer's initial outreach message: exactly one
 * message for one contact per request (peer texting is lawful only when a
 * person sends each one), counted with lib/sms and handed to
 * tocsin_outreach_send (010), which checks the batch, the opt-out list and
 * the contact's texting hours, queues it and records who sent it. Also a
 * lead's follow-up step, whose choices arrive as a JSON array. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_outreach.h"

/* Paced (020): refused with 429 too_soon when it comes less than $9 ms
 * after the volunteer's previous send (TOCSIN_OUTREACH_MIN_SEND_INTERVAL_MS). */
static const char send_sql[] =
    "SELECT * FROM tocsin_outreach_send_paced($1::bigint, $2::bigint, $4::bigint,"
    " $5::bigint, $6::text, $7::text, $8::int, now(), $9::int)";

/* 1 when the body is {"contact_id": <integer>, "body": <string>} and
 * nothing else: no arrays, no lists of contacts, no second message. */
static int one_message(const json_t *body)
{
    return json_is_object(body) && json_object_size(body) == 2 &&
           json_is_integer(json_object_get(body, "contact_id")) &&
           json_is_string(json_object_get(body, "body"));
}

void api_outreach_send(struct api_call *call)
{
    if (!one_message(call->body)) {
        tocsin_http_error(
            call->req, 400, "one_message",
            "send exactly one message: {\"contact_id\": N, \"body\": \"...\"} and nothing else");
        return;
    }
    const char *body = call->params[5]; /* after $4 campaign, $5 contact_id */
    if (body && *body && strspn(body, " \t\r\n") == strlen(body)) {
        tocsin_http_error(call->req, 400, "invalid", "write a message first");
        return;
    }
    if (api_add_message_body(call, body) != 0)
        return;
    char pace[16];
    snprintf(pace, sizeof pace, "%u", call->dash->d->cfg.outreach_min_send_interval_ms);
    if (api_add_param(call, pace) != 0) {
        tocsin_http_error(call->req, 500, "internal", "too many parameters");
        return;
    }
    api_run_sql(call, send_sql);
}

static const char step_sql[] =
    "SELECT * FROM tocsin_outreach_step_add($1::bigint, $4::bigint, $5::text, $6::jsonb)";

void api_outreach_step_add(struct api_call *call)
{
    json_t *choices = call->body ? json_object_get(call->body, "choices") : NULL;
    const char *question = call->params[4];
    if (!question || !*question || !json_is_array(choices)) {
        tocsin_http_error(
            call->req, 400, "invalid",
            "a step is {\"question\": \"...\", \"choices\": [{\"label\", \"next_script\"}, ...]}");
        return;
    }
    char *text = json_dumps(choices, JSON_COMPACT);
    int full = !text || api_add_param(call, text) != 0; /* copied into the arena */
    free(text);
    if (full) {
        tocsin_http_error(call->req, 500, "internal", "out of memory");
        return;
    }
    api_run_sql(call, step_sql);
}
