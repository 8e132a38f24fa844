/* SPDX-License-Identifier: AGPL-3.0-or-later
 * test_csv_write.c — export cells: plain, quoted, doubled quotes, the
 * formula guard, NULL, and a buffer too small; rows into a capped dynbuf
 * (whole rows or nothing), and the dynbuf's own limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
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

static void test_rows(void **state)
{
    (void)state;
    struct tocsin_dynbuf b;
    tocsin_dynbuf_init(&b, 64);
    const char *head[] = {"phone", "name"}, *row[] = {"+14155550101", "=cmd|' /C calc'!A0"},
               *empty[] = {NULL, ""};
    assert_int_equal(tocsin_csv_append_row(&b, head, 2), 0);
    assert_int_equal(tocsin_csv_append_row(&b, row, 2), 0);
    assert_int_equal(tocsin_csv_append_row(&b, empty, 2), 0);
    assert_string_equal(b.data, "phone,name\r\n'+14155550101,'=cmd|' /C calc'!A0\r\n,\r\n");
    size_t before = b.len;
    const char *big[] = {"0123456789012345678901234567890123456789", "x"};
    assert_int_equal(tocsin_csv_append_row(&b, big, 2), -1); /* past the 64-byte cap */
    assert_int_equal(b.len, before);                         /* no half row */
    assert_int_equal(strlen(b.data), before);
    tocsin_dynbuf_free(&b);
}

static void test_dynbuf(void **state)
{
    (void)state;
    struct tocsin_dynbuf b;
    tocsin_dynbuf_init(&b, 1000);
    char chunk[300];
    memset(chunk, 'a', sizeof chunk);
    for (int i = 0; i < 3; i++)
        assert_int_equal(tocsin_dynbuf_add(&b, chunk, sizeof chunk), 0);
    assert_int_equal(tocsin_dynbuf_add(&b, chunk, sizeof chunk), -1);
    assert_true(b.failed);
    assert_int_equal(b.len, 900);
    assert_true(b.cap <= 1001);
    assert_int_equal(tocsin_dynbuf_add(&b, chunk, 100), 0); /* exactly the cap */
    assert_int_equal(b.len, 1000);
    assert_int_equal(b.data[1000], '\0');
    assert_int_equal(tocsin_dynbuf_add(&b, "x", 1), -1);
    assert_int_equal(tocsin_dynbuf_add(&b, "", 0), 0);
    assert_null(tocsin_dynbuf_reserve(&b, (size_t)-1)); /* no overflow on a huge ask */
    tocsin_dynbuf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_int_equal(tocsin_dynbuf_add_str(&b, "ok"), 0);
    assert_string_equal(b.data, "ok");
    tocsin_dynbuf_free(&b);
    assert_null(b.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cells),     cmocka_unit_test(test_formula_guard),
        cmocka_unit_test(test_too_small), cmocka_unit_test(test_rows),
        cmocka_unit_test(test_dynbuf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
