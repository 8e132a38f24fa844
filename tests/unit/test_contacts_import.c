/* SPDX-License-Identifier: AGPL-3.0-or-later
 * test_contacts_import.c — header and row validation of the CSV import,
 * without a database. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "contacts_import.h"

static struct tocsin_csv csv;
static struct tocsin_csv_row row;

static const struct tocsin_csv_row *parse(const char *line)
{
    static char copy[512];
    char err[128];
    snprintf(copy, sizeof copy, "%s", line);
    tocsin_csv_free(&csv);
    tocsin_csv_init_mem(&csv, copy, strlen(copy));
    assert_int_equal(tocsin_csv_next(&csv, &row, err, sizeof err), TOCSIN_CSV_ROW);
    return &row;
}

static void test_header(void **state)
{
    (void)state;
    struct tocsin_import_columns cols;
    char err[200];
    assert_int_equal(
        tocsin_import_header(parse(" Phone ,FIRST_NAME,Team\n"), &cols, err, sizeof err), 0);
    assert_int_equal(cols.known[IMPORT_COL_PHONE], 0);
    assert_int_equal(cols.known[IMPORT_COL_FIRST], 1);
    assert_int_equal(cols.known[IMPORT_COL_ZIP], -1);
    assert_string_equal(cols.names[2], "team");
    assert_int_equal(tocsin_import_header(parse("name,zip\n"), &cols, err, sizeof err), -1);
    assert_non_null(strstr(err, "no \"phone\" column"));
    assert_int_equal(tocsin_import_header(parse("phone,team,Team\n"), &cols, err, sizeof err), -1);
    assert_non_null(strstr(err, "appears twice"));
    assert_int_equal(tocsin_import_header(parse("phone,,x\n"), &cols, err, sizeof err), -1);
    assert_string_equal(err, "header column 2: names must be 1 to 64 characters");
    assert_int_equal(tocsin_import_header(parse("phone,\"a\nb\"\n"), &cols, err, sizeof err), -1);
    assert_non_null(strstr(err, "header column 2: names must be UTF-8 text without control"));
    assert_int_equal(tocsin_import_header(parse("phone,caf\xe9\n"), &cols, err, sizeof err), -1);
    assert_non_null(strstr(err, "header column 2: names must be UTF-8"));
    assert_int_equal(tocsin_import_header(parse("phone,caf\xc3\xa9\n"), &cols, err, sizeof err), 0);
    assert_string_equal(cols.names[1], "caf\xc3\xa9");
    char wide[100];
    memset(wide, 'c', 65);
    snprintf(wide + 65, sizeof wide - 65, ",phone\n");
    assert_int_equal(tocsin_import_header(parse(wide), &cols, err, sizeof err), -1);
    wide[64] = ',';
    memcpy(wide + 65, "phone\n", 7); /* 64 characters are allowed */
    assert_int_equal(tocsin_import_header(parse(wide), &cols, err, sizeof err), 0);
}

static void test_bad_region_refused_before_any_query(void **state)
{
    (void)state;
    struct tocsin_import_options o = {.org_id = 1, .region = "USA"};
    struct tocsin_import_report rep;
    char err[200];
    /* No connection: the region must be refused before it is needed. */
    assert_int_equal(tocsin_contacts_import_csv(NULL, &csv, &o, &rep, err, sizeof err), -1);
    assert_string_equal(err,
                        "invalid region \"USA\": must be a country's two letters (US, MX, GB)");
    o.region = "1A";
    assert_int_equal(tocsin_contacts_import_csv(NULL, &csv, &o, &rep, err, sizeof err), -1);
    assert_int_equal(rep.rejected, 0);
    /* Two letters libphonenumber has no numbering for would refuse every
     * national number: refused too, not guessed. */
    o.region = "zz";
    assert_int_equal(tocsin_contacts_import_csv(NULL, &csv, &o, &rep, err, sizeof err), -1);
    assert_string_equal(err, "invalid region \"zz\": must be a country's two letters (US, MX, GB)");
}

static void expect_row(const char *header, const char *line, const char *phone, const char *zip,
                       const char *fields, const char *reason)
{
    struct tocsin_import_columns cols;
    struct tocsin_import_contact c;
    char err[200];
    assert_int_equal(tocsin_import_header(parse(header), &cols, err, sizeof err), 0);
    int rc = tocsin_import_row(&cols, parse(line), "US", &c, err, sizeof err);
    if (reason) {
        assert_int_equal(rc, -1);
        if (!strstr(err, reason))
            fail_msg("row \"%s\": reason \"%s\" lacks \"%s\"", line, err, reason);
        return;
    }
    if (rc)
        fail_msg("row \"%s\": %s", line, err);
    assert_string_equal(c.phone, phone);
    assert_string_equal(c.zip, zip);
    assert_string_equal(c.fields_json, fields);
    free(c.fields_json);
}

