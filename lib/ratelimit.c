/* SPDX-License-Identifier: AGPL-3.0-or-later
 * ratelimit.c — token buckets in a fixed open table (see ratelimit.h). */
#include "ratelimit.h"

#include <stdlib.h>
#include <string.h>

struct bucket {
    char key[48];
    double tokens;
    uint64_t at_ms;
};

struct tocsin_ratelimit {
    double rate, burst;
    unsigned slots;
    struct bucket *table;
};

struct tocsin_ratelimit *tocsin_ratelimit_new(double rate, double burst, unsigned slots)
{
    struct tocsin_ratelimit *rl = calloc(1, sizeof *rl);
    if (!rl)
        return NULL;
    rl->rate = rate;
    rl->burst = burst < 1 ? 1 : burst;
    rl->slots = slots ? slots : 1;
    rl->table = calloc(rl->slots, sizeof *rl->table);
    if (!rl->table) {
        free(rl);
        return NULL;
    }
    return rl;
}

void tocsin_ratelimit_free(struct tocsin_ratelimit *rl)
{
    if (rl)
        free(rl->table);
    free(rl);
}

static uint64_t key_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

int tocsin_ratelimit_peek(struct tocsin_ratelimit *rl, const char *key, uint64_t now_ms)
{
    if (rl->rate <= 0)
        return 1;
    const struct bucket *b = &rl->table[key_hash(key) % rl->slots];
    if (strncmp(b->key, key, sizeof b->key) != 0)
        return 1;
    double elapsed = now_ms > b->at_ms ? (double)(now_ms - b->at_ms) / 1000.0 : 0;
    return b->tokens + elapsed * rl->rate >= 1;
}

int tocsin_ratelimit_take(struct tocsin_ratelimit *rl, const char *key, uint64_t now_ms)
{
    if (rl->rate <= 0)
        return 1;
    struct bucket *b = &rl->table[key_hash(key) % rl->slots];
    if (strncmp(b->key, key, sizeof b->key) != 0) { /* a new key takes the slot, full */
        strncpy(b->key, key, sizeof b->key - 1);
        b->key[sizeof b->key - 1] = '\0';
        b->tokens = rl->burst;
        b->at_ms = now_ms;
    }
    double elapsed = now_ms > b->at_ms ? (double)(now_ms - b->at_ms) / 1000.0 : 0;
    b->tokens += elapsed * rl->rate;
    if (b->tokens > rl->burst)
        b->tokens = rl->burst;
    b->at_ms = now_ms;
    if (b->tokens < 1)
        return 0;
    b->tokens -= 1;
    return 1;
}
