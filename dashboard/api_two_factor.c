/* SPDX-License-Identifier: AGPL-3.0-or-later
 * api_two_factor.c — the second factor of a login (docs/accounts.md):
 * enrolling an authenticator app (a new secret, its otpauth:// URI and a
 * QR code drawn here with libqrencode, confirmed by a first code), the
 * login's second step (a TOTP code or a single-use recovery code), new
 * recovery codes (a code), and turning it off (password and a code). Codes are computed by
 * lib/totp.c; every code tried is counted per user in the code throttle (5, then one a minute:
 * main.c), and in the half-logged-in session (at most TF_SESSION_CODES, then the login starts
 * over). Whether a code was already used is decided in the statement that records its use
 * (api_two_factor_sql.h). Not here: the password step (api_auth.c) and the session list
 * (api_sessions.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <qrencode.h>
#include <sodium.h>

#include "api_two_factor_sql.h"
#include "crypto.h"
#include "dashboard.h"
#include "log.h"
#include "totp.h"

#define TF_SESSION_CODES 5 /* codes one half-logged-in session may try */
#define TF_WINDOW 1        /* steps either side of now a code may be for */
#define TF_URI_MAX 700
#define TF_STR_(x) #x
#define TF_STR(x) TF_STR_(x)

/* Whether the recovery code given ($3, its hash; NULL for a TOTP code)
 * is one of the user's unused ones: only a right factor clears the
 * throttle. The statement that spends it checks again. */
#define RECOVERY_OK                                                                                \
    "EXISTS (SELECT 1 FROM recovery_codes r WHERE r.user_id = $1::bigint"                          \
    "        AND r.code_hash = $3::bytea AND r.used_at IS NULL) AS recovery_ok"

enum tf_purpose { TF_LOGIN, TF_CONFIRM, TF_DISABLE, TF_RENEW };

struct factor {
    struct api_call *call;
    enum tf_purpose purpose;
    long code;              /* -1: a recovery code instead */
    char recovery_hash[67]; /* its SHA-256 as a bytea literal */
    char *password;         /* TF_DISABLE: in the request's arena */
    unsigned char secret[TOCSIN_TOTP_SECRET_LEN];
    int64_t last_step;
    int recovery_ok; /* the recovery code is one of hers, unused */
};

static void add_int(struct api_call *call, long long v)
{
    char s[24];
    snprintf(s, sizeof s, "%lld", v);
    api_add_param(call, s);
}

/* The lifetimes a session that becomes full gets: sliding, absolute. */
static void add_lifetimes(struct api_call *call)
{
    const struct tocsin_config *cfg = &call->dash->d->cfg;
    add_int(call, cfg->session_ttl_s);
    add_int(call, cfg->session_max_age_s);
}

/* Reads {"code": "123456"} or {"recovery_code": "abcd-efgh-..."} into f;
 * returns 0, or -1 after answering 400. */
static int read_proof(struct api_call *call, struct factor *f, int recovery_allowed)
{
    const char *code = api_body_text(call, "code");
    const char *rc = recovery_allowed ? api_body_text(call, "recovery_code") : NULL;
    char norm[TOCSIN_RECOVERY_CODE_LEN + 1];
    f->code = -1;
    if (code && *code) {
        f->code = tocsin_totp_parse(code);
        if (f->code >= 0)
            return 0;
    } else if (rc && *rc && tocsin_recovery_code_normalize(rc, norm) == 0) {
        api_token_hash_hex(norm, strlen(norm), f->recovery_hash);
        return 0;
    }
    tocsin_http_error(call->req, 400, "invalid",
                      recovery_allowed ? "type the 6-digit code from your authenticator app, or "
                                         "one of your recovery codes (16 letters and digits)"
                                       : "type the 6-digit code from your authenticator app");
    return -1;
}

