/* SPDX-License-Identifier: AGPL-3.0-or-later
 * api_senders.c — an admin's Senders screen: list, add, rate and account
 * limit, credentials replaced (never shown), disable and enable, a test
 * message, and the webhook URLs to paste into the carrier's console. The
 * fields are checked by lib/sender_check.c (as tocsinctl sender add checks
 * them); the carrier secret is sealed here with the public half of the
 * workers' key pair (sealing_key, schema 027; lib/crypto.h, format v3),
 * since the dashboard never holds TOCSIN_SECRET_KEY: it can seal, never
 * open. Saving and auditing is schema/functions/senders.sql. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto.h"
#include "dashboard.h"
#include "phone.h"
#include "sender_check.h"
#include "webhook_paths.h"

#define TEST_MESSAGE "Tocsin test message: this sender can text. No reply needed."

static const char add_sql[] =
    "SELECT * FROM tocsin_sender_add($1::bigint, $2::bigint, $4::bigint, $5, $6, $7, $8, $9, $10, "
    "$11, $12, $13)";
static const char credentials_sql[] =
    "SELECT * FROM tocsin_sender_credentials_replace($1::bigint, $2::bigint, $4::bigint, $5, $6, "
    "$7)";

/* A body field, with "" read as absent (an empty form field). */
static const char *field(struct api_call *call, const char *name)
{
    const char *v = api_body_text(call, name);
    return v && *v ? v : NULL;
}

/* Overwrites the arena's copy of the secret once it is sealed (the parsed
 * body is freed by the pipeline; the arena lives until the response). */
static void forget(const char *secret)
{
    if (secret)
        sodium_memzero((char *)secret, strlen(secret));
}

void api_senders_list(struct api_call *call)
{
    const char *base = call->dash->d->cfg.public_url;
    char inbound[600], status[600], telnyx[600];
    snprintf(inbound, sizeof inbound, "%s%s", base, TOCSIN_PATH_TWILIO_INBOUND);
    snprintf(status, sizeof status, "%s%s", base, TOCSIN_PATH_TWILIO_STATUS);
    snprintf(telnyx, sizeof telnyx, "%s%s", base, TOCSIN_PATH_TELNYX_WEBHOOK);
    if (api_add_param(call, inbound) || api_add_param(call, status) ||
        api_add_param(call, telnyx)) {
        tocsin_http_error(call->req, 500, "internal", "too many parameters");
        return;
    }
    api_run_sql(call, "SELECT * FROM tocsin_senders_admin($1::bigint, $4, $5, $6)");
}

/* What a seal needs once the database has answered. */
struct seal_job {
    struct api_call *call;
    const char *secret;
    const char *rest[4]; /* parameters that follow the sealed one */
    int nrest;
};

/* The published public key from a bytea column ("\x" + 64 hex digits).
 * Returns 0, or -1 after answering 409 (not published yet). */
static int public_key_of(struct api_call *call, const PGresult *res, int col,
                         unsigned char pk[TOCSIN_SEALING_KEY_BYTES])
{
    const char *hex = PQgetisnull(res, 0, col) ? "" : PQgetvalue(res, 0, col);
    size_t got = 0;
    if (strncmp(hex, "\\x", 2) != 0 ||
        sodium_hex2bin(pk, TOCSIN_SEALING_KEY_BYTES, hex + 2, strlen(hex + 2), NULL, &got, NULL) !=
            0 ||
        got != TOCSIN_SEALING_KEY_BYTES) {
        tocsin_http_error(call->req, 409, "no_sealing_key",
                          "carrier credentials cannot be sealed yet: start the worker once so it "
                          "publishes its sealing key (or run tocsinctl migrate with the key)");
        return -1;
    }
    return 0;
}

/* Seals the job's secret for (id, provider) into the next parameter.
 * Returns 0, or -1 after answering. */
static int seal_into_params(struct seal_job *job, const unsigned char *pk, const char *id,
                            const char *provider)
{
    char sealed[1400];
    int rc = tocsin_credential_seal_public(pk, strtoll(id, NULL, 10), provider, job->secret,
                                           strlen(job->secret), sealed, sizeof sealed);
    forget(job->secret);
    if (rc != 0) {
        tocsin_http_error(job->call->req, 500, "internal",
                          "the carrier secret could not be sealed");
        return -1;
    }
    if (api_add_param(job->call, sealed) != 0) {
        tocsin_http_error(job->call->req, 500, "internal", "too many parameters");
        return -1;
    }
    return 0;
}

