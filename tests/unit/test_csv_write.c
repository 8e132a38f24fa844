/* SPDX-License-Identifier: AGPL-3.0-or-later
 * test_csv_write.c — export cells: plain, quoted, doubled quotes, the
 * formula guard, NULL, and a buffer too small. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "csv_write.h"

static void expect_cell(const char *in, const char *want)
{
    char out[128];
    long n = tocsin_csv_cell(in, in ? strlen(in) : 0, out, sizeof out);
    assert_int_equal(n, (long)strlen(want));
    assert_string_equal(out, want);
    assert_int_equal(tocsin_csv_cell_len(in, in ? strlen(in) : 0), strlen(want));
}

static void test_cells(void **state)
{
    (void)state;
    expect_cell("Ana", "Ana");
    expect_cell(NULL, "");
    expect_cell("", "");
    expect_cell("a,b", "\"a,b\"");
    expect_cell("say \"hi\"", "\"say \"\"hi\"\"\"");
    expect_cell("two\nlines", "\"two\nlines\"");
    expect_cell("<script>alert(1)</script>", "<script>alert(1)</script>");
}

static void test_formula_guard(void **state)
{
    (void)state;
    expect_cell("=HYPERLINK(\"http://x\")", "\"'=HYPERLINK(\"\"http://x\"\")\"");
    expect_cell("=1+2", "'=1+2");
    expect_cell("+14155550101", "'+14155550101");
    expect_cell("-5", "'-5");
    expect_cell("@SUM(A1)", "'@SUM(A1)");
    expect_cell("\tx", "'\tx");
    expect_cell("a=b", "a=b");
}

static void test_too_small(void **state)
{
    (void)state;
    char out[4];
    assert_int_equal(tocsin_csv_cell("abcd", 4, out, sizeof out), -1);
    assert_string_equal(out, "");
    assert_int_equal(tocsin_csv_cell("abc", 3, out, sizeof out), 3);
    assert_int_equal(tocsin_csv_cell("a,c", 3, out, sizeof out), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cells),
        cmocka_unit_test(test_formula_guard),
        cmocka_unit_test(test_too_small),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
