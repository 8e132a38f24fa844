/* SPDX-License-Identifier: AGPL-3.0-or-later
 * crypto.h — the cryptography Tocsin needs, over OpenSSL's libcrypto (HMAC)
 * and libsodium (everything else): webhook signatures (Twilio HMAC-SHA1,
 * Telnyx Ed25519), password hashing (argon2id), constant-time compare,
 * random tokens, base64, and secretbox for carrier credentials at rest.
 * Call tocsin_crypto_init() once before anything else. */
#ifndef TOCSIN_CRYPTO_H
#define TOCSIN_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

/* Initialises libsodium; returns 0 or -1. Safe to call more than once. */
int tocsin_crypto_init(void);

/* HMAC one-shot. If libcrypto fails (out of memory), out is filled with
 * random bytes so that it matches nothing. */
void tocsin_hmac_sha1(const void *key, size_t keylen, const void *msg, size_t msglen,
                      unsigned char out[20]);
void tocsin_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen,
                        unsigned char out[32]);
void tocsin_sha256(const void *msg, size_t len, unsigned char out[32]);

/* 1 if equal, 0 if not; time depends only on len. */
int tocsin_ct_equal(const void *a, const void *b, size_t len);

/* Standard base64 with padding. encode writes a NUL-terminated string and
 * returns its length, or -1 if out is too small (needs 4*ceil(n/3)+1).
 * decode accepts padded standard base64, returns the decoded length or -1. */
long tocsin_base64_encode(const void *in, size_t len, char *out, size_t outsize);
long tocsin_base64_decode(const char *in, size_t len, unsigned char *out, size_t outsize);

/* A Twilio request parameter (views into the caller's decoded form body). */
struct tocsin_kv {
    tocsin_str key;
    tocsin_str value;
};

/* X-Twilio-Signature: base64(HMAC-SHA1(auth_token, url + concat of
 * name+value for every POST parameter sorted by name)). params is sorted in
 * place, by name then by value for a repeated name (byte order, as Twilio's
 * libraries do). Writes the NUL-terminated signature (28 chars) into
 * out[29], or "" if libcrypto failed (out of memory). */
void tocsin_twilio_signature(tocsin_str auth_token, tocsin_str url, struct tocsin_kv *params,
                             size_t nparams, char out[29]);

/* Checks a received X-Twilio-Signature in constant time: 1 valid, 0 not. */
int tocsin_twilio_verify(tocsin_str auth_token, tocsin_str url, struct tocsin_kv *params,
                         size_t nparams, tocsin_str signature_b64);

/* As tocsin_twilio_verify for a NUL-terminated http(s) URL, also
 * accepting the signature made over the same URL with the default port
 * written out (":443", ":80") or, when the URL has it, left off: Twilio
 * signs some webhooks one way and some the other. */
int tocsin_twilio_verify_url(tocsin_str auth_token, const char *url, struct tocsin_kv *params,
                             size_t nparams, tocsin_str signature_b64);

/* Telnyx: Ed25519 over "timestamp|body". signature_b64 is the
 * telnyx-signature-ed25519 header. 1 valid, 0 not. */
int tocsin_ed25519_verify(const unsigned char public_key[32], tocsin_str timestamp, tocsin_str body,
                          tocsin_str signature_b64);
/* Whether a telnyx-timestamp header (decimal Unix seconds) is within
 * max_skew_s seconds of now, either way. 0 for an empty, non-numeric or
 * out-of-range value; never overflows, whatever the header holds. */
int tocsin_telnyx_timestamp_fresh(tocsin_str timestamp, long long now, long long max_skew_s);
/* Signs the same message (the carrier simulator and tests); out is base64,
 * NUL-terminated, 89 bytes ("" when out of memory). */
void tocsin_ed25519_sign(const unsigned char secret_key[64], tocsin_str timestamp, tocsin_str body,
                         char out[89]);

/* argon2id (libsodium's interactive limits). hash writes a NUL-terminated
 * encoded string into out (TOCSIN_PASSWORD_HASH_MAX bytes); returns 0 or -1
 * (out of memory). verify returns 1 if password matches, 0 otherwise. */
