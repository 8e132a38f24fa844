/* SPDX-License-Identifier: AGPL-3.0-or-later
 * api_leads.c — a campaign lead's routes that are more than one SQL
 * statement: a list's CSV export (the formula guard of lib/csv_write),
 * saving an opt-in keyword (checked by lib/keyword_rules, as `tocsinctl
 * keyword add` is) and the stats page's window. The blasts and audiences
 * are SQL (api_leads_sql.h, schema/functions/leads.sql); imports are
 * api_import.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv_write.h"
#include "dashboard.h"
#include "keyword_rules.h"

/* --- export --- */

/* The export statement's columns, by name: the import's own, then
 * "fields" (JSON) whose keys become more columns. */
static const char *const export_columns[] = {"phone", "first_name", "last_name", "zip", "timezone"};
#define EXPORT_KNOWN ARRAY_SIZE(export_columns)
#define EXPORT_MAX_EXTRA 64
#define EXPORT_MAX_BYTES (512u << 20) /* a million members with fields fit */

/* The keys of every member's fields (object of key -> true), the extra
 * columns after the known ones; at most EXPORT_MAX_EXTRA. */
static json_t *extra_columns(PGresult *res, int fields_col, json_t **rows)
{
    json_t *keys = json_object();
    for (int i = 0; keys && i < PQntuples(res); i++) {
        rows[i] = PQgetisnull(res, i, fields_col)
                      ? NULL
                      : json_loads(PQgetvalue(res, i, fields_col), 0, NULL);
        const char *k;
        json_t *v;
        json_object_foreach(rows[i], k, v)
        {
            if (json_object_size(keys) < EXPORT_MAX_EXTRA)
                json_object_set_new(keys, k, json_true());
        }
    }
    return keys;
}

/* A member's field as a cell's text: strings as they are, numbers and
 * booleans as JSON writes them (into num), anything else empty. */
static const char *field_text(json_t *fields, const char *key, char *num, size_t numsize)
{
    json_t *v = json_object_get(fields, key);
    if (json_is_string(v))
        return json_string_value(v);
    if (!json_is_number(v) && !json_is_boolean(v))
        return NULL;
    char *dumped = json_dumps(v, JSON_ENCODE_ANY);
    snprintf(num, numsize, "%s", dumped ? dumped : "");
    free(dumped);
    return num;
}

static int write_export(struct tocsin_dynbuf *b, PGresult *res)
{
    int n = PQntuples(res), bad = 0;
    int col[EXPORT_KNOWN], fields_col = PQfnumber(res, "fields");
    if (fields_col < 0 || dash_columns(res, export_columns, EXPORT_KNOWN, col))
        return -1;
    json_t **rows = calloc((size_t)n + 1, sizeof *rows);
    json_t *keys = rows ? extra_columns(res, fields_col, rows) : NULL;
    const char *k, *cells[EXPORT_KNOWN + EXPORT_MAX_EXTRA];
    char nums[EXPORT_MAX_EXTRA][64];
    json_t *v;
    size_t ncells = 0;
    if (!rows || !keys) {
        bad = 1;
        goto out;
    }
    for (size_t c = 0; c < EXPORT_KNOWN; c++)
        cells[ncells++] = export_columns[c];
    json_object_foreach(keys, k, v) cells[ncells++] = k;
    bad = tocsin_csv_append_row(b, cells, ncells);
    for (int i = 0; i < n && !bad; i++) {
        if (PQgetisnull(res, i, col[0])) /* the list's row with no member */
            continue;
        ncells = 0;
        for (size_t c = 0; c < EXPORT_KNOWN; c++)
            cells[ncells++] = PQgetisnull(res, i, col[c]) ? NULL : PQgetvalue(res, i, col[c]);
        json_object_foreach(keys, k, v)
        {
            cells[ncells] = field_text(rows[i], k, nums[ncells - EXPORT_KNOWN], sizeof nums[0]);
            ncells++;
        }
        bad = tocsin_csv_append_row(b, cells, ncells);
    }
out:
    for (int i = 0; rows && i < n; i++)
        json_decref(rows[i]);
    free(rows);
    json_decref(keys);
    return bad ? -1 : 0;
}

