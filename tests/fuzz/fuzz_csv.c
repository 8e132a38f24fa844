/* SPDX-License-Identifier: AGPL-3.0-or-later
 * fuzz_csv.c — arbitrary bytes through the CSV reader: every row it returns
 * respects the bounds it promises, line numbers never go back, and the
 * FILE reader (64 KiB blocks) and the memory reader agree on every result. */
#define _GNU_SOURCE /* fmemopen */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

static void check_row(int rc, const struct tocsin_csv_row *row, unsigned long *last_line)
{
    if (rc == TOCSIN_CSV_EOF || rc == TOCSIN_CSV_FATAL)
        return;
    if (row->line < *last_line)
        abort(); /* line numbers never go back */
    *last_line = row->line;
    if (rc != TOCSIN_CSV_ROW)
        return;
    if (row->nfields == 0 || row->nfields > TOCSIN_CSV_MAX_COLS)
        abort();
    size_t total = 0;
    for (size_t f = 0; f < row->nfields; f++) {
        if (row->lens[f] > TOCSIN_CSV_MAX_FIELD || strlen(row->fields[f]) != row->lens[f])
            abort();
        total += row->lens[f] + 1;
    }
    if (total > TOCSIN_CSV_MAX_RECORD)
        abort();
}

static int same_row(const struct tocsin_csv_row *a, const struct tocsin_csv_row *b)
{
    if (a->line != b->line || a->nfields != b->nfields)
        return 0;
    for (size_t f = 0; f < a->nfields; f++)
        if (a->lens[f] != b->lens[f] || memcmp(a->fields[f], b->fields[f], a->lens[f]) != 0)
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct tocsin_csv mem, file; /* 64 KiB buffers each: not on the stack */
    struct tocsin_csv_row a, b;
    char err_a[128], err_b[128];
    FILE *f = size ? fmemopen((void *)data, size, "rb") : NULL;
    tocsin_csv_init_mem(&mem, data, size);
    tocsin_csv_init_file(&file, f);
    unsigned long last_line = 0;
    for (int i = 0; i < 100000; i++) {
        int rc = tocsin_csv_next(&mem, &a, err_a, sizeof err_a);
        check_row(rc, &a, &last_line);
        if (f) {
            int rc_file = tocsin_csv_next(&file, &b, err_b, sizeof err_b);
            if (rc_file != rc || (rc == TOCSIN_CSV_ROW && !same_row(&a, &b)) ||
                (rc < 0 && strcmp(err_a, err_b) != 0))
                abort(); /* the two readers disagree */
        }
        if (rc == TOCSIN_CSV_EOF || rc == TOCSIN_CSV_FATAL)
            break;
    }
    tocsin_csv_free(&mem);
    tocsin_csv_free(&file);
    if (f)
        fclose(f);
    return 0;
}
