/* SPDX-License-Identifier: AGPL-3.0-or-later
 * migrate.c — `tocsinctl migrate`: applies the schema migrations in name
 * order, each in its own transaction together with its schema_migrations
 * row and a transaction-level advisory lock, so concurrent runs queue up
 * and each migration is applied once. A migration changed after it was
 * applied is an error, never silently skipped. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "args.h"
#include "dbsync.h"
#include "dynbuf.h"
#include "migrations.h"
#include "tocsinctl.h"

#define MAX_MIGRATIONS 256
#define MIGRATE_LOCK_KEY "7236201"

struct migration {
    char name[128];
    char *sql;
    size_t len;
    int version;
};

static int name_order(const void *a, const void *b)
{
    return strcmp(((const struct migration *)a)->name, ((const struct migration *)b)->name);
}

/* A migration file is read whole; none comes near this. */
#define MIGRATION_MAX_BYTES (64u << 20)

static int read_file(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    struct tocsin_dynbuf buf;
    tocsin_dynbuf_init(&buf, MIGRATION_MAX_BYTES);
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (tocsin_dynbuf_add(&buf, chunk, got) != 0)
            break;
    int failed = ferror(f) || buf.failed;
    fclose(f);
    if (failed || tocsin_dynbuf_add(&buf, "", 0) != 0) { /* "" : an empty file still gets its NUL */
        tocsin_dynbuf_free(&buf);
        return -1;
    }
    *out = buf.data;
    *len = buf.len;
    return 0;
}

/* Loads migrations from dir, or the embedded ones when dir is NULL, in
 * name order. Sets *count to the entries whose sql the caller must free,
 * also on failure. Returns 0, or -1 after printing why. */
static int load(const char *dir, struct migration *m, int *count)
{
    int n = 0;
    if (!dir) {
        for (const struct tocsin_migration *e = tocsin_migrations; e->name && n < MAX_MIGRATIONS; e++, n++) {
            snprintf(m[n].name, sizeof m[n].name, "%s", e->name);
            m[n].sql = strdup(e->sql);
            m[n].len = e->len;
        }
    } else {
        DIR *d = opendir(dir);
        if (!d) {
            fprintf(stderr, "tocsinctl migrate: could not open migrations folder \"%s\"\n", dir);
            return -1;
        }
        struct dirent *e;
        while ((e = readdir(d)) && n < MAX_MIGRATIONS) {
            size_t l = strlen(e->d_name);
            if (l < 5 || l >= sizeof m[n].name || strcmp(e->d_name + l - 4, ".sql") != 0)
                continue;
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            memcpy(m[n].name, e->d_name, l + 1);
            if (read_file(path, &m[n].sql, &m[n].len)) {
                fprintf(stderr, "tocsinctl migrate: could not read \"%s\"\n", path);
                *count = n;
                closedir(d);
                return -1;
            }
            n++;
        }
        closedir(d);
    }
    qsort(m, (size_t)n, sizeof *m, name_order);
    *count = n; /* the caller frees what was loaded, even on error */
    for (int i = 0; i < n; i++) {
        char *end;
        long v = strtol(m[i].name, &end, 10);
        if (end == m[i].name || *end != '_' || v <= 0 || v > 99999 || !m[i].sql) {
            fprintf(stderr, "tocsinctl migrate: invalid migration name \"%s\": must be NNN_name.sql\n",
                    m[i].name);
            return -1;
        }
        m[i].version = (int)v;
        if (i > 0 && m[i].version == m[i - 1].version) {
            fprintf(stderr, "tocsinctl migrate: migrations \"%s\" and \"%s\" share version %d\n",
                    m[i - 1].name, m[i].name, m[i].version);
            return -1;
        }
    }
    return 0;
}

static void checksum(const struct migration *m, char hex[65])
{
    unsigned char h[32];
    crypto_hash_sha256(h, (const unsigned char *)m->sql, m->len);
    sodium_bin2hex(hex, 65, h, 32);
}

/* Reads the recorded checksum of m: returns 1 and fills sum_out if
 * applied, 0 if not, -1 on a database error (printed). */
