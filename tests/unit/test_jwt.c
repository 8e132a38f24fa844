/* SPDX-License-Identifier: AGPL-3.0-or-later
 * test_jwt.c — ID tokens and key sets (lib/jwt.c, lib/jwk.c) with keys
 * made here by OpenSSL: RS256 and ES256 tokens that verify; a changed
 * payload, another key under the same kid, "none", HS256 keyed with the
 * public key, an alg the key does not name, a short RSA key; every claim
 * check one at a time (issuer, audience, several audiences and azp,
 * expiry with and without the skew, nbf, iat, nonce); base64url edge
 * cases; junk and oversized tokens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "jwt.h"

#define NOW 1800000000LL

static EVP_PKEY *rsa, *rsa_other, *ec, *rsa_small;

static void b64url(const unsigned char *in, size_t len, char *out)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0, i = 0;
    for (; i + 2 < len; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = a[v >> 18];
        out[o++] = a[(v >> 12) & 63];
        out[o++] = a[(v >> 6) & 63];
        out[o++] = a[v & 63];
    }
    if (len - i == 1) {
        unsigned v = (unsigned)in[i] << 16;
        out[o++] = a[v >> 18];
        out[o++] = a[(v >> 12) & 63];
    } else if (len - i == 2) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
        out[o++] = a[v >> 18];
        out[o++] = a[(v >> 12) & 63];
        out[o++] = a[(v >> 6) & 63];
    }
    out[o] = '\0';
}

static void b64url_str(const char *s, char *out)
{
    b64url((const unsigned char *)s, strlen(s), out);
}

/* {"kty":"RSA","kid":KID,"n":..,"e":..} or the EC equivalent. */
static void jwk_json(EVP_PKEY *k, const char *kid, const char *extra, char *out, size_t outlen)
{
    char a[800], b[800];
    int n_out;
    if (EVP_PKEY_is_a(k, "RSA")) {
        BIGNUM *n = NULL, *e = NULL;
        unsigned char nb[1024], eb[8];
        assert_true(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &n));
        assert_true(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &e));
        b64url(nb, (size_t)BN_bn2bin(n, nb), a);
        b64url(eb, (size_t)BN_bn2bin(e, eb), b);
        BN_free(n);
        BN_free(e);
        n_out =
            snprintf(out, outlen, "{\"kty\":\"RSA\",\"kid\":\"%s\",\"n\":\"%s\",\"e\":\"%s\"%s}",
                     kid, a, b, extra);
    } else {
        unsigned char pt[65];
        size_t len = 0;
        assert_true(
            EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof pt, &len));
        assert_int_equal(len, 65);
        b64url(pt + 1, 32, a);
        b64url(pt + 33, 32, b);
        n_out = snprintf(
            out, outlen,
            "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"%s}", kid, a,
            b, extra);
    }
    /* A key written whole, never cut: the tests read it as JSON. */
    assert_true(n_out > 0 && (size_t)n_out < outlen);
}

static struct tocsin_jwks set;

static void load_set(const char *json)
{
    char err[200];
    tocsin_jwks_free(&set);
    assert_int_equal(tocsin_jwks_parse(json, strlen(json), &set, err, sizeof err), 0);
}

/* A token with header {"alg":ALG,"kid":KID} and payload claims, signed by
 * k (NULL: the signature part is sig_b64 as given). */
static void sign(const char *alg, const char *kid, const char *claims, EVP_PKEY *k, char *out)
{
    char header[200], h64[300], p64[3000];
    snprintf(header, sizeof header, "{\"alg\":\"%s\",\"kid\":\"%s\"}", alg, kid);
    b64url_str(header, h64);
    b64url_str(claims, p64);
    int n = sprintf(out, "%s.%s", h64, p64);
    unsigned char sig[600];
    size_t siglen = sizeof sig;
    if (strcmp(alg, "HS256") == 0) {
        /* The classic confusion: the RSA public key's PEM as an HMAC key. */
        BIO *bio = BIO_new(BIO_s_mem());
        PEM_write_bio_PUBKEY(bio, k);
        char *pem;
        long pl = BIO_get_mem_data(bio, &pem);
        unsigned sl = 0;
        HMAC(EVP_sha256(), pem, (int)pl, (unsigned char *)out, (size_t)n, sig, &sl);
        siglen = sl;
        BIO_free(bio);
    } else if (strcmp(alg, "none") == 0) {
        siglen = 0;
    } else {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k), 1);
        assert_int_equal(EVP_DigestSign(md, sig, &siglen, (unsigned char *)out, (size_t)n), 1);
        EVP_MD_CTX_free(md);
        if (EVP_PKEY_is_a(k, "EC")) {
            const unsigned char *p = sig;
            ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)siglen);
            const BIGNUM *r, *ss;
            ECDSA_SIG_get0(s, &r, &ss);
            BN_bn2binpad(r, sig, 32);
            BN_bn2binpad(ss, sig + 32, 32);
            siglen = 64;
            ECDSA_SIG_free(s);
        }
    }
    out[n++] = '.';
    b64url(sig, siglen, out + n);
}

