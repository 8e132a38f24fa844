/* SPDX-License-Identifier: AGPL-3.0-or-later
 * user.c — `tocsinctl user add`: a login with a role, its password hashed
 * with argon2id (read from stdin, or generated and printed once); `user
 * disable`, `user enable` and `user revoke-sessions`. */
#include <stdio.h>
#include <stdlib.h>
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
    if (!at || at == email || !strchr(at, '.') || strlen(email) > 254 ||
        strpbrk(email, " \t\r\n")) {
        snprintf(err, errlen, "invalid email \"%s\"", email);
        return -1;
    }
    size_t plen = strlen(password);
    if (plen < PASSWORD_MIN || plen > PASSWORD_MAX) {
        snprintf(err, errlen, "invalid password: must be %d to %d characters", PASSWORD_MIN,
                 PASSWORD_MAX);
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
    const struct ctl_opt opts[] = {CTL_NEEDED("--org", org),
                                   CTL_NEEDED("--email", email),
                                   CTL_NEEDED("--role", role),
                                   CTL_VALUE("--name", name),
                                   CTL_FLAG("--password-stdin", from_stdin),
                                   CTL_END};
    int go = ctl_begin(ctl, argc, argv, &(struct ctl_args){.opts = opts});
    if (go != CTL_GO)
        return go;
    if (strcmp(role, "admin") && strcmp(role, "lead") && strcmp(role, "volunteer")) {
        fprintf(stderr,
                "tocsinctl user add: invalid role \"%s\": must be admin, lead or volunteer\n",
                role);
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

/* --- disable, enable, revoke-sessions --- */

struct user_access {
    const char *verb, *email;
    int what; /* 0 disable, 1 enable, 2 revoke sessions, 3 reset two-factor */
    long long sessions;
};

/* One statement per verb, each audited with the CLI as the actor (user
 * NULL). Disabling ends the user's sessions (schema 018's trigger) and
 * every statement here notifies tocsin_sessions, so the dashboard closes
 * her open streams at once. */
static int user_access_apply(PGconn *conn, long long org_id, void *arg, char *err, size_t errlen)
{
    struct user_access *u = arg;
    static const char *const sql[] = {
        "WITH t AS (SELECT id FROM users WHERE org_id = $1 AND lower(email) = lower($2)),"
        " n AS (SELECT count(*) AS n FROM sessions WHERE user_id = (SELECT id FROM t)),"
        " u AS (UPDATE users SET disabled_at = coalesce(disabled_at, now()) WHERE id = (SELECT id FROM t)"
        "       RETURNING id),"
        " a AS (INSERT INTO audit_events (org_id, action, subject_type, subject_id)"
        "       SELECT $1, 'user.disable', 'user', id FROM u)"
        "SELECT n FROM u, n",
        "WITH u AS (UPDATE users SET disabled_at = NULL WHERE org_id = $1 AND lower(email) = lower($2)"
        "           RETURNING id),"
        " a AS (INSERT INTO audit_events (org_id, action, subject_type, subject_id)"
        "       SELECT $1, 'user.enable', 'user', id FROM u)"
        "SELECT 0 FROM u",
        "WITH t AS (SELECT id FROM users WHERE org_id = $1 AND lower(email) = lower($2)),"
        " d AS (DELETE FROM sessions WHERE user_id = (SELECT id FROM t) RETURNING id),"
        " a AS (INSERT INTO audit_events (org_id, action, subject_type, subject_id, details)"
        "       SELECT $1, 'user.revoke_sessions', 'user', id,"
        "              jsonb_build_object('sessions', (SELECT count(*) FROM d)) FROM t)"
        "SELECT (SELECT count(*) FROM d) FROM t",
        /* reset-two-factor: her authenticator, recovery codes and sessions go */
        "WITH t AS (SELECT id FROM users WHERE org_id = $1 AND lower(email) = lower($2)),"
        " f AS (DELETE FROM user_totp WHERE user_id = (SELECT id FROM t) RETURNING user_id),"
        " r AS (DELETE FROM recovery_codes WHERE user_id = (SELECT id FROM t)),"
        " d AS (DELETE FROM sessions WHERE user_id = (SELECT id FROM t) RETURNING id),"
        " a AS (INSERT INTO audit_events (org_id, action, subject_type, subject_id, details)"
        "       SELECT $1, 'two_factor.reset', 'user', id,"
        "              jsonb_build_object('had_two_factor', EXISTS (SELECT 1 FROM f),"
        "                                 'sessions', (SELECT count(*) FROM d), 'by', 'tocsinctl')"
        "         FROM t)"
        "SELECT (SELECT count(*) FROM d) FROM t",
    };
    char org[24], dberr[512];
    snprintf(org, sizeof org, "%lld", org_id);
    const char *params[] = {org, u->email};
    PGresult *res = tocsin_dbsync_exec(conn, sql[u->what], 2, params, dberr, sizeof dberr);
    if (!res) {
        snprintf(err, errlen, "%s", dberr);
        return -1;
    }
    int found = PQntuples(res) == 1;
    if (found)
        u->sessions = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    if (!found) {
        snprintf(err, errlen, "no user \"%s\" in this org", u->email);
        return -1;
    }
    return 0;
}

static int user_access(struct tocsinctl *ctl, int argc, char **argv, int what)
{
    static const char *const verbs[] = {"user disable", "user enable", "user revoke-sessions",
                                        "user reset-two-factor"};
    const char *org = NULL, *email = NULL;
    const struct ctl_opt opts[] = {CTL_NEEDED("--org", org), CTL_NEEDED("--email", email), CTL_END};
    PGconn *conn;
    long long org_id;
    int go =
        ctl_begin(ctl, argc, argv,
                  &(struct ctl_args){.opts = opts, .conn = &conn, .org = &org, .org_id = &org_id});
    if (go != CTL_GO)
        return go;
    struct user_access u = {verbs[what], email, what, 0};
    char err[600];
    if (user_access_apply(conn, org_id, &u, err, sizeof err)) {
        fprintf(stderr, "tocsinctl %s: %s\n", verbs[what], err);
        return TOCSINCTL_FAIL;
    }
    if (what == 0)
        printf("disabled %s (%lld session(s) ended)\n", email, u.sessions);
    else if (what == 1)
        printf("enabled %s\n", email);
    else if (what == 2)
        printf("ended %lld session(s) of %s\n", u.sessions, email);
    else
        printf("reset two-factor login of %s (%lld session(s) ended)\n", email, u.sessions);
    return TOCSINCTL_OK;
}

int tocsinctl_user_disable(struct tocsinctl *ctl, int argc, char **argv)
{
    return user_access(ctl, argc, argv, 0);
}

int tocsinctl_user_enable(struct tocsinctl *ctl, int argc, char **argv)
{
    return user_access(ctl, argc, argv, 1);
}

int tocsinctl_user_revoke_sessions(struct tocsinctl *ctl, int argc, char **argv)
{
    return user_access(ctl, argc, argv, 2);
}

int tocsinctl_user_reset_two_factor(struct tocsinctl *ctl, int argc, char **argv)
{
    return user_access(ctl, argc, argv, 3);
}
