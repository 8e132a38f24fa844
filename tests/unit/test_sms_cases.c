/* SPDX-License-Identifier: AGPL-3.0-or-later
 * test_sms_cases.c — lib/sms.c against the cases the dashboard's
 * JavaScript counter is tested with too (sms_cases.json), so the number
 * a volunteer sees while typing is the number the worker bills. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "sms.h"

static void test_shared_cases(void **state)
{
    (void)state;
    const char *src = getenv("TOCSIN_SOURCE_DIR");
    assert_non_null(src);
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/unit/sms_cases.json", src);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root)
        fail_msg("cannot read %s: %s", path, jerr.text);
    json_t *cases = json_object_get(root, "cases");
    assert_true(json_array_size(cases) >= 20);
    size_t i;
    json_t *c;
    json_array_foreach(cases, i, c)
    {
        char body[8192];
        size_t len = 0, j;
        json_t *part;
        json_array_foreach(json_object_get(c, "parts"), j, part)
        {
            const char *t = json_string_value(json_array_get(part, 0));
            size_t tl = strlen(t);
            for (json_int_t k = 0; k < json_integer_value(json_array_get(part, 1)); k++) {
                assert_true(len + tl < sizeof body);
                memcpy(body + len, t, tl);
                len += tl;
            }
        }
        struct tocsin_sms_info info;
        assert_int_equal(tocsin_sms_count(body, len, &info), 0);
        const char *enc = json_string_value(json_object_get(c, "encoding"));
        if (strcmp(tocsin_sms_encoding_name(info.encoding), enc) != 0 ||
            info.units != (size_t)json_integer_value(json_object_get(c, "units")) ||
            info.segments != (size_t)json_integer_value(json_object_get(c, "segments")) ||
            info.chars != (size_t)json_integer_value(json_object_get(c, "chars")))
            fail_msg("case %zu: got %s units=%zu segments=%zu chars=%zu", i,
                     tocsin_sms_encoding_name(info.encoding), info.units, info.segments,
                     info.chars);
    }
    json_decref(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
