/* SPDX-License-Identifier: AGPL-3.0-or-later
 * migrate.c — `tocsinctl migrate`: in one transaction under an advisory
 * lock, so concurrent runs queue up, applies the numbered migrations
 * (schema/NNN_*.sql: tables, indexes, constraints, data) not applied yet,
 * then the repeatable files (schema/functions/: every function, view
 * and trigger) whose checksum changed, or all of them when a numbered one
 * was applied (it may have dropped a view to alter a column under it).
 * Files named 0_*.sql are applied before the numbered migrations instead:
 * they hold the functions that CHECK constraints and data changes of
 * migrations call. Function bodies are checked once all files ran. A
 * numbered migration changed after it was applied is an error, never
 * silently skipped. repeatable.c applies, records and checks the
 * repeatable files. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "args.h"
#include "dbsync.h"
#include "dynbuf.h"
#include "migrations.h"
#include "repeatable.h"
#include "tocsinctl.h"

#define MAX_MIGRATIONS 256
#define MIGRATE_LOCK_KEY "7236201"

#define REPEATABLE_DIR "functions/"
/* Repeatable files applied before the numbered migrations. */
#define EARLY_PREFIX REPEATABLE_DIR "0_"

struct migration {
    char name[128];
    char *sql;
    size_t len;
    int version;  /* 0 for a repeatable file */
    char sum[65]; /* sha256 of sql, hex */
    int pending;  /* set by plan(): to apply in this run */
};

static int is_repeatable(const struct migration *m)
{
    return strncmp(m->name, REPEATABLE_DIR, strlen(REPEATABLE_DIR)) == 0;
}

static int is_early(const struct migration *m)
{
    return strncmp(m->name, EARLY_PREFIX, strlen(EARLY_PREFIX)) == 0;
}

/* Numbered migrations first, then repeatable files, each in name order. */
static int name_order(const void *a, const void *b)
{
    const struct migration *x = a, *y = b;
    if (is_repeatable(x) != is_repeatable(y))
        return is_repeatable(x) - is_repeatable(y);
    return strcmp(x->name, y->name);
}

/* The checksums that migrations 001..022 were recorded with before their
 * functions, views and triggers moved to schema/functions/ (December
 * 2026). A database that recorded one of these for its version applied
 * the old text; its objects are the ones the repeatable files define, so
 * the row is brought to the current checksum instead of being refused. */
static const struct {
    int version;
    const char *sum;
} legacy_sums[] = {
    {1, "9260504ec0f1cb601695d1c31b586c66664067a9741ec95de25405463863f19e"},
    {3, "bfaba169f901c31efcc3f79da5e7194da0600816e53ec0c9878444cb005c428d"},
    {4, "dd5e871bfa6f4de9b2231a413332cc2c5152a2e7b4215bfbda573337953a92b0"},
    {5, "073ad861281a1107b7a100b3459bf16d932ed3685a0f240ce2b042672827a83e"},
    {6, "f7ca81f2080a84812da1efa0f57d9e6f9f94372995fadd4f8a6348d99d2d9a6b"},
    {7, "a31ed5b5a80db7f569d1d5d6af3e538dd2076f648190979a2cc85c01071ae609"},
    {8, "68882f7ef99449ec3dbc3fb8f84586baa5c0131fcb9c2caaec45bb6ff371f8cb"},
    {9, "16c1487bfb9a8de6dc4f9fb03eabc1ea308852985134427627d98da6a503d8d3"},
    {10, "c9c947ccaa0379e87d23fd2e0967792cb9ccfde0732371e88bd976985cbb7b8d"},
    {12, "f99ce2a26b7fe15dafe9320d7d881ef08539be6302684c428692208bb463b937"},
    {13, "9348155a18c76d82e5f5dd70c68c751281a44bd1759d73ebb422ea1b44f32bdf"},
    {14, "bb843b106387a14b5c90e27a2c7c8290856a66b68f90974da1e89e112bceddaf"},
    {15, "f793e78c1048a6b369e7b4c916902352a68d40d78c4bf2561d698358793822de"},
    {16, "5f0f503cf6a585aa429316377773380a93f21e994d876ebc428d80a767d4f1d1"},
    {17, "7af6b608dfe190a8f37040b7d3e99ad5b0caa35fcec55e5369184d613f699f6b"},
    {18, "51a83f4b82c633c3f74de9d2756e7058f86daa3e0d06c5d155711f3068e8cb0c"},
    {19, "6459aade3a96c4bfb77331cfc46b10966d78f400079dec0074bc7b885733d776"},
    {20, "65f036a6e8324912f96d8e83a646ff6526bc9d27bc80e3394a43de41069bd28f"},
    {21, "7101212c10e855c88913d35d326f3fea7e48268a7abae312cc4e12667b78f1e9"},
    {22, "4e420c3721015aad4bff3371b9b370360f7cfedeb7dcb5a793e6ad48653a1b0f"},
};

