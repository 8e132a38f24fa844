/* SPDX-License-Identifier: AGPL-3.0-or-later
 * contacts_import.c — the database half of the CSV import: one
 * transaction; valid rows streamed with COPY into a temporary stage, then
 * one upsert into contacts (counting new vs updated), subscriptions and
 * consent events for the list, and the import batch's counts. Duplicate
 * numbers inside a file are caught here (first occurrence wins). An
 * opt-out list goes through the same stage and ends in opt_outs instead
 * (run_apply_opt_outs), and so do the rows of a contacts file whose
 * subscription status says the member left (an Action Network export). */
#include "contacts_import.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dbsync.h"
#include "dynbuf.h"
#include "hash.h"

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- numbers already seen in this file --- */

struct seen_entry {
    char phone[TOCSIN_E164_MAX + 1];
    unsigned long line;
};

struct seen_set {
    struct seen_entry *slots;
    size_t cap, used;
};

static size_t seen_hash(const char *s)
{
    return (size_t)tocsin_hash(s, strlen(s));
}

/* Returns the line of an earlier occurrence, 0 if new (then recorded),
 * or (unsigned long)-1 when out of memory. */
static unsigned long seen_check(struct seen_set *set, const char *phone, unsigned long line)
{
    if (set->used * 2 >= set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 4096;
        struct seen_entry *slots = calloc(cap, sizeof *slots);
        if (!slots)
            return (unsigned long)-1;
        for (size_t i = 0; i < set->cap; i++) {
            if (!set->slots[i].line)
                continue;
            size_t j = seen_hash(set->slots[i].phone) & (cap - 1);
            while (slots[j].line)
                j = (j + 1) & (cap - 1);
            slots[j] = set->slots[i];
        }
        free(set->slots);
        set->slots = slots;
        set->cap = cap;
    }
    size_t j = seen_hash(phone) & (set->cap - 1);
    while (set->slots[j].line) {
        if (strcmp(set->slots[j].phone, phone) == 0)
            return set->slots[j].line;
        j = (j + 1) & (set->cap - 1);
    }
    memcpy(set->slots[j].phone, phone, sizeof set->slots[j].phone);
    set->slots[j].line = line;
    set->used++;
    return 0;
}

/* --- the report --- */

static void reject(struct tocsin_import_report *rep, unsigned long line, const char *reason)
{
    rep->rejected++;
    if (rep->nrejections == TOCSIN_IMPORT_MAX_REJECTIONS)
        return;
    if (!rep->rejections) {
        rep->rejections = calloc(TOCSIN_IMPORT_MAX_REJECTIONS, sizeof *rep->rejections);
        if (!rep->rejections)
            return;
    }
    struct tocsin_import_rejection *r = &rep->rejections[rep->nrejections++];
    r->line = line;
    snprintf(r->reason, sizeof r->reason, "%s", reason);
}

void tocsin_import_report_free(struct tocsin_import_report *report)
{
    free(report->rejections);
    report->rejections = NULL;
    report->nrejections = 0;
}

/* --- COPY text format --- */

/* The COPY rows not yet sent: copy_send empties it past COPY_FLUSH bytes,
 * so it holds that plus one contact, whose escaped text is far below
 * COPY_MAX (a record is at most TOCSIN_CSV_MAX_RECORD bytes). */
#define COPY_FLUSH (1 << 16)
#define COPY_MAX (16u << 20)

/* Appends s[0..n) escaped for COPY's text format. */
static int copy_put(struct tocsin_dynbuf *b, const char *s, size_t n)
{
    char *d = tocsin_dynbuf_reserve(b, n * 2);
    if (!d)
        return -1;
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        const char *esc = c == '\\'   ? "\\\\"
                          : c == '\t' ? "\\t"
                          : c == '\n' ? "\\n"
                          : c == '\r' ? "\\r"
                                      : NULL;
        if (esc) {
            memcpy(d + w, esc, 2);
            w += 2;
        } else {
            d[w++] = c;
        }
    }
    tocsin_dynbuf_commit(b, w);
    return 0;
}

