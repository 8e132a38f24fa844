/* SPDX-License-Identifier: AGPL-3.0-or-later
 * sso_start.c — GET /sso/start?org=SLUG: the first half of single sign-on
 * (sso_flow.c). Finds the org's provider (on, and discovered), keeps a
 * fresh state, nonce and PKCE verifier (sso_logins, the state and the
 * browser's cookie hashed, ten minutes), sets the browser's sign-in cookie
 * and sends it to the provider's authorization endpoint. Starts are
 * limited per client address. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "client_addr.h"
#include "form.h"
#include "log.h"
#include "ratelimit.h"
#include "sso.h"
#include "static_files.h"

#define LOGIN_TTL_S 600 /* a sign-in must come back within ten minutes */

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
    sso_page(req, 429, "Too many sign-in attempts from this address. Wait a minute and try again.");
    return 1;
}

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
        sso_page(s->req, 503, "The sign-in could not be started. Try again in a moment.");
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
    size_t q = sso_form_fields(query, sizeof query, fields, ARRAY_SIZE(fields));
    if (q == (size_t)-1 || n + q + 1 > sizeof url) {
        sso_page(s->req, 500, "The provider's sign-in address is too long.");
        return;
    }
    memcpy(url + n, query, q + 1);
    /* SameSite=Lax: the provider sends the browser back with a top-level
     * GET from its own site, which Strict would strip the cookie from. */
    snprintf(cookie, sizeof cookie, "%s=%s; Path=/; Max-Age=%d; HttpOnly; SameSite=Lax%s",
             sso_cookie_name(s->dash), s->browser, LOGIN_TTL_S,
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
        sso_page(s->req, 502, text);
        return;
    }
    s->info = *p;
    char state_hash[67], browser_hash[67];
    if (tocsin_random_token(32, s->state, sizeof s->state) ||
        tocsin_random_token(32, s->nonce, sizeof s->nonce) ||
        tocsin_random_token(32, s->verifier, sizeof s->verifier) ||
        tocsin_random_token(32, s->browser, sizeof s->browser)) {
        sso_page(s->req, 500, "The sign-in could not be started.");
        return;
    }
    sso_sha256_hex(s->state, state_hash);
    sso_sha256_hex(s->browser, browser_hash);
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
        sso_page(s->req, 503, "The dashboard is shutting down.");
}

static void start_config(const struct tocsin_db_result *r, void *ctx)
{
    struct start *s = ctx;
    if (r->error) {
        log_warn("sso_start_failed", "error=%s", tocsin_log_q(r->error));
        sso_page(s->req, 503, "The database is unavailable. Try again in a moment.");
        return;
    }
    if (PQntuples(r->res) != 1) {
        sso_page(s->req, 404,
                 "Single sign-on is not set up for that organisation. Check its short name, or log "
                 "in with your password.");
        return;
    }
    snprintf(s->org_id, sizeof s->org_id, "%s", PQgetvalue(r->res, 0, 0));
    const char *issuer = PQgetvalue(r->res, 0, 1);
    snprintf(s->client_id, sizeof s->client_id, "%s", PQgetvalue(r->res, 0, 2));
    if (sso_discover(s->dash->sso, issuer, start_discovered, s) != 0)
        sso_page(s->req, 500, "The sign-in could not be started.");
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

void sso_start(struct tocsin_http_req *req, void *ctx)
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
        sso_page(req, 400, "Give your organisation's short name (letters, digits and dashes).");
        return;
    }
    struct start *s = tocsin_arena_alloc(tocsin_http_arena(req), sizeof *s);
    if (!s) {
        sso_page(req, 500, "Out of memory.");
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
        sso_page(req, 503, "The dashboard is shutting down.");
}
