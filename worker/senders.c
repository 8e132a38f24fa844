/* SPDX-License-Identifier: AGPL-3.0-or-later
 * senders.c — the worker's picture of the senders table: address,
 * provider, unsealed credentials, rate, and the carrier account each one
 * belongs to (the unit a worker holds a dispatcher lease on). Refreshed
 * every few seconds; a sender that disappears keeps nothing claimed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto.h"
#include "log.h"
#include "webhook_paths.h"
#include "worker.h"

/* Pacing windows are a second plus this much, so up to 10 ms of jitter
 * between our send and the carrier's clock cannot put more than the rate
 * into one of its seconds; the cost is 1% of the rate. */
#define WINDOW_MS 1010

static const char *default_base_url(const char *provider)
{
    return strcmp(provider, "twilio") == 0 ? "https://api.twilio.com" : "https://api.telnyx.com";
}

struct wk_sender *wk_sender_find(struct worker *w, long long id)
{
    for (struct wk_sender *s = w->senders; s; s = s->next)
        if (s->id == id)
            return s;
    return NULL;
}

static struct wk_account *account_get(struct worker *w, const char *key, double limit)
{
    struct wk_account *a;
    for (a = w->accounts; a; a = a->next)
        if (strcmp(a->key, key) == 0)
            break;
    if (!a) {
        a = calloc(1, sizeof *a);
        if (!a || tocsin_pacer_init(&a->pacer, limit > 0 ? limit : 1, WINDOW_MS)) {
            free(a);
            return NULL;
        }
        snprintf(a->key, sizeof a->key, "%s", key);
        a->next = w->accounts;
        w->accounts = a;
    }
    if (limit > 0 && limit != a->limit)
        tocsin_pacer_set_rate(&a->pacer, limit);
    a->limit = limit;
    a->seen = 1;
    return a;
}

static void sender_timer_closed(uv_handle_t *h)
{
    struct wk_sender *s = h->data;
    tocsin_pacer_free(&s->pacer);
    sodium_memzero(s->secret, sizeof s->secret);
    free(s);
}

static void sender_drop(struct wk_sender *s)
{
    struct wk_msg *m, *next;
    for (m = s->claimed.head; m; m = next) {
        next = m->next;
        wk_msg_free(m);
    }
    for (m = s->ready.head; m; m = next) {
        next = m->next;
        wk_msg_free(m);
    }
    uv_timer_stop(&s->timer);
    uv_close((uv_handle_t *)&s->timer, sender_timer_closed);
}

/* The refresh query's columns, found by name once per result. */
struct sender_cols {
    int id, org_id, address, provider, account_sid, sealed, rate, base_url, account, account_rate;
};

static void sender_cols_find(const PGresult *res, struct sender_cols *c)
{
    *c = (struct sender_cols){
        .id = PQfnumber(res, "id"),
        .org_id = PQfnumber(res, "org_id"),
        .address = PQfnumber(res, "address"),
        .provider = PQfnumber(res, "provider"),
        .account_sid = PQfnumber(res, "account_sid"),
        .sealed = PQfnumber(res, "credentials_sealed"),
        .rate = PQfnumber(res, "messages_per_second"),
        .base_url = PQfnumber(res, "base_url"),
        .account = PQfnumber(res, "account"),
        .account_rate = PQfnumber(res, "account_messages_per_second"),
    };
}

/* Fills or updates s from one row; returns 0, or -1 when the sender cannot
 * be used (logged). */
