/* SPDX-License-Identifier: AGPL-3.0-or-later
 * jwt.c — a compact JWS split and decoded, its signature checked with a
 * key of jwk.c (the key's algorithm, never the header's choice), and an
 * OpenID Connect ID token's claims checked. Tokens are bounded in length
 * before anything is decoded; JSON is read by jansson with duplicate
 * members refused, so no claim can be said twice. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ecdsa.h>

#include "jwt.h"

const char *tocsin_jwt_error_name(int code)
{
    switch (code) {
    case TOCSIN_JWT_OK:
        return "ok";
    case TOCSIN_JWT_MALFORMED:
        return "malformed_token";
    case TOCSIN_JWT_BAD_ALG:
        return "bad_algorithm";
    case TOCSIN_JWT_NO_KEY:
        return "unknown_key";
    case TOCSIN_JWT_SIGNATURE:
        return "bad_signature";
    case TOCSIN_JWT_ISSUER:
        return "wrong_issuer";
    case TOCSIN_JWT_AUDIENCE:
        return "wrong_audience";
    case TOCSIN_JWT_EXPIRED:
        return "expired";
    case TOCSIN_JWT_NOT_YET:
        return "not_yet_valid";
    case TOCSIN_JWT_NONCE:
        return "wrong_nonce";
    case TOCSIN_JWT_CLAIMS:
        return "missing_claim";
    default:
        return "refused";
    }
}

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return code;
}

/* base64url part[0..len) decoded and read as a JSON object. */
static json_t *json_part(const char *part, size_t len)
{
    size_t cap = len / 4 * 3 + 3;
    unsigned char *buf = malloc(cap);
    if (!buf)
        return NULL;
    long n = tocsin_base64url_decode(part, len, buf, cap);
    json_t *v = NULL;
    if (n > 0) {
        json_error_t e;
        v = json_loadb((const char *)buf, (size_t)n, JSON_REJECT_DUPLICATES, &e);
        if (v && !json_is_object(v)) {
            json_decref(v);
            v = NULL;
        }
    }
    free(buf);
    return v;
}

int tocsin_jwt_parse(const char *token, size_t len, struct tocsin_jwt *jwt, char *err,
                     size_t errlen)
{
    memset(jwt, 0, sizeof *jwt);
    if (len == 0 || len > TOCSIN_JWT_MAX_LEN)
        return fail(err, errlen, TOCSIN_JWT_MALFORMED, "the token is empty or longer than %d bytes",
                    TOCSIN_JWT_MAX_LEN);
    const char *d1 = memchr(token, '.', len);
    const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token)) : NULL;
    if (!d1 || !d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)))
        return fail(err, errlen, TOCSIN_JWT_MALFORMED,
                    "the token is not three dot-separated parts");
    jwt->header = json_part(token, (size_t)(d1 - token));
    jwt->claims = json_part(d1 + 1, (size_t)(d2 - d1 - 1));
    if (!jwt->header || !jwt->claims)
        return fail(err, errlen, TOCSIN_JWT_MALFORMED,
                    "the token's header or payload is not a base64url JSON object");
    long sl =
        tocsin_base64url_decode(d2 + 1, len - (size_t)(d2 + 1 - token), jwt->sig, sizeof jwt->sig);
    if (sl <= 0)
        return fail(err, errlen, TOCSIN_JWT_MALFORMED, "the token's signature is not base64url");
    jwt->sig_len = (size_t)sl;
    jwt->alg = json_string_value(json_object_get(jwt->header, "alg"));
    json_t *kid = json_object_get(jwt->header, "kid");
    if (!jwt->alg)
        return fail(err, errlen, TOCSIN_JWT_MALFORMED, "the token's header names no alg");
    if (kid && !json_is_string(kid))
        return fail(err, errlen, TOCSIN_JWT_MALFORMED, "the token's kid is not a string");
    if (json_object_get(jwt->header, "crit"))
        return fail(err, errlen, TOCSIN_JWT_MALFORMED, "the token has critical extensions");
    jwt->kid = json_string_value(kid);
    jwt->signing_input = token;
    jwt->signing_input_len = (size_t)(d2 - token);
    return 0;
}

void tocsin_jwt_free(struct tocsin_jwt *jwt)
{
    json_decref(jwt->header);
    json_decref(jwt->claims);
    jwt->header = jwt->claims = NULL;
}

/* JWS carries ES256 as r || s (32 bytes each); OpenSSL wants DER. */
static int es256_der(const unsigned char *raw, size_t len, unsigned char *der, size_t *derlen)
{
    if (len != 64)
        return -1;
    ECDSA_SIG *s = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(raw, 32, NULL), *ss = BN_bin2bn(raw + 32, 32, NULL);
    if (!s || !r || !ss || !ECDSA_SIG_set0(s, r, ss)) {
        ECDSA_SIG_free(s);
        BN_free(r);
        BN_free(ss);
        return -1;
    }
    unsigned char *p = der;
    int n = i2d_ECDSA_SIG(s, NULL);
    if (n <= 0 || (size_t)n > *derlen) {
        ECDSA_SIG_free(s);
        return -1;
    }
    n = i2d_ECDSA_SIG(s, &p);
    ECDSA_SIG_free(s);
    *derlen = (size_t)n;
    return 0;
}

