/* SPDX-License-Identifier: AGPL-3.0-or-later
 * test_csv.c — the CSV reader: quoting, line numbers, bounds and errors. */
#define _GNU_SOURCE /* fopencookie */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "csv.h"

static struct tocsin_csv r;
static struct tocsin_csv_row row;
static char err[256];

static int next(void)
{
    err[0] = '\0';
    return tocsin_csv_next(&r, &row, err, sizeof err);
}

static void test_basic_and_quotes(void **state)
{
    (void)state;
    const char *in = "\xEF\xBB\xBFphone,name\r\n+14155552671,\"Doe, Jane\"\n\n"
                     "+14155552672,\"multi\nline \"\"quoted\"\"\"\n+14155552673,\n";
    tocsin_csv_init_mem(&r, in, strlen(in));
    assert_int_equal(next(), TOCSIN_CSV_ROW);
    assert_int_equal(row.line, 1);
    assert_int_equal(row.nfields, 2);
    assert_string_equal(row.fields[0], "phone"); /* BOM skipped */
    assert_int_equal(next(), TOCSIN_CSV_ROW);
    assert_int_equal(row.line, 2);
    assert_string_equal(row.fields[1], "Doe, Jane");
    assert_int_equal(next(), TOCSIN_CSV_ROW); /* blank line 3 skipped */
    assert_int_equal(row.line, 4);
    assert_string_equal(row.fields[1], "multi\nline \"quoted\"");
    assert_int_equal(row.lens[1], 19);
    assert_int_equal(next(), TOCSIN_CSV_ROW);
    assert_int_equal(row.line, 6); /* the quoted newline counted */
    assert_int_equal(row.nfields, 2);
    assert_string_equal(row.fields[1], "");
    assert_int_equal(next(), TOCSIN_CSV_EOF);
    tocsin_csv_free(&r);
}

static void test_no_trailing_newline(void **state)
{
    (void)state;
    const char *in = "a,b\nc,d";
    tocsin_csv_init_mem(&r, in, strlen(in));
    assert_int_equal(next(), TOCSIN_CSV_ROW);
    assert_int_equal(next(), TOCSIN_CSV_ROW);
    assert_string_equal(row.fields[1], "d");
    assert_int_equal(next(), TOCSIN_CSV_EOF);
    tocsin_csv_free(&r);
}

static void test_bad_rows_are_recoverable(void **state)
{
    (void)state;
    char *in = malloc(20000);
    int n = sprintf(in, "a,b\"c\nx,\"y\"z\n");
    memset(in + n, 'q', 5000);
    n += 5000;
    n += sprintf(in + n, "\nok,fine\n");
    for (int i = 0; i < 70; i++)
        n += sprintf(in + n, "c,");
    n += sprintf(in + n, "\nlast,row\nnul,\"a");
    in[n++] = '\0';
    n += sprintf(in + n, "b\"\n");
    tocsin_csv_init_mem(&r, in, (size_t)n);
    assert_int_equal(next(), TOCSIN_CSV_BAD_ROW);
    assert_int_equal(row.line, 1);
    assert_non_null(strstr(err, "quote inside an unquoted field"));
    assert_int_equal(next(), TOCSIN_CSV_BAD_ROW);
    assert_int_equal(row.line, 2);
    assert_non_null(strstr(err, "after a closing quote"));
    assert_int_equal(next(), TOCSIN_CSV_BAD_ROW);
    assert_int_equal(row.line, 3);
    assert_non_null(strstr(err, "longer than 4096 bytes"));
    assert_int_equal(next(), TOCSIN_CSV_ROW);
    assert_string_equal(row.fields[0], "ok");
    assert_int_equal(next(), TOCSIN_CSV_BAD_ROW);
    assert_non_null(strstr(err, "more than 64 columns"));
    assert_int_equal(next(), TOCSIN_CSV_ROW);
    assert_string_equal(row.fields[0], "last");
    assert_int_equal(next(), TOCSIN_CSV_BAD_ROW);
    assert_non_null(strstr(err, "NUL byte"));
    assert_int_equal(next(), TOCSIN_CSV_EOF);
    tocsin_csv_free(&r);
    free(in);
}

