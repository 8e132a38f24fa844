/* SPDX-License-Identifier: AGPL-3.0-or-later
 * demo_seed.c — `tocsinctl demo-seed`: the demo org with known logins, a
 * simulated Twilio short code whose SID and token are public (README), and
 * the JOIN and UNETE keywords. Runs in one transaction; a second run finds
 * the org and changes nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "dbsync.h"
#include "demo_seed.h"
#include "records.h"
#include "tocsinctl.h"

static const char *const demo_users[][3] = {
    {"admin@demo.test", "admin", "Ada Admin"},
    {"lead@demo.test", "lead", "Lee Lead"},
    {"vol1@demo.test", "volunteer", "Val Volunteer"},
    {"vol2@demo.test", "volunteer", "Vic Volunteer"},
};

static int seed(PGconn *conn, struct tocsinctl *ctl, const char *carrier_url, char *err,
                size_t errlen)
{
    const char *org_params[] = {
        "demo", DEMO_ORG_NAME,
        "Tocsin Demo Chapter alerts: up to 4 msgs/mo. Help: demo@example.org. "
        "Msg&data rates may apply. Reply STOP to cancel."};
    PGresult *res = tocsin_dbsync_exec(
        conn, "INSERT INTO orgs (slug, name, help_text) VALUES ($1, $2, $3) RETURNING id", 3,
        org_params, err, errlen);
    if (!res)
        return -1;
    long long org_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    for (size_t i = 0; i < sizeof demo_users / sizeof demo_users[0]; i++)
        if (ctl_insert_user(conn, org_id, demo_users[i][0], demo_users[i][1], demo_users[i][2],
                            DEMO_PASSWORD, err, errlen))
            return -1;
    struct ctl_sender s = {.address = DEMO_SHORT_CODE,
                           .kind = "short_code",
                           .provider = "twilio",
                           .account_sid = DEMO_ACCOUNT_SID,
                           .secret = DEMO_AUTH_TOKEN,
                           .base_url = carrier_url,
                           .mps = "10"};
    if (ctl_insert_sender(conn, &ctl->cfg, org_id, &s, err, errlen))
        return -1;
    struct ctl_keyword join = {
        .keyword = "JOIN",
        .list = "members",
        .reply = "Tocsin Demo Chapter: you're in! Up to 4 msgs/mo about actions near you. "
                 "Msg&data rates may apply. Reply HELP for help, STOP to cancel."};
    struct ctl_keyword unete = {
        .keyword = "UNETE",
        .list = "miembros",
        .reply = "Tocsin Demo Chapter: ¡bienvenida/o! Hasta 4 mensajes al mes. Pueden aplicarse "
                 "tarifas de mensajes y datos. Responde AYUDA para ayuda, ALTO para cancelar."};
    if (ctl_insert_keyword(conn, org_id, &join, err, errlen) ||
        ctl_insert_keyword(conn, org_id, &unete, err, errlen))
        return -1;
    return 0;
}

/* A demo seeded while the simulator listened elsewhere (ops/run with a
 * moved TOCSIN_SIM_PORT) points its short code at the simulator now. */
static int follow_carrier_url(PGconn *conn, const char *carrier_url)
{
    const char *params[] = {carrier_url, DEMO_SHORT_CODE};
    PGresult *res =
        tocsinctl_exec(conn, "demo-seed",
                       "UPDATE senders s SET base_url = $1 FROM orgs o WHERE o.id = s.org_id "
                       "AND o.slug = 'demo' AND s.address = $2 AND s.base_url IS DISTINCT FROM $1",
                       2, params);
    if (!res)
        return TOCSINCTL_FAIL;
    const char *n = PQcmdTuples(res);
    if (strcmp(n, "0") == 0)
        printf("demo org already seeded; nothing changed\n");
    else
        printf("demo org already seeded; short code " DEMO_SHORT_CODE " now sends through %s\n",
               carrier_url);
    PQclear(res);
    return TOCSINCTL_OK;
}

int tocsinctl_demo_seed(struct tocsinctl *ctl, int argc, char **argv)
{
    const char *carrier_url = NULL;
    const struct ctl_opt opts[] = {CTL_VALUE("--carrier-url", carrier_url), CTL_END};
    int go = ctl_begin(ctl, argc, argv, &(struct ctl_args){.opts = opts});
    if (go != CTL_GO)
        return go;
    if (carrier_url && (strlen(carrier_url) > 200 || (strncmp(carrier_url, "http://", 7) &&
                                                      strncmp(carrier_url, "https://", 8)))) {
        fprintf(stderr,
                "tocsinctl demo-seed: invalid --carrier-url \"%.200s\": an http:// or https:// URL "
                "of at most 200 characters\n",
                carrier_url);
        return TOCSINCTL_USAGE;
    }
    PGconn *conn = tocsinctl_db(ctl);
    if (!conn)
        return TOCSINCTL_FAIL;
    int rc = TOCSINCTL_FAIL;
    char err[512];
    const char *slug[] = {"demo"};
    PGresult *res =
        tocsinctl_exec(conn, "demo-seed", "SELECT 1 FROM orgs WHERE slug = $1", 1, slug);
    if (!res)
        goto out;
    int exists = PQntuples(res) > 0;
    PQclear(res);
    if (exists) {
        rc = carrier_url ? follow_carrier_url(conn, carrier_url) : TOCSINCTL_OK;
        if (rc == TOCSINCTL_OK && !carrier_url)
            printf("demo org already seeded; nothing changed\n");
        goto out;
    }
    if (tocsin_dbsync_command(conn, "BEGIN", err, sizeof err) ||
        seed(conn, ctl, carrier_url ? carrier_url : DEMO_CARRIER_URL, err, sizeof err)) {
        fprintf(stderr, "tocsinctl demo-seed: %s\n", err);
        tocsin_dbsync_command(conn, "ROLLBACK", err, sizeof err);
        goto out;
    }
    if (tocsin_dbsync_command(conn, "COMMIT", err, sizeof err)) {
        fprintf(stderr, "tocsinctl demo-seed: %s\n", err);
        goto out;
    }
    printf("seeded org demo: logins admin@demo.test lead@demo.test vol1@demo.test vol2@demo.test "
           "(password " DEMO_PASSWORD "), short code " DEMO_SHORT_CODE ", keywords JOIN UNETE\n");
    rc = TOCSINCTL_OK;
out:
    return rc;
}
