/* SPDX-License-Identifier: AGPL-3.0-or-later
 * ratelimit.h — the one rate limiter: per key (a client address, an
 * account), a burst at once and then `rate` per second, kept as one number
 * per key — the time its bucket will be empty (a leaky bucket, the GCRA
 * form). The gateway's webhook budgets and the dashboard's login throttles
 * both use it.
 *
 * Keys live in a fixed table (memory bounded whatever a flood does), found
 * through a secret hash (libsodium crypto_shorthash, a key made at
 * creation): nobody can aim a key at another's slot. A key probes a few
 * slots for its own, an empty or a drained one; a live count is never
 * evicted: a key that finds none is refused until the soonest neighbour
 * drains (at most burst intervals). Keys longer than
 * TOCSIN_RATELIMIT_KEY_MAX - 1 bytes are compared truncated. One loop: not
 * thread-safe. */
#ifndef TOCSIN_RATELIMIT_H
#define TOCSIN_RATELIMIT_H

#include <stdint.h>

#define TOCSIN_RATELIMIT_KEY_MAX 300 /* "a:" + an email of up to 254 bytes fits */

struct tocsin_ratelimit;

/* rate per second and burst per key (burst below 1 counts as 1); a rate of
 * 0 or less disables the limit (every take passes). NULL if slots is 0,
 * out of memory, or libsodium fails. */
struct tocsin_ratelimit *tocsin_ratelimit_new(double rate, double burst, unsigned slots);
void tocsin_ratelimit_free(struct tocsin_ratelimit *rl);

/* Counts one event by key at now_ms: 0 when it may go on (counted), else
 * the milliseconds until it may (>= 1; nothing counted). */
uint64_t tocsin_ratelimit_wait(struct tocsin_ratelimit *rl, const char *key, uint64_t now_ms);
/* The same as 1 (counted) or 0 (refused). */
int tocsin_ratelimit_take(struct tocsin_ratelimit *rl, const char *key, uint64_t now_ms);
/* 1 when a take by key at now_ms would pass, counting nothing. */
int tocsin_ratelimit_peek(struct tocsin_ratelimit *rl, const char *key, uint64_t now_ms);
/* Gives back one event counted for key (it should not have counted). */
void tocsin_ratelimit_refund(struct tocsin_ratelimit *rl, const char *key, uint64_t now_ms);
/* Forgets key. */
void tocsin_ratelimit_clear(struct tocsin_ratelimit *rl, const char *key);
/* Events counted for key now (tests, metrics): burst when full. */
double tocsin_ratelimit_level(struct tocsin_ratelimit *rl, const char *key, uint64_t now_ms);

#endif
