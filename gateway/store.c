/* SPDX-License-Identifier: AGPL-3.0-or-later
 * store.c — where an authentic webhook's effect goes: straight to
 * PostgreSQL, or, while it cannot be reached, to the spool (spool.c),
 * which is replayed in order through the same idempotent SQL functions
 * once it is back (also at startup), up to 200 records a transaction. While
 * the spool holds anything, new webhooks are appended behind it, so
 * effects keep their arrival order. A SQL error that is the data's fault
 * is not spooled: the caller answers it as before. Direct statements go
 * through batch.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway.h"
#include "log.h"
#include "spool.h"

#define REPLAY_BATCH 200
#define REPLAY_POLL_MS 100

static struct tocsin_metric m_spooled = TOCSIN_METRIC_COUNTER(
    "tocsin_gateway_spooled_total", "webhooks spooled while the database was unreachable", NULL);
static struct tocsin_metric m_replayed = TOCSIN_METRIC_COUNTER(
    "tocsin_gateway_spool_replayed_total", "spooled webhooks applied to the database", NULL);
static struct tocsin_metric m_rejected =
    TOCSIN_METRIC_COUNTER("tocsin_gateway_spool_rejected_total",
                          "spooled webhooks the database refused for good (kept aside)", NULL);
static struct tocsin_metric m_bytes =
    TOCSIN_METRIC_GAUGE("tocsin_gateway_spool_bytes", "bytes in the spool file", NULL);

/* The store's state (g->store). */
struct gw_store {
    struct gateway *g;
    struct gw_spool *spool;
    uv_timer_t replay_timer; /* data: this struct */
    uint64_t replay_off;     /* the next record to replay */
    int replaying;           /* a replay batch is in flight */
    /* The last replay batch (one transaction) failed for its data: the
     * next one commits record by record, so that only the bad record is
     * set aside. */
    int replay_isolate;
    struct gw_spool_buf replay_buf;
    struct gw_batch_call replay_call; /* array literals, reused */
    /* Replay caught up with the file but appends are still being made
     * durable: new webhooks wait here (unanswered, in order) so the spool
     * can drain, then go to the database directly; without this, steady
     * traffic would keep an append always under way and the spool would
     * never empty. */
    struct op *held_head, *held_tail;
    int holding;
};

int gw_store_can_spool(const struct gateway *g)
{
    const struct gw_store *st = g->store;
    return st && st->spool && gw_spool_size(st->spool) < g->d->cfg.gateway_spool_max_bytes;
}

const char *gw_store_sql(const struct gateway *g, int kind)
{
    return kind == GW_SPOOL_INBOUND ? g->sql.inbound_one : g->sql.receipt_one;
}

static const char *kind_name(int kind)
{
    return kind == GW_SPOOL_INBOUND ? "inbound" : "receipt";
}

int gw_db_error_transient(const char *sqlstate, int ambiguous)
{
    if (ambiguous || !sqlstate || !*sqlstate)
        return 1; /* not the server's verdict: the connection, the queue deadline */
    return strncmp(sqlstate, "08", 2) == 0     /* connection exception */
           || strncmp(sqlstate, "53", 2) == 0  /* insufficient resources */
           || strncmp(sqlstate, "57", 2) == 0  /* operator intervention: shutdown, cancel */
           || strncmp(sqlstate, "58", 2) == 0; /* system error (I/O) */
}

/* --- applying one webhook --- */

struct op {
    struct gw_store *st;
    gw_store_cb cb;
    void *ctx;
    int kind;
    struct op *next;            /* while held */
    struct gw_spool_record dec; /* its fields point into rec */
    size_t len;
    uint8_t rec[]; /* the encoded record: its fields are the statement's parameters */
};

static void op_finish(struct op *op, int status, const PGresult *res, int row, const char *why)
{
    op->cb(status, res, row, why, op->ctx);
    free(op);
}

static void replay_tick(uv_timer_t *t);
static void replay_step(struct gw_store *st);

static void spooled(int status, void *ctx)
{
    struct op *op = ctx;
    struct gw_store *st = op->st;
    m_bytes.value = (double)gw_spool_size(st->spool);
    if (st->holding)
        replay_step(st); /* the records the drain waits for are durable now */
    if (status != 0) {
        op_finish(op, -1, NULL, 0, "the spool could not be written");
        return;
    }
    tocsin_metric_add(&m_spooled, 1);
    op_finish(op, GW_STORE_SPOOLED, NULL, 0, NULL);
}

