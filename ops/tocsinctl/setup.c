/* SPDX-License-Identifier: AGPL-3.0-or-later
 * setup.c — `tocsinctl setup`: prepares a PostgreSQL cluster for Tocsin as
 * its superuser: an owner role (NOLOGIN; migrations run as it), a runtime
 * role (LOGIN; what the gateway, the worker and tocsinctl connect as) with
 * only row-level rights, a web role (LOGIN; the dashboard's, a member of
 * the runtime role, so the same rights under another name: the dashboard
 * runs as another system user, which cannot reach the sealing key the
 * others hold), the database owned by the owner, and default privileges so that every
 * object a later migration creates gets the same grants. Idempotent.
 * It applies no migration itself (that is `tocsinctl migrate`). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "tocsinctl.h"

/* Runs sql (no parameters) and prints the error as `tocsinctl setup: ...`.
 * Returns 0 or -1. */
static int run(PGconn *conn, const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(res);
    int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "tocsinctl setup: %s", PQerrorMessage(conn));
    PQclear(res);
    return ok ? 0 : -1;
}

/* 1 if the query with one text parameter returns a row, 0 if not, -1 on
 * error. */
static int exists(PGconn *conn, const char *sql, const char *param)
{
    const char *params[] = {param};
    PGresult *res = PQexecParams(conn, sql, 1, NULL, params, NULL, NULL, 0);
    int rc = -1;
    if (PQresultStatus(res) == PGRES_TUPLES_OK)
        rc = PQntuples(res) > 0;
    else
        fprintf(stderr, "tocsinctl setup: %s", PQerrorMessage(conn));
    PQclear(res);
    return rc;
}

/* Joins the NULL-terminated pieces (SQL text and quoted identifiers) into
 * one statement and runs it. Returns 0 or -1. */
static int runj(PGconn *conn, ...)
{
    char q[1024];
    size_t n = 0;
    va_list ap;
    va_start(ap, conn);
    for (const char *p; (p = va_arg(ap, const char *)) != NULL;) {
        size_t l = strlen(p);
        if (n + l >= sizeof q) {
            va_end(ap);
            fprintf(stderr, "tocsinctl setup: statement too long\n");
            return -1;
        }
        memcpy(q + n, p, l);
        n += l;
    }
    va_end(ap);
    q[n] = '\0';
    return run(conn, q);
}

/* The grants the daemons and the operator's everyday verbs need: rows, not
 * structure. The same list for what exists and for what comes later. */
static int grant_runtime(PGconn *db, const char *owner, const char *rt)
{
    const char *objects[][2] = {
        {"SELECT, INSERT, UPDATE, DELETE", "TABLES"},
        {"USAGE", "SEQUENCES"},
        {"EXECUTE", "FUNCTIONS"},
    };
    for (size_t i = 0; i < sizeof objects / sizeof objects[0]; i++) {
        const char *what = objects[i][0], *kind = objects[i][1];
        if (runj(db, "GRANT ", what, " ON ALL ", kind, " IN SCHEMA public TO ", rt, (char *)NULL) ||
            runj(db, "ALTER DEFAULT PRIVILEGES FOR ROLE ", owner, " IN SCHEMA public GRANT ", what,
                 " ON ", kind, " TO ", rt, (char *)NULL))
            return -1;
    }
    return 0;
}

