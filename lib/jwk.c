/* SPDX-License-Identifier: AGPL-3.0-or-later
 * jwk.c — JSON Web Key sets (RFC 7517, 7518) into OpenSSL public keys:
 * RSA (2048 bits or more, for RS256) and EC P-256 (for ES256). The
 * algorithm a token may use comes from here, from the key's type, never
 * from the token. Tokens themselves are jwt.c's. */
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include "jwt.h"

#define RSA_MIN_BITS 2048
#define RSA_MAX_BYTES 1024 /* 8192-bit modulus */

long tocsin_base64url_decode(const char *in, size_t len, unsigned char *out, size_t outsize)
{
    if (len % 4 == 1)
        return -1;
    size_t want = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
    if (want > outsize)
        return -1;
    unsigned acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        unsigned v;
        if (c >= 'A' && c <= 'Z')
            v = (unsigned)(c - 'A');
        else if (c >= 'a' && c <= 'z')
            v = (unsigned)(c - 'a' + 26);
        else if (c >= '0' && c <= '9')
            v = (unsigned)(c - '0' + 52);
        else if (c == '-')
            v = 62;
        else if (c == '_')
            v = 63;
        else
            return -1;
        acc = (acc << 6) | v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) /* leftover bits must be zero: one encoding per value */
        return -1;
    return (long)o;
}

/* A member that is a base64url string, decoded into out. Returns its
 * length or -1. */
static long member_b64(json_t *key, const char *name, unsigned char *out, size_t outsize)
{
    const char *s = json_string_value(json_object_get(key, name));
    if (!s)
        return -1;
    return tocsin_base64url_decode(s, strlen(s), out, outsize);
}

static EVP_PKEY *from_params(const char *type, OSSL_PARAM_BLD *bld)
{
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        pkey = NULL;
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return pkey;
}

static EVP_PKEY *rsa_key(json_t *key)
{
    unsigned char n[RSA_MAX_BYTES], e[16];
    long nl = member_b64(key, "n", n, sizeof n), el = member_b64(key, "e", e, sizeof e);
    if (nl <= 0 || el <= 0)
        return NULL;
    BIGNUM *bn = BN_bin2bn(n, (int)nl, NULL), *be = BN_bin2bn(e, (int)el, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    EVP_PKEY *pkey = NULL;
    if (bn && be && bld && BN_num_bits(bn) >= RSA_MIN_BITS && BN_is_odd(be) &&
        BN_num_bits(be) > 1 && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be))
        pkey = from_params("RSA", bld);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);
    return pkey;
}

static EVP_PKEY *ec_key(json_t *key)
{
    const char *crv = json_string_value(json_object_get(key, "crv"));
    unsigned char point[65];
    point[0] = 0x04; /* uncompressed: x then y */
    if (!crv || strcmp(crv, "P-256") != 0 || member_b64(key, "x", point + 1, 32) != 32 ||
        member_b64(key, "y", point + 33, 32) != 32)
        return NULL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    EVP_PKEY *pkey = NULL;
    /* fromdata checks that the point is on the curve */
    if (bld && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) &&
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point))
        pkey = from_params("EC", bld);
    OSSL_PARAM_BLD_free(bld);
    if (pkey) {
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
        int ok = ctx && EVP_PKEY_public_check(ctx) == 1;
        EVP_PKEY_CTX_free(ctx);
        if (!ok) {
            EVP_PKEY_free(pkey);
            pkey = NULL;
        }
    }
    return pkey;
}

/* One key of the set into *out; returns 1 when usable, 0 when skipped. */
static int read_key(json_t *key, struct tocsin_jwk *out)
{
    const char *kty = json_string_value(json_object_get(key, "kty"));
    const char *use = json_string_value(json_object_get(key, "use"));
    const char *alg = json_string_value(json_object_get(key, "alg"));
    json_t *kid = json_object_get(key, "kid");
    if (!json_is_object(key) || !kty || (use && strcmp(use, "sig") != 0))
        return 0;
    if (kid && (!json_is_string(kid) || json_string_length(kid) >= sizeof out->kid ||
                strlen(json_string_value(kid)) != json_string_length(kid)))
        return 0;
    enum tocsin_jwt_alg implied = strcmp(kty, "RSA") == 0  ? TOCSIN_JWT_RS256
                                  : strcmp(kty, "EC") == 0 ? TOCSIN_JWT_ES256
                                                           : TOCSIN_JWT_ALG_NONE;
    if (implied == TOCSIN_JWT_ALG_NONE)
        return 0;
    if (alg && strcmp(alg, implied == TOCSIN_JWT_RS256 ? "RS256" : "ES256") != 0)
        return 0; /* PS256, RS512, ...: not ours to guess */
    out->pkey = implied == TOCSIN_JWT_RS256 ? rsa_key(key) : ec_key(key);
    if (!out->pkey)
        return 0;
    out->alg = implied;
    snprintf(out->kid, sizeof out->kid, "%s", kid ? json_string_value(kid) : "");
    return 1;
}

int tocsin_jwks_parse(const char *json, size_t len, struct tocsin_jwks *set, char *err,
                      size_t errlen)
{
    memset(set, 0, sizeof *set);
    json_error_t e;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &e);
    json_t *keys = json_object_get(root, "keys");
    if (!json_is_array(keys)) {
        snprintf(err, errlen, "the key set is not a JSON object with a \"keys\" array");
        json_decref(root);
        return TOCSIN_JWT_MALFORMED;
    }
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k)
    {
        if (set->n == TOCSIN_JWKS_MAX_KEYS)
            break;
        if (read_key(k, &set->keys[set->n]))
            set->n++;
    }
    json_decref(root);
    return 0;
}

void tocsin_jwks_free(struct tocsin_jwks *set)
{
    for (size_t i = 0; i < set->n; i++)
        EVP_PKEY_free(set->keys[i].pkey);
    set->n = 0;
}

const struct tocsin_jwk *tocsin_jwks_find(const struct tocsin_jwks *set, const char *kid)
{
    if (!kid)
        return set->n == 1 ? &set->keys[0] : NULL;
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->keys[i].kid, kid) == 0)
            return &set->keys[i];
    return NULL;
}
