/* SPDX-License-Identifier: AGPL-3.0-or-later
 * test_import_presets.c — the presets table (lib/import_presets): which
 * preset each real export's header is taken for (the fixtures under
 * tests/fixtures/import), the mapping it gives, and what the import
 * engine then makes of rows through it (VAN's phone preference, Action
 * Network's "unsubscribed" as an opt-out); a mapping that cannot work is
 * refused with a reason. No database. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "import_presets.h"

static struct tocsin_csv csv;
static struct tocsin_csv_row header, row;
static char text[8192];

/* Opens a fixture and reads its header into header. */
static void open_fixture(const char *name)
{
    const char *dir = getenv("TOCSIN_SOURCE_DIR");
    char path[512], err[128];
    snprintf(path, sizeof path, "%s/tests/fixtures/import/%s", dir ? dir : "..", name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    tocsin_csv_free(&csv);
    tocsin_csv_init_mem(&csv, text, n);
    assert_int_equal(tocsin_csv_next(&csv, &header, err, sizeof err), TOCSIN_CSV_ROW);
}

static void open_text(const char *s)
{
    char err[128];
    snprintf(text, sizeof text, "%s", s);
    tocsin_csv_free(&csv);
    tocsin_csv_init_mem(&csv, text, strlen(text));
    assert_int_equal(tocsin_csv_next(&csv, &header, err, sizeof err), TOCSIN_CSV_ROW);
}

/* The column whose target is t, or -1. */
static int col_of(const struct tocsin_import_mapping *m, const char *t)
{
    for (size_t i = 0; i < m->ncols; i++)
        if (strcmp(m->target[i], t) == 0)
            return (int)i;
    return -1;
}

/* The next data row through the mapping: 0 and the contact, or -1 and
 * the reason. */
static int next_contact(const struct tocsin_import_columns *cols, struct tocsin_import_contact *c,
                        char *reason, size_t len)
{
    char err[128];
    assert_int_equal(tocsin_csv_next(&csv, &row, err, sizeof err), TOCSIN_CSV_ROW);
    return tocsin_import_row(cols, &row, "US", c, reason, len);
}

static void test_header_key(void **state)
{
    (void)state;
    char k[65];
    tocsin_import_header_key(" First_Name ", 12, k);
    assert_string_equal(k, "firstname");
    tocsin_import_header_key("Cell Phone", 10, k);
    assert_string_equal(k, "cellphone");
    tocsin_import_header_key("contact[firstName]", 18, k);
    assert_string_equal(k, "contact[firstname]");
    char long_name[80];
    memset(long_name, 'a', sizeof long_name);
    tocsin_import_header_key(long_name, sizeof long_name, k);
    assert_string_equal(k, "");
}

static void test_detect_spoke_contacts(void **state)
{
    (void)state;
    open_fixture("spoke_contacts.csv");
    const struct tocsin_import_preset *p = tocsin_import_preset_detect(&header);
    assert_string_equal(p->id, "spoke_contacts");
    struct tocsin_import_mapping m;
    tocsin_import_preset_map(p, &header, &m);
    assert_int_equal(col_of(&m, "phone"), 4);
    assert_int_equal(col_of(&m, "first_name"), 2);
    assert_int_equal(col_of(&m, "sms_status"), 8);
    assert_int_equal(col_of(&m, "external_id"), 10);
    assert_int_equal(col_of(&m, "ward"), 11); /* contact[ward]: a custom field, unwrapped */
    assert_int_equal(col_of(&m, "question 1"), 12);
    assert_string_equal(m.target[0], ""); /* campaignId: Spoke's own, dropped */
    assert_string_equal(m.target[9], ""); /* messageStatus */

    struct tocsin_import_columns cols;
    struct tocsin_import_contact c;
    char err[200];
    assert_int_equal(tocsin_import_header_mapped(&header, &m, &cols, err, sizeof err), 0);
    assert_int_equal(next_contact(&cols, &c, err, sizeof err), 0);
    assert_string_equal(c.phone, "+15055557101");
    assert_int_equal(c.opt_out, 0);
    assert_string_equal(c.fields_json, "{\"city\":\"Albuquerque\",\"state\":\"NM\",\"external_id\":"
                                       "\"sp-001\",\"ward\":\"Ward 3\",\"question 1\":\"Yes\"}");
    free(c.fields_json);
    assert_int_equal(next_contact(&cols, &c, err, sizeof err), 0);
    free(c.fields_json);
    assert_int_equal(next_contact(&cols, &c, err, sizeof err), 0); /* contact[optOut] true */
    assert_int_equal(c.opt_out, 1);
    free(c.fields_json);
}

static void test_detect_spoke_opt_outs(void **state)
{
    (void)state;
    open_fixture("spoke_opt_outs.csv");
    const struct tocsin_import_preset *p = tocsin_import_preset_detect(&header);
    assert_string_equal(p->id, "spoke_opt_outs");
    assert_int_equal(p->opt_outs, 1);
    struct tocsin_import_mapping m;
    tocsin_import_preset_map(p, &header, &m);
    assert_int_equal(col_of(&m, "phone"), 0);
    assert_string_equal(m.target[1], ""); /* an opt-out list keeps only numbers */
    assert_string_equal(m.target[2], "");
    /* Spoke's older export calls the column "number". */
    open_text("number,createdAt\n+15055557201,2024-01-01\n");
    assert_string_equal(tocsin_import_preset_detect(&header)->id, "spoke_opt_outs");
}

static void test_detect_action_network(void **state)
{
    (void)state;
    open_fixture("action_network.csv");
    const struct tocsin_import_preset *p = tocsin_import_preset_detect(&header);
    assert_string_equal(p->id, "action_network");
    struct tocsin_import_mapping m;
    tocsin_import_preset_map(p, &header, &m);
    assert_int_equal(col_of(&m, "phone"), 5);
    assert_int_equal(col_of(&m, "zip"), 4);
    assert_int_equal(col_of(&m, "sms_status"), 6);
    assert_int_equal(col_of(&m, "email"), 3);
    assert_int_equal(col_of(&m, "tags"), 7);
    assert_int_equal(col_of(&m, "can2_subscription_status"), 8); /* email's: a plain field */

    struct tocsin_import_columns cols;
    struct tocsin_import_contact c;
    char err[200];
    assert_int_equal(tocsin_import_header_mapped(&header, &m, &cols, err, sizeof err), 0);
    assert_int_equal(next_contact(&cols, &c, err, sizeof err), 0); /* subscribed */
    assert_int_equal(c.opt_out, 0);
    assert_non_null(strstr(c.fields_json, "\"tags\":\"volunteer, housing\""));
    free(c.fields_json);
    assert_int_equal(next_contact(&cols, &c, err, sizeof err), 0); /* unsubscribed */
    assert_int_equal(c.opt_out, 1);
    assert_string_equal(c.phone, "+14155557302");
    free(c.fields_json);
    assert_int_equal(next_contact(&cols, &c, err, sizeof err), 0); /* bouncing: a contact */
    assert_int_equal(c.opt_out, 0);
    free(c.fields_json);
    assert_int_equal(next_contact(&cols, &c, err, sizeof err), -1);
    assert_string_equal(err, "missing phone");
    assert_int_equal(next_contact(&cols, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "invalid zip"));
    /* Unsubscribed with a bad zip: still an opt-out, never lost to the zip. */
    assert_int_equal(next_contact(&cols, &c, err, sizeof err), 0);
    assert_int_equal(c.opt_out, 1);
    assert_string_equal(c.phone, "+14155557306");
    free(c.fields_json);
}

static void test_detect_van(void **state)
{
    (void)state;
    open_fixture("van.csv");
    const struct tocsin_import_preset *p = tocsin_import_preset_detect(&header);
    assert_string_equal(p->id, "van");
    struct tocsin_import_mapping m;
    tocsin_import_preset_map(p, &header, &m);
    assert_int_equal(col_of(&m, "phone"), 7);  /* Cell Phone */
    assert_int_equal(col_of(&m, "phone2"), 9); /* Preferred Phone */
    assert_int_equal(col_of(&m, "phone3"), 8); /* Home Phone */
    assert_int_equal(col_of(&m, "zip"), 6);
    assert_int_equal(col_of(&m, "vanid"), 0);

    struct tocsin_import_columns cols;
    struct tocsin_import_contact c;
    char err[200];
    assert_int_equal(tocsin_import_header_mapped(&header, &m, &cols, err, sizeof err), 0);
    assert_int_equal(next_contact(&cols, &c, err, sizeof err), 0);
    assert_string_equal(c.phone, "+16085557401"); /* the cell */
    assert_non_null(strstr(c.fields_json, "\"vanid\":\"100201\""));
    free(c.fields_json);
    assert_int_equal(next_contact(&cols, &c, err, sizeof err), 0);
    assert_string_equal(c.phone, "+16085557402"); /* no cell: preferred before home */
    free(c.fields_json);
    assert_int_equal(next_contact(&cols, &c, err, sizeof err), 0);
    assert_string_equal(c.phone, "+16085557493"); /* only home */
    free(c.fields_json);
    assert_int_equal(next_contact(&cols, &c, err, sizeof err), -1);
    assert_string_equal(err, "missing phone");
    /* A bad cell is refused, not silently replaced by another number. */
    assert_int_equal(next_contact(&cols, &c, err, sizeof err), -1);
}

static void test_detect_plain_and_unknown(void **state)
{
    (void)state;
    open_text("Phone,First Name,ward\n+15055557101,Ana,3\n");
    const struct tocsin_import_preset *p = tocsin_import_preset_detect(&header);
    assert_string_equal(p->id, "plain");
    struct tocsin_import_mapping m;
    tocsin_import_preset_map(p, &header, &m);
    assert_int_equal(col_of(&m, "phone"), 0);
    assert_int_equal(col_of(&m, "first_name"), 1);
    assert_int_equal(col_of(&m, "ward"), 2);
    /* A header that names nothing known: plain, with no phone to map;
     * the engine refuses it until the admin picks a column. */
    open_text("a,b\n1,2\n");
    p = tocsin_import_preset_detect(&header);
    assert_string_equal(p->id, "plain");
    tocsin_import_preset_map(p, &header, &m);
    struct tocsin_import_columns cols;
    char err[200];
    assert_int_equal(tocsin_import_header_mapped(&header, &m, &cols, err, sizeof err), -1);
    assert_non_null(strstr(err, "no column goes to \"phone\""));
    /* A VAN signature without any phone column is not taken for VAN. */
    open_text("VANID,FirstName\n1,Ana\n");
    assert_string_equal(tocsin_import_preset_detect(&header)->id, "plain");
    /* Two columns one name: the second is dropped, not a duplicate key. */
    open_text("phone,Zip,zip\n+15055557101,87101,87102\n");
    tocsin_import_preset_map(tocsin_import_preset_find("plain"), &header, &m);
    assert_string_equal(m.target[1], "zip");
    assert_string_equal(m.target[2], "");
}

static void test_mapping_refused(void **state)
{
    (void)state;
    struct tocsin_import_mapping m = {.ncols = 2};
    struct tocsin_import_columns cols;
    char err[200];
    open_text("a,b,c\n1,2,3\n");
    snprintf(m.target[0], sizeof m.target[0], "phone");
    assert_int_equal(tocsin_import_header_mapped(&header, &m, &cols, err, sizeof err), -1);
    assert_non_null(strstr(err, "the file has 3 columns but the mapping names 2"));
    m.ncols = 3;
    snprintf(m.target[1], sizeof m.target[1], "Phone");
    assert_int_equal(tocsin_import_header_mapped(&header, &m, &cols, err, sizeof err), -1);
    assert_non_null(strstr(err, "columns 1 and 2 both go to \"phone\""));
    snprintf(m.target[1], sizeof m.target[1], "ward");
    assert_int_equal(tocsin_import_header_mapped(&header, &m, &cols, err, sizeof err), 0);
    assert_int_equal(cols.dropped[2], 1);
    assert_int_equal(tocsin_import_target_check("ward", err, sizeof err), 0);
    assert_int_equal(tocsin_import_target_check("", err, sizeof err), 0);
    assert_int_equal(tocsin_import_target_check("a\tb", err, sizeof err), -1);
    assert_int_equal(tocsin_import_target_check("caf\xe9", err, sizeof err), -1);
    assert_int_equal(tocsin_import_target_check(" x", err, sizeof err), -1);
    char long_name[70];
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    assert_int_equal(tocsin_import_target_check(long_name, err, sizeof err), -1);
    assert_null(tocsin_import_preset_find("nope"));
    assert_null(tocsin_import_preset_find(NULL));
}

static void test_opted_out_values(void **state)
{
    (void)state;
    assert_true(tocsin_import_opted_out_value(" Unsubscribed ", 14));
    assert_true(tocsin_import_opted_out_value("true", 4));
    assert_true(tocsin_import_opted_out_value("Opt-Out", 7));
    assert_false(tocsin_import_opted_out_value("subscribed", 10));
    assert_false(tocsin_import_opted_out_value("false", 5));
    assert_false(tocsin_import_opted_out_value("bouncing", 8));
    assert_false(tocsin_import_opted_out_value("", 0));
    assert_false(tocsin_import_opted_out_value("unsubscribedx", 13));
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
        cmocka_unit_test(test_header_key),
        cmocka_unit_test(test_detect_spoke_contacts),
        cmocka_unit_test(test_detect_spoke_opt_outs),
        cmocka_unit_test(test_detect_action_network),
        cmocka_unit_test(test_detect_van),
        cmocka_unit_test(test_detect_plain_and_unknown),
        cmocka_unit_test(test_mapping_refused),
        cmocka_unit_test(test_opted_out_values),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
