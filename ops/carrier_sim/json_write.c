/* SPDX-License-Identifier: AGPL-3.0-or-later
 * json_write.c — JSON text written straight into a buffer (json_write.h):
 * a growable buffer and jansson's string escaping, byte for byte. It owns
 * no document structure; the callers write members in order. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_write.h"

void sim_jw_init(struct sim_jw *w, char *storage, size_t cap)
{
    w->base = storage;
    w->len = 0;
    w->cap = storage ? cap : 0;
    w->on_heap = 0;
    w->failed = 0;
    w->raw_utf8 = 0;
}

void sim_jw_free(struct sim_jw *w)
{
    if (w->on_heap)
        free(w->base);
    w->base = NULL;
    w->len = w->cap = 0;
    w->on_heap = 0;
}

/* Makes room for more bytes; -1 (and failed set) if it cannot. */
static int reserve(struct sim_jw *w, size_t more)
{
    if (w->failed)
        return -1;
    if (more <= w->cap - w->len)
        return 0;
    size_t need = w->len + more, cap = w->cap ? w->cap : 256;
    if (need < w->len) /* size_t overflow */
        goto fail;
    while (cap < need) {
        if (cap > SIZE_MAX / 2)
            goto fail;
        cap *= 2;
    }
    char *b = w->on_heap ? realloc(w->base, cap) : malloc(cap);
    if (!b)
        goto fail;
    if (!w->on_heap && w->len)
        memcpy(b, w->base, w->len);
    w->base = b;
    w->cap = cap;
    w->on_heap = 1;
    return 0;
fail:
    w->failed = 1;
    return -1;
}

void sim_jw_raw(struct sim_jw *w, const char *s, size_t n)
{
    if (reserve(w, n))
        return;
    memcpy(w->base + w->len, s, n);
    w->len += n;
}

void sim_jw_sep(struct sim_jw *w)
{
    if (w->len && w->base[w->len - 1] != '{' && w->base[w->len - 1] != '[')
        sim_jw_raw(w, ",", 1);
}

void sim_jw_int(struct sim_jw *w, long long v)
{
    char tmp[24];
    size_t i = sizeof tmp;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do
        tmp[--i] = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0)
        tmp[--i] = '-';
    sim_jw_raw(w, tmp + i, sizeof tmp - i);
}

/* Decodes the sequence at s[0..n) whose lead byte is >= 0x80 into *cp;
 * returns its length, or 0 if it is not strict UTF-8 — the same checks as
 * jansson's utf8_check_first/utf8_check_full. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    size_t len;
    uint32_t v, min;
    if (s[0] >= 0xC2 && s[0] <= 0xDF)
        len = 2, v = s[0] & 0x1Fu, min = 0x80;
    else if (s[0] >= 0xE0 && s[0] <= 0xEF)
        len = 3, v = s[0] & 0x0Fu, min = 0x800;
    else if (s[0] >= 0xF0 && s[0] <= 0xF4)
        len = 4, v = s[0] & 0x07u, min = 0x10000;
    else
        return 0; /* a continuation byte, C0/C1 (overlong ASCII), or F5 and up */
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = v << 6 | (s[i] & 0x3Fu);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return len;
}

/* What an ASCII byte becomes: 0 as is, a letter for a two-character
 * escape (\n), 'u' for \u00XX. */
static char ascii_escape(unsigned char c)
{
    switch (c) {
    case '"':
        return '"';
    case '\\':
        return '\\';
    case '\b':
        return 'b';
    case '\f':
        return 'f';
    case '\n':
        return 'n';
    case '\r':
        return 'r';
    case '\t':
        return 't';
    default:
        return c < 0x20 ? 'u' : 0;
    }
}

static char *put_u16(char *o, uint32_t u)
{
    static const char hex[] = "0123456789ABCDEF";
    *o++ = '\\';
    *o++ = 'u';
    *o++ = hex[u >> 12 & 0xF];
    *o++ = hex[u >> 8 & 0xF];
    *o++ = hex[u >> 4 & 0xF];
    *o++ = hex[u & 0xF];
    return o;
}

int sim_jw_string(struct sim_jw *w, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    /* First pass: validate and measure, so that nothing is written for a
     * string jansson would refuse and the second pass needs no checks. */
    size_t out = 2;
    uint32_t cp = 0;
    for (const unsigned char *q = p; q < end;) {
        if (*q < 0x80) {
            char e = ascii_escape(*q++);
            out += e == 0 ? 1 : e == 'u' ? 6 : 2;
            continue;
        }
        size_t len = utf8_decode(q, (size_t)(end - q), &cp);
        if (!len)
            return -1;
        q += len;
        out += w->raw_utf8 ? len : cp < 0x10000 ? 6 : 12;
    }
    if (reserve(w, out))
        return 0; /* out of memory: failed is set, the caller sees it */
    char *o = w->base + w->len, *first = o;
    *o++ = '"';
    while (p < end) {
        if (*p < 0x80) {
            char e = ascii_escape(*p);
            if (e == 0)
                *o++ = (char)*p;
            else if (e == 'u')
                o = put_u16(o, *p);
            else
                *o++ = '\\', *o++ = e;
            p++;
            continue;
        }
        size_t len = utf8_decode(p, (size_t)(end - p), &cp);
        if (w->raw_utf8) {
            memcpy(o, p, len);
            o += len;
        } else if (cp < 0x10000) {
            o = put_u16(o, cp);
        } else {
            cp -= 0x10000;
            o = put_u16(o, 0xD800 | (cp >> 10));
            o = put_u16(o, 0xDC00 | (cp & 0x3FF));
        }
        p += len;
    }
    *o++ = '"';
    assert((size_t)(o - first) == out); /* the two passes agree */
    (void)first;
    w->len = (size_t)(o - w->base);
    return 0;
}

int sim_jw_member(struct sim_jw *w, const char *key, const char *value)
{
    size_t start = w->len;
    sim_jw_sep(w);
    sim_jw_raw(w, "\"", 1);
    sim_jw_raw(w, key, strlen(key));
    SIM_JW_LIT(w, "\":");
    if (!value) {
        SIM_JW_LIT(w, "null");
        return 0;
    }
    if (sim_jw_string(w, value, strlen(value)) == 0)
        return 0;
    w->len = start;
    return -1;
}
