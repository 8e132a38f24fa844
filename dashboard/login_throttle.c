/* SPDX-License-Identifier: AGPL-3.0-or-later
 * login_throttle.c — leaky buckets of login attempts in an open-addressed
 * table (see login_throttle.h). A bucket is one number, the time it will
 * be empty: each attempt pushes it one interval later, and it may not be
 * more than burst intervals ahead. A key looks in PROBE slots from its
 * keyed hash: its own slot, else an empty or drained one; if none, the
 * key is refused rather than evicting a live count. */
#include "login_throttle.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define KEY_MAX 300 /* "a:" + an email of up to 254 bytes fits */
#define PROBE 8

struct slot {
    char key[KEY_MAX];
    uint64_t empty_at; /* ms; a slot whose empty_at has passed is free */
};

struct login_throttle {
    unsigned burst;
    uint64_t interval_ms;
    unsigned nslots;
    unsigned char hash_key[crypto_shorthash_KEYBYTES];
    struct slot slots[];
};

struct login_throttle *login_throttle_new(unsigned burst, uint64_t interval_ms, unsigned slots)
{
    if (slots == 0 || burst == 0 || interval_ms == 0 || sodium_init() < 0)
        return NULL;
    struct login_throttle *t = calloc(1, sizeof *t + (size_t)slots * sizeof(struct slot));
    if (!t)
        return NULL;
    t->burst = burst;
    t->interval_ms = interval_ms;
    t->nslots = slots;
    crypto_shorthash_keygen(t->hash_key);
    return t;
}

void login_throttle_free(struct login_throttle *t)
{
    free(t);
}

/* Keys longer than a slot are stored and compared truncated: that only
 * merges two over-long keys, and callers bound theirs below KEY_MAX. */
static size_t key_len(const char *key)
{
    size_t n = strlen(key);
    return n < KEY_MAX - 1 ? n : KEY_MAX - 1;
}

/* key's slot, or with claim a free one in its probe window for it; NULL
 * when it has none (and, with claim, the window is full: *soonest is then
 * when its first slot drains). */
static struct slot *find(struct login_throttle *t, const char *key, uint64_t now_ms, int claim,
                         uint64_t *soonest)
{
    size_t n = key_len(key);
    unsigned char h[crypto_shorthash_BYTES];
    crypto_shorthash(h, (const unsigned char *)key, n, t->hash_key);
    uint64_t start;
    memcpy(&start, h, sizeof start);
    struct slot *free_slot = NULL;
    uint64_t first_drain = UINT64_MAX;
    unsigned probe = t->nslots < PROBE ? t->nslots : PROBE;
    for (unsigned i = 0; i < probe; i++) {
        struct slot *s = &t->slots[(start + i) % t->nslots];
        if (s->key[0] && strncmp(s->key, key, n) == 0 && s->key[n] == '\0')
            return s;
        if (!s->key[0] || s->empty_at <= now_ms) {
            if (!free_slot)
                free_slot = s;
        } else if (s->empty_at < first_drain) {
            first_drain = s->empty_at;
        }
    }
    if (!claim)
        return NULL;
    if (!free_slot) {
        *soonest = first_drain;
        return NULL;
    }
    memset(free_slot, 0, sizeof *free_slot);
    memcpy(free_slot->key, key, n);
    free_slot->empty_at = now_ms;
    return free_slot;
}

static unsigned ceil_s(uint64_t ms)
{
    uint64_t s = (ms + 999) / 1000;
    return s ? (unsigned)s : 1;
}

unsigned login_throttle_take(struct login_throttle *t, const char *key, uint64_t now_ms)
{
    uint64_t soonest = 0;
    struct slot *s = find(t, key, now_ms, 1, &soonest);
    if (!s)
        return ceil_s(soonest - now_ms);
    uint64_t level = s->empty_at > now_ms ? s->empty_at - now_ms : 0;
    uint64_t cap = (uint64_t)t->burst * t->interval_ms;
    if (level + t->interval_ms > cap)
        return ceil_s(level + t->interval_ms - cap); /* at most one interval */
    s->empty_at = now_ms + level + t->interval_ms;
    return 0;
}

void login_throttle_refund(struct login_throttle *t, const char *key, uint64_t now_ms)
{
    struct slot *s = find(t, key, now_ms, 0, NULL);
    if (!s)
        return;
    if (s->empty_at > now_ms + t->interval_ms)
        s->empty_at -= t->interval_ms;
    else
        memset(s, 0, sizeof *s);
}

void login_throttle_clear(struct login_throttle *t, const char *key)
{
    struct slot *s = find(t, key, 0, 0, NULL);
    if (s)
        memset(s, 0, sizeof *s);
}

double login_throttle_level(struct login_throttle *t, const char *key, uint64_t now_ms)
{
    struct slot *s = find(t, key, now_ms, 0, NULL);
    if (!s || s->empty_at <= now_ms)
        return 0;
    return (double)(s->empty_at - now_ms) / (double)t->interval_ms;
}
