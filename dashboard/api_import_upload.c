/* SPDX-License-Identifier: AGPL-3.0-or-later
 * api_import_upload.c — moving in from another tool: the presets
 * (lib/import_presets), a preview of a file's first rows mapped (the
 * import engine's own row checks, so the preview says what the import
 * will do), and a large file uploaded in chunks under the request body
 * cap into PostgreSQL (schema 029; at most API_IMPORT_UPLOAD_MAX_BYTES,
 * announced first and enforced on every chunk), then imported by
 * lib/contacts_import on libuv's thread pool, under the same cap on
 * imports at once as every other import (api_import.c). The import and
 * its upload's "imported" commit in one transaction; a failed import
 * writes nothing and says why. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contacts_import.h"
#include "csv_preview.h"
#include "dashboard.h"
#include "import_presets.h"
#include "log.h"
#include "sms.h"

#define PREVIEW_ROWS 8
/* A chunk is at most 512 KiB, 699,052 characters of base64, and fits in
 * the request body cap (TOCSIN_HTTP_MAX_BODY_BYTES, 1 MiB by default) with
 * room for its JSON: the presets' answer tells the browser the size. */
#define CHUNK_BYTES_MAX (512u << 10)
#define CHUNK_BASE64_MAX 699052u
#define CHUNK_JSON_ROOM 256u

static const char *const known_targets[] = {"phone",  "phone2",     "phone3",
                                            "phone4", "first_name", "last_name",
                                            "zip",    "timezone",   "sms_status"};

/* --- presets --- */

void api_import_presets(struct api_call *call)
{
    json_t *list = json_array(), *targets = json_array();
    for (size_t i = 0; list && i < tocsin_import_presets_count(); i++) {
        const struct tocsin_import_preset *p = tocsin_import_preset_at(i);
        json_array_append_new(list, json_pack("{s:s, s:s, s:b}", "id", p->id, "label", p->label,
                                              "opt_outs", p->opt_outs));
    }
    for (size_t i = 0; targets && i < ARRAY_SIZE(known_targets); i++)
        json_array_append_new(targets, json_string(known_targets[i]));
    size_t cap = call->dash->d->cfg.http_max_body_bytes;
    size_t chunk = cap > CHUNK_JSON_ROOM ? (cap - CHUNK_JSON_ROOM) / 4 * 3 : 0;
    chunk = chunk > CHUNK_BYTES_MAX ? CHUNK_BYTES_MAX : chunk / 3 * 3;
    json_t *out =
        json_pack("{s:o*, s:o*, s:I, s:I}", "presets", list, "targets", targets, "max_bytes",
                  (json_int_t)API_IMPORT_UPLOAD_MAX_BYTES, "chunk_bytes", (json_int_t)chunk);
    if (!out) {
        tocsin_http_error(call->req, 500, "internal", "out of memory");
        return;
    }
    tocsin_http_respond_json(call->req, 200, out);
}

/* --- mapping from the browser --- */

/* Reads a mapping sent as the JSON text of an array of column targets
 * (with need_phone, one of them "phone"). Returns 0, or -1 with the
 * reason (for the admin) in err. */
static int mapping_parse(const char *text, int need_phone, struct tocsin_import_mapping *m,
                         char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *a = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    int rc = -1;
    memset(m, 0, sizeof *m);
    if (!json_is_array(a) || json_array_size(a) == 0 || json_array_size(a) > TOCSIN_CSV_MAX_COLS) {
        snprintf(err, errlen, "the column mapping must list 1 to %d columns", TOCSIN_CSV_MAX_COLS);
        goto out;
    }
    m->ncols = json_array_size(a);
    int phone = 0;
    for (size_t i = 0; i < m->ncols; i++) {
        json_t *v = json_array_get(a, i);
        const char *t = json_string_value(v);
        if (!t || strlen(t) != json_string_length(v)) {
            snprintf(err, errlen, "column %zu: the mapping must name a target or \"\"", i + 1);
            goto out;
        }
        char why[120];
        if (tocsin_import_target_check(t, why, sizeof why)) {
            snprintf(err, errlen, "column %zu: %s", i + 1, why);
            goto out;
        }
        snprintf(m->target[i], sizeof m->target[i], "%s", t);
        phone |= strcmp(t, "phone") == 0;
    }
    if (need_phone && !phone) {
        snprintf(err, errlen, "no column goes to \"phone\": pick the column of the numbers");
        goto out;
    }
    rc = 0;
out:
    json_decref(a);
    return rc;
}

