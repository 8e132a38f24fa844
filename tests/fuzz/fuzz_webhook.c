/* SPDX-License-Identifier: AGPL-3.0-or-later
 * fuzz_webhook.c — arbitrary bytes through the gateway's webhook field
 * readers (gateway/webhook_fields.c, compiled in here): the first byte
 * picks a Twilio inbound form, a Twilio status form or a Telnyx JSON
 * event; the rest is decoded as the HTTP layer would (form or JSON) and
 * read. Whatever a reader accepts must hold what the gateway relies on.
 * Every input's tail is also a telnyx-timestamp header for the freshness
 * check, which must neither overflow nor call a non-number fresh. */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/webhook_fields.c"
#include "arena.h"
#include "crypto.h"

static void check_twilio(const uint8_t *data, size_t size, int is_status)
{
    struct tocsin_arena a;
    tocsin_arena_init(&a, 4096);
    struct tocsin_kv *kv;
    size_t n;
    char err[128];
    tocsin_str in = {(const char *)data, size};
    if (tocsin_form_decode(&a, in, &kv, &n, err, sizeof err) == 0) {
        struct gw_twilio_fields f;
        if (!gw_twilio_fields(kv, n, is_status, &f)) {
            if (!f.sid.base || f.sid.len < 2 || f.sid.len > 64 || !f.to.base || !f.to.len ||
                f.to.len > 16)
                abort();
            if (!is_status && (!f.body.base || f.body.len > 10000 || !f.from.base))
                abort();
            if (is_status && (!f.status.base || !f.status.len))
                abort();
            if (f.num_media < 0 || f.num_media > 9)
                abort();
        }
    }
    tocsin_arena_free(&a);
}

static void check_telnyx(const uint8_t *data, size_t size)
{
    json_error_t e;
    json_t *event = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &e);
    if (!event)
        return;
    struct gw_telnyx_fields f;
    if (!gw_telnyx_fields(event, &f) && (f.received || f.receipt)) {
        if (!f.type || !f.id || strlen(f.id) > 100 || !f.from || !f.to || !f.text)
            abort();
        if (f.receipt && !f.status)
            abort();
        if (f.received == f.receipt)
            abort();
    }
    json_decref(event);
}

static void check_timestamp(const uint8_t *data, size_t size)
{
    tocsin_str ts = {(const char *)data, size};
    static const long long nows[] = {1732291200LL, 0, LLONG_MIN, LLONG_MAX};
    for (size_t i = 0; i < sizeof nows / sizeof nows[0]; i++) {
        if (!tocsin_telnyx_timestamp_fresh(ts, nows[i], 300))
            continue;
        if (size == 0 || size > 20)
            abort();
        for (size_t k = 0; k < size; k++)
            if (!((data[k] >= '0' && data[k] <= '9') || (k == 0 && data[k] == '-' && size > 1)))
                abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    check_timestamp(data + 1, size - 1);
    switch (data[0] % 3) {
    case 0:
        check_twilio(data + 1, size - 1, 0);
        break;
    case 1:
        check_twilio(data + 1, size - 1, 1);
        break;
    default:
        check_telnyx(data + 1, size - 1);
    }
    return 0;
}
