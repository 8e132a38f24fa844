/* SPDX-License-Identifier: AGPL-3.0-or-later
 * test_phone.c — parsing what people type into E.164, error reasons, number
 * types, geocoder places, and fast path == slow path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "phone.h"

static void expect_e164(const char *input, const char *region, const char *e164)
{
    struct tocsin_phone p;
    char err[256] = "";
    if (tocsin_phone_parse(input, strlen(input), region, &p, err, sizeof err) != 0)
        fail_msg("\"%s\" (%s): %s", input, region, err);
    if (strcmp(p.e164, e164) != 0)
        fail_msg("\"%s\" (%s): got %s, want %s", input, region, p.e164, e164);
}

static void expect_error(const char *input, size_t len, const char *reason)
{
    struct tocsin_phone p;
    char err[256] = "";
    assert_int_equal(tocsin_phone_parse(input, len, "US", &p, err, sizeof err), -1);
    if (!strstr(err, reason) || strncmp(err, "invalid phone number \"", 22) != 0)
        fail_msg("error for \"%.*s\" is \"%s\", want reason \"%s\"", (int)len, input, err, reason);
}

static void test_us_formats(void **state)
{
    (void)state;
    const char *inputs[] = {"(415) 555-2671", "415.555.2671",       "+1 415 555 2671",
                            "1-415-555-2671", "4155552671",         "+14155552671",
                            " 415 555 2671 ", "tel:+1-415-555-2671"};
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++)
        expect_e164(inputs[i], "US", "+14155552671");
}

static void test_other_countries(void **state)
{
    (void)state;
    expect_e164("020 7946 0958", "GB", "+442079460958");
    expect_e164("+44 7911 123456", "US", "+447911123456");
    expect_e164("55 1234 5678", "MX", "+525512345678");
    expect_e164("612 34 56 78", "ES", "+34612345678");
    expect_e164("+39 06 6982 0000", "US", "+390669820000"); /* Italian leading zero */
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("", 0, "empty");
    expect_error("hello", 5, "not a phone number");
    expect_error("12", 2, "too short");
    expect_error("+1 415 555 2671 1234 5678 9012", 30, "too long");
    expect_error("+999 1234 5678", 14, "unknown country code");
    expect_error("415\0 555 2671", 13, "NUL");
    char big[80];
    memset(big, '1', sizeof big);
    expect_error(big, sizeof big, "longer than 64");
    expect_error("+1 555 555 0100", 15, "not a valid number"); /* 555 is not an area code */
    expect_error("415 555 2671 ext. 12", 20, "extensions");
    /* Valid to libphonenumber, but shorter than E.164 as Tocsin stores it. */
    expect_error("+352 7092", 9, "too short to receive text messages");
    expect_error("+3527092", 8, "too short to receive text messages");
}

static void test_types_and_region(void **state)
{
    (void)state;
    struct tocsin_phone p;
    char err[256];
    assert_int_equal(tocsin_phone_parse("+18005551212", 12, "US", &p, err, sizeof err), 0);
    assert_string_equal(tocsin_phone_type_name(p.type), "toll_free");
    assert_string_equal(p.region, "US");
    assert_int_equal(tocsin_phone_parse("+34612345678", 12, "US", &p, err, sizeof err), 0);
    assert_string_equal(tocsin_phone_type_name(p.type), "mobile");
    assert_string_equal(p.region, "ES");
    assert_int_equal(tocsin_phone_parse("+14155552671", 12, "US", &p, err, sizeof err), 0);
    assert_string_equal(tocsin_phone_type_name(p.type), "fixed_line_or_mobile");
}

static void test_geocoder(void **state)
{
    (void)state;
    char place[128];
    assert_int_equal(tocsin_phone_describe("+13055550100", place, sizeof place), 0);
    printf("geocoder: +13055550100 (Miami) -> \"%s\"\n", place);
    assert_string_equal(place, "Florida");
    assert_int_equal(tocsin_phone_describe("+12125550100", place, sizeof place), 0);
    printf("geocoder: +12125550100 (Manhattan) -> \"%s\"\n", place);
    assert_string_equal(place, "New York, NY");
    assert_int_equal(tocsin_phone_describe("+442079460958", place, sizeof place), 0);
    printf("geocoder: +442079460958 (London) -> \"%s\"\n", place);
    assert_string_equal(place, "London");
    /* A number the geocoder has no place for, a buffer that truncates. */
    assert_int_equal(tocsin_phone_describe("+15555550100", place, sizeof place), 0);
    assert_string_equal(place, "");
    assert_int_equal(tocsin_phone_describe("+12125550100", place, 4), 0);
    assert_string_equal(place, "New");
    assert_int_equal(tocsin_phone_describe(NULL, place, sizeof place), -1);
    assert_int_equal(tocsin_phone_describe("nonsense", place, sizeof place), -1);
}

