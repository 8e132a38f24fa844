/* SPDX-License-Identifier: AGPL-3.0-or-later
 * csv_write.c — CSV cells and rows for every export: RFC 4180 quoting and
 * the formula-injection guard (a leading ' before = + - @ TAB CR), so an
 * export opens in a spreadsheet as plain text. */
#include "csv_write.h"

#include <string.h>

static int needs_guard(const char *v, size_t len)
{
    return len > 0 && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@' || v[0] == '\t' ||
                       v[0] == '\r');
}

static int needs_quotes(const char *v, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (v[i] == ',' || v[i] == '"' || v[i] == '\r' || v[i] == '\n')
            return 1;
    return 0;
}

size_t tocsin_csv_cell_len(const char *value, size_t len)
{
    if (!value)
        return 0;
    size_t n = len + (size_t)needs_guard(value, len);
    if (needs_quotes(value, len)) {
        n += 2;
        for (size_t i = 0; i < len; i++)
            n += value[i] == '"';
    }
    return n;
}

long tocsin_csv_cell(const char *value, size_t len, char *out, size_t outsize)
{
    size_t need = tocsin_csv_cell_len(value, len);
    if (outsize == 0)
        return -1;
    if (need >= outsize) {
        out[0] = '\0';
        return -1;
    }
    size_t o = 0;
    if (value) {
        int quoted = needs_quotes(value, len);
        if (quoted)
            out[o++] = '"';
        if (needs_guard(value, len))
            out[o++] = '\'';
        for (size_t i = 0; i < len; i++) {
            if (value[i] == '"')
                out[o++] = '"';
            out[o++] = value[i];
        }
        if (quoted)
            out[o++] = '"';
    }
    out[o] = '\0';
    return (long)o;
}

int tocsin_csv_append_row(struct tocsin_dynbuf *b, const char *const *cells, size_t n)
{
    size_t start = b->len;
    for (size_t i = 0; i < n; i++) {
        size_t len = cells[i] ? strlen(cells[i]) : 0, need = tocsin_csv_cell_len(cells[i], len);
        char *p = tocsin_dynbuf_reserve(b, need + 1 + (i == n - 1 ? 2 : 1));
        if (!p) {
            b->len = start; /* no half rows */
            if (b->data)
                b->data[start] = '\0';
            return -1;
        }
        long w = tocsin_csv_cell(cells[i], len, p, need + 1);
        memcpy(p + w, i == n - 1 ? "\r\n" : ",", i == n - 1 ? 2 : 1);
        tocsin_dynbuf_commit(b, (size_t)w + (i == n - 1 ? 2 : 1));
    }
    return 0;
}
