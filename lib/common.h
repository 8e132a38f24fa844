/* SPDX-License-Identifier: AGPL-3.0-or-later
 * common.h — small helpers every module uses: string views (base, len),
 * container_of, ARRAY_SIZE, static asserts. No state, no allocation. */
#ifndef TOCSIN_COMMON_H
#define TOCSIN_COMMON_H

#include <stddef.h>
#include <string.h>

/* A string view: not NUL-terminated, not owned. */
typedef struct tocsin_str {
    const char *base;
    size_t len;
} tocsin_str;

#define TSTR(lit) ((tocsin_str){(lit), sizeof(lit) - 1})
#define TSTR_NULL ((tocsin_str){NULL, 0})

static inline tocsin_str tocsin_str_from(const char *s)
{
    return (tocsin_str){s, s ? strlen(s) : 0};
}

static inline int tocsin_str_eq(tocsin_str a, tocsin_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.base, b.base, a.len) == 0);
}

/* ASCII case-insensitive equality (HTTP header names, keywords). */
int tocsin_str_eq_nocase(tocsin_str a, tocsin_str b);

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))
#define STATIC_ASSERT(expr, msg) _Static_assert(expr, msg)

#endif
