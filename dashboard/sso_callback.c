/* SPDX-License-Identifier: AGPL-3.0-or-later
 * sso_callback.c — GET /sso/callback: the second half of single sign-on
 * (sso_flow.c). Spends the state (once, from the browser that started it),
 * trades the code and PKCE verifier for tokens at the provider's token
 * endpoint, checks the ID token (its signature with the provider's key
 * for its kid, then iss, aud/azp, exp/iat/nbf and nonce: lib/jwt.c) and the
 * verified address, and opens the session (tocsin_sso_login). Every
 * refusal past the state is audited as sso.refused, then shown. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "form.h"
#include "http_client.h"
#include "log.h"
#include "sso.h"
#include "static_files.h"

#define TOKEN_SKEW_S 60
#define TOKEN_MAX_AGE_S 600
#define TOKEN_RESPONSE_MAX (64 * 1024)

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
    int multi_factor; /* the ID token's amr says "mfa" (RFC 8176) */
    char token[64], csrf[64];
    int refused_status;
    const char *refused_text; /* static */
};

static void refused_audited(const struct tocsin_db_result *r, void *ctx)
{
    struct callback *cb = ctx;
    if (r->error)
        log_warn("sso_audit_failed", "error=%s", tocsin_log_q(r->error));
    sso_page(cb->req, cb->refused_status, cb->refused_text);
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
        sso_page(cb->req, status, text);
}

static void session_opened(const struct tocsin_db_result *r, void *ctx)
{
    struct callback *cb = ctx;
    tocsin_jwt_free(&cb->jwt);
    if (r->error || PQntuples(r->res) != 1) {
        log_warn("sso_login_failed", "error=%s", tocsin_log_q(r->error ? r->error : "no row"));
        sso_page(cb->req, 503, "The sign-in could not be finished. Try again in a moment.");
        return;
    }
    const char *outcome = PQgetvalue(r->res, 0, 0);
    if (strcmp(outcome, "no_account") == 0) {
        sso_page(cb->req, 403,
                 "Your sign-in provider vouched for an email address that has no account in this "
                 "organisation. Ask an admin to invite that address.");
        return;
    }
    if (strcmp(outcome, "ok") != 0) {
        sso_page(cb->req, 403, "Your account in this organisation is disabled. Ask an admin.");
        return;
    }
    char cookie[256], clear[200];
    snprintf(cookie, sizeof cookie, "%s=%s; Path=/; HttpOnly; SameSite=Strict%s",
             api_session_cookie_name(cb->dash), cb->token,
             cb->dash->secure_cookies ? "; Secure" : "");
    snprintf(clear, sizeof clear, "%s=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax%s",
             sso_cookie_name(cb->dash), cb->dash->secure_cookies ? "; Secure" : "");
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
    sso_sha256_hex(cb->token, hex);
    snprintf(ttl, sizeof ttl, "%u",
             cfg->session_ttl_s < cfg->session_max_age_s ? cfg->session_ttl_s
                                                         : cfg->session_max_age_s);
    char half[16];
    snprintf(half, sizeof half, "%d", API_HALF_LOGIN_S);
    const char *params[] = {cb->org_id,
                            cb->email,
                            cb->issuer,
                            cb->subject,
                            hex,
                            cb->csrf,
                            ttl,
                            tocsin_http_remote_addr(cb->req),
                            dash_user_agent(cb->req),
                            cb->multi_factor ? "t" : "f",
                            half};
    if (tocsin_db_query(cb->dash->d->db,
                        "SELECT outcome, user_id FROM tocsin_sso_login($1::bigint, $2, $3, $4,"
                        " $5::bytea, $6, $7::int, $8, $9, $10::boolean, $11::int)",
                        11, params, session_opened, cb) != 0) {
        tocsin_jwt_free(&cb->jwt);
        sso_page(cb->req, 503, "The dashboard is shutting down.");
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

/* Whether the provider says the person proved more than one factor: the
 * ID token's amr (an array of strings, RFC 8176) holds "mfa". Anything
 * else (no amr, "pwd" alone, one "otp") leaves the org's own second
 * factor owed, as after a password (tocsin_sso_login). */
static int amr_says_multi_factor(json_t *amr)
{
    size_t i;
    json_t *v;
    if (!json_is_array(amr) || json_array_size(amr) > 32)
        return 0;
    json_array_foreach(amr, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), "mfa") == 0)
            return 1;
    }
    return 0;
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
    cb->multi_factor = amr_says_multi_factor(json_object_get(c, "amr"));
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
    size_t n = sso_form_fields(body, sizeof body, fields,
                               ARRAY_SIZE(fields) - (cb->client_secret ? 1 : 0));
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
        sso_page(cb->req, 503, "The database is unavailable. Start again from the login page.");
        return;
    }
    if (PQntuples(r->res) != 1) {
        log_info("sso_refused", "reason=unknown_state");
        sso_page(cb->req, 400,
                 "This sign-in link was already used or has expired. Start again from the login "
                 "page.");
        return;
    }
    const char *outcome = PQgetvalue(r->res, 0, 1);
    snprintf(cb->org_id, sizeof cb->org_id, "%s", PQgetvalue(r->res, 0, 0));
    if (strcmp(outcome, "ok") != 0) { /* audited by tocsin_sso_finish */
        log_info("sso_refused", "org=%s reason=%s", cb->org_id, outcome);
        sso_page(
            cb->req, 400,
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

void sso_callback(struct tocsin_http_req *req, void *ctx)
{
    struct dashboard *dash = ctx;
    struct tocsin_kv *kv;
    size_t nkv;
    char err[100];
    if (tocsin_http_form(req, 1, &kv, &nkv, err, sizeof err) != 0) {
        sso_page(req, 400,
                 "The provider's answer could not be read. Start again from the login page.");
        return;
    }
    tocsin_str state = tocsin_form_get(kv, nkv, "state"), code = tocsin_form_get(kv, nkv, "code");
    tocsin_str browser = dash_cookie(req, sso_cookie_name(dash));
    if (tocsin_form_get(kv, nkv, "error").base) {
        /* The provider refused (the person cancelled, or it has no such
         * client); its words are not shown: they are the request's. */
        sso_page(req, 403,
                 "Your sign-in provider did not sign you in. Start again from the login "
                 "page.");
        return;
    }
    if (!token_ok(state, 128) || !token_ok(code, 2048)) {
        sso_page(req, 400,
                 "The provider's answer lacks its code or state. Start again from the "
                 "login page.");
        return;
    }
    if (!token_ok(browser, 128)) {
        sso_page(req, 400,
                 "This browser did not start this sign-in (its sign-in cookie is missing: cookies "
                 "may be blocked). Start again from the login page.");
        return;
    }
    struct tocsin_arena *a = tocsin_http_arena(req);
    struct callback *cb = tocsin_arena_alloc(a, sizeof *cb);
    char *st = tocsin_arena_strndup(a, state.base, state.len);
    char *br = tocsin_arena_strndup(a, browser.base, browser.len);
    if (!cb || !st || !br) {
        sso_page(req, 500, "Out of memory.");
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
    sso_sha256_hex(st, state_hash);
    sso_sha256_hex(br, browser_hash);
    const char *params[] = {state_hash, browser_hash};
    if (!cb->code ||
        tocsin_db_query(dash->d->db,
                        "SELECT org_id, outcome, nonce, code_verifier, issuer, client_id,"
                        "       client_secret FROM tocsin_sso_finish($1::bytea, $2::bytea)",
                        2, params, state_spent, cb) != 0)
        sso_page(req, 503, "The dashboard is shutting down.");
}
