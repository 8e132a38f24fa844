/* SPDX-License-Identifier: AGPL-3.0-or-later
 * test_keyword.c — message intent: every reserved word of COMPLIANCE.md in
 * any case with surrounding spaces and punctuation, org keywords as pcre2
 * patterns, and revocation in plain words with true and false positives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "compliance.h"
#include "keyword.h"

static enum tocsin_intent intent_of(const struct tocsin_keyword_set *set, const char *body)
{
    struct tocsin_classification c;
    tocsin_keyword_classify(set, body, strlen(body), &c);
    return c.intent;
}

/* Lower-cases ASCII letters of w into out. */
static void lower(const char *w, char *out)
{
    for (; *w; w++, out++)
        *out = (*w >= 'A' && *w <= 'Z') ? (char)(*w + 32) : *w;
    *out = '\0';
}

static void check_words(const char *const *words, enum tocsin_intent want)
{
    static const char *const shapes[][2] = {{"", ""},   {" ", " "},    {"", "!"},  {"", "."},
                                            {"  ", "?! "}, {"\t", "\n"}, {"\"", "\""}};
    for (const char *const *w = words; *w; w++) {
        char low[32], mixed[32], body[64];
        lower(*w, low);
        snprintf(mixed, sizeof mixed, "%s", low);
        mixed[0] = *w[0]; /* "Stop" */
        const char *forms[] = {*w, low, mixed};
        for (size_t f = 0; f < 3; f++) {
            for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
                snprintf(body, sizeof body, "%s%s%s", shapes[s][0], forms[f], shapes[s][1]);
                if (intent_of(NULL, body) != want)
                    fail_msg("\"%s\" classified %d, want %d", body, intent_of(NULL, body), want);
            }
        }
    }
}

static void test_reserved_words_any_shape(void **state)
{
    (void)state;
    check_words(tocsin_opt_out_words, TOCSIN_INTENT_OPT_OUT);
    check_words(tocsin_opt_in_words, TOCSIN_INTENT_OPT_IN);
    check_words(tocsin_help_words, TOCSIN_INTENT_HELP);
    assert_int_equal(intent_of(NULL, "s\xc3\xad"), TOCSIN_INTENT_OPT_IN);        /* sí */
    assert_int_equal(intent_of(NULL, "\xc2\xa1" "ALTO!"), TOCSIN_INTENT_OPT_OUT); /* ¡ALTO! */
    assert_int_equal(intent_of(NULL, "\xc2\xbf" "ayuda?"), TOCSIN_INTENT_HELP);   /* ¿ayuda? */
}

static void test_not_whole_message(void **state)
{
    (void)state;
    assert_int_equal(intent_of(NULL, "don't stop the rally"), TOCSIN_INTENT_REPLY);
    assert_int_equal(intent_of(NULL, "stop it"), TOCSIN_INTENT_REPLY);
    assert_int_equal(intent_of(NULL, "stopping by later"), TOCSIN_INTENT_REPLY);
    assert_int_equal(intent_of(NULL, "help me find the rally"), TOCSIN_INTENT_REPLY);
    assert_int_equal(intent_of(NULL, "yes please"), TOCSIN_INTENT_REPLY);
    assert_int_equal(intent_of(NULL, ""), TOCSIN_INTENT_REPLY);
}

static void test_org_keywords(void **state)
{
    (void)state;
    struct tocsin_keyword_def defs[] = {
        {7, "(?i)^\\s*JOIN[\\s\\p{P}]*$"},
        {9, "(?i)^\\s*UNETE[\\s\\p{P}]*$"},
        {11, "(?i)^\\s*RALLY\\s*20\\d\\d[\\s\\p{P}]*$"},
    };
    char err[200];
    struct tocsin_keyword_set *set = tocsin_keyword_set_new(defs, 3, err, sizeof err);
    assert_non_null(set);
    struct tocsin_classification c;
    tocsin_keyword_classify(set, " join! ", 7, &c);
    assert_int_equal(c.intent, TOCSIN_INTENT_KEYWORD);
    assert_int_equal(c.keyword_id, 7);
    tocsin_keyword_classify(set, "Unete.", 6, &c);
    assert_int_equal(c.keyword_id, 9);
    tocsin_keyword_classify(set, "rally 2026", 10, &c);
    assert_int_equal(c.keyword_id, 11);
    assert_int_equal(intent_of(set, "I want to join"), TOCSIN_INTENT_REPLY);
    assert_int_equal(intent_of(set, "STOP"), TOCSIN_INTENT_OPT_OUT); /* reserved words first */
    assert_int_equal(intent_of(set, "\xff\xfe join"), TOCSIN_INTENT_REPLY); /* invalid UTF-8 is no crash */
    tocsin_keyword_set_free(set);
    struct tocsin_keyword_def bad[] = {{3, "(unclosed"}};
    assert_null(tocsin_keyword_set_new(bad, 1, err, sizeof err));
    assert_non_null(strstr(err, "keyword 3: pattern error"));
}

static void test_revocation_true_positives(void **state)
{
    (void)state;
    const char *yes[] = {
        "stop texting me", "Please stop texting me!", "remove me", "Remove me from this list",
        "unsubscribe me please", "no more texts", "No more messages please", "don't text me again",
        "Do not contact me", "leave me alone", "please opt me out", "take me off your list",
        "lose my number", "deja de enviarme mensajes", "Dejen de mandarme mensajes",
        "no me envien mas", "no me manden más", "bórrame de la lista", "ya no quiero recibir mensajes",
        "quiero darme de baja",
    };
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        struct tocsin_classification c;
        tocsin_keyword_classify(NULL, yes[i], strlen(yes[i]), &c);
        if (c.intent != TOCSIN_INTENT_REPLY || !c.likely_revocation)
            fail_msg("\"%s\" should be flagged as a likely revocation", yes[i]);
    }
}

static void test_revocation_false_positives(void **state)
{
    (void)state;
    const char *no[] = {
        "don't stop the rally", "we will not stop fighting", "I can't stop thinking about the march",
        "stop by the office at 5", "more texts like this please!", "text me the address",
        "where do I sign up?", "remember me to Maria", "no pares la marcha", "mándame más información",
        "Can you send more info?", "I removed the sign from my lawn",
    };
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (tocsin_likely_revocation(no[i], strlen(no[i])))
            fail_msg("\"%s\" is not a revocation", no[i]);
}

static void test_trim(void **state)
{
    (void)state;
    const char *start;
    size_t n = tocsin_keyword_trim("  Stop!!  ", 10, &start);
    assert_int_equal(n, 4);
    assert_memory_equal(start, "Stop", 4);
    assert_int_equal(tocsin_keyword_trim("   ", 3, &start), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reserved_words_any_shape),
        cmocka_unit_test(test_not_whole_message),
        cmocka_unit_test(test_org_keywords),
        cmocka_unit_test(test_revocation_true_positives),
        cmocka_unit_test(test_revocation_false_positives),
        cmocka_unit_test(test_trim),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
