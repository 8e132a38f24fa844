/* SPDX-License-Identifier: AGPL-3.0-or-later
 * blast.c — `tocsinctl blast create|schedule|pause|resume|cancel|status|
 * list`: thin calls of the lead's SQL functions (schema/functions/blasts.sql),
 * which validate, change state and write the audit event (user NULL: the
 * CLI). Exit 2 for usage and for input the database rejects as invalid
 * (SQLSTATE class 22: body, filter, timestamp); 1 when the action is not
 * possible (no such blast, wrong state) or the database fails. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "args.h"
#include "dbsync.h"
#include "tocsinctl.h"

/* Runs sql; on error prints `tocsinctl blast VERB: MESSAGE` and sets *rc
 * to 2 for invalid input (SQLSTATE 22...), else 1. Returns the result or
 * NULL. */
static PGresult *blast_exec(PGconn *conn, const char *verb, const char *sql, int n,
                            const char *const *params, int *rc)
{
    char err[1024];
    PGresult *res = tocsin_dbsync_exec(conn, sql, n, params, err, sizeof err);
    if (!res) {
        fprintf(stderr, "tocsinctl blast %s: %s\n", verb, err);
        *rc =
            strncmp(tocsin_dbsync_last_sqlstate(), "22", 2) == 0 ? TOCSINCTL_USAGE : TOCSINCTL_FAIL;
    }
    return res;
}

/* tocsinctl.h: ctl_begin, the id's form, then the connection if asked. */
int tocsinctl_blast_begin(struct tocsinctl *ctl, int argc, char **argv, const struct ctl_opt *opts,
                          const char **id, PGconn **conn)
{
    const char *pos[1];
    int go =
        ctl_begin(ctl, argc, argv,
                  &(struct ctl_args){
                      .opts = opts, .pos = pos, .maxpos = 1, .pos_missing = "missing blast ID"});
    if (go != CTL_GO)
        return go;
    if (!ctl_valid_id(pos[0])) {
        fprintf(stderr, "tocsinctl %s: invalid blast id \"%s\": must be a positive integer\n",
                ctl->name, pos[0]);
        return TOCSINCTL_USAGE;
    }
    *id = pos[0];
    if (conn && !(*conn = ctl_connect(ctl, NULL, NULL)))
        return TOCSINCTL_FAIL;
    return CTL_GO;
}

/* Looks up the id of sender address or list name in org; prints and
 * returns -1 when there is none. */
static int lookup(PGconn *conn, const char *verb, const char *sql, const char *org, const char *key,
                  const char *what, char id[24], int *rc)
{
    const char *params[] = {org, key};
    PGresult *res = blast_exec(conn, verb, sql, 2, params, rc);
    if (!res)
        return -1;
    int found = PQntuples(res) == 1;
    if (found)
        snprintf(id, 24, "%s", PQgetvalue(res, 0, 0));
    else {
        fprintf(stderr, "tocsinctl blast %s: %s \"%s\" does not exist in this org\n", verb, what,
                key);
        *rc = TOCSINCTL_FAIL;
    }
    PQclear(res);
    return found ? 0 : -1;
}

