/* SPDX-License-Identifier: AGPL-3.0-or-later
 * inbound_batch.c — member messages applied in batches: the messages that
 * arrive while earlier batches run (or within one loop turn) go to
 * PostgreSQL as ONE call of tocsin_receive_inbound_batch (schema/007),
 * whose effect is that of tocsin_receive_inbound for each in order. Each
 * message's caller hears of its own row once the batch committed. A batch
 * that fails for its data is retried message by message (in order, each
 * committing on its own) so one bad message cannot fail the others; one
 * that fails for the connection reports that to every message (store.c
 * spools them, in order). Knows nothing of HTTP or the spool. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway.h"
#include "log.h"

#define BATCH_MAX 200   /* keeps one batch's NOTIFY payload far below 8000 bytes */
#define MAX_IN_FLIGHT 2 /* batches running at once: enough to keep PostgreSQL busy */
#define NCOLS GW_INBOUND_PARAMS

static const char batch_sql[] =
    "SELECT * FROM tocsin_receive_inbound_batch($1::text[], $2::text[], $3::bigint[], $4::text[], "
    "$5::text[],"
    " $6::int[], $7::text[], $8::bigint[], $9::boolean[], $10::text[], $11::text[], $12::int[])";

struct item {
    const char *const *params;
    gw_batch_cb cb;
    void *ctx;
};

struct batch {
    struct item *items;
    int n, cap;
};

static struct batch open_batch;
static int in_flight;
static uv_check_t turn_end;
static int started, stopped;
static struct tocsin_db *db;

static struct tocsin_metric m_batches = TOCSIN_METRIC_COUNTER(
    "tocsin_gateway_inbound_batches_total", "inbound batches sent to the database", NULL);
static struct tocsin_metric m_fallbacks =
    TOCSIN_METRIC_COUNTER("tocsin_gateway_inbound_batch_fallbacks_total",
                          "inbound batches retried message by message", NULL);

/* --- PostgreSQL array literals --- */

struct text {
    char *s;
    size_t len, cap;
};

static int text_put(struct text *t, const char *s, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 1024;
        while (cap < t->len + n + 1)
            cap *= 2;
        char *p = realloc(t->s, cap);
        if (!p)
            return -1;
        t->s = p;
        t->cap = cap;
    }
    memcpy(t->s + t->len, s, n);
    t->len += n;
    t->s[t->len] = '\0';
    return 0;
}

/* Appends v (NULL = SQL NULL) as a quoted array element. */
static int array_element(struct text *t, const char *v, int first)
{
    if (!first && text_put(t, ",", 1))
        return -1;
    if (!v)
        return text_put(t, "NULL", 4);
    if (text_put(t, "\"", 1))
        return -1;
    for (const char *p = v; *p;) {
        size_t run = strcspn(p, "\"\\");
        if (text_put(t, p, run))
            return -1;
        p += run;
        if (*p && (text_put(t, "\\", 1) || text_put(t, p, 1)))
            return -1;
        if (*p)
            p++;
    }
    return text_put(t, "\"", 1);
}

/* The batch's twelve array parameters (in cols, reused); 0 or -1. */
static int build_arrays(const struct batch *b, struct text cols[NCOLS])
{
    for (int c = 0; c < NCOLS; c++) {
        cols[c].len = 0;
        if (text_put(&cols[c], "{", 1))
            return -1;
        for (int i = 0; i < b->n; i++)
            if (array_element(&cols[c], b->items[i].params[c], i == 0))
                return -1;
        if (text_put(&cols[c], "}", 1))
            return -1;
    }
    return 0;
}

/* --- outcomes --- */

static void batch_free(struct batch *b)
{
    free(b->items);
    free(b);
}

static void flush(void);

static void batch_settled(void)
{
    in_flight--;
    if (open_batch.n > 0)
        flush();
}

/* Message-by-message retry of a batch that failed for its data. */
static void one_by_one_done(const struct tocsin_db_result *r, void *ctx)
{
    struct batch *b = ctx;
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
    batch_settled();
}

static void retry_one_by_one(struct batch *b)
{
    tocsin_metric_add(&m_fallbacks, 1);
    struct tocsin_db_batch *p = tocsin_db_batch_new(db, 0);
    for (int i = 0; p && i < b->n; i++)
        if (tocsin_db_batch_add(p, gw_store_sql(GW_INBOUND_KIND), NCOLS, b->items[i].params) != 0)
            break;
    if (p && tocsin_db_batch_run(p, one_by_one_done, b) == 0)
        return;
    for (int i = 0; i < b->n; i++)
        b->items[i].cb(b->items[i].ctx, NULL, 0, "could not queue the messages", "", 0);
    batch_free(b);
    batch_settled();
}

