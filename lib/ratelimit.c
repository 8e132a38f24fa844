/* SPDX-License-Identifier: AGPL-3.0-or-later
 * ratelimit.c — leaky buckets in an open-addressed table (see ratelimit.h).
 * A bucket is the time it will be empty, in microseconds: each event
 * pushes it one interval (1/rate) later, and it may not be more than burst
 * intervals ahead. A key looks in PROBE slots from its keyed hash: its own
 * slot, else an empty or drained one; if none, it is refused rather than
 * evicting a live count. */
#include "ratelimit.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define PROBE 8

struct slot {
    char key[TOCSIN_RATELIMIT_KEY_MAX];
    uint64_t empty_at_us; /* a slot whose time has passed is free */
};

struct tocsin_ratelimit {
    int unlimited;
    uint64_t interval_us, cap_us; /* cap: burst intervals */
    unsigned nslots;
    unsigned char hash_key[crypto_shorthash_KEYBYTES];
    struct slot slots[];
};

struct tocsin_ratelimit *tocsin_ratelimit_new(double rate, double burst, unsigned slots)
{
    if (slots == 0 || sodium_init() < 0)
        return NULL;
    struct tocsin_ratelimit *rl = calloc(1, sizeof *rl + (size_t)slots * sizeof(struct slot));
    if (!rl)
        return NULL;
    rl->unlimited = !(rate > 0);
    double interval = rl->unlimited ? 1 : 1e6 / rate;
    rl->interval_us = interval < 1 ? 1 : (uint64_t)interval;
    rl->cap_us = (uint64_t)((burst < 1 ? 1 : burst) * (double)rl->interval_us);
    rl->nslots = slots;
    crypto_shorthash_keygen(rl->hash_key);
    return rl;
}

void tocsin_ratelimit_free(struct tocsin_ratelimit *rl)
{
    free(rl);
}

static size_t key_len(const char *key)
{
    size_t n = strlen(key);
    return n < TOCSIN_RATELIMIT_KEY_MAX - 1 ? n : TOCSIN_RATELIMIT_KEY_MAX - 1;
}

/* key's slot; else, with claim, a free one in its probe window made its
 * own. NULL when it has none; *free_at is then when the window's first
 * slot drains (now when one is free but claim was not asked). */
static struct slot *find(struct tocsin_ratelimit *rl, const char *key, uint64_t now_us, int claim,
                         uint64_t *free_at)
{
    size_t n = key_len(key);
    unsigned char h[crypto_shorthash_BYTES];
    crypto_shorthash(h, (const unsigned char *)key, n, rl->hash_key);
    uint64_t start;
    memcpy(&start, h, sizeof start);
    struct slot *free_slot = NULL;
    uint64_t first_drain = UINT64_MAX;
    unsigned probe = rl->nslots < PROBE ? rl->nslots : PROBE;
    for (unsigned i = 0; i < probe; i++) {
        struct slot *s = &rl->slots[(start + i) % rl->nslots];
        if (s->key[0] && strncmp(s->key, key, n) == 0 && s->key[n] == '\0')
            return s;
        if (!s->key[0] || s->empty_at_us <= now_us) {
            if (!free_slot)
                free_slot = s;
        } else if (s->empty_at_us < first_drain) {
            first_drain = s->empty_at_us;
        }
    }
    if (free_at)
        *free_at = free_slot ? now_us : first_drain;
    if (!claim || !free_slot)
        return NULL;
    memset(free_slot, 0, sizeof *free_slot);
    memcpy(free_slot->key, key, n);
    free_slot->empty_at_us = now_us;
    return free_slot;
}

static uint64_t ceil_ms(uint64_t us)
{
    uint64_t ms = (us + 999) / 1000;
    return ms ? ms : 1;
}

/* The wait in microseconds before one more event fits in s (0: now). */
static uint64_t over(const struct tocsin_ratelimit *rl, const struct slot *s, uint64_t now_us)
{
    uint64_t level = s->empty_at_us > now_us ? s->empty_at_us - now_us : 0;
    return level + rl->interval_us > rl->cap_us ? level + rl->interval_us - rl->cap_us : 0;
}

uint64_t tocsin_ratelimit_wait(struct tocsin_ratelimit *rl, const char *key, uint64_t now_ms)
{
    if (rl->unlimited)
        return 0;
    uint64_t now_us = now_ms * 1000, free_at = 0;
    struct slot *s = find(rl, key, now_us, 1, &free_at);
    if (!s)
        return ceil_ms(free_at - now_us);
    uint64_t wait = over(rl, s, now_us);
    if (wait)
        return ceil_ms(wait); /* at most one interval */
    uint64_t level = s->empty_at_us > now_us ? s->empty_at_us - now_us : 0;
    s->empty_at_us = now_us + level + rl->interval_us;
    return 0;
}

int tocsin_ratelimit_take(struct tocsin_ratelimit *rl, const char *key, uint64_t now_ms)
{
    return tocsin_ratelimit_wait(rl, key, now_ms) == 0;
}

int tocsin_ratelimit_peek(struct tocsin_ratelimit *rl, const char *key, uint64_t now_ms)
{
    if (rl->unlimited)
        return 1;
    uint64_t now_us = now_ms * 1000, free_at = 0;
    struct slot *s = find(rl, key, now_us, 0, &free_at);
    return s ? over(rl, s, now_us) == 0 : free_at <= now_us;
}

void tocsin_ratelimit_refund(struct tocsin_ratelimit *rl, const char *key, uint64_t now_ms)
{
    uint64_t now_us = now_ms * 1000;
    struct slot *s = find(rl, key, now_us, 0, NULL);
    if (!s)
        return;
    if (s->empty_at_us > now_us + rl->interval_us)
        s->empty_at_us -= rl->interval_us;
    else
        memset(s, 0, sizeof *s);
}

void tocsin_ratelimit_clear(struct tocsin_ratelimit *rl, const char *key)
{
    struct slot *s = find(rl, key, 0, 0, NULL);
    if (s)
        memset(s, 0, sizeof *s);
}

double tocsin_ratelimit_level(struct tocsin_ratelimit *rl, const char *key, uint64_t now_ms)
{
    uint64_t now_us = now_ms * 1000;
    struct slot *s = find(rl, key, now_us, 0, NULL);
    if (!s || s->empty_at_us <= now_us)
        return 0;
    return (double)(s->empty_at_us - now_us) / (double)rl->interval_us;
}
