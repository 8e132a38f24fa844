/* SPDX-License-Identifier: AGPL-3.0-or-later
 * fuzz_sms.c — arbitrary bytes into the segment counter; the counts must
 * agree with each other whatever the input. */
#include <stdint.h>
#include <stdlib.h>

#include "sms.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tocsin_sms_info info;
    if (tocsin_sms_count((const char *)data, size, &info) != 0)
        return 0;
    size_t single = info.encoding == TOCSIN_SMS_GSM7 ? 160 : 70;
    size_t multi = info.encoding == TOCSIN_SMS_GSM7 ? 153 : 67;
    if ((info.units == 0) != (info.segments == 0) || info.chars > size || info.units < info.chars / 2)
        abort();
    if (info.units > 0 && info.units <= single && info.segments != 1)
        abort();
    /* Pairs never straddle: at most one extra segment per boundary. */
    if (info.units > single && (info.segments < (info.units + multi - 1) / multi ||
                                info.segments > info.units / (multi - 1) + 1))
        abort();
    return 0;
}
