/* SPDX-License-Identifier: AGPL-3.0-or-later
 * test_sms.c — encodings, units and segment counts at every boundary that
 * COMPLIANCE.md names, plus rejection of invalid UTF-8. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sms.h"

/* Repeats unit (a UTF-8 string) n times into a fresh buffer. */
static char *rep(const char *unit, size_t n)
{
    size_t ul = strlen(unit);
    char *s = malloc(ul * n + 1);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        memcpy(s + i * ul, unit, ul);
    s[ul * n] = '\0';
    return s;
}

static struct tocsin_sms_info count(const char *s)
{
    struct tocsin_sms_info info;
    assert_int_equal(tocsin_sms_count(s, strlen(s), &info), 0);
    return info;
}

static void expect(const char *unit, size_t n, enum tocsin_sms_encoding enc, size_t units,
                   size_t segments)
{
    char *s = rep(unit, n);
    struct tocsin_sms_info info = count(s);
    if (info.encoding != enc || info.units != units || info.segments != segments)
        fail_msg("%zu x \"%s\": got %s units=%zu segments=%zu, want %s units=%zu segments=%zu", n,
                 unit, tocsin_sms_encoding_name(info.encoding), info.units, info.segments,
                 tocsin_sms_encoding_name(enc), units, segments);
    free(s);
}

static void test_empty(void **state)
{
    (void)state;
    struct tocsin_sms_info info = count("");
    assert_int_equal(info.encoding, TOCSIN_SMS_GSM7);
    assert_int_equal(info.units, 0);
    assert_int_equal(info.segments, 0);
    assert_int_equal(info.chars, 0);
}

static void test_gsm_boundaries(void **state)
{
    (void)state;
    expect("a", 1, TOCSIN_SMS_GSM7, 1, 1);
    expect("a", 160, TOCSIN_SMS_GSM7, 160, 1);
    expect("a", 161, TOCSIN_SMS_GSM7, 161, 2);
    expect("a", 306, TOCSIN_SMS_GSM7, 306, 2);
    expect("a", 307, TOCSIN_SMS_GSM7, 307, 3);
    expect("a", 459, TOCSIN_SMS_GSM7, 459, 3);
    expect("a", 460, TOCSIN_SMS_GSM7, 460, 4);
    expect("a", 1530, TOCSIN_SMS_GSM7, 1530, 10);
    expect("a", 1531, TOCSIN_SMS_GSM7, 1531, 11);
}

static void test_gsm_basic_non_ascii(void **state)
{
    (void)state;
    /* Accented letters and Greek capitals of the basic table count one. */
    expect("é", 160, TOCSIN_SMS_GSM7, 160, 1);
    expect("Ç", 161, TOCSIN_SMS_GSM7, 161, 2);
    expect("Δ", 10, TOCSIN_SMS_GSM7, 10, 1);
    struct tocsin_sms_info info = count("£¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà @\r\n");
    assert_int_equal(info.encoding, TOCSIN_SMS_GSM7);
    assert_int_equal(info.units, info.chars);
}

static void test_gsm_extension_counts_two(void **state)
{
    (void)state;
    expect("{", 80, TOCSIN_SMS_GSM7, 160, 1);
    expect("{", 81, TOCSIN_SMS_GSM7, 162, 2);
    expect("€", 80, TOCSIN_SMS_GSM7, 160, 1);
    expect("€", 81, TOCSIN_SMS_GSM7, 162, 2);
    const char *ext[] = {"\f", "[", "\\", "]", "^", "{", "|", "}", "~", "€"};
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++)
        expect(ext[i], 1, TOCSIN_SMS_GSM7, 2, 1);
}

static void test_escape_pair_never_split(void **state)
{
    (void)state;
    /* 152 plain + '{' (2) = 154 septets > 153: the pair moves to segment 2.
     * Total 161 + padding: 152 + 2 + 8 = 162 units -> 2 segments. */
    char *s = rep("a", 152);
    size_t n = strlen(s);
    char buf[400];
    memcpy(buf, s, n);
    memcpy(buf + n, "{", 1);
    memset(buf + n + 1, 'a', 8);
    buf[n + 9] = '\0';
    struct tocsin_sms_info info = count(buf);
    assert_int_equal(info.units, 162);
    assert_int_equal(info.segments, 2);
    /* 152 plain + '{' + 152 plain = 306 units: ceil(306/153) = 2, but the
     * pair cannot straddle, so segment 1 holds 152 and we need 3. */
    memcpy(buf, s, n);
    memcpy(buf + n, "{", 1);
    memcpy(buf + n + 1, s, n);
    buf[2 * n + 1] = '\0';
    info = count(buf);
    assert_int_equal(info.units, 306);
    assert_int_equal(info.segments, 3);
    free(s);
}