int tocsinctl_blast_create(struct tocsinctl *ctl, int argc, char **argv)
{
    const char *org = NULL, *sender = NULL, *list = NULL, *body = NULL, *filter = NULL;
    const struct ctl_opt opts[] = {CTL_NEEDED("--org", org),      CTL_NEEDED("--sender", sender),
                                   CTL_NEEDED("--list", list),    CTL_NEEDED("--body", body),
                                   CTL_VALUE("--filter", filter), CTL_END};
    int go = ctl_begin(ctl, argc, argv, &(struct ctl_args){.opts = opts});
    if (go != CTL_GO)
        return go;
    if (filter) {
        json_error_t jerr;
        json_t *j = json_loads(filter, 0, &jerr);
        int object = j && json_is_object(j);
        json_decref(j);
        if (!object) {
            fprintf(stderr, "tocsinctl blast create: invalid filter \"%s\": %s\n", filter,
                    j ? "must be a JSON object" : jerr.text);
            return TOCSINCTL_USAGE;
        }
    }
    long long org_id;
    PGconn *conn = ctl_connect(ctl, org, &org_id);
    if (!conn)
        return TOCSINCTL_FAIL;
    int rc = TOCSINCTL_FAIL;
    char org_s[24], sender_id[24], list_id[24];
    snprintf(org_s, sizeof org_s, "%lld", org_id);
    if (lookup(conn, "create", "SELECT id FROM senders WHERE org_id = $1 AND address = $2", org_s,
               sender, "sender", sender_id, &rc) ||
        lookup(conn, "create", "SELECT id FROM lists WHERE org_id = $1 AND name = $2", org_s, list,
               "list", list_id, &rc))
        goto out;
    const char *params[] = {org_s, sender_id, list_id, body, filter ? filter : "{}"};
    PGresult *res =
        blast_exec(conn, "create", "SELECT tocsin_blast_create($1, NULL, $2, $3, $4, $5::jsonb)", 5,
                   params, &rc);
    if (res) {
        printf("created blast %s (draft)\n", PQgetvalue(res, 0, 0));
        rc = TOCSINCTL_OK;
        PQclear(res);
    }
out:
    return rc;
}

int tocsinctl_blast_schedule(struct tocsinctl *ctl, int argc, char **argv)
{
    const char *at = NULL, *id = NULL;
    const struct ctl_opt opts[] = {CTL_VALUE("--at", at), CTL_END};
    int go = tocsinctl_blast_begin(ctl, argc, argv, opts, &id, NULL);
    if (go != CTL_GO)
        return go;
    if (ctl_require("blast schedule", "--at", at))
        return TOCSINCTL_USAGE;
    PGconn *conn = tocsinctl_db(ctl);
    if (!conn)
        return TOCSINCTL_FAIL;
    int rc = TOCSINCTL_FAIL;
    const char *params[] = {id, strcmp(at, "now") == 0 ? NULL : at};
    PGresult *res =
        blast_exec(conn, "schedule",
                   "SELECT tocsin_blast_schedule(NULL, $1, NULL, $2::timestamptz)", 2, params, &rc);
    if (res) {
        printf("scheduled blast %s at %s\n", id, PQgetvalue(res, 0, 0));
        rc = TOCSINCTL_OK;
        PQclear(res);
    }
    return rc;
}

/* pause, resume, cancel: one function call on one blast. */
static int blast_action(struct tocsinctl *ctl, int argc, char **argv, const char *verb,
                        const char *sql, const char *done_verb)
{
    const char *id = NULL;
    const struct ctl_opt opts[] = {CTL_END};
    PGconn *conn;
    int go = tocsinctl_blast_begin(ctl, argc, argv, opts, &id, &conn);
    if (go != CTL_GO)
        return go;
    int rc = TOCSINCTL_FAIL;
    const char *params[] = {id};
    PGresult *res = blast_exec(conn, verb, sql, 1, params, &rc);
    if (res) {
        if (strcmp(verb, "cancel") == 0)
            printf("cancelled blast %s: %s queued messages cancelled\n", id, PQgetvalue(res, 0, 0));
        else
            printf("%s blast %s\n", done_verb, id);
        rc = TOCSINCTL_OK;
        PQclear(res);
    }
    return rc;
}

