/* SPDX-License-Identifier: AGPL-3.0-or-later
 * csv_write.h — writing CSV cells for exports (the dashboard's list
 * export): RFC 4180 quoting, plus a guard against CSV injection — a cell
 * starting with = + - @ (or a tab or carriage return) is prefixed with a
 * single quote so a spreadsheet shows it as text instead of running it as
 * a formula. Reading CSV is csv.h. */
#ifndef TOCSIN_CSV_WRITE_H
#define TOCSIN_CSV_WRITE_H

#include <stddef.h>

/* Bytes tocsin_csv_cell() writes for value (len bytes), excluding the
 * terminating NUL. Never fails. */
size_t tocsin_csv_cell_len(const char *value, size_t len);

/* Writes value as one CSV cell into out (outsize bytes, NUL-terminated):
 * quoted when it holds a comma, quote, CR or LF (quotes doubled), and
 * prefixed with ' when it starts with = + - @ TAB or CR. A NULL value is
 * an empty cell. Returns the bytes written (excluding the NUL), or -1 when
 * out is too small (out is then left empty). */
long tocsin_csv_cell(const char *value, size_t len, char *out, size_t outsize);

#endif
