/* SPDX-License-Identifier: AGPL-3.0-or-later
 * sso_provider.c — what the dashboard knows of each OpenID provider, in
 * memory: its discovery document (endpoints, for an hour) and its signing
 * keys by kid, fetched over the back channel with our HTTP client on the loop
 * (lib/http_client). A key set is fetched again when a token names a kid
 * it lacks, at most once per SSO_JWKS_REFETCH_MS per issuer: rotation at
 * the provider is picked up on the next login, a forged kid costs one
 * fetch at most. Does not know about orgs or sessions (sso_flow.c does). */
#include <stdlib.h>
#include <string.h>

#include "http_client.h"
#include "log.h"
#include "sso.h"

#define PROVIDERS_MAX 16
#define DISCOVERY_TTL_MS (3600 * 1000)
#define FETCH_TIMEOUT_MS 5000
#define DOC_MAX_BYTES (256 * 1024)

struct provider {
    struct sso_provider_info info; /* info.issuer "" = free slot */
    char jwks_uri[SSO_URL_MAX + 1];
    uint64_t discovered_ms, used_ms;
    struct tocsin_jwks jwks;
    int has_jwks;
    uint64_t jwks_attempt_ms; /* the last key set fetch started */
};

struct sso_cache {
    struct dashboard *dash;
    struct tocsin_http_client *http;
    struct provider providers[PROVIDERS_MAX];
    int closing;
};

/* A fetch in flight: discovery (jwt NULL) or a key set. */
struct fetch {
    struct sso_cache *c;
    char issuer[SSO_ISSUER_MAX + 1];
    sso_discovered_cb discovered;
    sso_verified_cb verified;
    const struct tocsin_jwt *jwt;
    void *ctx;
};

static uint64_t now_ms(struct sso_cache *c)
{
    return uv_now(c->dash->d->loop);
}

struct sso_cache *sso_cache_new(struct dashboard *dash)
{
    struct sso_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->dash = dash;
    c->http = tocsin_http_client_new(dash->d->loop, 16);
    if (!c->http) {
        free(c);
        return NULL;
    }
    return c;
}

struct tocsin_http_client *sso_cache_http(struct sso_cache *c)
{
    return c->http;
}

static void http_closed(void *arg)
{
    struct sso_cache *c = arg;
    for (size_t i = 0; i < PROVIDERS_MAX; i++)
        tocsin_jwks_free(&c->providers[i].jwks);
    free(c);
}

void sso_cache_free(struct sso_cache *c)
{
    if (!c)
        return;
    c->closing = 1;
    tocsin_http_client_close(c->http, http_closed, c);
}

static int loopback_host(const char *host, size_t len)
{
    return (len == 9 && memcmp(host, "127.0.0.1", 9) == 0) ||
           (len == 5 && memcmp(host, "[::1]", 5) == 0) ||
           (len == 9 && memcmp(host, "localhost", 9) == 0);
}

int sso_url_allowed(const struct dashboard *dash, const char *url)
{
    size_t len = strlen(url);
    if (len > SSO_URL_MAX || strpbrk(url, " \t\r\n\"'<>\\#`"))
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)url[i] < 0x21 || (unsigned char)url[i] == 0x7f)
            return 0;
    if (strncmp(url, "https://", 8) == 0)
        return len > 8 && url[8] != '/' && url[8] != ':' &&
               !memchr(url + 8, '@', strcspn(url + 8, "/?"));
    if (strncmp(url, "http://", 7) != 0 || !dash->d->cfg.sso_allow_http)
        return 0;
    const char *host = url + 7;
    size_t hl = strcspn(host, "/?");
    if (memchr(host, '@', hl)) /* "localhost:80@elsewhere": the host is after the @ */
        return 0;
    const char *colon = host[0] == '[' ? memchr(host, ']', hl) : memchr(host, ':', hl);
    if (host[0] == '[' && colon)
        colon = colon + 1 < host + hl && colon[1] == ':' ? colon + 1 : NULL;
    size_t name = colon ? (size_t)(colon - host) : hl;
    return loopback_host(host, name);
}