/* Appends one field (NULL: SQL NULL) and its terminator. */
static int copy_field(struct tocsin_dynbuf *b, const char *s, int last)
{
    if (s ? copy_put(b, s, strlen(s)) : tocsin_dynbuf_add(b, "\\N", 2))
        return -1;
    return tocsin_dynbuf_add(b, last ? "\n" : "\t", 1);
}

static int copy_contact(struct tocsin_dynbuf *b, const struct tocsin_import_contact *c)
{
    return copy_field(b, c->phone, 0) || copy_field(b, c->first_name, 0) ||
           copy_field(b, c->last_name, 0) || copy_field(b, c->zip[0] ? c->zip : NULL, 0) ||
           copy_field(b, c->timezone[0] ? c->timezone : NULL, 0) ||
           copy_field(b, c->fields_json, 0) || copy_field(b, c->opt_out ? "t" : "f", 1);
}

/* --- the import --- */

struct import_run {
    PGconn *conn;
    const struct tocsin_import_options *o;
    struct tocsin_import_report *rep;
    char org[24], list[24], batch[24], campaign[24];
    char region[3]; /* opts->region upper-cased */
    char *err;
    size_t errlen;
};

static PGresult *run_exec(struct import_run *run, const char *sql, int n, const char *const *p)
{
    PGresult *res = tocsin_dbsync_exec(run->conn, sql, n, p, run->err, run->errlen);
    if (!res) {
        run->rep->db_error = 1;
        snprintf(run->rep->sqlstate, sizeof run->rep->sqlstate, "%s",
                 tocsin_dbsync_last_sqlstate());
    }
    return res;
}

/* Records a failure whose words come from the database (res: its result,
 * if any, for the SQLSTATE; else the last blocking call's). */
static void run_db_failed(struct import_run *run, const char *what, const char *why,
                          const PGresult *res)
{
    const char *st =
        res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : tocsin_dbsync_last_sqlstate();
    run->rep->db_error = 1;
    snprintf(run->rep->sqlstate, sizeof run->rep->sqlstate, "%s", st ? st : "");
    snprintf(run->err, run->errlen, "%s%s", what, why);
}

static long run_scalar(struct import_run *run, const char *sql, int n, const char *const *p)
{
    PGresult *res = run_exec(run, sql, n, p);
    if (!res)
        return -1;
    long v = PQntuples(res) ? strtol(PQgetvalue(res, 0, 0), NULL, 10) : 0;
    PQclear(res);
    return v;
}

static int run_prepare(struct import_run *run)
{
    char err[512];
    if (tocsin_dbsync_command(run->conn, "BEGIN", err, sizeof err)) {
        run_db_failed(run, "", err, NULL);
        return -1;
    }
    snprintf(run->org, sizeof run->org, "%lld", run->o->org_id);
    run->list[0] = '\0';
    run->campaign[0] = '\0';
    if (run->o->opt_outs && (run->o->list_name || run->o->outreach_campaign_id)) {
        snprintf(run->err, run->errlen, "an opt-out list goes to no list and no outreach campaign");
        return -1;
    }
    if (run->o->outreach_campaign_id) {
        if (run->o->list_name) {
            snprintf(run->err, run->errlen,
                     "an import goes to a list or to an outreach campaign, not both");
            return -1;
        }
        snprintf(run->campaign, sizeof run->campaign, "%lld", run->o->outreach_campaign_id);
        const char *p[] = {run->org, run->campaign};
        if (run_scalar(run, "SELECT tocsin_outreach_import_check($1, $2)", 2, p) < 0)
            return -1;
    }
    if (run->o->list_name) {
        const char *p[] = {run->org, run->o->list_name};
        long id =
            run_scalar(run,
                       "INSERT INTO lists (org_id, name) VALUES ($1, $2) ON CONFLICT (org_id, name)"
                       " DO UPDATE SET name = EXCLUDED.name RETURNING id",
                       2, p);
        if (id < 0)
            return -1;
        snprintf(run->list, sizeof run->list, "%ld", id);
    }
    char by[24];
    snprintf(by, sizeof by, "%lld", run->o->created_by);
    const char *p[] = {run->org, run->o->filename ? run->o->filename : "-",
                       run->list[0] ? run->list : NULL, run->o->created_by ? by : NULL,
                       run->o->opt_outs ? "opt_outs" : "contacts"};
    long batch =
        run_scalar(run,
                   "INSERT INTO import_batches (org_id, filename, list_id, created_by, kind)"
                   " VALUES ($1, $2, $3, $4, $5) RETURNING id",
                   5, p);
    if (batch < 0)
        return -1;
    run->rep->batch_id = batch;
    snprintf(run->batch, sizeof run->batch, "%ld", batch);
    if (tocsin_dbsync_command(
            run->conn,
            "CREATE TEMP TABLE import_stage (phone text PRIMARY KEY, first_name text,"
            " last_name text, zip text, timezone text, fields jsonb, opt_out boolean NOT NULL)"
            " ON COMMIT DROP",
            err, sizeof err)) {
        run_db_failed(run, "", err, NULL);
        return -1;
    }
    PGresult *copy = PQexec(run->conn, "COPY import_stage FROM STDIN");
    int copying = PQresultStatus(copy) == PGRES_COPY_IN;
    if (!copying)
        run_db_failed(run, "could not start COPY: ", PQresultErrorMessage(copy), copy);
    PQclear(copy);
    return copying ? 0 : -1;
}

