/* SPDX-License-Identifier: AGPL-3.0-or-later
 * fuzz_json_scan.c — arbitrary bytes through tocsin_json_scan_string,
 * checked against jansson: the first byte picks the path ("sid" or
 * "data"."id"), the rest is the document. Where jansson parses it, the
 * scanner must agree: the same string when it found one, no string at the
 * path when it found none, and asking for a full parse only for a string
 * it cannot copy (escaped, too long) or nesting past its bound. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "json_scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const char *const sid[] = {"sid"};
    static const char *const data_id[] = {"data", "id"};
    int nested = data[0] & 1;
    const char *json = (const char *)data + 1;
    size_t len = size - 1;
    char out[40];
    int got =
        tocsin_json_scan_string(json, len, nested ? data_id : sid, nested ? 2 : 1, out, sizeof out);
    if (got < -1 || got > 1 || (got == 1 && strlen(out) >= sizeof out))
        abort();

    if (memchr(json, '\0', len))
        return 0; /* jansson's buffer reader stops at a NUL byte: no oracle */
    json_error_t e;
    json_t *root = json_loadb(json, len, JSON_DECODE_ANY, &e);
    if (!root)
        return 0;
    json_t *at = nested ? json_object_get(json_object_get(root, "data"), "id")
                        : json_object_get(root, "sid");
    const char *want = json_string_value(at);
    if (got == 1 && (!want || strcmp(want, out) != 0))
        abort();
    if (got == 0 && want)
        abort();
    if (got == -1 && !want) {
        size_t opens = 0;
        for (size_t i = 0; i < len; i++)
            opens += json[i] == '[' || json[i] == '{';
        if (opens <= TOCSIN_JSON_SCAN_MAX_DEPTH)
            abort();
    }
    json_decref(root);
    return 0;
}
