/* SPDX-License-Identifier: AGPL-3.0-or-later
 * csv.c — the CSV record reader (see csv.h for the rules). */
#include "csv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void tocsin_csv_init_file(struct tocsin_csv *r, FILE *f)
{
    /* Everything but the 64 KiB buffer and the per-record arrays, which
     * are written before they are read. (The fields after buf were once
     * left as the stack had them: a stale io_error failed an import.) */
    memset(r, 0, offsetof(struct tocsin_csv, buf));
    r->buf_len = r->buf_pos = 0;
    r->file = f;
    r->line = 1;
    r->started = 0;
    r->io_error = 0;
    r->store = NULL;
    r->store_cap = 0;
}

void tocsin_csv_init_mem(struct tocsin_csv *r, const void *data, size_t len)
{
    tocsin_csv_init_file(r, NULL);
    r->mem = data;
    r->mem_len = len;
}

void tocsin_csv_free(struct tocsin_csv *r)
{
    free(r->store);
    r->store = NULL;
}

/* Refills the file buffer; returns 0 at the end of input or on a read
 * error (remembered in io_error: the caller must not mistake it for EOF). */
static size_t csv_fill(struct tocsin_csv *r)
{
    r->buf_pos = 0;
    errno = 0;
    r->buf_len = fread(r->buf, 1, sizeof r->buf, r->file);
    if (r->buf_len == 0 && ferror(r->file) && !r->io_error)
        r->io_error = errno ? errno : EIO;
    return r->buf_len;
}

/* Next byte, or -1 at the end of input. */
static int csv_getc(struct tocsin_csv *r)
{
    if (!r->file)
        return r->mem_pos < r->mem_len ? r->mem[r->mem_pos++] : -1;
    if (r->buf_pos == r->buf_len && csv_fill(r) == 0)
        return -1;
    return r->buf[r->buf_pos++];
}

static int csv_peek(struct tocsin_csv *r)
{
    if (!r->file)
        return r->mem_pos < r->mem_len ? r->mem[r->mem_pos] : -1;
    if (r->buf_pos == r->buf_len && csv_fill(r) == 0)
        return -1;
    return r->buf[r->buf_pos];
}

static void csv_skip_bom(struct tocsin_csv *r)
{
    r->started = 1;
    if (csv_peek(r) != 0xEF)
        return;
    /* Only a complete BOM is skipped; anything else stays data. */
    if (!r->file) {
        if (r->mem_len - r->mem_pos >= 3 && r->mem[r->mem_pos + 1] == 0xBB &&
            r->mem[r->mem_pos + 2] == 0xBF)
            r->mem_pos += 3;
        return;
    }
    if (r->buf_len - r->buf_pos >= 3 && r->buf[r->buf_pos + 1] == 0xBB &&
        r->buf[r->buf_pos + 2] == 0xBF)
        r->buf_pos += 3;
}

static int csv_io_fatal(struct tocsin_csv *r, char *err, size_t errlen)
{
    snprintf(err, errlen, "line %lu: could not read input: %s", r->line, strerror(r->io_error));
    return TOCSIN_CSV_FATAL;
}

struct csv_state {
    size_t used; /* bytes in store */
    size_t nfields;
    size_t field_len;
    int overflow; /* a bound was crossed: the row is bad */
    const char *why;
};

static void mark_bad(struct csv_state *s, const char *why)
{
    if (!s->overflow) {
        s->overflow = 1;
        s->why = why;
    }
}

/* Appends c to the store (room for a terminator is always kept). */
static int store_raw(struct tocsin_csv *r, struct csv_state *s, char c)
{
    if (s->used + 2 > r->store_cap) {
        size_t cap = r->store_cap ? r->store_cap * 2 : 4096;
        char *n = realloc(r->store, cap);
        if (!n) {
            mark_bad(s, "out of memory");
            return -1;
        }
        r->store = n;
        r->store_cap = cap;
    }
    r->store[s->used++] = c;
    return 0;
}

