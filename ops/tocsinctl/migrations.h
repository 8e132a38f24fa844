/* SPDX-License-Identifier: AGPL-3.0-or-later
 * migrations.h — the schema files embedded at build time: the numbered
 * migrations (schema/NNN_*.sql) and the repeatable files (schema/functions/). */
#ifndef TOCSINCTL_MIGRATIONS_H
#define TOCSINCTL_MIGRATIONS_H

#include <stddef.h>

struct tocsin_migration {
    const char *name; /* "001_core.sql", or "functions/blasts.sql" for a repeatable file */
    const char *sql;
    size_t len;
};

/* The numbered migrations in name order, then the repeatable files in name
 * order, terminated by an entry whose name is NULL. */
extern const struct tocsin_migration tocsin_migrations[];

#endif