static void add_key_found(const struct tocsin_db_result *r, void *ctx)
{
    struct seal_job *job = ctx;
    struct api_call *call = job->call;
    unsigned char pk[TOCSIN_SEALING_KEY_BYTES];
    if (r->error) {
        forget(job->secret);
        api_db_error(call, "sender add", r->error);
        return;
    }
    if (public_key_of(call, r->res, 0, pk) != 0) {
        forget(job->secret);
        return;
    }
    /* $4 id, $5 address, $6 kind, $7 provider, $8 account SID were added
     * before the query; then $9 sealed, $10.. the rest. */
    const char *id = PQgetvalue(r->res, 0, 1);
    call->params[3] = tocsin_arena_strndup(tocsin_http_arena(call->req), id, strlen(id));
    if (!call->params[3]) {
        forget(job->secret);
        tocsin_http_error(call->req, 500, "internal", "out of memory");
        return;
    }
    if (seal_into_params(job, pk, id, call->params[6]) != 0)
        return;
    for (int i = 0; i < job->nrest; i++)
        if (api_add_param(call, job->rest[i]) != 0) {
            tocsin_http_error(call->req, 500, "internal", "too many parameters");
            return;
        }
    api_run_sql(call, add_sql);
}

/* POST /api/senders: every field checked as the CLI checks it, then the
 * row's id taken and the secret sealed for it, then one function inserts
 * and audits. */
void api_sender_add(struct api_call *call)
{
    const struct dashboard *dash = call->dash;
    struct tocsin_sender_input in = {
        .address = field(call, "address"),
        .kind = field(call, "kind"),
        .provider = field(call, "provider"),
        .account_sid = field(call, "account_sid"),
        .secret = field(call, "secret"),
        .public_key = field(call, "telnyx_public_key"),
        .base_url = field(call, "base_url"),
        .mps = field(call, "messages_per_second"),
    };
    const char *limit = field(call, "account_limit");
    struct tocsin_sender_checked ok;
    char err[400];
    double rate;
    if (tocsin_sender_check(&in, api_import_region(call), dash->d->cfg.allow_insecure_carrier_urls,
                            &ok, err, sizeof err) != 0 ||
        (limit && tocsin_sender_account_limit_check(limit, &rate, err, sizeof err) != 0)) {
        forget(in.secret);
        tocsin_http_error(call->req, 400, "invalid", "%s", err);
        return;
    }
    if (strcmp(in.provider, "telnyx") == 0 && !in.public_key) {
        forget(in.secret);
        tocsin_http_error(call->req, 400, "invalid",
                          "a telnyx sender needs its public key (Telnyx portal, Keys & "
                          "Credentials, Public Key): the gateway checks every webhook with it");
        return;
    }
    if (strcmp(in.provider, "twilio") == 0 && in.public_key) {
        forget(in.secret);
        tocsin_http_error(call->req, 400, "invalid",
                          "a public key is Telnyx's: a twilio sender has none");
        return;
    }
    /* $4 (the id, set when known), $5 address, $6 kind, $7 provider, $8
     * account SID; once sealed, $9 sealed, $10 public key, $11 rate, $12
     * base URL, $13 account limit. */
    struct seal_job *job = tocsin_arena_alloc(tocsin_http_arena(call->req), sizeof *job);
    if (!job || api_add_param(call, "0") || api_add_param(call, ok.address) ||
        api_add_param(call, ok.kind) || api_add_param(call, in.provider) ||
        api_add_param(call, in.account_sid)) {
        forget(in.secret);
        tocsin_http_error(call->req, 500, "internal", "out of memory");
        return;
    }
    job->call = call;
    job->secret = in.secret;
    job->rest[0] = in.public_key;
    job->rest[1] = in.mps;
    job->rest[2] = in.base_url;
    job->rest[3] = limit;
    job->nrest = 4;
    if (tocsin_db_query(dash->d->db,
                        "SELECT (SELECT public_key FROM sealing_key),"
                        " nextval(pg_get_serial_sequence('senders', 'id'))",
                        0, NULL, add_key_found, job) != 0) {
        forget(in.secret);
        tocsin_http_error(call->req, 503, "unavailable", "the dashboard is shutting down");
    }
}

