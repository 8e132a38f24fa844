/* SPDX-License-Identifier: AGPL-3.0-or-later
 * fuzz_import_presets.c — arbitrary bytes as an export someone moves in
 * with: the preset detected from its header is one of the table's, its
 * mapping has one target per column, never two columns on one name and
 * no target over 64 bytes; read through the mapping, every row either is
 * refused with a reason or gives a number in E.164 with fields as a JSON
 * object (lib/import_presets, lib/contacts_import_row). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "import_presets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct tocsin_csv csv; /* a 64 KiB buffer: not on the stack */
    static struct tocsin_import_mapping m;
    static struct tocsin_import_columns cols;
    struct tocsin_csv_row row;
    char err[200];
    tocsin_csv_init_mem(&csv, data, size);
    if (tocsin_csv_next(&csv, &row, err, sizeof err) != TOCSIN_CSV_ROW)
        goto out;
    const struct tocsin_import_preset *p = tocsin_import_preset_detect(&row);
    if (!p || tocsin_import_preset_find(p->id) != p)
        abort(); /* always a row of the table */
    tocsin_import_preset_map(p, &row, &m);
    if (m.ncols != row.nfields)
        abort();
    for (size_t i = 0; i < m.ncols; i++) {
        if (strlen(m.target[i]) > 64)
            abort();
        for (size_t j = 0; m.target[i][0] && j < i; j++)
            if (strcmp(m.target[i], m.target[j]) == 0)
                abort(); /* two columns on one name */
    }
    if (tocsin_import_header_mapped(&row, &m, &cols, err, sizeof err) != 0)
        goto out;
    for (int n = 0; n < 50; n++) {
        int rc = tocsin_csv_next(&csv, &row, err, sizeof err);
        if (rc == TOCSIN_CSV_EOF || rc == TOCSIN_CSV_FATAL)
            break;
        if (rc != TOCSIN_CSV_ROW)
            continue;
        struct tocsin_import_contact c;
        if (tocsin_import_row(&cols, &row, "US", &c, err, sizeof err) != 0) {
            if (!err[0])
                abort(); /* a refusal always says why */
            continue;
        }
        if (c.phone[0] != '+' || !c.fields_json || c.fields_json[0] != '{')
            abort();
        free(c.fields_json);
    }
out:
    tocsin_csv_free(&csv);
    return 0;
}
