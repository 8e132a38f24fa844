/* SPDX-License-Identifier: AGPL-3.0-or-later
 * prog_db_check.c — checks lib/db against a live PostgreSQL
 * (TOCSIN_DATABASE_URL): parameters and NULLs, ordering, SQL errors with
 * SQLSTATE, pipelined batches with and without a transaction (a failure at
 * COMMIT fails the batch; no connection is left in a failed transaction),
 * LISTEN/NOTIFY, reconnect after the server kills our backends (in-flight
 * query reported ambiguous, LISTEN re-subscribed), stats, close (running
 * query finishes, queued ones cancelled, grace period), queue deadline.
 * Exits 1 at the first failed check. Driven by test_db.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "dbsync.h"
#include "log.h"

static uv_loop_t *loop;
static int passed;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                        \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
            exit(1);                                                                               \
        }                                                                                          \
        passed++;                                                                                  \
    } while (0)

/* Runs the loop until *flag becomes nonzero or ms pass. */
static int wait_for(volatile int *flag, unsigned ms)
{
    uint64_t end = uv_now(loop) + ms;
    while (!*flag && uv_now(loop) < end) {
        uv_run(loop, UV_RUN_ONCE);
        uv_update_time(loop);
    }
    return *flag;
}

/* Runs the loop until side sees sql running in another session (a query
 * of ours on its way to the server), for up to a minute: what a fixed
 * pause only hoped for. */
static int wait_running(PGconn *side, const char *sql)
{
    const char *p[] = {sql};
    for (int i = 0; i < 6000; i++) {
        PGresult *r = PQexecParams(side,
                                   "SELECT count(*) FROM pg_stat_activity"
                                   " WHERE query = $1 AND state = 'active'",
                                   1, NULL, p, NULL, NULL, 0);
        long n = PQresultStatus(r) == PGRES_TUPLES_OK ? strtol(PQgetvalue(r, 0, 0), NULL, 10) : 0;
        PQclear(r);
        if (n > 0)
            return 1;
        int settle = 0;
        wait_for(&settle, 10);
    }
    return 0;
}

static void tick(uv_timer_t *t)
{
    (void)t;
}

struct answer {
    int done;
    char value[256];
    char error[512];
    char sqlstate[6];
    int ambiguous;
    int ntuples;
    int nresults;
};

static void on_answer(const struct tocsin_db_result *r, void *ctx)
{
    struct answer *a = ctx;
    a->done = 1;
    a->ambiguous = r->ambiguous;
    a->nresults = r->nresults;
    snprintf(a->sqlstate, sizeof a->sqlstate, "%s", r->sqlstate ? r->sqlstate : "");
    if (r->error) {
        snprintf(a->error, sizeof a->error, "%s", r->error);
        return;
    }
    a->ntuples = PQntuples(r->res);
    if (a->ntuples > 0 && PQnfields(r->res) > 0)
        snprintf(a->value, sizeof a->value, "%s",
                 PQgetisnull(r->res, 0, 0) ? "<null>" : PQgetvalue(r->res, 0, 0));
}

static struct answer query(struct tocsin_db *db, const char *sql, int n, const char *const *p)
{
    struct answer a = {0};
    CHECK(tocsin_db_query(db, sql, n, p, on_answer, &a) == 0, "queueing %s", sql);
    CHECK(wait_for(&a.done, 60000), "no answer to %s", sql);
    return a;
}

static int order_next, order_ok = 1;
static void on_ordered(const struct tocsin_db_result *r, void *ctx)
{
    int i = (int)(intptr_t)ctx;
    if (r->error || i != order_next || atoi(PQgetvalue(r->res, 0, 0)) != i)
        order_ok = 0;
    order_next++;
}

static int notified;
static char notify_payload[128];
static void on_notify(const char *channel, const char *payload, void *ctx)
{
    (void)channel;
    (void)ctx;
    notified++;
    snprintf(notify_payload, sizeof notify_payload, "%s", payload);
}

static int listen_connects;
static void on_listen_connected(void *ctx)
{
    (void)ctx;
    listen_connects++;
}

static int closed;
static void on_closed(void *arg)
{
    (void)arg;
    closed = 1;
}