static void export_rows(const struct tocsin_db_result *r, void *ctx)
{
    struct api_call *call = ctx;
    if (r->error) {
        api_db_error(call, "export", r->error);
        return;
    }
    if (PQntuples(r->res) == 0) {
        tocsin_http_error(call->req, 404, "not_found", "no such list");
        return;
    }
    struct tocsin_dynbuf b;
    tocsin_dynbuf_init(&b, EXPORT_MAX_BYTES);
    if (write_export(&b, r->res)) {
        tocsin_dynbuf_free(&b);
        tocsin_http_error(call->req, 500, "internal", "could not build the export");
        return;
    }
    char name[64];
    snprintf(name, sizeof name, "list-%s.csv", call->params[3]);
    api_respond_csv(call, name, &b);
}

/* Who a blast to the list would reach (tocsin_lead_audience: subscribed,
 * not opted out), in the import's columns so an export imports back;
 * audited with its count in the same statement (an export above the
 * org's alert_export_over raises an alert: schema/functions/audit.sql). */
void api_list_export(struct api_call *call)
{
    static const char sql[] =
        "WITH r AS (SELECT c.id, c.phone, c.first_name, c.last_name, c.zip, c.timezone, c.fields"
        "  FROM lists l LEFT JOIN LATERAL (SELECT c.* FROM tocsin_lead_audience($1::bigint, l.id) a"
        "                                   JOIN contacts c ON c.id = a.contact_id) c ON true"
        " WHERE l.id = $2::bigint AND l.org_id = $1::bigint),"
        " a AS (INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)"
        "       SELECT $1::bigint, $3::bigint, 'list.export', 'list', $2::bigint,"
        "              jsonb_build_object('rows', count(r.phone)) FROM r HAVING count(*) > 0)"
        "SELECT phone, first_name, last_name, zip, timezone, fields::text FROM r ORDER BY id";
    const char *params[] = {call->org_id, call->params[3], call->user_id};
    if (tocsin_db_query(call->dash->d->db, sql, 3, params, export_rows, call) != 0)
        tocsin_http_error(call->req, 503, "unavailable", "the dashboard is shutting down");
}

/* --- keywords --- */

static const char keyword_save_sql[] =
    "WITH l AS (SELECT id FROM lists WHERE org_id = $1::bigint AND id = $6::bigint),"
    " s AS (SELECT id FROM senders WHERE org_id = $1::bigint AND id = $8::bigint),"
    " ok AS (SELECT l.id AS list_id, (SELECT id FROM s) AS sender_id FROM l"
    "         WHERE $8::text IS NULL OR EXISTS (SELECT 1 FROM s)),"
    " ins AS (INSERT INTO keywords (org_id, sender_id, list_id, keyword, pattern, reply)"
    "         SELECT $1::bigint, ok.sender_id, ok.list_id, $4::text, $5::text, $7::text FROM ok"
    "          WHERE $9::bigint IS NULL RETURNING id, keyword, list_id),"
    " upd AS (UPDATE keywords k SET keyword = $4::text, pattern = $5::text, list_id = ok.list_id,"
    "                sender_id = ok.sender_id, reply = $7::text"
    "           FROM ok WHERE k.id = $9::bigint AND k.org_id = $1::bigint"
    "         RETURNING k.id, k.keyword, k.list_id),"
    " r AS (SELECT * FROM ins UNION ALL SELECT * FROM upd),"
    " a AS (INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)"
    "       SELECT $1::bigint, $2::bigint, CASE WHEN $9::bigint IS NULL THEN 'keyword.create'"
    "              ELSE 'keyword.update' END, 'keyword', id,"
    "              jsonb_build_object('keyword', keyword, 'list_id', list_id) FROM r)"
    "SELECT CASE WHEN r.id IS NOT NULL THEN CASE WHEN $9::bigint IS NULL THEN 201 ELSE 200 END"
    "            WHEN NOT EXISTS (SELECT 1 FROM ok) THEN 400 ELSE 404 END,"
    "       CASE WHEN r.id IS NOT NULL THEN json_build_object('id', r.id, 'keyword', r.keyword,"
    "                                                         'list_id', r.list_id)"
    "            WHEN NOT EXISTS (SELECT 1 FROM l)"
    "            THEN tocsin_api_error(400, 'invalid', 'that list does not exist')"
    "            WHEN NOT EXISTS (SELECT 1 FROM ok)"
    "            THEN tocsin_api_error(400, 'invalid', 'that sender does not exist')"
    "            ELSE tocsin_api_error(404, 'not_found', 'no such keyword') END"
    "  FROM (SELECT 1) one LEFT JOIN r ON true";

