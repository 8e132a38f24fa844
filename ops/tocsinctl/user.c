/* SPDX-License-Identifier: AGPL-3.0-or-later
 * user.c — `tocsinctl user add`: a login with a role, its password hashed
 * with argon2id (read from stdin, or generated and printed once). */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "crypto.h"
#include "dbsync.h"
#include "records.h"
#include "tocsinctl.h"

#define PASSWORD_MIN 10
#define PASSWORD_MAX 256

int ctl_insert_user(PGconn *conn, long long org_id, const char *email, const char *role,
                    const char *name, const char *password, char *err, size_t errlen)
{
    if (strcmp(role, "admin") && strcmp(role, "lead") && strcmp(role, "volunteer")) {
        snprintf(err, errlen, "invalid role \"%s\": must be admin, lead or volunteer", role);
        return -1;
    }
    const char *at = strchr(email, '@');
    if (!at || at == email || !strchr(at, '.') || strlen(email) > 254 || strpbrk(email, " \t\r\n")) {
        snprintf(err, errlen, "invalid email \"%s\"", email);
        return -1;
    }
    size_t plen = strlen(password);
    if (plen < PASSWORD_MIN || plen > PASSWORD_MAX) {
        snprintf(err, errlen, "invalid password: must be %d to %d characters", PASSWORD_MIN, PASSWORD_MAX);
        return -1;
    }
    char hash[TOCSIN_PASSWORD_HASH_MAX];
    if (tocsin_password_hash(password, plen, hash)) {
        snprintf(err, errlen, "could not hash the password: out of memory");
        return -1;
    }
    char org[24];
    snprintf(org, sizeof org, "%lld", org_id);
    const char *params[] = {org, email, role, name ? name : "", hash};
    return ctl_insert(conn,
                      "INSERT INTO users (org_id, email, role, display_name, password_hash) "
                      "VALUES ($1, $2, $3, $4, $5)",
                      5, params, "user", email, err, errlen);
}

int ctl_insert(PGconn *conn, const char *sql, int n, const char *const *params, const char *what,
               const char *name, char *err, size_t errlen)
{
    char dberr[512];
    PGresult *res = tocsin_dbsync_exec(conn, sql, n, params, dberr, sizeof dberr);
    if (res) {
        PQclear(res);
        return 0;
    }
    if (strcmp(tocsin_dbsync_last_sqlstate(), "23505") == 0)
        snprintf(err, errlen, "%s \"%s\" already exists", what, name);
    else
        snprintf(err, errlen, "%s", dberr);
    return -1;
}

struct user_args {
    const char *email, *role, *name, *password;
};

static int add_user(PGconn *conn, long long org_id, void *arg, char *err, size_t errlen)
{
    struct user_args *u = arg;
    return ctl_insert_user(conn, org_id, u->email, u->role, u->name, u->password, err, errlen);
}

int tocsinctl_user_add(struct tocsinctl *ctl, int argc, char **argv)
{
    const char *org = NULL, *email = NULL, *role = NULL, *name = NULL;
    int from_stdin = 0;
    const struct ctl_opt opts[] = {{"--org", &org, NULL},           {"--email", &email, NULL},
                                   {"--role", &role, NULL},         {"--name", &name, NULL},
                                   {"--password-stdin", NULL, &from_stdin}, {NULL, NULL, NULL}};
    int np = ctl_parse("user add", argc, argv, opts, NULL, 0);
    if (np == -2) {
        printf("Usage: tocsinctl user add --org SLUG --email EMAIL --role admin|lead|volunteer\n"
               "                          [--name NAME] [--password-stdin]\n\n"
               "Adds a login. With --password-stdin the first line of standard input is the\n"
               "password (10 to 256 characters); otherwise one is generated and printed once.\n");
        return TOCSINCTL_OK;
    }
    if (np < 0 || ctl_require("user add", "--org", org) || ctl_require("user add", "--email", email) ||
        ctl_require("user add", "--role", role))
        return TOCSINCTL_USAGE;
    if (strcmp(role, "admin") && strcmp(role, "lead") && strcmp(role, "volunteer")) {
        fprintf(stderr, "tocsinctl user add: invalid role \"%s\": must be admin, lead or volunteer\n", role);
        return TOCSINCTL_USAGE;
    }
    char password[PASSWORD_MAX + 2] = "";
    int generated = 0;
    if (from_stdin) {
        if (!fgets(password, sizeof password, stdin)) {
            fprintf(stderr, "tocsinctl user add: no password on standard input\n");
            return TOCSINCTL_FAIL;
        }
        password[strcspn(password, "\r\n")] = '\0';
    } else {
        tocsin_random_token(12, password, sizeof password);
        generated = 1;
    }
    struct user_args u = {email, role, name, password};
    char done[600];
    snprintf(done, sizeof done, "added %s %s to org %s", role, email, org);
    int rc = tocsinctl_for_org(ctl, "user add", org, add_user, &u, done);
    if (rc == TOCSINCTL_OK && generated)
        printf("password: %s  (shown once; store it now)\n", password);
    return rc;
}