static void test_normalize(void **state)
{
    (void)state;
    char e164[TOCSIN_E164_MAX + 1], err[256];
    assert_int_equal(tocsin_phone_normalize("+14155552671", 12, "US", e164, err, sizeof err), 0);
    assert_string_equal(e164, "+14155552671");
    assert_int_equal(tocsin_phone_normalize("+16135550123", 12, "US", e164, err, sizeof err), 0);
    assert_string_equal(e164, "+16135550123"); /* Canada: not US, still valid */
    assert_int_equal(tocsin_phone_normalize("(415) 555-2671", 14, "US", e164, err, sizeof err), 0);
    assert_string_equal(e164, "+14155552671");
    assert_int_equal(tocsin_phone_normalize("+15555550100", 12, "US", e164, err, sizeof err), -1);
    assert_non_null(strstr(err, "invalid phone number \"+15555550100\""));
}

static void test_looks_e164(void **state)
{
    (void)state;
    assert_true(tocsin_phone_looks_e164("+14155552671", 12));
    assert_false(tocsin_phone_looks_e164("14155552671", 11));
    assert_false(tocsin_phone_looks_e164("+04155552671", 12));
    assert_false(tocsin_phone_looks_e164("+1415555267a", 12));
    assert_false(tocsin_phone_looks_e164("+1234567", 8));
}

/* Digits that look like E.164 but are not valid as written go to the full
 * parse, which strips a national prefix written after the country code:
 * "+1 1 415..." and Mexico's retired mobile "1" (common in old contact
 * lists). The fast path alone rejected these. */
static void test_fast_path_defers_to_parse(void **state)
{
    (void)state;
    expect_e164("+114155552671", "US", "+14155552671");
    expect_e164("+1 1 415 555 2671", "US", "+14155552671");
    expect_e164("+5212001234567", "US", "+522001234567");
    expect_e164("+52 1 200 123 4567", "US", "+522001234567");
    /* Valid as written too (this metadata still knows the old form), but
     * the full parse strips the "1": so must the fast path (fuzz_phone). */
    expect_e164("+5212221234567", "US", "+522221234567");
    expect_e164("+52 1 222 123 4567", "US", "+522221234567");
    char e164[TOCSIN_E164_MAX + 1], err[256];
    assert_int_equal(tocsin_phone_normalize("+5212001234567", 14, "MX", e164, err, sizeof err), 0);
    assert_string_equal(e164, "+522001234567");
    assert_int_equal(tocsin_phone_normalize("+5212221234567", 14, "MX", e164, err, sizeof err), 0);
    assert_string_equal(e164, "+522221234567");
    /* Invalid either way: the same reason whichever path ran. */
    struct tocsin_phone p;
    char e1[256], e2[256];
    assert_int_equal(tocsin_phone_parse("+15555550100", 12, "US", &p, e1, sizeof e1), -1);
    assert_int_equal(tocsin_phone_parse("+1 5555550100", 13, "US", &p, e2, sizeof e2), -1);
    assert_string_equal(strstr(e1, "\": "), strstr(e2, "\": "));
    assert_int_equal(tocsin_phone_parse("+4412345", 8, "US", &p, e1, sizeof e1), -1);
    assert_int_equal(tocsin_phone_parse("+44 12345", 9, "US", &p, e2, sizeof e2), -1);
    assert_string_equal(strstr(e1, "\": "), strstr(e2, "\": "));
}

/* Error messages quote the input safely: they go into JSON and logs. */
static void test_error_quoting(void **state)
{
    (void)state;
    struct tocsin_phone p;
    char err[256];
    assert_int_equal(tocsin_phone_parse("\xff\xfe 415", 6, "US", &p, err, sizeof err), -1);
    assert_string_equal(err, "invalid phone number \"?? 415\": not a phone number");
    assert_int_equal(tocsin_phone_parse("caf\xc3\xa9", 5, "US", &p, err, sizeof err), -1);
    assert_string_equal(err, "invalid phone number \"caf\xc3\xa9\": not a phone number");
    assert_int_equal(tocsin_phone_parse("\"4\"\n", 4, "US", &p, err, sizeof err), -1);
    assert_non_null(strstr(err, "\"?4??\""));
    /* 63 digits then "é" (2 bytes): the cut at 64 bytes splits the é. */
    char big[66];
    memset(big, '1', 63);
    memcpy(big + 63, "\xc3\xa9", 2);
    assert_int_equal(tocsin_phone_parse(big, 65, "US", &p, err, sizeof err), -1);
    char want[128];
    snprintf(want, sizeof want, "invalid phone number \"%.63s\": longer than 64 characters", big);
    assert_string_equal(err, want);
    /* A small err buffer is truncated, never overrun. */
    char tiny[8];
    assert_int_equal(tocsin_phone_parse("12", 2, "US", &p, tiny, sizeof tiny), -1);
    assert_string_equal(tiny, "invalid");
}

