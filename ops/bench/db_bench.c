/* SPDX-License-Identifier: AGPL-3.0-or-later
 * db_bench.c — rows/s through lib/db: inserting N rows one query at a time,
 * all queued at once (the pool keeps its connections busy), and as
 * pipelined batches of 1000 (one transaction each, or one Sync per
 * statement); point-selecting them queued and pipelined; and, as bounds,
 * the same rows in one server-side INSERT ... SELECT and one SELECT.
 * Usage: bench_db N  (TOCSIN_DATABASE_URL: an empty database) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"

#define BATCH 1000

static uv_loop_t *loop;
static struct tocsin_db *db;
static long done_count;
static int failed;
static char (*ids)[24];

static void on_done(const struct tocsin_db_result *r, void *ctx)
{
    (void)ctx;
    if (r->error) {
        fprintf(stderr, "bench_db: %s\n", r->error);
        failed = 1;
    }
    done_count++;
}

static void run_until(long target)
{
    while (done_count < target && !failed)
        uv_run(loop, UV_RUN_ONCE);
}

static double seconds(void)
{
    return (double)uv_hrtime() / 1e9;
}

static void run_sql(const char *sql)
{
    done_count = 0;
    tocsin_db_query(db, sql, 0, NULL, on_done, NULL);
    run_until(1);
    done_count = 0;
}

/* Rows/s for n single-statement queries: one in flight, or all queued. */
static double singles(const char *sql, long n, int serial)
{
    done_count = 0;
    double t0 = seconds();
    for (long i = 0; i < n; i++) {
        const char *p[] = {ids[i]};
        tocsin_db_query(db, sql, 1, p, on_done, NULL);
        if (serial)
            run_until(i + 1);
    }
    run_until(n);
    return n / (seconds() - t0);
}

/* Rows/s for n statements sent as pipelined batches of BATCH. */
static double batches(const char *sql, long n, int transaction)
{
    done_count = 0;
    long nbatches = 0;
    double t0 = seconds();
    for (long i = 0; i < n; i += BATCH, nbatches++) {
        struct tocsin_db_batch *b = tocsin_db_batch_new(db, transaction);
        for (long k = i; k < i + BATCH && k < n; k++) {
            const char *p[] = {ids[k]};
            tocsin_db_batch_add(b, sql, 1, p);
        }
        tocsin_db_batch_run(b, on_done, NULL);
    }
    run_until(nbatches);
    return n / (seconds() - t0);
}

/* Rows/s for one statement that handles all n rows on the server. */
static double one_statement(const char *sql, long n)
{
    char count[24];
    snprintf(count, sizeof count, "%ld", n);
    const char *p[] = {count};
    done_count = 0;
    double t0 = seconds();
    tocsin_db_query(db, sql, 1, p, on_done, NULL);
    run_until(1);
    return n / (seconds() - t0);
}

static void report(const char *what, double rate, double bound)
{
    printf("  %-44s %10.0f rows/s  (%5.1f%% of the bound)\n", what, rate, 100.0 * rate / bound);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100000;
    const char *url = getenv("TOCSIN_DATABASE_URL");
    if (n < BATCH || !url) {
        fprintf(stderr, "usage: bench_db N (N >= %d; TOCSIN_DATABASE_URL set)\n", BATCH);
        return 2;
    }
    tocsin_log_init("bench", TOCSIN_LOG_WARN);
    loop = uv_default_loop();
    struct tocsin_db_options o = {.conninfo = url, .pool_size = 2};
    db = tocsin_db_new(loop, &o);
    ids = malloc((size_t)n * sizeof *ids);
    if (!db || !ids)
        return 1;
    for (long i = 0; i < n; i++)
        snprintf(ids[i], sizeof ids[i], "%ld", i);
    run_sql("CREATE TABLE IF NOT EXISTS bench (id bigint PRIMARY KEY, body text)");
    const char *ins = "INSERT INTO bench (id, body) VALUES ($1, 'hello')";
    const char *sel = "SELECT body FROM bench WHERE id = $1";

    run_sql("TRUNCATE bench");
    double ins_bound = one_statement(
        "INSERT INTO bench SELECT g, 'hello' FROM generate_series(1, $1::bigint) g", n);
    run_sql("TRUNCATE bench");
    double ins_serial = singles(ins, n / 10, 1); /* latency-bound: a tenth is enough */
    run_sql("TRUNCATE bench");
    double ins_queued = singles(ins, n, 0);
    run_sql("TRUNCATE bench");
    double ins_pipe_nosync = batches(ins, n, 0);
    run_sql("TRUNCATE bench");
    double ins_pipe_tx = batches(ins, n, 1);
    run_sql("VACUUM ANALYZE bench");
    double sel_bound = one_statement("SELECT id, body FROM bench WHERE id < $1::bigint", n);
    double sel_queued = singles(sel, n, 0);
    double sel_pipe = batches(sel, n, 0);

    printf("lib/db, %ld rows, pool of 2 (bound: one server-side statement)\n", n);
    printf("insert\n");
    report("bound: INSERT ... SELECT generate_series", ins_bound, ins_bound);
    report("pipelined batches of 1000, one tx each", ins_pipe_tx, ins_bound);
    report("pipelined batches of 1000, Sync per row", ins_pipe_nosync, ins_bound);
    report("single queries, all queued at once", ins_queued, ins_bound);
    report("single queries, one at a time", ins_serial, ins_bound);
    printf("select by primary key\n");
    report("bound: one SELECT of every row", sel_bound, sel_bound);
    report("pipelined batches of 1000", sel_pipe, sel_bound);
    report("single queries, all queued at once", sel_queued, sel_bound);
    free(ids);
    tocsin_db_close(db, NULL, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    return failed;
}
