/* SPDX-License-Identifier: AGPL-3.0-or-later
 * repeatable.h — applying and recording the repeatable schema files
 * (schema/functions/: functions, views, triggers) for tocsinctl migrate. */
#ifndef TOCSINCTL_REPEATABLE_H
#define TOCSINCTL_REPEATABLE_H

#include <stddef.h>

#include <libpq-fe.h>

/* CREATE TABLE IF NOT EXISTS schema_repeatables: a file's name, the
 * checksum it was last applied with and the objects it defined then. */
extern const char ctl_repeatable_table_sql[];

/* Reads the checksum a migration was last applied with, by sql (one $1
 * parameter, key: schema_migrations' version or schema_repeatables'
 * name): returns 1 and fills sum_out, 0 if it never was, -1 with err on a
 * database error. */
int ctl_recorded_checksum(PGconn *conn, const char *sql, const char *key, char sum_out[65],
                          char *err, size_t errlen);

/* Inside the caller's transaction: runs sql (the file named name) with
 * function bodies unchecked, records sum and the functions, views and
 * triggers it defined, and drops those it defined when last applied and
 * defines no more (another file does not either), printing each. Returns
 * 0, or -1 with err; the caller rolls back. */
int ctl_repeatable_apply(PGconn *conn, const char *name, const char *sql, const char *sum,
                         char *err, size_t errlen);

/* Inside the caller's transaction, once every file of the run was
 * applied: checks the bodies of the schema's SQL and PL/pgSQL functions,
 * which ctl_repeatable_apply created unchecked. Returns 0, or -1 with the
 * first error in err; the caller rolls back. */
int ctl_repeatable_validate(PGconn *conn, char *err, size_t errlen);

#endif
