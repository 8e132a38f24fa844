/* SPDX-License-Identifier: AGPL-3.0-or-later
 * webhook_fields.h — reading a carrier webhook's fields and refusing
 * malformed ones, before any signature or database work: Twilio's form
 * (inbound message or status callback) and Telnyx's v2 JSON event. Pure
 * functions over decoded input (fuzzed by tests/fuzz/fuzz_webhook.c). */
#ifndef GW_WEBHOOK_FIELDS_H
#define GW_WEBHOOK_FIELDS_H

#include <jansson.h>

#include "crypto.h" /* struct tocsin_kv, tocsin_str */

struct gw_twilio_fields {
    tocsin_str sid, from, to, body, status, error_code; /* views into the form */
    int num_media;
};

/* Reads a Twilio webhook's fields from its form. Returns NULL when usable
 * (a missing inbound Body reads as ""), or why not (a static string for a
 * 400). */
const char *gw_twilio_fields(const struct tocsin_kv *kv, size_t n, int is_status,
                             struct gw_twilio_fields *f);

struct gw_telnyx_fields {
    const char *type, *id, *from, *to, *text, *status, *error_code; /* borrowed from the event */
    int received; /* message.received: a member's message */
    int receipt;  /* message.sent / message.finalized */
};

/* Reads a Telnyx v2 event. Returns NULL when usable — an event that is
 * neither kind has received == receipt == 0 and is only acknowledged; a
 * missing text reads as "" — or why not (a static string for a 400). */
const char *gw_telnyx_fields(json_t *event, struct gw_telnyx_fields *f);

#endif