static int setup(PGconn *admin, const char *admin_url, const char *dbname, const char *owner_name,
                 const char *rt_name, const char *web_name)
{
    int rc = -1;
    PGconn *db = NULL;
    char *owner = PQescapeIdentifier(admin, owner_name, strlen(owner_name));
    char *rt = PQescapeIdentifier(admin, rt_name, strlen(rt_name));
    char *dbq = PQescapeIdentifier(admin, dbname, strlen(dbname));
    char *web = PQescapeIdentifier(admin, web_name, strlen(web_name));
    if (!owner || !rt || !dbq || !web) {
        fprintf(stderr, "tocsinctl setup: %s", PQerrorMessage(admin));
        goto out;
    }
    if (strcmp(owner_name, rt_name) == 0 || strcmp(owner_name, web_name) == 0 ||
        strcmp(rt_name, web_name) == 0) {
        fprintf(stderr, "tocsinctl setup: the owner, runtime and web roles must differ\n");
        goto out;
    }
    /* Revoking a membership that is not there, granting one that is: notices, not news. */
    if (run(admin, "SET client_min_messages = error"))
        goto out;
    const char *role_q = "SELECT 1 FROM pg_roles WHERE rolname = $1";
    int e = exists(admin, role_q, owner_name);
    if (e < 0 || (e == 0 && runj(admin, "CREATE ROLE ", owner, " NOLOGIN", (char *)NULL)))
        goto out;
    if (e == 0)
        printf("created role %s (owner, no login)\n", owner_name);
    e = exists(admin, role_q, rt_name);
    if (e < 0 || (e == 0 && runj(admin, "CREATE ROLE ", rt, " LOGIN", (char *)NULL)))
        goto out;
    if (e == 0)
        printf("created role %s (runtime)\n", rt_name);
    e = exists(admin, role_q, web_name);
    if (e < 0 || (e == 0 && runj(admin, "CREATE ROLE ", web, " LOGIN", (char *)NULL)))
        goto out;
    if (e == 0)
        printf("created role %s (web: the dashboard's)\n", web_name);
    /* Whatever the roles were before, none may do more than its part. */
    if (runj(admin, "ALTER ROLE ", owner,
             " NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOLOGIN",
             (char *)NULL) ||
        runj(admin, "ALTER ROLE ", rt,
             " NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS LOGIN NOINHERIT",
             (char *)NULL) ||
        runj(admin, "ALTER ROLE ", web,
             " NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS LOGIN INHERIT",
             (char *)NULL) ||
        runj(admin, "REVOKE ", owner, " FROM ", rt, ", ", web, (char *)NULL) ||
        runj(admin, "GRANT ", rt, " TO ", web, (char *)NULL))
        goto out;
    e = exists(admin, "SELECT 1 FROM pg_database WHERE datname = $1", dbname);
    if (e < 0 || (e == 0 && runj(admin, "CREATE DATABASE ", dbq, " OWNER ", owner,
                                 " ENCODING 'UTF8' TEMPLATE template0", (char *)NULL)))
        goto out;
    if (e == 0)
        printf("created database %s\n", dbname);
    if (runj(admin, "ALTER DATABASE ", dbq, " OWNER TO ", owner, (char *)NULL) ||
        runj(admin, "REVOKE ALL ON DATABASE ", dbq, " FROM PUBLIC", (char *)NULL) ||
        runj(admin, "GRANT CONNECT, TEMPORARY ON DATABASE ", dbq, " TO ", rt, (char *)NULL))
        goto out;

    /* The same server and credentials, the new database. */
    const char *keys[] = {"dbname", "dbname", NULL};
    const char *vals[] = {admin_url, dbname, NULL};
    db = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(db) != CONNECTION_OK) {
        fprintf(stderr, "tocsinctl setup: could not connect to database \"%s\": %s", dbname,
                PQerrorMessage(db));
        goto out;
    }
    if (run(db, "SET client_min_messages = warning") || run(db, "BEGIN") ||
        runj(db, "ALTER SCHEMA public OWNER TO ", owner, (char *)NULL) ||
        run(db, "REVOKE ALL ON SCHEMA public FROM PUBLIC") ||
        runj(db, "GRANT USAGE ON SCHEMA public TO ", rt, (char *)NULL) ||
        grant_runtime(db, owner, rt) || run(db, "COMMIT"))
        goto out;
    printf("database %s: owner %s, runtime role %s (rows only), web role %s (as %s)\n", dbname,
           owner_name, rt_name, web_name, rt_name);
    rc = 0;
out:
    PQfinish(db);
    PQfreemem(owner);
    PQfreemem(rt);
    PQfreemem(dbq);
    PQfreemem(web);
    return rc;
}

int tocsinctl_setup(struct tocsinctl *ctl, int argc, char **argv)
{
    const char *dbname = "tocsin", *owner = "tocsin_owner", *rt = "tocsin", *web = "tocsin_web";
    const struct ctl_opt opts[] = {
        CTL_VALUE("--database", dbname), CTL_VALUE("--owner-role", owner),
        CTL_VALUE("--runtime-role", rt), CTL_VALUE("--web-role", web), CTL_END};
    PGconn *admin;
    int go = ctl_begin(ctl, argc, argv, &(struct ctl_args){.opts = opts, .conn = &admin});
    if (go != CTL_GO)
        return go;
    int rc =
        setup(admin, ctl->database_url, dbname, owner, rt, web) ? TOCSINCTL_FAIL : TOCSINCTL_OK;
    return rc;
}
