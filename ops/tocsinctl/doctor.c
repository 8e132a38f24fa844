/* SPDX-License-Identifier: AGPL-3.0-or-later
 * doctor.c — `tocsinctl doctor`: checks a running installation and says
 * what is wrong in plain words, one line a check: the database with the
 * role the daemons use, migrations against the ones this binary carries,
 * the sealing key's file, the public URLs, the proxy's client address,
 * and each sender's credentials (they open with the key; the carrier
 * accepts them, asked the harmless way: Twilio's account resource,
 * Telnyx's balance). It changes nothing. Exit 1 if any check failed. */
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>
#include <uv.h>

#include "args.h"
#include "crypto.h"
#include "dbsync.h"
#include "http_client.h"
#include "migrations.h"
#include "tls_session.h"
#include "tocsinctl.h"

#define DOCTOR_HTTP_TIMEOUT_MS 10000L

struct doctor {
    struct tocsinctl *ctl;
    const char *key_file;
    const char *key_owner;
    const char *ca_file;
    int no_carrier, no_probe;
    int checks, failed, warned;
    unsigned char key[32];
    int has_key;
};

enum { D_OK, D_WARN, D_FAIL, D_SKIP };

static void say(struct doctor *d, int level, const char *check, const char *fmt, ...)
{
    static const char *const tags[] = {"ok  ", "warn", "FAIL", "skip"};
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    printf("%s  %-10s %s\n", tags[level], check, msg);
    fflush(stdout);
    d->checks++;
    d->failed += level == D_FAIL;
    d->warned += level == D_WARN;
}

/* Runs a query without parameters; NULL (and the error in err) on failure. */
static PGresult *query(PGconn *conn, const char *sql, int nparams, const char *const *params,
                       char *err, size_t errlen)
{
    return tocsin_dbsync_exec(conn, sql, nparams, params, err, errlen);
}

/* --- the database and its role --- */

static PGconn *check_database(struct doctor *d)
{
    char err[512];
    PGconn *conn = tocsin_dbsync_connect(d->ctl->database_url, err, sizeof err);
    if (!conn) {
        say(d, D_FAIL, "database",
            "cannot connect (%s). Is PostgreSQL running (systemctl status postgresql)? Is "
            "TOCSIN_DATABASE_URL right, and does doctor run as the user tocsin (docs/deploy.md)?",
            err);
        return NULL;
    }
    PQclear(PQexec(conn, "SET client_min_messages = warning"));
    PGresult *res =
        query(conn,
              "SELECT current_user, r.rolsuper, r.rolcreatedb OR r.rolcreaterole,"
              " has_schema_privilege('public', 'CREATE'), current_setting('server_version')"
              " FROM pg_roles r WHERE r.rolname = current_user",
              0, NULL, err, sizeof err);
    if (!res || PQntuples(res) != 1) {
        say(d, D_FAIL, "database", "connected, but cannot read its own role: %s",
            res ? "no row" : err);
        PQclear(res);
        return conn;
    }
    const char *user = PQgetvalue(res, 0, 0);
    if (strcmp(PQgetvalue(res, 0, 1), "t") == 0)
        say(d, D_FAIL, "database",
            "connected as %s, a superuser: the daemons must connect as the runtime role (tocsin), "
            "which can change rows but not the schema",
            user);
    else if (strcmp(PQgetvalue(res, 0, 2), "t") == 0 || strcmp(PQgetvalue(res, 0, 3), "t") == 0)
        say(d, D_FAIL, "database",
            "connected as %s, which may create databases, roles or tables: run tocsinctl setup "
            "again as postgres to take those rights away",
            user);
    else
        say(d, D_OK, "database", "connected as %s (rows only, no DDL), PostgreSQL %s", user,
            PQgetvalue(res, 0, 4));
    PQclear(res);
    return conn;
}

/* --- migrations --- */

