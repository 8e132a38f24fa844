/* SPDX-License-Identifier: AGPL-3.0-or-later
 * api_audit.c — an admin's audit screen: the page of rows its filters
 * select and their CSV export (itself audited). What the filters mean,
 * their validation and the export's audit row are
 * schema/functions/audit.sql; the alerts and settings routes are single
 * statements (api_routes.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv_write.h"
#include "dashboard.h"

#define AUDIT_VALUE_MAX 64
#define AUDIT_EXPORT_MAX_BYTES (64u << 20) /* 100,000 rows of a few hundred bytes */

static const char *const audit_filters[] = {"user", "action", "from", "to", "before", "limit"};

/* GET /api/audit?user=&action=&from=&to=&before=&limit= */
void api_audit_list(struct api_call *call)
{
    if (api_query_json_param(call, audit_filters, ARRAY_SIZE(audit_filters), AUDIT_VALUE_MAX) == 0)
        api_run_sql(call, "SELECT * FROM tocsin_audit_page($1::bigint, $4::jsonb)");
}

static void export_rows(const struct tocsin_db_result *r, void *ctx)
{
    static const char *const header[] = {"id",     "at",      "person", "email",
                                         "action", "subject", "details"};
    struct api_call *call = ctx;
    if (r->error) {
        /* The filters' own errors (a RAISE of 22023) read as the page's do. */
        if (r->raised && strcmp(r->sqlstate, "22023") == 0)
            tocsin_http_error(call->req, 400, "invalid", "%s", r->raised);
        else
            api_db_error(call, "audit export", r->error);
        return;
    }
    size_t ncols = ARRAY_SIZE(header);
    struct tocsin_dynbuf b;
    tocsin_dynbuf_init(&b, AUDIT_EXPORT_MAX_BYTES);
    int bad = PQnfields(r->res) != (int)ncols || tocsin_csv_append_row(&b, header, ncols);
    const char *row[ARRAY_SIZE(header)];
    for (int i = 0; !bad && i < PQntuples(r->res); i++) {
        for (size_t j = 0; j < ncols; j++)
            row[j] = PQgetisnull(r->res, i, (int)j) ? NULL : PQgetvalue(r->res, i, (int)j);
        bad = tocsin_csv_append_row(&b, row, ncols);
    }
    if (bad) {
        tocsin_dynbuf_free(&b);
        tocsin_http_error(call->req, 500, "internal", "could not build the export");
        return;
    }
    api_respond_csv(call, "audit.csv", &b);
}

/* GET /api/audit.csv?user=&action=&from=&to=: every row the filters
 * select (at most 100,000), and one audit row saying so. */
void api_audit_export(struct api_call *call)
{
    if (api_query_json_param(call, audit_filters, ARRAY_SIZE(audit_filters), AUDIT_VALUE_MAX) != 0)
        return;
    const char *params[] = {call->params[0], call->params[1], call->params[3]};
    if (tocsin_db_query(call->dash->d->db,
                        "SELECT * FROM tocsin_audit_export($1::bigint, $2::bigint, $3::jsonb)", 3,
                        params, export_rows, call) != 0)
        tocsin_http_error(call->req, 503, "unavailable", "the dashboard is shutting down");
}
