/* SPDX-License-Identifier: AGPL-3.0-or-later
 * test_pgarray.c — PostgreSQL array literals the worker, gateway and
 * tocsinctl pass batches in: quoting, NULLs, empty arrays, growth past
 * the first buffer, reuse after reset, and the size cap. */
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
    struct tocsin_pgarray a;
    tocsin_pgarray_init(&a, 0);
    tocsin_pgarray_add_int(&a, 1);
    tocsin_pgarray_add_int(&a, -9223372036854775807LL);
    assert_string_equal(tocsin_pgarray_finish(&a), "{1,-9223372036854775807}");
    tocsin_pgarray_free(&a);
    tocsin_pgarray_add_bool(&a, 1);
    tocsin_pgarray_add_bool(&a, 0);
    assert_string_equal(tocsin_pgarray_finish(&a), "{t,f}");
    tocsin_pgarray_free(&a);
}

static void text_is_quoted_and_escaped(void **state)
{
    (void)state;
    struct tocsin_pgarray a;
    tocsin_pgarray_init(&a, 0);
    tocsin_pgarray_add_text(&a, "plain");
    tocsin_pgarray_add_text(&a, NULL);
    tocsin_pgarray_add_text(&a, "a \"quote\", a \\ and {braces}");
    tocsin_pgarray_add_text(&a, "");
    tocsin_pgarray_add_text(&a, "NULL");
    assert_string_equal(tocsin_pgarray_finish(&a),
                        "{\"plain\",NULL,\"a \\\"quote\\\", a \\\\ and {braces}\",\"\",\"NULL\"}");
    tocsin_pgarray_free(&a);
}

static void empty_and_large(void **state)
{
    (void)state;
    struct tocsin_pgarray a;
    tocsin_pgarray_init(&a, 0);
    assert_string_equal(tocsin_pgarray_finish(&a), "{}");
    tocsin_pgarray_free(&a);
    for (int i = 0; i < 5000; i++)
        tocsin_pgarray_add_int(&a, i);
    const char *s = tocsin_pgarray_finish(&a);
    assert_non_null(s);
    assert_int_equal(a.n, 5000);
    assert_memory_equal(s, "{0,1,2,", 7);
    assert_string_equal(s + strlen(s) - 6, ",4999}");
    tocsin_pgarray_free(&a);
}

static void reset_and_cap(void **state)
{
    (void)state;
    struct tocsin_pgarray a;
    tocsin_pgarray_init(&a, 16);
    tocsin_pgarray_add_text(&a, "abc");
    assert_string_equal(tocsin_pgarray_finish(&a), "{\"abc\"}");
    tocsin_pgarray_reset(&a); /* the next batch reuses the memory */
    tocsin_pgarray_add_text(&a, "x\"y");
    assert_string_equal(tocsin_pgarray_finish(&a), "{\"x\\\"y\"}");
    tocsin_pgarray_reset(&a);
    tocsin_pgarray_add_text(&a, "more than sixteen bytes");
    assert_null(tocsin_pgarray_finish(&a)); /* past the cap: no literal */
    tocsin_pgarray_reset(&a);
    tocsin_pgarray_add_int(&a, 7);
    assert_string_equal(tocsin_pgarray_finish(&a), "{7}"); /* usable again */
    tocsin_pgarray_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ints_and_bools),
        cmocka_unit_test(text_is_quoted_and_escaped),
        cmocka_unit_test(empty_and_large),
        cmocka_unit_test(reset_and_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
