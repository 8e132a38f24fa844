/* SPDX-License-Identifier: AGPL-3.0-or-later
 * sender.c — `tocsinctl sender add`: a number or short code that sends
 * through a carrier account. The carrier secret is sealed with
 * TOCSIN_SECRET_KEY before it reaches the database. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "crypto.h"
#include "dbsync.h"
#include "records.h"
#include "sender_check.h"
#include "tocsinctl.h"

int ctl_insert_sender(PGconn *conn, const struct tocsin_config *cfg, long long org_id,
                      const struct ctl_sender *s, char *err, size_t errlen)
{
    if (!cfg->has_secret_key) {
        snprintf(err, errlen,
                 "TOCSIN_SECRET_KEY is not set (nor TOCSIN_SECRET_KEY_FILE): carrier "
                 "credentials are stored encrypted with it (64 hex digits; ops/run makes one)");
        return -1;
    }
    const struct tocsin_sender_input in = {
        .address = s->address,
        .kind = s->kind,
        .provider = s->provider,
        .account_sid = s->account_sid,
        .secret = s->secret,
        .public_key = s->public_key,
        .base_url = s->base_url,
        .mps = s->mps,
    };
    struct tocsin_sender_checked ok;
    char region[3]; /* a number without +country: the org's, as the dashboard reads it */
    if (tocsinctl_org_region(cfg, conn, org_id, region) != 0) {
        snprintf(err, errlen, "could not read the org's phone region");
        return -1;
    }
    if (tocsin_sender_check(&in, region, cfg->allow_insecure_carrier_urls, &ok, err, errlen) != 0)
        return -1;
    const char *address = ok.address, *kind = ok.kind;
    /* The credential is sealed for the row's id, so the id is taken from
     * the sequence first and the row inserted with it. */
    char id[24], dberr[512];
    PGresult *res =
        tocsin_dbsync_exec(conn, "SELECT nextval(pg_get_serial_sequence('senders', 'id'))", 0, NULL,
                           dberr, sizeof dberr);
    if (!res) {
        snprintf(err, errlen, "%s", dberr);
        return -1;
    }
    snprintf(id, sizeof id, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    char sealed[1024];
    if (tocsin_credential_seal(cfg->secret_key, strtoll(id, NULL, 10), s->provider, s->secret,
                               strlen(s->secret), sealed, sizeof sealed)) {
        snprintf(err, errlen, "the carrier secret is too long");
        return -1;
    }
    char org[24];
    snprintf(org, sizeof org, "%lld", org_id);
    const char *params[] = {id,     org,           address, kind,       s->provider, s->account_sid,
                            sealed, s->public_key, s->mps,  s->base_url};
    return ctl_insert(conn,
                      "INSERT INTO senders (id, org_id, address, kind, provider, account_sid,"
                      " credentials_sealed, telnyx_public_key, messages_per_second, base_url)"
                      " OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                      10, params, "sender", address, err, errlen);
}

struct sender_args {
    const struct tocsin_config *cfg;
    const struct ctl_sender *s;
};

static int add_sender(PGconn *conn, long long org_id, void *arg, char *err, size_t errlen)
{
    struct sender_args *a = arg;
    return ctl_insert_sender(conn, a->cfg, org_id, a->s, err, errlen);
}

int tocsinctl_sender_add(struct tocsinctl *ctl, int argc, char **argv)
{
    const char *org = NULL, *token_env = NULL, *key_env = NULL;
    int token_stdin = 0;
    struct ctl_sender s = {0};
    const struct ctl_opt opts[] = {CTL_NEEDED("--org", org),
                                   CTL_NEEDED("--address", s.address),
                                   CTL_NEEDED("--provider", s.provider),
                                   CTL_VALUE("--kind", s.kind),
                                   CTL_NEEDED("--mps", s.mps),
                                   CTL_VALUE("--account-sid", s.account_sid),
                                   CTL_FLAG("--auth-token-stdin", token_stdin),
                                   CTL_VALUE("--auth-token-env", token_env),
                                   CTL_VALUE("--api-key-env", key_env),
                                   CTL_VALUE("--public-key", s.public_key),
                                   CTL_VALUE("--base-url", s.base_url),
                                   CTL_END};
    int go = ctl_begin(ctl, argc, argv, &(struct ctl_args){.opts = opts});
    if (go != CTL_GO)
        return go;
    if (token_stdin + (token_env != NULL) + (key_env != NULL) > 1) {
        fprintf(stderr, "tocsinctl sender add: give the carrier secret one way only: "
                        "--auth-token-stdin, --auth-token-env or --api-key-env\n");
        return TOCSINCTL_USAGE;
    }
    char secret[512] = "";
    if (token_stdin) {
        if (fgets(secret, sizeof secret, stdin))
            secret[strcspn(secret, "\r\n")] = '\0';
    } else if (token_env || key_env) {
        const char *var = token_env ? token_env : key_env;
        const char *v = getenv(var);
        if (!v || !*v) {
            fprintf(stderr, "tocsinctl sender add: environment variable \"%s\" is not set\n", var);
            return TOCSINCTL_FAIL;
        }
        if (strlen(v) >= sizeof secret) {
            fprintf(stderr, "tocsinctl sender add: the carrier secret in \"%s\" is too long\n",
                    var);
            return TOCSINCTL_FAIL;
        }
        snprintf(secret, sizeof secret, "%s", v);
    }
    s.secret = secret;
    struct sender_args a = {&ctl->cfg, &s};
    char done[300];
    snprintf(done, sizeof done, "added sender %s (%s) to org %s", s.address, s.provider, org);
    return tocsinctl_for_org(ctl, "sender add", org, add_sender, &a, done);
}