static void test_unterminated_quote_is_fatal(void **state)
{
    (void)state;
    const char *in = "a,b\n\"never closed,x\n";
    tocsin_csv_init_mem(&r, in, strlen(in));
    assert_int_equal(next(), TOCSIN_CSV_ROW);
    assert_int_equal(next(), TOCSIN_CSV_FATAL);
    assert_string_equal(err, "line 2: unterminated quoted field");
    tocsin_csv_free(&r);
}

static void test_file_reader(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    for (int i = 0; i < 20000; i++)
        fprintf(f, "+1415555%04d,\"name %d\"\n", i % 10000, i);
    rewind(f);
    tocsin_csv_init_file(&r, f);
    int rows = 0;
    while (next() == TOCSIN_CSV_ROW)
        rows++;
    assert_int_equal(rows, 20000);
    assert_int_equal(row.line, 20000);
    assert_string_equal(row.fields[1], "name 19999");
    tocsin_csv_free(&r);
    fclose(f);
}

static void test_record_bound(void **state)
{
    (void)state;
    /* 20 fields of 4000 bytes: each within its bound, the record not. */
    size_t n = 0, cap = 20 * 4001 + 64;
    char *in = malloc(cap);
    for (int f = 0; f < 20; f++) {
        memset(in + n, 'x', 4000);
        n += 4000;
        in[n++] = f == 19 ? '\n' : ',';
    }
    n += (size_t)snprintf(in + n, cap - n, "after,it\n");
    tocsin_csv_init_mem(&r, in, n);
    assert_int_equal(next(), TOCSIN_CSV_BAD_ROW);
    assert_int_equal(row.line, 1);
    assert_string_equal(err, "a record is longer than 65536 bytes");
    assert_int_equal(next(), TOCSIN_CSV_ROW);
    assert_int_equal(row.line, 2);
    assert_string_equal(row.fields[1], "it");
    tocsin_csv_free(&r);
    free(in);
}

/* A stream that gives 70,000 bytes of good rows, then fails like a disk. */
static ssize_t failing_read(void *cookie, char *buf, size_t size)
{
    size_t *given = cookie;
    if (*given >= 70000) {
        errno = EIO;
        return -1;
    }
    size_t n = 0;
    while (n + 7 <= size && *given < 70000) {
        memcpy(buf + n, "a,b,c\n", 6);
        n += 6;
        *given += 6;
    }
    return (ssize_t)n;
}

static void test_read_error_is_fatal(void **state)
{
    (void)state;
    size_t given = 0;
    cookie_io_functions_t io = {.read = failing_read};
    FILE *f = fopencookie(&given, "r", io);
    assert_non_null(f);
    tocsin_csv_init_file(&r, f);
    int rc, rows = 0;
    while ((rc = next()) == TOCSIN_CSV_ROW)
        rows++;
    /* Not EOF: a short read must never pass for the end of the file. */
    assert_int_equal(rc, TOCSIN_CSV_FATAL);
    assert_true(rows > 10000 && rows <= 70002 / 6);
    assert_non_null(strstr(err, "could not read input: Input/output error"));
    assert_int_equal(next(), TOCSIN_CSV_FATAL);
    tocsin_csv_free(&r);
    fclose(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_and_quotes),
        cmocka_unit_test(test_no_trailing_newline),
        cmocka_unit_test(test_bad_rows_are_recoverable),
        cmocka_unit_test(test_unterminated_quote_is_fatal),
        cmocka_unit_test(test_file_reader),
        cmocka_unit_test(test_record_bound),
        cmocka_unit_test(test_read_error_is_fatal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
