/* SPDX-License-Identifier: AGPL-3.0-or-later
 * api_outreach_upload.c — a lead uploads a campaign's audience as CSV text
 * in JSON ({"csv": "...", "filename": "..."}): lib/contacts_import runs on
 * libuv's thread pool with its own blocking connection (it is one
 * transaction of COPY and upserts) and adds the contacts as the
 * campaign's targets, subscribing them to nothing (audited as
 * outreach.audience_import). Answers with the
 * import's report: counts and the first rejected lines. Uploads share the
 * list imports' cap on imports running at once (api_import.c): beyond it,
 * 429. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_outreach.h"
#include "contacts_import.h"
#include "log.h"

#define UPLOAD_REJECTIONS_SHOWN 50

struct upload {
    uv_work_t work;
    struct api_call *call;
    const char *conninfo, *csv, *filename, *region;
    long long org_id, user_id, campaign_id;
    int failed;
    char err[512];
    struct tocsin_import_report rep;
};

static void upload_work(uv_work_t *w)
{
    struct upload *u = container_of(w, struct upload, work);
    u->failed = 1;
    PGconn *conn = PQconnectdb(u->conninfo);
    struct tocsin_csv *csv = malloc(sizeof *csv);
    if (!csv || PQstatus(conn) != CONNECTION_OK) {
        snprintf(u->err, sizeof u->err, "could not connect to the database: %s",
                 csv ? PQerrorMessage(conn) : "out of memory");
        memset(&u->rep, 0, sizeof u->rep);
        u->rep.db_error = 1; /* its words are for the log */
    } else {
        tocsin_csv_init_mem(csv, u->csv, strlen(u->csv));
        struct tocsin_import_options o = {.org_id = u->org_id,
                                          .filename = u->filename,
                                          .region = u->region,
                                          .created_by = u->user_id,
                                          .outreach_campaign_id = u->campaign_id};
        u->failed = tocsin_contacts_import_csv(conn, csv, &o, &u->rep, u->err, sizeof u->err) != 0;
        if (!u->failed)
            api_import_audit(conn, u->org_id, u->user_id, "outreach.audience_import", &u->rep, 0);
        tocsin_csv_free(csv);
    }
    free(csv);
    PQfinish(conn);
}

static void upload_done(uv_work_t *w, int status)
{
    struct upload *u = container_of(w, struct upload, work);
    struct api_call *call = u->call;
    api_import_slot_release(call->dash);
    if (status == 0 && u->failed && u->rep.db_error) {
        api_import_db_failed(call, "outreach_audience", &u->rep, u->err);
        tocsin_import_report_free(&u->rep);
        free(u);
        return;
    }
    if (status != 0 || u->failed) {
        char reason[600];
        if (status == 0)
            log_info("outreach_upload_refused", "campaign=%lld reason=%s", u->campaign_id,
                     tocsin_log_quote(reason, sizeof reason, u->err, strlen(u->err)));
        tocsin_http_error(call->req, 422, "invalid", "the audience was not imported: %s",
                          status == 0 ? u->err : "cancelled");
        tocsin_import_report_free(&u->rep);
        free(u);
        return;
    }
    json_t *rej = json_array();
    for (size_t i = 0; i < u->rep.nrejections && i < UPLOAD_REJECTIONS_SHOWN; i++)
        json_array_append_new(rej,
                              json_pack("{s:I, s:s}", "line", (json_int_t)u->rep.rejections[i].line,
                                        "reason", u->rep.rejections[i].reason));
    json_t *out =
        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "rows", (json_int_t)u->rep.rows,
                  "imported", (json_int_t)u->rep.imported, "updated", (json_int_t)u->rep.updated,
                  "rejected", (json_int_t)u->rep.rejected, "kept_opted_out",
                  (json_int_t)u->rep.kept_opted_out, "targeted", (json_int_t)u->rep.targeted,
                  "batch_id", (json_int_t)u->rep.batch_id, "rejections", rej);
    log_info("outreach_upload", "campaign=%lld rows=%ld targeted=%ld rejected=%ld", u->campaign_id,
             u->rep.rows, u->rep.targeted, u->rep.rejected);
    tocsin_import_report_free(&u->rep);
    free(u);
    if (!out) {
        tocsin_http_error(call->req, 500, "internal", "out of memory");
        return;
    }
    tocsin_http_respond_json(call->req, 200, out);
}

void api_outreach_upload(struct api_call *call)
{
    const char *csv = api_body_text(call, "csv"), *filename = api_body_text(call, "filename");
    if (!csv || !*csv) {
        tocsin_http_error(call->req, 400, "invalid",
                          "send the audience as {\"csv\": \"phone,first_name\\n...\"}");
        return;
    }
    if (api_import_slot_take(call))
        return;
    struct upload *u = calloc(1, sizeof *u);
    if (!u) {
        api_import_slot_release(call->dash);
        tocsin_http_error(call->req, 500, "internal", "out of memory");
        return;
    }
    u->call = call;
    u->conninfo = call->dash->d->cfg.database_url;
    u->region = call->dash->d->cfg.default_region;
    u->csv = csv; /* in the request's arena: valid until the response */
    /* The name is only recorded on the import batch: keep it short. */
    u->filename = filename && *filename && strlen(filename) <= 200 ? filename : "upload.csv";
    u->org_id = strtoll(call->org_id, NULL, 10);
    u->user_id = strtoll(call->user_id, NULL, 10);
    u->campaign_id = strtoll(call->params[3], NULL, 10);
    if (uv_queue_work(call->dash->d->loop, &u->work, upload_work, upload_done) != 0) {
        free(u);
        api_import_slot_release(call->dash);
        tocsin_http_error(call->req, 503, "unavailable", "the dashboard is busy; try again");
    }
}
