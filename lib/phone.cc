// SPDX-License-Identifier: AGPL-3.0-or-later
// phone.cc — the C++ shim behind phone.h: libphonenumber's parser, number
// types and offline geocoder wrapped in extern "C" functions that never
// throw. Owns no state beyond libphonenumber's own singletons and a lazily
// built geocoder.
#include <cstdio>
#include <cstring>
#include <new>
#include <string>

#include <phonenumbers/geocoding/phonenumber_offline_geocoder.h>
#include <phonenumbers/phonenumberutil.h>
#include <unicode/locid.h>

extern "C" {
#include "phone.h"
}

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberOfflineGeocoder;
using i18n::phonenumbers::PhoneNumberUtil;

namespace {

const size_t kMaxInput = 64;

enum tocsin_phone_type map_type(PhoneNumberUtil::PhoneNumberType t)
{
    switch (t) {
    case PhoneNumberUtil::MOBILE: return TOCSIN_PHONE_MOBILE;
    case PhoneNumberUtil::FIXED_LINE: return TOCSIN_PHONE_FIXED_LINE;
    case PhoneNumberUtil::FIXED_LINE_OR_MOBILE: return TOCSIN_PHONE_FIXED_LINE_OR_MOBILE;
    case PhoneNumberUtil::TOLL_FREE: return TOCSIN_PHONE_TOLL_FREE;
    case PhoneNumberUtil::PREMIUM_RATE: return TOCSIN_PHONE_PREMIUM_RATE;
    case PhoneNumberUtil::SHARED_COST: return TOCSIN_PHONE_SHARED_COST;
    case PhoneNumberUtil::VOIP: return TOCSIN_PHONE_VOIP;
    case PhoneNumberUtil::PERSONAL_NUMBER: return TOCSIN_PHONE_PERSONAL_NUMBER;
    case PhoneNumberUtil::PAGER: return TOCSIN_PHONE_PAGER;
    case PhoneNumberUtil::UAN: return TOCSIN_PHONE_UAN;
    case PhoneNumberUtil::VOICEMAIL: return TOCSIN_PHONE_VOICEMAIL;
    default: return TOCSIN_PHONE_UNKNOWN;
    }
}

// Quotes input for an error message, replacing control bytes.
void quote_input(const char *input, size_t len, char *out, size_t outsize)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 2 < outsize; i++) {
        unsigned char c = static_cast<unsigned char>(input[i]);
        out[o++] = (c < 0x20 || c == 0x7f || c == '"') ? '?' : static_cast<char>(c);
    }
    out[o] = '\0';
}

int fail(const char *input, size_t len, const char *reason, char *err, size_t errlen)
{
    char shown[kMaxInput + 1];
    quote_input(input, len > kMaxInput ? kMaxInput : len, shown, sizeof shown);
    if (err && errlen)
        snprintf(err, errlen, "invalid phone number \"%s\": %s", shown, reason);
    return -1;
}

const char *parse_error_reason(PhoneNumberUtil::ErrorType e)
{
    switch (e) {
    case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR: return "unknown country code";
    case PhoneNumberUtil::NOT_A_NUMBER: return "not a phone number";
    case PhoneNumberUtil::TOO_SHORT_AFTER_IDD:
    case PhoneNumberUtil::TOO_SHORT_NSN: return "too short";
    case PhoneNumberUtil::TOO_LONG_NSN: return "too long";
    default: return "cannot be parsed";
    }
}

// Fast path for input already in E.164: builds the PhoneNumber from the
// digits without running the full parser (which normalises formatting,
// extensions, IDD prefixes...). Returns false when the input needs the full
// parse (a national number with a leading zero, an unknown country code).
bool build_from_e164(const PhoneNumberUtil &util, const char *s, size_t len, PhoneNumber *number)
{
    for (int cc_len = 1; cc_len <= 3 && static_cast<size_t>(cc_len) + 1 < len; cc_len++) {
        int cc = 0;
        for (int i = 1; i <= cc_len; i++)
            cc = cc * 10 + (s[i] - '0');
        std::string region;
        util.GetRegionCodeForCountryCode(cc, &region);
        if (region == "ZZ")
            continue;
        const char *nsn = s + 1 + cc_len;
        size_t nsn_len = len - 1 - static_cast<size_t>(cc_len);
        if (nsn[0] == '0')
            return false;
        unsigned long long national = 0;
        for (size_t i = 0; i < nsn_len; i++)
            national = national * 10 + static_cast<unsigned>(nsn[i] - '0');
        number->set_country_code(cc);
        number->set_national_number(national);
        return true;
    }
    return false;
}