/* The version of a migration's name ("012_x.sql" is 12), 0 if not NNN_. */
static int version_of(const char *name)
{
    char *end;
    long v = strtol(name, &end, 10);
    return end != name && *end == '_' && v > 0 && v <= 99999 ? (int)v : 0;
}

/* The repeatable files (functions/..., recorded in schema_repeatables by
 * migrate): each as this version has it. Returns how many differ or are
 * missing (after saying so), or -1 on an error (said). */
static int check_repeatables(struct doctor *d, PGconn *conn)
{
    char err[512];
    PGresult *res = query(conn, "SELECT to_regclass('schema_repeatables') IS NOT NULL", 0, NULL,
                          err, sizeof err);
    if (!res) {
        say(d, D_FAIL, "migrations", "cannot read the schema: %s", err);
        return -1;
    }
    int table = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    int files = 0, stale = 0;
    const char *first = NULL;
    for (const struct tocsin_migration *m = tocsin_migrations; m->name; m++) {
        if (version_of(m->name))
            continue; /* a numbered migration */
        files++;
        unsigned char h[32];
        char hex[65];
        crypto_hash_sha256(h, (const unsigned char *)m->sql, m->len);
        sodium_bin2hex(hex, sizeof hex, h, sizeof h);
        int same = 0;
        if (table) {
            const char *params[] = {m->name};
            res = query(conn, "SELECT checksum FROM schema_repeatables WHERE name = $1", 1, params,
                        err, sizeof err);
            if (!res) {
                say(d, D_FAIL, "migrations", "cannot read schema_repeatables: %s", err);
                return -1;
            }
            same = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), hex) == 0;
            PQclear(res);
        }
        if (!same && stale++ == 0)
            first = m->name;
    }
    if (stale)
        say(d, D_FAIL, "migrations",
            "%d of %d function files are not as this version has them (first %s): run "
            "systemctl restart tocsin-migrate",
            stale, files, first);
    return stale;
}

static void check_migrations(struct doctor *d, PGconn *conn)
{
    char err[512];
    PGresult *res = query(conn, "SELECT to_regclass('schema_migrations') IS NOT NULL", 0, NULL, err,
                          sizeof err);
    if (!res) {
        say(d, D_FAIL, "migrations", "cannot read the schema: %s", err);
        return;
    }
    int table = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (!table) {
        say(d, D_FAIL, "migrations",
            "none applied (no schema_migrations table): start tocsin-migrate.service (or tocsinctl migrate)");
        return;
    }
    res = query(conn, "SELECT version, checksum FROM schema_migrations ORDER BY version", 0, NULL,
                err, sizeof err);
    if (!res) {
        say(d, D_FAIL, "migrations", "cannot read schema_migrations: %s", err);
        return;
    }
    int known = 0, pending = 0, changed = 0, unknown = 0, n = PQntuples(res);
    const char *first_pending = NULL, *first_changed = NULL;
    int first_unknown = 0;
    for (const struct tocsin_migration *m = tocsin_migrations; m->name; m++) {
        int v = version_of(m->name);
        if (!v)
            continue; /* not a numbered migration */
        known++;
        unsigned char h[32];
        char hex[65];
        crypto_hash_sha256(h, (const unsigned char *)m->sql, m->len);
        sodium_bin2hex(hex, sizeof hex, h, sizeof h);
        int row = -1;
        for (int i = 0; i < n; i++)
            if (atoi(PQgetvalue(res, i, 0)) == v) { /* the column is an int */
                row = i;
                break;
            }
        if (row < 0) {
            pending++;
            if (!first_pending)
                first_pending = m->name;
        } else if (strcmp(PQgetvalue(res, row, 1), hex) != 0) {
            changed++;
            if (!first_changed)
                first_changed = m->name;
        }
    }
    for (int i = 0; i < n; i++) {
        int v = atoi(PQgetvalue(res, i, 0)), found = 0;
        for (const struct tocsin_migration *m = tocsin_migrations; m->name && !found; m++)
            found = version_of(m->name) == v;
        if (!found && unknown++ == 0)
            first_unknown = v;
    }
    if (pending)
        say(d, D_FAIL, "migrations",
            "%d of %d pending (first %s): the daemons may fail on missing columns; run "
            "systemctl restart tocsin-migrate",
            pending, known, first_pending);
    if (changed)
        say(d, D_FAIL, "migrations",
            "%d applied migration(s) differ from this version's (first %s): the database was "
            "migrated by another build of Tocsin",
            changed, first_changed);
    if (unknown)
        say(d, D_FAIL, "migrations",
            "the database has %d migration(s) this tocsinctl does not know (first version %d): a newer "
            "Tocsin migrated it; install that version again (rollback: docs/deploy.md)",
            unknown, first_unknown);
    PQclear(res);
    int stale = check_repeatables(d, conn);
    if (!pending && !changed && !unknown && stale == 0)
        say(d, D_OK, "migrations", "current (%d applied, function files as this version's)", known);
}

