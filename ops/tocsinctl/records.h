/* SPDX-License-Identifier: AGPL-3.0-or-later
 * records.h — inserting users, senders and keywords with their checks,
 * shared by the `add` verbs and `demo-seed`. Each returns 0, or -1 with a
 * message in err (and the SQLSTATE, if any, via tocsin_dbsync_last_sqlstate). */
#ifndef TOCSINCTL_RECORDS_H
#define TOCSINCTL_RECORDS_H

#include <stddef.h>

#include <libpq-fe.h>

#include "config.h"

/* Runs an INSERT; on a unique violation err says `WHAT "NAME" already
 * exists`, otherwise the database's message. Returns 0 or -1. */
int ctl_insert(PGconn *conn, const char *sql, int n, const char *const *params, const char *what,
               const char *name, char *err, size_t errlen);

int ctl_insert_user(PGconn *conn, long long org_id, const char *email, const char *role,
                    const char *name, const char *password, char *err, size_t errlen);

struct ctl_sender {
    const char *address, *kind, *provider, *account_sid, *secret, *public_key, *base_url, *mps;
};
int ctl_insert_sender(PGconn *conn, const struct tocsin_config *cfg, long long org_id,
                      const struct ctl_sender *s, char *err, size_t errlen);

struct ctl_keyword {
    const char *keyword, *pattern, *sender, *list, *reply;
    const char *language; /* "en", "es", or NULL: read from the reply (schema/019) */
};
int ctl_insert_keyword(PGconn *conn, long long org_id, const struct ctl_keyword *k, char *err,
                       size_t errlen);

#endif
