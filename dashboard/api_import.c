/* SPDX-License-Identifier: AGPL-3.0-or-later
 * api_import.c — POST /api/lists/import: a CSV uploaded from the browser
 * goes through the same import as `tocsinctl contacts import`
 * (lib/contacts_import, blocking libpq) on libuv's thread pool with its own
 * connection, so the loop keeps serving; the answer is the same report,
 * rejections with their line numbers. POST /api/opt-outs/import runs an
 * opt-out list through the same job (lib/contacts_import's opt_outs
 * mode, the phone column the admin picked). The upload is bounded by
 * TOCSIN_HTTP_MAX_BODY_BYTES (the whole JSON body), and at most
 * DASH_IMPORTS_MAX imports run at once, chunked uploads included (the
 * cap is kept here). An outreach campaign's audience (api_outreach_upload.c)
 * runs through the same job and is answered the same way
 * (api_import_answer). */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contacts_import.h"
#include "dashboard.h"
#include "log.h"

int api_import_slot_take(struct api_call *call)
{
    if (call->dash->imports_running >= DASH_IMPORTS_MAX) {
        tocsin_http_add_header(call->req, "Retry-After", "5");
        tocsin_http_error(call->req, 429, "busy",
                          "other imports are running; try again in a moment");
        return -1;
    }
    call->dash->imports_running++;
    return 0;
}

void api_import_slot_release(struct dashboard *dash)
{
    assert(dash->imports_running > 0);
    dash->imports_running--;
}

struct import_job {
    uv_work_t work;
    struct api_call *call;
    char *conninfo, *csv, *list, *filename;
    char *column; /* an opt-out list's phone column (NULL: a contacts import) */
    int opt_outs;
    long long campaign_id; /* an outreach campaign's audience (0: none) */
    char region[3];        /* api_import_region()'s, copied */
    size_t csvlen;
    long long org_id, user_id;
    int rc;
    char err[300];
    struct tocsin_import_report report;
};

static void job_free(struct import_job *j)
{
    tocsin_import_report_free(&j->report);
    free(j->conninfo);
    free(j->csv);
    free(j->list);
    free(j->filename);
    free(j->column);
    free(j);
}

void api_import_audit(PGconn *conn, long long org_id, long long user_id, const char *action,
                      const struct tocsin_import_report *rep, int opt_outs)
{
    char org[24], user[24], batch[24], details[200];
    snprintf(org, sizeof org, "%lld", org_id);
    snprintf(user, sizeof user, "%lld", user_id);
    snprintf(batch, sizeof batch, "%lld", rep->batch_id);
    if (opt_outs)
        snprintf(
            details, sizeof details,
            "{\"rows\": %ld, \"opted_out\": %ld, \"already_opted_out\": %ld, \"rejected\": %ld,"
            " \"region\": \"%s\"}",
            rep->rows, rep->opted_out, rep->already_opted_out, rep->rejected, rep->region);
    else
        snprintf(details, sizeof details,
                 "{\"rows\": %ld, \"imported\": %ld, \"rejected\": %ld, \"region\": \"%s\"}",
                 rep->rows, rep->imported, rep->rejected, rep->region);
    const char *params[] = {org, user, batch, details, action};
    PGresult *res =
        PQexecParams(conn,
                     "SELECT tocsin_audit($1::bigint, $2::bigint, $5::text, 'import_batch',"
                     " $3::bigint, $4::jsonb)",
                     5, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        char reason[600];
        const char *e = PQerrorMessage(conn);
        log_warn("import_audit_failed", "reason=%s",
                 tocsin_log_quote(reason, sizeof reason, e, strlen(e)));
    }
    PQclear(res);
}