static const char good_claims[] =
    "{\"iss\":\"https://id.example\",\"sub\":\"u1\",\"aud\":\"tocsin\",\"exp\":1800000300,"
    "\"iat\":1800000000,\"nonce\":\"n-123\",\"email\":\"a@b.test\",\"email_verified\":true}";

static int check(const char *token)
{
    struct tocsin_jwt jwt;
    char err[200];
    int rc = tocsin_jwt_parse(token, strlen(token), &jwt, err, sizeof err);
    if (rc == 0) {
        const struct tocsin_jwk *k = tocsin_jwks_find(&set, jwt.kid);
        rc = k ? tocsin_jwt_verify(&jwt, k) : TOCSIN_JWT_NO_KEY;
    }
    if (rc == 0) {
        struct tocsin_id_token_expect e = {"https://id.example", "tocsin", "n-123", NOW, 60, 600};
        rc = tocsin_id_token_check(&jwt, &e, err, sizeof err);
    }
    tocsin_jwt_free(&jwt);
    return rc;
}

static int setup(void **state)
{
    (void)state;
    rsa = EVP_RSA_gen(2048);
    rsa_other = EVP_RSA_gen(2048);
    rsa_small = EVP_RSA_gen(1024);
    ec = EVP_EC_gen("P-256");
    assert_non_null(rsa);
    assert_non_null(ec);
    char a[1500], b[600], all[2200];
    jwk_json(rsa, "r1", ",\"use\":\"sig\",\"alg\":\"RS256\"", a, sizeof a);
    jwk_json(ec, "e1", "", b, sizeof b);
    snprintf(all, sizeof all, "{\"keys\":[%s,%s,{\"kty\":\"oct\",\"k\":\"AAAA\"}]}", a, b);
    load_set(all);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tocsin_jwks_free(&set);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(rsa_other);
    EVP_PKEY_free(rsa_small);
    EVP_PKEY_free(ec);
    return 0;
}

static char tok[8000];

static void test_rs256_and_es256_verify(void **state)
{
    (void)state;
    assert_int_equal(set.n, 2); /* the oct key skipped */
    sign("RS256", "r1", good_claims, rsa, tok);
    assert_int_equal(check(tok), 0);
    sign("ES256", "e1", good_claims, ec, tok);
    assert_int_equal(check(tok), 0);
}

static void test_bad_signatures_are_refused(void **state)
{
    (void)state;
    /* another key under the known kid */
    sign("RS256", "r1", good_claims, rsa_other, tok);
    assert_int_equal(check(tok), TOCSIN_JWT_SIGNATURE);
    /* the payload changed after signing: swap in another payload */
    char other[4000];
    sign("RS256", "r1", good_claims, rsa, tok);
    char *dot1 = strchr(tok, '.'), *dot2 = strchr(dot1 + 1, '.');
    char p64[2000];
    b64url_str("{\"iss\":\"https://id.example\",\"sub\":\"admin\",\"aud\":\"tocsin\","
               "\"exp\":1800000300,\"iat\":1800000000,\"nonce\":\"n-123\"}",
               p64);
    snprintf(other, sizeof other, "%.*s.%s%s", (int)(dot1 - tok), tok, p64, dot2);
    assert_int_equal(check(other), TOCSIN_JWT_SIGNATURE);
    /* ES256 signature with a flipped bit */
    sign("ES256", "e1", good_claims, ec, tok);
    size_t n = strlen(tok);
    tok[n - 3] = tok[n - 3] == 'A' ? 'B' : 'A';
    assert_int_equal(check(tok), TOCSIN_JWT_SIGNATURE);
    /* unknown kid */
    sign("RS256", "r2", good_claims, rsa_other, tok);
    assert_int_equal(check(tok), TOCSIN_JWT_NO_KEY);
}