#define TOCSIN_PASSWORD_HASH_MAX 128
int tocsin_password_hash(const char *password, size_t len, char out[TOCSIN_PASSWORD_HASH_MAX]);
int tocsin_password_verify(const char *encoded, const char *password, size_t len);

/* nbytes random bytes as unpadded base64url (session tokens, invite links).
 * out needs 4*ceil(nbytes/3)+1 bytes; returns 0 or -1 if too small. */
int tocsin_random_token(size_t nbytes, char *out, size_t outsize);

/* The unbound format credentials had before schema 018 (kept to re-seal
 * them, see tocsin_credential_seal): secretbox with a random nonce, encoded
 * as base64 of nonce||ciphertext. seal returns 0 or -1 (out too small, or plain longer
 * than 4096 bytes); open returns the plaintext length (NUL-terminated in
 * out) or -1 if forged, damaged, made with another key, or out too small. */
int tocsin_secret_seal(const unsigned char key[32], const char *plain, size_t len, char *out,
                       size_t outsize);
long tocsin_secret_open(const unsigned char key[32], const char *sealed, size_t len, char *out,
                        size_t outsize);

/* A carrier credential at rest, bound to its sender row: XChaCha20-Poly1305
 * with the sender's id and provider as additional data, written as
 * "v2." + base64(nonce||ciphertext). A sealed credential copied to another
 * row (or the same row relabelled to another provider) does not open.
 * seal returns 0 or -1 (out too small, plain longer than 4096 bytes);
 * open returns the plaintext length (NUL-terminated in out), -1 if forged,
 * damaged, made with another key or for another row, or out too small,
 * and TOCSIN_CREDENTIAL_LEGACY for the unbound format of before (which
 * tocsin_secret_open reads; tocsinctl migrate re-seals it). */
#define TOCSIN_CREDENTIAL_PREFIX "v2."
#define TOCSIN_CREDENTIAL_LEGACY (-2)
int tocsin_credential_seal(const unsigned char key[32], long long sender_id, const char *provider,
                           const char *plain, size_t len, char *out, size_t outsize);
/* Opens v2 and v3 (below) alike. */
long tocsin_credential_open(const unsigned char key[32], long long sender_id, const char *provider,
                            const char *sealed, size_t len, char *out, size_t outsize);

/* A credential sealed by a process that does not hold the key (the
 * dashboard): the sealing key pair is X25519, derived from the secret key
 * (crypto_kdf, context "tcsnseal", id 1), and only its public half is
 * published (table sealing_key, schema 027). seal_public writes
 * "v3." + base64(crypto_box_seal(binding || 0 || plain)) where binding is
 * the same "tocsin sender ID PROVIDER" that v2 uses as additional data;
 * tocsin_credential_open opens v3 as well as v2 and refuses a v3 whose
 * binding names another row or provider. Anyone with the public key can
 * seal (that is the point), but only the key's holder can open, and a
 * sealed credential copied to another row does not open.
 * sealing_public_key returns 0 or -1; seal_public as tocsin_credential_seal. */
#define TOCSIN_CREDENTIAL_PUBLIC_PREFIX "v3."
#define TOCSIN_SEALING_KEY_BYTES 32
int tocsin_sealing_public_key(const unsigned char key[32], unsigned char pk[32]);
/* The statement that publishes it: $1 the public key as a bytea literal
 * ("\\x" + 64 hex digits, tocsin_sealing_public_key_param). */
#define TOCSIN_SEALING_KEY_PUBLISH_SQL                                                             \
    "INSERT INTO sealing_key (one, public_key) VALUES (true, $1::bytea)"                           \
    " ON CONFLICT (one) DO UPDATE SET public_key = EXCLUDED.public_key, published_at = now()"      \
    " WHERE sealing_key.public_key IS DISTINCT FROM EXCLUDED.public_key"
/* Writes that parameter for key into out[67]; returns 0 or -1. */
int tocsin_sealing_public_key_param(const unsigned char key[32], char out[67]);
int tocsin_credential_seal_public(const unsigned char pk[32], long long sender_id,
                                  const char *provider, const char *plain, size_t len, char *out,
                                  size_t outsize);
/* Why a credential did not open, for the log: rc from tocsin_credential_open
 * (or -1 when there was no key, has_key 0). A static string. */
const char *tocsin_credential_problem(long rc, int has_key);

#endif
