/* SPDX-License-Identifier: AGPL-3.0-or-later
 * args.h — option parsing shared by the tocsinctl verbs: long options
 * with a value (--org demo) or without (--strict), positionals, --help. */
#ifndef TOCSINCTL_ARGS_H
#define TOCSINCTL_ARGS_H

struct ctl_opt {
    const char *name;   /* "--org" */
    const char **value; /* set for options that take a value */
    int *flag;          /* set to 1 for options without one */
};

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
