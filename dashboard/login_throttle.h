/* SPDX-License-Identifier: AGPL-3.0-or-later
 * login_throttle.h — login attempts per key (an account, a client address)
 * in memory, as a leaky bucket: burst attempts at once, then one more per
 * interval. An attempt is counted *before* its password is checked, so
 * parallel guesses cannot all slip past a check that only sees finished
 * ones; a success gives its attempt back (the account is cleared). A key
 * is never refused for longer than one interval while it has a slot, so a
 * correct password waits at most that long whoever else is guessing.
 * A fixed table keyed by a secret hash (libsodium crypto_shorthash, a key
 * made at startup): nobody can aim a key at another's slot, and a slot is
 * only ever reused once its bucket has drained. One loop: not thread-safe. */
#ifndef DASHBOARD_LOGIN_THROTTLE_H
#define DASHBOARD_LOGIN_THROTTLE_H

#include <stdint.h>

struct login_throttle;

/* burst attempts at once per key, then one per interval_ms. NULL if out of
 * memory, libsodium fails, or an argument is 0. */
struct login_throttle *login_throttle_new(unsigned burst, uint64_t interval_ms, unsigned slots);
void login_throttle_free(struct login_throttle *t);

/* Counts an attempt by key at now_ms: 0 when it may go on (counted), else
 * the seconds until it may (>= 1; nothing counted). A key that finds the
 * table full around its slot waits until the soonest neighbour drains (at
 * most burst intervals, usually one). */
unsigned login_throttle_take(struct login_throttle *t, const char *key, uint64_t now_ms);
/* Gives back one attempt taken by key (its password was right, or the
 * attempt was refused or failed before a password was checked). */
void login_throttle_refund(struct login_throttle *t, const char *key, uint64_t now_ms);
/* Forgets key (a correct password for an account). */
void login_throttle_clear(struct login_throttle *t, const char *key);
/* Attempts counted for key now (tests, metrics): burst when full. */
double login_throttle_level(struct login_throttle *t, const char *key, uint64_t now_ms);

#endif
