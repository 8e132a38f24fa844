/* SPDX-License-Identifier: AGPL-3.0-or-later
 * batch.c — webhooks applied in batches, one queue per kind: the member
 * messages (or receipts) that arrive while earlier batches of their kind
 * run, or within one loop turn, go to PostgreSQL as ONE call of
 * tocsin_receive_inbound_batch (or tocsin_apply_receipt_batch,
 * schema/functions/inbound.sql), whose effect is that of the one-webhook
 * function for each in order. While one batch of a kind runs, the next gathers behind it and
 * starts when it settles, or beside it once GATHER_MIN webhooks wait: a
 * batch costs PostgreSQL about a millisecond before its first row, so two
 * small batches at once cost more than one twice their size (32 concurrent
 * webhooks: 16 per batch instead of 9, a quarter less database time per
 * message). Each caller hears of its own row once the batch committed. A
 * batch that fails for its data is retried webhook by webhook (in order,
 * each committing on its own) so one bad webhook cannot fail the others;
 * one that fails for the connection reports that to every webhook
 * (store.c spools them, in order). A member-message batch of at least
 * TOCSIN_GATEWAY_JOURNAL_AT webhooks means the gateway is behind: it goes
 * through tocsin_receive_inbound_burst (schema/functions/inbound.sql), which commits its
 * replies to the inbound journal, a third of the cost, and applies the
 * rest (opt-outs first among them) as usual; journal.c threads the replies
 * into conversations once member messages pause. Knows nothing of HTTP or the
 * spool. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway.h"
#include "log.h"

#define BATCH_MAX 200   /* keeps one batch's NOTIFY payload far below 8000 bytes */
#define MAX_IN_FLIGHT 2 /* batches of a kind running at once: enough to keep PostgreSQL busy */
#define GATHER_MIN 32   /* a second batch starts beside a running one only this full */
#define MAX_COLS GW_INBOUND_PARAMS

struct item {
    const char *const *params;
    gw_batch_cb cb;
    void *ctx;
};

struct queue;

struct batch {
    struct queue *q;
    struct item *items;
    int n, cap;
    int burst; /* sent to the burst function: its replies were journaled */
};

/* One kind's queue: its batch function, how many parameters, which result
 * column holds a row's position in the batch. */
struct queue {
    int kind, ncols, ord_col;
    const char *sql;
    const char *burst_sql; /* same arguments and rows; NULL: the kind has none */
    struct batch open;
    int in_flight;
    uint64_t last_add_ms; /* when a webhook last joined the queue */
    struct gw_batch_call call; /* reused array literals */
    struct tocsin_metric batches, fallbacks;
};

static struct queue queues[] = {
    {.kind = GW_SPOOL_INBOUND,
     .ncols = GW_INBOUND_PARAMS,
     .ord_col = 3,
     .sql = "SELECT * FROM tocsin_receive_inbound_batch($1::text[], $2::text[], $3::bigint[],"
            " $4::text[], $5::text[], $6::int[], $7::text[], $8::bigint[], $9::boolean[],"
            " $10::text[], $11::text[], $12::int[])",
     .burst_sql =
         "SELECT * FROM tocsin_receive_inbound_burst($1::text[], $2::text[], $3::bigint[],"
         " $4::text[], $5::text[], $6::int[], $7::text[], $8::bigint[], $9::boolean[],"
         " $10::text[], $11::text[], $12::int[])",
     .batches = TOCSIN_METRIC_COUNTER("tocsin_gateway_inbound_batches_total",
                                      "member-message batches sent to the database", NULL),
     .fallbacks = TOCSIN_METRIC_COUNTER("tocsin_gateway_inbound_batch_fallbacks_total",
                                        "member-message batches retried one by one", NULL)},
    {.kind = GW_SPOOL_RECEIPT,
     .ncols = GW_RECEIPT_PARAMS,
     .ord_col = 1,
     .sql =
         "SELECT * FROM tocsin_apply_receipt_batch($1::text[], $2::text[], $3::bigint[], $4::text[],"
         " $5::text[], $6::jsonb[])",
     .batches = TOCSIN_METRIC_COUNTER("tocsin_gateway_receipt_batches_total",
                                      "receipt batches sent to the database", NULL),
     .fallbacks = TOCSIN_METRIC_COUNTER("tocsin_gateway_receipt_batch_fallbacks_total",
                                        "receipt batches retried one by one", NULL)},
};
#define NQUEUES ((int)(sizeof queues / sizeof queues[0]))

static uv_check_t turn_end;
static int started, stopped;
static struct tocsin_db *db;
static unsigned journal_at; /* TOCSIN_GATEWAY_JOURNAL_AT */

static struct queue *queue_of(int kind, int n);

