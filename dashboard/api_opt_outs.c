/* SPDX-License-Identifier: AGPL-3.0-or-later
 * api_opt_outs.c — an admin's opt-out routes that are more than SQL: the
 * preview of an opt-out list's first rows (csv_preview.c, the one preview
 * path) with the column that looks like the numbers, the org-wide export (lib/
 * csv_write, the one CSV rule; audited), and one number's opt-out looked
 * up and undone (the number through lib/phone; the rule and the writes are
 * schema 023's). The import itself is api_import.c's job. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv_preview.h"
#include "csv_write.h"
#include "dashboard.h"
#include "phone.h"
#include "sms.h"

#define PREVIEW_ROWS 5
#define UNDO_REASON_MIN 5
#define UNDO_REASON_MAX 500
#define OPT_OUT_EXPORT_MAX_BYTES (256u << 20) /* two million numbers fit */

/* --- preview --- */

/* A header name that says "phone number" in the exports people have
 * (Spoke: cell; Action Network: phone_number; VAN: Cell Phone...). */
static int phone_like_name(const char *name, size_t len)
{
    static const char *const words[] = {"phone", "cell", "mobile", "number", "tel", "msisdn"};
    char low[65];
    if (len > 64)
        return 0;
    for (size_t i = 0; i < len; i++)
        low[i] = (name[i] >= 'A' && name[i] <= 'Z') ? (char)(name[i] + 32) : name[i];
    low[len] = '\0';
    for (size_t w = 0; w < ARRAY_SIZE(words); w++)
        if (strstr(low, words[w]))
            return 1;
    return 0;
}

static int valid_utf8(const char *s, size_t len)
{
    struct tocsin_sms_info info;
    return tocsin_sms_count(s, len, &info) == 0;
}

/* The preview's rows as they are read (csv_preview.h): the header's
 * names, each row's values (cut to 200 bytes, "" when not text) and line,
 * and the column that looks like the numbers: by its name, else the first
 * whose value reads as a phone number in region (api_import_region(): the
 * org's, as the import's; the answer names it). */
struct opt_out_preview {
    json_t *columns, *rows, *lines;
    const char *region;
    size_t ncols;
    int suggested, by_value;
};

static int preview_header(void *ctx, const struct tocsin_csv_row *row, char *err, size_t errlen)
{
    struct opt_out_preview *o = ctx;
    o->ncols = row->nfields;
    for (size_t i = 0; i < row->nfields; i++) {
        if (!valid_utf8(row->fields[i], row->lens[i])) {
            snprintf(err, errlen, "header column %zu is not UTF-8 text", i + 1);
            return -1;
        }
        if (json_array_append_new(o->columns, json_stringn(row->fields[i], row->lens[i]))) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        if (o->suggested < 0 && phone_like_name(row->fields[i], row->lens[i]))
            o->suggested = (int)i;
    }
    return 0;
}

static int preview_row(void *ctx, const struct tocsin_csv_row *row)
{
    struct opt_out_preview *o = ctx;
    json_t *r = json_array();
    for (size_t i = 0; r && i < row->nfields && i < o->ncols; i++) {
        const char *v = valid_utf8(row->fields[i], row->lens[i]) ? row->fields[i] : "";
        size_t n = *v ? row->lens[i] : 0;
        json_array_append_new(r, json_stringn(v, n > 200 ? 200 : n));
        char e164[TOCSIN_E164_MAX + 1], why[120];
        if (o->by_value < 0 && n && n <= 64 &&
            tocsin_phone_normalize(v, n, o->region, e164, why, sizeof why) == 0)
            o->by_value = (int)i;
    }
    if (!r || json_array_append_new(o->rows, r) ||
        json_array_append_new(o->lines, json_integer((json_int_t)row->line)))
        return -1;
    return 1;
}

static json_t *preview_answer(void *ctx, char *err, size_t errlen)
{
    struct opt_out_preview *o = ctx;
    int suggested = o->suggested >= 0 ? o->suggested : o->by_value;
    json_t *out = json_pack(
        "{s:O, s:O, s:O, s:o, s:s}", "columns", o->columns, "rows", o->rows, "lines", o->lines,
        "suggested", suggested >= 0 ? json_integer(suggested) : json_null(), "region", o->region);
    if (!out)
        snprintf(err, errlen, "out of memory");
    return out;
}

/* Field: csv (the start of the file): its header and up to PREVIEW_ROWS
 * rows, rows the reader refuses left out. */
void api_opt_out_preview(struct api_call *call)
{
    static const struct csv_preview how = {
        .max_rows = PREVIEW_ROWS,
        .header = preview_header,
        .row = preview_row,
        .answer = preview_answer,
        .missing = "choose a CSV file of opted-out numbers",
        .refused = "this file cannot be read as CSV",
    };
    struct opt_out_preview o = {.columns = json_array(),
                                .rows = json_array(),
                                .lines = json_array(),
                                .region = api_import_region(call),
                                .suggested = -1,
                                .by_value = -1};
    if (!o.columns || !o.rows || !o.lines)
        tocsin_http_error(call->req, 500, "internal", "out of memory");
    else
        csv_preview_respond(call, call->params[3], &how, &o);
    json_decref(o.columns);
    json_decref(o.rows);
    json_decref(o.lines);
}