static void test_algorithm_comes_from_the_key(void **state)
{
    (void)state;
    sign("HS256", "r1", good_claims, rsa, tok);
    assert_int_equal(check(tok), TOCSIN_JWT_BAD_ALG);
    sign("none", "r1", good_claims, NULL, tok);
    assert_int_equal(check(tok), TOCSIN_JWT_MALFORMED); /* empty signature */
    strcat(tok, "AAAA");
    assert_int_equal(check(tok), TOCSIN_JWT_BAD_ALG);
    sign("ES256", "r1", good_claims, ec, tok); /* an EC signature for the RSA key */
    assert_int_equal(check(tok), TOCSIN_JWT_BAD_ALG);
    sign("RS256", "e1", good_claims, rsa, tok);
    assert_int_equal(check(tok), TOCSIN_JWT_BAD_ALG);
}

static void test_weak_and_mislabelled_keys_are_skipped(void **state)
{
    (void)state;
    char a[1500], b[1500], all[3100];
    jwk_json(rsa_small, "small", "", a, sizeof a);
    jwk_json(rsa_other, "ps", ",\"alg\":\"PS256\"", b, sizeof b);
    snprintf(all, sizeof all, "{\"keys\":[%s,%s]}", a, b);
    struct tocsin_jwks s;
    char err[200];
    assert_int_equal(tocsin_jwks_parse(all, strlen(all), &s, err, sizeof err), 0);
    assert_int_equal(s.n, 0);
    tocsin_jwks_free(&s);
    assert_int_equal(tocsin_jwks_parse("[1]", 3, &s, err, sizeof err), TOCSIN_JWT_MALFORMED);
    static const char off_curve[] = "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":"
                                    "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\",\"y\":"
                                    "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}]}";
    assert_int_equal(tocsin_jwks_parse(off_curve, strlen(off_curve), &s, err, sizeof err), 0);
    assert_int_equal(s.n, 0); /* not a point on the curve */
}

static void claims_refused(const char *claims, int want)
{
    sign("RS256", "r1", claims, rsa, tok);
    assert_int_equal(check(tok), want);
}