int gw_batch_call(int kind, const char *const *const *params, int n, struct gw_batch_call *a,
                  const char **sql, const char **out)
{
    struct queue *q =
        queue_of(kind, kind == GW_SPOOL_INBOUND ? GW_INBOUND_PARAMS : GW_RECEIPT_PARAMS);
    if (!q)
        return -1;
    for (int c = 0; c < q->ncols; c++) {
        struct tocsin_pgarray *t = &a->cols[c];
        if (t->text.max == 0) /* a zeroed (static) call's first use */
            tocsin_pgarray_init(t, 0);
        else
            tocsin_pgarray_reset(t);
        for (int i = 0; i < n; i++)
            tocsin_pgarray_add_text(t, params[i][c]);
        if (!(out[c] = tocsin_pgarray_finish(t)))
            return -1;
    }
    *sql = q->sql;
    return q->ncols;
}

int gw_batch_ord_column(int kind)
{
    struct queue *q =
        queue_of(kind, kind == GW_SPOOL_INBOUND ? GW_INBOUND_PARAMS : GW_RECEIPT_PARAMS);
    return q ? q->ord_col : -1;
}

void gw_batch_call_free(struct gw_batch_call *a)
{
    for (int c = 0; c < GW_INBOUND_PARAMS; c++) {
        tocsin_pgarray_free(&a->cols[c]);
        a->cols[c] = (struct tocsin_pgarray){0};
    }
}

/* --- outcomes --- */

static void batch_free(struct batch *b)
{
    free(b->items);
    free(b);
}

static void flush(struct queue *q);

static void batch_settled(struct queue *q)
{
    q->in_flight--;
    if (q->open.n > 0)
        flush(q);
}

/* Message-by-message retry of a batch that failed for its data. */
static void one_by_one_done(const struct tocsin_db_result *r, void *ctx)
{
    struct batch *b = ctx;
    struct queue *q = b->q;
    for (int i = 0; i < b->n; i++) {
        const PGresult *res = r->results ? r->results[i] : NULL;
        ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
        if (res && st == PGRES_TUPLES_OK && PQntuples(res) == 1)
            b->items[i].cb(b->items[i].ctx, res, 0, NULL, NULL, 0);
        else if (res)
            b->items[i].cb(b->items[i].ctx, NULL, 0,
                           PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY),
                           PQresultErrorField(res, PG_DIAG_SQLSTATE), 0);
        else /* did not run, or its outcome never arrived */
            b->items[i].cb(b->items[i].ctx, NULL, 0, r->error ? r->error : "not run", "", 1);
    }
    batch_free(b);
    batch_settled(q);
}

static void retry_one_by_one(struct batch *b)
{
    struct queue *q = b->q;
    tocsin_metric_add(&q->fallbacks, 1);
    struct tocsin_db_batch *p = tocsin_db_batch_new(db, 0);
    for (int i = 0; p && i < b->n; i++)
        if (tocsin_db_batch_add(p, gw_store_sql(q->kind), q->ncols, b->items[i].params) != 0)
            break;
    if (p && tocsin_db_batch_run(p, one_by_one_done, b) == 0)
        return;
    for (int i = 0; i < b->n; i++)
        b->items[i].cb(b->items[i].ctx, NULL, 0, "could not queue the webhooks", "", 0);
    batch_free(b);
    batch_settled(q);
}

static void batch_done(const struct tocsin_db_result *r, void *ctx)
{
    struct batch *b = ctx;
    struct queue *q = b->q;
    if (r->error && !gw_db_error_transient(r->sqlstate, r->ambiguous)) {
        log_info("batch_failed", "kind=%d webhooks=%d reason=%s retry=one_by_one", q->kind, b->n,
                 tocsin_log_q(r->error));
        retry_one_by_one(b);
        return;
    }
    int *row = NULL, journaled = 0;
    if (!r->error && (row = malloc((size_t)b->n * sizeof *row))) {
        for (int i = 0; i < b->n; i++)
            row[i] = -1;
        for (int i = 0; i < PQntuples(r->res); i++) {
            long ord = strtol(PQgetvalue(r->res, i, q->ord_col), NULL, 10);
            if (ord >= 1 && ord <= b->n)
                row[ord - 1] = i;
            if (b->burst && strcmp(PQgetvalue(r->res, i, 1), "journaled") == 0)
                journaled++;
        }
    }
    gw_journal_added(journaled);
    for (int i = 0; i < b->n; i++) {
        struct item *it = &b->items[i];
        if (r->error)
            it->cb(it->ctx, NULL, 0, r->error, r->sqlstate, r->ambiguous);
        else if (row && row[i] >= 0)
            it->cb(it->ctx, r->res, row[i], NULL, NULL, 0);
        else
            it->cb(it->ctx, NULL, 0,
                   row ? "the batch returned no row for the webhook" : "out of memory", "XX000", 0);
    }
    free(row);
    batch_free(b);
    batch_settled(q);
}

