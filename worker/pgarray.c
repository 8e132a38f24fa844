/* SPDX-License-Identifier: AGPL-3.0-or-later
 * pgarray.c — PostgreSQL array literals; see pgarray.h. */
#include "pgarray.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pg_array_init(struct pg_array *a)
{
    memset(a, 0, sizeof *a);
}

static int reserve(struct pg_array *a, size_t more)
{
    if (a->failed)
        return -1;
    if (a->len + more + 1 <= a->cap)
        return 0;
    size_t cap = a->cap ? a->cap : 256;
    while (cap < a->len + more + 1)
        cap *= 2;
    char *grown = realloc(a->buf, cap);
    if (!grown) {
        a->failed = 1;
        return -1;
    }
    a->buf = grown;
    a->cap = cap;
    return 0;
}

static void put(struct pg_array *a, const char *s, size_t n)
{
    if (reserve(a, n))
        return;
    memcpy(a->buf + a->len, s, n);
    a->len += n;
}

static void separator(struct pg_array *a)
{
    put(a, a->n++ ? "," : "{", 1);
}

void pg_array_add_int(struct pg_array *a, long long v)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%lld", v);
    separator(a);
    put(a, num, (size_t)n);
}

void pg_array_add_bool(struct pg_array *a, int v)
{
    separator(a);
    put(a, v ? "t" : "f", 1);
}

void pg_array_add_text(struct pg_array *a, const char *s)
{
    separator(a);
    if (!s) {
        put(a, "NULL", 4);
        return;
    }
    put(a, "\"", 1);
    for (const char *p = s; *p; p++) {
        if (*p == '"' || *p == '\\')
            put(a, "\\", 1);
        put(a, p, 1);
    }
    put(a, "\"", 1);
}

const char *pg_array_finish(struct pg_array *a)
{
    if (a->n == 0)
        put(a, "{", 1);
    put(a, "}", 1);
    if (reserve(a, 0))
        return NULL;
    a->buf[a->len] = '\0';
    return a->buf;
}

void pg_array_free(struct pg_array *a)
{
    free(a->buf);
    pg_array_init(a);
}
