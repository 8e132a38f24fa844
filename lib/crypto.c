/* SPDX-License-Identifier: AGPL-3.0-or-later
 * crypto.c — signatures, password hashing, tokens and sealed secrets.
 * HMAC comes from OpenSSL's libcrypto (libsodium has no SHA-1); everything
 * else from libsodium. Owns no state after tocsin_crypto_init(). */
#include "crypto.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <sodium.h>

int tocsin_crypto_init(void)
{
    return sodium_init() < 0 ? -1 : 0;
}

/* One-shot HMAC. libcrypto fails only when out of memory; then out gets
 * random bytes, which match no signature a caller compares it with. */
static void hmac_oneshot(const EVP_MD *md, const void *key, size_t keylen, const void *msg,
                         size_t msglen, unsigned char *out, unsigned int outlen)
{
    unsigned int n = outlen;
    if (keylen > INT_MAX || !HMAC(md, key, (int)keylen, msg, msglen, out, &n) || n != outlen)
        randombytes_buf(out, outlen);
}

void tocsin_hmac_sha1(const void *key, size_t keylen, const void *msg, size_t msglen,
                      unsigned char out[20])
{
    hmac_oneshot(EVP_sha1(), key, keylen, msg, msglen, out, 20);
}

void tocsin_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen,
                        unsigned char out[32])
{
    hmac_oneshot(EVP_sha256(), key, keylen, msg, msglen, out, 32);
}

void tocsin_sha256(const void *msg, size_t len, unsigned char out[32])
{
    crypto_hash_sha256(out, msg, len);
}

int tocsin_ct_equal(const void *a, const void *b, size_t len)
{
    return sodium_memcmp(a, b, len) == 0;
}

long tocsin_base64_encode(const void *in, size_t len, char *out, size_t outsize)
{
    size_t need = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
    if (outsize < need)
        return -1;
    sodium_bin2base64(out, outsize, in, len, sodium_base64_VARIANT_ORIGINAL);
    return (long)(need - 1);
}

long tocsin_base64_decode(const char *in, size_t len, unsigned char *out, size_t outsize)
{
    size_t n = 0;
    const char *end = NULL;
    if (sodium_base642bin(out, outsize, in, len, NULL, &n, &end, sodium_base64_VARIANT_ORIGINAL) !=
            0 ||
        end != in + len)
        return -1;
    return (long)n;
}

static int kv_compare(const void *a, const void *b)
{
    const struct tocsin_kv *x = a, *y = b;
    size_t n = x->key.len < y->key.len ? x->key.len : y->key.len;
    int c = n ? memcmp(x->key.base, y->key.base, n) : 0;
    if (c == 0 && x->key.len != y->key.len)
        c = x->key.len < y->key.len ? -1 : 1;
    if (c != 0)
        return c;
    /* Repeated names (MediaUrl0 is unique, but a form may repeat a name):
     * order by value, as Twilio's helper libraries do (twilio-python sorts
     * each name's values; an identical pair is kept twice). */
    n = x->value.len < y->value.len ? x->value.len : y->value.len;
    c = n ? memcmp(x->value.base, y->value.base, n) : 0;
    if (c == 0 && x->value.len != y->value.len)
        c = x->value.len < y->value.len ? -1 : 1;
    return c;
}

/* The HMAC implementation, fetched once for every thread. */
static EVP_MAC *hmac_impl;
static pthread_once_t hmac_impl_once = PTHREAD_ONCE_INIT;