/* Sends the buffered COPY rows; returns 0 or -1 with run->err. */
static int copy_send(struct import_run *run, struct tocsin_dynbuf *buf)
{
    if (PQputCopyData(run->conn, buf->data, (int)buf->len) != 1) {
        run_db_failed(run, "COPY failed: ", PQerrorMessage(run->conn), NULL);
        return -1;
    }
    tocsin_dynbuf_reset(buf);
    return 0;
}

/* Streams the CSV into the COPY. Returns 0, or -1 (COPY aborted). */
static int run_stream(struct import_run *run, struct tocsin_csv *csv)
{
    struct tocsin_csv_row row;
    struct tocsin_import_columns cols;
    struct seen_set seen = {0};
    struct tocsin_dynbuf buf;
    tocsin_dynbuf_init(&buf, COPY_MAX);
    char reason[200];
    int rc = -1, got_header = 0;
    for (;;) {
        int st = tocsin_csv_next(csv, &row, reason, sizeof reason);
        if (st == TOCSIN_CSV_EOF)
            break;
        if (st == TOCSIN_CSV_FATAL) {
            snprintf(run->err, run->errlen, "invalid CSV: %s", reason);
            goto out;
        }
        if (!got_header) {
            if (st != TOCSIN_CSV_ROW ||
                (run->o->mapping ? tocsin_import_header_mapped(&row, run->o->mapping, &cols, reason,
                                                               sizeof reason)
                                 : tocsin_import_header_phone(
                                       &row, run->o->opt_outs ? run->o->phone_column : NULL, &cols,
                                       reason, sizeof reason))) {
                snprintf(run->err, run->errlen, "line %lu: %s%s", row.line,
                         st == TOCSIN_CSV_ROW ? "" : "header: ", reason);
                goto out;
            }
            got_header = 1;
            continue;
        }
        run->rep->rows++;
        if (run->o->progress &&
            run->rep->rows % (run->o->progress_every > 0 ? run->o->progress_every : 100000) == 0)
            run->o->progress(run->rep->rows, run->o->progress_ctx);
        if (st == TOCSIN_CSV_BAD_ROW) {
            reject(run->rep, row.line, reason);
            continue;
        }
        struct tocsin_import_contact c;
        if (run->o->opt_outs) {
            memset(&c, 0, sizeof c);
            if (tocsin_import_row_phone(&cols, &row, run->region, c.phone, reason, sizeof reason)) {
                reject(run->rep, row.line, reason);
                continue;
            }
            c.opt_out = 1;
        } else if (tocsin_import_row(&cols, &row, run->region, &c, reason, sizeof reason)) {
            reject(run->rep, row.line, reason);
            continue;
        }
        unsigned long first = seen_check(&seen, c.phone, row.line);
        if (first == (unsigned long)-1) {
            free(c.fields_json);
            snprintf(run->err, run->errlen, "out of memory");
            goto out;
        }
        if (first && run->o->opt_outs) {
            run->rep->duplicates++; /* the number is in the file once already: nothing wrong */
            continue;
        }
        if (first) {
            snprintf(reason, sizeof reason, "duplicate of line %lu (%s)", first, c.phone);
            reject(run->rep, row.line, reason);
            free(c.fields_json);
            continue;
        }
        int bad = copy_contact(&buf, &c);
        free(c.fields_json);
        if (bad) {
            snprintf(run->err, run->errlen, "out of memory");
            goto out;
        }
        if (buf.len > COPY_FLUSH && copy_send(run, &buf))
            goto out;
    }
    if (!got_header) {
        snprintf(run->err, run->errlen,
                 "the file is empty: a header row with a \"%.64s\" column is required",
                 run->o->opt_outs && run->o->phone_column ? run->o->phone_column : "phone");
        goto out;
    }
    if (buf.len && copy_send(run, &buf))
        goto out;
    rc = 0;
out:
    PQputCopyEnd(run->conn, rc == 0 ? NULL : "import aborted");
    PGresult *res;
    while ((res = PQgetResult(run->conn))) {
        if (rc == 0 && PQresultStatus(res) != PGRES_COMMAND_OK) {
            run_db_failed(run, "COPY failed: ", PQresultErrorMessage(res), res);
            rc = -1;
        }
        PQclear(res);
    }
    tocsin_dynbuf_free(&buf);
    free(seen.slots);
    return rc;
}