int finish(const PhoneNumberUtil &util, const PhoneNumber &number, const char *input, size_t len,
           struct tocsin_phone *out, char *err, size_t errlen)
{
    if (!util.IsValidNumber(number)) {
        const char *reason = "not a valid number";
        switch (util.IsPossibleNumberWithReason(number)) {
        case PhoneNumberUtil::TOO_SHORT: reason = "too short"; break;
        case PhoneNumberUtil::TOO_LONG: reason = "too long"; break;
        case PhoneNumberUtil::INVALID_LENGTH: reason = "wrong length for its country"; break;
        case PhoneNumberUtil::INVALID_COUNTRY_CODE: reason = "unknown country code"; break;
        default: break;
        }
        return fail(input, len, reason, err, errlen);
    }
    std::string e164;
    util.Format(number, PhoneNumberUtil::E164, &e164);
    if (e164.size() > TOCSIN_E164_MAX)
        return fail(input, len, "too long", err, errlen);
    /* A few countries have valid numbers under 8 digits; none can take a
     * text from us, and the schema's E.164 check (8 to 15 digits) agrees. */
    if (e164.size() < 9)
        return fail(input, len, "too short to receive text messages", err, errlen);
    memcpy(out->e164, e164.data(), e164.size());
    out->e164[e164.size()] = '\0';
    std::string region;
    util.GetRegionCodeForNumber(number, &region);
    if (region.size() == 2 && region != "ZZ" && region != "00") {
        out->region[0] = region[0];
        out->region[1] = region[1];
        out->region[2] = '\0';
    } else {
        out->region[0] = '\0';
    }
    out->type = map_type(util.GetNumberType(number));
    return 0;
}

} // namespace

extern "C" int tocsin_phone_looks_e164(const char *s, size_t len)
{
    if (len < 9 || len > 16 || s[0] != '+' || s[1] < '1' || s[1] > '9')
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

extern "C" int tocsin_phone_parse(const char *input, size_t len, const char *default_region,
                                  struct tocsin_phone *out, char *err, size_t errlen)
{
    try {
        if (len == 0)
            return fail(input, len, "empty", err, errlen);
        if (len > kMaxInput)
            return fail(input, len, "longer than 64 characters", err, errlen);
        if (memchr(input, '\0', len))
            return fail(input, len, "contains a NUL byte", err, errlen);
        const PhoneNumberUtil &util = *PhoneNumberUtil::GetInstance();
        PhoneNumber number;
        if (tocsin_phone_looks_e164(input, len) && build_from_e164(util, input, len, &number))
            return finish(util, number, input, len, out, err, errlen);
        std::string text(input, len);
        PhoneNumberUtil::ErrorType e =
            util.Parse(text, default_region ? default_region : "US", &number);
        if (e != PhoneNumberUtil::NO_PARSING_ERROR)
            return fail(input, len, parse_error_reason(e), err, errlen);
        if (number.has_extension())
            return fail(input, len, "extensions cannot receive text messages", err, errlen);
        return finish(util, number, input, len, out, err, errlen);
    } catch (const std::exception &) {
        return fail(input, len, "internal error while parsing", err, errlen);
    }
}

extern "C" int tocsin_phone_normalize(const char *input, size_t len, const char *default_region,
                                      char e164[TOCSIN_E164_MAX + 1], char *err, size_t errlen)
{
    try {
        const PhoneNumberUtil &util = *PhoneNumberUtil::GetInstance();
        const char *region = default_region ? default_region : "US";
        PhoneNumber number;
        if (tocsin_phone_looks_e164(input, len) && build_from_e164(util, input, len, &number) &&
            number.country_code() == util.GetCountryCodeForRegion(region) &&
            util.IsValidNumberForRegion(number, region)) {
            /* Already canonical: the input is its own E.164 form. */
            memcpy(e164, input, len);
            e164[len] = '\0';
            return 0;
        }
        struct tocsin_phone p;
        if (tocsin_phone_parse(input, len, default_region, &p, err, errlen))
            return -1;
        memcpy(e164, p.e164, sizeof p.e164);
        return 0;
    } catch (const std::exception &) {
        return fail(input, len, "internal error while parsing", err, errlen);
    }
}

extern "C" const char *tocsin_phone_type_name(enum tocsin_phone_type type)
{
    static const char *const names[] = {
        "unknown", "mobile", "fixed_line", "fixed_line_or_mobile", "toll_free",  "premium_rate",
        "shared_cost", "voip", "personal_number", "pager", "uan", "voicemail",
    };
    unsigned i = static_cast<unsigned>(type);
    return i < sizeof names / sizeof names[0] ? names[i] : "unknown";
}

extern "C" int tocsin_phone_describe(const char *e164, char *buf, size_t bufsize)
{
    if (bufsize)
        buf[0] = '\0';
    try {
        static PhoneNumberOfflineGeocoder *geocoder = new PhoneNumberOfflineGeocoder();
        const PhoneNumberUtil &util = *PhoneNumberUtil::GetInstance();
        PhoneNumber number;
        if (util.Parse(e164, "ZZ", &number) != PhoneNumberUtil::NO_PARSING_ERROR)
            return -1;
        std::string d = geocoder->GetDescriptionForNumber(number, icu::Locale("en"));
        snprintf(buf, bufsize, "%s", d.c_str());
        return 0;
    } catch (const std::exception &) {
        return -1;
    }
}