static json_t *mapping_json(const struct tocsin_import_mapping *m)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < m->ncols; i++)
        json_array_append_new(a, json_string(m->target[i]));
    return a;
}

/* --- preview --- */

/* The preview as it is read (csv_preview.h): the preset (detected unless
 * preset_id names one), the mapping (the preset's unless mapping_text
 * overrides it), the header's columns with their targets, and the first
 * rows as the import will take them (its own row checks, so the preview
 * says what the import will do). */
struct import_preview {
    const char *preset_id, *mapping_text;
    const char *region; /* api_import_region(): numbers without +country */
    const struct tocsin_import_preset *preset, *detected;
    struct tocsin_import_mapping m;
    struct tocsin_import_columns cols;
    json_t *columns, *rows;
    int unusable;      /* the import would refuse the mapping ... */
    char problem[200]; /* ... for this reason */
};

/* A mapping the import would refuse (no phone column, the wrong width) is
 * still previewed: the columns, so the admin can fix it, and the problem,
 * in place of rows. */
static int preview_header(void *ctx, const struct tocsin_csv_row *row, char *err, size_t errlen)
{
    struct import_preview *v = ctx;
    v->preset = v->detected = tocsin_import_preset_detect(row);
    if (v->preset_id && *v->preset_id && !(v->preset = tocsin_import_preset_find(v->preset_id))) {
        snprintf(err, errlen, "unknown preset \"%.40s\"", v->preset_id);
        return -1;
    }
    if (v->mapping_text && *v->mapping_text) {
        if (mapping_parse(v->mapping_text, 0, &v->m, err, errlen))
            return -1;
    } else {
        tocsin_import_preset_map(v->preset, row, &v->m);
    }
    for (size_t i = 0; i < row->nfields; i++) {
        struct tocsin_sms_info info;
        int text = tocsin_sms_count(row->fields[i], row->lens[i], &info) == 0;
        json_array_append_new(v->columns,
                              json_pack("{s:s%, s:s}", "name", text ? row->fields[i] : "?",
                                        text ? row->lens[i] : 1, "target",
                                        i < v->m.ncols ? v->m.target[i] : ""));
    }
    v->unusable =
        tocsin_import_header_mapped(row, &v->m, &v->cols, v->problem, sizeof v->problem) != 0;
    return v->unusable;
}

/* One data row as the import will take it: its values by target, or the
 * reason it will be refused. */
static int preview_row(void *ctx, const struct tocsin_csv_row *row)
{
    struct import_preview *v = ctx;
    char reason[200];
    struct tocsin_import_contact c;
    json_t *r = json_pack("{s:I}", "line", (json_int_t)row->line);
    if (!r)
        return -1;
    int bad;
    if (v->preset->opt_outs) {
        memset(&c, 0, sizeof c);
        bad = tocsin_import_row_phone(&v->cols, row, v->region, c.phone, reason, sizeof reason);
        c.opt_out = 1;
    } else {
        bad = tocsin_import_row(&v->cols, row, v->region, &c, reason, sizeof reason);
    }
    if (bad) {
        json_object_set_new(r, "error", json_string(reason));
    } else {
        json_t *fields = c.fields_json ? json_loads(c.fields_json, 0, NULL) : json_object();
        json_object_set_new(r, "phone", json_string(c.phone));
        json_object_set_new(r, "first_name",
                            c.first_name ? json_string(c.first_name) : json_null());
        json_object_set_new(r, "last_name", c.last_name ? json_string(c.last_name) : json_null());
        json_object_set_new(r, "zip", c.zip[0] ? json_string(c.zip) : json_null());
        json_object_set_new(r, "timezone", c.timezone[0] ? json_string(c.timezone) : json_null());
        json_object_set_new(r, "opt_out", json_boolean(c.opt_out));
        json_object_set_new(r, "fields", fields ? fields : json_object());
        free(c.fields_json);
    }
    return json_array_append_new(v->rows, r) ? -1 : 1;
}

