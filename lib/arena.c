/* SPDX-License-Identifier: AGPL-3.0-or-later
 * arena.c — chunked bump allocation with one-call release. */
#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define ARENA_ONE_MALLOC_PER_ALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_ONE_MALLOC_PER_ALLOC 1
#endif
#endif

struct tocsin_arena_chunk {
    struct tocsin_arena_chunk *next;
    size_t size;
    max_align_t data[];
};

void tocsin_arena_init(struct tocsin_arena *a, size_t chunk_size)
{
    memset(a, 0, sizeof *a);
    a->chunk_size = chunk_size < 256 ? 256 : chunk_size;
}

static struct tocsin_arena_chunk *arena_new_chunk(struct tocsin_arena *a, size_t size)
{
    struct tocsin_arena_chunk *c = malloc(sizeof *c + size);
    if (!c)
        return NULL;
    c->size = size;
    c->next = a->chunks;
    a->chunks = c;
    return c;
}

void *tocsin_arena_alloc(struct tocsin_arena *a, size_t n)
{
    const size_t align = _Alignof(max_align_t);
    size_t need = (n + align - 1) & ~(align - 1);
    if (need < n)
        return NULL; /* overflow */
    a->total += need;
#ifdef ARENA_ONE_MALLOC_PER_ALLOC
    struct tocsin_arena_chunk *c = arena_new_chunk(a, need);
    return c ? (void *)c->data : NULL;
#else
    if ((size_t)(a->end - a->cur) < need) {
        size_t size = need > a->chunk_size / 2 ? need : a->chunk_size;
        struct tocsin_arena_chunk *c = arena_new_chunk(a, size);
        if (!c)
            return NULL;
        if (size == need && a->cur) {
            /* A big block: keep bumping in the previous chunk. Move the
             * big chunk behind the head so reset() keeps a normal chunk. */
            a->chunks = c->next;
            c->next = a->chunks->next;
            a->chunks->next = c;
            return c->data;
        }
        a->cur = (char *)c->data;
        a->end = a->cur + size;
    }
    void *p = a->cur;
    a->cur += need;
    return p;
#endif
}

char *tocsin_arena_strndup(struct tocsin_arena *a, const char *s, size_t n)
{
    if (n == SIZE_MAX)
        return NULL; /* n + 1 would wrap */
    char *p = tocsin_arena_alloc(a, n + 1);
    if (!p)
        return NULL;
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void tocsin_arena_reset(struct tocsin_arena *a)
{
    struct tocsin_arena_chunk *keep = NULL, *c = a->chunks;
#ifndef ARENA_ONE_MALLOC_PER_ALLOC
    /* Keep the newest regular chunk: the next request reuses it. */
    if (c && c->size == a->chunk_size) {
        keep = c;
        c = c->next;
    }
#endif
    while (c) {
        struct tocsin_arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->chunks = keep;
    if (keep) {
        keep->next = NULL;
        a->cur = (char *)keep->data;
        a->end = a->cur + keep->size;
    } else {
        a->cur = a->end = NULL;
    }
    a->total = 0;
}

void tocsin_arena_free(struct tocsin_arena *a)
{
    tocsin_arena_reset(a);
    free(a->chunks);
    a->chunks = NULL;
    a->cur = a->end = NULL;
}
