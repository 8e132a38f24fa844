/* SPDX-License-Identifier: AGPL-3.0-or-later
 * test_json_scan.c — picking one string member out of JSON text: found,
 * absent, of another kind, nested, escaped, too long, malformed input of
 * every kind, the depth bound, duplicates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "json_scan.h"

static char out[64];

static int sid(const char *json)
{
    static const char *const path[] = {"sid"};
    return tocsin_json_scan_string(json, strlen(json), path, 1, out, sizeof out);
}

static int data_id(const char *json)
{
    static const char *const path[] = {"data", "id"};
    return tocsin_json_scan_string(json, strlen(json), path, 2, out, sizeof out);
}

static void test_finds_a_top_level_string(void **state)
{
    (void)state;
    assert_int_equal(
        sid("{\"account_sid\": \"AC1\", \"body\": \"a \\\"sid\\\": x\", \"num_segments\": \"1\","
            " \"price\": null, \"subresource_uris\": {\"media\": \"/x\", \"sid\": \"no\"},"
            " \"error_code\": -1.5e3, \"list\": [1, {\"sid\": \"no\"}, true, false],"
            " \"sid\": \"SM0123456789abcdef\"}\n"),
        1);
    assert_string_equal(out, "SM0123456789abcdef");
}

static void test_finds_a_nested_string(void **state)
{
    (void)state;
    assert_int_equal(data_id("{\"data\":{\"record_type\":\"message\",\"id\":\"40385f64-5717\"}}"),
                     1);
    assert_string_equal(out, "40385f64-5717");
    assert_int_equal(data_id("{\"id\":\"top\",\"data\":{\"other\":{\"id\":\"deep\"}}}"), 0);
}

static void test_absent_or_not_a_string(void **state)
{
    (void)state;
    assert_int_equal(sid("{\"sids\": \"SM1\"}"), 0);
    assert_int_equal(sid("{\"sid\": 12}"), 0);
    assert_int_equal(sid("{\"sid\": null}"), 0);
    assert_int_equal(sid("{\"sid\": {\"sid\": \"SM1\"}}"), 0);
    assert_int_equal(sid("[{\"sid\": \"SM1\"}]"), 0);
    assert_int_equal(sid("\"sid\""), 0);
    assert_int_equal(sid("{}"), 0);
    assert_string_equal(out, "");
}

static void test_last_duplicate_counts(void **state)
{
    (void)state;
    assert_int_equal(sid("{\"sid\": \"SM1\", \"sid\": \"SM2\"}"), 1);
    assert_string_equal(out, "SM2");
    assert_int_equal(sid("{\"sid\": \"SM1\", \"sid\": 3}"), 0);
}

static void test_asks_for_a_full_parser(void **state)
{
    (void)state;
    assert_int_equal(sid("{\"sid\": \"SM\\u0031\"}"), -1); /* escaped */
    char long_sid[128] = "{\"sid\": \"";
    memset(long_sid + strlen(long_sid), 'x', 70);
    strcat(long_sid, "\"}");
    assert_int_equal(sid(long_sid), -1);                  /* does not fit out */
    assert_int_equal(sid("{\"s\\u0069d\": \"SM1\"}"), 0); /* a name with escapes never matches */
}

static void test_refuses_malformed_text(void **state)
{
    (void)state;
    const char *bad[] = {
        "",
        "{",
        "{\"sid\": \"SM1\"",
        "{\"sid\": \"SM1\",}",
        "{\"sid\" \"SM1\"}",
        "{sid: \"SM1\"}",
        "{\"sid\": \"SM1\"} x",
        "{\"sid\": \"SM1\"}{}",
        "{\"sid\": \"SM\n1\"}",
        "{\"sid\": \"SM1\\x\"}",
        "{\"sid\": \"SM1\\u12\"}",
        "{\"sid\": \"SM1\", \"n\": 01}",
        "{\"sid\": \"SM1\", \"n\": 1.}",
        "{\"sid\": \"SM1\", \"n\": -}",
        "{\"sid\": \"SM1\", \"n\": 1e}",
        "{\"sid\": \"SM1\", \"n\": tru}",
        "{\"sid\": \"SM1\", \"n\": [1,]}",
        "{\"sid\": \"SM1\", \"n\": [1 2]}",
        "{\"sid\": \"SM1\\",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (sid(bad[i]) != -1)
            fail_msg("accepted: %s", bad[i]);
    }
}

static void test_bounds_the_depth(void **state)
{
    (void)state;
    char deep[400];
    size_t n = 0;
    deep[n++] = '{';
    memcpy(deep + n, "\"sid\":\"SM1\",\"x\":", 16);
    n += 16;
    for (int i = 0; i < 70; i++)
        deep[n++] = '[';
    for (int i = 0; i < 70; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    deep[n] = '\0';
    assert_int_equal(sid(deep), -1);
    /* 60 levels are fine */
    n = 17;
    for (int i = 0; i < 60; i++)
        deep[n++] = '[';
    for (int i = 0; i < 60; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    deep[n] = '\0';
    assert_int_equal(sid(deep), 1);
    assert_string_equal(out, "SM1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_finds_a_top_level_string),
        cmocka_unit_test(test_finds_a_nested_string),
        cmocka_unit_test(test_absent_or_not_a_string),
        cmocka_unit_test(test_last_duplicate_counts),
        cmocka_unit_test(test_asks_for_a_full_parser),
        cmocka_unit_test(test_refuses_malformed_text),
        cmocka_unit_test(test_bounds_the_depth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
