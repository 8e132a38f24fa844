/* SPDX-License-Identifier: AGPL-3.0-or-later
 * csv_write.c — one CSV cell for an export: RFC 4180 quoting and the
 * formula-injection guard (a leading ' before = + - @ TAB CR), so a list
 * exported from the dashboard opens in a spreadsheet as plain text. */
#include "csv_write.h"

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