static struct factor *factor_new(struct api_call *call, enum tf_purpose purpose)
{
    struct factor *f = tocsin_arena_alloc(tocsin_http_arena(call->req), sizeof *f);
    if (!f) {
        tocsin_http_error(call->req, 500, "internal", "out of memory");
        return NULL;
    }
    memset(f, 0, sizeof *f);
    f->call = call;
    f->purpose = purpose;
    return f;
}

static uint64_t now_step(void)
{
    return (uint64_t)time(NULL) / TOCSIN_TOTP_STEP_S;
}

/* The step of f's TOTP code if it is right and later than the last one
 * used, else -1 (logged: wrong, or replayed). */
static int64_t code_step(struct factor *f)
{
    int64_t step = tocsin_totp_match(f->secret, sizeof f->secret, now_step(), f->code, TF_WINDOW);
    if (step < 0 || step <= f->last_step) {
        log_info("code_refused", "user=%s reason=%s addr=%s", f->call->user_id,
                 step < 0 ? "wrong" : "used", tocsin_http_remote_addr(f->call->req));
        return -1;
    }
    return step;
}

static void wrong_code(struct api_call *call)
{
    tocsin_http_error(call->req, 401, "invalid_code", "wrong code, or one already used");
}

/* The proof as parameter $5 (after the session id, $4), or -1 after
 * answering 401. */
static int add_proof(struct factor *f)
{
    struct api_call *call = f->call;
    call->nparams = 3;
    api_add_param(call, call->session_id);
    if (f->code < 0) {
        if (!f->recovery_ok) {
            log_info("code_refused", "user=%s reason=recovery_code addr=%s", call->user_id,
                     tocsin_http_remote_addr(call->req));
            wrong_code(call);
            return -1;
        }
        api_code_attempts_clear(call);
        api_add_param(call, f->recovery_hash);
        return 0;
    }
    int64_t step = code_step(f);
    if (step < 0) {
        wrong_code(call);
        return -1;
    }
    api_code_attempts_clear(call);
    add_int(call, step);
    return 0;
}

/* Ten recovery codes: their hashes (comma-separated hex) and the codes
 * themselves (comma-separated), into the request's arena. */
static int make_recovery_codes(struct api_call *call, const char **hashes, const char **codes)
{
    struct tocsin_arena *a = tocsin_http_arena(call->req);
    char *h = tocsin_arena_alloc(a, 10 * 65), *c = tocsin_arena_alloc(a, 10 * 20);
    if (!h || !c)
        return -1;
    for (int i = 0; i < 10; i++) {
        char code[20], norm[TOCSIN_RECOVERY_CODE_LEN + 1], hex[67];
        if (tocsin_recovery_code_make(code) != 0 || tocsin_recovery_code_normalize(code, norm) != 0)
            return -1;
        api_token_hash_hex(norm, strlen(norm), hex);
        memcpy(h + i * 65, hex + 2, 64); /* without the "\\x" */
        h[i * 65 + 64] = i < 9 ? ',' : '\0';
        memcpy(c + i * 20, code, 19);
        c[i * 20 + 19] = i < 9 ? ',' : '\0';
    }
    *hashes = h;
    *codes = c;
    return 0;
}

static void finish(struct factor *f)
{
    struct api_call *call = f->call;
    const char *hashes, *codes;
    switch (f->purpose) {
    case TF_LOGIN:
        if (add_proof(f) != 0)
            return;
        add_lifetimes(call);
        api_run_sql(call, f->code < 0 ? SQL_TF_LOGIN_RECOVERY : SQL_TF_LOGIN_TOTP);
        return;
    case TF_DISABLE:
        if (add_proof(f) != 0)
            return;
        add_int(call, API_HALF_LOGIN_S);
        api_run_sql(call, f->code < 0 ? SQL_TF_DISABLE_RECOVERY : SQL_TF_DISABLE_TOTP);
        return;
    case TF_CONFIRM:
    case TF_RENEW:
        if (add_proof(f) != 0)
            return;
        if (make_recovery_codes(call, &hashes, &codes) != 0) {
            tocsin_http_error(call->req, 500, "internal", "could not make recovery codes");
            return;
        }
        api_add_param(call, hashes);
        api_add_param(call, codes);
        if (f->purpose == TF_RENEW) {
            api_run_sql(call, f->code < 0 ? SQL_TF_RENEW_RECOVERY : SQL_TF_RENEW_TOTP);
            return;
        }
        add_lifetimes(call);
        api_run_sql(call, SQL_TF_CONFIRM);
        return;
    }
}

