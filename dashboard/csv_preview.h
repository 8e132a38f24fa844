/* SPDX-License-Identifier: AGPL-3.0-or-later
 * csv_preview.h — the one way the dashboard previews an uploaded CSV file
 * (the opt-out list's page, api_opt_outs.c; Move in, api_import_upload.c).
 * The browser sends the file's first 64 KiB; its header and first rows are
 * read here with lib/csv, on the loop (a handful of records of a body the
 * server's cap already bounds). A record cut where the sent part ends, or
 * a fatal error after the header, ends the rows, not the preview. A page
 * says what it makes of the header and of each row and builds its answer;
 * the reading, the row limit and the errors are this module's. */
#ifndef DASHBOARD_CSV_PREVIEW_H
#define DASHBOARD_CSV_PREVIEW_H

#include <stddef.h>

#include <jansson.h>

#include "csv.h"

struct api_call;

struct csv_preview {
    size_t max_rows; /* rows answered at most (those row and bad_row added) */
    /* The header: 0 to read rows, 1 to answer without rows, -1 to refuse
     * the file with the reason in err. */
    int (*header)(void *ctx, const struct tocsin_csv_row *row, char *err, size_t errlen);
    /* A data row: 1 when it was added to the answer, 0 when left out, -1
     * when out of memory. */
    int (*row)(void *ctx, const struct tocsin_csv_row *row);
    /* A row the reader refused, with why: answers as row; NULL: left out. */
    int (*bad_row)(void *ctx, unsigned long line, const char *reason);
    /* The answer once the rows are read; NULL with the reason in err. */
    json_t *(*answer)(void *ctx, char *err, size_t errlen);
    const char *missing; /* the 400 when no file came: "choose a CSV file" */
    const char *refused; /* the 400's start when it is refused: "this file cannot be imported" */
};

/* Answers call with the preview of text (the request's csv field) as p
 * describes it, ctx passed to p's functions: 200 with p->answer's JSON;
 * 400 "invalid" with p->missing when text is NULL or empty, or
 * "P->REFUSED: REASON" (an empty file, a header the reader or p->header
 * refuses, out of memory); 500 when the reader cannot be allocated. */
void csv_preview_respond(struct api_call *call, const char *text, const struct csv_preview *p,
                         void *ctx);

#endif
