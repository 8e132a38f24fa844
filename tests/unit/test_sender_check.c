/* SPDX-License-Identifier: AGPL-3.0-or-later
 * test_sender_check.c — lib/sender_check: what `tocsinctl sender add` and
 * the dashboard's Senders page accept, normalise and refuse (with the
 * words a person reads), including hostile values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "crypto.h"
#include "sender_check.h"

#define SID "AC0123456789abcdef0123456789abcdef"
#define PK "AAAAAAAAAAAAAAAAAAAAAA==" /* 16 bytes: not an Ed25519 key */
#define PK32 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

static int setup(void **state)
{
    (void)state;
    return tocsin_crypto_init();
}

static struct tocsin_sender_input twilio(const char *address)
{
    return (struct tocsin_sender_input){
        .address = address, .provider = "twilio", .account_sid = SID, .secret = "tok", .mps = "5"};
}

/* Checks in and returns the error ("" when accepted). */
static const char *check(const struct tocsin_sender_input *in, int insecure,
                         struct tocsin_sender_checked *out)
{
    static char err[400];
    err[0] = '\0';
    if (tocsin_sender_check(in, "US", insecure, out, err, sizeof err) == 0)
        return "";
    assert_true(err[0] != '\0'); /* a refusal always says why */
    return err;
}

static void test_normalises(void **state)
{
    (void)state;
    struct tocsin_sender_checked ok;
    struct tocsin_sender_input in = twilio("(415) 555-0199");
    assert_string_equal(check(&in, 0, &ok), "");
    assert_string_equal(ok.address, "+14155550199");
    assert_string_equal(ok.kind, "long_code");
    in = twilio("24680");
    assert_string_equal(check(&in, 0, &ok), "");
    assert_string_equal(ok.kind, "short_code");
    in = twilio("(800) 555-0199");
    assert_string_equal(check(&in, 0, &ok), "");
    assert_string_equal(ok.kind, "toll_free");
    in = (struct tocsin_sender_input){.address = "+14155550199",
                                      .provider = "telnyx",
                                      .secret = "KEY_x",
                                      .public_key = PK32,
                                      .mps = "0.5"};
    assert_string_equal(check(&in, 0, &ok), "");
}

static void test_refuses(void **state)
{
    (void)state;
    struct tocsin_sender_checked ok;
    struct tocsin_sender_input in = twilio("555");
    assert_non_null(strstr(check(&in, 0, &ok), "invalid phone number \"555\""));
    in = twilio("24680");
    in.kind = "long_code";
    assert_non_null(strstr(check(&in, 0, &ok), "kind must be short_code"));
    in.kind = "pager";
    assert_non_null(strstr(check(&in, 0, &ok), "invalid kind \"pager\""));
    const char *rates[] = {"0",     "-1", "1e3", "0x10",  "inf",           "nan",
                           "10001", "",   ".5",  "1.2.3", "99999999999999"};
    for (size_t i = 0; i < sizeof rates / sizeof *rates; i++) {
        in = twilio("24680");
        in.mps = rates[i];
        assert_non_null(strstr(check(&in, 0, &ok), "invalid rate"));
    }
    in = twilio("24680");
    in.account_sid = "AC0123";
    assert_non_null(strstr(check(&in, 0, &ok), "invalid account SID \"AC0123\""));
    in.account_sid = "AC0123456789ABCDEF0123456789ABCDEF"; /* upper case is not Twilio's */
    assert_non_null(strstr(check(&in, 0, &ok), "invalid account SID"));
    in.account_sid = NULL;
    assert_non_null(strstr(check(&in, 0, &ok), "needs its account SID"));
    in = twilio("24680");
    in.provider = "sms";
    assert_non_null(strstr(check(&in, 0, &ok), "invalid provider \"sms\""));
    in = (struct tocsin_sender_input){
        .address = "24680", .provider = "telnyx", .account_sid = SID, .secret = "k", .mps = "1"};
    assert_non_null(strstr(check(&in, 0, &ok), "a telnyx sender has none"));
    in.account_sid = NULL;
    in.public_key = PK;
    assert_non_null(strstr(check(&in, 0, &ok), "invalid public key"));
    /* The base URL: http:// only when allowed (the simulator). */
    in = twilio("24680");
    in.base_url = "http://127.0.0.1:8090";
    assert_non_null(strstr(check(&in, 0, &ok), "insecure base URL"));
    assert_string_equal(check(&in, 1, &ok), "");
    in.base_url = "ftp://x";
    assert_non_null(strstr(check(&in, 1, &ok), "invalid base URL"));
}

static void test_secret(void **state)
{
    (void)state;
    char err[300], long_secret[TOCSIN_SENDER_SECRET_MAX + 2];
    assert_int_equal(
        tocsin_sender_secret_check("7c0c51a0000000000000000000000000", err, sizeof err), 0);
    assert_int_equal(tocsin_sender_secret_check("", err, sizeof err), -1);
    assert_int_equal(tocsin_sender_secret_check(NULL, err, sizeof err), -1);
    /* It goes into an HTTP header: no CR, LF, space or control character. */
    assert_int_equal(tocsin_sender_secret_check("tok\r\nX-Evil: 1", err, sizeof err), -1);
    assert_null(strstr(err, "tok")); /* the refusal never repeats the secret */
    assert_int_equal(tocsin_sender_secret_check("tok en", err, sizeof err), -1);
    assert_int_equal(tocsin_sender_secret_check("t\xc3\xa9", err, sizeof err), -1);
    memset(long_secret, 'a', sizeof long_secret - 1);
    long_secret[sizeof long_secret - 1] = '\0';
    assert_int_equal(tocsin_sender_secret_check(long_secret, err, sizeof err), -1);
    long_secret[TOCSIN_SENDER_SECRET_MAX] = '\0';
    assert_int_equal(tocsin_sender_secret_check(long_secret, err, sizeof err), 0);
}

static void test_account_limit(void **state)
{
    (void)state;
    char err[300];
    double v = -1;
    assert_int_equal(tocsin_sender_account_limit_check("0", &v, err, sizeof err), 0);
    assert_true(v == 0);
    assert_int_equal(tocsin_sender_account_limit_check("40.5", &v, err, sizeof err), 0);
    assert_true(v == 40.5);
    assert_int_equal(tocsin_sender_account_limit_check("-1", &v, err, sizeof err), -1);
    assert_non_null(strstr(err, "invalid account limit \"-1\""));
    assert_int_equal(tocsin_sender_account_limit_check("1000000", &v, err, sizeof err), -1);
    assert_int_equal(tocsin_sender_account_limit_check(NULL, &v, err, sizeof err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalises),
        cmocka_unit_test(test_refuses),
        cmocka_unit_test(test_secret),
        cmocka_unit_test(test_account_limit),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
