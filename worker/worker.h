/* SPDX-License-Identifier: AGPL-3.0-or-later
 * worker.h — tocsin-worker's shared state. The worker dispatches carrier
 * accounts it holds a lease on (housekeeping.c); for each sender of such an
 * account it claims due messages (dispatch.c), stamps them just before they
 * leave, sends them at the paced rate through the provider (providers/),
 * and writes the outcomes back in batches (outcomes.c). Senders and their
 * credentials come from the database (senders.c). One libuv loop. */
#ifndef TOCSIN_WORKER_H
#define TOCSIN_WORKER_H

#include <stdint.h>

#include "daemon.h"
#include "http_client.h"
#include "pacing.h"
#include "provider.h"
#include "sender_check.h"

struct wk_msg {
    long long id;
    char *to, *body;
    unsigned segments;
    long validity_seconds;
    struct wk_sender *sender;
    struct wk_msg *next;
};

struct wk_queue {
    struct wk_msg *head, *tail;
    unsigned count;
};

struct wk_account {
    char key[160]; /* "twilio:AC...", "telnyx:sender:7" */
    double limit;  /* account messages/s, 0 = none */
    struct tocsin_pacer pacer;
    int held;               /* this worker dispatches it */
    uint64_t held_until_ms; /* stop dispatching at this loop time */
    int acquiring;
    int seen;
    struct wk_account *next;
};

struct wk_sender {
    long long id, org_id;
    char address[32];
    const struct tocsin_provider *provider;
    char base_url[256], account_sid[64], secret[TOCSIN_SENDER_SECRET_MAX + 1], status_callback[320];
    double rate;               /* configured segments/s */
    double slow;               /* 0.05..1 after carrier 429s */
    unsigned throttled_streak; /* consecutive 429s, for the retry backoff */
    uint64_t last_throttle_ms;
    struct tocsin_pacer pacer;
    struct wk_account *account;
    struct wk_queue claimed; /* claimed, not yet stamped */
    struct wk_queue ready;   /* stamped (request_sent_at), waiting for the pacer */
    int claiming, marking;
    uint64_t mark_backoff_until;
    int more; /* there may be due messages: claim again */
    int seen;
    uv_timer_t timer; /* wakes the sender when its pacer allows */
    struct worker *w;
    struct wk_sender *next;
};

struct wk_outcome {
    long long id;
    const char *kind; /* "sent", "retry", "failed", "unknown" */
    char provider_id[80];
    char code[32];
    char error[256];
    int retry_ms;
    int opt_out;
};

struct worker {
    struct tocsin_daemon *d;
    char id[128];
    double clock_offset_s; /* TOCSIN_WORKER_FAKE_NOW - real start time */
    struct tocsin_http_client *http;
    struct wk_sender *senders;
    struct wk_account *accounts;
    uv_timer_t housekeeping, poll;
    void (*leases_released)(struct worker *w);
    uint64_t ticks;
    int refreshing, sweeping, rematching, ticking_blasts;
    /* outcomes waiting to be written */
    struct wk_outcome *outcomes;
    unsigned n_outcomes, cap_outcomes;
    unsigned flushes_in_flight;
    uv_timer_t flush_timer;
    int flush_armed;
    /* sends in flight */
    unsigned in_flight;
    int stopping;
    int releasing;
    int unsent_released;
    void (*drained)(struct tocsin_daemon *d);
};

/* The worker's clock as Unix seconds (real time plus the test offset). */
double wk_now(const struct worker *w);
/* The same, as the text of a float8 parameter for to_timestamp($n). */
void wk_now_param(const struct worker *w, char *buf, size_t size);

/* senders.c */
void wk_senders_refresh(struct worker *w);
struct wk_sender *wk_sender_find(struct worker *w, long long id);
void wk_senders_free(struct worker *w);

/* housekeeping.c: account dispatcher leases, the lease sweep, blast ticks,
 * the receipt sweep */
void wk_housekeeping_start(struct worker *w);
void wk_housekeeping_stop(struct worker *w);
/* Asks for the lease of every account not held yet (after a refresh). */
void wk_accounts_acquire(struct worker *w);
void wk_accounts_release(struct worker *w, void (*done)(struct worker *w));

/* dispatch.c */
void wk_sender_pump(struct wk_sender *s);
void wk_pump_all(struct worker *w);
void wk_msg_free(struct wk_msg *m);
/* Puts claimed-but-unsent messages (of one account, or all when only is
 * NULL) back in the queue: a clean stop, a lost lease. Calls done(w) (may
 * be NULL) when the database answered, or at once when there were none. */
void wk_release_unsent(struct worker *w, struct wk_account *only, void (*done)(struct worker *w));

/* main.c: during a stop, finishes it once nothing is in flight. */
void wk_check_drained(struct worker *w);

/* outcomes.c */
void wk_outcome_add(struct worker *w, const struct wk_outcome *o);
/* Register the worker's counters at startup, so /metrics lists them (at 0)
 * before their first event. */
void wk_dispatch_metrics_register(void);
void wk_outcomes_metrics_register(void);
/* 1 while outcomes are waiting or being written. */
int wk_outcomes_pending(const struct worker *w);
void wk_outcomes_free(struct worker *w);

#endif
