/* SPDX-License-Identifier: AGPL-3.0-or-later
 * pacing.c — even spacing plus a sliding-window log; see pacing.h. */
#include "pacing.h"

#include <math.h>
#include <stdlib.h>

#define PACER_TOLERANCE_MS 2.0

static unsigned log_capacity(double rate)
{
    double c = ceil(rate) + 2;
    return c > 1000000 ? 1000000 : (unsigned)c;
}

int tocsin_pacer_init(struct tocsin_pacer *p, double rate, uint64_t window_ms)
{
    p->rate = rate > 0 ? rate : 1;
    p->window_ms = window_ms ? window_ms : 1000;
    p->tat_ms = 0;
    p->cap = log_capacity(p->rate);
    p->head = p->count = p->window_units = 0;
    p->log = calloc(p->cap, sizeof *p->log);
    return p->log ? 0 : -1;
}

int tocsin_pacer_set_rate(struct tocsin_pacer *p, double rate)
{
    if (rate <= 0)
        return -1;
    unsigned cap = log_capacity(rate);
    if (cap > p->cap) {
        struct pacer_entry *grown = calloc(cap, sizeof *grown);
        if (!grown)
            return -1;
        for (unsigned i = 0; i < p->count; i++)
            grown[i] = p->log[(p->head + i) % p->cap];
        free(p->log);
        p->log = grown;
        p->cap = cap;
        p->head = 0;
    }
    p->rate = rate;
    return 0;
}

void tocsin_pacer_free(struct tocsin_pacer *p)
{
    free(p->log);
    p->log = NULL;
}

/* Drops sends that left the window ending at now_ms. */
static void expire(struct tocsin_pacer *p, uint64_t now_ms)
{
    while (p->count > 0) {
        struct pacer_entry *e = &p->log[p->head];
        if (e->at_ms + p->window_ms > now_ms)
            break;
        p->window_units -= e->units;
        p->head = (p->head + 1) % p->cap;
        p->count--;
    }
}

uint64_t tocsin_pacer_wait(struct tocsin_pacer *p, uint64_t now_ms, unsigned units)
{
    expire(p, now_ms);
    /* A tolerance of a couple of milliseconds lets one timer tick release
     * every send due within it (at 20,000/s that is 40 at once). */
    if (p->tat_ms > (double)now_ms + PACER_TOLERANCE_MS)
        return (uint64_t)ceil(p->tat_ms - (double)now_ms - PACER_TOLERANCE_MS);
    unsigned limit = (unsigned)floor(p->rate);
    if (limit == 0)
        limit = 1;
    int fits = p->window_units + units <= limit || (p->count == 0 && units > limit);
    if (fits && p->count < p->cap)
        return 0;
    if (p->count == 0)
        return 1;
    /* Wait until the oldest send leaves the window. */
    uint64_t leaves = p->log[p->head].at_ms + p->window_ms;
    return leaves > now_ms ? leaves - now_ms : 1;
}

void tocsin_pacer_take(struct tocsin_pacer *p, uint64_t now_ms, unsigned units)
{
    expire(p, now_ms);
    /* Spacing over the window, so that `rate` sends fill it exactly. A
     * send that comes late (a coarse timer) may catch up by one interval,
     * so lateness does not lower the rate; the window log keeps that
     * catching up from ever exceeding it. */
    double interval = (double)units * (double)p->window_ms / p->rate;
    double start = (double)now_ms - interval;
    if (p->tat_ms > start)
        start = p->tat_ms;
    p->tat_ms = start + interval;
    if (p->count == p->cap) { /* cannot happen after a 0 wait; keep the log sane */
        p->window_units -= p->log[p->head].units;
        p->head = (p->head + 1) % p->cap;
        p->count--;
    }
    p->log[(p->head + p->count) % p->cap] = (struct pacer_entry){now_ms, units};
    p->count++;
    p->window_units += units;
}
