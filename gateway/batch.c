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

static struct tocsin_metric m_batches[] = {
    TOCSIN_METRIC_COUNTER("tocsin_gateway_inbound_batches_total",
                          "member-message batches sent to the database", NULL),
    TOCSIN_METRIC_COUNTER("tocsin_gateway_receipt_batches_total",
                          "receipt batches sent to the database", NULL),
};
static struct tocsin_metric m_fallbacks[] = {
    TOCSIN_METRIC_COUNTER("tocsin_gateway_inbound_batch_fallbacks_total",
                          "member-message batches retried one by one", NULL),
    TOCSIN_METRIC_COUNTER("tocsin_gateway_receipt_batch_fallbacks_total",
                          "receipt batches retried one by one", NULL),
};
static const int kinds[] = {GW_SPOOL_INBOUND, GW_SPOOL_RECEIPT}; /* index: the metrics' */
#define NQUEUES ((int)(sizeof kinds / sizeof kinds[0]))

/* One kind's queue. */
struct queue {
    struct gw_batches *bs;
    int kind, ncols;
    struct batch open;
    int in_flight;
    uint64_t last_add_ms;      /* when a webhook last joined the queue */
    struct gw_batch_call call; /* reused array literals */
    struct tocsin_metric *batches, *fallbacks;
};

/* The gateway's batching state (g->batches). */
struct gw_batches {
    struct gateway *g;
    uv_check_t turn_end; /* data: this struct */
    int stopped;
    unsigned journal_at; /* TOCSIN_GATEWAY_JOURNAL_AT */
    struct queue queues[NQUEUES];
};

static struct queue *queue_of(struct gw_batches *bs, int kind, int n);

int gw_batch_call(const struct gateway *g, int kind, const char *const *const *params, int n,
                  struct gw_batch_call *a, const char **sql, const char **out)
{
    struct queue *q = queue_of(g->batches, kind, gw_kind_params(kind));
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
    *sql = kind == GW_SPOOL_INBOUND ? g->sql.inbound_batch : g->sql.receipt_batch;
    return q->ncols;
}

void gw_batch_call_free(struct gw_batch_call *a)
{
    for (int c = 0; c < GW_MAX_PARAMS; c++) {
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
            b->items[i].cb(res, 0, NULL, NULL, 0, b->items[i].ctx);
        else if (res)
            b->items[i].cb(NULL, 0, PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY),
                           PQresultErrorField(res, PG_DIAG_SQLSTATE), 0, b->items[i].ctx);
        else /* did not run, or its outcome never arrived */
            b->items[i].cb(NULL, 0, r->error ? r->error : "not run", "", 1, b->items[i].ctx);
    }
    batch_free(b);
    batch_settled(q);
}

static void retry_one_by_one(struct batch *b)
{
    struct queue *q = b->q;
    struct gateway *g = q->bs->g;
    tocsin_metric_add(q->fallbacks, 1);
    struct tocsin_db_batch *p = tocsin_db_batch_new(g->d->db, 0);
    for (int i = 0; p && i < b->n; i++)
        if (tocsin_db_batch_add(p, gw_store_sql(g, q->kind), q->ncols, b->items[i].params) != 0)
            break;
    if (p && tocsin_db_batch_run(p, one_by_one_done, b) == 0)
        return;
    for (int i = 0; i < b->n; i++)
        b->items[i].cb(NULL, 0, "could not queue the webhooks", "", 0, b->items[i].ctx);
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
        int ord_col = PQfnumber(r->res, GW_COL_ORD);
        int action_col = b->burst ? PQfnumber(r->res, GW_COL_ACTION) : -1;
        for (int i = 0; i < b->n; i++)
            row[i] = -1;
        for (int i = 0; ord_col >= 0 && i < PQntuples(r->res); i++) {
            long ord = strtol(PQgetvalue(r->res, i, ord_col), NULL, 10);
            if (ord >= 1 && ord <= b->n)
                row[ord - 1] = i;
            if (action_col >= 0 && strcmp(PQgetvalue(r->res, i, action_col), "journaled") == 0)
                journaled++;
        }
    }
    gw_journal_added(q->bs->g, journaled);
    for (int i = 0; i < b->n; i++) {
        struct item *it = &b->items[i];
        if (r->error)
            it->cb(NULL, 0, r->error, r->sqlstate, r->ambiguous, it->ctx);
        else if (row && row[i] >= 0)
            it->cb(r->res, row[i], NULL, NULL, 0, it->ctx);
        else
            it->cb(NULL, 0, row ? "the batch returned no row for the webhook" : "out of memory",
                   "XX000", 0, it->ctx);
    }
    free(row);
    batch_free(b);
    batch_settled(q);
}

