/* SPDX-License-Identifier: AGPL-3.0-or-later
 * csv.h — a strict, bounded, streaming RFC 4180 reader: quoted fields with
 * "" escapes and embedded newlines, CRLF or LF, a UTF-8 BOM skipped, blank
 * lines skipped. Each record reports the line it starts on. A record with
 * a field over TOCSIN_CSV_MAX_FIELD bytes, over TOCSIN_CSV_MAX_RECORD bytes
 * in all, more than TOCSIN_CSV_MAX_COLS columns, a NUL byte or a stray
 * quote is a recoverable row error; an unterminated quote or a read error
 * is fatal. Memory is bounded whatever the input. */
#ifndef TOCSIN_CSV_H
#define TOCSIN_CSV_H

#include <stddef.h>
#include <stdio.h>

#define TOCSIN_CSV_MAX_FIELD 4096
#define TOCSIN_CSV_MAX_COLS 64
#define TOCSIN_CSV_MAX_RECORD 65536 /* field bytes of one record, terminators included */

struct tocsin_csv {
    FILE *file; /* or NULL for a memory buffer */
    const unsigned char *mem;
    size_t mem_len, mem_pos;
    unsigned char buf[65536];
    size_t buf_len, buf_pos;
    unsigned long line; /* current physical line (1-based) */
    int started;        /* BOM check done */
    int io_error;       /* errno of a failed read, 0 if none */
    char *store;        /* the current record's field bytes */
    size_t store_cap;
    size_t offsets[TOCSIN_CSV_MAX_COLS];
    size_t lens[TOCSIN_CSV_MAX_COLS];
};

struct tocsin_csv_row {
    unsigned long line; /* where the record starts */
    size_t nfields;
    const char *fields[TOCSIN_CSV_MAX_COLS]; /* NUL-terminated, valid until the next call */
    size_t lens[TOCSIN_CSV_MAX_COLS];
};

/* Readers over a FILE (read in 64 KiB blocks; the caller keeps and closes
 * it) or over len bytes of memory (not copied: it must outlive the reader).
 * Neither fails. tocsin_csv_free() releases the record buffer; the reader
 * may be initialised again afterwards. */
void tocsin_csv_init_file(struct tocsin_csv *r, FILE *f);
void tocsin_csv_init_mem(struct tocsin_csv *r, const void *data, size_t len);
void tocsin_csv_free(struct tocsin_csv *r);

enum { TOCSIN_CSV_ROW = 1, TOCSIN_CSV_EOF = 0, TOCSIN_CSV_BAD_ROW = -1, TOCSIN_CSV_FATAL = -2 };

/* Reads the next record. Returns TOCSIN_CSV_ROW (row's fields point into
 * the reader, valid until the next call), TOCSIN_CSV_EOF, TOCSIN_CSV_BAD_ROW
 * (row->line set, reason in err; reading may go on) or TOCSIN_CSV_FATAL
 * (reason in err, naming the line; the caller stops reading). */
int tocsin_csv_next(struct tocsin_csv *r, struct tocsin_csv_row *row, char *err, size_t errlen);

#endif
