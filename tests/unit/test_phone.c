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
    const char *inputs[] = {"(415) 555-2671", "415.555.2671", "+1 415 555 2671", "1-415-555-2671",
                            "4155552671",     "+14155552671", " 415 555 2671 ",  "tel:+1-415-555-2671"};
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
    assert_string_equal(place, "Florida");
    assert_int_equal(tocsin_phone_describe("+12125550100", place, sizeof place), 0);
    assert_string_equal(place, "New York, NY");
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

/* The fast path must agree with the full parser: feed each number once as
 * E.164 (fast) and once formatted with a space (slow). */
static void test_fast_path_agrees(void **state)
{
    (void)state;
    const char *prefixes[] = {"+1415", "+1212", "+1305", "+4420", "+447700", "+3491", "+5255",
                              "+33612", "+4915", "+8190", "+6140", "+2348", "+1800", "+1555"};
    int agreed = 0;
    for (size_t p = 0; p < sizeof prefixes / sizeof prefixes[0]; p++) {
        for (int i = 0; i < 40; i++) {
            char fast[32], slow[40];
            size_t plen = strlen(prefixes[p]);
            snprintf(fast, sizeof fast, "%s%0*d", prefixes[p], (int)(12 - plen), i * 7919 % 10000000);
            snprintf(slow, sizeof slow, "%.*s %s", 2, fast, fast + 2);
            struct tocsin_phone a, b;
            char ea[256] = "", eb[256] = "";
            int ra = tocsin_phone_parse(fast, strlen(fast), "US", &a, ea, sizeof ea);
            int rb = tocsin_phone_parse(slow, strlen(slow), "US", &b, eb, sizeof eb);
            if (ra != rb)
                fail_msg("%s: fast=%d (%s) slow=%d (%s)", fast, ra, ea, rb, eb);
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
    assert_true(agreed > 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_us_formats),    cmocka_unit_test(test_other_countries),
        cmocka_unit_test(test_errors),        cmocka_unit_test(test_types_and_region),
        cmocka_unit_test(test_geocoder),      cmocka_unit_test(test_looks_e164),
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_fast_path_agrees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