static int is_id(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 18 || s[0] == '0')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static void keyword_org_found(const struct tocsin_db_result *r, void *ctx)
{
    struct api_call *call = ctx;
    if (r->error) {
        api_db_error(call, "keyword", r->error);
        return;
    }
    int name_col = PQfnumber(r->res, "name");
    const char *org_name =
        PQntuples(r->res) && name_col >= 0 ? PQgetvalue(r->res, 0, name_col) : "";
    /* The route's fields: keyword, pattern, list_id, reply, sender_id. */
    const char *path_id = call->nparams == 9 ? call->params[3] : NULL;
    int f = path_id ? 4 : 3;
    const char *keyword = call->params[f], *pattern = call->params[f + 1],
               *list = call->params[f + 2], *reply = call->params[f + 3],
               *sender = call->params[f + 4];
    struct tocsin_keyword_checked *ok =
        tocsin_arena_alloc(tocsin_http_arena(call->req), sizeof *ok);
    char err[300];
    if (!ok) {
        tocsin_http_error(call->req, 500, "internal", "out of memory");
        return;
    }
    if (pattern && !*pattern)
        pattern = NULL;
    if (sender && !*sender)
        sender = NULL;
    if (!list || !is_id(list)) {
        tocsin_http_error(call->req, 400, "invalid",
                          "pick the list that members who text the keyword join");
        return;
    }
    if (sender && !is_id(sender)) {
        tocsin_http_error(call->req, 400, "invalid", "invalid sender_id \"%.20s\"", sender);
        return;
    }
    if (tocsin_keyword_rules_check(keyword ? keyword : "", pattern, reply ? reply : "", org_name,
                                   ok, err, sizeof err) != 0) {
        tocsin_http_error(call->req, 400, "invalid", "%s", err);
        return;
    }
    call->nparams = 3;
    api_add_param(call, ok->keyword);
    api_add_param(call, ok->pattern);
    api_add_param(call, list);
    api_add_param(call, reply);
    api_add_param(call, sender);
    api_add_param(call, path_id);
    api_run_sql(call, keyword_save_sql);
}

/* POST /api/keywords and /api/keywords/:id: the org's name first (the
 * confirmation must carry it), then the checks, then one statement that
 * saves and audits. */
void api_keyword_save(struct api_call *call)
{
    const char *params[] = {call->org_id};
    if (tocsin_db_query(call->dash->d->db, "SELECT name FROM orgs WHERE id = $1::bigint", 1, params,
                        keyword_org_found, call) != 0)
        tocsin_http_error(call->req, 503, "unavailable", "the dashboard is shutting down");
}

/* --- stats --- */

/* GET /api/stats?days=N (1 to 90, default 7): replies counted within N
 * days of a blast's start, keyword subscribers of the last N days. */
void api_stats(struct api_call *call)
{
    struct tocsin_kv *pairs;
    size_t n;
    char err[100], days[8] = "7";
    if (tocsin_http_form(call->req, 1, &pairs, &n, err, sizeof err) != 0) {
        tocsin_http_error(call->req, 400, "invalid", "%s", err);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (!tocsin_str_eq(pairs[i].key, TSTR("days")))
            continue;
        tocsin_str v = pairs[i].value;
        long d = 0;
        for (size_t j = 0; j < v.len && d <= 90; j++)
            d = v.base[j] >= '0' && v.base[j] <= '9' ? d * 10 + (v.base[j] - '0') : 1000;
        if (v.len == 0 || d < 1 || d > 90) {
            tocsin_http_error(call->req, 400, "invalid", "invalid days \"%.*s\": 1 to 90",
                              (int)(v.len > 10 ? 10 : v.len), v.base);
            return;
        }
        snprintf(days, sizeof days, "%ld", d);
    }
    api_add_param(call, days);
    api_run_sql(call, "SELECT * FROM tocsin_lead_stats($1::bigint, $4::int)");
}