/* Builds a then pair then b repetitions of the unit strings, counts it. */
static struct tocsin_sms_info around(const char *unit, size_t a, const char *pair, size_t b)
{
    char *x = rep(unit, a), *y = rep(unit, b);
    size_t n = strlen(x) + strlen(pair) + strlen(y) + 1;
    char *s = malloc(n);
    assert_non_null(s);
    snprintf(s, n, "%s%s%s", x, pair, y);
    struct tocsin_sms_info info = count(s);
    free(x);
    free(y);
    free(s);
    return info;
}

static void test_pairs_at_later_boundaries(void **state)
{
    (void)state;
    /* Escape pair at septet 153 (the first of segment 2): no padding.
     * 153 + 2 + 151 = 306 units, 2 segments. */
    struct tocsin_sms_info info = around("a", 153, "{", 151);
    assert_int_equal(info.units, 306);
    assert_int_equal(info.segments, 2);
    /* Escape pair at septet 305, straddling the second boundary (306):
     * 305 + 2 + 152 = 459 units would fill 3 segments; padded, 4. */
    info = around("a", 305, "{", 152);
    assert_int_equal(info.units, 459);
    assert_int_equal(info.segments, 4);
    info = around("a", 306, "{", 151); /* starts segment 3: no padding */
    assert_int_equal(info.units, 459);
    assert_int_equal(info.segments, 3);
    /* € is an escape pair too. */
    info = around("a", 152, "€", 152);
    assert_int_equal(info.units, 306);
    assert_int_equal(info.segments, 3);
    /* A surrogate pair at unit 133, straddling the second UCS-2 boundary
     * (134): 133 + 2 + 66 = 201 units would fill 3 segments; padded, 4. */
    info = around("ж", 133, "😀", 66);
    assert_int_equal(info.encoding, TOCSIN_SMS_UCS2);
    assert_int_equal(info.units, 201);
    assert_int_equal(info.segments, 4);
    info = around("ж", 132, "😀", 67);
    assert_int_equal(info.units, 201);
    assert_int_equal(info.segments, 3);
    /* In a UCS-2 message an extension character is one unit, no pair. */
    info = around("ж", 66, "{", 1);
    assert_int_equal(info.units, 68);
    assert_int_equal(info.segments, 1);
}

static void test_chars(void **state)
{
    (void)state;
    struct tocsin_sms_info info = count("h\xc3\xa9llo \xf0\x9f\x98\x80 {\xe2\x82\xac}");
    assert_int_equal(info.chars, 11);
    assert_int_equal(info.units, 12); /* UCS-2: the emoji counts two */
    info = count("h\xc3\xa9llo {\xe2\x82\xac}");
    assert_int_equal(info.encoding, TOCSIN_SMS_GSM7);
    assert_int_equal(info.chars, 9);
    assert_int_equal(info.units, 12); /* { € } count two each */
}

/* Characters that look like GSM-7 ones but are not: each makes a message
 * UCS-2. */
static void test_near_misses_are_ucs2(void **state)
{
    (void)state;
    const char *not_gsm[] = {"ç", "á", "í",  "ó",    "ú", "õ",  "Ã", "ê", "α", "Β" /* U+0392 */,
                             "Ά", "ÿ", "\t", "\x7f", "`", "\v", "“", "’", "…", "\xc2\xa0"};
    for (size_t i = 0; i < sizeof not_gsm / sizeof not_gsm[0]; i++) {
        struct tocsin_sms_info info = count(not_gsm[i]);
        if (info.encoding != TOCSIN_SMS_UCS2 || info.units != 1 || info.segments != 1)
            fail_msg("\"%s\" counted as %s, %zu units", not_gsm[i],
                     tocsin_sms_encoding_name(info.encoding), info.units);
    }
    /* Edges of valid UTF-8 are accepted. */
    struct tocsin_sms_info info = count("\xef\xbf\xbf"); /* U+FFFF */
    assert_int_equal(info.units, 1);
    info = count("\xf4\x8f\xbf\xbf"); /* U+10FFFF */
    assert_int_equal(info.units, 2);
    info = count("\xed\x9f\xbf"); /* U+D7FF, just below the surrogates */
    assert_int_equal(info.units, 1);
    /* A NUL byte is valid UTF-8 but not the GSM '@' (which is 0x00 only on
     * the air). */
    assert_int_equal(tocsin_sms_count("a\0b", 3, &info), 0);
    assert_int_equal(info.encoding, TOCSIN_SMS_UCS2);
    assert_int_equal(info.chars, 3);
}