/* A row the reader refused: shown with its line and why. */
static int preview_bad_row(void *ctx, unsigned long line, const char *reason)
{
    struct import_preview *v = ctx;
    json_t *r = json_pack("{s:I, s:s}", "line", (json_int_t)line, "error", reason);
    return !r || json_array_append_new(v->rows, r) ? -1 : 1;
}

static json_t *preview_answer(void *ctx, char *err, size_t errlen)
{
    struct import_preview *v = ctx;
    json_t *out = json_pack("{s:s, s:s, s:s, s:b, s:O, s:O, s:o*, s:s*, s:s}", "preset",
                            v->preset->id, "label", v->preset->label, "detected", v->detected->id,
                            "opt_outs", v->preset->opt_outs, "columns", v->columns, "rows", v->rows,
                            "mapping", mapping_json(&v->m), "problem",
                            v->unusable ? v->problem : NULL, "region", v->region);
    if (!out)
        snprintf(err, errlen, "out of memory");
    return out;
}

/* Fields: csv (the file's first 64 KiB), preset (""/absent: detect),
 * mapping (the JSON text of an array of targets; ""/absent: the
 * preset's). Its header and up to PREVIEW_ROWS rows, refused ones shown
 * with their reason. */
void api_import_preview(struct api_call *call)
{
    static const struct csv_preview how = {
        .max_rows = PREVIEW_ROWS,
        .header = preview_header,
        .row = preview_row,
        .bad_row = preview_bad_row,
        .answer = preview_answer,
        .missing = "choose a CSV file",
        .refused = "this file cannot be imported",
    };
    struct import_preview *v = calloc(1, sizeof *v); /* a mapping and columns: kilobytes */
    if (v) {
        v->preset_id = call->params[4];
        v->mapping_text = call->params[5];
        v->region = api_import_region(call);
        v->columns = json_array();
        v->rows = json_array();
    }
    if (!v || !v->columns || !v->rows)
        tocsin_http_error(call->req, 500, "internal", "out of memory");
    else
        csv_preview_respond(call, call->params[3], &how, v);
    if (v) {
        json_decref(v->columns);
        json_decref(v->rows);
    }
    free(v);
}

/* --- the upload --- */

/* Fields: filename, size (bytes), preset, mapping (as for the preview;
 * required), list (contacts are subscribed to it, created if missing;
 * optional; not for an opt-out list). */
void api_import_upload_start(struct api_call *call)
{
    const char *filename = call->params[3], *size = call->params[4], *preset = call->params[5],
               *mapping = call->params[6], *list = call->params[7];
    char *end = NULL;
    long long n = size ? strtoll(size, &end, 10) : 0;
    const struct tocsin_import_preset *p = tocsin_import_preset_find(preset);
    struct tocsin_import_mapping m;
    char err[200];
    struct tocsin_sms_info info;
    size_t flen = filename ? strlen(filename) : 0;
    int fok = flen > 0 && flen <= 200 && tocsin_sms_count(filename, flen, &info) == 0;
    for (size_t i = 0; fok && i < flen; i++)
        fok = (unsigned char)filename[i] >= 0x20 && filename[i] != 0x7f;
    if (!fok) { /* kept with the batch, shown in the opt-out export */
        tocsin_http_error(call->req, 400, "invalid",
                          "name the file: 1 to 200 characters of text, no control characters");
        return;
    }
    if (!size || !end || *end || n < 1 || n > (long long)API_IMPORT_UPLOAD_MAX_BYTES) {
        tocsin_http_error(call->req, 413, "too_large",
                          "a file to import must be 1 byte to %u MiB; split a larger one",
                          API_IMPORT_UPLOAD_MAX_BYTES >> 20);
        return;
    }
    if (!p) {
        tocsin_http_error(call->req, 400, "invalid", "pick the kind of file (a preset)");
        return;
    }
    if (!mapping || mapping_parse(mapping, 1, &m, err, sizeof err)) {
        tocsin_http_error(call->req, 400, "invalid", "%s",
                          mapping ? err : "the column mapping is missing");
        return;
    }
    if (list && (strlen(list) > 200 || (p->opt_outs && *list))) {
        tocsin_http_error(call->req, 400, "invalid",
                          p->opt_outs ? "an opt-out list goes to no list"
                                      : "a list name is at most 200 characters");
        return;
    }
    api_run_sql(call, "SELECT status, body FROM tocsin_import_upload_create($1::bigint, $2::bigint,"
                      " $4::text, $6::text, $7::jsonb, $8::text, $5::bigint)");
}

