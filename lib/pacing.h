/* SPDX-License-Identifier: AGPL-3.0-or-later
 * pacing.h — the send-rate limit of one sender or carrier account, counted
 * in segments. Two rules at once: sends are spaced evenly (a GCRA with no
 * burst, so a carrier sees a steady stream), and a log of the last second's
 * sends guarantees that no window of window_ms ever holds more than `rate`
 * segments, whatever the message sizes. Pure: time is passed in (ms). */
#ifndef TOCSIN_PACING_H
#define TOCSIN_PACING_H

#include <stdint.h>

struct pacer_entry {
    uint64_t at_ms;
    unsigned units;
};

struct tocsin_pacer {
    double rate;             /* segments per second (> 0) */
    uint64_t window_ms;      /* the window no more than `rate` segments may share */
    double tat_ms;           /* GCRA: the earliest time the next send may go */
    struct pacer_entry *log; /* ring of sends inside the window */
    unsigned cap, head, count;
    unsigned window_units; /* sum of units in the log */
};

/* Sets up a pacer for rate segments/s; window_ms is normally 1000 plus a
 * small margin for delivery jitter. Returns 0, or -1 out of memory. */
int tocsin_pacer_init(struct tocsin_pacer *p, double rate, uint64_t window_ms);
/* Changes the rate (slowing down after a 429, recovering after). Returns 0
 * or -1 out of memory (the old rate stays). */
int tocsin_pacer_set_rate(struct tocsin_pacer *p, double rate);
void tocsin_pacer_free(struct tocsin_pacer *p);

/* 0 when `units` segments may go at now_ms, else the milliseconds to wait
 * before asking again (>= 1). A message larger than the whole rate goes
 * alone, once the window is empty. */
uint64_t tocsin_pacer_wait(struct tocsin_pacer *p, uint64_t now_ms, unsigned units);
/* Records a send of `units` segments at now_ms. */
void tocsin_pacer_take(struct tocsin_pacer *p, uint64_t now_ms, unsigned units);

#endif
