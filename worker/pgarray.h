/* SPDX-License-Identifier: AGPL-3.0-or-later
 * pgarray.h — builds PostgreSQL array literals ("{1,2}", "{\"a\",NULL}")
 * for passing a batch as one text parameter ($1::bigint[]), so a batch of
 * any size is one statement with a fixed parameter count. */
#ifndef TOCSIN_PGARRAY_H
#define TOCSIN_PGARRAY_H

#include <stddef.h>

struct pg_array {
    char *buf;    /* malloc'd, NUL-terminated after pg_array_finish */
    size_t len, cap;
    unsigned n;
    int failed;   /* out of memory: finish returns NULL */
};

void pg_array_init(struct pg_array *a);
void pg_array_add_int(struct pg_array *a, long long v);
void pg_array_add_bool(struct pg_array *a, int v);
/* Adds a quoted element; NULL adds SQL NULL. */
void pg_array_add_text(struct pg_array *a, const char *s);
/* Closes the literal; returns it (owned by a; freed by pg_array_free) or
 * NULL when memory ran out. */
const char *pg_array_finish(struct pg_array *a);
void pg_array_free(struct pg_array *a);

#endif
