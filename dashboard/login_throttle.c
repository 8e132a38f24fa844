/* SPDX-License-Identifier: AGPL-3.0-or-later
 * login_throttle.c — fixed windows of failed logins per key in an open
 * hash table of fixed size (keys hashed with FNV-1a; a colliding key
 * takes the slot over, which can only forget failures, never invent
 * them for another key). */
#include "login_throttle.h"

#include <stdlib.h>
#include <string.h>

#define KEY_MAX 300 /* "a:" + an email of up to 254 bytes fits */

struct slot {
    char key[KEY_MAX];
    uint64_t window_start;
    unsigned failures;
};

struct login_throttle {
    unsigned max_failures;
    uint64_t window_ms;
    unsigned nslots;
    struct slot slots[];
};

struct login_throttle *login_throttle_new(unsigned max_failures, uint64_t window_ms, unsigned slots)
{
    if (slots == 0 || max_failures == 0)
        return NULL;
    struct login_throttle *t = calloc(1, sizeof *t + (size_t)slots * sizeof(struct slot));
    if (!t)
        return NULL;
    t->max_failures = max_failures;
    t->window_ms = window_ms;
    t->nslots = slots;
    return t;
}

void login_throttle_free(struct login_throttle *t)
{
    free(t);
}

static struct slot *find(struct login_throttle *t, const char *key, int claim)
{
    uint64_t h = 1469598103934665603ull;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    struct slot *s = &t->slots[h % t->nslots];
    /* A key longer than a slot is stored truncated and matched by the
     * same prefix, so it still counts. */
    if (s->key[0] && strncmp(s->key, key, KEY_MAX - 1) == 0)
        return s;
    if (!claim)
        return NULL;
    memset(s, 0, sizeof *s);
    size_t n = strlen(key);
    if (n >= KEY_MAX)
        n = KEY_MAX - 1; /* keys are bounded by the caller; truncation only merges */
    memcpy(s->key, key, n);
    return s;
}

unsigned login_throttle_wait_s(struct login_throttle *t, const char *key, uint64_t now_ms)
{
    struct slot *s = find(t, key, 0);
    if (!s || s->failures < t->max_failures)
        return 0;
    uint64_t end = s->window_start + t->window_ms;
    if (now_ms >= end)
        return 0;
    return (unsigned)((end - now_ms + 999) / 1000);
}

void login_throttle_fail(struct login_throttle *t, const char *key, uint64_t now_ms)
{
    struct slot *s = find(t, key, 1);
    if (s->failures == 0 || now_ms >= s->window_start + t->window_ms) {
        s->window_start = now_ms;
        s->failures = 0;
    }
    s->failures++;
}

void login_throttle_clear(struct login_throttle *t, const char *key)
{
    struct slot *s = find(t, key, 0);
    if (s)
        memset(s, 0, sizeof *s);
}