/* The fast path must agree with the full parser: feed each number once as
 * E.164 (fast) and once formatted with a space (slow). */
static void test_fast_path_agrees(void **state)
{
    (void)state;
    const char *prefixes[] = {"+1415",  "+1212",  "+1305", "+4420", "+447700", "+3491", "+5255",
                              "+33612", "+4915",  "+8190", "+6140", "+2348",   "+1800", "+1555",
                              "+11415", "+52155", "+7495", "+7849", "+8613",   "+9198", "+5511"};
    int agreed = 0;
    for (size_t p = 0; p < sizeof prefixes / sizeof prefixes[0]; p++) {
        for (int i = 0; i < 60; i++) {
            char fast[32], slow[40];
            int digits = (int)(12 + i % 2 - strlen(prefixes[p])); /* 11 or 12 after the '+' */
            snprintf(fast, sizeof fast, "%s%0*d", prefixes[p], digits, i * 7919 % 10000000);
            snprintf(slow, sizeof slow, "%.*s %s", 2, fast, fast + 2);
            struct tocsin_phone a, b;
            char ea[256] = "", eb[256] = "";
            int ra = tocsin_phone_parse(fast, strlen(fast), "US", &a, ea, sizeof ea);
            int rb = tocsin_phone_parse(slow, strlen(slow), "US", &b, eb, sizeof eb);
            if (ra != rb)
                fail_msg("%s: fast=%d (%s) slow=%d (%s)", fast, ra, ea, rb, eb);
            if (ra != 0 && strcmp(strstr(ea, "\": "), strstr(eb, "\": ")) != 0)
                fail_msg("%s: fast says %s, slow says %s", fast, ea, eb);
            char norm[TOCSIN_E164_MAX + 1], en[256] = "";
            int rn = tocsin_phone_normalize(fast, strlen(fast), "US", norm, en, sizeof en);
            if (rn != ra)
                fail_msg("%s: normalize=%d (%s) parse=%d (%s)", fast, rn, en, ra, ea);
            if (ra == 0) {
                assert_string_equal(norm, a.e164);
                assert_string_equal(a.e164, b.e164);
                assert_string_equal(a.region, b.region);
                assert_int_equal(a.type, b.type);
                agreed++;
            }
        }
    }
    printf("fast path == full parse for %d valid numbers\n", agreed);
    assert_true(agreed > 200);
}

static void test_region_known(void **state)
{
    (void)state;
    assert_true(tocsin_phone_region_known("US"));
    assert_true(tocsin_phone_region_known("MX"));
    assert_true(tocsin_phone_region_known("GB"));
    assert_false(tocsin_phone_region_known("ZZ"));
    assert_false(tocsin_phone_region_known("XX"));
    assert_false(tocsin_phone_region_known("us"));
    assert_false(tocsin_phone_region_known("USA"));
    assert_false(tocsin_phone_region_known(""));
    assert_false(tocsin_phone_region_known(NULL));
}

static void test_region_check(void **state)
{
    (void)state;
    char err[200], big[3000];
    assert_int_equal(tocsin_phone_region_check("phone_region", "MX", err, sizeof err), 0);
    assert_int_equal(tocsin_phone_region_check("phone_region", "ZZ", err, sizeof err), -1);
    assert_string_equal(err, "invalid phone_region \"ZZ\": no country has this code (MX, GB, US)");
    assert_int_equal(tocsin_phone_region_check("--phone-region", "mx ", err, sizeof err), -1);
    assert_string_equal(
        err,
        "invalid --phone-region \"mx \": give a country's two upper-case letters (MX, GB, US)");
    assert_int_equal(tocsin_phone_region_check("phone_region", "MEX", err, sizeof err), -1);
    assert_non_null(strstr(err, "\"MEX\": give a country's two upper-case letters"));
    assert_int_equal(tocsin_phone_region_check("phone_region", "", err, sizeof err), -1);
    assert_non_null(strstr(err, "\"\": give a country's"));
    assert_int_equal(tocsin_phone_region_check("phone_region", NULL, err, sizeof err), -1);
    memset(big, 'A', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(tocsin_phone_region_check("phone_region", big, err, sizeof err), -1);
    assert_string_equal(err, "invalid phone_region: 2999 characters; give a country's two "
                             "upper-case letters (MX, GB, US)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_us_formats),
        cmocka_unit_test(test_other_countries),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_types_and_region),
        cmocka_unit_test(test_geocoder),
        cmocka_unit_test(test_looks_e164),
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_fast_path_agrees),
        cmocka_unit_test(test_fast_path_defers_to_parse),
        cmocka_unit_test(test_error_quoting),
        cmocka_unit_test(test_region_known),
        cmocka_unit_test(test_region_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