static int legacy_sum(int version, const char *sum)
{
    for (size_t i = 0; i < sizeof legacy_sums / sizeof legacy_sums[0]; i++)
        if (legacy_sums[i].version == version && strcmp(legacy_sums[i].sum, sum) == 0)
            return 1;
    return 0;
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

static void checksum(const struct migration *m, char hex[65])
{
    unsigned char h[32];
    crypto_hash_sha256(h, (const unsigned char *)m->sql, m->len);
    sodium_bin2hex(hex, 65, h, 32);
}

/* Appends the .sql files of dir/sub (sub "" or REPEATABLE_DIR) to m, named
 * sub + file name; a missing sub folder holds none. current.sql, the
 * schema's dump, is not a migration. Returns 0, or -1 after printing why. */
static int load_dir(const char *dir, const char *sub, struct migration *m, int *n)
{
    char folder[4096];
    snprintf(folder, sizeof folder, "%s/%s", dir, sub);
    DIR *d = opendir(folder);
    if (!d) {
        if (*sub)
            return 0;
        fprintf(stderr, "tocsinctl migrate: could not open migrations folder \"%s\"\n", dir);
        return -1;
    }
    struct dirent *e;
    size_t sl = strlen(sub);
    while ((e = readdir(d)) && *n < MAX_MIGRATIONS) {
        size_t l = strlen(e->d_name);
        if (l < 5 || sl + l >= sizeof m[*n].name || strcmp(e->d_name + l - 4, ".sql") != 0 ||
            (!*sub && strcmp(e->d_name, "current.sql") == 0))
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s%s", folder, e->d_name);
        memcpy(m[*n].name, sub, sl);
        memcpy(m[*n].name + sl, e->d_name, l + 1);
        if (read_file(path, &m[*n].sql, &m[*n].len)) {
            fprintf(stderr, "tocsinctl migrate: could not read \"%s\"\n", path);
            closedir(d);
            return -1;
        }
        (*n)++;
    }
    closedir(d);
    return 0;
}

/* Loads migrations from dir, or the embedded ones when dir is NULL, in
 * name order. Sets *count to the entries whose sql the caller must free,
 * also on failure. Returns 0, or -1 after printing why. */
static int load(const char *dir, struct migration *m, int *count)
{
    int n = 0;
    if (!dir) {
        for (const struct tocsin_migration *e = tocsin_migrations; e->name && n < MAX_MIGRATIONS;
             e++, n++) {
            snprintf(m[n].name, sizeof m[n].name, "%s", e->name);
            m[n].sql = strdup(e->sql);
            m[n].len = e->len;
        }
    } else if (load_dir(dir, "", m, &n) || load_dir(dir, REPEATABLE_DIR, m, &n)) {
        *count = n;
        return -1;
    }
    if (n == MAX_MIGRATIONS) {
        fprintf(stderr, "tocsinctl migrate: more than %d schema files\n", MAX_MIGRATIONS - 1);
        *count = n;
        return -1;
    }
    qsort(m, (size_t)n, sizeof *m, name_order);
    *count = n; /* the caller frees what was loaded, even on error */
    for (int i = 0; i < n; i++) {
        if (!m[i].sql) {
            fprintf(stderr, "tocsinctl migrate: out of memory\n");
            return -1;
        }
        checksum(&m[i], m[i].sum);
        if (is_repeatable(&m[i]))
            continue;
        char *end;
        long v = strtol(m[i].name, &end, 10);
        if (end == m[i].name || *end != '_' || v <= 0 || v > 99999 || !m[i].sql) {
            fprintf(stderr,
                    "tocsinctl migrate: invalid migration name \"%s\": must be NNN_name.sql\n",
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

/* Reads the recorded checksum of m (numbered or repeatable): returns 1
 * and fills sum_out if applied, 0 if not, -1 on a database error (printed). */
static int recorded(PGconn *conn, const struct migration *m, char sum_out[65])
{
    char version[16], err[512];
    snprintf(version, sizeof version, "%d", m->version);
    int r =
        is_repeatable(m)
            ? ctl_recorded_checksum(conn, "SELECT checksum FROM schema_repeatables WHERE name = $1",
                                    m->name, sum_out, err, sizeof err)
            : ctl_recorded_checksum(conn,
                                    "SELECT checksum FROM schema_migrations WHERE version = $1",
                                    version, sum_out, err, sizeof err);
    if (r < 0)
        fprintf(stderr, "tocsinctl migrate: %s\n", err);
    return r;
}

static void refuse_changed(const struct migration *m)
{
    fprintf(stderr,
            "tocsinctl migrate: migration %s was changed after it was applied; "
            "add a new migration instead\n",
            m->name);
}

/* Decides, inside the locked transaction, what this run applies: numbered
 * migrations not recorded, and repeatable files whose recorded checksum
 * differs, or every one of them when a numbered migration is pending. A
 * numbered migration recorded with its pre-split checksum (legacy_sums) is
 * brought to the current one. Returns the number pending, or -1 (printed). */
static int plan(PGconn *conn, struct migration *m, int n)
{
    int numbered = 0, total = 0;
    for (int i = 0; i < n; i++) {
        char have[65];
        int done = recorded(conn, &m[i], have);
        if (done < 0)
            return -1;
        m[i].pending = !done || (is_repeatable(&m[i]) && strcmp(have, m[i].sum) != 0) ||
                       (is_repeatable(&m[i]) && numbered > 0);
        if (done && !is_repeatable(&m[i]) && strcmp(have, m[i].sum) != 0) {
            if (!legacy_sum(m[i].version, have)) {
                refuse_changed(&m[i]);
                return -1;
            }
            char version[16], err[512];
            snprintf(version, sizeof version, "%d", m[i].version);
            const char *params[] = {m[i].sum, version};
            PGresult *res = tocsin_dbsync_exec(
                conn, "UPDATE schema_migrations SET checksum = $1 WHERE version = $2", 2, params,
                err, sizeof err);
            if (!res) {
                fprintf(stderr, "tocsinctl migrate: %s\n", err);
                return -1;
            }
            PQclear(res);
        }
        if (m[i].pending && !is_repeatable(&m[i]))
            numbered++;
        total += m[i].pending;
    }
    return total;
}

/* Runs one pending file inside the transaction. Returns 0 or -1 (printed). */
static int apply_one(PGconn *conn, const struct migration *m)
{
    char err[1024];
    if (is_repeatable(m)) {
        if (ctl_repeatable_apply(conn, m->name, m->sql, m->sum, err, sizeof err)) {
            fprintf(stderr, "tocsinctl migrate: %s failed: %s\n", m->name, err);
            return -1;
        }
    } else {
        char version[16];
        snprintf(version, sizeof version, "%d", m->version);
        const char *params[] = {version, m->name, m->sum};
        if (tocsin_dbsync_command(conn, m->sql, err, sizeof err)) {
            fprintf(stderr, "tocsinctl migrate: migration %s failed: %s\n", m->name, err);
            return -1;
        }
        PGresult *res = tocsin_dbsync_exec(
            conn, "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)", 3,
            params, err, sizeof err);
        if (!res) {
            fprintf(stderr, "tocsinctl migrate: could not record migration %s: %s\n", m->name, err);
            return -1;
        }
        PQclear(res);
    }
    printf("applied %s\n", m->name);
    return 0;
}

/* Applies the pending files of one pass: 0 the early repeatable files
 * (0_*.sql), 1 the numbered migrations, 2 the other repeatable files.
 * Adds the numbered migrations applied to *numbered. Returns 0 or -1. */
static int apply_pass(PGconn *conn, struct migration *m, int n, int pass, int *numbered)
{
    for (int i = 0; i < n; i++) {
        int in_pass = is_early(&m[i]) ? 0 : is_repeatable(&m[i]) ? 2 : 1;
        if (in_pass != pass || !m[i].pending)
            continue;
        if (apply_one(conn, &m[i]))
            return -1;
        *numbered += pass == 1;
    }
    return 0;
}

/* Applies what plan() finds pending, all in one transaction that first
 * takes the migration lock, so a concurrent migrate waits here and then
 * finds nothing to do. A transaction-level lock also works through a
 * pooler in transaction mode. Order: early repeatable files (0_*.sql),
 * numbered migrations, the other repeatable files. Sets *numbered to the
 * numbered migrations applied. Returns the files applied, or -1 (printed,
 * rolled back: nothing of the run remains). */
static int apply_all(PGconn *conn, struct migration *m, int n, int *numbered)
{
    char err[1024];
    *numbered = 0;
    if (tocsin_dbsync_command(conn, "BEGIN", err, sizeof err) ||
        tocsin_dbsync_command(conn, "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK_KEY ")", err,
                              sizeof err)) {
        fprintf(stderr, "tocsinctl migrate: %s\n", err);
        tocsin_dbsync_command(conn, "ROLLBACK", err, sizeof err);
        return -1;
    }
    int total = plan(conn, m, n);
    for (int pass = 0; pass < 3 && total > 0; pass++)
        if (apply_pass(conn, m, n, pass, numbered))
            total = -1;
    if (total > 0 && ctl_repeatable_validate(conn, err, sizeof err)) {
        fprintf(stderr, "tocsinctl migrate: a function does not compile: %s\n", err);
        total = -1;
    }
    if (total < 0 || tocsin_dbsync_command(conn, "COMMIT", err, sizeof err)) {
        if (total >= 0)
            fprintf(stderr, "tocsinctl migrate: could not commit: %s\n", err);
        tocsin_dbsync_command(conn, "ROLLBACK", err, sizeof err);
        return -1;
    }
    return total;
}

/* Creates schema_migrations and schema_repeatables under the migration
 * lock (two concurrent CREATE TABLE IF NOT EXISTS can otherwise collide).
 * Returns 0 or -1. */
static int ensure_table(PGconn *conn)
{
    char err[512];
    if (tocsin_dbsync_command(conn, "BEGIN", err, sizeof err) ||
        tocsin_dbsync_command(conn, "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK_KEY ")", err,
                              sizeof err) ||
        tocsin_dbsync_command(
            conn,
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version int PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())",
            err, sizeof err) ||
        tocsin_dbsync_command(conn, ctl_repeatable_table_sql, err, sizeof err) ||
        tocsin_dbsync_command(conn, "COMMIT", err, sizeof err)) {
        fprintf(stderr, "tocsinctl migrate: %s\n", err);
        tocsin_dbsync_command(conn, "ROLLBACK", err, sizeof err);
        return -1;
    }
    return 0;
}

/* --status: lists each migration and repeatable file as applied, pending
 * or changed; changes nothing, not even creating the tables. Returns the
 * exit status: failure when a numbered migration was changed after it was
 * applied (a changed repeatable file is simply applied next time). */
static int show_status(PGconn *conn, const struct migration *m, int n)
{
    PGresult *res = tocsinctl_exec(conn, "migrate",
                                   "SELECT to_regclass('schema_migrations') IS NOT NULL,"
                                   " to_regclass('schema_repeatables') IS NOT NULL",
                                   0, NULL);
    if (!res)
        return TOCSINCTL_FAIL;
    int table = strcmp(PQgetvalue(res, 0, 0), "t") == 0,
        rtable = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
    PQclear(res);
    int rc = TOCSINCTL_OK;
    for (int i = 0; i < n; i++) {
        char have[65];
        int rep = is_repeatable(&m[i]);
        int done = (rep ? rtable : table) ? recorded(conn, &m[i], have) : 0;
        if (done < 0)
            return TOCSINCTL_FAIL;
        int same = done && strcmp(have, m[i].sum) == 0;
        int legacy = done && !rep && !same && legacy_sum(m[i].version, have);
        const char *what = !done            ? "pending"
                           : same || legacy ? "applied"
                           : rep            ? "changed (applied again by the next migrate)"
                                            : "changed after it was applied";
        if (done && !same && !legacy && !rep)
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
    PGresult *res =
        tocsinctl_exec(conn, "migrate", "SELECT to_regclass('phone_zones') IS NOT NULL", 0, NULL);
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
    const struct ctl_opt opts[] = {CTL_VALUE("--dir", dir), CTL_FLAG("--status", status), CTL_END};
    int go = ctl_begin(ctl, argc, argv, &(struct ctl_args){.opts = opts});
    if (go != CTL_GO)
        return go;
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
    int files = apply_all(conn, m, n, &applied);
    if (files < 0)
        goto out;
    if (files == 0)
        printf("database is up to date (%d migrations)\n", n);
    if (refresh_zones(conn, applied) || ctl_reseal_credentials(conn, &ctl->cfg))
        goto out;
    rc = TOCSINCTL_OK;
out:
    for (int i = 0; i < n; i++)
        free(m[i].sql);
    return rc;
}