static struct provider *find(struct sso_cache *c, const char *issuer)
{
    for (size_t i = 0; i < PROVIDERS_MAX; i++)
        if (strcmp(c->providers[i].info.issuer, issuer) == 0)
            return &c->providers[i];
    return NULL;
}

/* The slot for issuer: its own, a free one, or the least recently used. */
static struct provider *slot(struct sso_cache *c, const char *issuer)
{
    struct provider *p = find(c, issuer), *oldest = &c->providers[0];
    if (p)
        return p;
    for (size_t i = 0; i < PROVIDERS_MAX; i++) {
        if (!c->providers[i].info.issuer[0])
            return &c->providers[i];
        if (c->providers[i].used_ms < oldest->used_ms)
            oldest = &c->providers[i];
    }
    tocsin_jwks_free(&oldest->jwks);
    memset(oldest, 0, sizeof *oldest);
    return oldest;
}

/* A string member of doc that is an allowed URL, copied into out. */
static int endpoint(struct sso_cache *c, json_t *doc, const char *name, char *out, size_t outlen)
{
    const char *v = json_string_value(json_object_get(doc, name));
    if (!v || strlen(v) >= outlen || !sso_url_allowed(c->dash, v))
        return -1;
    memcpy(out, v, strlen(v) + 1);
    return 0;
}

static int start_fetch(struct sso_cache *c, const char *url, struct fetch *f,
                       tocsin_http_client_cb cb)
{
    static const char *const headers[] = {"Accept: application/json", NULL};
    struct tocsin_http_client_request req = {
        .method = "GET", .url = url, .headers = headers, .timeout_ms = FETCH_TIMEOUT_MS};
    return tocsin_http_client_send(c->http, &req, cb, f);
}

static void discovered(const struct tocsin_http_client_response *r, void *arg)
{
    struct fetch *f = arg;
    struct sso_cache *c = f->c;
    const char *err = NULL;
    json_t *doc = NULL;
    struct provider *p = NULL;
    if (c->closing)
        goto out;
    if (r->status != 200 || r->body_len > DOC_MAX_BYTES) {
        err = "the provider's discovery document could not be fetched";
        log_warn("sso_discovery_failed", "status=%ld error=%s", r->status, tocsin_log_q(r->error));
        goto out;
    }
    json_error_t je;
    doc = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &je);
    const char *iss = json_string_value(json_object_get(doc, "issuer"));
    if (!iss || strcmp(iss, f->issuer) != 0) {
        /* OpenID Connect Discovery 4.3: a document for another issuer is
         * someone else's, whoever served it. */
        err = "the provider's discovery document names another issuer than the one configured";
        log_warn("sso_issuer_mismatch", "configured_len=%zu", strlen(f->issuer));
        goto out;
    }
    p = slot(c, f->issuer);
    struct sso_provider_info info;
    char jwks_uri[SSO_URL_MAX + 1];
    memset(&info, 0, sizeof info);
    snprintf(info.issuer, sizeof info.issuer, "%s", f->issuer);
    if (endpoint(c, doc, "authorization_endpoint", info.authorization_endpoint,
                 sizeof info.authorization_endpoint) ||
        endpoint(c, doc, "token_endpoint", info.token_endpoint, sizeof info.token_endpoint) ||
        endpoint(c, doc, "jwks_uri", jwks_uri, sizeof jwks_uri)) {
        err = "the provider's discovery document lacks an endpoint, or one is not https";
        p = NULL;
        goto out;
    }
    if (strcmp(p->info.issuer, f->issuer) != 0 || strcmp(p->jwks_uri, jwks_uri) != 0) {
        tocsin_jwks_free(&p->jwks); /* another issuer's slot, or its keys moved */
        p->has_jwks = 0;
    }
    p->info = info;
    memcpy(p->jwks_uri, jwks_uri, sizeof jwks_uri);
    p->discovered_ms = p->used_ms = now_ms(c);
    log_info("sso_discovered", "issuer_len=%zu", strlen(f->issuer));