static void spool_op(struct op *op)
{
    struct gw_store *st = op->st;
    int rc = gw_spool_append(st->spool, op->kind, op->dec.fields, op->dec.nfields, spooled, op);
    if (rc != 0) {
        log_warn("spool_refused", "reason=%s",
                 tocsin_log_q(rc == -ENOSPC ? "the spool is full" : strerror(-rc)));
        op_finish(op, -1, NULL, 0,
                  rc == -ENOSPC ? "the spool is full" : "the spool could not be written");
        return;
    }
    if (!uv_is_active((uv_handle_t *)&st->replay_timer))
        uv_timer_start(&st->replay_timer, replay_tick, REPLAY_POLL_MS, REPLAY_POLL_MS);
}

/* What became of a statement sent to the database. */
static void op_outcome(const PGresult *res, int row, const char *error, const char *sqlstate,
                       int ambiguous, void *ctx)
{
    struct op *op = ctx;
    if (!error) {
        op_finish(op, GW_STORE_APPLIED, res, row, NULL);
        return;
    }
    if (!gw_db_error_transient(sqlstate, ambiguous)) {
        op_finish(op, -1, NULL, 0, error);
        return;
    }
    /* The statement is idempotent, so spooling one whose outcome is
     * unknown (it may have committed) is safe: its replay is a no-op. */
    log_warn("db_unreachable_spooling", "kind=%s reason=%s", kind_name(op->kind),
             tocsin_log_q(error));
    spool_op(op);
}

static void applied(const struct tocsin_db_result *r, void *ctx)
{
    op_outcome(r->res, 0, r->error, r->sqlstate, r->ambiguous, ctx);
}

/* Spools op behind what the spool holds (or when the database is down),
 * else sends it. */
static void route(struct gateway *g, struct op *op)
{
    struct gw_store *st = g->store;
    if (!gw_spool_empty(st->spool) || !tocsin_db_is_ready(g->d->db)) {
        spool_op(op);
        return;
    }
    if (gw_batch_add(g, op->kind, op->dec.fields, op->dec.nfields, op_outcome, op) == 0)
        return;
    if (tocsin_db_query(g->d->db, gw_store_sql(g, op->kind), op->dec.nfields, op->dec.fields,
                        applied, op) != 0)
        op_finish(op, -1, NULL, 0, "the gateway is shutting down");
}

void gw_store_apply(struct gateway *g, int kind, const char *const *params, int n, gw_store_cb cb,
                    void *ctx)
{
    size_t len = gw_spool_encode(kind, params, n, NULL, 0);
    struct op *op = len ? malloc(sizeof *op + len) : NULL;
    if (!op) {
        cb(-1, NULL, 0, len ? "out of memory" : "webhook too large to store", ctx);
        return;
    }
    struct gw_store *st = g->store;
    *op = (struct op){.st = st, .cb = cb, .ctx = ctx, .kind = kind, .len = len};
    gw_spool_encode(kind, params, n, op->rec, len);
    gw_spool_decode(op->rec, len, &op->dec, NULL);
    if (st->holding) {
        if (st->held_tail)
            st->held_tail->next = op;
        else
            st->held_head = op;
        st->held_tail = op;
        return;
    }
    route(g, op);
}

/* Lets the held webhooks go, in order, the usual way. */
static void release_held(struct gw_store *st)
{
    struct op *op = st->held_head;
    st->held_head = st->held_tail = NULL;
    st->holding = 0;
    while (op) {
        struct op *next = op->next;
        op->next = NULL;
        route(st->g, op);
        op = next;
    }
}

/* --- replay --- */

/* A record's message id, for the logs ("" if it has none). */
static const char *record_message_id(const struct gw_spool_record *rec)
{
    return rec->nfields > GW_FIELD_MESSAGE_ID && rec->fields[GW_FIELD_MESSAGE_ID]
               ? rec->fields[GW_FIELD_MESSAGE_ID]
               : "";
}

struct replay {
    struct gw_store *st;
    int n;
    int transaction; /* sent as one transaction of batch calls, one per run */
    int nruns;
    int run_start[REPLAY_BATCH]; /* a run: consecutive records of one kind */
    struct gw_spool_record recs[REPLAY_BATCH];
};

/* Logs and counts a transaction's records, found by their positions in
 * each run's result. */
static void replayed_runs(const struct replay *rp, const struct tocsin_db_result *r)
{
    for (int k = 0; k < rp->nruns; k++) {
        const PGresult *res = r->results ? r->results[k] : NULL;
        int start = rp->run_start[k], kind = rp->recs[start].kind;
        int ord_col = res ? PQfnumber(res, GW_COL_ORD) : -1;
        int verdict_col = res ? PQfnumber(res, gw_kind_verdict_column(kind)) : -1;
        for (int row = 0; ord_col >= 0 && verdict_col >= 0 && row < PQntuples(res); row++) {
            long ord = strtol(PQgetvalue(res, row, ord_col), NULL, 10);
            int end = k + 1 < rp->nruns ? rp->run_start[k + 1] : rp->n;
            if (ord < 1 || start + ord > end)
                continue;
            const struct gw_spool_record *rec = &rp->recs[start + ord - 1];
            log_info("spool_replayed", "kind=%s message_id=%s outcome=%s", kind_name(kind),
                     tocsin_log_q(record_message_id(rec)), PQgetvalue(res, row, verdict_col));
        }
    }
    tocsin_metric_add(&m_replayed, rp->n);
}