static void password_checked(int ok, void *arg)
{
    struct factor *f = arg;
    if (!ok) {
        log_info("code_refused", "user=%s reason=password addr=%s", f->call->user_id,
                 tocsin_http_remote_addr(f->call->req));
        tocsin_http_error(f->call->req, 401, "invalid_login", "wrong password");
        return;
    }
    finish(f);
}

/* The row the step needs: live (the session may still try a code), secret
 * (hex), last_step, and for TF_DISABLE password_hash. */
static void loaded(const struct tocsin_db_result *r, void *ctx)
{
    struct factor *f = ctx;
    struct api_call *call = f->call;
    if (r->error) {
        api_db_error(call, "two_factor", r->error);
        return;
    }
    static const char *const names[] = {"live", "secret", "last_step", "password_hash",
                                        "recovery_ok"};
    enum { I_LIVE, I_SECRET, I_STEP, I_HASH, I_RECOVERY };
    int col[ARRAY_SIZE(names)];
    if (dash_columns(r->res, names, ARRAY_SIZE(names), col)) {
        tocsin_http_error(call->req, 500, "internal", "the request failed");
        return;
    }
    if (PQntuples(r->res) != 1 || strcmp(PQgetvalue(r->res, 0, col[I_LIVE]), "t") != 0) {
        if (f->purpose == TF_LOGIN) {
            /* Too many codes in this login (or it ended): start over. */
            call->nparams = 3;
            api_add_param(call, call->session_id);
            api_run_sql(call,
                        "WITH d AS (DELETE FROM sessions WHERE id = $4::bigint"
                        "             AND user_id = $2::bigint AND stage <> 'full')"
                        " " TF_ERROR(401, "too_many_codes", "too many wrong codes: log in again"));
        } else if (f->purpose == TF_CONFIRM) {
            tocsin_http_error(call->req, 409, "not_enrolling",
                              "no enrolment in progress (or it is over an hour old): start again");
        } else {
            tocsin_http_error(call->req, 409, "not_enrolled", "two-factor login is not on");
        }
        return;
    }
    const char *hex = PQgetvalue(r->res, 0, col[I_SECRET]);
    size_t got = 0;
    if (sodium_hex2bin(f->secret, sizeof f->secret, hex, strlen(hex), NULL, &got, NULL) != 0 ||
        got != sizeof f->secret) {
        log_error("two_factor_secret_bad", "user=%s", call->user_id);
        tocsin_http_error(call->req, 500, "internal", "the request failed");
        return;
    }
    f->last_step = strtoll(PQgetvalue(r->res, 0, col[I_STEP]), NULL, 10);
    f->recovery_ok = strcmp(PQgetvalue(r->res, 0, col[I_RECOVERY]), "t") == 0;
    if (f->purpose != TF_DISABLE) {
        finish(f);
        return;
    }
    const char *hash =
        PQgetisnull(r->res, 0, col[I_HASH]) ? NULL : PQgetvalue(r->res, 0, col[I_HASH]);
    int rc = dash_password_verify(hash, f->password, password_checked, f);
    if (rc == DASH_PASSWORD_BUSY)
        api_password_busy(call);
    else if (rc != 0)
        tocsin_http_error(call->req, 500, "internal", "out of memory");
}

static void load(struct factor *f, const char *sql)
{
    struct api_call *call = f->call;
    const char *params[] = {call->user_id, call->session_id, f->code < 0 ? f->recovery_hash : NULL};
    if (tocsin_db_query(call->dash->d->db, sql, 3, params, loaded, f) != 0)
        tocsin_http_error(call->req, 503, "unavailable", "the dashboard is shutting down");
}