out:
    json_decref(doc);
    if (!c->closing)
        f->discovered(err ? NULL : &p->info, err, f->ctx);
    free(f);
}

int sso_discover(struct sso_cache *c, const char *issuer, sso_discovered_cb cb, void *ctx)
{
    struct provider *p = find(c, issuer);
    if (p && p->discovered_ms && now_ms(c) - p->discovered_ms < DISCOVERY_TTL_MS) {
        p->used_ms = now_ms(c);
        cb(&p->info, NULL, ctx);
        return 0;
    }
    if (!sso_url_allowed(c->dash, issuer)) {
        cb(NULL, "the issuer is not an https:// URL", ctx);
        return 0;
    }
    struct fetch *f = calloc(1, sizeof *f);
    char url[SSO_URL_MAX + 64];
    size_t il = strlen(issuer);
    if (!f)
        return -1;
    f->c = c;
    snprintf(f->issuer, sizeof f->issuer, "%s", issuer);
    f->discovered = cb;
    f->ctx = ctx;
    /* Discovery 4: the issuer, less a trailing slash, then the path. */
    snprintf(url, sizeof url, "%.*s/.well-known/openid-configuration",
             (int)(il && issuer[il - 1] == '/' ? il - 1 : il), issuer);
    if (start_fetch(c, url, f, discovered) != 0) {
        free(f);
        return -1;
    }
    return 0;
}

static int verify_with(struct provider *p, const struct tocsin_jwt *jwt)
{
    const struct tocsin_jwk *k = tocsin_jwks_find(&p->jwks, jwt->kid);
    return k ? tocsin_jwt_verify(jwt, k) : TOCSIN_JWT_NO_KEY;
}

static void keys_fetched(const struct tocsin_http_client_response *r, void *arg)
{
    struct fetch *f = arg;
    struct sso_cache *c = f->c;
    int rc = TOCSIN_JWT_NO_KEY;
    if (c->closing) {
        free(f);
        return;
    }
    struct provider *p = find(c, f->issuer);
    char err[200];
    struct tocsin_jwks set;
    if (p && r->status == 200 && r->body_len <= DOC_MAX_BYTES &&
        tocsin_jwks_parse(r->body, r->body_len, &set, err, sizeof err) == 0) {
        tocsin_jwks_free(&p->jwks);
        p->jwks = set;
        p->has_jwks = 1;
        log_info("sso_keys_fetched", "keys=%zu", set.n);
        rc = verify_with(p, f->jwt);
    } else {
        log_warn("sso_keys_failed", "status=%ld error=%s", r->status, tocsin_log_q(r->error));
    }
    f->verified(rc, f->ctx);
    free(f);
}

int sso_verify_signature(struct sso_cache *c, const char *issuer, const struct tocsin_jwt *jwt,
                         sso_verified_cb cb, void *ctx)
{
    struct provider *p = find(c, issuer);
    if (!p || !p->discovered_ms) {
        cb(TOCSIN_JWT_NO_KEY, ctx);
        return 0;
    }
    int rc = p->has_jwks ? verify_with(p, jwt) : TOCSIN_JWT_NO_KEY;
    uint64_t now = now_ms(c);
    if (rc != TOCSIN_JWT_NO_KEY ||
        (p->has_jwks && now - p->jwks_attempt_ms < SSO_JWKS_REFETCH_MS)) {
        cb(rc, ctx);
        return 0;
    }
    struct fetch *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    f->c = c;
    snprintf(f->issuer, sizeof f->issuer, "%s", issuer);
    f->verified = cb;
    f->jwt = jwt;
    f->ctx = ctx;
    p->jwks_attempt_ms = now;
    if (start_fetch(c, p->jwks_uri, f, keys_fetched) != 0) {
        free(f);
        return -1;
    }
    return 0;
}
