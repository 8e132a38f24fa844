/* SPDX-License-Identifier: AGPL-3.0-or-later
 * test_providers.c — the carrier providers without a network: the requests
 * they build (URL, body, authentication) and how they classify answers
 * (sent, retry, failed, unknown), including the ambiguous cases that must
 * never be resent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "provider.h"

static const struct provider_account twilio_account = {
    "http://127.0.0.1:8090", "AC7c0c51a0000000000000000000000000", "secret-token"};
static const struct provider_message message = {"24680", "+14155552671",
                                                "Rally at 5 & bring signs!",
                                                "https://sms.example.org/twilio/status", 3600};

static void test_twilio_request(void **state)
{
    (void)state;
    struct provider_request req;
    char err[128];
    assert_int_equal(
        tocsin_provider_twilio.build_request(&twilio_account, &message, &req, err, sizeof err), 0);
    assert_string_equal(
        req.url,
        "http://127.0.0.1:8090/2010-04-01/Accounts/AC7c0c51a0000000000000000000000000/Messages.json");
    assert_string_equal(
        req.body,
        "To=%2B14155552671&From=24680&Body=Rally%20at%205%20%26%20bring%20signs%21"
        "&StatusCallback=https%3A%2F%2Fsms.example.org%2Ftwilio%2Fstatus&ValidityPeriod=3600");
    assert_int_equal(req.body_len, strlen(req.body));
    assert_string_equal(req.basic_auth, "AC7c0c51a0000000000000000000000000:secret-token");
    assert_string_equal(req.headers[0], "Content-Type: application/x-www-form-urlencoded");
    provider_request_free(&req);
    struct provider_account bad = twilio_account;
    bad.account_sid = "ACshort";
    assert_int_equal(tocsin_provider_twilio.build_request(&bad, &message, &req, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "invalid Twilio account SID"));
}

static void test_telnyx_request(void **state)
{
    (void)state;
    struct provider_account a = {"http://127.0.0.1:8090", NULL, "KEY_abc"};
    struct provider_request req;
    char err[128];
    assert_int_equal(tocsin_provider_telnyx.build_request(&a, &message, &req, err, sizeof err), 0);
    assert_string_equal(req.url, "http://127.0.0.1:8090/v2/messages");
    assert_string_equal(
        req.body,
        "{\"from\":\"24680\",\"to\":\"+14155552671\",\"text\":\"Rally at 5 & bring signs!\","
        "\"webhook_url\":\"https://sms.example.org/twilio/status\"}");
    assert_string_equal(req.headers[2], "Authorization: Bearer KEY_abc");
    assert_string_equal(req.basic_auth, "");
    provider_request_free(&req);
}

static struct provider_outcome classify(const struct tocsin_provider *p, long status,
                                        const char *body, int sent, const char *error)
{
    struct tocsin_http_client_response r = {status, body, strlen(body), error, 0, sent};
    struct provider_outcome o;
    provider_classify(p, &r, &o);
    return o;
}

static void test_twilio_outcomes(void **state)
{
    (void)state;
    const struct tocsin_provider *t = &tocsin_provider_twilio;
    struct provider_outcome o = classify(
        t, 201, "{\"sid\":\"SM0123456789abcdef0123456789abcdef\",\"status\":\"queued\"}", 1, NULL);
    assert_int_equal(o.kind, OUTCOME_SENT);
    assert_string_equal(o.provider_id, "SM0123456789abcdef0123456789abcdef");
    o = classify(t, 201, "not json", 1, NULL);
    assert_int_equal(o.kind, OUTCOME_UNKNOWN);
    o = classify(t, 429, "{\"code\":20429,\"message\":\"Too Many Requests\"}", 1, NULL);
    assert_int_equal(o.kind, OUTCOME_RETRY);
    assert_true(o.slow_down);
    o = classify(t, 400,
                 "{\"code\":21610,\"message\":\"Attempt to send to unsubscribed recipient\"}", 1,
                 NULL);
    assert_int_equal(o.kind, OUTCOME_FAILED);
    assert_true(o.opt_out);
    assert_string_equal(o.error_code, "21610");
    o = classify(t, 400, "{\"code\":21211,\"message\":\"The 'To' number is not valid.\"}", 1, NULL);
    assert_int_equal(o.kind, OUTCOME_FAILED);
    assert_false(o.opt_out);
    assert_string_equal(o.error_message, "The 'To' number is not valid.");
    /* Ambiguous: never resend. */
    assert_int_equal(classify(t, 500, "{\"code\":20500}", 1, NULL).kind, OUTCOME_UNKNOWN);
    assert_int_equal(classify(t, 503, "", 1, NULL).kind, OUTCOME_UNKNOWN);
    assert_int_equal(classify(t, 0, "", 1, "Operation timed out").kind, OUTCOME_UNKNOWN);
    assert_int_equal(classify(t, 0, "", 1, "Empty reply from server").kind, OUTCOME_UNKNOWN);
    /* Refused before anything left: safe to retry. */
    o = classify(t, 0, "", 0, "Couldn't connect to server");
    assert_int_equal(o.kind, OUTCOME_RETRY);
    assert_non_null(strstr(o.error_message, "not sent"));
}

static void test_telnyx_outcomes(void **state)
{
    (void)state;
    const struct tocsin_provider *t = &tocsin_provider_telnyx;
    struct provider_outcome o =
        classify(t, 200, "{\"data\":{\"id\":\"40317f7e-0001-0002-0003-000000000004\"}}", 1, NULL);
    assert_int_equal(o.kind, OUTCOME_SENT);
    assert_string_equal(o.provider_id, "40317f7e-0001-0002-0003-000000000004");
    o = classify(
        t, 422,
        "{\"errors\":[{\"code\":\"40310\",\"title\":\"Invalid parameter\",\"detail\":\"bad to\"}]}",
        1, NULL);
    assert_int_equal(o.kind, OUTCOME_FAILED);
    assert_string_equal(o.error_code, "40310");
    assert_string_equal(o.error_message, "bad to");
    o = classify(t, 400,
                 "{\"errors\":[{\"code\":\"40300\",\"detail\":\"Blocked due to STOP message\"}]}",
                 1, NULL);
    assert_true(o.opt_out);
    assert_int_equal(classify(t, 429, "{}", 1, NULL).kind, OUTCOME_RETRY);
    assert_int_equal(classify(t, 502, "", 1, NULL).kind, OUTCOME_UNKNOWN);
}

static void test_registry(void **state)
{
    (void)state;
    assert_ptr_equal(tocsin_provider_find("twilio"), &tocsin_provider_twilio);
    assert_ptr_equal(tocsin_provider_find("telnyx"), &tocsin_provider_telnyx);
    assert_null(tocsin_provider_find("smpp"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_twilio_request),  cmocka_unit_test(test_telnyx_request),
        cmocka_unit_test(test_twilio_outcomes), cmocka_unit_test(test_telnyx_outcomes),
        cmocka_unit_test(test_registry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