static void test_rows(void **state)
{
    (void)state;
    const char *h = "phone,first_name,zip,team\n";
    expect_row(h, "(415) 555-2671,Jane,94110,red\n", "+14155552671", "94110", "{\"team\":\"red\"}",
               NULL);
    expect_row(h, "+14155552671, Jane ,94110-1234,\n", "+14155552671", "94110", "{}", NULL);
    expect_row(h, ",Jane,,\n", NULL, NULL, NULL, "missing phone");
    expect_row(h, "12,Jane,,\n", NULL, NULL, NULL, "too short");
    expect_row(h, "+14155552671,Jane,9411,\n", NULL, NULL, NULL, "invalid zip \"9411\"");
    expect_row(h, "+14155552671,Jane,\n", NULL, NULL, NULL, "expected 4 columns, found 3");
    expect_row(h, "+14155552671,\xff\xfe,,\n", NULL, NULL, NULL,
               "\"first_name\" is not valid UTF-8");
    char long_name[200];
    memset(long_name, 'x', 101);
    long_name[101] = '\0';
    char line[300];
    snprintf(line, sizeof line, "+14155552671,%s,,\n", long_name);
    expect_row(h, line, NULL, NULL, NULL, "first_name is longer than 100 characters");
}

/* The timezone column: an IANA zone from the tz database, or empty. */
/* An opt-out list: the numbers' column picked by any name, only it read. */
static void test_opt_out_columns(void **state)
{
    (void)state;
    struct tocsin_import_columns cols;
    char err[200], e164[TOCSIN_E164_MAX + 1];
    assert_int_equal(tocsin_import_header_phone(parse("phone,\" Cell Phone \",zip\n"), "cell phone",
                                                &cols, err, sizeof err),
                     0);
    assert_int_equal(cols.known[IMPORT_COL_PHONE], 1);
    assert_int_equal(
        tocsin_import_header_phone(parse("phone,cell\n"), "mobile", &cols, err, sizeof err), -1);
    assert_string_equal(err, "header: no column named \"mobile\"");
    assert_int_equal(tocsin_import_header_phone(parse("a,cell\n"), NULL, &cols, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "no \"phone\" column"));
    /* The other columns are not checked: a bad zip is no reason to text. */
    assert_int_equal(
        tocsin_import_header_phone(parse("zip,cell\n"), "cell", &cols, err, sizeof err), 0);
    assert_int_equal(tocsin_import_row_phone(&cols, parse("not a zip,(415) 555-0123\n"), "US", e164,
                                             err, sizeof err),
                     0);
    assert_string_equal(e164, "+14155550123");
    assert_int_equal(tocsin_import_row_phone(&cols, parse("x,\"=cmd|' /C calc'!A0\"\n"), "US", e164,
                                             err, sizeof err),
                     -1);
    assert_int_equal(tocsin_import_row_phone(&cols, parse("x, \n"), "US", e164, err, sizeof err),
                     -1);
    assert_string_equal(err, "missing phone");
    assert_int_equal(
        tocsin_import_row_phone(&cols, parse("4155550123\n"), "US", e164, err, sizeof err), -1);
    assert_string_equal(err, "expected 2 columns, found 1");
    assert_int_equal(tocsin_import_row_phone(&cols,
                                             parse("x,415555\xff"
                                                   "0123\n"),
                                             "US", e164, err, sizeof err),
                     -1);
    assert_string_equal(err, "column \"cell\" is not valid UTF-8");
}

static void test_timezone(void **state)
{
    (void)state;
    struct tocsin_import_columns cols;
    struct tocsin_import_contact c;
    char err[200];
    assert_int_equal(tocsin_import_header(parse("phone,TimeZone\n"), &cols, err, sizeof err), 0);
    assert_int_equal(cols.known[IMPORT_COL_TZ], 1);
    static const char *const good[] = {"America/Chicago", " America/Indiana/Indianapolis ", "UTC",
                                       "Europe/London"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char line[128];
        snprintf(line, sizeof line, "+14155552671,%s\n", good[i]);
        if (tocsin_import_row(&cols, parse(line), "US", &c, err, sizeof err))
            fail_msg("%s refused: %s", good[i], err);
        assert_non_null(strstr(good[i], c.timezone));
        assert_string_equal(c.fields_json, "{}"); /* not a custom field */
        free(c.fields_json);
    }
    assert_int_equal(tocsin_import_row(&cols, parse("+14155552671,\n"), "US", &c, err, sizeof err),
                     0);
    assert_string_equal(c.timezone, "");
    free(c.fields_json);
    static const char *const bad[] = {"America/Springfield", "Central",        "../etc/passwd",
                                      "America//Chicago",    "/etc/localtime", "America/Chicago/",
                                      "EST5EDT;rm",          "America"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char line[128];
        snprintf(line, sizeof line, "+14155552671,%s\n", bad[i]);
        if (tocsin_import_row(&cols, parse(line), "US", &c, err, sizeof err) == 0)
            fail_msg("%s accepted", bad[i]);
        assert_non_null(strstr(err, "invalid timezone"));
    }
}

static int teardown(void **state)
{
    (void)state;
    tocsin_csv_free(&csv);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header),
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_timezone),
        cmocka_unit_test(test_opt_out_columns),
        cmocka_unit_test(test_bad_region_refused_before_any_query),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
