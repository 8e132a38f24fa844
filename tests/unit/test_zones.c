/* SPDX-License-Identifier: AGPL-3.0-or-later
 * test_zones.c — the place -> zones table behind quiet hours: geocoder
 * descriptions map to the right place, split states list every zone,
 * Florida and Oklahoma end at 20:00, NANP area codes resolve through the
 * geocoder, and every table entry is well formed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "zones.h"

static const struct tocsin_place_zones *place(const char *d)
{
    const struct tocsin_place_zones *p = tocsin_zones_for_place(d);
    if (!p)
        fail_msg("no place for \"%s\"", d);
    return p;
}

static void test_descriptions(void **state)
{
    (void)state;
    assert_string_equal(place("Florida")->zones, "{America/New_York,America/Chicago}");
    assert_int_equal(place("Florida")->quiet_end_hour, 20);
    assert_int_equal(place("Miami, FL")->quiet_end_hour, 20);
    assert_int_equal(place("Oklahoma")->quiet_end_hour, 20);
    assert_int_equal(place("Tulsa, OK")->quiet_end_hour, 20);
    assert_string_equal(place("Oklahoma")->zones, "{America/Chicago}");
    assert_int_equal(place("New York, NY")->quiet_end_hour, 21);
    assert_string_equal(place("New York, NY")->zones, "{America/New_York}");
    assert_string_equal(place("Texas")->zones, "{America/Chicago,America/Denver}");
    assert_string_equal(place("Indiana")->zones, "{America/Indiana/Indianapolis,America/Chicago}");
    assert_string_equal(place("Kentucky")->zones, "{America/New_York,America/Chicago}");
    assert_string_equal(place("Tennessee")->zones, "{America/New_York,America/Chicago}");
    assert_string_equal(place("Ontario")->zones, "{America/Toronto,America/Winnipeg}");
    assert_string_equal(place("Toronto, ON")->name, "Ontario");
    assert_string_equal(place("Puerto Rico")->zones, "{America/Puerto_Rico}");
    assert_string_equal(place("Jamaica")->zones, "{America/Jamaica}");
    assert_null(tocsin_zones_for_place(""));
    assert_null(tocsin_zones_for_place(NULL));
    assert_null(tocsin_zones_for_place("United States"));
    assert_null(tocsin_zones_for_place("Springfield, ZZ"));
    assert_null(tocsin_zones_for_place("Atlantis"));
}

static void test_area_codes(void **state)
{
    (void)state;
    const struct tocsin_place_zones *p = tocsin_zones_for_npa(305); /* Miami */
    assert_non_null(p);
    assert_string_equal(p->name, "Florida");
    assert_int_equal(p->quiet_end_hour, 20);
    p = tocsin_zones_for_npa(850); /* the panhandle, partly Central */
    assert_non_null(p);
    assert_string_equal(p->zones, "{America/New_York,America/Chicago}");
    p = tocsin_zones_for_npa(405); /* Oklahoma City */
    assert_non_null(p);
    assert_int_equal(p->quiet_end_hour, 20);
    p = tocsin_zones_for_npa(212);
    assert_non_null(p);
    assert_string_equal(p->zones, "{America/New_York}");
    p = tocsin_zones_for_npa(808);
    assert_non_null(p);
    assert_string_equal(p->zones, "{Pacific/Honolulu}");
    p = tocsin_zones_for_npa(416);
    assert_non_null(p);
    assert_string_equal(p->name, "Ontario");
    assert_null(tocsin_zones_for_npa(800)); /* toll free: no place */
    assert_null(tocsin_zones_for_npa(199));
    assert_null(tocsin_zones_for_npa(1000));
    int mapped = 0;
    for (int npa = 200; npa <= 999; npa++)
        mapped += tocsin_zones_for_npa(npa) != NULL;
    if (mapped < 380) /* 409 with libphonenumber 8.12 */
        fail_msg("only %d area codes mapped", mapped);
}

/* "{Zone,Zone}" with 1..8 names of letters, digits, / _ - +. */
static void check_zones(const char *what, const char *z, int end)
{
    size_t n = strlen(z), count = 1;
    if (n < 3 || z[0] != '{' || z[n - 1] != '}')
        fail_msg("%s: malformed zones \"%s\"", what, z);
    for (size_t i = 1; i + 1 < n; i++) {
        char c = z[i];
        if (c == ',') {
            count++;
            if (z[i - 1] == ',' || z[i - 1] == '{' || z[i + 1] == '}')
                fail_msg("%s: empty zone in \"%s\"", what, z);
        } else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                     c == '/' || c == '_' || c == '-' || c == '+'))
            fail_msg("%s: bad character in \"%s\"", what, z);
    }
    if (count > 8)
        fail_msg("%s: %zu zones (at most 8)", what, count);
    if (end != 20 && end != 21)
        fail_msg("%s: quiet end %d", what, end);
}

static void test_tables_well_formed(void **state)
{
    (void)state;
    size_t n;
    const struct tocsin_place_zones *p = tocsin_zones_places(&n);
    assert_true(n > 60);
    for (size_t i = 0; i < n; i++) {
        check_zones(p[i].name, p[i].zones, p[i].quiet_end_hour);
        if (p[i].abbrev && strlen(p[i].abbrev) != 2)
            fail_msg("%s: abbreviation \"%s\"", p[i].name, p[i].abbrev);
        int fl_ok =
            p[i].abbrev && (strcmp(p[i].abbrev, "FL") == 0 || strcmp(p[i].abbrev, "OK") == 0);
        if (fl_ok != (p[i].quiet_end_hour == 20))
            fail_msg("%s: quiet end %d", p[i].name, p[i].quiet_end_hour);
        for (size_t j = 0; j < i; j++)
            if (strcmp(p[i].name, p[j].name) == 0 ||
                (p[i].abbrev && p[j].abbrev && strcmp(p[i].abbrev, p[j].abbrev) == 0))
                fail_msg("%s listed twice", p[i].name);
    }
    const struct tocsin_country_zones *c = tocsin_zones_countries(&n);
    assert_true(n > 20);
    for (size_t i = 0; i < n; i++) {
        check_zones(c[i].region, c[i].zones, c[i].quiet_end_hour);
        size_t l = strlen(c[i].prefix);
        if (l < 2 || l > 4 || c[i].prefix[0] != '+' || c[i].prefix[1] == '1')
            fail_msg("%s: prefix \"%s\"", c[i].region, c[i].prefix);
        for (size_t j = 0; j < i; j++)
            if (strcmp(c[i].prefix, c[j].prefix) == 0)
                fail_msg("%s listed twice", c[i].prefix);
    }
    check_zones("nanp default", tocsin_zones_nanp_unknown.zones,
                tocsin_zones_nanp_unknown.quiet_end_hour);
    check_zones("world default", tocsin_zones_world_unknown.zones,
                tocsin_zones_world_unknown.quiet_end_hour);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_descriptions),
        cmocka_unit_test(test_area_codes),
        cmocka_unit_test(test_tables_well_formed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
