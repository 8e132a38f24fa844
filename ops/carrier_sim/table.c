/* SPDX-License-Identifier: AGPL-3.0-or-later
 * table.c — the simulator's hash table (table.h): open addressing with
 * linear probing, at most half full, and backward-shift deletion, so there
 * are no tombstones. Owns its slots and the copies of its keys. The hash
 * (lib/hash.h) is not keyed: the simulator only faces our own tests and
 * benchmarks, and a client that wanted collisions could only slow the
 * simulator down. */
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "table.h"

#define MIN_CAP 16

static uint64_t hash(const char *key, size_t len)
{
    return tocsin_hash(key, len);
}

/* The slot holding the key, or the free slot where it would go. */
static struct sim_table_slot *probe(const struct sim_table *t, const char *key, size_t len,
                                    uint64_t h)
{
    size_t mask = t->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        struct sim_table_slot *s = &t->slots[i];
        if (!s->key || (s->hash == h && s->len == len && memcmp(s->key, key, len) == 0))
            return s;
    }
}

uint64_t *sim_table_get(const struct sim_table *t, const char *key, size_t len)
{
    if (!t->n)
        return NULL;
    struct sim_table_slot *s = probe(t, key, len, hash(key, len));
    return s->key ? &s->value : NULL;
}

/* Doubles the slots (or makes the first ones); -1 if out of memory. */
static int grow(struct sim_table *t)
{
    size_t cap = t->cap ? t->cap * 2 : MIN_CAP;
    if (cap < t->cap || cap > SIZE_MAX / sizeof(struct sim_table_slot))
        return -1;
    struct sim_table_slot *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    struct sim_table bigger = {slots, cap, t->n};
    for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i].key)
            *probe(&bigger, t->slots[i].key, t->slots[i].len, t->slots[i].hash) = t->slots[i];
    free(t->slots);
    *t = bigger;
    return 0;
}

uint64_t *sim_table_put(struct sim_table *t, const char *key, size_t len, int *created)
{
    if (created)
        *created = 0;
    /* Grow first, so the slot probe returns stays where it is; an update
     * of a present key may grow a little early, which is harmless. */
    if ((t->n + 1) * 2 > t->cap && grow(t))
        return NULL;
    uint64_t h = hash(key, len);
    struct sim_table_slot *s = probe(t, key, len, h);
    if (s->key)
        return &s->value;
    char *copy = malloc(len + 1);
    if (!copy)
        return NULL;
    memcpy(copy, key, len);
    copy[len] = '\0';
    *s = (struct sim_table_slot){copy, len, h, 0};
    t->n++;
    if (created)
        *created = 1;
    return &s->value;
}

int sim_table_del(struct sim_table *t, const char *key, size_t len)
{
    if (!t->n)
        return 0;
    struct sim_table_slot *s = probe(t, key, len, hash(key, len));
    if (!s->key)
        return 0;
    free(s->key);
    /* Backward shift: pull later members of the probe run into the hole,
     * unless their home slot lies after the hole (cyclically), so every
     * key stays reachable from its home without tombstones. */
    size_t mask = t->cap - 1, hole = (size_t)(s - t->slots);
    for (size_t j = (hole + 1) & mask; t->slots[j].key; j = (j + 1) & mask) {
        size_t home = t->slots[j].hash & mask;
        int stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
        if (stays)
            continue;
        t->slots[hole] = t->slots[j];
        hole = j;
    }
    t->slots[hole].key = NULL;
    t->n--;
    return 1;
}

void sim_table_clear(struct sim_table *t)
{
    for (size_t i = 0; i < t->cap; i++)
        free(t->slots[i].key);
    free(t->slots);
    *t = (struct sim_table){0};
}
