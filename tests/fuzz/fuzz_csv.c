/* SPDX-License-Identifier: AGPL-3.0-or-later
 * fuzz_csv.c — arbitrary bytes through the CSV reader; every row it
 * returns must respect the bounds it promises. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct tocsin_csv r;
    struct tocsin_csv_row row;
    char err[128];
    tocsin_csv_init_mem(&r, data, size);
    unsigned long last_line = 0;
    for (int i = 0; i < 100000; i++) {
        int rc = tocsin_csv_next(&r, &row, err, sizeof err);
        if (rc == TOCSIN_CSV_EOF || rc == TOCSIN_CSV_FATAL)
            break;
        if (row.line < last_line)
            abort(); /* line numbers never go back */
        last_line = row.line;
        if (rc != TOCSIN_CSV_ROW)
            continue;
        if (row.nfields == 0 || row.nfields > TOCSIN_CSV_MAX_COLS)
            abort();
        for (size_t f = 0; f < row.nfields; f++)
            if (row.lens[f] > TOCSIN_CSV_MAX_FIELD || strlen(row.fields[f]) != row.lens[f])
                abort();
    }
    tocsin_csv_free(&r);
    return 0;
}
