// SPDX-License-Identifier: AGPL-3.0-or-later
// phone.cc — the C++ shim behind phone.h: libphonenumber's parser, number
// types and offline geocoder wrapped in extern "C" functions that never
// throw. Owns no state beyond libphonenumber's own singletons and a lazily
// built geocoder.
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>

#include <phonenumbers/geocoding/phonenumber_offline_geocoder.h>
#include <phonenumbers/phonenumberutil.h>
#include <unicode/locid.h>

extern "C" {
#include "phone.h"
#include "sms.h"
}

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberOfflineGeocoder;
using i18n::phonenumbers::PhoneNumberUtil;

namespace
{

const size_t kMaxInput = 64;

enum tocsin_phone_type map_type(PhoneNumberUtil::PhoneNumberType t)
{
    switch (t) {
    case PhoneNumberUtil::MOBILE:
        return TOCSIN_PHONE_MOBILE;
    case PhoneNumberUtil::FIXED_LINE:
        return TOCSIN_PHONE_FIXED_LINE;
    case PhoneNumberUtil::FIXED_LINE_OR_MOBILE:
        return TOCSIN_PHONE_FIXED_LINE_OR_MOBILE;
    case PhoneNumberUtil::TOLL_FREE:
        return TOCSIN_PHONE_TOLL_FREE;
    case PhoneNumberUtil::PREMIUM_RATE:
        return TOCSIN_PHONE_PREMIUM_RATE;
    case PhoneNumberUtil::SHARED_COST:
        return TOCSIN_PHONE_SHARED_COST;
    case PhoneNumberUtil::VOIP:
        return TOCSIN_PHONE_VOIP;
    case PhoneNumberUtil::PERSONAL_NUMBER:
        return TOCSIN_PHONE_PERSONAL_NUMBER;
    case PhoneNumberUtil::PAGER:
        return TOCSIN_PHONE_PAGER;
    case PhoneNumberUtil::UAN:
        return TOCSIN_PHONE_UAN;
    case PhoneNumberUtil::VOICEMAIL:
        return TOCSIN_PHONE_VOICEMAIL;
    default:
        return TOCSIN_PHONE_UNKNOWN;
    }
}

// Quotes input (at most outsize - 1 bytes) for an error message: control
// bytes and '"' become '?', and so do bytes >= 0x80 unless the text is valid
// UTF-8 (error messages end up in JSON bodies and logs). When the caller cut
// the input short, a character split by the cut is dropped.
void quote_input(const char *input, size_t len, bool was_cut, char *out, size_t outsize)
{
    if (outsize == 0)
        return;
    struct tocsin_sms_info utf8;
    bool valid = tocsin_sms_count(input, len, &utf8) == 0;
    for (size_t cut = 1; was_cut && !valid && cut <= 3 && cut <= len; cut++)
        if (tocsin_sms_count(input, len - cut, &utf8) == 0) {
            len -= cut;
            valid = true;
        }
    size_t o = 0;
    for (size_t i = 0; i < len && o + 1 < outsize; i++) {
        unsigned char c = static_cast<unsigned char>(input[i]);
        bool masked = c < 0x20 || c == 0x7f || c == '"' || (c >= 0x80 && !valid);
        out[o++] = masked ? '?' : static_cast<char>(c);
    }
    out[o] = '\0';
}

int fail(const char *input, size_t len, const char *reason, char *err, size_t errlen)
{
    char shown[kMaxInput + 1];
    quote_input(input, len > kMaxInput ? kMaxInput : len, len > kMaxInput, shown, sizeof shown);
    if (err && errlen)
        snprintf(err, errlen, "invalid phone number \"%s\": %s", shown, reason);
    return -1;
}

const char *parse_error_reason(PhoneNumberUtil::ErrorType e)
{
    switch (e) {
    case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR:
        return "unknown country code";
    case PhoneNumberUtil::NOT_A_NUMBER:
        return "not a phone number";
    case PhoneNumberUtil::TOO_SHORT_AFTER_IDD:
    case PhoneNumberUtil::TOO_SHORT_NSN:
        return "too short";
    case PhoneNumberUtil::TOO_LONG_NSN:
        return "too long";
    default:
        return "cannot be parsed";
    }
}

// Bit n set when a national number of n digits has a possible length for
// country code cc (IsPossibleNumber is a length check against the
// metadata, so probing one number per length is exact). Filled on first
// use per country code; racing threads compute and store the same value.
uint32_t possible_lengths(const PhoneNumberUtil &util, int cc)
{
    static std::atomic<uint32_t> cache[1000];
    const uint32_t filled = 1u << 31;
    uint32_t mask = cache[cc].load(std::memory_order_relaxed);
    if (mask & filled)
        return mask;
    mask = filled;
    unsigned long long national = 0;
    for (int n = 1; n <= 17; n++) {
        national = national * 10 + 1;
        PhoneNumber probe;
        probe.set_country_code(cc);
        probe.set_national_number(national);
        if (util.IsPossibleNumberWithReason(probe) == PhoneNumberUtil::IS_POSSIBLE)
            mask |= 1u << n;
    }
    cache[cc].store(mask, std::memory_order_relaxed);
    return mask;
}

// True when the full parse could read the first 1-3 digits of a national
// number of nsn_len digits as a national prefix written after the country
// code and strip them: it does so when what remains has a possible length
// for the country (Mexico's retired mobile "1": +52 1 222 123 4567 is
// +52 222 123 4567).
bool prefix_could_be_stripped(const PhoneNumberUtil &util, int cc, size_t nsn_len)
{
    uint32_t mask = possible_lengths(util, cc);
    for (size_t strip = 1; strip <= 3 && strip + 2 <= nsn_len; strip++)
        if (nsn_len - strip <= 17 && (mask & (1u << (nsn_len - strip))))
            return true;
    return false;
}

// Fast path for input already in E.164: builds the PhoneNumber from the
// digits without running the full parser (which normalises formatting,
// extensions, IDD prefixes...). Returns false when the input needs the full
// parse: an unknown country code, a national number with a leading zero, or
// one whose first digits the parser might strip as a national prefix. The
// caller still sends numbers that are not valid as written to the full
// parse; with both rules the two paths agree (tests/fuzz/fuzz_phone.c).
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
        if (nsn[0] == '0' || prefix_could_be_stripped(util, cc, nsn_len))
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

// Why a parsed number is not valid, from its length for its country.
const char *invalid_reason(const PhoneNumberUtil &util, const PhoneNumber &number)
{
    switch (util.IsPossibleNumberWithReason(number)) {
    case PhoneNumberUtil::TOO_SHORT:
        return "too short";
    case PhoneNumberUtil::TOO_LONG:
        return "too long";
    case PhoneNumberUtil::INVALID_LENGTH:
        return "wrong length for its country";
    case PhoneNumberUtil::INVALID_COUNTRY_CODE:
        return "unknown country code";
    default:
        return "not a valid number";
    }
}

// Fills out when number is valid and returns NULL; otherwise returns why
// not (out untouched). IsValidNumber(n) is GetNumberType(n) != UNKNOWN (both
// search the country code's regions, then match the number's patterns), so
// asking for the type alone saves a second region search and pattern pass.
// A few countries have valid numbers of 6 or 7 digits (+43 1110, +352 7092,
// fixed lines and service numbers): they are refused, because E.164 in
// Tocsin is 8 to 15 digits (tocsin_phone_looks_e164, the schema's domain).
const char *classify(const PhoneNumberUtil &util, const PhoneNumber &number,
                     struct tocsin_phone *out)
{
    PhoneNumberUtil::PhoneNumberType type = util.GetNumberType(number);
    if (type == PhoneNumberUtil::UNKNOWN)
        return invalid_reason(util, number);
    std::string e164;
    util.Format(number, PhoneNumberUtil::E164, &e164);
    if (!tocsin_phone_looks_e164(e164.data(), e164.size()))
        return e164.size() < 9 ? "too short to receive text messages" : "not a valid number";
    memcpy(out->e164, e164.data(), e164.size());
    out->e164[e164.size()] = '\0';
    std::string region;
    util.GetRegionCodeForNumber(number, &region);
    if (region.size() == 2 && region != "ZZ") {
        out->region[0] = region[0];
        out->region[1] = region[1];
        out->region[2] = '\0';
    } else {
        out->region[0] = '\0'; /* "001": a non-geographic number */
    }
    out->type = map_type(type);
    return NULL;
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
        // The fast path only ever accepts: when the digits as written are not
        // a valid number, the full parse decides (it strips a national prefix
        // written after the country code, "+1 1 415..." or Mexico's old
        // mobile "+52 1 ...", and gives the reason the slow path would).
        if (tocsin_phone_looks_e164(input, len) && build_from_e164(util, input, len, &number) &&
            !classify(util, number, out))
            return 0;
        number.Clear();
        std::string text(input, len);
        PhoneNumberUtil::ErrorType e =
            util.Parse(text, default_region ? default_region : "US", &number);
        if (e != PhoneNumberUtil::NO_PARSING_ERROR)
            return fail(input, len, parse_error_reason(e), err, errlen);
        if (number.has_extension())
            return fail(input, len, "extensions cannot receive text messages", err, errlen);
        const char *why = classify(util, number, out);
        return why ? fail(input, len, why, err, errlen) : 0;
    } catch (...) {
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
    } catch (...) {
        return fail(input, len, "internal error while parsing", err, errlen);
    }
}