/* Sends q's open batch (when fewer than MAX_IN_FLIGHT of its kind run). */
static void flush(struct queue *q)
{
    if (q->open.n == 0 || q->in_flight >= MAX_IN_FLIGHT)
        return;
    if (q->in_flight > 0 && q->open.n < GATHER_MIN && !stopped)
        return; /* gathers behind the running batch: it flushes this one when it settles */
    struct batch *b = malloc(sizeof *b);
    if (!b)
        return; /* tried again at the end of this turn */
    *b = q->open;
    memset(&q->open, 0, sizeof q->open);
    q->open.q = q;
    if (b->n > BATCH_MAX) { /* the rest waits for the next batch */
        int rest = b->n - BATCH_MAX;
        q->open.items = malloc((size_t)rest * sizeof *q->open.items);
        if (!q->open.items) {
            q->open = *b;
            free(b);
            return;
        }
        memcpy(q->open.items, b->items + BATCH_MAX, (size_t)rest * sizeof *b->items);
        q->open.n = q->open.cap = rest;
        b->n = BATCH_MAX;
    }
    q->in_flight++;
    tocsin_metric_add(&q->batches, 1);
    const char *params[MAX_COLS], *sql;
    const char *const **list = malloc((size_t)b->n * sizeof *list);
    for (int i = 0; list && i < b->n; i++)
        list[i] = b->items[i].params;
    int np = list ? gw_batch_call(q->kind, list, b->n, &q->call, &sql, params) : -1;
    free(list);
    b->burst = q->burst_sql && journal_at > 0 && (unsigned)b->n >= journal_at && gw_journal_has_room();
    if (b->burst)
        sql = q->burst_sql;
    if (np > 0 && tocsin_db_query(db, sql, np, params, batch_done, b) == 0)
        return;
    struct tocsin_db_result failed = {.error = "could not queue the batch", .sqlstate = ""};
    batch_done(&failed, b);
}

static void on_turn_end(uv_check_t *h)
{
    (void)h;
    int waiting = 0;
    for (int i = 0; i < NQUEUES; i++) {
        flush(&queues[i]);
        waiting += queues[i].open.n;
    }
    if (!waiting)
        uv_check_stop(&turn_end);
}

static struct queue *queue_of(int kind, int n)
{
    for (int i = 0; i < NQUEUES; i++)
        if (queues[i].kind == kind && queues[i].ncols == n)
            return &queues[i];
    return NULL;
}

int gw_batch_add(struct gateway *g, int kind, const char *const *params, int n, gw_batch_cb cb,
                 void *ctx)
{
    struct queue *q = queue_of(kind, n);
    if (!q)
        return -1;
    if (!started) {
        db = g->d->db;
        journal_at = g->d->cfg.gateway_journal_at;
        uv_check_init(g->d->loop, &turn_end);
        for (int i = 0; i < NQUEUES; i++) {
            queues[i].open.q = &queues[i];
            tocsin_metric_register(&queues[i].batches);
            tocsin_metric_register(&queues[i].fallbacks);
        }
        started = 1;
    }
    q->last_add_ms = uv_now(g->d->loop);
    struct batch *open = &q->open;
    if (open->n == open->cap) {
        int cap = open->cap ? 2 * open->cap : 32;
        struct item *items = realloc(open->items, (size_t)cap * sizeof *items);
        if (!items) {
            cb(ctx, NULL, 0, "out of memory", "53200", 0);
            return 0;
        }
        open->items = items;
        open->cap = cap;
    }
    open->items[open->n++] = (struct item){params, cb, ctx};
    if (open->n >= BATCH_MAX || stopped) /* stopping: no more loop-turn checks */
        flush(q);
    if (open->n > 0 && !stopped && !uv_is_active((uv_handle_t *)&turn_end))
        uv_check_start(&turn_end, on_turn_end);
    return 0;
}

int gw_batch_quiet(int kind, uint64_t now, uint64_t quiet_ms)
{
    for (int i = 0; i < NQUEUES; i++)
        if (queues[i].kind == kind)
            return queues[i].open.n + queues[i].in_flight == 0 &&
                   now - queues[i].last_add_ms >= quiet_ms;
    return 1;
}

void gw_batch_stop(void)
{
    if (!started || stopped)
        return;
    stopped = 1;
    for (int i = 0; i < NQUEUES; i++)
        flush(&queues[i]);
    uv_close((uv_handle_t *)&turn_end, NULL);
}