static void hmac_impl_fetch(void)
{
    hmac_impl = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

/* HMAC-SHA1(auth_token, url + name1 + value1 + ...) streamed through
 * OpenSSL 3's EVP_MAC (HMAC_CTX is deprecated), so the concatenation is
 * never built. params must be sorted. Returns 0, or -1 if libcrypto failed
 * (out of memory). */
static int twilio_mac(tocsin_str auth_token, tocsin_str url, const struct tocsin_kv *params,
                      size_t nparams, unsigned char mac[20])
{
    pthread_once(&hmac_impl_once, hmac_impl_fetch);
    if (!hmac_impl)
        return -1;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(hmac_impl);
    char digest[] = "SHA1";
    OSSL_PARAM settings[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                             OSSL_PARAM_construct_end()};
    int ok =
        ctx && EVP_MAC_init(ctx, (const unsigned char *)auth_token.base, auth_token.len, settings);
    ok = ok && EVP_MAC_update(ctx, (const unsigned char *)url.base, url.len);
    for (size_t i = 0; ok && i < nparams; i++)
        ok = EVP_MAC_update(ctx, (const unsigned char *)params[i].key.base, params[i].key.len) &&
             EVP_MAC_update(ctx, (const unsigned char *)params[i].value.base, params[i].value.len);
    size_t maclen = 0;
    ok = ok && EVP_MAC_final(ctx, mac, &maclen, 20) && maclen == 20;
    EVP_MAC_CTX_free(ctx);
    return ok ? 0 : -1;
}

void tocsin_twilio_signature(tocsin_str auth_token, tocsin_str url, struct tocsin_kv *params,
                             size_t nparams, char out[29])
{
    if (nparams > 1) /* qsort(NULL, 0, ...) is undefined */
        qsort(params, nparams, sizeof *params, kv_compare);
    unsigned char mac[20];
    if (twilio_mac(auth_token, url, params, nparams, mac) != 0) {
        out[0] = '\0';
        return;
    }
    tocsin_base64_encode(mac, sizeof mac, out, 29);
}

int tocsin_twilio_verify(tocsin_str auth_token, tocsin_str url, struct tocsin_kv *params,
                         size_t nparams, tocsin_str signature_b64)
{
    char expected[29];
    tocsin_twilio_signature(auth_token, url, params, nparams, expected);
    if (signature_b64.len != 28 || strlen(expected) != 28)
        return 0;
    return tocsin_ct_equal(expected, signature_b64.base, 28);
}

/* Builds "timestamp|body" for Telnyx; returns malloc'd memory or NULL. */
static unsigned char *telnyx_message(tocsin_str timestamp, tocsin_str body, size_t *len)
{
    *len = timestamp.len + 1 + body.len;
    unsigned char *m = malloc(*len ? *len : 1);
    if (!m)
        return NULL;
    if (timestamp.len)
        memcpy(m, timestamp.base, timestamp.len);
    m[timestamp.len] = '|';
    if (body.len)
        memcpy(m + timestamp.len + 1, body.base, body.len);
    return m;
}

int tocsin_telnyx_timestamp_fresh(tocsin_str timestamp, long long now, long long max_skew_s)
{
    /* Plain decimal digits (an optional minus), nothing else: strtoll's
     * leading spaces and '+' are not Telnyx's format. */
    if (!timestamp.base || timestamp.len == 0 || timestamp.len > 20 || max_skew_s < 0)
        return 0;
    char buf[24];
    memcpy(buf, timestamp.base, timestamp.len);
    buf[timestamp.len] = '\0';
    const char *digits = buf[0] == '-' ? buf + 1 : buf;
    if (!*digits || strspn(digits, "0123456789") != strlen(digits))
        return 0;
    errno = 0;
    char *end;
    long long when = strtoll(buf, &end, 10);
    if (errno == ERANGE || *end != '\0')
        return 0;
    /* |now - when| <= max_skew_s, without computing now - when (INT64_MIN
     * from a hostile header overflowed it): compare each side against a
     * bound that is itself checked not to overflow. */
    if (when < now) /* when >= now - max, where now - max may not exist */
        return now < LLONG_MIN + max_skew_s || when >= now - max_skew_s;
    return now > LLONG_MAX - max_skew_s || when <= now + max_skew_s;
}

int tocsin_ed25519_verify(const unsigned char public_key[32], tocsin_str timestamp, tocsin_str body,
                          tocsin_str signature_b64)
{
    unsigned char sig[crypto_sign_BYTES + 4];
    if (tocsin_base64_decode(signature_b64.base, signature_b64.len, sig, sizeof sig) !=
        crypto_sign_BYTES)
        return 0;
    size_t len;
    unsigned char *m = telnyx_message(timestamp, body, &len);
    if (!m)
        return 0;
    int ok = crypto_sign_verify_detached(sig, m, len, public_key) == 0;
    free(m);
    return ok;
}

void tocsin_ed25519_sign(const unsigned char secret_key[64], tocsin_str timestamp, tocsin_str body,
                         char out[89])
{
    unsigned char sig[crypto_sign_BYTES];
    size_t len;
    unsigned char *m = telnyx_message(timestamp, body, &len);
    if (!m) {
        out[0] = '\0'; /* out of memory: a signature nothing verifies */
        return;
    }
    crypto_sign_detached(sig, NULL, m, len, secret_key);
    free(m);
    tocsin_base64_encode(sig, sizeof sig, out, 89);
}

int tocsin_password_hash(const char *password, size_t len, char out[TOCSIN_PASSWORD_HASH_MAX])
{
    STATIC_ASSERT(crypto_pwhash_STRBYTES <= TOCSIN_PASSWORD_HASH_MAX, "hash buffer too small");
    return crypto_pwhash_str_alg(out, password, len, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                 crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13);
}

int tocsin_password_verify(const char *encoded, const char *password, size_t len)
{
    if (strncmp(encoded, "$argon2id$", 10) != 0)
        return 0;
    return crypto_pwhash_str_verify(encoded, password, len) == 0;
}

int tocsin_random_token(size_t nbytes, char *out, size_t outsize)
{
    if (nbytes > 256 ||
        outsize < sodium_base64_ENCODED_LEN(nbytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING))
        return -1;
    unsigned char buf[256];
    randombytes_buf(buf, nbytes);
    sodium_bin2base64(out, outsize, buf, nbytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(buf, sizeof buf);
    return 0;
}

int tocsin_secret_seal(const unsigned char key[32], const char *plain, size_t len, char *out,
                       size_t outsize)
{
    size_t boxlen = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + len;
    if (len > 4096 || outsize < sodium_base64_ENCODED_LEN(boxlen, sodium_base64_VARIANT_ORIGINAL))
        return -1;
    unsigned char box[crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + 4096];
    randombytes_buf(box, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(box + crypto_secretbox_NONCEBYTES, (const unsigned char *)plain, len, box,
                          key);
    sodium_bin2base64(out, outsize, box, boxlen, sodium_base64_VARIANT_ORIGINAL);
    return 0;
}

long tocsin_secret_open(const unsigned char key[32], const char *sealed, size_t len, char *out,
                        size_t outsize)
{
    unsigned char box[crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + 4096];
    long n = tocsin_base64_decode(sealed, len, box, sizeof box);
    if (n < (long)(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES))
        return -1;
    size_t plain_len = (size_t)n - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
    if (outsize < plain_len + 1)
        return -1;
    if (crypto_secretbox_open_easy((unsigned char *)out, box + crypto_secretbox_NONCEBYTES,
                                   (size_t)n - crypto_secretbox_NONCEBYTES, box, key) != 0)
        return -1;
    out[plain_len] = '\0';
    return (long)plain_len;
}

/* The additional data binding a credential to its row. */
static size_t credential_ad(long long sender_id, const char *provider, char *ad, size_t size)
{
    int n = snprintf(ad, size, "tocsin sender %lld %s", sender_id, provider);
    return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

#define AEAD_NONCE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define AEAD_TAG crypto_aead_xchacha20poly1305_ietf_ABYTES

int tocsin_credential_seal(const unsigned char key[32], long long sender_id, const char *provider,
                           const char *plain, size_t len, char *out, size_t outsize)
{
    char ad[96];
    size_t adlen = credential_ad(sender_id, provider, ad, sizeof ad);
    size_t boxlen = AEAD_NONCE + len + AEAD_TAG;
    size_t pl = sizeof TOCSIN_CREDENTIAL_PREFIX - 1;
    if (!adlen || len > 4096 ||
        outsize < pl + sodium_base64_ENCODED_LEN(boxlen, sodium_base64_VARIANT_ORIGINAL))
        return -1;
    unsigned char box[AEAD_NONCE + 4096 + AEAD_TAG];
    randombytes_buf(box, AEAD_NONCE);
    crypto_aead_xchacha20poly1305_ietf_encrypt(box + AEAD_NONCE, NULL, (const unsigned char *)plain,
                                               len, (const unsigned char *)ad, adlen, NULL, box,
                                               key);
    memcpy(out, TOCSIN_CREDENTIAL_PREFIX, pl);
    sodium_bin2base64(out + pl, outsize - pl, box, boxlen, sodium_base64_VARIANT_ORIGINAL);
    return 0;
}

/* Domain separation for the sealing key pair: the secret key also keys
 * v2's AEAD directly, so the X25519 seed is derived under its own context. */
#define SEALING_KDF_CONTEXT "tcsnseal"
#define SEALING_KDF_ID 1

static int sealing_keypair(const unsigned char key[32], unsigned char pk[32], unsigned char sk[32])
{
    unsigned char seed[crypto_box_SEEDBYTES];
    STATIC_ASSERT(crypto_box_PUBLICKEYBYTES == 32 && crypto_box_SECRETKEYBYTES == 32,
                  "X25519 keys are 32 bytes");
    if (crypto_kdf_derive_from_key(seed, sizeof seed, SEALING_KDF_ID, SEALING_KDF_CONTEXT, key) !=
        0)
        return -1;
    int rc = crypto_box_seed_keypair(pk, sk, seed);
    sodium_memzero(seed, sizeof seed);
    return rc;
}

int tocsin_sealing_public_key(const unsigned char key[32], unsigned char pk[32])
{
    unsigned char sk[crypto_box_SECRETKEYBYTES];
    int rc = sealing_keypair(key, pk, sk);
    sodium_memzero(sk, sizeof sk);
    return rc;
}

int tocsin_sealing_public_key_param(const unsigned char key[32], char out[67])
{
    unsigned char pk[crypto_box_PUBLICKEYBYTES];
    if (tocsin_sealing_public_key(key, pk) != 0)
        return -1;
    out[0] = '\\';
    out[1] = 'x';
    sodium_bin2hex(out + 2, 65, pk, sizeof pk);
    return 0;
}

#define SEAL_MAX_PLAIN 4096
#define SEAL_MAX_BOX (96 + 1 + SEAL_MAX_PLAIN + crypto_box_SEALBYTES)

int tocsin_credential_seal_public(const unsigned char pk[32], long long sender_id,
                                  const char *provider, const char *plain, size_t len, char *out,
                                  size_t outsize)
{
    char ad[96];
    size_t adlen = credential_ad(sender_id, provider, ad, sizeof ad);
    size_t inner = adlen + 1 + len, boxlen = inner + crypto_box_SEALBYTES;
    size_t pl = sizeof TOCSIN_CREDENTIAL_PUBLIC_PREFIX - 1;
    if (!adlen || len > SEAL_MAX_PLAIN ||
        outsize < pl + sodium_base64_ENCODED_LEN(boxlen, sodium_base64_VARIANT_ORIGINAL))
        return -1;
    unsigned char msg[96 + 1 + SEAL_MAX_PLAIN], box[SEAL_MAX_BOX];
    memcpy(msg, ad, adlen);
    msg[adlen] = '\0';
    memcpy(msg + adlen + 1, plain, len);
    int rc = crypto_box_seal(box, msg, inner, pk);
    sodium_memzero(msg, sizeof msg);
    if (rc != 0)
        return -1;
    memcpy(out, TOCSIN_CREDENTIAL_PUBLIC_PREFIX, pl);
    sodium_bin2base64(out + pl, outsize - pl, box, boxlen, sodium_base64_VARIANT_ORIGINAL);
    return 0;
}

/* Opens a v3 credential (the prefix already checked): the box must open
 * with the key pair derived from key, and name this row and provider. */
static long credential_open_public(const unsigned char key[32], long long sender_id,
                                   const char *provider, const char *b64, size_t b64len, char *out,
                                   size_t outsize)
{
    char ad[96];
    size_t adlen = credential_ad(sender_id, provider, ad, sizeof ad);
    unsigned char box[SEAL_MAX_BOX], msg[SEAL_MAX_BOX];
    long n = tocsin_base64_decode(b64, b64len, box, sizeof box);
    if (!adlen || n < (long)(crypto_box_SEALBYTES + adlen + 1))
        return -1;
    unsigned char pk[crypto_box_PUBLICKEYBYTES], sk[crypto_box_SECRETKEYBYTES];
    if (sealing_keypair(key, pk, sk) != 0)
        return -1;
    int rc = crypto_box_seal_open(msg, box, (unsigned long long)n, pk, sk);
    sodium_memzero(sk, sizeof sk);
    size_t inner = (size_t)n - crypto_box_SEALBYTES;
    long result = -1;
    if (rc == 0 && memcmp(msg, ad, adlen) == 0 && msg[adlen] == '\0') {
        size_t plain_len = inner - adlen - 1;
        if (outsize >= plain_len + 1) {
            memcpy(out, msg + adlen + 1, plain_len);
            out[plain_len] = '\0';
            result = (long)plain_len;
        }
    }
    sodium_memzero(msg, sizeof msg);
    return result;
}

long tocsin_credential_open(const unsigned char key[32], long long sender_id, const char *provider,
                            const char *sealed, size_t len, char *out, size_t outsize)
{
    size_t pl = sizeof TOCSIN_CREDENTIAL_PREFIX - 1;
    size_t ppl = sizeof TOCSIN_CREDENTIAL_PUBLIC_PREFIX - 1;
    if (len >= ppl && memcmp(sealed, TOCSIN_CREDENTIAL_PUBLIC_PREFIX, ppl) == 0)
        return credential_open_public(key, sender_id, provider, sealed + ppl, len - ppl, out,
                                      outsize);
    if (len < pl || memcmp(sealed, TOCSIN_CREDENTIAL_PREFIX, pl) != 0)
        return TOCSIN_CREDENTIAL_LEGACY;
    char ad[96];
    size_t adlen = credential_ad(sender_id, provider, ad, sizeof ad);
    unsigned char box[AEAD_NONCE + 4096 + AEAD_TAG];
    long n = tocsin_base64_decode(sealed + pl, len - pl, box, sizeof box);
    if (!adlen || n < (long)(AEAD_NONCE + AEAD_TAG))
        return -1;
    size_t plain_len = (size_t)n - AEAD_NONCE - AEAD_TAG;
    if (outsize < plain_len + 1)
        return -1;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt((unsigned char *)out, NULL, NULL,
                                                   box + AEAD_NONCE, (size_t)n - AEAD_NONCE,
                                                   (const unsigned char *)ad, adlen, box, key) != 0)
        return -1;
    out[plain_len] = '\0';
    return (long)plain_len;
}

const char *tocsin_credential_problem(long rc, int has_key)
{
    if (!has_key)
        return "cannot open its credentials: no TOCSIN_SECRET_KEY or TOCSIN_SECRET_KEY_FILE";
    if (rc == TOCSIN_CREDENTIAL_LEGACY)
        return "its credentials are sealed in the old unbound format: run tocsinctl migrate with the key";
    return "cannot open its credentials: another key, or sealed for another sender row";
}

/* The URL with its default port written out or left off; "" if none. */
static void url_port_variant(const char *url, char *out, size_t size)
{
    out[0] = '\0';
    int https = strncmp(url, "https://", 8) == 0;
    if (!https && strncmp(url, "http://", 7) != 0)
        return;
    const char *host = url + (https ? 8 : 7);
    size_t hostlen = strcspn(host, "/?");
    const char *rest = host + hostlen;
    const char *port = memchr(host, ':', hostlen);
    const char *def = https ? ":443" : ":80";
    size_t deflen = strlen(def);
    if (!port)
        snprintf(out, size, "%.*s%s%s", (int)(rest - url), url, def, rest);
    else if ((size_t)(rest - port) == deflen && memcmp(port, def, deflen) == 0)
        snprintf(out, size, "%.*s%s", (int)(port - url), url, rest);
}

int tocsin_twilio_verify_url(tocsin_str auth_token, const char *url, struct tocsin_kv *params,
                             size_t nparams, tocsin_str signature_b64)
{
    if (tocsin_twilio_verify(auth_token, tocsin_str_from(url), params, nparams, signature_b64))
        return 1;
    char alt[2048];
    url_port_variant(url, alt, sizeof alt);
    return alt[0] && strlen(url) < sizeof alt - 8 &&
           tocsin_twilio_verify(auth_token, tocsin_str_from(alt), params, nparams, signature_b64);
}
