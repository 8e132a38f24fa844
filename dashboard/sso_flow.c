/* SPDX-License-Identifier: AGPL-3.0-or-later
 * sso_flow.c — the browser's round trip through an org's OpenID provider
 * (authorization code flow with PKCE S256). GET /sso/start?org=SLUG keeps
 * a fresh state, nonce and code verifier (schema 031: hashed state, ten
 * minutes), binds them to this browser with a short-lived cookie, and
 * sends the browser to the provider. GET /sso/callback spends the state
 * (once, from the same browser), trades the code for tokens on the back
 * channel, checks the ID token (signature with the provider's key for its
 * kid, iss, aud/azp, exp/iat/nbf, nonce: lib/jwt.c), and opens the same
 * session a password login does for the org's active user whose address
 * the provider says it verified. Every refusal is a page saying why in
 * plain words; the ones past the state are audited (sso.refused). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "client_addr.h"
#include "form.h"
#include "http_client.h"
#include "log.h"
#include "ratelimit.h"
#include "sso.h"
#include "static_files.h"

#define SSO_COOKIE "tocsin_sso"
#define SSO_COOKIE_HOST "__Host-tocsin_sso"
#define LOGIN_TTL_S 600 /* a sign-in must come back within ten minutes */
#define TOKEN_SKEW_S 60
#define TOKEN_MAX_AGE_S 600
#define TOKEN_RESPONSE_MAX (64 * 1024)

static const char *cookie_name(const struct dashboard *dash)
{
    return dash->secure_cookies ? SSO_COOKIE_HOST : SSO_COOKIE;
}

/* A page for a person: what happened and the way back. text is ours,
 * never the provider's or the request's. */
static void page(struct tocsin_http_req *req, int status, const char *text)
{
    char body[1500];
    int n = snprintf(body, sizeof body,
                     "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                     "<title>Single sign-on — Tocsin</title>"
                     "<link rel=\"icon\" href=\"/static/icon.svg\" type=\"image/svg+xml\">"
                     "<link rel=\"stylesheet\" href=\"/static/app.css\"></head><body>"
                     "<main class=\"sso-page\"><h1>Single sign-on did not work</h1>"
                     "<p id=\"sso-reason\">%s</p>"
                     "<p><a href=\"/\">Back to the login page</a></p></main></body></html>",
                     text);
    if (n < 0 || (size_t)n >= sizeof body) /* our texts fit; never send past the buffer */
        n = (int)sizeof body - 1;
    dash_security_headers(req);
    tocsin_http_add_header(req, "Cache-Control", "no-store");
    tocsin_http_respond(req, status, "text/html; charset=utf-8", body, (size_t)n);
}

static int throttled(struct dashboard *dash, struct tocsin_http_req *req)
{
    char key[TOCSIN_ADDR_KEY_LEN];
    tocsin_client_addr_key(tocsin_http_remote_addr(req), key);
    uint64_t wait = tocsin_ratelimit_wait(dash->sso_throttle, key, uv_now(dash->d->loop));
    if (!wait)
        return 0;
    char v[16];
    snprintf(v, sizeof v, "%u", (unsigned)((wait + 999) / 1000));
    tocsin_http_add_header(req, "Retry-After", v);
    page(req, 429, "Too many sign-in attempts from this address. Wait a minute and try again.");
    return 1;
}

static void sha256_hex(const char *s, char out[67])
{
    api_token_hash_hex(s, strlen(s), out);
}

/* "k=v&k=v" of n (key, value) pairs, percent-encoded, into buf; returns
 * its length, or (size_t)-1 when it does not fit. */
static size_t form_fields(char *buf, size_t cap, const tocsin_str (*kv)[2], size_t n)
{
    size_t len = 0;
    for (size_t i = 0; i < n && len != (size_t)-1; i++)
        len = tocsin_form_append(buf, cap, len, kv[i][0], kv[i][1]);
    return len;
}

/* --- /sso/start --- */

struct start {
    struct tocsin_http_req *req;
    struct dashboard *dash;
    char org_id[24], client_id[256];
    char state[64], nonce[64], verifier[64], browser[64];
    struct sso_provider_info info;
};

