/* SPDX-License-Identifier: AGPL-3.0-or-later
 * pgarray.h — builds PostgreSQL array literals ("{1,2}", "{\"a\",NULL}")
 * for passing a batch as one text parameter ($1::bigint[]), so a batch of
 * any size is one statement with a fixed parameter count. The one builder
 * the worker (claims, outcomes), the gateway (webhook batches) and
 * tocsinctl (the zone table) share; its text lives in a capped dynbuf. */
#ifndef TOCSIN_PGARRAY_H
#define TOCSIN_PGARRAY_H

#include <stddef.h>

#include "dynbuf.h"

/* PostgreSQL refuses a parameter over 1 GB: no literal may grow past it. */
#define TOCSIN_PGARRAY_MAX_BYTES ((size_t)1 << 30)

struct tocsin_pgarray {
    struct tocsin_dynbuf text;
    unsigned n; /* elements added */
};

/* max: most bytes of the literal (0 = TOCSIN_PGARRAY_MAX_BYTES). */
void tocsin_pgarray_init(struct tocsin_pgarray *a, size_t max);
/* Empties it for the next literal, keeping its memory (a batch loop). */
void tocsin_pgarray_reset(struct tocsin_pgarray *a);
void tocsin_pgarray_add_int(struct tocsin_pgarray *a, long long v);
void tocsin_pgarray_add_bool(struct tocsin_pgarray *a, int v);
/* Adds a quoted element ('"' and '\' escaped); NULL adds SQL NULL. */
void tocsin_pgarray_add_text(struct tocsin_pgarray *a, const char *s);
/* Closes the literal; returns it (owned by a, valid until the next reset
 * or free) or NULL when the cap or memory ran out along the way. */
const char *tocsin_pgarray_finish(struct tocsin_pgarray *a);
void tocsin_pgarray_free(struct tocsin_pgarray *a);

#endif
