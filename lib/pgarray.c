/* SPDX-License-Identifier: AGPL-3.0-or-later
 * pgarray.c — PostgreSQL array literals; see pgarray.h. Text elements are
 * copied in runs between the characters that need a backslash (strcspn),
 * not byte by byte: the gateway quotes every member message this way. */
#include "pgarray.h"

#include <stdio.h>
#include <string.h>

void tocsin_pgarray_init(struct tocsin_pgarray *a, size_t max)
{
    tocsin_dynbuf_init(&a->text, max ? max : TOCSIN_PGARRAY_MAX_BYTES);
    a->n = 0;
}

void tocsin_pgarray_reset(struct tocsin_pgarray *a)
{
    tocsin_dynbuf_reset(&a->text);
    a->n = 0;
}

static void separator(struct tocsin_pgarray *a)
{
    tocsin_dynbuf_add(&a->text, a->n++ ? "," : "{", 1);
}

void tocsin_pgarray_add_int(struct tocsin_pgarray *a, long long v)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%lld", v);
    separator(a);
    tocsin_dynbuf_add(&a->text, num, (size_t)n);
}

void tocsin_pgarray_add_bool(struct tocsin_pgarray *a, int v)
{
    separator(a);
    tocsin_dynbuf_add(&a->text, v ? "t" : "f", 1);
}

void tocsin_pgarray_add_text(struct tocsin_pgarray *a, const char *s)
{
    separator(a);
    if (!s) {
        tocsin_dynbuf_add(&a->text, "NULL", 4);
        return;
    }
    tocsin_dynbuf_add(&a->text, "\"", 1);
    while (*s) {
        size_t run = strcspn(s, "\"\\");
        tocsin_dynbuf_add(&a->text, s, run);
        s += run;
        if (*s) {
            char esc[2] = {'\\', *s++};
            tocsin_dynbuf_add(&a->text, esc, 2);
        }
    }
    tocsin_dynbuf_add(&a->text, "\"", 1);
}

const char *tocsin_pgarray_finish(struct tocsin_pgarray *a)
{
    if (a->n == 0)
        tocsin_dynbuf_add(&a->text, "{", 1);
    tocsin_dynbuf_add(&a->text, "}", 1);
    return a->text.failed ? NULL : a->text.data;
}

void tocsin_pgarray_free(struct tocsin_pgarray *a)
{
    tocsin_dynbuf_free(&a->text);
    a->n = 0;
}