static int recorded(PGconn *conn, const struct migration *m, char sum_out[65])
{
    char version[16];
    snprintf(version, sizeof version, "%d", m->version);
    const char *params[] = {version};
    PGresult *res = tocsinctl_exec(conn, "migrate", "SELECT checksum FROM schema_migrations WHERE version = $1",
                                   1, params);
    if (!res)
        return -1;
    int found = PQntuples(res) == 1;
    if (found)
        snprintf(sum_out, 65, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return found;
}

static void refuse_changed(const struct migration *m)
{
    fprintf(stderr, "tocsinctl migrate: migration %s was changed after it was applied; "
                    "add a new migration instead\n", m->name);
}

/* Applies m unless it is recorded, in one transaction that first takes
 * the migration lock, so a concurrent migrate waits here and then sees
 * this one's row. A transaction-level lock also works through a pooler in
 * transaction mode. Returns 1 applied, 0 already there, -1 failed (printed,
 * rolled back). */
static int apply(PGconn *conn, const struct migration *m, const char *sum)
{
    char err[1024], version[16], have[65];
    snprintf(version, sizeof version, "%d", m->version);
    const char *params[] = {version, m->name, sum};
    if (tocsin_dbsync_command(conn, "BEGIN", err, sizeof err) ||
        tocsin_dbsync_command(conn, "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK_KEY ")", err, sizeof err)) {
        fprintf(stderr, "tocsinctl migrate: %s\n", err);
        tocsin_dbsync_command(conn, "ROLLBACK", err, sizeof err);
        return -1;
    }
    int done = recorded(conn, m, have);
    if (done != 0) {
        tocsin_dbsync_command(conn, "ROLLBACK", err, sizeof err);
        if (done == 1 && strcmp(have, sum) != 0) {
            refuse_changed(m);
            return -1;
        }
        return done == 1 ? 0 : -1;
    }
    if (tocsin_dbsync_command(conn, m->sql, err, sizeof err)) {
        fprintf(stderr, "tocsinctl migrate: migration %s failed: %s\n", m->name, err);
        tocsin_dbsync_command(conn, "ROLLBACK", err, sizeof err);
        return -1;
    }
    PGresult *res = tocsin_dbsync_exec(
        conn, "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)", 3,
        params, err, sizeof err);
    if (!res || tocsin_dbsync_command(conn, "COMMIT", err, sizeof err)) {
        fprintf(stderr, "tocsinctl migrate: could not record migration %s: %s\n", m->name, err);
        PQclear(res);
        tocsin_dbsync_command(conn, "ROLLBACK", err, sizeof err);
        return -1;
    }
    PQclear(res);
    printf("applied %s\n", m->name);
    return 1;
}

/* Creates schema_migrations under the migration lock (two concurrent
 * CREATE TABLE IF NOT EXISTS can otherwise collide). Returns 0 or -1. */
static int ensure_table(PGconn *conn)
{
    char err[512];
    if (tocsin_dbsync_command(conn, "BEGIN", err, sizeof err) ||
        tocsin_dbsync_command(conn, "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK_KEY ")", err, sizeof err) ||
        tocsin_dbsync_command(conn,
                              "CREATE TABLE IF NOT EXISTS schema_migrations ("
                              " version int PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
                              " applied_at timestamptz NOT NULL DEFAULT now())",
                              err, sizeof err) ||
        tocsin_dbsync_command(conn, "COMMIT", err, sizeof err)) {
        fprintf(stderr, "tocsinctl migrate: %s\n", err);
        tocsin_dbsync_command(conn, "ROLLBACK", err, sizeof err);
        return -1;
    }
    return 0;
}

/* --status: lists each migration as applied or pending; changes nothing,
 * not even creating schema_migrations. Returns the exit status. */
static int show_status(PGconn *conn, const struct migration *m, int n)
{
    PGresult *res = tocsinctl_exec(conn, "migrate", "SELECT to_regclass('schema_migrations') IS NOT NULL",
                                   0, NULL);
    if (!res)
        return TOCSINCTL_FAIL;
    int table = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    int rc = TOCSINCTL_OK;
    for (int i = 0; i < n; i++) {
        char sum[65], have[65];
        checksum(&m[i], sum);
        int done = table ? recorded(conn, &m[i], have) : 0;
        if (done < 0)
            return TOCSINCTL_FAIL;
        const char *what = !done ? "pending" : strcmp(have, sum) ? "changed after it was applied" : "applied";
        if (done && strcmp(have, sum))
            rc = TOCSINCTL_FAIL;
        printf("%-32s %s\n", m[i].name, what);
    }
    return rc;
}

/* Fills phone_zones (006_blasts) once it exists: after migrations were
 * applied, or when it holds only its defaults (zones.c). Returns 0 or -1
 * (printed). */
static int refresh_zones(PGconn *conn, int applied)
{
    PGresult *res = tocsinctl_exec(conn, "migrate", "SELECT to_regclass('phone_zones') IS NOT NULL", 0, NULL);
    if (!res)
        return -1;
    int exists = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    char err[512];
    if (exists && ctl_zones_refresh(conn, !applied, err, sizeof err)) {
        fprintf(stderr, "tocsinctl migrate: %s\n", err);
        return -1;
    }
    return 0;
}

int tocsinctl_migrate(struct tocsinctl *ctl, int argc, char **argv)
{
    const char *dir = NULL;
    int status = 0;
    const struct ctl_opt opts[] = {{"--dir", &dir, NULL}, {"--status", NULL, &status}, {NULL, NULL, NULL}};
    int np = ctl_parse("migrate", argc, argv, opts, NULL, 0);
    if (np == -2)
        return TOCSINCTL_OK;
    if (np < 0)
        return TOCSINCTL_USAGE;
    static struct migration m[MAX_MIGRATIONS];
    int n = 0, rc = TOCSINCTL_FAIL;
    PGconn *conn = NULL;
    if (load(dir, m, &n) || !(conn = tocsinctl_db(ctl)))
        goto out;
    if (status) {
        rc = show_status(conn, m, n);
        goto out;
    }
    if (ensure_table(conn))
        goto out;
    int applied = 0;
    for (int i = 0; i < n; i++) {
        char sum[65];
        checksum(&m[i], sum);
        int r = apply(conn, &m[i], sum);
        if (r < 0)
            goto out;
        applied += r;
    }
    if (applied == 0)
        printf("database is up to date (%d migrations)\n", n);
    if (refresh_zones(conn, applied) || ctl_reseal_credentials(conn, &ctl->cfg))
        goto out;
    rc = TOCSINCTL_OK;
out:
    for (int i = 0; i < n; i++)
        free(m[i].sql);
    return rc;
}
