/* SPDX-License-Identifier: AGPL-3.0-or-later
 * db_job.c — a database job (one statement or a batch): its copied SQL and
 * parameters, the results it collects, and how its outcome is decided and
 * delivered (error text with SQLSTATE, ambiguous or not, counters). The
 * queue is in db.c, the wire in db_conn.c. */
#include "db_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"

static struct tocsin_metric m_queries =
    TOCSIN_METRIC_COUNTER("tocsin_db_queries_total", "database jobs completed", NULL);
static struct tocsin_metric m_errors =
    TOCSIN_METRIC_COUNTER("tocsin_db_errors_total", "database jobs that failed", NULL);

void db_job_register_metrics(void)
{
    tocsin_metric_register(&m_queries);
    tocsin_metric_register(&m_errors);
}

void db_job_free(struct db_job *job)
{
    for (int i = 0; i < job->nstmts; i++) {
        struct db_stmt *s = &job->stmts[i];
        free(s->sql);
        for (int k = 0; s->params && k < s->nparams; k++)
            free(s->params[k]);
        free(s->params);
        if (job->results)
            PQclear(job->results[i]);
    }
    PQclear(job->begin);
    PQclear(job->commit);
    free(job->results);
    free(job->stmts);
    free(job);
}

int db_stmt_fill(struct db_stmt *s, const char *sql, int nparams, const char *const *params)
{
    s->sql = strdup(sql);
    s->nparams = nparams;
    s->params = nparams > 0 ? calloc((size_t)nparams, sizeof *s->params) : NULL;
    if (!s->sql || (nparams > 0 && !s->params))
        return -1;
    for (int i = 0; i < nparams; i++)
        if (params[i] && !(s->params[i] = strdup(params[i])))
            return -1;
    return 0;
}

struct db_job *db_job_new_single(const char *sql, int nparams, const char *const *params)
{
    struct db_job *job = calloc(1, sizeof *job);
    if (!job)
        return NULL;
    job->nstmts = 1;
    job->stmts = calloc(1, sizeof *job->stmts);
    job->results = calloc(1, sizeof *job->results);
    if (!job->stmts || !job->results || db_stmt_fill(job->stmts, sql, nparams, params)) {
        db_job_free(job);
        return NULL;
    }
    return job;
}

void db_job_take_result(struct db_job *job, int slot, PGresult *r)
{
    PGresult **dst = slot == -1                        ? &job->begin
                     : slot == job->nstmts             ? &job->commit
                     : slot >= 0 && slot < job->nstmts ? &job->results[slot]
                                                       : NULL;
    if (!dst) {
        PQclear(r);
        return;
    }
    PQclear(*dst);
    *dst = r;
}

static int result_ok(const PGresult *r)
{
    ExecStatusType st = PQresultStatus(r);
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

/* An error the server sent (not a statement skipped after an earlier one). */
static int result_failed(const PGresult *r)
{
    return r && !result_ok(r) && PQresultStatus(r) != PGRES_PIPELINE_ABORTED;
}

int db_job_rolled_back(const struct db_job *job)
{
    if (!job->transaction)
        return 0;
    if (result_failed(job->begin) || result_failed(job->commit))
        return 1;
    for (int i = 0; i < job->nstmts; i++)
        if (result_failed(job->results[i]))
            return 1;
    return 0;
}

static void job_set_error(struct db_job *job, const PGresult *r)
{
    const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    const char *detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    snprintf(job->sqlstate, sizeof job->sqlstate, "%s", state ? state : "");
    snprintf(job->error, sizeof job->error, "%s%s%s (SQLSTATE %s)",
             msg ? msg : PQresultErrorMessage(r), detail ? ": " : "", detail ? detail : "",
             state ? state : "none");
    /* PL/pgSQL reports a RAISE from its function exec_stmt_raise (stable
     * since PostgreSQL 8); the server's own errors come from elsewhere. */
    const char *fn = PQresultErrorField(r, PG_DIAG_SOURCE_FUNCTION);
    job->raised[0] = '\0';
    if (msg && !detail && fn && strcmp(fn, "exec_stmt_raise") == 0)
        snprintf(job->raised, sizeof job->raised, "%s", msg);
}

/* Checks one statement's result; 1 when it decided the job's error. */
static int check_one(struct db_job *job, const PGresult *r, const char *what, int n)
{
    if (!r) {
        snprintf(job->error, sizeof job->error, "%s %d did not run", what, n);
        return 1;
    }
    if (result_failed(r)) {
        job_set_error(job, r);
        return 1;
    }
    return 0;
}

/* Fills job->error/sqlstate from the first failed result, if any. */
static void job_check_results(struct db_job *job)
{
    if (job->transaction && check_one(job, job->begin, "BEGIN of batch", 0))
        return;
    for (int i = 0; i < job->nstmts; i++)
        if (check_one(job, job->results[i], "statement", i + 1))
            return;
    if (!job->transaction || check_one(job, job->commit, "COMMIT of batch", 0))
        return;
    if (strcmp(PQcmdStatus(job->commit), "COMMIT") != 0) /* COMMIT of an aborted transaction */
        snprintf(job->error, sizeof job->error, "transaction was rolled back (%s)",
                 PQcmdStatus(job->commit));
}

void db_job_finish(struct tocsin_db *db, struct db_job *job, int ambiguous)
{
    if (!job->error[0])
        job_check_results(job);
    struct tocsin_db_result res = {0};
    res.results = job->results;
    res.nresults = job->nstmts;
    res.error = job->error[0] ? job->error : NULL;
    res.res = res.error || !job->results ? NULL : job->results[job->nstmts - 1];
    res.sqlstate = job->sqlstate;
    res.raised = res.error && job->raised[0] ? job->raised : NULL;
    res.ambiguous = res.error && ambiguous;
    if (!job->internal) {
        tocsin_metric_add(res.error ? &m_errors : &m_queries, 1);
        db->stats.queries += !res.error;
        db->stats.errors += !!res.error;
        db->stats.ambiguous += !!res.ambiguous;
    }
    if (res.error && tocsin_log_enabled(TOCSIN_LOG_DEBUG))
        log_debug("db_query_failed", "sqlstate=%s ambiguous=%d",
                  job->sqlstate[0] ? job->sqlstate : "-", res.ambiguous);
    if (job->cb)
        job->cb(&res, job->ctx);
    db_job_free(job);
}

void db_job_requeue(struct tocsin_db *db, struct db_job *job)
{
    for (int i = 0; i < job->nstmts; i++) {
        PQclear(job->results[i]);
        job->results[i] = NULL;
    }
    PQclear(job->begin);
    PQclear(job->commit);
    job->begin = job->commit = NULL;
    job->sent = job->received = job->sync_seen = 0;
    job->next = db->head;
    db->head = job;
    if (!db->tail)
        db->tail = job;
}
