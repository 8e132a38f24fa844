/* SPDX-License-Identifier: AGPL-3.0-or-later
 * ratelimit.h — token buckets: a rate per second with a burst, one bucket
 * per key (a client address) in a fixed table, plus one for everything.
 * A full table reuses the slot a new key hashes to, so memory is bounded
 * whatever a flood of addresses does. One loop: not thread-safe. */
#ifndef TOCSIN_RATELIMIT_H
#define TOCSIN_RATELIMIT_H

#include <stdint.h>

struct tocsin_ratelimit;

/* rate and burst per key; 0 rate disables the limit. NULL if out of memory. */
struct tocsin_ratelimit *tocsin_ratelimit_new(double rate, double burst, unsigned slots);
void tocsin_ratelimit_free(struct tocsin_ratelimit *rl);

/* Takes one token from key's bucket at time now_ms; 1 allowed, 0 limited. */
int tocsin_ratelimit_take(struct tocsin_ratelimit *rl, const char *key, uint64_t now_ms);

/* 1 when key's bucket has a token at now_ms (a key never seen has a full
 * one), without taking it. */
int tocsin_ratelimit_peek(struct tocsin_ratelimit *rl, const char *key, uint64_t now_ms);

#endif
