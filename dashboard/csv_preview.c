/* SPDX-License-Identifier: AGPL-3.0-or-later
 * csv_preview.c — reads the start of an uploaded CSV file for a page's
 * preview: the header, then rows up to the page's limit (csv_preview.h). */
#include "csv_preview.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dashboard.h"

/* The header and the rows into the page's callbacks, then its answer.
 * NULL with the reason in err. */
static json_t *preview(struct tocsin_csv *csv, const struct csv_preview *p, void *ctx, char *err,
                       size_t errlen)
{
    struct tocsin_csv_row row;
    char reason[200];
    int st = tocsin_csv_next(csv, &row, reason, sizeof reason);
    if (st != TOCSIN_CSV_ROW) {
        snprintf(err, errlen, "%s",
                 st == TOCSIN_CSV_EOF ? "the file is empty: a header row is required" : reason);
        return NULL;
    }
    int h = p->header(ctx, &row, err, errlen);
    if (h < 0)
        return NULL;
    for (size_t n = 0; h == 0 && n < p->max_rows;) {
        st = tocsin_csv_next(csv, &row, reason, sizeof reason);
        if (st == TOCSIN_CSV_EOF || st == TOCSIN_CSV_FATAL)
            break;
        int added = st == TOCSIN_CSV_ROW ? p->row(ctx, &row)
                    : p->bad_row         ? p->bad_row(ctx, row.line, reason)
                                         : 0;
        if (added < 0) {
            snprintf(err, errlen, "out of memory");
            return NULL;
        }
        n += (size_t)added;
    }
    return p->answer(ctx, err, errlen);
}

void csv_preview_respond(struct api_call *call, const char *text, const struct csv_preview *p,
                         void *ctx)
{
    if (!text || !*text) {
        tocsin_http_error(call->req, 400, "invalid", "%s", p->missing);
        return;
    }
    struct tocsin_csv *csv = malloc(sizeof *csv); /* 64 KiB of buffer */
    if (!csv) {
        tocsin_http_error(call->req, 500, "internal", "out of memory");
        return;
    }
    tocsin_csv_init_mem(csv, text, strlen(text));
    char err[240] = "out of memory";
    json_t *out = preview(csv, p, ctx, err, sizeof err);
    tocsin_csv_free(csv);
    free(csv);
    if (out)
        tocsin_http_respond_json(call->req, 200, out);
    else
        tocsin_http_error(call->req, 400, "invalid", "%s: %s", p->refused, err);
}
