/* SPDX-License-Identifier: AGPL-3.0-or-later
 * tocsinctl.h — what every tocsinctl verb shares: the parsed global options,
 * the database connection helper, org lookup, and the verb signature.
 * Exit statuses: 0 success, 1 failure (bad input, database error), 2 usage. */
#ifndef TOCSINCTL_H
#define TOCSINCTL_H

#include <stddef.h>

#include <libpq-fe.h>

#include "config.h"

enum { TOCSINCTL_OK = 0, TOCSINCTL_FAIL = 1, TOCSINCTL_USAGE = 2 };

struct tocsinctl_verb; /* a row of the verb table (main.c) */

struct tocsinctl {
    struct tocsin_config cfg;          /* loaded from the environment */
    const char *database_url;          /* --database-url, else cfg.database_url */
    const struct tocsinctl_verb *verb; /* the verb running */
    char name[48];                     /* its name as typed: "contacts import" */
    PGconn *conn;                      /* tocsinctl_db's, closed after the verb */
};

/* A verb gets argv with argv[0] = the verb's own name ("import" for
 * `tocsinctl contacts import`) and returns an exit status. Its usage and
 * help are its row of the verb table (main.c): it starts with ctl_begin
 * (args.h), which prints them for --help. */
typedef int (*tocsinctl_verb_fn)(struct tocsinctl *ctl, int argc, char **argv);

/* The connection to ctl->database_url, opened on the first call (so a
 * usage error never needs the database) and closed by main after the
 * verb returns: the caller never PQfinish()es it. Prints the reason to
 * stderr and returns NULL on failure, or when the verb's row says it does
 * not use the database. */
PGconn *tocsinctl_db(struct tocsinctl *ctl);

/* Prints `Usage: tocsinctl VERB ARGS` and the verb's help from its row
 * (verb as "contacts import"); returns TOCSINCTL_OK, or TOCSINCTL_FAIL
 * when no row has that name. */
int tocsinctl_help(const char *verb);

/* Looks an org up by slug. Returns 0 and sets *org_id, or prints
 * `org "x" does not exist` (or the database error) and returns -1. */
int tocsinctl_find_org(PGconn *conn, const char *slug, long long *org_id);

/* The region numbers of org_id written without +country are read in, as
 * the dashboard reads them: the org's phone_region (schema 037), else
 * TOCSIN_DEFAULT_REGION (US when unset); an explicit --region wins over
 * both (the caller's). Copies it into out. Returns 0, or -1 after printing
 * the database error. */
int tocsinctl_org_region(const struct tocsin_config *cfg, PGconn *conn, long long org_id,
                         char out[3]);

/* Connects (tocsinctl_db), looks org up, and runs fn(conn, org_id, arg, err, errlen).
 * Prints `tocsinctl VERB: ERR` when fn fails, else done. Returns the exit
 * status. */
typedef int (*tocsinctl_org_fn)(PGconn *conn, long long org_id, void *arg, char *err,
                                size_t errlen);
int tocsinctl_for_org(struct tocsinctl *ctl, const char *verb, const char *org, tocsinctl_org_fn fn,
                      void *arg, const char *done);