/* Records the batch's counts. */
static int run_batch_counts(struct import_run *run, long imported, long updated)
{
    char rows[24], imp[24], upd[24], rejected[24];
    snprintf(rows, sizeof rows, "%ld", run->rep->rows);
    snprintf(imp, sizeof imp, "%ld", imported);
    snprintf(upd, sizeof upd, "%ld", updated);
    snprintf(rejected, sizeof rejected, "%ld", run->rep->rejected);
    const char *p[] = {run->batch, rows, imp, upd, rejected};
    PGresult *res =
        run_exec(run,
                 "UPDATE import_batches SET rows_total = $2, rows_imported = $3, rows_updated = $4,"
                 " rows_rejected = $5 WHERE id = $1",
                 5, p);
    if (!res)
        return -1;
    PQclear(res);
    return 0;
}

/* An opt-out list: every staged number not yet opted out is, as a STOP
 * would do it (schema 019's tocsin_receive_inbound): the opt-out, its
 * consent event, the subscriptions it ends (so a later START gives them
 * back) and the number's queued messages cancelled (tocsin_unqueue: those
 * in the outbox; the last column reads its count so that the CTE runs).
 * The worker checks opt_outs before every send, so the number is never
 * texted afterwards. */
static int run_opt_out_staged(struct import_run *run)
{
    struct tocsin_import_report *rep = run->rep;
    char evidence[40];
    snprintf(evidence, sizeof evidence, "import:%s", run->batch);
    const char *p[] = {run->org, evidence};
    PGresult *res = run_exec(
        run,
        "WITH o AS (INSERT INTO opt_outs (org_id, phone, source, evidence)"
        "  SELECT $1, phone, 'import', $2 FROM import_stage WHERE opt_out"
        "  ON CONFLICT (org_id, phone) DO NOTHING RETURNING phone),"
        " e AS (INSERT INTO consent_events (org_id, phone, event, source, evidence)"
        "  SELECT $1, phone, 'opt_out', 'import', $2 FROM o RETURNING id, phone),"
        " s AS (UPDATE subscriptions s SET unsubscribed_at = now(), ended_by_opt_out = e.id"
        "  FROM e JOIN contacts c ON c.org_id = $1 AND c.phone = e.phone"
        "  WHERE s.contact_id = c.id AND s.unsubscribed_at IS NULL),"
        " m AS (SELECT tocsin_unqueue(array(SELECT id FROM messages"
        "  WHERE org_id = $1 AND state = 'queued' AND to_phone IN (SELECT phone FROM o)), NULL) AS n)"
        " SELECT (SELECT count(*) FROM o), (SELECT count(*) FROM import_stage WHERE opt_out), (SELECT n FROM m)",
        2, p);
    if (!res)
        return -1;
    rep->opted_out = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    rep->already_opted_out = strtol(PQgetvalue(res, 0, 1), NULL, 10) - rep->opted_out;
    PQclear(res);
    return 0;
}