static void replay_done(const struct tocsin_db_result *r, void *ctx)
{
    struct replay *rp = ctx;
    struct gw_store *st = rp->st;
    struct gw_spool_record *recs = rp->recs;
    int n = rp->n;
    st->replaying = 0;
    if (rp->transaction && r->error) { /* nothing of it committed */
        int transient = gw_db_error_transient(r->sqlstate, r->ambiguous);
        free(rp);
        if (transient) {
            log_warn("spool_replay_paused", "reason=%s", tocsin_log_q(r->error));
            release_held(st); /* behind the spool again */
            return;           /* the timer tries again */
        }
        st->replay_isolate = 1;
        replay_step(st);
        return;
    }
    st->replay_isolate = 0;
    int i = 0;
    if (rp->transaction) { /* committed, all of it */
        replayed_runs(rp, r);
        for (; i < n; i++)
            st->replay_off += recs[i].record_bytes;
    }
    for (; i < n; i++) {
        const PGresult *res = r->results ? r->results[i] : NULL;
        if (!res)
            break; /* never ran (or its outcome never arrived): again later */
        ExecStatusType status = PQresultStatus(res);
        if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
            const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
            if (gw_db_error_transient(state, 0))
                break;
            log_error("spool_record_rejected", "kind=%s message_id=%s reason=%s",
                      kind_name(recs[i].kind), tocsin_log_q(record_message_id(&recs[i])),
                      tocsin_log_q(PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)));
            if (gw_spool_reject(st->spool, &recs[i]) != 0)
                break; /* cannot keep it aside: keep it in the spool */
            tocsin_metric_add(&m_rejected, 1);
        } else {
            tocsin_metric_add(&m_replayed, 1);
            int verdict_col = PQfnumber(res, gw_kind_verdict_column(recs[i].kind));
            log_info("spool_replayed", "kind=%s message_id=%s outcome=%s", kind_name(recs[i].kind),
                     tocsin_log_q(record_message_id(&recs[i])),
                     PQntuples(res) && verdict_col >= 0 ? PQgetvalue(res, 0, verdict_col) : "-");
        }
        st->replay_off += recs[i].record_bytes;
    }
    free(rp);
    if (i < n) {
        log_warn("spool_replay_paused", "reason=%s",
                 tocsin_log_q(r->error ? r->error : "a statement did not complete"));
        release_held(st); /* behind the spool again */
        return;           /* the timer tries again */
    }
    replay_step(st);
}

/* 1 when a record has the parameters of this gateway's statement for its
 * kind. A receipt spooled by a gateway from before schema/017 has 5 (no
 * sender): it cannot be scoped to a sender, so it is never applied. */
static int record_current(const struct gw_spool_record *rec)
{
    return rec->nfields == gw_kind_params(rec->kind);
}

/* Keeps an old record in the rejected file for the operator and moves past
 * it. Returns 0, or -1 when it could not be kept (it stays in the spool). */
static int set_aside_old(struct gw_store *st, const struct gw_spool_record *rec)
{
    log_error("spool_record_rejected",
              "kind=%s message_id=%s reason=\"written by an older gateway: "
              "%d parameters, not %d (a receipt without its sender cannot be scoped)\"",
              kind_name(rec->kind), tocsin_log_q(record_message_id(rec)), rec->nfields,
              gw_kind_params(rec->kind));
    if (gw_spool_reject(st->spool, rec) != 0)
        return -1;
    tocsin_metric_add(&m_rejected, 1);
    st->replay_off += rec->record_bytes;
    return 0;
}

/* Sends the next records after replay_off as one pipeline, in order, on
 * one connection (one transaction, or one commit per record after a batch
 * the database refused), or empties the spool when all of it is applied. */