/* Sends q's open batch (when fewer than MAX_IN_FLIGHT of its kind run). */
static void flush(struct queue *q)
{
    struct gw_batches *bs = q->bs;
    struct gateway *g = bs->g;
    if (q->open.n == 0 || q->in_flight >= MAX_IN_FLIGHT)
        return;
    if (q->in_flight > 0 && q->open.n < GATHER_MIN && !bs->stopped)
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
    tocsin_metric_add(q->batches, 1);
    const char *params[GW_MAX_PARAMS], *sql;
    const char *const **list = malloc((size_t)b->n * sizeof *list);
    for (int i = 0; list && i < b->n; i++)
        list[i] = b->items[i].params;
    int np = list ? gw_batch_call(g, q->kind, list, b->n, &q->call, &sql, params) : -1;
    free(list);
    b->burst = q->kind == GW_SPOOL_INBOUND && bs->journal_at > 0 &&
               (unsigned)b->n >= bs->journal_at && gw_journal_has_room(g);
    if (b->burst)
        sql = g->sql.inbound_burst;
    if (np > 0 && tocsin_db_query(g->d->db, sql, np, params, batch_done, b) == 0)
        return;
    struct tocsin_db_result failed = {.error = "could not queue the batch", .sqlstate = ""};
    batch_done(&failed, b);
}

static void on_turn_end(uv_check_t *h)
{
    struct gw_batches *bs = h->data;
    int waiting = 0;
    for (int i = 0; i < NQUEUES; i++) {
        flush(&bs->queues[i]);
        waiting += bs->queues[i].open.n;
    }
    if (!waiting)
        uv_check_stop(&bs->turn_end);
}

static struct queue *queue_of(struct gw_batches *bs, int kind, int n)
{
    for (int i = 0; bs && i < NQUEUES; i++)
        if (bs->queues[i].kind == kind && bs->queues[i].ncols == n)
            return &bs->queues[i];
    return NULL;
}

int gw_batch_add(struct gateway *g, int kind, const char *const *params, int n, gw_batch_cb cb,
                 void *ctx)
{
    struct gw_batches *bs = g->batches;
    struct queue *q = queue_of(bs, kind, n);
    if (!q)
        return -1;
    q->last_add_ms = uv_now(g->d->loop);
    struct batch *open = &q->open;
    if (open->n == open->cap) {
        int cap = open->cap ? 2 * open->cap : 32;
        struct item *items = realloc(open->items, (size_t)cap * sizeof *items);
        if (!items) {
            cb(NULL, 0, "out of memory", "53200", 0, ctx);
            return 0;
        }
        open->items = items;
        open->cap = cap;
    }
    open->items[open->n++] = (struct item){params, cb, ctx};
    if (open->n >= BATCH_MAX || bs->stopped) /* stopping: no more loop-turn checks */
        flush(q);
    if (open->n > 0 && !bs->stopped && !uv_is_active((uv_handle_t *)&bs->turn_end))
        uv_check_start(&bs->turn_end, on_turn_end);
    return 0;
}

int gw_batch_start(struct gateway *g)
{
    struct gw_batches *bs = calloc(1, sizeof *bs);
    if (!bs)
        return -1;
    bs->g = g;
    bs->journal_at = g->d->cfg.gateway_journal_at;
    for (int i = 0; i < NQUEUES; i++) {
        struct queue *q = &bs->queues[i];
        *q = (struct queue){.bs = bs,
                            .kind = kinds[i],
                            .ncols = gw_kind_params(kinds[i]),
                            .batches = &m_batches[i],
                            .fallbacks = &m_fallbacks[i]};
        q->open.q = q;
        tocsin_metric_register(q->batches);
        tocsin_metric_register(q->fallbacks);
    }
    if (uv_check_init(g->d->loop, &bs->turn_end) != 0) {
        free(bs);
        return -1;
    }
    bs->turn_end.data = bs;
    g->batches = bs;
    return 0;
}

int gw_batch_quiet(const struct gateway *g, int kind, uint64_t now, uint64_t quiet_ms)
{
    struct gw_batches *bs = g->batches;
    for (int i = 0; bs && i < NQUEUES; i++) {
        const struct queue *q = &bs->queues[i];
        if (q->kind == kind)
            return q->open.n + q->in_flight == 0 && now - q->last_add_ms >= quiet_ms;
    }
    return 1;
}

void gw_batch_stop(struct gateway *g)
{
    struct gw_batches *bs = g->batches;
    if (!bs || bs->stopped)
        return;
    bs->stopped = 1;
    for (int i = 0; i < NQUEUES; i++)
        flush(&bs->queues[i]);
    uv_close((uv_handle_t *)&bs->turn_end, NULL);
}

void gw_batch_free(struct gateway *g)
{
    struct gw_batches *bs = g->batches;
    if (!bs)
        return;
    for (int i = 0; i < NQUEUES; i++) {
        free(bs->queues[i].open.items);
        gw_batch_call_free(&bs->queues[i].call);
    }
    free(bs);
    g->batches = NULL;
}