/* --- export --- */

static void export_rows(const struct tocsin_db_result *r, void *ctx)
{
    struct api_call *call = ctx;
    if (r->error) {
        api_db_error(call, "opt-out export", r->error);
        return;
    }
    static const char *const header[] = {"phone", "opted_out_at", "source", "keyword", "evidence"};
    struct tocsin_dynbuf b;
    tocsin_dynbuf_init(&b, OPT_OUT_EXPORT_MAX_BYTES);
    int bad = tocsin_csv_append_row(&b, header, ARRAY_SIZE(header));
    for (int i = 0; i < PQntuples(r->res) && !bad; i++) {
        const char *cells[ARRAY_SIZE(header)];
        for (int c = 0; c < (int)ARRAY_SIZE(header); c++)
            cells[c] = PQgetisnull(r->res, i, c) ? NULL : PQgetvalue(r->res, i, c);
        bad = tocsin_csv_append_row(&b, cells, ARRAY_SIZE(header));
    }
    if (bad) {
        tocsin_dynbuf_free(&b);
        tocsin_http_error(call->req, 500, "internal", "could not build the export");
        return;
    }
    api_respond_csv(call, "opt-outs.csv", &b);
}

/* Every opt-out of the org, oldest first: the number, when, its source,
 * the word the member texted (keyword source) and the evidence (the
 * inbound message, carrier error, user, or the import batch and its
 * file). The export is audited in the same statement. */
void api_opt_out_export(struct api_call *call)
{
    static const char sql[] =
        "WITH x AS (SELECT o.phone, to_char(o.opted_out_at AT TIME ZONE 'UTC',"
        "                  'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS at, o.source,"
        "                  CASE WHEN o.source = 'keyword' THEN left(i.body, 60) END AS keyword,"
        "                  CASE WHEN b.id IS NOT NULL THEN o.evidence || ' (' || b.filename || ')'"
        "                       ELSE o.evidence END AS evidence, o.opted_out_at"
        "             FROM opt_outs o"
        /* The casts inside CASE: a join's conditions run in any order,
         * and "import:12"::bigint fails the whole export. */
        "             LEFT JOIN inbound_messages i ON o.source = 'keyword' AND i.org_id = o.org_id"
        "                  AND i.id = CASE WHEN o.evidence ~ '^[0-9]{1,18}$' THEN o.evidence::bigint END"
        "             LEFT JOIN import_batches b ON o.source = 'import' AND b.org_id = o.org_id"
        "                  AND b.id = CASE WHEN o.evidence ~ '^import:[0-9]{1,18}$'"
        "                                  THEN substr(o.evidence, 8)::bigint END"
        "            WHERE o.org_id = $1::bigint),"
        " a AS (INSERT INTO audit_events (org_id, user_id, action, subject_type, details)"
        "       SELECT $1::bigint, $2::bigint, 'opt_outs.export', 'org',"
        "              jsonb_build_object('rows', (SELECT count(*) FROM x)))"
        "SELECT phone, at, source, keyword, evidence FROM x ORDER BY opted_out_at, phone";
    const char *params[] = {call->org_id, call->user_id};
    if (tocsin_db_query(call->dash->d->db, sql, 2, params, export_rows, call) != 0)
        tocsin_http_error(call->req, 503, "unavailable", "the dashboard is shutting down");
}

/* --- one number: look up, undo --- */

/* Field: phone. Always 200 with opted_out true or false (the number's
 * history in this org only). */
void api_opt_out_lookup(struct api_call *call)
{
    if (api_add_phone(call, call->params[3]) != 0)
        return;
    api_run_sql(call, "SELECT 200, tocsin_opt_out_show($1::bigint, $5::text)");
}

/* Fields: phone, reason (what happened, 5 to 500 characters; kept in the
 * consent history and the audit log). */
void api_opt_out_undo(struct api_call *call)
{
    const char *reason = call->params[4];
    size_t n = reason ? strlen(reason) : 0;
    struct tocsin_sms_info info;
    if (n < UNDO_REASON_MIN || n > UNDO_REASON_MAX || tocsin_sms_count(reason, n, &info) != 0) {
        tocsin_http_error(
            call->req, 400, "invalid",
            "say why this opt-out is undone (%d to %d characters): it is kept with the "
            "number's history",
            UNDO_REASON_MIN, UNDO_REASON_MAX);
        return;
    }
    if (api_add_phone(call, call->params[3]) != 0)
        return;
    api_run_sql(call,
                "SELECT status, body FROM tocsin_opt_out_undo($1::bigint, $2::bigint, $6::text,"
                " $5::text)");
}
