/* SPDX-License-Identifier: AGPL-3.0-or-later
 * test_crypto.c — Twilio signature vectors (Twilio's published example, also
 * checked with `openssl dgst -sha1 -hmac`, and vectors computed with
 * Python's hmac for this suite), HMAC RFC 4231 / RFC 2202 and SHA-256
 * vectors, Ed25519 round trip, argon2id, base64, tokens, sealed secrets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "crypto.h"

#define KV(k, v)                                                                                   \
    {                                                                                              \
        {(k), sizeof(k) - 1},                                                                      \
        {                                                                                          \
            (v), sizeof(v) - 1                                                                     \
        }                                                                                          \
    }

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
        KV("To", "+18005551212"),     KV("CallSid", "CA1234567890ABCDE"), KV("Digits", "1234"),
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
        KV("MessageSid", "SM0123"),
        KV("From", "+14155552671"),
        KV("To", "24680"),
        KV("Body", "H\xc3\xa9 {x}"),
    };
    assert_int_equal(
        tocsin_twilio_verify(token, url, params, 4, TSTR("svU4SwAGCVoNE+/cq+rovPtihm0=")), 1);
    /* Tampered signature, URL, token, parameter value. */
    assert_int_equal(
        tocsin_twilio_verify(token, url, params, 4, TSTR("svU4SwAGCVoNE+/cq+rovPtihm1=")), 0);
    assert_int_equal(tocsin_twilio_verify(token, url, params, 4, TSTR("svU4SwAGCVoNE+")), 0);
    assert_int_equal(tocsin_twilio_verify(token, TSTR("https://example.org/twilio/inbound2"),
                                          params, 4, TSTR("svU4SwAGCVoNE+/cq+rovPtihm0=")),
                     0);
    assert_int_equal(
        tocsin_twilio_verify(TSTR("x"), url, params, 4, TSTR("svU4SwAGCVoNE+/cq+rovPtihm0=")), 0);
    params[0].value = TSTR("SM0124");
    assert_int_equal(
        tocsin_twilio_verify(token, url, params, 4, TSTR("svU4SwAGCVoNE+/cq+rovPtihm0=")), 0);
}

/* Repeated names sort by value; identical pairs are both kept (as
 * twilio-python's sorted(values) does). Expected values from Python's hmac
 * and base64 modules over url + "".join(k + v for k, v in sorted(pairs)). */
static void test_twilio_repeated_names(void **state)
{
    (void)state;
    tocsin_str token = TSTR("tok"), url = TSTR("https://example.org/in");
    struct tocsin_kv a[] = {
        KV("MediaUrl", "https://b.example/2"),
        KV("Body", "hi"),
        KV("MediaUrl", "https://a.example/1"),
        KV("b", "lower"),
        KV("Body2", "x"),
        KV("MediaUrl", "https://a.example/1"),
    };
    struct tocsin_kv b[] = {
        KV("MediaUrl", "https://a.example/1"),
        KV("MediaUrl", "https://a.example/1"),
        KV("b", "lower"),
        KV("Body2", "x"),
        KV("MediaUrl", "https://b.example/2"),
        KV("Body", "hi"),
    };
    char sa[29], sb[29];
    tocsin_twilio_signature(token, url, a, 6, sa);
    tocsin_twilio_signature(token, url, b, 6, sb);
    assert_string_equal(sa, "RRkThGhVibSVFwgz3vylwOC1nqI=");
    assert_string_equal(sb, sa);
    /* Sorted in place: names in byte order ("B" < "M" < "b"), then values. */
    assert_memory_equal(a[0].key.base, "Body", 4);
    assert_int_equal(a[0].key.len, 4);
    assert_memory_equal(a[2].value.base, "https://a.example/1", 19);
    assert_memory_equal(a[4].value.base, "https://b.example/2", 19);
    assert_memory_equal(a[5].key.base, "b", 1);
    /* Dropping one of the identical pairs changes the signature. */
    assert_int_equal(tocsin_twilio_verify(token, url, a, 5, tocsin_str_from(sa)), 0);
    /* No parameters: the URL alone. */
    tocsin_twilio_signature(token, url, NULL, 0, sa);
    assert_string_equal(sa, "NAFvMbyUTmIvwNHqBZ7sExSCYz4=");
}

