/* SPDX-License-Identifier: AGPL-3.0-or-later
 * test_compliance.c — reserved keywords and confirmation content. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "compliance.h"

static void test_reserved_words(void **state)
{
    (void)state;
    assert_int_equal(tocsin_reserved_word("stop", 4), TOCSIN_RESERVED_OPT_OUT);
    assert_int_equal(tocsin_reserved_word("Baja", 4), TOCSIN_RESERVED_OPT_OUT);
    assert_int_equal(tocsin_reserved_word("UNSUBSCRIBE", 11), TOCSIN_RESERVED_OPT_OUT);
    assert_int_equal(tocsin_reserved_word("start", 5), TOCSIN_RESERVED_OPT_IN);
    assert_int_equal(tocsin_reserved_word("s\xc3\xad", 3), TOCSIN_RESERVED_OPT_IN); /* sí */
    assert_int_equal(tocsin_reserved_word("SI", 2), TOCSIN_RESERVED_OPT_IN);
    assert_int_equal(tocsin_reserved_word("ayuda", 5), TOCSIN_RESERVED_HELP);
    assert_int_equal(tocsin_reserved_word("JOIN", 4), TOCSIN_RESERVED_NONE);
    assert_int_equal(tocsin_reserved_word("STOPP", 5), TOCSIN_RESERVED_NONE);
}

static const char *org = "Tocsin Demo Chapter";

static void expect_refused(const char *text, const char *why)
{
    char err[256] = "";
    assert_int_equal(tocsin_confirmation_check(text, strlen(text), org, err, sizeof err), -1);
    if (!strstr(err, why))
        fail_msg("\"%s\": error \"%s\" lacks \"%s\"", text, err, why);
}

static void test_confirmation_ok(void **state)
{
    (void)state;
    char err[256] = "";
    const char *en = "Tocsin Demo Chapter: you're subscribed to alerts. Up to 4 msgs/mo. "
                     "Msg&data rates may apply. Reply HELP for help, STOP to cancel.";
    assert_int_equal(tocsin_confirmation_check(en, strlen(en), org, err, sizeof err), 0);
    const char *spaced = "TOCSIN DEMO CHAPTER alerts: recurring messages. Msg & data rates may "
                         "apply. Text help for help; text stop to opt out.";
    assert_int_equal(tocsin_confirmation_check(spaced, strlen(spaced), org, err, sizeof err), 0);
    const char *es =
        "Tocsin Demo Chapter: te has suscrito. Hasta 4 mensajes al mes. Pueden "
        "aplicarse tarifas de mensajes y datos. Responde AYUDA para ayuda, ALTO para cancelar.";
    assert_int_equal(tocsin_confirmation_check(es, strlen(es), org, err, sizeof err), 0);
    const char *lines = "tocsin demo\tchapter\nAlerts:  2 MSGS / WK\nMessage and data rates "
                        "may apply.\nReply HELP for help,\r\nSTOP to opt out";
    assert_int_equal(tocsin_confirmation_check(lines, strlen(lines), org, err, sizeof err), 0);
    const char *varies = "Tocsin Demo Chapter: msg frequency varies. Msgs&Data Rates May Apply. "
                         "HELP 4 help. STOP 2 end.";
    assert_int_equal(tocsin_confirmation_check(varies, strlen(varies), org, err, sizeof err), 0);
}

static void test_confirmation_refused(void **state)
{
    (void)state;
    expect_refused("", "empty");
    expect_refused(
        "Welcome! 4 msgs/mo. Msg&data rates may apply. Reply HELP for help, STOP to cancel.",
        "name the program");
    expect_refused(
        "Tocsin Demo Chapter: welcome! Msg&data rates may apply. Reply HELP for help, STOP to cancel.",
        "how often");
    expect_refused("Tocsin Demo Chapter: 4 msgs/mo. Reply HELP for help, STOP to cancel.",
                   "rates may apply");
    expect_refused(
        "Tocsin Demo Chapter: 4 msgs/mo. Msg&data rates may apply. Reply STOP to cancel.", "help");
    expect_refused("Tocsin Demo Chapter: 4 msgs/mo. Msg&data rates may apply. Reply HELP for help.",
                   "how to stop");
    /* Phrases are whole words: "normal messages" is not "al mes", "a
     * weekend" is not "a week", "Chapters" is not the name. */
    expect_refused("Tocsin Demo Chapter: normal messages. Msg&data rates may apply. HELP for help, "
                   "STOP to cancel.",
                   "how often");
    expect_refused(
        "Tocsin Demo Chapter: see you a weekend soon. Msg&data rates may apply. HELP for "
        "help, STOP to cancel.",
        "how often");
    expect_refused(
        "Tocsin Demo Chapters: 4 msgs/mo. Msg&data rates may apply. HELP for help, STOP to "
        "cancel.",
        "name the program");
    expect_refused(
        "Tocsin Demo Chapter: 4 msgs/mo. Msg&data rates apply. HELP for help, STOP to cancel.",
        "rates may apply");
    expect_refused(
        "Tocsin Demo Chapter: 4 msgs/mo. Data rates may apply. HELP for help, STOP to cancel.",
        "rates may apply");
    /* "STOPS" is not the word STOP. */
    expect_refused(
        "Tocsin Demo Chapter: 4 msgs/mo. Msg&data rates may apply. HELP for help. No STOPS.",
        "how to stop");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reserved_words),
        cmocka_unit_test(test_confirmation_ok),
        cmocka_unit_test(test_confirmation_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
