/* SPDX-License-Identifier: AGPL-3.0-or-later
 * test_totp.c — lib/totp.c: RFC 6238's SHA-1 test vectors, the ±1 step
 * window, what counts as a typed code, RFC 4648's base32 vectors, and the
 * shape of recovery codes. (The integration test checks the dashboard's
 * codes against oathtool as well.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "crypto.h"
#include "totp.h"

static const unsigned char rfc_key[] = "12345678901234567890";

static void test_rfc6238_vectors(void **state)
{
    (void)state;
    /* RFC 6238 appendix B (SHA-1), the last six of its eight digits. */
    static const struct {
        uint64_t t;
        uint32_t code;
    } v[] = {{59, 287082},       {1111111109, 81804},  {1111111111, 50471},
             {1234567890, 5924}, {2000000000, 279037}, {20000000000ull, 353130}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        assert_int_equal(tocsin_totp_code(rfc_key, 20, v[i].t / 30), v[i].code);
}

static void test_window(void **state)
{
    (void)state;
    uint64_t now = 1234567890 / 30;
    long prev = (long)tocsin_totp_code(rfc_key, 20, now - 1);
    long cur = (long)tocsin_totp_code(rfc_key, 20, now);
    long next = (long)tocsin_totp_code(rfc_key, 20, now + 1);
    long old = (long)tocsin_totp_code(rfc_key, 20, now - 2);
    assert_int_equal(tocsin_totp_match(rfc_key, 20, now, cur, 1), (int64_t)now);
    assert_int_equal(tocsin_totp_match(rfc_key, 20, now, prev, 1), (int64_t)now - 1);
    assert_int_equal(tocsin_totp_match(rfc_key, 20, now, next, 1), (int64_t)now + 1);
    /* Two steps ago is outside the window (unless it happens to equal a
     * code inside it, which these vectors' codes do not). */
    assert_true(old != prev && old != cur && old != next);
    assert_int_equal(tocsin_totp_match(rfc_key, 20, now, old, 1), -1);
    assert_int_equal(tocsin_totp_match(rfc_key, 20, now, (cur + 1) % 1000000, 1) == (int64_t)now,
                     0);
    assert_int_equal(tocsin_totp_match(rfc_key, 20, now, -1, 1), -1);
    assert_int_equal(tocsin_totp_match(rfc_key, 20, now, 1000000, 1), -1);
    /* Step 0: no step before it. */
    assert_int_equal(tocsin_totp_match(rfc_key, 20, 0, (long)tocsin_totp_code(rfc_key, 20, 0), 1),
                     0);
}

static void test_parse(void **state)
{
    (void)state;
    assert_int_equal(tocsin_totp_parse("123456"), 123456);
    assert_int_equal(tocsin_totp_parse("012345"), 12345);
    assert_int_equal(tocsin_totp_parse("123 456"), 123456);
    const char *bad[] = {"",       "12345",   "1234567", "12345a",  " 123456",
                         "-12345", "１23456", "+12345",  "12\n456", NULL};
    for (int i = 0; bad[i]; i++)
        assert_int_equal(tocsin_totp_parse(bad[i]), -1);
    assert_int_equal(tocsin_totp_parse(NULL), -1);
}

static void test_base32(void **state)
{
    (void)state;
    /* RFC 4648 section 10, unpadded. */
    static const char *const v[][2] = {{"", ""},
                                       {"f", "MY"},
                                       {"fo", "MZXQ"},
                                       {"foo", "MZXW6"},
                                       {"foob", "MZXW6YQ"},
                                       {"fooba", "MZXW6YTB"},
                                       {"foobar", "MZXW6YTBOI"}};
    char out[32];
    unsigned char back[32];
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        assert_int_equal(tocsin_base32_encode(v[i][0], strlen(v[i][0]), out, sizeof out),
                         (long)strlen(v[i][1]));
        assert_string_equal(out, v[i][1]);
        assert_int_equal(tocsin_base32_decode(v[i][1], back, sizeof back), (long)strlen(v[i][0]));
        assert_memory_equal(back, v[i][0], strlen(v[i][0]));
    }
    assert_int_equal(tocsin_base32_decode("mzxw6ytboi======", back, sizeof back), 6);
    assert_int_equal(tocsin_base32_decode("MZXW1", back, sizeof back), -1);
    assert_int_equal(tocsin_base32_decode("MZXW6YTBOI", back, 3), -1);
    assert_int_equal(tocsin_base32_encode("foobar", 6, out, 10), -1);
    /* A 20-byte secret is 32 characters. */
    unsigned char secret[20] = {0};
    char s[TOCSIN_TOTP_SECRET_B32_LEN];
    assert_int_equal(tocsin_base32_encode(secret, 20, s, sizeof s), 32);
}

static void test_recovery_codes(void **state)
{
    (void)state;
    char a[20], b[20], norm[17];
    assert_int_equal(tocsin_recovery_code_make(a), 0);
    assert_int_equal(tocsin_recovery_code_make(b), 0);
    assert_int_equal((int)strlen(a), 19);
    assert_true(a[4] == '-' && a[9] == '-' && a[14] == '-');
    assert_string_not_equal(a, b);
    assert_int_equal(tocsin_recovery_code_normalize(a, norm), 0);
    assert_int_equal((int)strlen(norm), 16);
    char typed[40];
    snprintf(typed, sizeof typed, " %c%c%c%c %s", a[0] - 32 >= 'A' ? a[0] - 32 : a[0], a[1], a[2],
             a[3], a + 5);
    char norm2[17];
    assert_int_equal(tocsin_recovery_code_normalize(typed, norm2), 0);
    assert_string_equal(norm, norm2);
    const char *bad[] = {"",
                         "abcd-efgh-ijkl-mno",
                         "abcd-efgh-ijkl-mnopq",
                         "abcd-efgh-ijkl-mn0p",
                         "abcd_efgh_ijkl_mnop",
                         NULL};
    for (int i = 0; bad[i]; i++)
        assert_int_equal(tocsin_recovery_code_normalize(bad[i], norm), -1);
}

int main(void)
{
    if (tocsin_crypto_init() != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc6238_vectors), cmocka_unit_test(test_window),
        cmocka_unit_test(test_parse),           cmocka_unit_test(test_base32),
        cmocka_unit_test(test_recovery_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