extern "C" int tocsin_phone_region_known(const char *region)
{
    try {
        if (!region || strlen(region) != 2)
            return 0;
        // 0 for a region libphonenumber has no metadata for ("ZZ", "XX"),
        // which would otherwise refuse every number written without +country.
        return PhoneNumberUtil::GetInstance()->GetCountryCodeForRegion(region) != 0;
    } catch (...) {
        return 0;
    }
}

extern "C" int tocsin_phone_region_check(const char *name, const char *region, char *err,
                                         size_t errlen)
{
    size_t n = region ? strlen(region) : 0;
    if (n != 2 || region[0] < 'A' || region[0] > 'Z' || region[1] < 'A' || region[1] > 'Z') {
        if (n > 16)
            snprintf(err, errlen,
                     "invalid %s: %zu characters; give a country's two upper-case letters "
                     "(MX, GB, US)",
                     name, n);
        else
            snprintf(err, errlen,
                     "invalid %s \"%s\": give a country's two upper-case letters (MX, GB, US)",
                     name, region ? region : "");
        return -1;
    }
    if (!tocsin_phone_region_known(region)) {
        snprintf(err, errlen, "invalid %s \"%s\": no country has this code (MX, GB, US)", name,
                 region);
        return -1;
    }
    return 0;
}

