/* SPDX-License-Identifier: AGPL-3.0-or-later
 * webhook_fields.c — the fields of Twilio's and Telnyx's webhooks, checked
 * for presence, shape and size (see webhook_fields.h). Knows nothing of
 * HTTP, signatures or the database. */
#include "webhook_fields.h"

#include <string.h>

#include "form.h"
#include "phone.h"

static int sid_valid(tocsin_str s)
{
    if (s.len < 2 || s.len > 64)
        return 0;
    for (size_t i = 0; i < s.len; i++) {
        char c = s.base[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            return 0;
    }
    return 1;
}

const char *gw_twilio_fields(const struct tocsin_kv *kv, size_t n, int is_status,
                             struct gw_twilio_fields *f)
{
    memset(f, 0, sizeof *f);
    f->sid = tocsin_form_get(kv, n, "MessageSid");
    f->from = tocsin_form_get(kv, n, "From");
    f->to = tocsin_form_get(kv, n, "To");
    f->body = tocsin_form_get(kv, n, "Body");
    f->status = tocsin_form_get(kv, n, "MessageStatus");
    f->error_code = tocsin_form_get(kv, n, "ErrorCode");
    tocsin_str media = tocsin_form_get(kv, n, "NumMedia");
    f->num_media =
        media.len == 1 && media.base[0] >= '0' && media.base[0] <= '9' ? media.base[0] - '0' : 0;
    if (!sid_valid(f->sid))
        return "MessageSid is missing or malformed";
    if (!is_status && (!f->from.base || !tocsin_phone_looks_e164(f->from.base, f->from.len)))
        return "From is missing or not E.164";
    if (!f->to.base || f->to.len == 0 || f->to.len > 16)
        return "To is missing or malformed";
    if (is_status && (!f->status.base || f->status.len == 0 || f->status.len > 32))
        return "MessageStatus is missing";
    if (!is_status && !f->body.base)
        f->body = TSTR("");
    if (!is_status && f->body.len > 10000)
        return "Body is too long";
    return NULL;
}

const char *gw_telnyx_fields(json_t *event, struct gw_telnyx_fields *f)
{
    memset(f, 0, sizeof *f);
    json_t *data = json_object_get(event, "data");
    json_t *payload = json_object_get(data, "payload");
    f->type = json_string_value(json_object_get(data, "event_type"));
    f->id = json_string_value(json_object_get(payload, "id"));
    json_t *to0 = json_array_get(json_object_get(payload, "to"), 0);
    f->to = json_string_value(json_object_get(to0, "phone_number"));
    f->status = json_string_value(json_object_get(to0, "status"));
    f->from = json_string_value(json_object_get(json_object_get(payload, "from"), "phone_number"));
    f->text = json_string_value(json_object_get(payload, "text"));
    f->error_code = json_string_value(
        json_object_get(json_array_get(json_object_get(payload, "errors"), 0), "code"));
    if (!f->type)
        return "data.event_type is missing";
    f->received = strcmp(f->type, "message.received") == 0;
    f->receipt = strcmp(f->type, "message.sent") == 0 || strcmp(f->type, "message.finalized") == 0;
    if (!f->received && !f->receipt)
        return NULL; /* an event we do not use */
    if (!f->text)
        f->text = "";
    if (!f->id || strlen(f->id) > 100)
        return "data.payload.id is missing";
    if (!f->from || !f->to)
        return "data.payload.from / to are missing";
    if (f->received && !tocsin_phone_looks_e164(f->from, strlen(f->from)))
        return "data.payload.from is not E.164";
    if (f->receipt && !f->status)
        return "data.payload.to[0].status is missing";
    return NULL;
}