static int base64_ok(const char *s, size_t *len)
{
    size_t n = strlen(s);
    *len = n;
    if (n == 0 || n % 4 || n > CHUNK_BASE64_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '+' || c == '/' ||
                 (c == '=' && i >= n - 2 && (i == n - 1 || s[n - 1] == '='));
        if (!ok)
            return 0;
    }
    return 1;
}

/* Path: the upload's id. Fields: offset (where this chunk starts), data
 * (its bytes, base64, at most 512 KiB of them). */
void api_import_upload_chunk(struct api_call *call)
{
    const char *offset = call->params[4], *data = call->params[5];
    char *end = NULL;
    long long off = offset ? strtoll(offset, &end, 10) : -1;
    size_t len;
    if (!offset || !end || *end || off < 0 || off > (long long)API_IMPORT_UPLOAD_MAX_BYTES) {
        tocsin_http_error(call->req, 400, "invalid", "the chunk's offset is missing or wrong");
        return;
    }
    if (!data || !base64_ok(data, &len)) {
        tocsin_http_error(call->req, 400, "invalid",
                          "a chunk is 1 byte to 512 KiB of the file, base64-encoded");
        return;
    }
    api_run_sql(call, "SELECT status, body FROM tocsin_import_upload_append($1::bigint, $2::bigint,"
                      " $4::bigint, $5::bigint, decode($6::text, 'base64'))");
}

/* --- the import of a complete upload --- */

#define PROGRESS_EVERY 5000 /* rows between two progress notes */

struct commit_job {
    uv_work_t work;
    PGconn *progress_conn; /* the progress notes' own connection, opened at the first */
    struct api_call *call;
    char *conninfo, *list, *filename;
    char preset[41];
    int opt_outs, chunks, rc;
    char region[3]; /* api_import_region()'s, copied */
    long long org_id, user_id, upload_id;
    struct tocsin_import_mapping mapping;
    char err[300];
    struct tocsin_import_report report;
};

static void commit_job_free(struct commit_job *j)
{
    tocsin_import_report_free(&j->report);
    free(j->conninfo);
    free(j->list);
    free(j->filename);
    free(j);
}

/* The chunks, in order, into an unnamed temporary file: one chunk in
 * memory at a time (binary results: no hex doubling). */
static FILE *spool_chunks(PGconn *conn, struct commit_job *j, char *err, size_t errlen)
{
    FILE *f = tmpfile();
    if (!f) {
        snprintf(err, errlen, "could not make a temporary file for the import");
        return NULL;
    }
    char id[24], seq[16];
    snprintf(id, sizeof id, "%lld", j->upload_id);
    for (int s = 0; s < j->chunks; s++) {
        snprintf(seq, sizeof seq, "%d", s);
        const char *p[] = {id, seq};
        PGresult *res = PQexecParams(conn,
                                     "SELECT data FROM import_upload_chunks"
                                     " WHERE upload_id = $1 AND seq = $2",
                                     2, NULL, p, NULL, NULL, 1);
        int ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
                 fwrite(PQgetvalue(res, 0, 0), 1, (size_t)PQgetlength(res, 0, 0), f) ==
                     (size_t)PQgetlength(res, 0, 0);
        PQclear(res);
        if (!ok) {
            snprintf(err, errlen, "could not read chunk %d of the upload", s + 1);
            fclose(f);
            return NULL;
        }
    }
    rewind(f);
    return f;
}