extern "C" const char *tocsin_phone_type_name(enum tocsin_phone_type type)
{
    static const char *const names[] = {
        "unknown",         "mobile",       "fixed_line",  "fixed_line_or_mobile",
        "toll_free",       "premium_rate", "shared_cost", "voip",
        "personal_number", "pager",        "uan",         "voicemail",
    };
    unsigned i = static_cast<unsigned>(type);
    return i < sizeof names / sizeof names[0] ? names[i] : "unknown";
}

extern "C" int tocsin_phone_describe(const char *e164, char *buf, size_t bufsize)
{
    if (bufsize)
        buf[0] = '\0';
    if (!e164)
        return -1;
    try {
        // Built on first use (it loads the geocoding tables), then shared.
        static PhoneNumberOfflineGeocoder *geocoder = new PhoneNumberOfflineGeocoder();
        const PhoneNumberUtil &util = *PhoneNumberUtil::GetInstance();
        PhoneNumber number;
        if (util.Parse(e164, "ZZ", &number) != PhoneNumberUtil::NO_PARSING_ERROR)
            return -1;
        std::string d = geocoder->GetDescriptionForNumber(number, icu::Locale::getEnglish());
        snprintf(buf, bufsize, "%s", d.c_str());
        return 0;
    } catch (...) {
        return -1;
    }
}
