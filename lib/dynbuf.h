/* SPDX-License-Identifier: AGPL-3.0-or-later
 * dynbuf.h — a growable byte buffer with a size limit set at init (the
 * shape of curl's dynbuf): appends either fit under the limit or fail
 * without changing what the buffer holds, so an export, a request body or
 * a spool record can never grow past what its caller allowed. The data is
 * always NUL-terminated (not counted in len). */
#ifndef TOCSIN_DYNBUF_H
#define TOCSIN_DYNBUF_H

#include <stddef.h>

struct tocsin_dynbuf {
    char *data; /* NULL until the first append */
    size_t len, cap;
    size_t max; /* most bytes it may hold (excluding the NUL) */
    int failed; /* an append failed (too big, or out of memory) */
};

void tocsin_dynbuf_init(struct tocsin_dynbuf *b, size_t max);
/* Appends len bytes. Returns 0, or -1 (and sets failed) when the result
 * would pass max or memory runs out; the buffer then keeps what it had. */
int tocsin_dynbuf_add(struct tocsin_dynbuf *b, const void *data, size_t len);
int tocsin_dynbuf_add_str(struct tocsin_dynbuf *b, const char *s);
/* Room for `more` bytes past len: returns where to write them (then call
 * tocsin_dynbuf_commit), or NULL as add fails. */
char *tocsin_dynbuf_reserve(struct tocsin_dynbuf *b, size_t more);
void tocsin_dynbuf_commit(struct tocsin_dynbuf *b, size_t written);
void tocsin_dynbuf_reset(struct tocsin_dynbuf *b); /* empty, keeps memory */
void tocsin_dynbuf_free(struct tocsin_dynbuf *b);

#endif
