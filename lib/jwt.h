/* SPDX-License-Identifier: AGPL-3.0-or-later
 * jwt.h — JSON Web Tokens as OpenID Connect ID tokens use them: a compact
 * JWS split and decoded (RFC 7515, 7519), a JSON Web Key set read into
 * OpenSSL public keys (RFC 7517: RSA of 2048 bits or more, EC P-256),
 * the signature checked with the algorithm the key names (RS256, ES256;
 * never "none", never an HMAC), and the ID token's claims checked (OpenID
 * Connect Core 3.1.3.7: iss, aud, azp, exp, iat, nbf, nonce). Fetching
 * and caching keys is the caller's (dashboard/sso_*.c). */
#ifndef TOCSIN_JWT_H
#define TOCSIN_JWT_H

#include <stddef.h>

#include <jansson.h>
#include <openssl/evp.h>

/* A longer token is refused before any decoding. */
#define TOCSIN_JWT_MAX_LEN 16384
/* A key set with more keys is read up to this many. */
#define TOCSIN_JWKS_MAX_KEYS 16

/* Why a token was refused; each has a fixed reason for logs and pages
 * (tocsin_jwt_error_name). */
enum tocsin_jwt_error {
    TOCSIN_JWT_OK = 0,
    TOCSIN_JWT_MALFORMED = -1, /* not three base64url parts of JSON objects */
    TOCSIN_JWT_BAD_ALG = -2,   /* none, HMAC, or not the key's algorithm */
    TOCSIN_JWT_NO_KEY = -3,    /* no key of the set has the token's kid */
    TOCSIN_JWT_SIGNATURE = -4, /* the signature does not verify */
    TOCSIN_JWT_ISSUER = -5,
    TOCSIN_JWT_AUDIENCE = -6, /* aud lacks the client, or azp is another party */
    TOCSIN_JWT_EXPIRED = -7,
    TOCSIN_JWT_NOT_YET = -8, /* nbf or iat in the future (past the skew) */
    TOCSIN_JWT_NONCE = -9,
    TOCSIN_JWT_CLAIMS = -10, /* a required claim missing or of the wrong type */
};

/* "bad_signature", "wrong_audience", ... for an error code. */
const char *tocsin_jwt_error_name(int code);

enum tocsin_jwt_alg { TOCSIN_JWT_ALG_NONE = 0, TOCSIN_JWT_RS256, TOCSIN_JWT_ES256 };

/* A parsed token. header and claims are jansson objects owned by it. */
struct tocsin_jwt {
    json_t *header, *claims;
    const char *alg, *kid; /* from header (kid may be NULL) */
    const char *signing_input;
    size_t signing_input_len; /* "header.payload" as received (points into the token) */
    unsigned char sig[528];   /* the decoded signature */
    size_t sig_len;
};

/* Splits and decodes token[0..len). Returns 0, or TOCSIN_JWT_MALFORMED
 * with a reason in err. The token must outlive jwt (signing_input points
 * into it). Free with tocsin_jwt_free even after a failure. */
int tocsin_jwt_parse(const char *token, size_t len, struct tocsin_jwt *jwt, char *err,
                     size_t errlen);
void tocsin_jwt_free(struct tocsin_jwt *jwt);

struct tocsin_jwk {
    char kid[129]; /* "" when the key has none */
    enum tocsin_jwt_alg alg;
    EVP_PKEY *pkey;
};

struct tocsin_jwks {
    struct tocsin_jwk keys[TOCSIN_JWKS_MAX_KEYS];
    size_t n;
};

/* Reads a JWK set ({"keys": [...]}). Keys for encryption ("use": "enc"),
 * of other types or curves, private keys' extra members aside, and RSA
 * keys under 2048 bits are skipped, as is a key whose "alg" is not the one
 * its type implies. Returns 0 (even with no usable key), or
 * TOCSIN_JWT_MALFORMED with a reason in err. Free with tocsin_jwks_free. */
int tocsin_jwks_parse(const char *json, size_t len, struct tocsin_jwks *set, char *err,
                      size_t errlen);
void tocsin_jwks_free(struct tocsin_jwks *set);

/* The key with this kid; with kid NULL, the only key of the set. NULL
 * when there is none. */
const struct tocsin_jwk *tocsin_jwks_find(const struct tocsin_jwks *set, const char *kid);

/* Checks jwt's signature with key: the header's alg must be the key's.
 * Returns 0, TOCSIN_JWT_BAD_ALG or TOCSIN_JWT_SIGNATURE. */
int tocsin_jwt_verify(const struct tocsin_jwt *jwt, const struct tocsin_jwk *key);

/* What an ID token must say. */
struct tocsin_id_token_expect {
    const char *issuer;    /* iss, exactly */
    const char *client_id; /* in aud; azp, when present or aud has several */
    const char *nonce;     /* nonce, exactly */
    long long now;         /* Unix seconds */
    long skew_s;           /* allowed clock difference either way */
    long max_age_s;        /* iat no older than this (plus skew) */
};

/* Checks an ID token's claims (after its signature). Returns 0 or the
 * first failure, with a reason in err. */
int tocsin_id_token_check(const struct tocsin_jwt *jwt, const struct tocsin_id_token_expect *e,
                          char *err, size_t errlen);

/* Decodes unpadded base64url in[0..len) into out. Returns the decoded
 * length, or -1 (a character outside the alphabet, padding, a length no
 * encoder makes, or out too small). */
long tocsin_base64url_decode(const char *in, size_t len, unsigned char *out, size_t outsize);

#endif
