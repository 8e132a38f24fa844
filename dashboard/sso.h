/* SPDX-License-Identifier: AGPL-3.0-or-later
 * sso.h — single sign-on with OpenID Connect, inside the dashboard: the
 * providers' discovery documents and signing keys, cached in memory
 * (sso_provider.c); the browser's round trip through the provider,
 * /sso/start and /sso/callback (sso_start.c, sso_callback.c, sharing
 * sso_flow.c); an admin's settings (api_sso.c). Token parsing and checks
 * are lib/jwt.c's. */
#ifndef DASHBOARD_SSO_H
#define DASHBOARD_SSO_H

#include "dashboard.h"
#include "jwt.h"

#define SSO_URL_MAX 1024
#define SSO_ISSUER_MAX 500

struct sso_cache;

/* What discovery found for an issuer (endpoints checked like the issuer). */
struct sso_provider_info {
    char issuer[SSO_ISSUER_MAX + 1];
    char authorization_endpoint[SSO_URL_MAX + 1];
    char token_endpoint[SSO_URL_MAX + 1];
};

struct sso_cache *sso_cache_new(struct dashboard *dash);
/* The back channel's HTTP client (the token endpoint's requests too). */
struct tocsin_http_client *sso_cache_http(struct sso_cache *c);
/* Lets fetches in flight finish (their callbacks are not called), then frees. */
void sso_cache_free(struct sso_cache *c);

/* Finds issuer's endpoints: from the cache when fetched within the hour,
 * else from issuer + "/.well-known/openid-configuration", whose "issuer"
 * must be exactly the configured one. cb gets the info, or NULL and a
 * reason a person can read; it may run before sso_discover returns.
 * Returns 0, or -1 (out of memory; cb not called). */
typedef void (*sso_discovered_cb)(const struct sso_provider_info *p, const char *err, void *ctx);
int sso_discover(struct sso_cache *c, const char *issuer, sso_discovered_cb cb, void *ctx);

/* Checks jwt's signature with the issuer's key named by its kid (after
 * sso_discover). Keys are cached by kid; a kid the cache lacks fetches the
 * key set again, once, and at most once per SSO_JWKS_REFETCH_MS per issuer
 * whatever the tokens say, so forged kids cannot make the dashboard hammer
 * the provider. cb gets 0 or a tocsin_jwt_error; it may run before the
 * call returns. jwt must live until then. Returns 0 or -1 (cb not called). */
#define SSO_JWKS_REFETCH_MS 10000
typedef void (*sso_verified_cb)(int rc, void *ctx);
int sso_verify_signature(struct sso_cache *c, const char *issuer, const struct tocsin_jwt *jwt,
                         sso_verified_cb cb, void *ctx);

/* 1 when url may be an issuer or a provider endpoint: https://, or
 * http:// to 127.0.0.1, [::1] or localhost under TOCSIN_SSO_ALLOW_HTTP=1;
 * at most SSO_URL_MAX bytes, no spaces, controls, quotes or fragment. */
int sso_url_allowed(const struct dashboard *dash, const char *url);

/* Registers GET /sso/start and GET /sso/callback. */
void sso_routes(struct dashboard *dash);

/* --- the flow's two halves (sso_start.c, sso_callback.c) and what they
 * share (sso_flow.c) --- */
#define SSO_COOKIE "tocsin_sso" /* binds a sign-in to its browser */
#define SSO_COOKIE_HOST "__Host-tocsin_sso"
void sso_start(struct tocsin_http_req *req, void *ctx);    /* ctx: the dashboard */
void sso_callback(struct tocsin_http_req *req, void *ctx); /* ctx: the dashboard */
/* The sign-in cookie's name: __Host- prefixed over https. */
const char *sso_cookie_name(const struct dashboard *dash);
/* Answers a page for a person saying text (ours, never the provider's or
 * the request's: it is not escaped) and the way back to the login page. */
void sso_page(struct tocsin_http_req *req, int status, const char *text);
/* SHA-256 of a NUL-terminated token as a bytea literal (api_token_hash_hex). */
void sso_sha256_hex(const char *s, char out[67]);
/* "k=v&k=v" of n (key, value) pairs, percent-encoded, into buf; returns
 * its length, or (size_t)-1 when it does not fit. */
size_t sso_form_fields(char *buf, size_t cap, const tocsin_str (*kv)[2], size_t n);

/* Handlers of /api/sso (api_sso.c): an admin reads and sets the org's
 * provider; the client secret is write-only. */
void api_sso_show(struct api_call *call);
void api_sso_save(struct api_call *call);

#endif