/* --- the sealing key --- */

/* Reads 64 hex digits from the first line of path into d->key. 0 or -1. */
static void check_key(struct doctor *d)
{
    struct stat st;
    if (stat(d->key_file, &st) != 0) {
        say(d, D_FAIL, "key",
            "%s: %s. Without it no stored carrier credential opens; restore it from "
            "your backup (docs/deploy.md, Backups)",
            d->key_file, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        say(d, D_FAIL, "key", "%s is not a regular file", d->key_file);
    } else {
        struct passwd *pw = getpwnam(d->key_owner);
        if (!pw)
            say(d, D_FAIL, "key", "the key's expected owner \"%s\" is not a user of this system",
                d->key_owner);
        else if (st.st_uid != pw->pw_uid)
            say(d, D_FAIL, "key", "%s belongs to uid %u, not to %s: chown %s %s", d->key_file,
                (unsigned)st.st_uid, d->key_owner, d->key_owner, d->key_file);
        else if (st.st_mode & 077)
            say(d, D_FAIL, "key",
                "%s has mode %04o: others than %s can read the key that opens every "
                "carrier credential; chmod 600 %s",
                d->key_file, (unsigned)(st.st_mode & 07777), d->key_owner, d->key_file);
        else
            say(d, D_OK, "key", "%s: %s's only (mode %04o)", d->key_file, d->key_owner,
                (unsigned)(st.st_mode & 07777));
    }
    /* The key itself: as the units hand it over (TOCSIN_SECRET_KEY_FILE, a
     * credential), else the file when doctor may read it (root). */
    if (d->ctl->cfg.has_secret_key) {
        memcpy(d->key, d->ctl->cfg.secret_key, sizeof d->key);
        d->has_key = 1;
    } else if (ctl_read_key_file(d->key_file, d->key) == 0) {
        d->has_key = 1;
    }
}

/* --- public URLs and the proxy --- */

struct doctor_get {
    int done;
    long status;
    char *err;
    size_t errlen;
};

static void doctor_got(const struct tocsin_http_client_response *r, void *ctx)
{
    struct doctor_get *g = ctx;
    g->done = 1;
    g->status = r->error ? 0 : r->status;
    if (r->error)
        snprintf(g->err, g->errlen, "%s", r->error);
}

/* GETs url with the client the worker sends with (the same TLS, CA store
 * and host check: what passes here, the worker can reach); returns the
 * HTTP status, or 0 with the reason in err. */
static long http_get(const char *url, const char *userpwd, const char *bearer, char *err,
                     size_t errlen)
{
    char auth[4400] = "";
    if (bearer &&
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", bearer) >= (int)sizeof auth) {
        sodium_memzero(auth, sizeof auth);
        snprintf(err, errlen, "the API key is longer than %zu characters", sizeof auth - 23);
        return 0;
    }
    uv_loop_t loop;
    if (uv_loop_init(&loop) != 0) {
        sodium_memzero(auth, sizeof auth);
        snprintf(err, errlen, "could not start an event loop");
        return 0;
    }
    struct tocsin_http_client *c = tocsin_http_client_new(&loop, 1);
    const char *headers[] = {auth, NULL};
    struct tocsin_http_client_request req = {.method = "GET",
                                             .url = url,
                                             .headers = auth[0] ? headers : NULL,
                                             .basic_auth = userpwd,
                                             .timeout_ms = DOCTOR_HTTP_TIMEOUT_MS,
                                             .connect_timeout_ms = 5000};
    struct doctor_get g = {.err = err, .errlen = errlen};
    if (!c)
        snprintf(err, errlen, "out of memory");
    else if (tocsin_http_client_send(c, &req, doctor_got, &g) != 0)
        snprintf(err, errlen, "%s is not an http(s) URL this client can ask", url);
    else
        while (!g.done && uv_run(&loop, UV_RUN_ONCE))
            ;
    sodium_memzero(auth, sizeof auth);
    if (c)
        tocsin_http_client_close(c, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return g.status;
}

static void check_url(struct doctor *d, const char *name, const char *url, const char *who)
{
    if (strncmp(url, "https://", 8) != 0) {
        say(d, D_FAIL, "url",
            "%s is %s: %s must reach Tocsin over https:// (TLS at nginx, "
            "docs/deploy.md); set it in /etc/tocsin/tocsin.conf",
            name, url, who);
        return;
    }
    if (d->no_probe) {
        say(d, D_OK, "url", "%s is %s (not probed)", name, url);
        return;
    }
    char probe[1100], err[320] = "";
    snprintf(probe, sizeof probe, "%s/healthz", url);
    long st = http_get(probe, NULL, NULL, err, sizeof err);
    if (st == 200)
        say(d, D_OK, "url", "%s is %s, and %s answers through the proxy", name, url, probe);
    else if (st)
        say(d, D_FAIL, "url",
            "%s answered HTTP %ld, not 200: is the daemon behind nginx running, and does "
            "nginx forward this hostname to it?",
            probe, st);
    else
        say(d, D_FAIL, "url", "%s is unreachable (%s): DNS, nginx, its certificate?", probe, err);
}

static void check_proxy(struct doctor *d, PGconn *conn)
{
    if (d->ctl->cfg.trusted_proxies.n == 0) {
        say(d, D_FAIL, "proxy",
            "TOCSIN_TRUSTED_PROXIES is empty: behind nginx every webhook and login seems to come from "
            "127.0.0.1, so one abuser's limits hit everyone; set TOCSIN_TRUSTED_PROXIES=127.0.0.1/32");
        return;
    }
    if (!conn) {
        say(d, D_OK, "proxy", "TOCSIN_TRUSTED_PROXIES is set (%zu network(s))",
            d->ctl->cfg.trusted_proxies.n);
        return;
    }
    /* The logins of the last week tell whether nginx's X-Forwarded-For
     * arrives: if every one came from loopback, it does not. */
    char err[512];
    PGresult *res = query(
        conn,
        "SELECT count(*), count(*) FILTER (WHERE remote_addr NOT IN ('127.0.0.1', '::1'))"
        " FROM sessions WHERE created_at > now() - interval '7 days' AND remote_addr IS NOT NULL",
        0, NULL, err, sizeof err);
    if (!res) {
        say(d, D_FAIL, "proxy", "cannot read the sessions: %s", err);
        return;
    }
    long all = atol(PQgetvalue(res, 0, 0)), outside = atol(PQgetvalue(res, 0, 1));
    PQclear(res);
    if (all > 0 && outside == 0)
        say(d, D_WARN, "proxy",
            "TOCSIN_TRUSTED_PROXIES is set, but all %ld logins of the last 7 days came from loopback: "
            "does nginx set X-Forwarded-For (docs/deploy.md)?",
            all);
    else
        say(d, D_OK, "proxy",
            "TOCSIN_TRUSTED_PROXIES is set; %ld of %ld logins this week came from "
            "a client's own address",
            outside, all);
}

/* --- senders --- */

static void check_sender_carrier(struct doctor *d, const char *label, const char *provider,
                                 const char *sid, const char *secret, const char *base_url)
{
    const struct tocsin_config *cfg = &d->ctl->cfg;
    if (strncmp(base_url, "https://", 8) != 0 && !cfg->allow_insecure_carrier_urls) {
        say(d, D_FAIL, "sender", "%s: carrier URL %s is not https://; the worker refuses it", label,
            base_url);
        return;
    }
    if (d->no_carrier) {
        say(d, D_OK, "sender", "%s: credentials open with the key (carrier not asked)", label);
        return;
    }
    char url[700], userpwd[4400], err[320] = "";
    long st;
    if (strcmp(provider, "twilio") == 0) {
        snprintf(url, sizeof url, "%s/2010-04-01/Accounts/%s.json", base_url, sid);
        if (snprintf(userpwd, sizeof userpwd, "%s:%s", sid, secret) >= (int)sizeof userpwd) {
            say(d, D_FAIL, "sender", "%s: its auth token is too long to be Twilio's", label);
            return;
        }
        st = http_get(url, userpwd, NULL, err, sizeof err);
        sodium_memzero(userpwd, sizeof userpwd);
    } else {
        snprintf(url, sizeof url, "%s/v2/balance", base_url);
        st = http_get(url, NULL, secret, err, sizeof err);
    }
    if (st == 200)
        say(d, D_OK, "sender", "%s: %s accepts its credentials", label, provider);
    else if (st == 401 || st == 403)
        say(d, D_FAIL, "sender",
            "%s: %s refuses its credentials (HTTP %ld): the %s was changed or revoked "
            "at the carrier; add the sender again with the current one",
            label, provider, st, strcmp(provider, "twilio") == 0 ? "auth token" : "API key");
    else if (st)
        say(d, D_WARN, "sender", "%s: %s answered HTTP %ld to a credentials check (%s)", label,
            provider, st, url);
    else
        say(d, D_FAIL, "sender", "%s: cannot reach %s at %s (%s)", label, provider, base_url, err);
}

/* The public half of the sealing key pair the dashboard seals new
 * credentials with (schema 027) must be this key's: one published for an
 * older key makes every credential added in the dashboard unopenable. */
static void check_sealing_key(struct doctor *d, PGconn *conn)
{
    char err[512], mine[67];
    if (!d->has_key || tocsin_sealing_public_key_param(d->key, mine) != 0) {
        say(d, D_SKIP, "sealing", "no key to compare the published sealing key with");
        return;
    }
    PGresult *res =
        query(conn, "SELECT public_key::text FROM sealing_key", 0, NULL, err, sizeof err);
    if (!res) {
        say(d, D_FAIL, "sealing", "cannot read the published sealing key: %s", err);
        return;
    }
    if (PQntuples(res) == 0)
        say(d, D_WARN, "sealing",
            "no sealing key published: the dashboard cannot add senders until the worker "
            "has started once (or tocsinctl migrate runs with the key)");
    else if (strcmp(PQgetvalue(res, 0, 0), mine) != 0)
        say(d, D_FAIL, "sealing",
            "the published sealing key is not this key's: credentials added in the dashboard "
            "now would not open; restart the worker (or run tocsinctl migrate with the key)");
    else
        say(d, D_OK, "sealing", "the dashboard seals new credentials for this key");
    PQclear(res);
}

static void check_senders(struct doctor *d, PGconn *conn)
{
    char err[512];
    PGresult *res = query(conn,
                          "SELECT s.id, o.slug, s.address, s.provider, coalesce(s.account_sid, ''),"
                          " s.credentials_sealed, coalesce(s.base_url, '')"
                          " FROM senders s JOIN orgs o ON o.id = s.org_id ORDER BY s.id LIMIT 1000",
                          0, NULL, err, sizeof err);
    if (!res) {
        say(d, D_FAIL, "sender", "cannot read the senders: %s", err);
        return;
    }
    int n = PQntuples(res);
    if (n == 0)
        say(d, D_WARN, "sender",
            "no sender yet: nothing can be sent (tocsinctl sender add, docs/deploy.md)");
    else if (!d->has_key)
        say(d, D_FAIL, "sender",
            "%d sender(s), but doctor has no key to open their credentials: run it as "
            "docs/deploy.md shows (the key as a credential)",
            n);
    for (int i = 0; i < n && d->has_key; i++) {
        const char *provider = PQgetvalue(res, i, 3), *sealed = PQgetvalue(res, i, 5);
        char label[160], secret[4200];
        snprintf(label, sizeof label, "%s %s (org %s)", provider, PQgetvalue(res, i, 2),
                 PQgetvalue(res, i, 1));
        long rc = tocsin_credential_open(d->key, strtoll(PQgetvalue(res, i, 0), NULL, 10), provider,
                                         sealed, strlen(sealed), secret, sizeof secret);
        if (rc == TOCSIN_CREDENTIAL_LEGACY) {
            say(d, D_FAIL, "sender",
                "%s: credentials in the old format: run tocsinctl migrate with the key "
                "(systemctl restart tocsin-migrate)",
                label);
            continue;
        }
        if (rc < 0) {
            say(d, D_FAIL, "sender",
                "%s: credentials do not open with this key (%s): the key is not the "
                "one they were sealed with",
                label, tocsin_credential_problem(rc, 1));
            continue;
        }
        const char *base = PQgetvalue(res, i, 6);
        if (!*base)
            base = strcmp(provider, "twilio") == 0 ? "https://api.twilio.com"
                                                   : "https://api.telnyx.com";
        check_sender_carrier(d, label, provider, PQgetvalue(res, i, 4), secret, base);
        sodium_memzero(secret, sizeof secret);
    }
    PQclear(res);
}

int tocsinctl_doctor(struct tocsinctl *ctl, int argc, char **argv)
{
    struct doctor d = {.ctl = ctl, .key_file = "/etc/tocsin/secret_key", .key_owner = "root"};
    const struct ctl_opt opts[] = {
        CTL_VALUE("--key-file", d.key_file), CTL_VALUE("--key-owner", d.key_owner),
        CTL_VALUE("--ca-file", d.ca_file),   CTL_FLAG("--no-carrier", d.no_carrier),
        CTL_FLAG("--no-probe", d.no_probe),  CTL_END};
    int go = ctl_begin(ctl, argc, argv, &(struct ctl_args){.opts = opts});
    if (go != CTL_GO)
        return go;
    if (d.ca_file && tocsin_tls_client_use_ca_file(d.ca_file) != 0) {
        fprintf(stderr, "tocsinctl doctor: --ca-file %s: not a readable PEM file of certificates\n",
                d.ca_file);
        return TOCSINCTL_USAGE;
    }
    PGconn *conn = check_database(&d);
    if (conn)
        check_migrations(&d, conn);
    else
        say(&d, D_SKIP, "migrations", "no database");
    check_key(&d);
    check_url(&d, "TOCSIN_PUBLIC_URL", ctl->cfg.public_url, "carriers' webhooks");
    check_url(&d, "TOCSIN_DASHBOARD_URL", ctl->cfg.dashboard_url, "volunteers' browsers");
    check_proxy(&d, conn);
    if (conn) {
        check_sealing_key(&d, conn);
        check_senders(&d, conn);
    } else {
        say(&d, D_SKIP, "sender", "no database");
    }
    sodium_memzero(d.key, sizeof d.key);
    PQfinish(conn);
    printf("%d checks: %d failed, %d warnings\n", d.checks, d.failed, d.warned);
    return d.failed ? TOCSINCTL_FAIL : TOCSINCTL_OK;
}
