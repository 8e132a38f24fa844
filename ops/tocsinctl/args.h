/* SPDX-License-Identifier: AGPL-3.0-or-later
 * args.h — the start every tocsinctl verb shares: long options with a
 * value (--org demo) or without (--strict), positionals, --help, options
 * a verb cannot do without, and the database connection and org lookup
 * (ctl_begin); each verb states only its own options and checks. */
#ifndef TOCSINCTL_ARGS_H
#define TOCSINCTL_ARGS_H

#include <libpq-fe.h>

struct tocsinctl;

struct ctl_opt {
    const char *name;   /* "--org" */
    const char **value; /* set for options that take a value */
    int *flag;          /* set to 1 for options without one */
    int required;       /* ctl_begin: `missing --org (see --help)` without it */
};

/* Rows of a verb's option table, which ends with CTL_END. */
#define CTL_VALUE(name, var)                                                                       \
    {                                                                                              \
        name, &(var), NULL, 0                                                                      \
    }
#define CTL_NEEDED(name, var)                                                                      \
    {                                                                                              \
        name, &(var), NULL, 1                                                                      \
    }
#define CTL_FLAG(name, var)                                                                        \
    {                                                                                              \
        name, NULL, &(var), 0                                                                      \
    }
#define CTL_END                                                                                    \
    {                                                                                              \
        NULL, NULL, NULL, 0                                                                        \
    }

/* What ctl_begin is to do for a verb; the fields left out are not wanted. */
struct ctl_args {
    const struct ctl_opt *opts; /* the verb's options (NULL: none) */
    const char **pos;           /* its positionals go here ... */
    int maxpos;                 /* ... at most this many */
    /* When set, fewer than maxpos positionals is the usage error
     * `tocsinctl VERB: POS_MISSING (see --help)` ("missing SLUG"), checked
     * before the required options. */
    const char *pos_missing;
    int *npos;         /* how many positionals came */
    PGconn **conn;     /* connect (tocsinctl_db) once the arguments are good */
    const char **org;  /* with conn: the org slug (an option's variable) ... */
    long long *org_id; /* ... looked up into this */
};

/* ctl_begin's answer when the verb goes on; anything else is the exit
 * status the verb returns at once. */
#define CTL_GO (-1)

/* The prologue of a verb (ctl->name): parses argv[1..] (ctl_parse); on
 * --help prints the verb's help and answers TOCSINCTL_OK; checks the
 * positionals (pos_missing) and then each required option in table order,
 * answering TOCSINCTL_USAGE after a usage error; with conn, connects and
 * looks org up (ctl_connect), answering TOCSINCTL_FAIL when either fails.
 * Otherwise answers CTL_GO. */
int ctl_begin(struct tocsinctl *ctl, int argc, char **argv, const struct ctl_args *a);

/* Connects (tocsinctl_db) and, when org is not NULL, looks it up into
 * *org_id (tocsinctl_find_org). Returns the connection (main closes it),
 * or NULL after printing why. For verbs that check more of their input
 * before they need the database. */
PGconn *ctl_connect(struct tocsinctl *ctl, const char *org, long long *org_id);

/* Parses argv[1..]: options listed in opts (terminated by a NULL name),
 * positionals into pos (at most maxpos). Returns the number of positionals,
 * -1 after printing a usage error, or -2 after printing the verb's help
 * (tocsinctl_help) when --help was given. */
int ctl_parse(const char *verb, int argc, char **argv, const struct ctl_opt *opts, const char **pos,
              int maxpos);

/* Prints `tocsinctl VERB: missing --NAME (see --help)` and returns 2 if
 * value is NULL; 0 otherwise. */
int ctl_require(const char *verb, const char *name, const char *value);

/* 1 if s is a positive decimal id of at most 18 digits (a bigint). */
int ctl_valid_id(const char *s);

#endif
