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
#include "phone.h"
#include "records.h"
#include "tocsinctl.h"

static int is_short_code(const char *s)
{
    size_t n = strlen(s);
    if (n < 5 || n > 6)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

/* Twilio account SIDs: AC and 32 lower-case hex digits. */
static int account_sid_valid(const char *sid)
{
    if (strlen(sid) != 34 || sid[0] != 'A' || sid[1] != 'C')
        return 0;
    for (size_t i = 2; i < 34; i++)
        if (!((sid[i] >= '0' && sid[i] <= '9') || (sid[i] >= 'a' && sid[i] <= 'f')))
            return 0;
    return 1;
}

int ctl_insert_sender(PGconn *conn, const struct tocsin_config *cfg, long long org_id,
                      const struct ctl_sender *s, char *err, size_t errlen)
{
    if (!cfg->has_secret_key) {
        snprintf(err, errlen,
                 "TOCSIN_SECRET_KEY is not set (nor TOCSIN_SECRET_KEY_FILE): carrier "
                 "credentials are stored encrypted with it (64 hex digits; ops/run makes one)");
        return -1;
    }
    if (strcmp(s->provider, "twilio") && strcmp(s->provider, "telnyx")) {
        snprintf(err, errlen, "invalid provider \"%s\": must be twilio or telnyx", s->provider);
        return -1;
    }
    char address[TOCSIN_E164_MAX + 1];
    const char *kind = s->kind;
    if (is_short_code(s->address)) {
        snprintf(address, sizeof address, "%s", s->address);
        if (!kind)
            kind = "short_code";
    } else {
        struct tocsin_phone p;
        if (tocsin_phone_parse(s->address, strlen(s->address), cfg->default_region, &p, err,
                               errlen))
            return -1;
        snprintf(address, sizeof address, "%s", p.e164);
        if (!kind)
            kind = p.type == TOCSIN_PHONE_TOLL_FREE ? "toll_free" : "long_code";
    }
    char *end;
    double mps = s->mps ? strtod(s->mps, &end) : 0;
    if (!s->mps || *end || mps <= 0 || mps > 10000) {
        snprintf(err, errlen,
                 "invalid --mps \"%s\": must be a number of messages per second above 0",
                 s->mps ? s->mps : "");
        return -1;
    }
    if (!strcmp(s->provider, "twilio") && !s->account_sid) {
        snprintf(err, errlen, "a twilio sender needs --account-sid");
        return -1;
    }
    if (s->account_sid && !account_sid_valid(s->account_sid)) {
        snprintf(err, errlen, "invalid account SID \"%s\": must be AC and 32 lower-case hex digits",
                 s->account_sid);
        return -1;
    }
    unsigned char key[64];
    if (s->public_key &&
        tocsin_base64_decode(s->public_key, strlen(s->public_key), key, sizeof key) != 32) {
        snprintf(err, errlen,
                 "invalid public key \"%s\": must be the base64 of a 32-byte Ed25519 key",
                 s->public_key);
        return -1;
    }
    if (s->base_url && strncmp(s->base_url, "http://", 7) && strncmp(s->base_url, "https://", 8)) {
        snprintf(err, errlen, "invalid base URL \"%s\": must start with http:// or https://",
                 s->base_url);
        return -1;
    }
    if (s->base_url && strncmp(s->base_url, "http://", 7) == 0 &&
        !cfg->allow_insecure_carrier_urls) {
        snprintf(err, errlen,
                 "insecure base URL \"%s\": carrier credentials travel only over https://, unless "
                 "TOCSIN_ALLOW_INSECURE_CARRIER_URLS=1 (the carrier simulator, tests)",
                 s->base_url);
        return -1;
    }
    if (!s->secret || !*s->secret) {
        snprintf(err, errlen, "missing the carrier secret (Twilio auth token or Telnyx API key)");
        return -1;
    }
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
    const struct ctl_opt opts[] = {{"--org", &org, NULL},
                                   {"--address", &s.address, NULL},
                                   {"--provider", &s.provider, NULL},
                                   {"--kind", &s.kind, NULL},
                                   {"--mps", &s.mps, NULL},
                                   {"--account-sid", &s.account_sid, NULL},
                                   {"--auth-token-stdin", NULL, &token_stdin},
                                   {"--auth-token-env", &token_env, NULL},
                                   {"--api-key-env", &key_env, NULL},
                                   {"--public-key", &s.public_key, NULL},
                                   {"--base-url", &s.base_url, NULL},
                                   {NULL, NULL, NULL}};
    int np = ctl_parse("sender add", argc, argv, opts, NULL, 0);
    if (np == -2)
        return TOCSINCTL_OK;
    if (np < 0 || ctl_require("sender add", "--org", org) ||
        ctl_require("sender add", "--address", s.address) ||
        ctl_require("sender add", "--provider", s.provider) ||
        ctl_require("sender add", "--mps", s.mps))
        return TOCSINCTL_USAGE;
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
