/* SPDX-License-Identifier: AGPL-3.0-or-later
 * table.h — a hash table from byte-string keys to 64-bit values, for the
 * simulator's indexes (sid -> message, "to\nbody" -> count, sender ->
 * rates, "to\nfrom" -> opted out). It owns copies of its keys, not what
 * the values refer to. An all-zero struct is an empty table; nothing is
 * allocated until the first put. Not thread-safe. */
#ifndef CARRIER_SIM_TABLE_H
#define CARRIER_SIM_TABLE_H

#include <stddef.h>
#include <stdint.h>

struct sim_table_slot {
    char *key; /* NULL: the slot is free */
    size_t len;
    uint64_t hash;
    uint64_t value;
};

struct sim_table {
    struct sim_table_slot *slots;
    size_t cap; /* 0 or a power of two */
    size_t n;   /* keys held */
};

/* The value stored under key[0..len), or NULL if absent. The pointer is
 * valid until the next put, del or clear. */
uint64_t *sim_table_get(const struct sim_table *t, const char *key, size_t len);

/* The value under key[0..len), inserted as 0 (and *created set to 1, when
 * created is not NULL) if the key was absent; NULL if out of memory, the
 * table unchanged. Same lifetime as sim_table_get's pointer. */
uint64_t *sim_table_put(struct sim_table *t, const char *key, size_t len, int *created);

/* Removes key[0..len); returns 1 if it was there, 0 if not. */
int sim_table_del(struct sim_table *t, const char *key, size_t len);

/* Removes every key and releases all memory; the table stays usable. */
void sim_table_clear(struct sim_table *t);

#endif
