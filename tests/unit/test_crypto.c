/* SPDX-License-Identifier: AGPL-3.0-or-later
 * test_crypto.c — Twilio signature vectors (Twilio's published example and
 * one computed independently with Python's hmac for this suite), HMAC-SHA256
 * RFC 4231, Ed25519 round trip, argon2id, base64, tokens, sealed secrets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "crypto.h"

#define KV(k, v) {{(k), sizeof(k) - 1}, {(v), sizeof(v) - 1}}

static int setup(void **state)
{
    (void)state;
    return tocsin_crypto_init();
}

static void test_twilio_published_example(void **state)
{
    (void)state;
    /* Given out of order on purpose: the signature sorts by name. */
    struct tocsin_kv params[] = {
        KV("To", "+18005551212"),   KV("CallSid", "CA1234567890ABCDE"), KV("Digits", "1234"),
        KV("Caller", "+12349013030"), KV("From", "+12349013030"),
    };
    char sig[29];
    tocsin_twilio_signature(TSTR("12345"), TSTR("https://mycompany.com/myapp.php?foo=1&bar=2"),
                            params, 5, sig);
    assert_string_equal(sig, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
}

static void test_twilio_verify(void **state)
{
    (void)state;
    /* Expected value from Python: base64(hmac.new(token, url + sorted k+v, sha1)). */
    tocsin_str token = TSTR("7c0c51a0000000000000000000000000");
    tocsin_str url = TSTR("https://example.org/twilio/inbound");
    struct tocsin_kv params[] = {
        KV("MessageSid", "SM0123"), KV("From", "+14155552671"), KV("To", "24680"),
        KV("Body", "H\xc3\xa9 {x}"),
    };
    assert_int_equal(tocsin_twilio_verify(token, url, params, 4, TSTR("svU4SwAGCVoNE+/cq+rovPtihm0=")), 1);
    /* Tampered signature, URL, token, parameter value. */
    assert_int_equal(tocsin_twilio_verify(token, url, params, 4, TSTR("svU4SwAGCVoNE+/cq+rovPtihm1=")), 0);
    assert_int_equal(tocsin_twilio_verify(token, url, params, 4, TSTR("svU4SwAGCVoNE+")), 0);
    assert_int_equal(tocsin_twilio_verify(token, TSTR("https://example.org/twilio/inbound2"), params,
                                          4, TSTR("svU4SwAGCVoNE+/cq+rovPtihm0=")),
                     0);
    assert_int_equal(tocsin_twilio_verify(TSTR("x"), url, params, 4, TSTR("svU4SwAGCVoNE+/cq+rovPtihm0=")), 0);
    params[0].value = TSTR("SM0124");
    assert_int_equal(tocsin_twilio_verify(token, url, params, 4, TSTR("svU4SwAGCVoNE+/cq+rovPtihm0=")), 0);
}

static void test_hmac_sha256_rfc4231(void **state)
{
    (void)state;
    unsigned char key[20], out[32];
    memset(key, 0x0b, sizeof key);
    tocsin_hmac_sha256(key, sizeof key, "Hi There", 8, out);
    char hex[65];
    sodium_bin2hex(hex, sizeof hex, out, sizeof out);
    assert_string_equal(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

static void test_ed25519(void **state)
{
    (void)state;
    unsigned char pk[32], sk[64];
    crypto_sign_keypair(pk, sk);
    char sig[89];
    tocsin_str ts = TSTR("1732291200"), body = TSTR("{\"data\":{\"event_type\":\"message.received\"}}");
    tocsin_ed25519_sign(sk, ts, body, sig);
    tocsin_str s = tocsin_str_from(sig);
    assert_int_equal(tocsin_ed25519_verify(pk, ts, body, s), 1);
    assert_int_equal(tocsin_ed25519_verify(pk, TSTR("1732291201"), body, s), 0);
    assert_int_equal(tocsin_ed25519_verify(pk, ts, TSTR("{\"data\":{}}"), s), 0);
    assert_int_equal(tocsin_ed25519_verify(pk, ts, body, TSTR("not base64!")), 0);
    unsigned char other_pk[32], other_sk[64];
    crypto_sign_keypair(other_pk, other_sk);
    assert_int_equal(tocsin_ed25519_verify(other_pk, ts, body, s), 0);
}

static void test_password(void **state)
{
    (void)state;
    char hash[TOCSIN_PASSWORD_HASH_MAX];
    assert_int_equal(tocsin_password_hash("correct horse", 13, hash), 0);
    assert_memory_equal(hash, "$argon2id$", 10);
    assert_int_equal(tocsin_password_verify(hash, "correct horse", 13), 1);
    assert_int_equal(tocsin_password_verify(hash, "correct horsf", 13), 0);
    assert_int_equal(tocsin_password_verify(hash, "", 0), 0);
    assert_int_equal(tocsin_password_verify("$argon2i$whatever", "correct horse", 13), 0);
}

static void test_base64(void **state)
{
    (void)state;
    char enc[16];
    unsigned char dec[16];
    assert_int_equal(tocsin_base64_encode("foob", 4, enc, sizeof enc), 8);
    assert_string_equal(enc, "Zm9vYg==");
    assert_int_equal(tocsin_base64_decode("Zm9vYg==", 8, dec, sizeof dec), 4);
    assert_memory_equal(dec, "foob", 4);
    assert_int_equal(tocsin_base64_decode("Zm9vYg=", 7, dec, sizeof dec), -1);
    assert_int_equal(tocsin_base64_decode("Zm9v!g==", 8, dec, sizeof dec), -1);
    assert_int_equal(tocsin_base64_encode("foobar-foobar", 13, enc, 8), -1);
}

static void test_tokens(void **state)
{
    (void)state;
    char a[64], b[64];
    assert_int_equal(tocsin_random_token(32, a, sizeof a), 0);
    assert_int_equal(tocsin_random_token(32, b, sizeof b), 0);
    assert_int_equal(strlen(a), 43);
    assert_string_not_equal(a, b);
    assert_null(strpbrk(a, "+/="));
    assert_int_equal(tocsin_random_token(32, a, 10), -1);
}

static void test_secret_seal(void **state)
{
    (void)state;
    unsigned char key[32], other[32];
    randombytes_buf(key, sizeof key);
    randombytes_buf(other, sizeof other);
    char sealed[256], plain[64];
    assert_int_equal(tocsin_secret_seal(key, "auth-token-123", 14, sealed, sizeof sealed), 0);
    assert_null(strstr(sealed, "auth-token"));
    assert_int_equal(tocsin_secret_open(key, sealed, strlen(sealed), plain, sizeof plain), 14);
    assert_string_equal(plain, "auth-token-123");
    assert_int_equal(tocsin_secret_open(other, sealed, strlen(sealed), plain, sizeof plain), -1);
    sealed[30] = sealed[30] == 'A' ? 'B' : 'A';
    assert_int_equal(tocsin_secret_open(key, sealed, strlen(sealed), plain, sizeof plain), -1);
    assert_int_equal(tocsin_secret_open(key, "AAAA", 4, plain, sizeof plain), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_twilio_published_example),
        cmocka_unit_test(test_twilio_verify),
        cmocka_unit_test(test_hmac_sha256_rfc4231),
        cmocka_unit_test(test_ed25519),
        cmocka_unit_test(test_password),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_secret_seal),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