static void batch_done(const struct tocsin_db_result *r, void *ctx)
{
    struct batch *b = ctx;
    if (r->error && !gw_db_error_transient(r->sqlstate, r->ambiguous)) {
        log_info("inbound_batch_failed", "messages=%d reason=\"%s\" retry=one_by_one", b->n,
                 r->error);
        retry_one_by_one(b);
        return;
    }
    int *row = NULL;
    if (!r->error && (row = malloc((size_t)b->n * sizeof *row))) {
        for (int i = 0; i < b->n; i++)
            row[i] = -1;
        for (int i = 0; i < PQntuples(r->res); i++) {
            long ord = strtol(PQgetvalue(r->res, i, 3), NULL, 10);
            if (ord >= 1 && ord <= b->n)
                row[ord - 1] = i;
        }
    }
    for (int i = 0; i < b->n; i++) {
        struct item *it = &b->items[i];
        if (r->error)
            it->cb(it->ctx, NULL, 0, r->error, r->sqlstate, r->ambiguous);
        else if (row && row[i] >= 0)
            it->cb(it->ctx, r->res, row[i], NULL, NULL, 0);
        else
            it->cb(it->ctx, NULL, 0,
                   row ? "the batch returned no row for the message" : "out of memory", "XX000", 0);
    }
    free(row);
    batch_free(b);
    batch_settled();
}

/* Sends the open batch (when fewer than MAX_IN_FLIGHT run). */
static void flush(void)
{
    static struct text cols[NCOLS];
    if (open_batch.n == 0 || in_flight >= MAX_IN_FLIGHT)
        return;
    struct batch *b = malloc(sizeof *b);
    if (!b)
        return; /* tried again at the end of this turn */
    *b = open_batch;
    memset(&open_batch, 0, sizeof open_batch);
    if (b->n > BATCH_MAX) { /* the rest waits for the next batch */
        int rest = b->n - BATCH_MAX;
        open_batch.items = malloc((size_t)rest * sizeof *open_batch.items);
        if (!open_batch.items) {
            open_batch = *b;
            free(b);
            return;
        }
        memcpy(open_batch.items, b->items + BATCH_MAX, (size_t)rest * sizeof *b->items);
        open_batch.n = open_batch.cap = rest;
        b->n = BATCH_MAX;
    }
    in_flight++;
    tocsin_metric_add(&m_batches, 1);
    const char *params[NCOLS];
    if (build_arrays(b, cols) == 0) {
        for (int c = 0; c < NCOLS; c++)
            params[c] = cols[c].s;
        if (tocsin_db_query(db, batch_sql, NCOLS, params, batch_done, b) == 0)
            return;
    }
    struct tocsin_db_result failed = {.error = "could not queue the batch", .sqlstate = ""};
    batch_done(&failed, b);
}

static void on_turn_end(uv_check_t *h)
{
    (void)h;
    flush();
    if (open_batch.n == 0)
        uv_check_stop(&turn_end);
}

void gw_batch_inbound(struct gateway *g, const char *const *params, gw_batch_cb cb, void *ctx)
{
    if (!started) {
        db = g->d->db;
        uv_check_init(g->d->loop, &turn_end);
        tocsin_metric_register(&m_batches);
        tocsin_metric_register(&m_fallbacks);
        started = 1;
    }
    if (open_batch.n == open_batch.cap) {
        int cap = open_batch.cap ? 2 * open_batch.cap : 32;
        struct item *items = realloc(open_batch.items, (size_t)cap * sizeof *items);
        if (!items) {
            cb(ctx, NULL, 0, "out of memory", "53200", 0);
            return;
        }
        open_batch.items = items;
        open_batch.cap = cap;
    }
    open_batch.items[open_batch.n++] = (struct item){params, cb, ctx};
    if (open_batch.n >= BATCH_MAX || stopped) /* stopping: no more loop-turn checks */
        flush();
    if (open_batch.n > 0 && !stopped && !uv_is_active((uv_handle_t *)&turn_end))
        uv_check_start(&turn_end, on_turn_end);
}

void gw_batch_stop(void)
{
    if (!started || stopped)
        return;
    stopped = 1;
    flush();
    uv_close((uv_handle_t *)&turn_end, NULL);
}