static int run_apply_opt_outs(struct import_run *run)
{
    char err[512];
    if (tocsin_dbsync_command(run->conn, "ANALYZE import_stage", err, sizeof err)) {
        run_db_failed(run, "", err, NULL);
        return -1;
    }
    double t0 = now_seconds();
    if (run_opt_out_staged(run))
        return -1;
    run->rep->seconds_upsert = now_seconds() - t0;
    return run_batch_counts(run, run->rep->opted_out, 0);
}

static int run_apply(struct import_run *run)
{
    if (run->o->opt_outs)
        return run_apply_opt_outs(run);
    struct tocsin_import_report *rep = run->rep;
    const char *p1[] = {run->org};
    char err[512];
    /* A temporary table has no statistics: without them the joins below
     * are planned for a handful of rows. */
    if (tocsin_dbsync_command(run->conn, "ANALYZE import_stage", err, sizeof err)) {
        run_db_failed(run, "", err, NULL);
        return -1;
    }
    double t0 = now_seconds();
    /* Rows whose status says the member left are opt-outs, never
     * contacts or subscribers (an Action Network "unsubscribed"). */
    if (run_opt_out_staged(run) ||
        tocsin_dbsync_command(run->conn, "DELETE FROM import_stage WHERE opt_out", err,
                              sizeof err)) {
        if (!run->rep->db_error)
            run_db_failed(run, "", err, NULL);
        return -1;
    }
    PGresult *res = run_exec(
        run,
        "WITH up AS (INSERT INTO contacts (org_id, phone, first_name, last_name, zip, timezone, fields)"
        "  SELECT $1, phone, first_name, last_name, zip, timezone, fields FROM import_stage"
        "  ON CONFLICT (org_id, phone) DO UPDATE SET"
        "   first_name = coalesce(EXCLUDED.first_name, contacts.first_name),"
        "   last_name = coalesce(EXCLUDED.last_name, contacts.last_name),"
        "   zip = coalesce(EXCLUDED.zip, contacts.zip),"
        "   timezone = coalesce(EXCLUDED.timezone, contacts.timezone),"
        "   fields = contacts.fields || EXCLUDED.fields, updated_at = now()"
        "  RETURNING (xmax = 0) AS inserted)"
        " SELECT count(*) FILTER (WHERE inserted) AS imported,"
        "  count(*) FILTER (WHERE NOT inserted) AS updated FROM up",
        1, p1);
    if (!res)
        return -1;
    rep->imported = strtol(PQgetvalue(res, 0, PQfnumber(res, "imported")), NULL, 10);
    rep->updated = strtol(PQgetvalue(res, 0, PQfnumber(res, "updated")), NULL, 10);
    PQclear(res);
    rep->kept_opted_out = run_scalar(run,
                                     "SELECT count(*) FROM import_stage s JOIN opt_outs o"
                                     " ON o.org_id = $1 AND o.phone = s.phone",
                                     1, p1);
    if (rep->kept_opted_out < 0)
        return -1;
    double t1 = now_seconds();
    rep->seconds_upsert = t1 - t0;
    if (run->list[0]) {
        char evidence[40];
        snprintf(evidence, sizeof evidence, "import:%s", run->batch);
        const char *p[] = {run->org, run->list, run->batch, evidence};
        rep->subscribed = run_scalar(
            run,
            "WITH s AS (INSERT INTO subscriptions (org_id, list_id, contact_id, source, evidence_import_id)"
            "  SELECT $1, $2, c.id, 'import', $3 FROM import_stage st"
            "  JOIN contacts c ON c.org_id = $1 AND c.phone = st.phone"
            "  WHERE NOT EXISTS (SELECT 1 FROM opt_outs o WHERE o.org_id = $1 AND o.phone = st.phone)"
            "  ON CONFLICT (list_id, contact_id) DO NOTHING RETURNING contact_id),"
            " ev AS (INSERT INTO consent_events (org_id, phone, event, source, list_id, evidence)"
            "  SELECT $1, c.phone, 'opt_in', 'import', $2, $4 FROM s JOIN contacts c ON c.id = s.contact_id)"
            " SELECT count(*) FROM s",
            4, p);
        if (rep->subscribed < 0)
            return -1;
        rep->seconds_subscribe = now_seconds() - t1;
    }
    if (run->campaign[0]) {
        /* Targets only: no subscription and no consent event, so no blast
         * ever reaches them (outreach texts people who never opted in). */
        const char *p[] = {run->org, run->campaign, run->batch};
        rep->targeted = run_scalar(
            run,
            "WITH t AS (INSERT INTO outreach_targets (org_id, campaign_id, contact_id, import_batch_id)"
            "  SELECT $1, $2, c.id, $3 FROM import_stage st"
            "  JOIN contacts c ON c.org_id = $1 AND c.phone = st.phone"
            "  ON CONFLICT (campaign_id, contact_id) DO NOTHING RETURNING contact_id)"
            " SELECT count(*) FROM t",
            3, p);
        if (rep->targeted < 0)
            return -1;
        rep->seconds_subscribe = now_seconds() - t1;
    }
    return run_batch_counts(run, rep->imported, rep->updated);
}