static int sender_load(struct worker *w, struct wk_sender *s, PGresult *res, int row,
                       const struct sender_cols *c)
{
    const char *provider = PQgetvalue(res, row, c->provider);
    s->provider = tocsin_provider_find(provider);
    s->org_id = strtoll(PQgetvalue(res, row, c->org_id), NULL, 10);
    snprintf(s->address, sizeof s->address, "%s", PQgetvalue(res, row, c->address));
    snprintf(s->account_sid, sizeof s->account_sid, "%s", PQgetvalue(res, row, c->account_sid));
    const char *base = PQgetvalue(res, row, c->base_url);
    snprintf(s->base_url, sizeof s->base_url, "%s", *base ? base : default_base_url(provider));
    snprintf(s->status_callback, sizeof s->status_callback, "%s%s", w->d->cfg.public_url,
             strcmp(provider, "twilio") == 0 ? TOCSIN_PATH_TWILIO_STATUS
                                             : TOCSIN_PATH_TELNYX_WEBHOOK);
    double rate = strtod(PQgetvalue(res, row, c->rate), NULL);
    if (rate != s->rate) {
        s->rate = rate;
        tocsin_pacer_set_rate(&s->pacer, rate * s->slow);
    }
    const char *sealed = PQgetvalue(res, row, c->sealed);
    if (!s->provider) {
        log_error("sender_unusable", "sender_id=%lld reason=\"unknown provider\"", s->id);
        return -1;
    }
    /* Credentials go to the carrier in every request: never in clear text,
     * except to the simulator and in tests. */
    if (strncmp(s->base_url, "https://", 8) != 0 && !w->d->cfg.allow_insecure_carrier_urls) {
        log_error("sender_unusable",
                  "sender_id=%lld base_url=%s reason=\"insecure carrier base URL: https:// only, "
                  "unless TOCSIN_ALLOW_INSECURE_CARRIER_URLS=1 (simulator, tests)\"",
                  s->id, tocsin_log_q(s->base_url));
        return -1;
    }
    long opened = w->d->cfg.has_secret_key
                      ? tocsin_credential_open(w->d->cfg.secret_key, s->id, provider, sealed,
                                               strlen(sealed), s->secret, sizeof s->secret)
                      : -1;
    if (opened < 0) {
        log_error("sender_unusable", "sender_id=%lld reason=%s", s->id,
                  tocsin_log_q(tocsin_credential_problem(opened, w->d->cfg.has_secret_key)));
        return -1;
    }
    s->account = account_get(w, PQgetvalue(res, row, c->account),
                             strtod(PQgetvalue(res, row, c->account_rate), NULL));
    return s->account ? 0 : -1;
}

static struct wk_sender *sender_new(struct worker *w, long long id)
{
    struct wk_sender *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->id = id;
    s->w = w;
    s->slow = 1;
    s->more = 1;
    if (tocsin_pacer_init(&s->pacer, 1, WINDOW_MS)) {
        free(s);
        return NULL;
    }
    uv_timer_init(w->d->loop, &s->timer);
    s->timer.data = s;
    return s;
}

static void refreshed(const struct tocsin_db_result *r, void *ctx)
{
    struct worker *w = ctx;
    w->refreshing = 0;
    if (r->error) {
        log_warn("senders_refresh_failed", "reason=%s", tocsin_log_q(r->error));
        return;
    }
    for (struct wk_sender *s = w->senders; s; s = s->next)
        s->seen = 0;
    for (struct wk_account *a = w->accounts; a; a = a->next)
        a->seen = 0;
    struct sender_cols cols;
    sender_cols_find(r->res, &cols);
    for (int i = 0; i < PQntuples(r->res); i++) {
        long long id = strtoll(PQgetvalue(r->res, i, cols.id), NULL, 10);
        struct wk_sender *s = wk_sender_find(w, id);
        int fresh = !s;
        if (fresh && !(s = sender_new(w, id)))
            continue;
        if (sender_load(w, s, r->res, i, &cols) != 0) {
            if (fresh)
                sender_drop(s);
            continue; /* an existing one is dropped below as unseen */
        }
        s->seen = 1;
        if (fresh) {
            s->next = w->senders;
            w->senders = s;
            log_info("sender_loaded", "sender_id=%lld address=%s rate=%.2f account=%s", s->id,
                     tocsin_log_q(s->address), s->rate, tocsin_log_q(s->account->key));
        }
    }
    for (struct wk_sender **p = &w->senders; *p;) {
        struct wk_sender *s = *p;
        if (s->seen || s->claiming || s->marking) {
            p = &s->next;
            continue;
        }
        *p = s->next;
        log_info("sender_unloaded", "sender_id=%lld", s->id);
        sender_drop(s);
    }
    wk_accounts_acquire(w);
    wk_pump_all(w);
}

void wk_senders_refresh(struct worker *w)
{
    if (w->refreshing || w->stopping)
        return;
    w->refreshing = 1;
    if (tocsin_db_query(w->d->db,
                        "SELECT s.id, s.org_id, s.address, s.provider,"
                        " coalesce(s.account_sid, '') AS account_sid, s.credentials_sealed,"
                        " s.messages_per_second, coalesce(s.base_url, '') AS base_url,"
                        " tocsin_sender_account(s.provider, s.account_sid, s.id) AS account,"
                        " coalesce(l.messages_per_second, 0) AS account_messages_per_second"
                        " FROM senders s LEFT JOIN provider_account_limits l"
                        "   ON l.provider = s.provider AND l.account = s.account_sid"
                        " WHERE s.disabled_at IS NULL ORDER BY s.id",
                        0, NULL, refreshed, w) != 0)
        w->refreshing = 0;
}

void wk_senders_free(struct worker *w)
{
    while (w->senders) {
        struct wk_sender *s = w->senders;
        w->senders = s->next;
        sender_drop(s);
    }
    while (w->accounts) {
        struct wk_account *a = w->accounts;
        w->accounts = a->next;
        tocsin_pacer_free(&a->pacer);
        free(a);
    }
}