static void start_saved(const struct tocsin_db_result *r, void *ctx)
{
    struct start *s = ctx;
    if (r->error || PQntuples(r->res) != 1) {
        log_warn("sso_start_failed", "error=%s", tocsin_log_q(r->error ? r->error : "no row"));
        page(s->req, 503, "The sign-in could not be started. Try again in a moment.");
        return;
    }
    unsigned char digest[32];
    char challenge[64], url[SSO_URL_MAX + 1200], redirect[600], cookie[200];
    /* RFC 7636 4.2: the challenge is base64url(SHA-256(verifier)) */
    tocsin_sha256(s->verifier, strlen(s->verifier), digest);
    sodium_bin2base64(challenge, sizeof challenge, digest, sizeof digest,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    snprintf(redirect, sizeof redirect, "%s/sso/callback", s->dash->d->cfg.dashboard_url);
    size_t n = (size_t)snprintf(url, sizeof url, "%s%c", s->info.authorization_endpoint,
                                strchr(s->info.authorization_endpoint, '?') ? '&' : '?');
    char query[1400];
    const tocsin_str fields[][2] = {
        {TSTR("response_type"), TSTR("code")},
        {TSTR("client_id"), tocsin_str_from(s->client_id)},
        {TSTR("redirect_uri"), tocsin_str_from(redirect)},
        {TSTR("scope"), TSTR("openid email")},
        {TSTR("state"), tocsin_str_from(s->state)},
        {TSTR("nonce"), tocsin_str_from(s->nonce)},
        {TSTR("code_challenge"), tocsin_str_from(challenge)},
        {TSTR("code_challenge_method"), TSTR("S256")},
    };
    size_t q = form_fields(query, sizeof query, fields, ARRAY_SIZE(fields));
    if (q == (size_t)-1 || n + q + 1 > sizeof url) {
        page(s->req, 500, "The provider's sign-in address is too long.");
        return;
    }
    memcpy(url + n, query, q + 1);
    /* SameSite=Lax: the provider sends the browser back with a top-level
     * GET from its own site, which Strict would strip the cookie from. */
    snprintf(cookie, sizeof cookie, "%s=%s; Path=/; Max-Age=%d; HttpOnly; SameSite=Lax%s",
             cookie_name(s->dash), s->browser, LOGIN_TTL_S,
             s->dash->secure_cookies ? "; Secure" : "");
    dash_security_headers(s->req);
    tocsin_http_add_header(s->req, "Set-Cookie", cookie);
    tocsin_http_add_header(s->req, "Cache-Control", "no-store");
    tocsin_http_add_header(s->req, "Location", url);
    tocsin_http_respond(s->req, 302, NULL, NULL, 0);
}

static void start_discovered(const struct sso_provider_info *p, const char *err, void *ctx)
{
    struct start *s = ctx;
    if (!p) {
        char text[300];
        snprintf(text, sizeof text,
                 "Your organisation's sign-in provider could not be reached or is misconfigured "
                 "(%s). Ask your admin, or log in with your password.",
                 err);
        page(s->req, 502, text);
        return;
    }
    s->info = *p;
    char state_hash[67], browser_hash[67];
    if (tocsin_random_token(32, s->state, sizeof s->state) ||
        tocsin_random_token(32, s->nonce, sizeof s->nonce) ||
        tocsin_random_token(32, s->verifier, sizeof s->verifier) ||
        tocsin_random_token(32, s->browser, sizeof s->browser)) {
        page(s->req, 500, "The sign-in could not be started.");
        return;
    }
    sha256_hex(s->state, state_hash);
    sha256_hex(s->browser, browser_hash);
    char ttl[16];
    snprintf(ttl, sizeof ttl, "%d", LOGIN_TTL_S);
    const char *params[] = {s->org_id, state_hash, browser_hash, s->nonce, s->verifier, ttl};
    /* Sign-ins never finished are swept here, a bounded number at a time. */
    if (tocsin_db_query(s->dash->d->db,
                        "WITH old AS (DELETE FROM sso_logins WHERE id IN (SELECT id FROM"
                        "               sso_logins WHERE expires_at < now() ORDER BY expires_at"
                        "               LIMIT 100))"
                        "INSERT INTO sso_logins (org_id, state_hash, browser_hash, nonce,"
                        "                        code_verifier, expires_at)"
                        " VALUES ($1::bigint, $2::bytea, $3::bytea, $4, $5,"
                        "         now() + make_interval(secs => $6::int)) RETURNING id",
                        6, params, start_saved, s) != 0)
        page(s->req, 503, "The dashboard is shutting down.");
}

static void start_config(const struct tocsin_db_result *r, void *ctx)
{
    struct start *s = ctx;
    if (r->error) {
        log_warn("sso_start_failed", "error=%s", tocsin_log_q(r->error));
        page(s->req, 503, "The database is unavailable. Try again in a moment.");
        return;
    }
    if (PQntuples(r->res) != 1) {
        page(s->req, 404,
             "Single sign-on is not set up for that organisation. Check its short name, or log "
             "in with your password.");
        return;
    }
    snprintf(s->org_id, sizeof s->org_id, "%s", PQgetvalue(r->res, 0, 0));
    const char *issuer = PQgetvalue(r->res, 0, 1);
    snprintf(s->client_id, sizeof s->client_id, "%s", PQgetvalue(r->res, 0, 2));
    if (sso_discover(s->dash->sso, issuer, start_discovered, s) != 0)
        page(s->req, 500, "The sign-in could not be started.");
}

static int slug_ok(tocsin_str s)
{
    if (s.len == 0 || s.len > 64)
        return 0;
    for (size_t i = 0; i < s.len; i++) {
        char c = s.base[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

static void sso_start(struct tocsin_http_req *req, void *ctx)
{
    struct dashboard *dash = ctx;
    struct tocsin_kv *kv;
    size_t nkv;
    char err[100];
    if (throttled(dash, req))
        return;
    tocsin_str org = TSTR_NULL;
    if (tocsin_http_form(req, 1, &kv, &nkv, err, sizeof err) == 0)
        org = tocsin_form_get(kv, nkv, "org");
    if (!slug_ok(org)) {
        page(req, 400, "Give your organisation's short name (letters, digits and dashes).");
        return;
    }
    struct start *s = tocsin_arena_alloc(tocsin_http_arena(req), sizeof *s);
    if (!s) {
        page(req, 500, "Out of memory.");
        return;
    }
    memset(s, 0, sizeof *s);
    s->req = req;
    s->dash = dash;
    char slug[65];
    snprintf(slug, sizeof slug, "%.*s", (int)org.len, org.base);
    const char *params[] = {slug};
    if (tocsin_db_query(dash->d->db,
                        "SELECT o.id, s.issuer, s.client_id FROM orgs o"
                        "  JOIN org_sso s ON s.org_id = o.id WHERE o.slug = $1 AND s.enabled",
                        1, params, start_config, s) != 0)
        page(req, 503, "The dashboard is shutting down.");
}

/* --- /sso/callback --- */

struct callback {
    struct tocsin_http_req *req;
    struct dashboard *dash;
    char org_id[24], nonce[129], verifier[129], issuer[SSO_ISSUER_MAX + 1], client_id[256];
    char *client_secret; /* in the arena, or NULL */
    char *code;
    const char *iss_param; /* the callback's iss (RFC 9207), or NULL */
    char *id_token;        /* in the arena, once the token endpoint answered */
    struct tocsin_jwt jwt;
    char email[256], subject[256];
    char token[64], csrf[64];
    int refused_status;
    const char *refused_text; /* static */
};

static void refused_audited(const struct tocsin_db_result *r, void *ctx)
{
    struct callback *cb = ctx;
    if (r->error)
        log_warn("sso_audit_failed", "error=%s", tocsin_log_q(r->error));
    page(cb->req, cb->refused_status, cb->refused_text);
}

/* Ends a callback with a refusal: logged, audited for the org, then
 * shown (once the audit row is written). */
static void refuse(struct callback *cb, int status, const char *reason, const char *detail,
                   const char *text)
{
    log_info("sso_refused", "org=%s reason=%s", cb->org_id, reason);
    cb->refused_status = status;
    cb->refused_text = text;
    const char *params[] = {cb->org_id, reason, detail}; /* detail may be the token's: copied */
    int rc = tocsin_db_query(cb->dash->d->db, "SELECT tocsin_sso_refuse($1::bigint, $2, $3)", 3,
                             params, refused_audited, cb);
    tocsin_jwt_free(&cb->jwt);
    if (rc != 0)
        page(cb->req, status, text);
}

static void session_opened(const struct tocsin_db_result *r, void *ctx)
{
    struct callback *cb = ctx;
    tocsin_jwt_free(&cb->jwt);
    if (r->error || PQntuples(r->res) != 1) {
        log_warn("sso_login_failed", "error=%s", tocsin_log_q(r->error ? r->error : "no row"));
        page(cb->req, 503, "The sign-in could not be finished. Try again in a moment.");
        return;
    }
    const char *outcome = PQgetvalue(r->res, 0, 0);
    if (strcmp(outcome, "no_account") == 0) {
        page(cb->req, 403,
             "Your sign-in provider vouched for an email address that has no account in this "
             "organisation. Ask an admin to invite that address.");
        return;
    }
    if (strcmp(outcome, "ok") != 0) {
        page(cb->req, 403, "Your account in this organisation is disabled. Ask an admin.");
        return;
    }
    char cookie[256], clear[200];
    snprintf(cookie, sizeof cookie, "%s=%s; Path=/; HttpOnly; SameSite=Strict%s",
             api_session_cookie_name(cb->dash), cb->token,
             cb->dash->secure_cookies ? "; Secure" : "");
    snprintf(clear, sizeof clear, "%s=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax%s",
             cookie_name(cb->dash), cb->dash->secure_cookies ? "; Secure" : "");
    log_info("sso_login", "org=%s user=%s", cb->org_id, PQgetvalue(r->res, 0, 1));
    dash_security_headers(cb->req);
    tocsin_http_add_header(cb->req, "Set-Cookie", cookie);
    tocsin_http_add_header(cb->req, "Set-Cookie", clear);
    tocsin_http_add_header(cb->req, "Cache-Control", "no-store");
    tocsin_http_add_header(cb->req, "Location", "/");
    tocsin_http_respond(cb->req, 302, NULL, NULL, 0);
}

static void open_session(struct callback *cb)
{
    char hex[67], ttl[16];
    const struct tocsin_config *cfg = &cb->dash->d->cfg;
    if (tocsin_random_token(32, cb->token, sizeof cb->token) ||
        tocsin_random_token(32, cb->csrf, sizeof cb->csrf)) {
        refuse(cb, 500, "internal", NULL, "The sign-in could not be finished.");
        return;
    }
    sha256_hex(cb->token, hex);
    snprintf(ttl, sizeof ttl, "%u",
             cfg->session_ttl_s < cfg->session_max_age_s ? cfg->session_ttl_s
                                                         : cfg->session_max_age_s);
    const char *params[] = {cb->org_id, cb->email, cb->issuer, cb->subject,
                            hex,        cb->csrf,  ttl,        tocsin_http_remote_addr(cb->req)};
    if (tocsin_db_query(cb->dash->d->db,
                        "SELECT outcome, user_id FROM tocsin_sso_login($1::bigint, $2, $3, $4,"
                        " $5::bytea, $6, $7::int, $8)",
                        8, params, session_opened, cb) != 0) {
        tocsin_jwt_free(&cb->jwt);
        page(cb->req, 503, "The dashboard is shutting down.");
    }
}

static const char *jwt_text(int rc)
{
    switch (rc) {
    case TOCSIN_JWT_NO_KEY:
        return "The provider signed the sign-in with a key it does not publish. Try again; if it "
               "keeps failing, ask your admin.";
    case TOCSIN_JWT_SIGNATURE:
    case TOCSIN_JWT_BAD_ALG:
        return "The sign-in's signature is not the provider's. It was refused.";
    case TOCSIN_JWT_EXPIRED:
    case TOCSIN_JWT_NOT_YET:
        return "The sign-in has expired or is not valid yet (check this computer's clock). "
               "Try again.";
    case TOCSIN_JWT_AUDIENCE:
        return "The sign-in was meant for another application. It was refused.";
    case TOCSIN_JWT_ISSUER:
        return "The sign-in came from another provider than your organisation's. It was refused.";
    default:
        return "The provider's answer was not a valid sign-in. It was refused.";
    }
}

static void signature_checked(int rc, void *ctx)
{
    struct callback *cb = ctx;
    if (rc != 0) {
        refuse(cb, 403, tocsin_jwt_error_name(rc), NULL, jwt_text(rc));
        return;
    }
    char err[200];
    struct tocsin_id_token_expect e = {cb->issuer, cb->client_id, cb->nonce,
                                       time(NULL), TOKEN_SKEW_S,  TOKEN_MAX_AGE_S};
    rc = tocsin_id_token_check(&cb->jwt, &e, err, sizeof err);
    if (rc != 0) {
        refuse(cb, 403, tocsin_jwt_error_name(rc), err, jwt_text(rc));
        return;
    }
    json_t *c = cb->jwt.claims;
    json_t *email = json_object_get(c, "email");
    const char *sub = json_string_value(json_object_get(c, "sub"));
    if (!json_is_string(email) || json_string_length(email) > 254 ||
        strlen(json_string_value(email)) != json_string_length(email) ||
        !strchr(json_string_value(email), '@')) {
        refuse(cb, 403, "no_email", NULL,
               "Your sign-in provider did not share your email address, which Tocsin needs to "
               "find your account. Ask your admin.");
        return;
    }
    if (!json_is_true(json_object_get(c, "email_verified"))) {
        refuse(cb, 403, "email_unverified", json_string_value(email),
               "Your sign-in provider has not verified your email address. Verify it there, "
               "then try again.");
        return;
    }
    snprintf(cb->email, sizeof cb->email, "%s", json_string_value(email));
    snprintf(cb->subject, sizeof cb->subject, "%s", sub ? sub : "");
    open_session(cb);
}

static void tokens_received(const struct tocsin_http_client_response *r, void *ctx)
{
    struct callback *cb = ctx;
    json_t *doc = NULL;
    const char *id_token = NULL;
    if (r->status == 200 && r->body_len <= TOKEN_RESPONSE_MAX) {
        json_error_t je;
        doc = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &je);
        id_token = json_string_value(json_object_get(doc, "id_token"));
    }
    if (!id_token) {
        char detail[40];
        snprintf(detail, sizeof detail, "status %ld", r->status);
        json_decref(doc);
        refuse(cb, 502, "token_exchange_failed", detail,
               "The provider did not confirm the sign-in. Start again from the login page.");
        return;
    }
    cb->id_token = tocsin_arena_strndup(tocsin_http_arena(cb->req), id_token, strlen(id_token));
    json_decref(doc);
    char err[200];
    int rc = cb->id_token
                 ? tocsin_jwt_parse(cb->id_token, strlen(cb->id_token), &cb->jwt, err, sizeof err)
                 : TOCSIN_JWT_MALFORMED;
    if (rc != 0) {
        refuse(cb, 403, tocsin_jwt_error_name(rc), err, jwt_text(rc));
        return;
    }
    if (sso_verify_signature(cb->dash->sso, cb->issuer, &cb->jwt, signature_checked, cb) != 0)
        refuse(cb, 500, "internal", NULL, "The sign-in could not be finished.");
}

static void callback_discovered(const struct sso_provider_info *p, const char *err, void *ctx)
{
    struct callback *cb = ctx;
    if (!p) {
        refuse(cb, 502, "discovery_failed", err,
               "Your organisation's sign-in provider could not be reached or is misconfigured.");
        return;
    }
    char redirect[600], body[3000], auth[2200];
    snprintf(redirect, sizeof redirect, "%s/sso/callback", cb->dash->d->cfg.dashboard_url);
    /* A public client names itself in the body; a confidential one
     * authenticates with HTTP Basic (client_secret_basic, RFC 6749 2.3.1:
     * both parts form-encoded first). */
    const tocsin_str fields[][2] = {
        {TSTR("grant_type"), TSTR("authorization_code")},
        {TSTR("code"), tocsin_str_from(cb->code)},
        {TSTR("redirect_uri"), tocsin_str_from(redirect)},
        {TSTR("code_verifier"), tocsin_str_from(cb->verifier)},
        {TSTR("client_id"), tocsin_str_from(cb->client_id)},
    };
    size_t n =
        form_fields(body, sizeof body, fields, ARRAY_SIZE(fields) - (cb->client_secret ? 1 : 0));
    if (n == (size_t)-1) {
        refuse(cb, 400, "invalid_request", NULL, "The provider's code was too long.");
        return;
    }
    if (cb->client_secret) {
        char id[600], secret[1600];
        size_t il = tocsin_form_append(id, sizeof id, 0, TSTR(""), tocsin_str_from(cb->client_id));
        size_t sl = tocsin_form_append(secret, sizeof secret, 0, TSTR(""),
                                       tocsin_str_from(cb->client_secret));
        if (il == (size_t)-1 || sl == (size_t)-1 ||
            (size_t)snprintf(auth, sizeof auth, "%s:%s", id + 1, secret + 1) >= sizeof auth) {
            refuse(cb, 500, "internal", NULL, "The client credentials are too long.");
            return;
        }
    }
    static const char *const headers[] = {"Content-Type: application/x-www-form-urlencoded",
                                          "Accept: application/json", NULL};
    struct tocsin_http_client_request req = {.method = "POST",
                                             .url = p->token_endpoint,
                                             .headers = headers,
                                             .body = body,
                                             .body_len = n,
                                             .basic_auth = cb->client_secret ? auth : NULL,
                                             .timeout_ms = 5000};
    if (tocsin_http_client_send(sso_cache_http(cb->dash->sso), &req, tokens_received, cb) != 0)
        refuse(cb, 500, "internal", NULL, "The sign-in could not be finished.");
}

static void state_spent(const struct tocsin_db_result *r, void *ctx)
{
    struct callback *cb = ctx;
    if (r->error) {
        log_warn("sso_callback_failed", "error=%s", tocsin_log_q(r->error));
        page(cb->req, 503, "The database is unavailable. Start again from the login page.");
        return;
    }
    if (PQntuples(r->res) != 1) {
        log_info("sso_refused", "reason=unknown_state");
        page(cb->req, 400,
             "This sign-in link was already used or has expired. Start again from the login "
             "page.");
        return;
    }
    const char *outcome = PQgetvalue(r->res, 0, 1);
    snprintf(cb->org_id, sizeof cb->org_id, "%s", PQgetvalue(r->res, 0, 0));
    if (strcmp(outcome, "ok") != 0) { /* audited by tocsin_sso_finish */
        log_info("sso_refused", "org=%s reason=%s", cb->org_id, outcome);
        page(cb->req, 400,
             strcmp(outcome, "other_browser") == 0
                 ? "This sign-in was started in another browser. Start again from the login "
                   "page in this one."
             : strcmp(outcome, "expired") == 0
                 ? "This sign-in took too long and has expired. Start again from the login page."
                 : "Single sign-on has been turned off for your organisation. Log in with your "
                   "password.");
        return;
    }
    snprintf(cb->nonce, sizeof cb->nonce, "%s", PQgetvalue(r->res, 0, 2));
    snprintf(cb->verifier, sizeof cb->verifier, "%s", PQgetvalue(r->res, 0, 3));
    snprintf(cb->issuer, sizeof cb->issuer, "%s", PQgetvalue(r->res, 0, 4));
    snprintf(cb->client_id, sizeof cb->client_id, "%s", PQgetvalue(r->res, 0, 5));
    if (!PQgetisnull(r->res, 0, 6)) {
        const char *s = PQgetvalue(r->res, 0, 6);
        cb->client_secret = tocsin_arena_strndup(tocsin_http_arena(cb->req), s, strlen(s));
    }
    /* RFC 9207: a provider that names itself in the redirect must be the
     * one this sign-in went to (a mix-up between providers ends here). */
    if (cb->iss_param && strcmp(cb->iss_param, cb->issuer) != 0) {
        refuse(cb, 403, "wrong_issuer", NULL, jwt_text(TOCSIN_JWT_ISSUER));
        return;
    }
    if (sso_discover(cb->dash->sso, cb->issuer, callback_discovered, cb) != 0)
        refuse(cb, 500, "internal", NULL, "The sign-in could not be finished.");
}

static int token_ok(tocsin_str s, size_t max)
{
    if (s.len == 0 || s.len > max)
        return 0;
    for (size_t i = 0; i < s.len; i++)
        if ((unsigned char)s.base[i] < 0x21 || (unsigned char)s.base[i] > 0x7e)
            return 0;
    return 1;
}

static void sso_callback(struct tocsin_http_req *req, void *ctx)
{
    struct dashboard *dash = ctx;
    struct tocsin_kv *kv;
    size_t nkv;
    char err[100];
    if (tocsin_http_form(req, 1, &kv, &nkv, err, sizeof err) != 0) {
        page(req, 400, "The provider's answer could not be read. Start again from the login page.");
        return;
    }
    tocsin_str state = tocsin_form_get(kv, nkv, "state"), code = tocsin_form_get(kv, nkv, "code");
    tocsin_str browser = dash_cookie(req, cookie_name(dash));
    if (tocsin_form_get(kv, nkv, "error").base) {
        /* The provider refused (the person cancelled, or it has no such
         * client); its words are not shown: they are the request's. */
        page(req, 403,
             "Your sign-in provider did not sign you in. Start again from the login "
             "page.");
        return;
    }
    if (!token_ok(state, 128) || !token_ok(code, 2048)) {
        page(req, 400,
             "The provider's answer lacks its code or state. Start again from the "
             "login page.");
        return;
    }
    if (!token_ok(browser, 128)) {
        page(req, 400,
             "This browser did not start this sign-in (its sign-in cookie is missing: cookies "
             "may be blocked). Start again from the login page.");
        return;
    }
    struct tocsin_arena *a = tocsin_http_arena(req);
    struct callback *cb = tocsin_arena_alloc(a, sizeof *cb);
    char *st = tocsin_arena_strndup(a, state.base, state.len);
    char *br = tocsin_arena_strndup(a, browser.base, browser.len);
    if (!cb || !st || !br) {
        page(req, 500, "Out of memory.");
        return;
    }
    memset(cb, 0, sizeof *cb);
    cb->req = req;
    cb->dash = dash;
    cb->code = tocsin_arena_strndup(a, code.base, code.len);
    tocsin_str iss = tocsin_form_get(kv, nkv, "iss");
    if (iss.base && iss.len <= SSO_ISSUER_MAX)
        cb->iss_param = tocsin_arena_strndup(a, iss.base, iss.len);
    else if (iss.base)
        cb->iss_param = "(too long)";
    char state_hash[67], browser_hash[67];
    sha256_hex(st, state_hash);
    sha256_hex(br, browser_hash);
    const char *params[] = {state_hash, browser_hash};
    if (!cb->code ||
        tocsin_db_query(dash->d->db,
                        "SELECT org_id, outcome, nonce, code_verifier, issuer, client_id,"
                        "       client_secret FROM tocsin_sso_finish($1::bytea, $2::bytea)",
                        2, params, state_spent, cb) != 0)
        page(req, 503, "The dashboard is shutting down.");
}

void sso_routes(struct dashboard *dash)
{
    tocsin_http_route(dash->d->http, "GET", "/sso/start", sso_start, dash);
    tocsin_http_route(dash->d->http, "GET", "/sso/callback", sso_callback, dash);
}