/* The verbs, one file each. */
int tocsinctl_setup(struct tocsinctl *ctl, int argc, char **argv);
int tocsinctl_init(struct tocsinctl *ctl, int argc, char **argv);
int tocsinctl_migrate(struct tocsinctl *ctl, int argc, char **argv);
int tocsinctl_org_create(struct tocsinctl *ctl, int argc, char **argv);
int tocsinctl_org_set(struct tocsinctl *ctl, int argc, char **argv);
int tocsinctl_user_add(struct tocsinctl *ctl, int argc, char **argv);
int tocsinctl_user_disable(struct tocsinctl *ctl, int argc, char **argv);
int tocsinctl_user_enable(struct tocsinctl *ctl, int argc, char **argv);
int tocsinctl_user_revoke_sessions(struct tocsinctl *ctl, int argc, char **argv);
int tocsinctl_user_reset_two_factor(struct tocsinctl *ctl, int argc, char **argv);
int tocsinctl_sender_add(struct tocsinctl *ctl, int argc, char **argv);
int tocsinctl_sender_limit(struct tocsinctl *ctl, int argc, char **argv);
int tocsinctl_sender_show(struct tocsinctl *ctl, int argc, char **argv);
int tocsinctl_sender_opt_out(struct tocsinctl *ctl, int argc, char **argv);
int tocsinctl_keyword_add(struct tocsinctl *ctl, int argc, char **argv);
int tocsinctl_contacts_import(struct tocsinctl *ctl, int argc, char **argv);
int tocsinctl_demo_seed(struct tocsinctl *ctl, int argc, char **argv);
int tocsinctl_segments(struct tocsinctl *ctl, int argc, char **argv);
int tocsinctl_phone(struct tocsinctl *ctl, int argc, char **argv);
int tocsinctl_zones_refresh(struct tocsinctl *ctl, int argc, char **argv);
/* Starts `blast VERB ID [opts]` (ctl_begin, then the id's form) and, when
 * conn is not NULL, connects: CTL_GO with *id (and *conn) set, or the exit
 * status to stop with (blast.c; blast_approve.c uses it too). */
struct ctl_opt;
int tocsinctl_blast_begin(struct tocsinctl *ctl, int argc, char **argv, const struct ctl_opt *opts,
                          const char **id, PGconn **conn);
int tocsinctl_blast_create(struct tocsinctl *ctl, int argc, char **argv);
int tocsinctl_blast_schedule(struct tocsinctl *ctl, int argc, char **argv);
int tocsinctl_blast_approve(struct tocsinctl *ctl, int argc, char **argv); /* blast_approve.c */
int tocsinctl_blast_pause(struct tocsinctl *ctl, int argc, char **argv);
int tocsinctl_blast_resume(struct tocsinctl *ctl, int argc, char **argv);
int tocsinctl_blast_cancel(struct tocsinctl *ctl, int argc, char **argv);
int tocsinctl_blast_status(struct tocsinctl *ctl, int argc, char **argv);
int tocsinctl_blast_list(struct tocsinctl *ctl, int argc, char **argv);
int tocsinctl_messages_requeue(struct tocsinctl *ctl, int argc, char **argv);
int tocsinctl_outreach_create(struct tocsinctl *ctl, int argc, char **argv);
int tocsinctl_outreach_status(struct tocsinctl *ctl, int argc, char **argv);
int tocsinctl_doctor(struct tocsinctl *ctl, int argc, char **argv);
int tocsinctl_reseal(struct tocsinctl *ctl, int argc, char **argv);
/* Reads a key file (64 hex digits and a newline) into key; 0 or -1. */
int ctl_read_key_file(const char *path, unsigned char key[32]);
int tocsinctl_backup_status(struct tocsinctl *ctl, int argc, char **argv);
int tocsinctl_metrics(struct tocsinctl *ctl, int argc, char **argv);
int tocsinctl_retention_run(struct tocsinctl *ctl, int argc, char **argv);
int tocsinctl_contacts_forget(struct tocsinctl *ctl, int argc, char **argv);
int tocsinctl_audit_verify(struct tocsinctl *ctl, int argc, char **argv);

/* Re-seals carrier credentials of the unbound format for their sender rows
 * (reseal.c); without a key, says how many are left. Returns 0 or -1. */
int ctl_reseal_credentials(PGconn *conn, const struct tocsin_config *cfg);

/* Writes phone_zones (zones.c) in its own transaction under the migration
 * lock; with only_if_empty, only when the table holds just its defaults.
 * Prints a line when it writes. Returns 0, or -1 with err set. */
int ctl_zones_refresh(PGconn *conn, int only_if_empty, char *err, size_t errlen);

/* Runs sql with params and prints the database's error as
 * `tocsinctl VERB: MESSAGE` on failure. Returns the result or NULL. */
PGresult *tocsinctl_exec(PGconn *conn, const char *verb, const char *sql, int nparams,
                         const char *const *params);

#endif
