/* SPDX-License-Identifier: AGPL-3.0-or-later
 * test_pgarray.c — PostgreSQL array literals the worker passes batches in:
 * quoting, NULLs, empty arrays, growth past the first buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pgarray.h"

static void ints_and_bools(void **state)
{
    (void)state;
    struct pg_array a;
    pg_array_init(&a);
    pg_array_add_int(&a, 1);
    pg_array_add_int(&a, -9223372036854775807LL);
    assert_string_equal(pg_array_finish(&a), "{1,-9223372036854775807}");
    pg_array_free(&a);
    pg_array_add_bool(&a, 1);
    pg_array_add_bool(&a, 0);
    assert_string_equal(pg_array_finish(&a), "{t,f}");
    pg_array_free(&a);
}

static void text_is_quoted_and_escaped(void **state)
{
    (void)state;
    struct pg_array a;
    pg_array_init(&a);
    pg_array_add_text(&a, "plain");
    pg_array_add_text(&a, NULL);
    pg_array_add_text(&a, "a \"quote\", a \\ and {braces}");
    pg_array_add_text(&a, "");
    pg_array_add_text(&a, "NULL");
    assert_string_equal(pg_array_finish(&a),
                        "{\"plain\",NULL,\"a \\\"quote\\\", a \\\\ and {braces}\",\"\",\"NULL\"}");
    pg_array_free(&a);
}

static void empty_and_large(void **state)
{
    (void)state;
    struct pg_array a;
    pg_array_init(&a);
    assert_string_equal(pg_array_finish(&a), "{}");
    pg_array_free(&a);
    for (int i = 0; i < 5000; i++)
        pg_array_add_int(&a, i);
    const char *s = pg_array_finish(&a);
    assert_non_null(s);
    assert_int_equal(a.n, 5000);
    assert_memory_equal(s, "{0,1,2,", 7);
    assert_string_equal(s + strlen(s) - 6, ",4999}");
    pg_array_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ints_and_bools),
        cmocka_unit_test(text_is_quoted_and_escaped),
        cmocka_unit_test(empty_and_large),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