static char *report_text(const struct tocsin_import_report *r)
{
    json_t *o = api_import_report_json(r, 1);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

/* Inside the import's transaction: the upload marked imported (with its
 * report) and the import audited, or nothing at all. */
static int commit_before(PGconn *conn, const struct tocsin_import_report *rep, void *ctx, char *err,
                         size_t errlen)
{
    struct commit_job *j = ctx;
    char id[24], batch[24], org[24], user[24], details[400];
    snprintf(id, sizeof id, "%lld", j->upload_id);
    snprintf(batch, sizeof batch, "%lld", rep->batch_id);
    snprintf(org, sizeof org, "%lld", j->org_id);
    snprintf(user, sizeof user, "%lld", j->user_id);
    snprintf(details, sizeof details,
             "{\"upload\": %lld, \"preset\": \"%s\", \"rows\": %ld, \"imported\": %ld,"
             " \"updated\": %ld, \"opted_out\": %ld, \"already_opted_out\": %ld,"
             " \"rejected\": %ld, \"region\": \"%s\"}",
             j->upload_id, j->preset, rep->rows, rep->imported, rep->updated, rep->opted_out,
             rep->already_opted_out, rep->rejected, rep->region);
    char *report = report_text(rep);
    if (!report) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    const char *p[] = {id, report, batch};
    PGresult *res = PQexecParams(conn, "SELECT tocsin_import_upload_done($1, $2::jsonb, $3)", 3,
                                 NULL, p, NULL, NULL, 0);
    int ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
             strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    free(report);
    if (!ok) {
        snprintf(err, errlen, "the upload was finished by another request: nothing imported twice");
        return -1;
    }
    const char *a[] = {org, user, batch, details,
                       j->opt_outs ? "opt_outs.import" : "contacts.import"};
    res = PQexecParams(conn,
                       "INSERT INTO audit_events (org_id, user_id, action, subject_type,"
                       " subject_id, details) VALUES ($1, $2, $5, 'import_batch', $3, $4::jsonb)",
                       5, NULL, a, NULL, NULL, 0);
    ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    if (!ok) {
        snprintf(err, errlen, "the import could not be audited: nothing imported");
        return -1;
    }
    return 0;
}

/* Notes how far the import got on a second connection (the import's
 * own transaction shows nothing until it commits); a failure to note it
 * is no reason to stop the import. */
static void commit_progress(long rows, void *ctx)
{
    struct commit_job *j = ctx;
    if (!j->progress_conn)
        j->progress_conn = PQconnectdb(j->conninfo);
    if (PQstatus(j->progress_conn) != CONNECTION_OK)
        return;
    char id[24], n[24];
    snprintf(id, sizeof id, "%lld", j->upload_id);
    snprintf(n, sizeof n, "%ld", rows);
    const char *p[] = {id, n};
    PQclear(PQexecParams(j->progress_conn, "SELECT tocsin_import_upload_progress($1, $2)", 2, NULL,
                         p, NULL, NULL, 0));
}

static void commit_work(uv_work_t *w)
{
    struct commit_job *j = container_of(w, struct commit_job, work);
    PGconn *conn = PQconnectdb(j->conninfo);
    if (PQstatus(conn) != CONNECTION_OK) {
        snprintf(j->err, sizeof j->err, "the database is unavailable; try again");
        j->rc = -2;
        PQfinish(conn);
        return;
    }
    FILE *f = spool_chunks(conn, j, j->err, sizeof j->err);
    j->rc = -1;
    if (f) {
        struct tocsin_import_options o = {
            .org_id = j->org_id,
            .filename = j->filename,
            .list_name = j->opt_outs ? NULL : j->list,
            .created_by = j->user_id,
            .opt_outs = j->opt_outs,
            .region = j->region,
            .mapping = &j->mapping,
            .before_commit = commit_before,
            .before_commit_ctx = j,
            .progress = commit_progress,
            .progress_ctx = j,
            .progress_every = PROGRESS_EVERY,
        };
        j->rc = tocsin_contacts_import(conn, f, &o, &j->report, j->err, sizeof j->err);
        fclose(f);
    }
    if (j->rc != 0) {
        /* Nothing was written: the upload says why, and its chunks go. */
        char id[24];
        snprintf(id, sizeof id, "%lld", j->upload_id);
        char *report = report_text(&j->report);
        const char *p[] = {id, j->report.db_error ? "the database refused the import" : j->err,
                           report};
        PQclear(PQexecParams(conn, "SELECT tocsin_import_upload_failed($1, $2, $3::jsonb)", 3, NULL,
                             p, NULL, NULL, 0));
        free(report);
    }
    PQfinish(conn);
    PQfinish(j->progress_conn);
    j->progress_conn = NULL;
}

static void commit_done(uv_work_t *w, int status)
{
    struct commit_job *j = container_of(w, struct commit_job, work);
    struct api_call *call = j->call;
    api_import_slot_release(call->dash);
    if (api_import_answer(call, status != 0 || j->rc == -2, j->rc, &j->report, 1, "upload", j->err))
        log_info("upload_imported",
                 "org=%lld upload=%lld preset=%s rows=%ld imported=%ld opted_out=%ld rejected=%ld",
                 j->org_id, j->upload_id, j->preset, j->report.rows, j->report.imported,
                 j->report.opted_out, j->report.rejected);
    commit_job_free(j);
}

static void claimed(const struct tocsin_db_result *r, void *ctx)
{
    struct api_call *call = ctx;
    if (r->error) {
        api_import_slot_release(call->dash);
        api_db_error(call, "upload claim", r->error);
        return;
    }
    if (PQntuples(r->res) != 1) {
        api_import_slot_release(call->dash);
        tocsin_http_error(call->req, 404, "not_found", "no such upload");
        return;
    }
    int status = (int)strtol(PQgetvalue(r->res, 0, 0), NULL, 10);
    if (status != 200) {
        api_import_slot_release(call->dash);
        tocsin_http_respond(call->req, status, "application/json", PQgetvalue(r->res, 0, 1),
                            (size_t)PQgetlength(r->res, 0, 1));
        return;
    }
    struct commit_job *j = calloc(1, sizeof *j);
    char err[200];
    const struct tocsin_import_preset *p =
        tocsin_import_preset_find(j ? PQgetvalue(r->res, 0, 2) : NULL);
    if (!j || !p || mapping_parse(PQgetvalue(r->res, 0, 3), 1, &j->mapping, err, sizeof err)) {
        free(j);
        api_import_slot_release(call->dash);
        tocsin_http_error(call->req, 500, "internal", "could not start the import");
        return;
    }
    j->call = call;
    snprintf(j->preset, sizeof j->preset, "%s", p->id);
    j->opt_outs = p->opt_outs;
    snprintf(j->region, sizeof j->region, "%s", api_import_region(call));
    j->chunks = (int)strtol(PQgetvalue(r->res, 0, 6), NULL, 10);
    j->conninfo = strdup(call->dash->d->cfg.database_url);
    j->list = PQgetisnull(r->res, 0, 4) ? NULL : strdup(PQgetvalue(r->res, 0, 4));
    j->filename = strdup(PQgetvalue(r->res, 0, 5));
    j->org_id = strtoll(call->org_id, NULL, 10);
    j->user_id = strtoll(call->user_id, NULL, 10);
    j->upload_id = strtoll(call->params[3], NULL, 10);
    if (!j->conninfo || !j->filename || (!PQgetisnull(r->res, 0, 4) && !j->list) ||
        uv_queue_work(call->dash->d->loop, &j->work, commit_work, commit_done) != 0) {
        commit_job_free(j);
        api_import_slot_release(call->dash);
        tocsin_http_error(call->req, 500, "internal", "could not start the import");
    }
}

/* Path: the upload's id. Imports it once every byte has arrived; answers
 * with the report when the import is done (or refused). */
void api_import_upload_commit(struct api_call *call)
{
    if (api_import_slot_take(call))
        return;
    const char *params[] = {call->org_id, call->user_id, call->params[3]};
    if (tocsin_db_query(call->dash->d->db,
                        "SELECT status, body, preset, mapping, list_name, filename, chunks"
                        " FROM tocsin_import_upload_claim($1::bigint, $2::bigint, $3::bigint)",
                        3, params, claimed, call) != 0) {
        api_import_slot_release(call->dash);
        tocsin_http_error(call->req, 503, "unavailable", "the dashboard is shutting down");
    }
}