int tocsin_jwt_verify(const struct tocsin_jwt *jwt, const struct tocsin_jwk *key)
{
    const char *want = key->alg == TOCSIN_JWT_RS256   ? "RS256"
                       : key->alg == TOCSIN_JWT_ES256 ? "ES256"
                                                      : NULL;
    /* The key decides: a header saying HS256 (an attacker's MAC keyed with
     * the public key) or none never reaches a verifier. */
    if (!want || !jwt->alg || strcmp(jwt->alg, want) != 0 || !key->pkey)
        return TOCSIN_JWT_BAD_ALG;
    unsigned char der[80];
    const unsigned char *sig = jwt->sig;
    size_t siglen = jwt->sig_len;
    if (key->alg == TOCSIN_JWT_ES256) {
        siglen = sizeof der;
        if (es256_der(jwt->sig, jwt->sig_len, der, &siglen) != 0)
            return TOCSIN_JWT_SIGNATURE;
        sig = der;
    }
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key->pkey) == 1 &&
             EVP_DigestVerify(md, sig, siglen, (const unsigned char *)jwt->signing_input,
                              jwt->signing_input_len) == 1;
    EVP_MD_CTX_free(md);
    return ok ? 0 : TOCSIN_JWT_SIGNATURE;
}

/* A NumericDate claim: 1 with *out set, 0 when absent, -1 when not a
 * finite number in range. */
static int numeric_date(json_t *claims, const char *name, long long *out)
{
    json_t *v = json_object_get(claims, name);
    if (!v)
        return 0;
    if (!json_is_number(v))
        return -1;
    double d = json_number_value(v);
    if (!isfinite(d) || d < 0 || d > 253402300799.0) /* year 9999 */
        return -1;
    *out = (long long)d;
    return 1;
}

static int audience_ok(json_t *aud, const char *client_id, size_t *count)
{
    *count = 0;
    if (json_is_string(aud)) {
        *count = 1;
        return strcmp(json_string_value(aud), client_id) == 0;
    }
    if (!json_is_array(aud))
        return 0;
    int found = 0;
    size_t i;
    json_t *a;
    json_array_foreach(aud, i, a)
    {
        if (!json_is_string(a))
            return 0;
        found |= strcmp(json_string_value(a), client_id) == 0;
    }
    *count = json_array_size(aud);
    return found;
}

int tocsin_id_token_check(const struct tocsin_jwt *jwt, const struct tocsin_id_token_expect *e,
                          char *err, size_t errlen)
{
    json_t *c = jwt->claims;
    const char *iss = json_string_value(json_object_get(c, "iss"));
    const char *sub = json_string_value(json_object_get(c, "sub"));
    const char *nonce = json_string_value(json_object_get(c, "nonce"));
    json_t *azp = json_object_get(c, "azp");
    long long exp = 0, iat = 0, nbf = 0;
    int has_exp = numeric_date(c, "exp", &exp), has_iat = numeric_date(c, "iat", &iat);
    int has_nbf = numeric_date(c, "nbf", &nbf);
    size_t naud;
    if (!iss || !sub || !*sub || has_exp != 1 || has_iat != 1 || has_nbf < 0)
        return fail(err, errlen, TOCSIN_JWT_CLAIMS,
                    "the ID token lacks iss, sub, exp or iat, or one is of the wrong type");
    if (strcmp(iss, e->issuer) != 0)
        return fail(err, errlen, TOCSIN_JWT_ISSUER, "the ID token was issued by another issuer");
    if (!audience_ok(json_object_get(c, "aud"), e->client_id, &naud))
        return fail(err, errlen, TOCSIN_JWT_AUDIENCE, "the ID token is not meant for this client");
    /* Several audiences: the party it was issued to must be us. */
    if ((naud > 1 || azp) &&
        (!json_is_string(azp) || strcmp(json_string_value(azp), e->client_id) != 0))
        return fail(err, errlen, TOCSIN_JWT_AUDIENCE,
                    "the ID token was issued to another party (azp)");
    if (e->now >= exp + e->skew_s)
        return fail(err, errlen, TOCSIN_JWT_EXPIRED, "the ID token has expired");
    if (iat > e->now + e->skew_s || (has_nbf && nbf > e->now + e->skew_s))
        return fail(err, errlen, TOCSIN_JWT_NOT_YET, "the ID token is not valid yet");
    if (iat < e->now - e->max_age_s - e->skew_s)
        return fail(err, errlen, TOCSIN_JWT_EXPIRED, "the ID token was issued too long ago");
    if (!nonce || !e->nonce || strcmp(nonce, e->nonce) != 0)
        return fail(err, errlen, TOCSIN_JWT_NONCE, "the ID token's nonce is not this login's");
    return 0;
}
