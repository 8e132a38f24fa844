/* SPDX-License-Identifier: AGPL-3.0-or-later
 * api_outreach_export.c — a lead's CSV exports of a campaign: the answers
 * recorded (one row per contact and question) and the contacts who opted
 * out. Cells follow the one rule of every export (lib/csv_write: quoted
 * when needed, guarded against spreadsheet formulas, phone numbers kept
 * text); the file is built in memory and sent at once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_outreach.h"
#include "csv_write.h"
#include "log.h"

#define EXPORT_MAX_BYTES (256u << 20)

/* Each export is audited with its row count in the same statement. */
#define AUDITED(action, select)                                                                    \
    "WITH r AS (" select "),"                                                                      \
    " a AS (INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)" \
    "       SELECT $1::bigint, $3::bigint, '" action "', 'outreach_campaign', $2::bigint,"         \
    "              jsonb_build_object('rows', x.n) FROM (SELECT count(*) AS n FROM r) x"           \
    "        WHERE EXISTS (SELECT 1 FROM outreach_campaigns"                                       \
    "                       WHERE id = $2::bigint AND org_id = $1::bigint))"                       \
    "SELECT * FROM r"

static const char answers_sql[] = AUDITED(
    "outreach.export_answers",
    "SELECT ct.phone, coalesce(ct.first_name, ''), coalesce(ct.last_name, ''), s.question, ch.label,"
    "       u.display_name, to_char(a.recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
    "  FROM outreach_answers a"
    "  JOIN outreach_campaigns oc ON oc.id = a.campaign_id AND oc.org_id = $1::bigint"
    "  JOIN contacts ct ON ct.id = a.contact_id"
    "  JOIN outreach_steps s ON s.id = a.step_id"
    "  JOIN outreach_choices ch ON ch.id = a.choice_id"
    "  JOIN users u ON u.id = a.recorded_by"
    " WHERE a.campaign_id = $2::bigint ORDER BY ct.phone, s.position");

static const char opt_outs_sql[] = AUDITED(
    "outreach.export_opt_outs",
    "SELECT ct.phone, coalesce(ct.first_name, ''), coalesce(ct.last_name, ''),"
    "       to_char(o.opted_out_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), o.source"
    "  FROM outreach_targets t"
    "  JOIN outreach_campaigns oc ON oc.id = t.campaign_id AND oc.org_id = $1::bigint"
    "  JOIN contacts ct ON ct.id = t.contact_id"
    "  JOIN opt_outs o ON o.org_id = ct.org_id AND o.phone = ct.phone"
    " WHERE t.campaign_id = $2::bigint ORDER BY ct.phone");

static const char *const answers_header[] = {"phone",  "first_name",  "last_name",   "question",
                                             "answer", "recorded_by", "recorded_at", NULL};
static const char *const opt_outs_header[] = {"phone",        "first_name", "last_name",
                                              "opted_out_at", "source",     NULL};

struct export
{
    struct api_call *call;
    const char *const *header;
    const char *filename;
};

static void export_done(const struct tocsin_db_result *r, void *ctx)
{
    struct export *e = ctx;
    struct api_call *call = e->call;
    if (r->error) {
        api_db_error(call, "export", r->error);
        return;
    }
    struct tocsin_dynbuf b;
    tocsin_dynbuf_init(&b, EXPORT_MAX_BYTES);
    size_t ncols = 0;
    while (e->header[ncols])
        ncols++;
    int bad = tocsin_csv_append_row(&b, e->header, ncols) || PQnfields(r->res) != (int)ncols;
    const char *row[8];
    for (int i = 0; !bad && i < PQntuples(r->res); i++) {
        for (size_t j = 0; j < ncols; j++)
            row[j] = PQgetvalue(r->res, i, (int)j);
        bad = tocsin_csv_append_row(&b, row, ncols);
    }
    if (bad) {
        tocsin_dynbuf_free(&b);
        tocsin_http_error(call->req, 500, "internal", "could not build the export");
        return;
    }
    char name[120];
    snprintf(name, sizeof name, "campaign-%s-%s", call->params[3], e->filename);
    api_respond_csv(call, name, &b);
}

static void export(struct api_call *call, const char *sql, const char *const *header,
                   const char *filename)
{
    struct export *e = tocsin_arena_alloc(tocsin_http_arena(call->req), sizeof *e);
    if (!e) {
        tocsin_http_error(call->req, 500, "internal", "out of memory");
        return;
    }
    *e = (struct export){call, header, filename};
    const char *params[] = {call->params[0], call->params[3], call->params[1]};
    if (tocsin_db_query(call->dash->d->db, sql, 3, params, export_done, e) != 0)
        tocsin_http_error(call->req, 503, "unavailable", "the dashboard is shutting down");
}

void api_outreach_export_answers(struct api_call *call)
{
    export(call, answers_sql, answers_header, "answers.csv");
}

void api_outreach_export_opt_outs(struct api_call *call)
{
    export(call, opt_outs_sql, opt_outs_header, "opt-outs.csv");
}
