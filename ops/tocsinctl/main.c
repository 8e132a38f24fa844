/* SPDX-License-Identifier: AGPL-3.0-or-later
 * main.c — tocsinctl: global options, the verb table, and the helpers
 * every verb shares (connect, org lookup, exec with error reporting). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "dbsync.h"
#include "log.h"
#include "tocsinctl.h"

struct verb {
    const char *group; /* "org", or NULL for a verb of its own */
    const char *name;
    tocsinctl_verb_fn fn;
    const char *summary;
};

static const struct verb verbs[] = {
    {NULL, "setup", tocsinctl_setup, "create the database and its owner and runtime roles (as superuser)"},
    {NULL, "init", tocsinctl_init, "create the first org and an invite link for its first admin"},
    {NULL, "migrate", tocsinctl_migrate, "apply pending schema migrations"},
    {NULL, "doctor", tocsinctl_doctor, "check a running installation and say what is wrong"},
    {"backup", "status", tocsinctl_backup_status, "age of the last full backup and of the last archived WAL"},
    {NULL, "metrics", tocsinctl_metrics, "queue age and unknown outcomes per sender, as Prometheus text"},
    {"org", "create", tocsinctl_org_create, "create an organisation (a chapter or the national body)"},
    {"org", "set", tocsinctl_org_set, "change an organisation's settings"},
    {"user", "add", tocsinctl_user_add, "add a user (admin, lead or volunteer)"},
    {"user", "disable", tocsinctl_user_disable, "disable a user: her sessions and streams end"},
    {"user", "enable", tocsinctl_user_enable, "enable a disabled user again"},
    {"user", "revoke-sessions", tocsinctl_user_revoke_sessions, "end every session of a user"},
    {"sender", "add", tocsinctl_sender_add, "add a sending number or short code"},
    {"sender", "limit", tocsinctl_sender_limit, "set a carrier account's own rate limit"},
    {"sender", "show", tocsinctl_sender_show, "show a sender and who answers STOP for it"},
    {"sender", "opt-out", tocsinctl_sender_opt_out, "set who answers STOP: carrier, program, default"},
    {"keyword", "add", tocsinctl_keyword_add, "add an opt-in keyword with its confirmation"},
    {"contacts", "import", tocsinctl_contacts_import, "import contacts from a CSV file"},
    {NULL, "demo-seed", tocsinctl_demo_seed, "create the demo org, logins, short code and keywords"},
    {NULL, "segments", tocsinctl_segments, "count the SMS segments of a text"},
    {NULL, "phone", tocsinctl_phone, "normalise and describe a phone number"},
    {"zones", "refresh", tocsinctl_zones_refresh, "rewrite the quiet-hours zones of area codes"},
    {NULL, "blast", tocsinctl_blast, "create, schedule, pause, resume, cancel, list blasts"},
    {"messages", "requeue", tocsinctl_messages_requeue, "requeue messages whose fate is unknown"},
    {NULL, "outreach", tocsinctl_outreach, "create peer-to-peer outreach campaigns, show their progress"},
};

static void usage(FILE *f)
{
    fprintf(f, "Usage: tocsinctl [--database-url URL] VERB [ARGS...]\n\n"
               "Operator's command line for Tocsin. Every verb answers --help.\n\nVerbs:\n");
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s%s%s", verbs[i].group ? verbs[i].group : "",
                 verbs[i].group ? " " : "", verbs[i].name);
        fprintf(f, "  %-18s %s\n", name, verbs[i].summary);
    }
    fprintf(f, "\nThe database is --database-url or TOCSIN_DATABASE_URL.\n"
               "Exit status: 0 success, 1 failure, 2 usage error.\n\n");
    tocsin_config_print_help(f);
}

PGconn *tocsinctl_connect(struct tocsinctl *ctl)
{
    char err[512];
    PGconn *conn = tocsin_dbsync_connect(ctl->database_url, err, sizeof err);
    if (!conn) {
        fprintf(stderr, "tocsinctl: %s\n", err);
        return NULL;
    }
    PQclear(PQexec(conn, "SET client_min_messages = warning"));
    return conn;
}

PGresult *tocsinctl_exec(PGconn *conn, const char *verb, const char *sql, int nparams,
                         const char *const *params)
{
    char err[512];
    PGresult *res = tocsin_dbsync_exec(conn, sql, nparams, params, err, sizeof err);
    if (!res)
        fprintf(stderr, "tocsinctl %s: %s\n", verb, err);
    return res;
}

int tocsinctl_find_org(PGconn *conn, const char *slug, long long *org_id)
{
    const char *params[] = {slug};
    PGresult *res = tocsinctl_exec(conn, "org", "SELECT id FROM orgs WHERE slug = $1", 1, params);
    if (!res)
        return -1;
    if (PQntuples(res) != 1) {
        fprintf(stderr, "tocsinctl: org \"%s\" does not exist\n", slug);
        PQclear(res);
        return -1;
    }
    *org_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return 0;
}

int tocsinctl_for_org(struct tocsinctl *ctl, const char *verb, const char *org, tocsinctl_org_fn fn,
                      void *arg, const char *done)
{
    PGconn *conn = tocsinctl_connect(ctl);
    if (!conn)
        return TOCSINCTL_FAIL;
    long long org_id;
    int rc = TOCSINCTL_FAIL;
    char err[512];
    if (tocsinctl_find_org(conn, org, &org_id) == 0) {
        if (fn(conn, org_id, arg, err, sizeof err))
            fprintf(stderr, "tocsinctl %s: %s\n", verb, err);
        else {
            printf("%s\n", done);
            rc = TOCSINCTL_OK;
        }
    }
    PQfinish(conn);
    return rc;
}

int main(int argc, char **argv)
{
    struct tocsinctl ctl;
    memset(&ctl, 0, sizeof ctl);
    int i = 1;
    const char *url = NULL;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("tocsinctl 0.1.0\n");
            return 0;
        }
        if (strcmp(argv[i], "--database-url") == 0 && i + 1 < argc) {
            url = argv[++i];
            continue;
        }
        fprintf(stderr, "tocsinctl: unknown option \"%s\" (see --help)\n", argv[i]);
        return 2;
    }
    if (i == argc) {
        usage(stderr);
        return 2;
    }
    char err[256];
    if (tocsin_config_load(&ctl.cfg, err, sizeof err)) {
        fprintf(stderr, "tocsinctl: %s\n", err);
        return 2;
    }
    tocsin_log_init("tocsinctl", ctl.cfg.log_level);
    if (tocsin_crypto_init()) {
        fprintf(stderr, "tocsinctl: could not initialise libsodium\n");
        return 1;
    }
    ctl.database_url = url ? url : ctl.cfg.database_url;
    for (size_t v = 0; v < sizeof verbs / sizeof verbs[0]; v++) {
        const struct verb *vb = &verbs[v];
        if (!vb->group && strcmp(argv[i], vb->name) == 0)
            return vb->fn(&ctl, argc - i, argv + i);
        if (vb->group && strcmp(argv[i], vb->group) == 0 && i + 1 < argc &&
            strcmp(argv[i + 1], vb->name) == 0)
            return vb->fn(&ctl, argc - i - 1, argv + i + 1);
    }
    fprintf(stderr, "tocsinctl: unknown verb \"%s%s%s\" (see --help)\n", argv[i],
            i + 1 < argc ? " " : "", i + 1 < argc ? argv[i + 1] : "");
    return 2;
}
