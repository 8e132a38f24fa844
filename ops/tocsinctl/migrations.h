/* SPDX-License-Identifier: AGPL-3.0-or-later
 * migrations.h — the migrations embedded at build time (the .sql files of schema/). */
#ifndef TOCSINCTL_MIGRATIONS_H
#define TOCSINCTL_MIGRATIONS_H

#include <stddef.h>

struct tocsin_migration {
    const char *name; /* "001_core.sql" */
    const char *sql;
    size_t len;
};

/* In name order, terminated by an entry whose name is NULL. */
extern const struct tocsin_migration tocsin_migrations[];

#endif
