/* SPDX-License-Identifier: AGPL-3.0-or-later
 * login_throttle.h — failed-login counting per account and per client
 * address, in memory: after too many failures within a window a key is
 * locked until the window ends. Only failures count, so a volunteer who
 * logs in often is never locked out by her own successes; a success
 * clears her account's count. A fixed table: a flood of keys reuses
 * slots instead of growing memory. One loop: not thread-safe. */
#ifndef DASHBOARD_LOGIN_THROTTLE_H
#define DASHBOARD_LOGIN_THROTTLE_H

#include <stdint.h>

struct login_throttle;

/* max_failures failures per key within window_ms lock it until the
 * window that began with its first failure ends. NULL if out of memory. */
struct login_throttle *login_throttle_new(unsigned max_failures, uint64_t window_ms, unsigned slots);
void login_throttle_free(struct login_throttle *t);

/* 0 when key may try now, else the seconds until it may (>= 1). */
unsigned login_throttle_wait_s(struct login_throttle *t, const char *key, uint64_t now_ms);
void login_throttle_fail(struct login_throttle *t, const char *key, uint64_t now_ms);
void login_throttle_clear(struct login_throttle *t, const char *key);

#endif