static void import_work(uv_work_t *req)
{
    struct import_job *j = container_of(req, struct import_job, work);
    PGconn *conn = PQconnectdb(j->conninfo);
    if (PQstatus(conn) != CONNECTION_OK) {
        snprintf(j->err, sizeof j->err, "the database is unavailable; try again");
        j->rc = -2;
        PQfinish(conn);
        return;
    }
    struct tocsin_csv csv;
    tocsin_csv_init_mem(&csv, j->csv, j->csvlen);
    struct tocsin_import_options o = {
        .org_id = j->org_id,
        .filename = j->filename,
        .list_name = j->list,
        .created_by = j->user_id,
        .opt_outs = j->opt_outs,
        .phone_column = j->column,
        .region = j->region,
        .outreach_campaign_id = j->campaign_id,
    };
    j->rc = tocsin_contacts_import_csv(conn, &csv, &o, &j->report, j->err, sizeof j->err);
    tocsin_csv_free(&csv);
    if (j->rc == 0)
        api_import_audit(conn, j->org_id, j->user_id,
                         j->campaign_id ? "outreach.audience_import"
                         : j->opt_outs  ? "opt_outs.import"
                                        : "contacts.import",
                         &j->report, j->opt_outs);
    PQfinish(conn);
}

json_t *api_import_report_json(const struct tocsin_import_report *r, int opt_outs)
{
    json_t *rej = json_array();
    for (size_t i = 0; rej && i < r->nrejections; i++)
        json_array_append_new(rej,
                              json_pack("{s:I, s:s}", "line", (json_int_t)r->rejections[i].line,
                                        "reason", r->rejections[i].reason));
    json_t *o =
        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:o*}", "rows", (json_int_t)r->rows, "imported",
                  (json_int_t)r->imported, "updated", (json_int_t)r->updated, "rejected",
                  (json_int_t)r->rejected, "kept_opted_out", (json_int_t)r->kept_opted_out,
                  "subscribed", (json_int_t)r->subscribed, "rejections", rej);
    if (o && (json_object_set_new(o, "targeted", json_integer(r->targeted)) ||
              (r->region[0] && json_object_set_new(o, "region", json_string(r->region))) ||
              json_object_set_new(o, "batch_id", json_integer(r->batch_id)))) {
        json_decref(o);
        return NULL;
    }
    if (o && opt_outs &&
        (json_object_set_new(o, "opted_out", json_integer(r->opted_out)) ||
         json_object_set_new(o, "already_opted_out", json_integer(r->already_opted_out)) ||
         json_object_set_new(o, "duplicates", json_integer(r->duplicates)))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

void api_import_db_failed(struct api_call *call, const char *what,
                          const struct tocsin_import_report *rep, const char *err)
{
    char reason[600];
    log_info("import_refused", "what=%s sqlstate=%s reason=%s", what,
             *rep->sqlstate ? rep->sqlstate : "-",
             tocsin_log_quote(reason, sizeof reason, err, strlen(err)));
    if (strncmp(rep->sqlstate, "22", 2) == 0 || strncmp(rep->sqlstate, "23", 2) == 0)
        tocsin_http_error(
            call->req, 422, "import_refused",
            "the file was not imported: the database refused a value in it (too long, or "
            "not allowed); nothing was written");
    else
        tocsin_http_error(call->req, 503, "unavailable", "the database is unavailable; try again");
}

int api_import_answer(struct api_call *call, int unavailable, int rc,
                      const struct tocsin_import_report *rep, int opt_outs, const char *what,
                      const char *err)
{
    json_t *report = unavailable ? NULL : api_import_report_json(rep, opt_outs);
    if (unavailable) {
        tocsin_http_error(call->req, 503, "unavailable", "the database is unavailable; try again");
    } else if (!report) {
        tocsin_http_error(call->req, 500, "internal", "out of memory");
    } else if (rc != 0 && rep->db_error) {
        json_decref(report);
        api_import_db_failed(call, what, rep, err);
    } else if (rc == 0) {
        tocsin_http_respond_json(call->req, 200, report);
        return 1;
    } else {
        json_t *e = json_pack("{s:{s:i, s:s, s:s}, s:o}", "error", "status", 400, "code",
                              "import_failed", "message", err, "report", report);
        if (e)
            tocsin_http_respond_json(call->req, 400, e);
        else
            tocsin_http_error(call->req, 500, "internal", "out of memory");
    }
    return 0;
}

static void import_done(uv_work_t *req, int status)
{
    struct import_job *j = container_of(req, struct import_job, work);
    struct api_call *call = j->call;
    api_import_slot_release(call->dash);
    int imported =
        api_import_answer(call, status != 0 || j->rc == -2, j->rc, &j->report, j->opt_outs,
                          j->campaign_id ? "outreach_audience"
                          : j->opt_outs  ? "opt_outs"
                                         : "list",
                          j->err);
    if (imported && j->campaign_id) {
        log_info("outreach_upload", "campaign=%lld rows=%ld targeted=%ld rejected=%ld",
                 j->campaign_id, j->report.rows, j->report.targeted, j->report.rejected);
    } else if (imported && j->opt_outs) {
        log_info("opt_outs_imported", "org=%lld rows=%ld opted_out=%ld already=%ld rejected=%ld",
                 j->org_id, j->report.rows, j->report.opted_out, j->report.already_opted_out,
                 j->report.rejected);
    } else if (imported) {
        log_info("contacts_imported", "org=%lld rows=%ld imported=%ld rejected=%ld", j->org_id,
                 j->report.rows, j->report.imported, j->report.rejected);
    }
    job_free(j);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

const char *api_default_region(const struct dashboard *dash)
{
    const char *r = dash->d->cfg.default_region;
    return r && *r ? r : "US";
}

const char *api_import_region(const struct api_call *call)
{
    return call->region[0] ? call->region : api_default_region(call->dash);
}

void api_import_start(struct api_call *call, const struct api_import_request *r)
{
    const char *list = r->list, *column = r->column, *filename = r->filename, *csv = r->csv;
    if (api_import_slot_take(call))
        return;
    struct import_job *j = calloc(1, sizeof *j);
    if (!j) {
        api_import_slot_release(call->dash);
        tocsin_http_error(call->req, 500, "internal", "out of memory");
        return;
    }
    j->call = call;
    j->conninfo = strdup(call->dash->d->cfg.database_url);
    j->csvlen = strlen(csv);
    j->csv = strdup(csv);
    j->list = dup_or_null(list);
    j->opt_outs = column != NULL;
    j->column = dup_or_null(column);
    /* The name is only recorded on the import batch: keep it short. */
    j->filename =
        dup_or_null(filename && *filename && strlen(filename) <= 200 ? filename : "upload.csv");
    j->campaign_id = r->campaign_id;
    snprintf(j->region, sizeof j->region, "%s", api_import_region(call));
    j->org_id = strtoll(call->org_id, NULL, 10);
    j->user_id = strtoll(call->user_id, NULL, 10);
    if (!j->conninfo || !j->csv || (list && !j->list) || (column && !j->column) || !j->filename ||
        uv_queue_work(call->dash->d->loop, &j->work, import_work, import_done) != 0) {
        job_free(j);
        api_import_slot_release(call->dash);
        tocsin_http_error(call->req, 500, "internal", "could not start the import");
        return;
    }
}

/* Fields: name (the list; created when missing), filename, csv (the
 * file's text, UTF-8). */
void api_list_import(struct api_call *call)
{
    const char *list = call->params[3], *filename = call->params[4], *csv = call->params[5];
    if (!list || !*list || strlen(list) > 200) {
        tocsin_http_error(call->req, 400, "invalid", "name the list: 1 to 200 characters");
        return;
    }
    if (!csv || !*csv) {
        tocsin_http_error(call->req, 400, "invalid", "choose a CSV file with a phone column");
        return;
    }
    api_import_start(call,
                     &(struct api_import_request){.csv = csv, .filename = filename, .list = list});
}

/* Fields: column (the header name of the numbers' column, as the preview
 * showed it), filename, csv. */
void api_opt_out_import(struct api_call *call)
{
    const char *column = call->params[3], *filename = call->params[4], *csv = call->params[5];
    if (!column || !*column || strlen(column) > 64) {
        tocsin_http_error(call->req, 400, "invalid",
                          "pick the column that holds the phone numbers");
        return;
    }
    if (!csv || !*csv) {
        tocsin_http_error(call->req, 400, "invalid", "choose a CSV file of opted-out numbers");
        return;
    }
    api_import_start(
        call, &(struct api_import_request){.csv = csv, .filename = filename, .column = column});
}