static void replay_step(struct gw_store *st)
{
    if (st->replaying || !st->spool)
        return;
    if (st->g->d->stopping || !tocsin_db_is_ready(st->g->d->db)) {
        release_held(st); /* into the spool: no drain now */
        return;
    }
    if (st->replay_off >= gw_spool_size(st->spool)) {
        int rc = gw_spool_empty(st->spool) ? 0 : gw_spool_reset(st->spool);
        if (rc == 1) { /* appends under way: drain them, holding new ones */
            if (!st->holding)
                log_info("spool_draining", "note=\"new webhooks wait for the last appends\"");
            st->holding = 1;
            return;
        }
        if (rc == 0 && st->replay_off > 0)
            log_info("spool_drained", "note=\"every spooled webhook is applied\"");
        if (rc == 0)
            st->replay_off = 0;
        m_bytes.value = (double)gw_spool_size(st->spool);
        if (gw_spool_empty(st->spool))
            uv_timer_stop(&st->replay_timer);
        release_held(st);
        return;
    }
    struct replay *rp;
    for (;;) {
        rp = calloc(1, sizeof *rp);
        if (rp)
            rp->st = st;
        if (!rp ||
            gw_spool_read(st->spool, st->replay_off, &st->replay_buf, rp->recs, REPLAY_BATCH,
                          &rp->n) != 0 ||
            rp->n == 0) {
            free(rp);
            return; /* at the end: the timer's next step empties the spool */
        }
        int current = 0;
        while (current < rp->n && record_current(&rp->recs[current]))
            current++;
        if (current > 0) {
            rp->n = current; /* an old record after them waits for the next step */
            break;
        }
        int kept = set_aside_old(st, &rp->recs[0]); /* an old record first */
        free(rp);
        if (kept != 0)
            return;
    }
    /* One transaction (one commit) of batch-function calls, one per run of
     * records of a kind, unless the last one failed for its data: then a
     * statement and a commit per record. In order on one connection. */
    rp->transaction = !st->replay_isolate;
    struct tocsin_db_batch *b = tocsin_db_batch_new(st->g->d->db, rp->transaction);
    if (b && !rp->transaction) {
        for (int i = 0; i < rp->n; i++)
            if (tocsin_db_batch_add(b, gw_store_sql(st->g, rp->recs[i].kind), rp->recs[i].nfields,
                                    rp->recs[i].fields) != 0)
                break;
    }
    for (int i = 0, j; b && rp->transaction && i < rp->n; i = j) {
        const char *const *list[REPLAY_BATCH];
        for (j = i; j < rp->n && rp->recs[j].kind == rp->recs[i].kind; j++)
            list[j - i] = rp->recs[j].fields;
        const char *sql, *params[GW_MAX_PARAMS];
        int np =
            gw_batch_call(st->g, rp->recs[i].kind, list, j - i, &st->replay_call, &sql, params);
        rp->run_start[rp->nruns++] = i;
        if (np < 0 || tocsin_db_batch_add(b, sql, np, params) != 0)
            break;
    }
    if (!b || tocsin_db_batch_run(b, replay_done, rp) != 0) {
        free(rp);
        return;
    }
    st->replaying = 1;
}

static void replay_tick(uv_timer_t *t)
{
    replay_step(t->data);
}

static double spool_bytes(void *ctx)
{
    const struct gw_store *st = ctx;
    return st->spool ? (double)gw_spool_size(st->spool) : 0;
}

int gw_store_start(struct gateway *g)
{
    char err[512];
    struct gw_store *st = calloc(1, sizeof *st);
    if (!st)
        return -1;
    st->g = g;
    g->store = st; /* freed by gw_store_free, also after a failed start */
    if (gw_spool_open(g->d->loop, g->d->cfg.gateway_spool_dir, g->d->cfg.gateway_spool_max_bytes,
                      &st->spool, err, sizeof err) != 0) {
        log_error("startup_failed", "reason=%s", tocsin_log_q(err));
        return -1;
    }
    m_bytes.read = spool_bytes;
    m_bytes.read_ctx = st;
    tocsin_metric_register(&m_spooled);
    tocsin_metric_register(&m_replayed);
    tocsin_metric_register(&m_rejected);
    tocsin_metric_register(&m_bytes);
    uv_timer_init(g->d->loop, &st->replay_timer);
    st->replay_timer.data = st;
    if (gw_spool_size(st->spool) > 0) /* left by a gateway that stopped or crashed */
        uv_timer_start(&st->replay_timer, replay_tick, REPLAY_POLL_MS, REPLAY_POLL_MS);
    return 0;
}

void gw_store_stop(struct gateway *g)
{
    struct gw_store *st = g->store;
    if (st && st->spool)
        release_held(st); /* into the batches, which send them now */
    gw_batch_stop(g);
    if (st && st->spool && !uv_is_closing((uv_handle_t *)&st->replay_timer))
        uv_close((uv_handle_t *)&st->replay_timer, NULL);
}

/* After the loop ended (the timer is closed). */
void gw_store_free(struct gateway *g)
{
    struct gw_store *st = g->store;
    if (!st)
        return;
    m_bytes.read = NULL; /* the gauge keeps its last value */
    m_bytes.read_ctx = NULL;
    gw_spool_close(st->spool);
    gw_spool_buf_free(&st->replay_buf);
    gw_batch_call_free(&st->replay_call);
    free(st);
    g->store = NULL;
}