static void credentials_sender_found(const struct tocsin_db_result *r, void *ctx)
{
    struct seal_job *job = ctx;
    struct api_call *call = job->call;
    unsigned char pk[TOCSIN_SEALING_KEY_BYTES];
    if (r->error) {
        forget(job->secret);
        api_db_error(call, "sender credentials", r->error);
        return;
    }
    if (PQntuples(r->res) != 1) { /* another org's sender, or none */
        forget(job->secret);
        tocsin_http_error(call->req, 404, "not_found", "no such sender");
        return;
    }
    const char *provider = PQgetvalue(r->res, 0, 0);
    const char *public_key = job->rest[0];
    if (public_key && strcmp(provider, "telnyx") != 0) {
        forget(job->secret);
        tocsin_http_error(call->req, 400, "invalid",
                          "a public key is Telnyx's: a twilio sender has none");
        return;
    }
    if (public_key_of(call, r->res, 1, pk) != 0) {
        forget(job->secret);
        return;
    }
    /* $4 the sender (path), $5 provider, $6 sealed, $7 public key. */
    if (api_add_param(call, provider) != 0) {
        forget(job->secret);
        tocsin_http_error(call->req, 500, "internal", "too many parameters");
        return;
    }
    if (seal_into_params(job, pk, call->params[3], provider) != 0)
        return;
    if (api_add_param(call, public_key) != 0) {
        tocsin_http_error(call->req, 500, "internal", "too many parameters");
        return;
    }
    api_run_sql(call, credentials_sql);
}

/* POST /api/senders/:id/credentials: a new secret (and, for Telnyx,
 * optionally a new public key), sealed for the row. The old one is
 * overwritten, never shown. */
void api_sender_credentials(struct api_call *call)
{
    const char *secret = field(call, "secret");
    const char *public_key = field(call, "telnyx_public_key");
    char err[300];
    if (tocsin_sender_secret_check(secret, err, sizeof err) != 0 ||
        (public_key && tocsin_sender_public_key_check(public_key, err, sizeof err) != 0)) {
        forget(secret);
        tocsin_http_error(call->req, 400, "invalid", "%s", err);
        return;
    }
    struct seal_job *job = tocsin_arena_alloc(tocsin_http_arena(call->req), sizeof *job);
    if (!job) {
        forget(secret);
        tocsin_http_error(call->req, 500, "internal", "out of memory");
        return;
    }
    job->call = call;
    job->secret = secret;
    job->rest[0] = public_key;
    job->nrest = 0;
    const char *params[] = {call->org_id, call->params[3]};
    if (tocsin_db_query(call->dash->d->db,
                        "SELECT s.provider, (SELECT public_key FROM sealing_key) FROM senders s"
                        " WHERE s.org_id = $1::bigint AND s.id = $2::bigint",
                        2, params, credentials_sender_found, job) != 0) {
        forget(secret);
        tocsin_http_error(call->req, 503, "unavailable", "the dashboard is shutting down");
    }
}

/* POST /api/senders/:id: the rate and the account limit (either may be
 * left out). */
void api_sender_update(struct api_call *call)
{
    const char *mps = field(call, "messages_per_second");
    const char *limit = field(call, "account_limit");
    char err[300];
    double rate;
    if ((mps && tocsin_sender_rate_check(mps, err, sizeof err) != 0) ||
        (limit && tocsin_sender_account_limit_check(limit, &rate, err, sizeof err) != 0)) {
        tocsin_http_error(call->req, 400, "invalid", "%s", err);
        return;
    }
    if (!mps && !limit) {
        tocsin_http_error(call->req, 400, "invalid",
                          "nothing to change: give messages_per_second or account_limit");
        return;
    }
    if (api_add_param(call, mps) || api_add_param(call, limit)) {
        tocsin_http_error(call->req, 500, "internal", "too many parameters");
        return;
    }
    api_run_sql(call,
                "SELECT * FROM tocsin_sender_update($1::bigint, $2::bigint, $4::bigint, $5, $6)");
}

/* POST /api/senders/:id/test: a test message to the number typed, queued
 * for the worker like any other (the opt-out list is checked here and again
 * when it is sent). The screen then polls its state. */
void api_sender_test(struct api_call *call)
{
    const char *phone = field(call, "phone");
    struct tocsin_phone p;
    char err[300];
    if (!phone) {
        tocsin_http_error(call->req, 400, "invalid", "type the number to text");
        return;
    }
    if (tocsin_phone_parse(phone, strlen(phone), api_import_region(call), &p, err, sizeof err) !=
        0) {
        tocsin_http_error(call->req, 400, "invalid", "%s", err);
        return;
    }
    /* $4 the sender, $5 the number, $6 the text, $7 encoding, $8 segments. */
    if (api_add_param(call, p.e164) || api_add_param(call, TEST_MESSAGE)) {
        tocsin_http_error(call->req, 500, "internal", "too many parameters");
        return;
    }
    if (api_add_message_body(call, TEST_MESSAGE) != 0)
        return;
    api_run_sql(call, "SELECT * FROM tocsin_sender_test($1::bigint, $2::bigint, $4::bigint, $5, $6,"
                      " $7, $8::int)");
}
