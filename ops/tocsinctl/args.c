/* SPDX-License-Identifier: AGPL-3.0-or-later
 * args.c — tocsinctl option parsing and the prologue every verb shares
 * (ctl_begin: arguments, --help, required options, connection, org). */
#include "args.h"

#include <stdio.h>
#include <string.h>

#include "tocsinctl.h"

static const struct ctl_opt no_opts[] = {CTL_END};

int ctl_begin(struct tocsinctl *ctl, int argc, char **argv, const struct ctl_args *a)
{
    const struct ctl_opt *opts = a->opts ? a->opts : no_opts;
    int np = ctl_parse(ctl->name, argc, argv, opts, a->pos, a->maxpos);
    if (np == -2)
        return TOCSINCTL_OK;
    if (np < 0)
        return TOCSINCTL_USAGE;
    if (a->npos)
        *a->npos = np;
    if (a->pos_missing && np < a->maxpos) {
        fprintf(stderr, "tocsinctl %s: %s (see --help)\n", ctl->name, a->pos_missing);
        return TOCSINCTL_USAGE;
    }
    for (const struct ctl_opt *o = opts; o->name; o++)
        if (o->required && ctl_require(ctl->name, o->name, *o->value))
            return TOCSINCTL_USAGE;
    if (a->conn && !(*a->conn = ctl_connect(ctl, a->org ? *a->org : NULL, a->org_id)))
        return TOCSINCTL_FAIL;
    return CTL_GO;
}

PGconn *ctl_connect(struct tocsinctl *ctl, const char *org, long long *org_id)
{
    PGconn *conn = tocsinctl_db(ctl);
    if (conn && org && tocsinctl_find_org(conn, org, org_id))
        return NULL;
    return conn;
}

int ctl_parse(const char *verb, int argc, char **argv, const struct ctl_opt *opts, const char **pos,
              int maxpos)
{
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            tocsinctl_help(verb);
            return -2;
        }
        if (strncmp(a, "--", 2) != 0 || strcmp(a, "-") == 0) {
            if (npos == maxpos) {
                fprintf(stderr, "tocsinctl %s: unexpected argument \"%s\" (see --help)\n", verb, a);
                return -1;
            }
            pos[npos++] = a;
            continue;
        }
        const struct ctl_opt *o = opts;
        while (o->name && strcmp(o->name, a) != 0)
            o++;
        if (!o->name) {
            fprintf(stderr, "tocsinctl %s: unknown option \"%s\" (see --help)\n", verb, a);
            return -1;
        }
        if (o->flag) {
            *o->flag = 1;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "tocsinctl %s: option %s needs a value\n", verb, a);
            return -1;
        }
        *o->value = argv[++i];
    }
    return npos;
}

int ctl_require(const char *verb, const char *name, const char *value)
{
    if (value)
        return 0;
    fprintf(stderr, "tocsinctl %s: missing %s (see --help)\n", verb, name);
    return 2;
}

int ctl_valid_id(const char *s)
{
    if (!s || !*s || strlen(s) > 18)
        return 0;
    int nonzero = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return 0;
        nonzero |= *p != '0';
    }
    return nonzero;
}
