/* SPDX-License-Identifier: AGPL-3.0-or-later
 * dynbuf.c — the capped growable buffer of dynbuf.h: capacity doubles from
 * 256 bytes, never past max + 1 (the NUL). */
#include "dynbuf.h"

#include <stdlib.h>
#include <string.h>

void tocsin_dynbuf_init(struct tocsin_dynbuf *b, size_t max)
{
    *b = (struct tocsin_dynbuf){.max = max};
}

char *tocsin_dynbuf_reserve(struct tocsin_dynbuf *b, size_t more)
{
    if (more > b->max || b->len > b->max - more) {
        b->failed = 1;
        return NULL;
    }
    size_t need = b->len + more + 1;
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : (b->max < 255 ? b->max + 1 : 256);
        while (cap < need)
            cap = cap > (b->max + 1) / 2 ? b->max + 1 : cap * 2;
        char *p = realloc(b->data, cap);
        if (!p) {
            b->failed = 1;
            return NULL;
        }
        b->data = p;
        b->cap = cap;
    }
    return b->data + b->len;
}

void tocsin_dynbuf_commit(struct tocsin_dynbuf *b, size_t written)
{
    b->len += written;
    b->data[b->len] = '\0';
}

int tocsin_dynbuf_add(struct tocsin_dynbuf *b, const void *data, size_t len)
{
    char *p = tocsin_dynbuf_reserve(b, len);
    if (!p)
        return -1;
    if (len)
        memcpy(p, data, len);
    tocsin_dynbuf_commit(b, len);
    return 0;
}

int tocsin_dynbuf_add_str(struct tocsin_dynbuf *b, const char *s)
{
    return tocsin_dynbuf_add(b, s, strlen(s));
}

void tocsin_dynbuf_reset(struct tocsin_dynbuf *b)
{
    b->len = 0;
    b->failed = 0;
    if (b->data)
        b->data[0] = '\0';
}

void tocsin_dynbuf_free(struct tocsin_dynbuf *b)
{
    free(b->data);
    *b = (struct tocsin_dynbuf){.max = b->max};
}
