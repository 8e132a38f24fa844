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
 * plain words; the ones past the state are audited (sso.refused).
 * This file holds what both halves share; the start is sso_start.c, the
 * callback sso_callback.c. */
#include <stdio.h>
#include <string.h>

#include "form.h"
#include "sso.h"
#include "static_files.h"

const char *sso_cookie_name(const struct dashboard *dash)
{
    return dash->secure_cookies ? SSO_COOKIE_HOST : SSO_COOKIE;
}

/* A page for a person: what happened and the way back. text is ours,
 * never the provider's or the request's. */
void sso_page(struct tocsin_http_req *req, int status, const char *text)
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

void sso_sha256_hex(const char *s, char out[67])
{
    api_token_hash_hex(s, strlen(s), out);
}

/* "k=v&k=v" of n (key, value) pairs, percent-encoded, into buf; returns
 * its length, or (size_t)-1 when it does not fit. */
size_t sso_form_fields(char *buf, size_t cap, const tocsin_str (*kv)[2], size_t n)
{
    size_t len = 0;
    for (size_t i = 0; i < n && len != (size_t)-1; i++)
        len = tocsin_form_append(buf, cap, len, kv[i][0], kv[i][1]);
    return len;
}

void sso_routes(struct dashboard *dash)
{
    tocsin_http_route(dash->d->http, "GET", "/sso/start", sso_start, dash);
    tocsin_http_route(dash->d->http, "GET", "/sso/callback", sso_callback, dash);
}