void api_login_code(struct api_call *call)
{
    if (strcmp(call->stage, "code") != 0) {
        tocsin_http_error(call->req, 409, "no_code_owed", "this login does not owe a code");
        return;
    }
    struct factor *f = factor_new(call, TF_LOGIN);
    if (!f || read_proof(call, f, 1) != 0 || api_code_attempt(call) != 0)
        return;
    /* The attempt is counted in the session before the code is looked at. */
    load(
        f,
        "WITH s AS (UPDATE sessions SET factor_attempts = factor_attempts + 1"
        "            WHERE id = $2::bigint AND user_id = $1::bigint AND stage = 'code'"
        "              AND factor_attempts < " TF_STR(
            TF_SESSION_CODES) " RETURNING id)"
                              "SELECT EXISTS (SELECT 1 FROM s) AS live, encode(t.secret, 'hex') AS secret,"
                              "       t.last_step, NULL::text AS password_hash, " RECOVERY_OK
                              "  FROM user_totp t WHERE t.user_id = $1::bigint AND t.confirmed_at IS NOT NULL");
}

void api_two_factor_confirm(struct api_call *call)
{
    if (strcmp(call->stage, "code") == 0) {
        tocsin_http_error(call->req, 409, "code_owed", "enter your code first");
        return;
    }
    struct factor *f = factor_new(call, TF_CONFIRM);
    if (!f || read_proof(call, f, 0) != 0 || api_code_attempt(call) != 0)
        return;
    load(f, "SELECT true AS live, encode(secret, 'hex') AS secret, last_step,"
            "       NULL::text AS password_hash, $2::bigint AS session, $3::bytea AS recovery_ok"
            "  FROM user_totp WHERE user_id = $1::bigint AND confirmed_at IS NULL"
            "   AND created_at > now() - interval '1 hour'");
}

void api_two_factor_disable(struct api_call *call)
{
    const char *password = api_body_text(call, "password");
    struct factor *f = factor_new(call, TF_DISABLE);
    if (!f)
        return;
    if (!password || !*password || strlen(password) > 1024) {
        tocsin_http_error(call->req, 400, "invalid", "give your password and a code");
        return;
    }
    f->password = (char *)password; /* in the request's arena */
    if (read_proof(call, f, 1) != 0 || api_code_attempt(call) != 0)
        return;
    load(f, "SELECT true AS live, encode(t.secret, 'hex') AS secret, t.last_step,"
            "       u.password_hash, $2::bigint AS session, " RECOVERY_OK
            "  FROM users u JOIN user_totp t ON t.user_id = u.id AND t.confirmed_at IS NOT NULL"
            " WHERE u.id = $1::bigint AND u.disabled_at IS NULL");
}

/* New recovery codes for the old ones (some used, or their paper lost):
 * a code from the app, or one of the old recovery codes. */
void api_two_factor_renew(struct api_call *call)
{
    struct factor *f = factor_new(call, TF_RENEW);
    if (!f || read_proof(call, f, 1) != 0 || api_code_attempt(call) != 0)
        return;
    load(f, "SELECT true AS live, encode(t.secret, 'hex') AS secret, t.last_step,"
            "       NULL::text AS password_hash, $2::bigint AS session, " RECOVERY_OK
            "  FROM user_totp t WHERE t.user_id = $1::bigint AND t.confirmed_at IS NOT NULL");
}

/* --- enrolment --- */