int main(void)
{
    const char *url = getenv("TOCSIN_DATABASE_URL");
    if (!url) {
        fprintf(stderr, "TOCSIN_DATABASE_URL is not set\n");
        return 2;
    }
    tocsin_log_init("db_check", getenv("TEST_DEBUG") ? TOCSIN_LOG_DEBUG : TOCSIN_LOG_WARN);
    loop = uv_default_loop();
    uv_timer_t ticker; /* keeps the loop turning while we wait */
    uv_timer_init(loop, &ticker);
    uv_timer_start(&ticker, tick, 10, 10);
    char err[512];
    PGconn *side = tocsin_dbsync_connect(url, err, sizeof err);
    CHECK(side != NULL, "%s", err);

    struct tocsin_db_options o = {
        .conninfo = url, .pool_size = 2, .reconnect_max_ms = 500, .queue_timeout_ms = 3000};
    struct tocsin_db *db = tocsin_db_new(loop, &o);
    CHECK(db != NULL, "pool");

    /* Parameters, NULL, text. */
    const char *p1[] = {"41", NULL, "it's \"quoted\""};
    struct answer a = query(db, "SELECT ($1::int + 1)::text, $2::text IS NULL, $3::text", 3, p1);
    CHECK(!a.error[0] && strcmp(a.value, "42") == 0, "got %s %s", a.value, a.error);
    CHECK(tocsin_db_ready(db), "ready after a query");
    struct answer later = {0};
    tocsin_db_query(db, "SELECT 1", 0, NULL, on_answer, &later);
    CHECK(!later.done, "a callback never runs inside the call that queued it");
    CHECK(wait_for(&later.done, 60000), "answered on a later loop turn");

    /* Many queries answer in order. */
    char nums[200][16];
    for (int i = 0; i < 200; i++) {
        snprintf(nums[i], sizeof nums[i], "%d", i);
        const char *p[] = {nums[i]};
        tocsin_db_query(db, "SELECT $1::int", 1, p, on_ordered, (void *)(intptr_t)i);
    }
    int two_hundred = 0;
    for (int i = 0; i < 500 && order_next < 200; i++)
        wait_for(&two_hundred, 10);
    /* Two connections may interleave, but each answer matches its query. */
    CHECK(order_next == 200, "only %d of 200 answered", order_next);

    /* SQL errors carry SQLSTATE and leave the connection usable. */
    a = query(db, "SELEC 1", 0, NULL);
    CHECK(strcmp(a.sqlstate, "42601") == 0 && !a.ambiguous, "syntax error: %s %s", a.sqlstate,
          a.error);
    a = query(db, "CREATE TABLE t (id int PRIMARY KEY, v text)", 0, NULL);
    CHECK(!a.error[0], "%s", a.error);
    const char *dup[] = {"1"};
    a = query(db, "INSERT INTO t VALUES ($1, 'a')", 1, dup);
    CHECK(!a.error[0], "%s", a.error);
    a = query(db, "INSERT INTO t VALUES ($1, 'b')", 1, dup);
    CHECK(strcmp(a.sqlstate, "23505") == 0, "unique violation: %s", a.error);
    a = query(db, "SELECT count(*) FROM t", 0, NULL);
    CHECK(strcmp(a.value, "1") == 0, "count %s", a.value);

    /* A transactional batch commits everything... */
    struct tocsin_db_batch *b = tocsin_db_batch_new(db, 1);
    const char *p2[] = {"2"}, *p3[] = {"3"};
    tocsin_db_batch_add(b, "INSERT INTO t VALUES ($1, 'x')", 1, p2);
    tocsin_db_batch_add(b, "INSERT INTO t VALUES ($1, 'y')", 1, p3);
    tocsin_db_batch_add(b, "SELECT count(*)::text FROM t", 0, NULL);
    struct answer ba = {0};
    CHECK(tocsin_db_batch_run(b, on_answer, &ba) == 0, "batch");
    CHECK(wait_for(&ba.done, 60000) && !ba.error[0], "batch: %s", ba.error);
    CHECK(ba.nresults == 3 && strcmp(ba.value, "3") == 0, "batch results %d value %s", ba.nresults,
          ba.value);
    /* ...or nothing. */
    b = tocsin_db_batch_new(db, 1);
    const char *p4[] = {"4"};
    tocsin_db_batch_add(b, "INSERT INTO t VALUES ($1, 'x')", 1, p4);
    tocsin_db_batch_add(b, "INSERT INTO t VALUES ($1, 'dup')", 1, p2);
    tocsin_db_batch_add(b, "SELECT 1", 0, NULL);
    memset(&ba, 0, sizeof ba);
    tocsin_db_batch_run(b, on_answer, &ba);
    CHECK(wait_for(&ba.done, 60000) && strcmp(ba.sqlstate, "23505") == 0 && !ba.ambiguous,
          "tx batch error: %s", ba.error);
    /* Both connections at once: neither was left inside the failed transaction. */
    struct answer c1 = {0}, c2 = {0};
    tocsin_db_query(db, "SELECT count(*) FROM t WHERE id = 4", 0, NULL, on_answer, &c1);
    tocsin_db_query(db, "SELECT count(*) FROM t WHERE id = 4", 0, NULL, on_answer, &c2);
    CHECK(wait_for(&c1.done, 60000) && wait_for(&c2.done, 60000), "both answered");
    CHECK(strcmp(c1.value, "0") == 0 && strcmp(c2.value, "0") == 0,
          "row 4 must have rolled back, counts %s %s (%s%s)", c1.value, c2.value, c1.error,
          c2.error);
    /* A failure at COMMIT itself (a deferred constraint) fails the batch. */
    a = query(db, "CREATE TABLE d (id int UNIQUE DEFERRABLE INITIALLY DEFERRED)", 0, NULL);
    CHECK(!a.error[0], "%s", a.error);
    b = tocsin_db_batch_new(db, 1);
    tocsin_db_batch_add(b, "INSERT INTO d VALUES ($1)", 1, p2);
    tocsin_db_batch_add(b, "INSERT INTO d VALUES ($1)", 1, p2);
    memset(&ba, 0, sizeof ba);
    tocsin_db_batch_run(b, on_answer, &ba);
    CHECK(wait_for(&ba.done, 60000) && strcmp(ba.sqlstate, "23505") == 0 && !ba.ambiguous,
          "commit-time failure: %s", ba.error);
    a = query(db, "SELECT count(*) FROM d", 0, NULL);
    CHECK(strcmp(a.value, "0") == 0, "deferred batch rolled back, count %s", a.value);
    /* Without a transaction each statement stands alone. */
    b = tocsin_db_batch_new(db, 0);
    tocsin_db_batch_add(b, "INSERT INTO t VALUES ($1, 'x')", 1, p4);
    tocsin_db_batch_add(b, "INSERT INTO t VALUES ($1, 'dup')", 1, p2);
    memset(&ba, 0, sizeof ba);
    tocsin_db_batch_run(b, on_answer, &ba);
    CHECK(wait_for(&ba.done, 60000) && ba.error[0], "second statement fails");
    a = query(db, "SELECT count(*) FROM t WHERE id = 4", 0, NULL);
    CHECK(strcmp(a.value, "1") == 0, "row 4 stands alone, count %s", a.value);

    /* 1000 inserts in one pipelined round trip. */
    b = tocsin_db_batch_new(db, 1);
    char ids[1000][16];
    for (int i = 0; i < 1000; i++) {
        snprintf(ids[i], sizeof ids[i], "%d", 1000 + i);
        const char *p[] = {ids[i]};
        tocsin_db_batch_add(b, "INSERT INTO t VALUES ($1, 'bulk')", 1, p);
    }
    memset(&ba, 0, sizeof ba);
    tocsin_db_batch_run(b, on_answer, &ba);
    CHECK(wait_for(&ba.done, 60000) && !ba.error[0] && ba.nresults == 1000, "bulk: %s", ba.error);
    a = query(db, "SELECT count(*) FROM t WHERE v = 'bulk'", 0, NULL);
    CHECK(strcmp(a.value, "1000") == 0, "bulk count %s", a.value);

    /* LISTEN / NOTIFY from another connection. */
    tocsin_db_on_listen_connected(db, on_listen_connected, NULL);
    CHECK(tocsin_db_listen(db, "Bad-Name", on_notify, NULL) == -1, "bad channel rejected");
    CHECK(tocsin_db_listen(db, "tocsin_test", on_notify, NULL) == 0, "listen");
    CHECK(wait_for(&listen_connects, 60000), "listener connected");
    CHECK(tocsin_dbsync_command(side, "NOTIFY tocsin_test, 'hello'", err, sizeof err) == 0, "%s",
          err);
    CHECK(wait_for(&notified, 60000) && strcmp(notify_payload, "hello") == 0, "notify: %s",
          notify_payload);

    /* The server kills every backend of ours, one of them mid-query. */
    struct answer slow = {0};
    tocsin_db_query(db, "SELECT pg_sleep(10)", 0, NULL, on_answer, &slow);
    int settle = 0;
    CHECK(wait_running(side, "SELECT pg_sleep(10)"), "the slow query runs");
    CHECK(tocsin_dbsync_command(side,
                                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE datname = current_database() AND pid <> pg_backend_pid()",
                                err, sizeof err) == 0,
          "%s", err);
    CHECK(wait_for(&slow.done, 60000), "in-flight query answered");
    CHECK(slow.error[0] && slow.ambiguous, "in-flight query is ambiguous: %s", slow.error);
    /* Let the idle connection read its FATAL too: a query sent on a dead
     * socket it has not noticed yet would (rightly) come back ambiguous. */
    wait_for(&settle, 300);
    a = query(db, "SELECT 'back'", 0, NULL); /* waits in the queue for the reconnect */
    CHECK(strcmp(a.value, "back") == 0, "after reconnect: %s", a.error);
    int before = listen_connects;
    CHECK(wait_for((volatile int *)&listen_connects, 60000) && listen_connects >= before,
          "relisten");
    for (int i = 0; i < 6000 && listen_connects < 2; i++)
        wait_for(&settle, 10);
    CHECK(listen_connects >= 2, "listener re-subscribed (%d connects)", listen_connects);
    int n0 = notified;
    tocsin_dbsync_command(side, "NOTIFY tocsin_test, 'again'", err, sizeof err);
    for (int i = 0; i < 6000 && notified == n0; i++)
        wait_for(&settle, 10);
    CHECK(notified == n0 + 1 && strcmp(notify_payload, "again") == 0, "notify after reconnect");

    struct tocsin_db_stats st;
    tocsin_db_get_stats(db, &st);
    CHECK(st.reconnects >= 2 && st.ambiguous >= 1 && st.errors >= 4 && st.queries > 200 &&
              st.queued == 0,
          "stats: reconnects %llu ambiguous %llu errors %llu queries %llu queued %u", st.reconnects,
          st.ambiguous, st.errors, st.queries, st.queued);
    CHECK(tocsin_db_is_ready(db), "ready after the reconnect");

    /* Close: a running query finishes, queued ones are cancelled (not
     * ambiguous), then everything is freed (ASan checks). */
    struct answer running = {0}, queued[3] = {{0}};
    tocsin_db_query(db, "SELECT pg_sleep(0.3)::text || 'slept'", 0, NULL, on_answer, &running);
    wait_for(&settle, 100);
    for (int i = 0; i < 3; i++)
        tocsin_db_query(db, "SELECT 'never'", 0, NULL, on_answer, &queued[i]);
    tocsin_db_close(db, on_closed, NULL);
    tocsin_db_close(db, on_closed, NULL); /* a second close does nothing */
    CHECK(tocsin_db_query(db, "SELECT 1", 0, NULL, NULL, NULL) == -1, "no queries while closing");
    CHECK(!queued[0].done, "cancellations are delivered on a later loop turn");
    CHECK(wait_for(&closed, 60000), "closed");
    CHECK(running.done && strcmp(running.value, "slept") == 0, "running query finished: %s",
          running.error);
    for (int i = 0; i < 3; i++)
        CHECK(queued[i].done && strstr(queued[i].error, "cancelled") && !queued[i].ambiguous,
              "queued query %d cancelled: %s", i, queued[i].error);

    /* Close with a query that outlives the grace period: it fails ambiguous. */
    struct tocsin_db_options quick = {.conninfo = url, .pool_size = 1, .close_grace_ms = 300};
    db = tocsin_db_new(loop, &quick);
    /* One connection: a stray BEGIN is rolled back before the next job. */
    a = query(db, "BEGIN", 0, NULL);
    CHECK(!a.error[0], "%s", a.error);
    a = query(db, "SAVEPOINT s", 0, NULL); /* fails outside a transaction block */
    CHECK(strcmp(a.sqlstate, "25P01") == 0, "the next job runs outside that transaction: %s",
          a.error);
    struct answer stuck = {0};
    tocsin_db_query(db, "SELECT pg_sleep(5)", 0, NULL, on_answer, &stuck);
    CHECK(wait_running(side, "SELECT pg_sleep(5)"), "the stuck query runs");
    closed = 0;
    tocsin_db_close(db, on_closed, NULL);
    CHECK(wait_for(&closed, 60000), "closed after the grace period");
    CHECK(stuck.done && stuck.error[0] && stuck.ambiguous, "stuck query is ambiguous: %s",
          stuck.error);

    /* An unreachable server: queued queries fail at their deadline. */
    struct tocsin_db_options bad = {.conninfo = "host=127.0.0.1 port=1 connect_timeout=1",
                                    .pool_size = 1,
                                    .reconnect_max_ms = 200,
                                    .queue_timeout_ms = 500};
    struct tocsin_db *down = tocsin_db_new(loop, &bad);
    struct answer never = {0};
    tocsin_db_query(down, "SELECT 1", 0, NULL, on_answer, &never);
    CHECK(wait_for(&never.done, 60000), "deadline");
    CHECK(strstr(never.error, "database unavailable") != NULL && !never.ambiguous, "%s",
          never.error);
    CHECK(!tocsin_db_ready(down) && tocsin_db_last_error(down)[0], "down reports why");
    closed = 0;
    tocsin_db_close(down, on_closed, NULL);
    CHECK(wait_for(&closed, 60000), "closed while down");

    PQfinish(side);
    uv_timer_stop(&ticker);
    uv_close((uv_handle_t *)&ticker, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
    printf("%d passed, 0 failed\n", passed);
    return 0;
}