static void store_byte(struct tocsin_csv *r, struct csv_state *s, char c)
{
    if (s->overflow)
        return;
    if (c == '\0') {
        mark_bad(s, "a field contains a NUL byte");
        return;
    }
    if (s->field_len >= TOCSIN_CSV_MAX_FIELD) {
        mark_bad(s, "a field is longer than 4096 bytes");
        return;
    }
    if (s->used >= TOCSIN_CSV_MAX_RECORD) {
        mark_bad(s, "a record is longer than 65536 bytes");
        return;
    }
    if (store_raw(r, s, c) == 0)
        s->field_len++;
}

static void end_field(struct tocsin_csv *r, struct csv_state *s)
{
    if (s->nfields >= TOCSIN_CSV_MAX_COLS)
        mark_bad(s, "more than 64 columns");
    if (s->overflow)
        return;
    if (store_raw(r, s, '\0') == 0) {
        r->offsets[s->nfields] = s->used - s->field_len - 1;
        r->lens[s->nfields] = s->field_len;
        s->nfields++;
    }
    s->field_len = 0;
}

static int csv_read_record(struct tocsin_csv *r, struct tocsin_csv_row *row, char *err,
                           size_t errlen)
{
    if (!r->started)
        csv_skip_bom(r);
    for (;;) {
        struct csv_state s = {0};
        unsigned long start_line = r->line;
        int c = csv_getc(r);
        if (c < 0)
            return TOCSIN_CSV_EOF;
        if (c == '\n' || (c == '\r' && csv_peek(r) == '\n')) { /* blank line */
            if (c == '\r')
                csv_getc(r);
            r->line++;
            continue;
        }
        int in_quotes = 0, after_quote = 0, field_start = 1;
        for (;; c = csv_getc(r)) {
            if (in_quotes) {
                if (c < 0) {
                    snprintf(err, errlen, "line %lu: unterminated quoted field", start_line);
                    return TOCSIN_CSV_FATAL;
                }
                if (c == '"') {
                    if (csv_peek(r) == '"') {
                        csv_getc(r);
                        store_byte(r, &s, '"');
                    } else {
                        in_quotes = 0;
                        after_quote = 1;
                    }
                    continue;
                }
                if (c == '\n')
                    r->line++;
                store_byte(r, &s, (char)c);
                continue;
            }
            if (c == ',') {
                end_field(r, &s);
                after_quote = 0;
                field_start = 1;
                continue;
            }
            if (c < 0 || c == '\n' || (c == '\r' && csv_peek(r) == '\n')) {
                if (c == '\r')
                    csv_getc(r);
                if (c >= 0)
                    r->line++;
                end_field(r, &s);
                break;
            }
            if (after_quote) {
                mark_bad(&s, "unexpected character after a closing quote");
                continue;
            }
            if (c == '"') {
                if (field_start) {
                    in_quotes = 1;
                    field_start = 0;
                    continue;
                }
                mark_bad(&s, "a quote inside an unquoted field");
                continue;
            }
            field_start = 0;
            store_byte(r, &s, (char)c);
        }
        row->line = start_line;
        if (s.overflow) {
            snprintf(err, errlen, "%s", s.why);
            row->nfields = 0;
            return TOCSIN_CSV_BAD_ROW;
        }
        row->nfields = s.nfields;
        for (size_t i = 0; i < s.nfields; i++) {
            row->fields[i] = r->store + r->offsets[i];
            row->lens[i] = r->lens[i];
        }
        return TOCSIN_CSV_ROW;
    }
}

int tocsin_csv_next(struct tocsin_csv *r, struct tocsin_csv_row *row, char *err, size_t errlen)
{
    if (r->io_error) /* sticky: nothing after a failed read can be trusted */
        return csv_io_fatal(r, err, errlen);
    int rc = csv_read_record(r, row, err, errlen);
    /* A read error ends the input early: the record in hand may be cut
     * short, so it is not returned. */
    return r->io_error ? csv_io_fatal(r, err, errlen) : rc;
}