/* Upper-cases opts->region into run->region and the report's ("US" when
 * NULL). Returns 0, or -1: a bad region would reject every national number
 * in the file. */
static int run_region(struct import_run *run)
{
    const char *r = run->o->region ? run->o->region : "US";
    for (int i = 0; i < 2; i++) {
        char c = r[i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 32);
        if (c < 'A' || c > 'Z')
            break;
        run->region[i] = c;
        run->region[i + 1] = '\0';
        if (i == 1 && r[2] == '\0') {
            if (!tocsin_phone_region_known(run->region))
                break;
            memcpy(run->rep->region, run->region, sizeof run->rep->region);
            return 0;
        }
    }
    snprintf(run->err, run->errlen,
             "invalid region \"%.16s\": must be a country's two letters (US, MX, GB)", r);
    return -1;
}

int tocsin_contacts_import_csv(PGconn *conn, struct tocsin_csv *csv,
                               const struct tocsin_import_options *opts,
                               struct tocsin_import_report *report, char *err, size_t errlen)
{
    memset(report, 0, sizeof *report);
    struct import_run run = {.conn = conn, .o = opts, .rep = report, .err = err, .errlen = errlen};
    if (run_region(&run))
        return -1;
    char ignored[256];
    double t0 = now_seconds();
    int ok = run_prepare(&run) == 0 && run_stream(&run, csv) == 0;
    report->seconds_read = now_seconds() - t0;
    if (ok && opts->strict && report->rejected) {
        snprintf(err, errlen, "%ld row%s rejected and --strict is set: nothing imported",
                 report->rejected, report->rejected == 1 ? "" : "s");
        ok = 0;
    }
    ok = ok && run_apply(&run) == 0;
    if (ok && !opts->dry_run && opts->before_commit &&
        opts->before_commit(conn, report, opts->before_commit_ctx, err, errlen) != 0)
        ok = 0;
    if (!ok || opts->dry_run) {
        tocsin_dbsync_command(conn, "ROLLBACK", ignored, sizeof ignored);
        return ok ? 0 : -1;
    }
    if (tocsin_dbsync_command(conn, "COMMIT", ignored, sizeof ignored)) {
        report->db_error = 1;
        snprintf(report->sqlstate, sizeof report->sqlstate, "%s", tocsin_dbsync_last_sqlstate());
        snprintf(err, errlen, "commit failed: %s", ignored);
        return -1;
    }
    return 0;
}

int tocsin_contacts_import(PGconn *conn, FILE *in, const struct tocsin_import_options *opts,
                           struct tocsin_import_report *report, char *err, size_t errlen)
{
    struct tocsin_csv *csv = malloc(sizeof *csv); /* 64 KiB of buffer: not on a thread's stack */
    if (!csv) {
        memset(report, 0, sizeof *report);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    tocsin_csv_init_file(csv, in);
    int rc = tocsin_contacts_import_csv(conn, csv, opts, report, err, errlen);
    tocsin_csv_free(csv);
    free(csv);
    return rc;
}