static void test_claims(void **state)
{
    (void)state;
#define C(rest) "{\"sub\":\"u1\",\"nonce\":\"n-123\"," rest "}"
    claims_refused(C("\"iss\":\"https://evil.example\",\"aud\":\"tocsin\",\"exp\":1800000300,"
                     "\"iat\":1800000000"),
                   TOCSIN_JWT_ISSUER);
    claims_refused(C("\"iss\":\"https://id.example\",\"aud\":\"other\",\"exp\":1800000300,"
                     "\"iat\":1800000000"),
                   TOCSIN_JWT_AUDIENCE);
    claims_refused(C("\"iss\":\"https://id.example\",\"aud\":[\"other\",\"tocsin\"],"
                     "\"exp\":1800000300,\"iat\":1800000000"),
                   TOCSIN_JWT_AUDIENCE); /* several audiences, no azp */
    claims_refused(C("\"iss\":\"https://id.example\",\"aud\":[\"other\",\"tocsin\"],"
                     "\"azp\":\"other\",\"exp\":1800000300,\"iat\":1800000000"),
                   TOCSIN_JWT_AUDIENCE);
    claims_refused(C("\"iss\":\"https://id.example\",\"aud\":[\"other\",\"tocsin\"],"
                     "\"azp\":\"tocsin\",\"exp\":1800000300,\"iat\":1800000000"),
                   0);
    claims_refused(C("\"iss\":\"https://id.example\",\"aud\":\"tocsin\",\"exp\":1799999940,"
                     "\"iat\":1799999900"),
                   TOCSIN_JWT_EXPIRED); /* expired 60 s ago: past the skew */
    claims_refused(C("\"iss\":\"https://id.example\",\"aud\":\"tocsin\",\"exp\":1799999941,"
                     "\"iat\":1799999900"),
                   0); /* 59 s ago: within it */
    claims_refused(C("\"iss\":\"https://id.example\",\"aud\":\"tocsin\",\"exp\":1800000300,"
                     "\"iat\":1800000000,\"nbf\":1800000100"),
                   TOCSIN_JWT_NOT_YET);
    claims_refused(C("\"iss\":\"https://id.example\",\"aud\":\"tocsin\",\"exp\":1800000300,"
                     "\"iat\":1800000100"),
                   TOCSIN_JWT_NOT_YET);
    claims_refused(C("\"iss\":\"https://id.example\",\"aud\":\"tocsin\",\"exp\":1800000300,"
                     "\"iat\":1799990000"),
                   TOCSIN_JWT_EXPIRED); /* issued hours ago */
    claims_refused(C("\"iss\":\"https://id.example\",\"aud\":\"tocsin\",\"exp\":\"1800000300\","
                     "\"iat\":1800000000"),
                   TOCSIN_JWT_CLAIMS);
    claims_refused(C("\"iss\":\"https://id.example\",\"aud\":\"tocsin\",\"iat\":1800000000"),
                   TOCSIN_JWT_CLAIMS);
#undef C
    claims_refused("{\"iss\":\"https://id.example\",\"sub\":\"u1\",\"aud\":\"tocsin\","
                   "\"exp\":1800000300,\"iat\":1800000000,\"nonce\":\"n-999\"}",
                   TOCSIN_JWT_NONCE);
    claims_refused("{\"iss\":\"https://id.example\",\"sub\":\"u1\",\"aud\":\"tocsin\","
                   "\"exp\":1800000300,\"iat\":1800000000}",
                   TOCSIN_JWT_NONCE);
    /* a claim said twice is not JSON we read */
    claims_refused("{\"iss\":\"https://id.example\",\"sub\":\"u1\",\"aud\":\"tocsin\",\"aud\":"
                   "\"tocsin\",\"exp\":1800000300,\"iat\":1800000000,\"nonce\":\"n-123\"}",
                   TOCSIN_JWT_MALFORMED);
}

static void test_base64url(void **state)
{
    (void)state;
    unsigned char out[8];
    assert_int_equal(tocsin_base64url_decode("", 0, out, sizeof out), 0);
    assert_int_equal(tocsin_base64url_decode("YQ", 2, out, sizeof out), 1);
    assert_int_equal(out[0], 'a');
    assert_int_equal(tocsin_base64url_decode("YR", 2, out, sizeof out), -1); /* stray bits */
    assert_int_equal(tocsin_base64url_decode("YQ==", 4, out, sizeof out), -1);
    assert_int_equal(tocsin_base64url_decode("Y", 1, out, sizeof out), -1);
    assert_int_equal(tocsin_base64url_decode("-_-_", 4, out, sizeof out), 3);
    assert_int_equal(tocsin_base64url_decode("+/+/", 4, out, sizeof out), -1);
    assert_int_equal(tocsin_base64url_decode("AAAAAAAAAAAA", 12, out, sizeof out), -1);
}

static void test_junk_tokens(void **state)
{
    (void)state;
    static const char *const junk[] = {
        "",        "a",        "a.b",        "a.b.c",      "..",
        "a.b.c.d", "e30.e30.", "e30.e30.AA", "W10.e30.AA", "eyJhbGciOjF9.e30.AA"};
    for (size_t i = 0; i < sizeof junk / sizeof *junk; i++)
        assert_int_equal(check(junk[i]), TOCSIN_JWT_MALFORMED);
    char *big = malloc(TOCSIN_JWT_MAX_LEN + 2);
    memset(big, 'A', TOCSIN_JWT_MAX_LEN + 1);
    big[10] = big[20] = '.';
    big[TOCSIN_JWT_MAX_LEN + 1] = '\0';
    assert_int_equal(check(big), TOCSIN_JWT_MALFORMED);
    free(big);
    assert_string_equal(tocsin_jwt_error_name(TOCSIN_JWT_AUDIENCE), "wrong_audience");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rs256_and_es256_verify),
        cmocka_unit_test(test_bad_signatures_are_refused),
        cmocka_unit_test(test_algorithm_comes_from_the_key),
        cmocka_unit_test(test_weak_and_mislabelled_keys_are_skipped),
        cmocka_unit_test(test_claims),
        cmocka_unit_test(test_base64url),
        cmocka_unit_test(test_junk_tokens),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
