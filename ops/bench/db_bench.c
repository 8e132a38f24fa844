/* SPDX-License-Identifier: AGPL-3.0-or-later
 * db_bench.c — rows/s inserted through lib/db three ways: one query at a
 * time, all queries queued at once (the pool keeps its connections busy),
 * and pipelined transactional batches of 1000; the bound is one
 * server-side INSERT ... SELECT generate_series of the same rows.
 * Usage: bench_db N  (TOCSIN_DATABASE_URL: an empty database) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"

static uv_loop_t *loop;
static long done_count;
static int failed;

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

static void reset(struct tocsin_db *db)
{
    done_count = 0;
    tocsin_db_query(db, "TRUNCATE bench", 0, NULL, on_done, NULL);
    run_until(1);
    done_count = 0;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100000;
    tocsin_log_init("bench", TOCSIN_LOG_WARN);
    loop = uv_default_loop();
    struct tocsin_db_options o = {.conninfo = getenv("TOCSIN_DATABASE_URL"), .pool_size = 2};
    if (!o.conninfo)
        return 2;
    struct tocsin_db *db = tocsin_db_new(loop, &o);
    tocsin_db_query(db, "CREATE TABLE IF NOT EXISTS bench (id bigint, body text)", 0, NULL, on_done, NULL);
    run_until(1);
    char (*ids)[24] = malloc((size_t)n * 24);
    for (long i = 0; i < n; i++)
        snprintf(ids[i], 24, "%ld", i);
    const char *sql = "INSERT INTO bench (id, body) VALUES ($1, 'hello')";

    reset(db);
    long serial_n = n / 10; /* latency-bound: a tenth is enough to measure */
    double t0 = seconds();
    for (long i = 0; i < serial_n; i++) {
        const char *p[] = {ids[i]};
        tocsin_db_query(db, sql, 1, p, on_done, NULL);
        run_until(i + 1);
    }
    double serial = serial_n / (seconds() - t0);

    reset(db);
    t0 = seconds();
    for (long i = 0; i < n; i++) {
        const char *p[] = {ids[i]};
        tocsin_db_query(db, sql, 1, p, on_done, NULL);
    }
    run_until(n);
    double queued = n / (seconds() - t0);

    reset(db);
    t0 = seconds();
    long batches = 0;
    for (long i = 0; i < n; i += 1000, batches++) {
        struct tocsin_db_batch *b = tocsin_db_batch_new(db, 1);
        for (long k = i; k < i + 1000 && k < n; k++) {
            const char *p[] = {ids[k]};
            tocsin_db_batch_add(b, sql, 1, p);
        }
        tocsin_db_batch_run(b, on_done, NULL);
    }
    run_until(batches);
    double pipelined = n / (seconds() - t0);

    reset(db);
    char count[24];
    snprintf(count, sizeof count, "%ld", n);
    const char *p[] = {count};
    t0 = seconds();
    tocsin_db_query(db, "INSERT INTO bench SELECT g, 'hello' FROM generate_series(1, $1::bigint) g", 1, p,
                    on_done, NULL);
    run_until(1);
    double bound = n / (seconds() - t0);

    printf("rows: %ld\n", n);
    printf("  server-side INSERT ... SELECT (bound): %9.0f rows/s\n", bound);
    printf("  pipelined batches of 1000 in one tx:   %9.0f rows/s\n", pipelined);
    printf("  all queued at once (pool of 2):        %9.0f rows/s\n", queued);
    printf("  one at a time (round trip each):       %9.0f rows/s\n", serial);
    free(ids);
    tocsin_db_close(db, NULL, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    return failed;
}
