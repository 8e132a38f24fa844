/* SPDX-License-Identifier: AGPL-3.0-or-later
 * db_batch.c — the batch API: statements collected by the caller, then
 * queued as one pipelined job (db_conn.c sends it, with BEGIN/COMMIT when
 * it is a transaction). */
#include "db_internal.h"

#include <stdlib.h>
#include <string.h>

struct tocsin_db_batch {
    struct tocsin_db *db;
    struct db_job *job;
    int cap;
    int failed;
};

struct tocsin_db_batch *tocsin_db_batch_new(struct tocsin_db *db, int transaction)
{
    struct tocsin_db_batch *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->db = db;
    b->job = calloc(1, sizeof *b->job);
    if (!b->job) {
        free(b);
        return NULL;
    }
    b->job->pipeline = 1;
    b->job->transaction = !!transaction;
    return b;
}

static int batch_grow(struct tocsin_db_batch *b)
{
    struct db_job *job = b->job;
    if (job->nstmts < b->cap)
        return 0;
    if (b->cap > (1 << 24))
        return -1;
    int cap = b->cap ? b->cap * 2 : 8;
    struct db_stmt *s = realloc(job->stmts, (size_t)cap * sizeof *s);
    if (!s)
        return -1;
    job->stmts = s;
    b->cap = cap;
    return 0;
}

int tocsin_db_batch_add(struct tocsin_db_batch *b, const char *sql, int nparams,
                        const char *const *params)
{
    if (b->failed || nparams < 0 || batch_grow(b) != 0) {
        b->failed = 1;
        return -1;
    }
    struct db_stmt *s = &b->job->stmts[b->job->nstmts++];
    memset(s, 0, sizeof *s);
    if (db_stmt_fill(s, sql, nparams, params) != 0) {
        b->failed = 1;
        return -1;
    }
    return 0;
}

int tocsin_db_batch_run(struct tocsin_db_batch *b, tocsin_db_cb cb, void *ctx)
{
    struct db_job *job = b->job;
    struct tocsin_db *db = b->db;
    int bad = b->failed || job->nstmts == 0 || db->closing;
    free(b);
    if (!bad) {
        job->results = calloc((size_t)job->nstmts, sizeof *job->results);
        bad = !job->results;
    }
    if (bad) {
        db_job_free(job);
        return -1;
    }
    job->cb = cb;
    job->ctx = ctx;
    db_queue_push(db, job);
    return 0;
}
