/* SPDX-License-Identifier: AGPL-3.0-or-later
 * tocsinctl.h — what every tocsinctl verb shares: the parsed global options,
 * the database connection helper, org lookup, and the verb signature.
 * Exit statuses: 0 success, 1 failure (bad input, database error), 2 usage. */
#ifndef TOCSINCTL_H
#define TOCSINCTL_H

#include <libpq-fe.h>

#include "config.h"

enum { TOCSINCTL_OK = 0, TOCSINCTL_FAIL = 1, TOCSINCTL_USAGE = 2 };

struct tocsinctl {
    struct tocsin_config cfg; /* loaded from the environment */
    const char *database_url; /* --database-url, else cfg.database_url */
};

/* A verb gets argv with argv[0] = the verb's own name ("import" for
 * `tocsinctl contacts import`) and returns an exit status. Every verb
 * answers --help on stdout with status 0. */
typedef int (*tocsinctl_verb_fn)(struct tocsinctl *ctl, int argc, char **argv);

/* Connects to ctl->database_url; prints the reason to stderr and returns
 * NULL on failure. The caller PQfinish()es the connection. */
PGconn *tocsinctl_connect(struct tocsinctl *ctl);

/* Looks an org up by slug. Returns 0 and sets *org_id, or prints
 * `org "x" does not exist` (or the database error) and returns -1. */
int tocsinctl_find_org(PGconn *conn, const char *slug, long long *org_id);

/* `tocsinctl contacts import` (ops/tocsinctl/contacts_import.c). */
int tocsinctl_contacts_import(struct tocsinctl *ctl, int argc, char **argv);

#endif
