/* SPDX-License-Identifier: AGPL-3.0-or-later
 * sms.h — SMS encoding and segment counting as COMPLIANCE.md states it:
 * GSM-7 (160 in one segment, 153 per segment when split; form feed and
 * [ \ ] ^ { | } ~ € count two) unless any character is outside GSM-7, then
 * UCS-2 (70 / 67; characters outside the BMP count two units). Pure, no
 * allocation; the dashboard's JavaScript counter mirrors these rules. */
#ifndef TOCSIN_SMS_H
#define TOCSIN_SMS_H

#include <stddef.h>

enum tocsin_sms_encoding {
    TOCSIN_SMS_GSM7 = 0,
    TOCSIN_SMS_UCS2 = 1,
};

struct tocsin_sms_info {
    enum tocsin_sms_encoding encoding;
    size_t units;    /* GSM-7 septets or UCS-2 code units */
    size_t segments; /* 0 for an empty body */
    size_t chars;    /* Unicode code points (Twilio's 1,600 limit counts these) */
};

/* Counts body (UTF-8, len bytes). Returns 0, or -1 if body is not valid
 * UTF-8 (overlong forms, surrogates and code points past U+10FFFF are
 * invalid). */
int tocsin_sms_count(const char *body, size_t len, struct tocsin_sms_info *out);

/* "GSM-7" or "UCS-2". */
const char *tocsin_sms_encoding_name(enum tocsin_sms_encoding enc);

#endif
