/* SPDX-License-Identifier: AGPL-3.0-or-later
 * arena.h — a bump allocator for memory that lives exactly as long as one
 * request: allocate freely, release everything with one tocsin_arena_reset()
 * or tocsin_arena_free(). Under AddressSanitizer every allocation is its own
 * malloc, so use-after-reset is still caught. Not thread-safe. */
#ifndef TOCSIN_ARENA_H
#define TOCSIN_ARENA_H

#include <stddef.h>

struct tocsin_arena_chunk;

struct tocsin_arena {
    struct tocsin_arena_chunk *chunks; /* newest first */
    char *cur, *end;                   /* free space in the newest chunk */
    size_t chunk_size;
    size_t total; /* bytes handed out since the last reset */
};

void tocsin_arena_init(struct tocsin_arena *a, size_t chunk_size);

/* Returns n bytes aligned for any type, or NULL if out of memory. The
 * memory is owned by the arena. */
void *tocsin_arena_alloc(struct tocsin_arena *a, size_t n);

/* Copies s[0..n) and a NUL into the arena; NULL if out of memory. */
char *tocsin_arena_strndup(struct tocsin_arena *a, const char *s, size_t n);

/* Releases every allocation; keeps one chunk for reuse (none under ASan). */
void tocsin_arena_reset(struct tocsin_arena *a);

/* Releases everything, including the retained chunk. */
void tocsin_arena_free(struct tocsin_arena *a);

#endif