static void test_ucs2_boundaries(void **state)
{
    (void)state;
    /* ç (U+00E7) is not in GSM-7 (only Ç is): the whole message is UCS-2. */
    expect("ç", 1, TOCSIN_SMS_UCS2, 1, 1);
    expect("ç", 70, TOCSIN_SMS_UCS2, 70, 1);
    expect("ç", 71, TOCSIN_SMS_UCS2, 71, 2);
    expect("ç", 134, TOCSIN_SMS_UCS2, 134, 2);
    expect("ç", 135, TOCSIN_SMS_UCS2, 135, 3);
    expect("ж", 201, TOCSIN_SMS_UCS2, 201, 3);
    expect("ж", 202, TOCSIN_SMS_UCS2, 202, 4);
    expect("`", 1, TOCSIN_SMS_UCS2, 1, 1);
}

static void test_one_non_gsm_char_switches_all(void **state)
{
    (void)state;
    char *s = rep("a", 100);
    char buf[200];
    snprintf(buf, sizeof buf, "%sç", s);
    struct tocsin_sms_info info = count(buf);
    assert_int_equal(info.encoding, TOCSIN_SMS_UCS2);
    assert_int_equal(info.units, 101);
    assert_int_equal(info.segments, 2);
    /* Extension characters are one UCS-2 unit, not two. */
    snprintf(buf, sizeof buf, "{}ç");
    info = count(buf);
    assert_int_equal(info.units, 3);
    free(s);
}

static void test_emoji_counts_two_units(void **state)
{
    (void)state;
    expect("😀", 1, TOCSIN_SMS_UCS2, 2, 1);
    expect("😀", 35, TOCSIN_SMS_UCS2, 70, 1);
    expect("😀", 36, TOCSIN_SMS_UCS2, 72, 2);
    struct tocsin_sms_info info = count("😀");
    assert_int_equal(info.chars, 1);
    /* 66 BMP units, an emoji, 3 more: 71 units, so the message splits; the
     * surrogate pair would take units 67-68 and straddle the 67-unit
     * boundary, so it moves whole to segment 2 (66 | 2 + 3). */
    char *s = rep("ж", 66);
    char buf[400];
    snprintf(buf, sizeof buf, "%s😀жжж", s);
    info = count(buf);
    assert_int_equal(info.units, 71);
    assert_int_equal(info.segments, 2);
    free(s);
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    struct tocsin_sms_info info;
    const char *bad[] = {
        "\xC0\xAF",         /* overlong '/' */
        "\xE0\x80\xAF",     /* overlong */
        "\x80",             /* lone continuation */
        "\xED\xA0\x80",     /* UTF-16 surrogate encoded */
        "\xF4\x90\x80\x80", /* past U+10FFFF */
        "\xE2\x82",         /* truncated € */
        "\xFF",
        "\xC1\xBF",             /* overlong, C1 lead */
        "\xF0\x9F\x98",         /* truncated emoji */
        "\xF0\x80\x80\xAF",     /* overlong 4-byte */
        "\xF5\x80\x80\x80",     /* lead byte past F4 */
        "\xF8\x88\x80\x80\x80", /* 5-byte form */
        "\xE2\x28\xA1",         /* bad second byte */
        "\xED\xBF\xBF",         /* low surrogate */
        "ok \xC3",              /* truncated at the end of valid text */
        "\xC3\xA9\xA9",         /* é then a stray continuation */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(tocsin_sms_count(bad[i], strlen(bad[i]), &info), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_gsm_boundaries),
        cmocka_unit_test(test_gsm_basic_non_ascii),
        cmocka_unit_test(test_gsm_extension_counts_two),
        cmocka_unit_test(test_escape_pair_never_split),
        cmocka_unit_test(test_ucs2_boundaries),
        cmocka_unit_test(test_one_non_gsm_char_switches_all),
        cmocka_unit_test(test_emoji_counts_two_units),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_pairs_at_later_boundaries),
        cmocka_unit_test(test_chars),
        cmocka_unit_test(test_near_misses_are_ucs2),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
