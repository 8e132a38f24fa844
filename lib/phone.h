/* SPDX-License-Identifier: AGPL-3.0-or-later
 * phone.h — phone numbers, a small C API over libphonenumber (phone.cc is
 * the C++ shim). Parses what people type into E.164, classifies it, and
 * names its place with the offline geocoder. Input already in valid E.164
 * form takes a fast path that skips the full parse where libphonenumber's
 * metadata allows. Thread-compatible: libphonenumber's singletons are
 * initialised on first use. */
#ifndef TOCSIN_PHONE_H
#define TOCSIN_PHONE_H

#include <stddef.h>

#define TOCSIN_E164_MAX 16 /* '+' + up to 15 digits */

enum tocsin_phone_type {
    TOCSIN_PHONE_UNKNOWN = 0,
    TOCSIN_PHONE_MOBILE,
    TOCSIN_PHONE_FIXED_LINE,
    TOCSIN_PHONE_FIXED_LINE_OR_MOBILE,
    TOCSIN_PHONE_TOLL_FREE,
    TOCSIN_PHONE_PREMIUM_RATE,
    TOCSIN_PHONE_SHARED_COST,
    TOCSIN_PHONE_VOIP,
    TOCSIN_PHONE_PERSONAL_NUMBER,
    TOCSIN_PHONE_PAGER,
    TOCSIN_PHONE_UAN,
    TOCSIN_PHONE_VOICEMAIL,
};

struct tocsin_phone {
    char e164[TOCSIN_E164_MAX + 1]; /* "+14155550123" */
    char region[3];                 /* "US", or "" when the number spans regions */
    enum tocsin_phone_type type;
};

/* Parses input (len bytes, need not be NUL-terminated; at most 64, no NUL
 * byte) with default_region ("US") for numbers written without a country
 * code. Returns 0 and fills out, or -1 with a reason in err (truncated to
 * errlen) such as `invalid phone number "12": too short`; the reasons are
 * empty, longer than 64 characters, contains a NUL byte, not a phone
 * number, unknown country code, too short, too long, wrong length for its
 * country, not a valid number, extensions cannot receive text messages,
 * and too short to receive text messages (valid numbers of 6-7 digits in
 * a few countries: Tocsin's E.164 is 8 to 15 digits). Never throws. */
int tocsin_phone_parse(const char *input, size_t len, const char *default_region,
                       struct tocsin_phone *out, char *err, size_t errlen);

/* The import path: only validity and the E.164 form (no type, region or
 * place). Input already in E.164 form is checked against the default
 * region's metadata first, which skips the full parse and the search over
 * every region of a shared country code. e164 receives "+14155552671".
 * Returns 0, or -1 with the same reasons as tocsin_phone_parse(). */
int tocsin_phone_normalize(const char *input, size_t len, const char *default_region,
                           char e164[TOCSIN_E164_MAX + 1], char *err, size_t errlen);

/* 1 if region is an upper-case ISO 3166 code libphonenumber has numbering
 * metadata for ("US", "MX", "GB"), 0 otherwise ("us", "ZZ", "USA", NULL). */
int tocsin_phone_region_known(const char *region);

/* Checks a region a person gave for an org (name: the field, as she typed
 * it: "phone_region", "--phone-region"). Returns 0 when it is a code
 * tocsin_phone_region_known() accepts, or -1 with err saying why ("no
 * country has this code", the shape expected); at most 16 bytes of the
 * value are echoed. */
int tocsin_phone_region_check(const char *name, const char *region, char *err, size_t errlen);

/* 1 if s is syntactically E.164 ('+', 8..15 digits, first digit not 0). */
int tocsin_phone_looks_e164(const char *s, size_t len);

/* "mobile", "fixed_line", "toll_free", ... (stable, lower case). */
const char *tocsin_phone_type_name(enum tocsin_phone_type type);

/* Writes the geocoder's English description of an E.164 number into buf
 * ("Florida", "New York, NY"); "" when it has none. Returns 0, or -1 if the
 * number does not parse. */
int tocsin_phone_describe(const char *e164, char *buf, size_t bufsize);

#endif