/* Percent-encodes s (RFC 3986 unreserved characters kept) onto out. */
static int pct(char *out, size_t size, size_t *o, const char *s)
{
    static const char hexd[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int keep = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                   (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~';
        if (*o + 4 > size)
            return -1;
        if (keep) {
            out[(*o)++] = (char)*p;
        } else {
            out[(*o)++] = '%';
            out[(*o)++] = hexd[*p >> 4];
            out[(*o)++] = hexd[*p & 15];
        }
    }
    out[*o] = '\0';
    return 0;
}

/* otpauth://totp/Tocsin%20(ORG):EMAIL?secret=...&issuer=Tocsin%20(ORG) —
 * the label apps show, the issuer they group by. */
static int make_uri(char *out, size_t size, const char *org, const char *email, const char *b32)
{
    size_t o = 0;
    char issuer[200];
    snprintf(issuer, sizeof issuer, "Tocsin (%.120s)", org);
    int n = snprintf(out, size, "otpauth://totp/");
    o = (size_t)n;
    if (pct(out, size, &o, issuer) || pct(out, size, &o, ":") || pct(out, size, &o, email))
        return -1;
    n = snprintf(out + o, size - o, "?secret=%s&algorithm=SHA1&digits=6&period=30&issuer=", b32);
    if (n < 0 || (size_t)n >= size - o)
        return -1;
    o += (size_t)n;
    return pct(out, size, &o, issuer);
}

static void enrol_user_found(const struct tocsin_db_result *r, void *ctx)
{
    struct api_call *call = ctx;
    if (r->error) {
        api_db_error(call, "two_factor", r->error);
        return;
    }
    if (PQntuples(r->res) != 1) {
        tocsin_http_error(call->req, 404, "not_found", "no such user");
        return;
    }
    const char *email = PQgetvalue(r->res, 0, 0), *org = PQgetvalue(r->res, 0, 1);
    unsigned char secret[TOCSIN_TOTP_SECRET_LEN];
    char hex[2 * TOCSIN_TOTP_SECRET_LEN + 1], b32[TOCSIN_TOTP_SECRET_B32_LEN], uri[TF_URI_MAX];
    randombytes_buf(secret, sizeof secret);
    sodium_bin2hex(hex, sizeof hex, secret, sizeof secret);
    if (tocsin_base32_encode(secret, sizeof secret, b32, sizeof b32) < 0 ||
        make_uri(uri, sizeof uri, org, email, b32) != 0) {
        tocsin_http_error(call->req, 500, "internal", "could not make the enrolment");
        return;
    }
    sodium_memzero(secret, sizeof secret);
    /* Byte mode, error correction M: the version follows the URI's length. */
    QRcode *qr = QRcode_encodeString8bit(uri, 0, QR_ECLEVEL_M);
    char *modules = qr ? tocsin_arena_alloc(tocsin_http_arena(call->req),
                                            (size_t)qr->width * (size_t)qr->width + 1)
                       : NULL;
    if (!modules) {
        if (qr)
            QRcode_free(qr);
        tocsin_http_error(call->req, 500, "internal", "could not draw the QR code");
        return;
    }
    size_t cells = (size_t)qr->width * (size_t)qr->width;
    for (size_t i = 0; i < cells; i++)
        modules[i] = (qr->data[i] & 1) ? '1' : '0';
    modules[cells] = '\0';
    call->nparams = 3;
    api_add_param(call, hex);
    api_add_param(call, b32);
    api_add_param(call, uri);
    add_int(call, qr->width);
    api_add_param(call, modules);
    QRcode_free(qr);
    sodium_memzero(hex, sizeof hex);
    api_run_sql(call, SQL_TF_ENROL);
}

void api_two_factor_enrol(struct api_call *call)
{
    if (strcmp(call->stage, "code") == 0) {
        tocsin_http_error(call->req, 409, "code_owed", "enter your code first");
        return;
    }
    const char *params[] = {call->user_id, call->org_id};
    if (tocsin_db_query(call->dash->d->db,
                        "SELECT u.email, o.name FROM users u JOIN orgs o ON o.id = u.org_id"
                        " WHERE u.id = $1::bigint AND u.org_id = $2::bigint",
                        2, params, enrol_user_found, call) != 0)
        tocsin_http_error(call->req, 503, "unavailable", "the dashboard is shutting down");
}