static void expect_hex(const unsigned char *bin, size_t len, const char *hex)
{
    char buf[129];
    assert_true(len * 2 < sizeof buf);
    sodium_bin2hex(buf, sizeof buf, bin, len);
    assert_string_equal(buf, hex);
}

static void test_hmac_and_hash_vectors(void **state)
{
    (void)state;
    unsigned char key[20], out[32];
    memset(key, 0x0b, sizeof key);
    /* RFC 4231 test cases 1 and 2. */
    tocsin_hmac_sha256(key, sizeof key, "Hi There", 8, out);
    expect_hex(out, 32, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    tocsin_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, out);
    expect_hex(out, 32, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    /* RFC 2202 HMAC-SHA1 test case 1. */
    tocsin_hmac_sha1(key, sizeof key, "Hi There", 8, out);
    expect_hex(out, 20, "b617318655057264e28bc0b6fb378c8ef146be00");
    /* FIPS 180-2 SHA-256("abc"). */
    tocsin_sha256("abc", 3, out);
    expect_hex(out, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(tocsin_ct_equal("abcd", "abcd", 4), 1);
    assert_int_equal(tocsin_ct_equal("abcd", "abce", 4), 0);
}

static void test_ed25519(void **state)
{
    (void)state;
    unsigned char pk[32], sk[64];
    crypto_sign_keypair(pk, sk);
    char sig[89];
    tocsin_str ts = TSTR("1732291200"),
               body = TSTR("{\"data\":{\"event_type\":\"message.received\"}}");
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

/* The gateway's freshness check on telnyx-timestamp: "now - when" must
 * not overflow for a hostile header (INT64_MIN made UBSan abort it). */
static void test_telnyx_timestamp_fresh(void **state)
{
    (void)state;
    long long now = 1732291200;
    assert_int_equal(tocsin_telnyx_timestamp_fresh(TSTR("1732291200"), now, 300), 1);
    assert_int_equal(tocsin_telnyx_timestamp_fresh(TSTR("1732291500"), now, 300), 1);
    assert_int_equal(tocsin_telnyx_timestamp_fresh(TSTR("1732290900"), now, 300), 1);
    assert_int_equal(tocsin_telnyx_timestamp_fresh(TSTR("1732291501"), now, 300), 0);
    assert_int_equal(tocsin_telnyx_timestamp_fresh(TSTR("1732290899"), now, 300), 0);
    assert_int_equal(tocsin_telnyx_timestamp_fresh(TSTR("-9223372036854775808"), now, 300), 0);
    assert_int_equal(tocsin_telnyx_timestamp_fresh(TSTR(""), now, 300), 0);
    assert_int_equal(tocsin_telnyx_timestamp_fresh(TSTR_NULL, now, 300), 0);
    assert_int_equal(tocsin_telnyx_timestamp_fresh(TSTR("17322912x0"), now, 300), 0);
    assert_int_equal(tocsin_telnyx_timestamp_fresh(TSTR(" 1732291200"), now, 300), 0);
    assert_int_equal(tocsin_telnyx_timestamp_fresh(TSTR("+1732291200"), now, 300), 0);
    assert_int_equal(tocsin_telnyx_timestamp_fresh(TSTR("9223372036854775807"), now, 300), 0);
    assert_int_equal(tocsin_telnyx_timestamp_fresh(TSTR("-9223372036854775809"), now, 300), 0);
    assert_int_equal(tocsin_telnyx_timestamp_fresh(TSTR("99999999999999999999"), now, 300), 0);
    assert_int_equal(tocsin_telnyx_timestamp_fresh(TSTR("-1"), now, 300), 0);
    /* Extreme clocks on our side too. */
    assert_int_equal(tocsin_telnyx_timestamp_fresh(TSTR("-9223372036854775808"), LLONG_MAX, 300),
                     0);
    assert_int_equal(tocsin_telnyx_timestamp_fresh(TSTR("9223372036854775807"), LLONG_MIN, 300), 0);
    assert_int_equal(tocsin_telnyx_timestamp_fresh(TSTR("9223372036854775807"), LLONG_MAX, 300), 1);
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
    /* URL-safe alphabet, embedded whitespace, output too small: rejected. */
    assert_int_equal(tocsin_base64_decode("-_-_", 4, dec, sizeof dec), -1);
    assert_int_equal(tocsin_base64_decode("Zm9v Yg==", 9, dec, sizeof dec), -1);
    assert_int_equal(tocsin_base64_decode("Zm9vYg==", 8, dec, 3), -1);
    /* Round trip of every byte value. */
    unsigned char all[256], back[256];
    char big[400];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    long n = tocsin_base64_encode(all, sizeof all, big, sizeof big);
    assert_int_equal(n, 344);
    assert_int_equal(tocsin_base64_decode(big, (size_t)n, back, sizeof back), 256);
    assert_memory_equal(all, back, 256);
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
    assert_int_equal(tocsin_random_token(16, a, sizeof a), 0);
    assert_int_equal(strlen(a), 22);
    assert_int_equal(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
                     22);
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
    /* out too small for the plaintext and its NUL; sealed too small. */
    assert_int_equal(tocsin_secret_seal(key, "auth-token-123", 14, sealed, sizeof sealed), 0);
    assert_int_equal(tocsin_secret_open(key, sealed, strlen(sealed), plain, 14), -1);
    assert_int_equal(tocsin_secret_seal(key, "auth-token-123", 14, sealed, 40), -1);
    /* Two seals of one secret differ (random nonce). */
    char again[256];
    assert_int_equal(tocsin_secret_seal(key, "auth-token-123", 14, again, sizeof again), 0);
    assert_string_not_equal(sealed, again);
}

static void test_credential_bound_to_row(void **state)
{
    (void)state;
    unsigned char key[32], other[32];
    randombytes_buf(key, sizeof key);
    randombytes_buf(other, sizeof other);
    char sealed[256], plain[64];
    assert_int_equal(
        tocsin_credential_seal(key, 7, "twilio", "auth-token-123", 14, sealed, sizeof sealed), 0);
    assert_int_equal(strncmp(sealed, TOCSIN_CREDENTIAL_PREFIX, 3), 0);
    assert_null(strstr(sealed, "auth-token"));
    assert_int_equal(
        tocsin_credential_open(key, 7, "twilio", sealed, strlen(sealed), plain, sizeof plain), 14);
    assert_string_equal(plain, "auth-token-123");
    /* Copied to another row, relabelled, or opened with another key: no. */
    assert_int_equal(
        tocsin_credential_open(key, 8, "twilio", sealed, strlen(sealed), plain, sizeof plain), -1);
    assert_int_equal(
        tocsin_credential_open(key, 70, "twilio", sealed, strlen(sealed), plain, sizeof plain), -1);
    assert_int_equal(
        tocsin_credential_open(key, 7, "telnyx", sealed, strlen(sealed), plain, sizeof plain), -1);
    assert_int_equal(
        tocsin_credential_open(other, 7, "twilio", sealed, strlen(sealed), plain, sizeof plain),
        -1);
    sealed[30] = sealed[30] == 'A' ? 'B' : 'A';
    assert_int_equal(
        tocsin_credential_open(key, 7, "twilio", sealed, strlen(sealed), plain, sizeof plain), -1);
    /* The unbound format of before is recognised, not opened. */
    char legacy[256];
    assert_int_equal(tocsin_secret_seal(key, "auth-token-123", 14, legacy, sizeof legacy), 0);
    assert_int_equal(
        tocsin_credential_open(key, 7, "twilio", legacy, strlen(legacy), plain, sizeof plain),
        TOCSIN_CREDENTIAL_LEGACY);
    /* Sizes: out too small for the plaintext and its NUL; sealed too small. */
    assert_int_equal(
        tocsin_credential_seal(key, 7, "twilio", "auth-token-123", 14, sealed, sizeof sealed), 0);
    assert_int_equal(tocsin_credential_open(key, 7, "twilio", sealed, strlen(sealed), plain, 14),
                     -1);
    assert_int_equal(tocsin_credential_seal(key, 7, "twilio", "auth-token-123", 14, sealed, 40),
                     -1);
    assert_int_equal(tocsin_credential_open(key, 7, "twilio", "v2.AAAA", 7, plain, sizeof plain),
                     -1);
}

/* v3: sealed by whoever has the public half (the dashboard), opened only
 * with the secret key, and only for the row and provider it was sealed for. */
static void test_credential_sealed_with_public_key(void **state)
{
    (void)state;
    unsigned char key[32], other[32], pk[32], pk_again[32], pk_other[32];
    randombytes_buf(key, sizeof key);
    randombytes_buf(other, sizeof other);
    assert_int_equal(tocsin_sealing_public_key(key, pk), 0);
    assert_int_equal(tocsin_sealing_public_key(key, pk_again), 0);
    assert_int_equal(tocsin_sealing_public_key(other, pk_other), 0);
    assert_memory_equal(pk, pk_again, 32); /* derived, so every process agrees */
    assert_memory_not_equal(pk, pk_other, 32);
    assert_memory_not_equal(pk, key, 32);
    char sealed[512], again[512], plain[64];
    assert_int_equal(
        tocsin_credential_seal_public(pk, 7, "twilio", "auth-token-123", 14, sealed, sizeof sealed),
        0);
    assert_int_equal(strncmp(sealed, TOCSIN_CREDENTIAL_PUBLIC_PREFIX, 3), 0);
    assert_null(strstr(sealed, "auth-token"));
    assert_int_equal(
        tocsin_credential_seal_public(pk, 7, "twilio", "auth-token-123", 14, again, sizeof again),
        0);
    assert_string_not_equal(sealed, again); /* an ephemeral key each time */
    assert_int_equal(
        tocsin_credential_open(key, 7, "twilio", sealed, strlen(sealed), plain, sizeof plain), 14);
    assert_string_equal(plain, "auth-token-123");
    /* Another row, a row whose id starts the same, another provider, another key. */
    assert_int_equal(
        tocsin_credential_open(key, 8, "twilio", sealed, strlen(sealed), plain, sizeof plain), -1);
    assert_int_equal(
        tocsin_credential_open(key, 70, "twilio", sealed, strlen(sealed), plain, sizeof plain), -1);
    assert_int_equal(
        tocsin_credential_open(key, 7, "telnyx", sealed, strlen(sealed), plain, sizeof plain), -1);
    assert_int_equal(
        tocsin_credential_open(other, 7, "twilio", sealed, strlen(sealed), plain, sizeof plain),
        -1);
    /* Sealed for row 70 and put on row 7. */
    assert_int_equal(
        tocsin_credential_seal_public(pk, 70, "twilio", "auth-token-123", 14, again, sizeof again),
        0);
    assert_int_equal(
        tocsin_credential_open(key, 7, "twilio", again, strlen(again), plain, sizeof plain), -1);
    /* Tampered (one base64 character) or cut short. */
    char bad[512];
    snprintf(bad, sizeof bad, "%s", sealed);
    bad[40] = bad[40] == 'A' ? 'B' : 'A';
    assert_int_equal(
        tocsin_credential_open(key, 7, "twilio", bad, strlen(bad), plain, sizeof plain), -1);
    assert_int_equal(tocsin_credential_open(key, 7, "twilio", sealed, 60, plain, sizeof plain), -1);
    assert_int_equal(tocsin_credential_open(key, 7, "twilio", "v3.AAAA", 7, plain, sizeof plain),
                     -1);
    /* Sizes: out too small for the plaintext and its NUL; sealed too small; too long a secret. */
    assert_int_equal(tocsin_credential_open(key, 7, "twilio", sealed, strlen(sealed), plain, 14),
                     -1);
    assert_int_equal(
        tocsin_credential_seal_public(pk, 7, "twilio", "auth-token-123", 14, sealed, 60), -1);
    static char huge[5000];
    memset(huge, 'x', sizeof huge);
    assert_int_equal(
        tocsin_credential_seal_public(pk, 7, "twilio", huge, sizeof huge, bad, sizeof bad), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_twilio_published_example),
        cmocka_unit_test(test_credential_bound_to_row),
        cmocka_unit_test(test_credential_sealed_with_public_key),
        cmocka_unit_test(test_twilio_verify),
        cmocka_unit_test(test_twilio_repeated_names),
        cmocka_unit_test(test_hmac_and_hash_vectors),
        cmocka_unit_test(test_ed25519),
        cmocka_unit_test(test_telnyx_timestamp_fresh),
        cmocka_unit_test(test_password),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_secret_seal),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
