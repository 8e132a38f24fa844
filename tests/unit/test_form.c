/* SPDX-License-Identifier: AGPL-3.0-or-later
 * test_form.c — application/x-www-form-urlencoded decoding (escapes, '+',
 * empty and bare fields, strict errors, the field bound) and encoding
 * round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "form.h"

static struct tocsin_arena arena;
static struct tocsin_kv *kv;
static size_t n;
static char err[128];

static int decode(const char *s)
{
    err[0] = '\0';
    return tocsin_form_decode(&arena, (tocsin_str){s, strlen(s)}, &kv, &n, err, sizeof err);
}

static void assert_pair(size_t i, const char *key, const char *value)
{
    assert_true(i < n);
    assert_int_equal(kv[i].key.len, strlen(key));
    assert_memory_equal(kv[i].key.base, key, kv[i].key.len);
    assert_int_equal(kv[i].value.len, strlen(value));
    assert_memory_equal(kv[i].value.base, value, kv[i].value.len);
}

static void test_decodes_escapes_and_plus(void **state)
{
    (void)state;
    assert_int_equal(decode("From=%2B14155552671&Body=Hello+there%21%0a&To=%2b1"), 0);
    assert_int_equal(n, 3);
    assert_pair(0, "From", "+14155552671");
    assert_pair(1, "Body", "Hello there!\n");
    assert_pair(2, "To", "+1");
    assert_string_equal(kv[1].value.base, "Hello there!\n"); /* NUL-terminated copies */
    tocsin_str v = tocsin_form_get(kv, n, "Body");
    assert_int_equal(v.len, 13);
    assert_null(tocsin_form_get(kv, n, "body").base); /* keys are case-sensitive */
}

static void test_empty_and_bare_fields(void **state)
{
    (void)state;
    assert_int_equal(decode(""), 0);
    assert_int_equal(n, 0);
    assert_int_equal(decode("a=&&b&=x&"), 0);
    assert_int_equal(n, 3);
    assert_pair(0, "a", "");
    assert_pair(1, "b", "");
    assert_pair(2, "", "x");
    assert_int_equal(decode("k=a=b"), 0); /* only the first '=' splits */
    assert_pair(0, "k", "a=b");
    assert_int_equal(decode("nul=%00x"), 0); /* a NUL byte is data, lengths say so */
    assert_int_equal(kv[0].value.len, 2);
    assert_int_equal(kv[0].value.base[0], '\0');
}

static void test_bad_escapes(void **state)
{
    (void)state;
    const char *bad[] = {"a=%", "a=%4", "a=%zz", "a=%g0", "a=1&b=x%", "%2", "a=%%41", "a=% 1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(decode(bad[i]), -1);
        assert_non_null(strstr(err, "bad percent-escape"));
    }
    assert_int_equal(decode("a=1&b=x%"), -1);
    assert_string_equal(err, "invalid form: bad percent-escape in field 2");
}

static void test_field_bound(void **state)
{
    (void)state;
    static char buf[4 * (TOCSIN_FORM_MAX_FIELDS + 1)];
    size_t used = 0;
    for (int i = 0; i < TOCSIN_FORM_MAX_FIELDS; i++)
        used += (size_t)snprintf(buf + used, sizeof buf - used, "%sa=1", i ? "&" : "");
    assert_int_equal(decode(buf), 0);
    assert_int_equal(n, TOCSIN_FORM_MAX_FIELDS);
    snprintf(buf + used, sizeof buf - used, "&b");
    assert_int_equal(decode(buf), -1);
    assert_non_null(strstr(err, "more than 256 fields"));
}

static void test_append_round_trip(void **state)
{
    (void)state;
    char buf[128];
    const char binary[] = {'a', ' ', '+', '&', '=', '%', '\0', (char)0xe9, '~'};
    size_t used = tocsin_form_append(buf, sizeof buf, 0, TSTR("To"), TSTR("+1 415"));
    assert_string_equal(buf, "To=%2B1%20415");
    used = tocsin_form_append(buf, sizeof buf, used, TSTR("B&dy"),
                              (tocsin_str){binary, sizeof binary});
    assert_true(used != (size_t)-1);
    assert_int_equal(decode(buf), 0);
    assert_int_equal(n, 2);
    assert_pair(0, "To", "+1 415");
    assert_int_equal(kv[1].key.len, 4);
    assert_memory_equal(kv[1].key.base, "B&dy", 4);
    assert_int_equal(kv[1].value.len, sizeof binary);
    assert_memory_equal(kv[1].value.base, binary, sizeof binary);
    /* Too small a buffer fails and leaves what was there. */
    char small[8] = "x=1";
    assert_int_equal(tocsin_form_append(small, sizeof small, 3, TSTR("key"), TSTR("value")),
                     (size_t)-1);
    assert_memory_equal(small, "x=1", 3);
}

static int reset(void **state)
{
    (void)state;
    tocsin_arena_reset(&arena);
    return 0;
}

int main(void)
{
    tocsin_arena_init(&arena, 1024);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_decodes_escapes_and_plus, reset),
        cmocka_unit_test_teardown(test_empty_and_bare_fields, reset),
        cmocka_unit_test_teardown(test_bad_escapes, reset),
        cmocka_unit_test_teardown(test_field_bound, reset),
        cmocka_unit_test_teardown(test_append_round_trip, reset),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tocsin_arena_free(&arena);
    return rc;
}
