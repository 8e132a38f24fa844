/* SPDX-License-Identifier: AGPL-3.0-or-later
 * fuzz_sms.c — arbitrary bytes into the segment counter. The whole-body
 * counts must match a plain reference: classify each character on its own,
 * then pack them into segments one by one, never splitting a pair. */
#include <stdint.h>
#include <stdlib.h>

#include "sms.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tocsin_sms_info info;
    if (tocsin_sms_count((const char *)data, size, &info) != 0)
        return 0;
    /* Pass 1: is every character GSM-7? (Valid UTF-8: a character starts
     * at each byte that is not a continuation byte.) */
    int gsm = 1;
    size_t chars = 0;
    for (size_t i = 0, j; i < size; i = j) {
        for (j = i + 1; j < size && (data[j] & 0xC0) == 0x80; j++)
            ;
        struct tocsin_sms_info one;
        if (tocsin_sms_count((const char *)data + i, j - i, &one) != 0 || one.chars != 1)
            abort();
        gsm &= one.encoding == TOCSIN_SMS_GSM7;
        chars++;
    }
    /* Pass 2: pack. */
    size_t single = gsm ? 160 : 70, multi = gsm ? 153 : 67;
    size_t units = 0, segments = 0, used = 0;
    for (size_t i = 0, j; i < size; i = j) {
        for (j = i + 1; j < size && (data[j] & 0xC0) == 0x80; j++)
            ;
        struct tocsin_sms_info one;
        tocsin_sms_count((const char *)data + i, j - i, &one);
        size_t width = gsm ? one.units : (j - i == 4 ? 2 : 1);
        if (width < 1 || width > 2)
            abort();
        units += width;
        if (used + width > multi) {
            segments++;
            used = 0;
        }
        used += width;
    }
    size_t want = units == 0 ? 0 : units <= single ? 1 : segments + 1;
    if (info.encoding != (gsm ? TOCSIN_SMS_GSM7 : TOCSIN_SMS_UCS2) || info.chars != chars ||
        info.units != units || info.segments != want)
        abort();
    return 0;
}
