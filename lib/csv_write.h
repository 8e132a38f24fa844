/* SPDX-License-Identifier: AGPL-3.0-or-later
 * csv_write.h — writing CSV for every export (lists, campaign answers and
 * opt-outs): RFC 4180 quoting, plus a guard against CSV injection — a cell
 * starting with = + - @ (or a tab or carriage return) is prefixed with a
 * single quote so a spreadsheet shows it as text instead of running it as
 * a formula. One rule for every cell, phone numbers included: "+1312..."
 * is written '+1312..., which a spreadsheet keeps as text with its "+"
 * (bare, it would read a number and drop the "+"). Reading CSV is csv.h. */
#ifndef TOCSIN_CSV_WRITE_H
#define TOCSIN_CSV_WRITE_H

#include <stddef.h>

#include "dynbuf.h"

/* Bytes tocsin_csv_cell() writes for value (len bytes), excluding the
 * terminating NUL. Never fails. */
size_t tocsin_csv_cell_len(const char *value, size_t len);

/* Writes value as one CSV cell into out (outsize bytes, NUL-terminated):
 * quoted when it holds a comma, quote, CR or LF (quotes doubled), and
 * prefixed with ' when it starts with = + - @ TAB or CR. A NULL value is
 * an empty cell. Returns the bytes written (excluding the NUL), or -1 when
 * out is too small (out is then left empty). */
long tocsin_csv_cell(const char *value, size_t len, char *out, size_t outsize);

/* Appends one row of n cells (NULL = empty) and CRLF to b. Returns 0, or
 * -1 when b's limit or memory ran out (b keeps the rows before). */
int tocsin_csv_append_row(struct tocsin_dynbuf *b, const char *const *cells, size_t n);

#endif