static long long jint(json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

static void print_status(json_t *s)
{
    printf("blast %lld: %s\n", jint(s, "id"), json_string_value(json_object_get(s, "state")));
    printf("  recipients   %lld\n", jint(s, "recipients"));
    printf("  progress     %.1f%%\n", 100.0 * json_number_value(json_object_get(s, "progress")));
    printf("  rate         %lld messages in the last minute\n", jint(s, "per_minute"));
    static const char *const keys[] = {"queued",      "sending",  "sent",    "delivered",
                                       "undelivered", "failed",   "unknown", "suppressed",
                                       "cancelled",   "opted_out"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        printf("  %-12s %lld\n", keys[i], jint(s, keys[i]));
    if (jint(s, "unfed") > 0)
        printf(
            "  not fed      %lld of the queued are not messages yet (fed just ahead of the sender)\n",
            jint(s, "unfed"));
    const char *at = json_string_value(json_object_get(s, "scheduled_at"));
    if (at)
        printf("  scheduled    %s\n", at);
}

int tocsinctl_blast_status(struct tocsinctl *ctl, int argc, char **argv)
{
    const char *id = NULL;
    int as_json = 0;
    const struct ctl_opt opts[] = {CTL_FLAG("--json", as_json), CTL_END};
    PGconn *conn;
    int go = tocsinctl_blast_begin(ctl, argc, argv, opts, &id, &conn);
    if (go != CTL_GO)
        return go;
    int rc = TOCSINCTL_FAIL;
    const char *params[] = {id};
    PGresult *res =
        blast_exec(conn, "status", "SELECT tocsin_blast_status(NULL, $1)", 1, params, &rc);
    if (res && PQgetisnull(res, 0, 0))
        fprintf(stderr, "tocsinctl blast status: blast %s does not exist\n", id);
    else if (res && as_json) {
        printf("%s\n", PQgetvalue(res, 0, 0));
        rc = TOCSINCTL_OK;
    } else if (res) {
        json_t *s = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
        if (s) {
            print_status(s);
            rc = TOCSINCTL_OK;
        }
        json_decref(s);
    }
    PQclear(res);
    return rc;
}

int tocsinctl_blast_list(struct tocsinctl *ctl, int argc, char **argv)
{
    const char *org = NULL, *state = NULL;
    const struct ctl_opt opts[] = {CTL_VALUE("--org", org), CTL_VALUE("--state", state), CTL_END};
    PGconn *conn;
    int go = ctl_begin(ctl, argc, argv, &(struct ctl_args){.opts = opts, .conn = &conn});
    if (go != CTL_GO)
        return go;
    int rc = TOCSINCTL_FAIL;
    const char *params[] = {org, state};
    PGresult *res = blast_exec(
        conn, "list",
        "SELECT b.id, o.slug, b.state, s->>'recipients', s->>'queued',"
        "       (s->>'sent')::int + (s->>'delivered')::int + (s->>'undelivered')::int,"
        "       coalesce(to_char(b.scheduled_at, 'YYYY-MM-DD HH24:MI TZ'), '-'), left(b.body, 40)"
        "  FROM blasts b JOIN orgs o ON o.id = b.org_id, tocsin_blast_status(NULL, b.id) s"
        " WHERE ($1::text IS NULL OR o.slug = $1) AND ($2::text IS NULL OR b.state = $2)"
        " ORDER BY b.id DESC LIMIT 1000",
        2, params, &rc);
    if (res) {
        printf("%-8s %-16s %-10s %10s %10s %10s  %-22s %s\n", "id", "org", "state", "recipients",
               "queued", "sent", "scheduled", "body");
        for (int i = 0; i < PQntuples(res); i++)
            printf("%-8s %-16s %-10s %10s %10s %10s  %-22s %s\n", PQgetvalue(res, i, 0),
                   PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), PQgetvalue(res, i, 3),
                   PQgetvalue(res, i, 4), PQgetvalue(res, i, 5), PQgetvalue(res, i, 6),
                   PQgetvalue(res, i, 7));
        rc = TOCSINCTL_OK;
        PQclear(res);
    }
    return rc;
}

int tocsinctl_blast_pause(struct tocsinctl *ctl, int argc, char **argv)
{
    return blast_action(ctl, argc, argv, "pause", "SELECT tocsin_blast_pause(NULL, $1, NULL)",
                        "paused");
}

int tocsinctl_blast_resume(struct tocsinctl *ctl, int argc, char **argv)
{
    return blast_action(ctl, argc, argv, "resume", "SELECT tocsin_blast_resume(NULL, $1, NULL)",
                        "resumed");
}

int tocsinctl_blast_cancel(struct tocsinctl *ctl, int argc, char **argv)
{
    return blast_action(ctl, argc, argv, "cancel", "SELECT tocsin_blast_cancel(NULL, $1, NULL)",
                        "cancelled");
}
