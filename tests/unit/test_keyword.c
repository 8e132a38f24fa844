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
#include <unistd.h>

#include <cmocka.h>

#include "compliance.h"
#include "keyword.h"
#include "keyword_rules.h"

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
    static const char *const shapes[][2] = {{"", ""},      {" ", " "},   {"", "!"},   {"", "."},
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
    assert_int_equal(intent_of(NULL, "s\xc3\xad"), TOCSIN_INTENT_OPT_IN); /* sí */
    assert_int_equal(intent_of(NULL, "\xc2\xa1"
                                     "ALTO!"),
                     TOCSIN_INTENT_OPT_OUT); /* ¡ALTO! */
    assert_int_equal(intent_of(NULL, "\xc2\xbf"
                                     "ayuda?"),
                     TOCSIN_INTENT_HELP); /* ¿ayuda? */
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
    /* Invalid UTF-8 is no crash; invalid bytes around a word read as
     * symbols, which the folded form drops like other wrapping. */
    assert_int_equal(intent_of(set, "\xff\xfe join"), TOCSIN_INTENT_KEYWORD);
    assert_int_equal(intent_of(set, "jo\xff\xfein"), TOCSIN_INTENT_REPLY);
    tocsin_keyword_set_free(set);
    struct tocsin_keyword_def bad[] = {{3, "(unclosed"}};
    assert_null(tocsin_keyword_set_new(bad, 1, err, sizeof err));
    assert_non_null(strstr(err, "keyword 3: pattern error"));
}

static void test_revocation_true_positives(void **state)
{
    (void)state;
    const char *yes[] = {
        "stop texting me",
        "Please stop texting me!",
        "remove me",
        "Remove me from this list",
        "unsubscribe me please",
        "no more texts",
        "No more messages please",
        "don't text me again",
        "Do not contact me",
        "leave me alone",
        "please opt me out",
        "take me off your list",
        "lose my number",
        "deja de enviarme mensajes",
        "Dejen de mandarme mensajes",
        "no me envien mas",
        "no me manden más",
        "bórrame de la lista",
        "ya no quiero recibir mensajes",
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
        "don't stop the rally",
        "we will not stop fighting",
        "I can't stop thinking about the march",
        "stop by the office at 5",
        "more texts like this please!",
        "text me the address",
        "where do I sign up?",
        "remember me to Maria",
        "no pares la marcha",
        "mándame más información",
        "Can you send more info?",
        "I removed the sign from my lawn",
    };
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (tocsin_likely_revocation(no[i], strlen(no[i])))
            fail_msg("\"%s\" is not a revocation", no[i]);
}

/* classify_counting_give_ups: classifies body with set, its log lines
 * (stderr) caught in a temporary file; returns how many say a pattern gave
 * up at the match limit. */
static int classify_counting_give_ups(const struct tocsin_keyword_set *set, const char *body,
                                      size_t len, struct tocsin_classification *c)
{
    FILE *log = tmpfile();
    assert_non_null(log);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(log), STDERR_FILENO) >= 0);
    tocsin_keyword_classify(set, body, len, c);
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    rewind(log);
    int n = 0;
    char line[512];
    while (fgets(line, sizeof line, log))
        n += strstr(line, "keyword_match_limit") != NULL;
    fclose(log);
    return n;
}

/* A catastrophic pattern already stored (before creation-time checks, or
 * one the corpus misses) costs a bounded time per message: pcre2 stops it
 * at the match limit. On main pcre2's default limit (10 million) let each
 * of these take 15-30 ms with JIT (150-250 ms without) on a 1600-byte
 * body. Asserted without a clock (a loaded machine only slows it): each of
 * the eight gives up at the limit and says so, and the message is a reply. */
static void test_catastrophic_pattern_bounded(void **state)
{
    (void)state;
    struct tocsin_keyword_def defs[8];
    for (int i = 0; i < 8; i++)
        defs[i] = (struct tocsin_keyword_def){i + 1, i % 2 ? "(a+)+$" : "(\\w+\\s?)+$"};
    char err[200];
    struct tocsin_keyword_set *set = tocsin_keyword_set_new(defs, 8, err, sizeof err);
    assert_non_null(set);
    char body[1600];
    memset(body, 'a', sizeof body);
    /* "a...a!b": the folded form drops trailing punctuation, so the letter
     * after '!' keeps the run from matching up to the end. */
    body[sizeof body - 2] = '!';
    body[sizeof body - 1] = 'b';
    struct tocsin_classification c;
    int gave_up = classify_counting_give_ups(set, body, sizeof body, &c);
    assert_int_equal(c.intent, TOCSIN_INTENT_REPLY); /* given up: no keyword */
    if (gave_up != 8)
        fail_msg("%d of 8 catastrophic keywords gave up at the match limit", gave_up);
    /* Ordinary messages still match under the limits. */
    struct tocsin_keyword_def ok[] = {{5, "(?i)\\b(join|sign\\s*up)\\b"}};
    tocsin_keyword_set_free(set);
    set = tocsin_keyword_set_new(ok, 1, err, sizeof err);
    assert_non_null(set);
    memset(body, 'x', sizeof body);
    memcpy(body + 1500, " sign up ", 9);
    tocsin_keyword_classify(set, body, sizeof body, &c);
    assert_int_equal(c.intent, TOCSIN_INTENT_KEYWORD);
    tocsin_keyword_set_free(set);
}

#define CONFIRMATION                                                                               \
    "Acme: you're subscribed to alerts. Up to 4 msgs/mo. Msg&data rates may apply. Reply HELP "    \
    "for help, STOP to cancel."

/* Creation refuses a pattern that reaches the limits on the test corpus,
 * wherever keywords are made (tocsinctl keyword add, the dashboard). */
static void test_costly_pattern_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {"^(a+)+$",  "^(\\d+\\s?)+$",      "^(\\d+)*x",
                                      "(x+x+)+y", "(?i)(join|j\\w*)+!", NULL};
    static const char *const good[] = {"(?i)^\\s*JOIN[\\s\\p{P}]*$", "(?i)\\bjoin\\b",
                                       "(?i)^\\s*rally\\s*20\\d\\d[\\s\\p{P}]*$",
                                       "(?i)\\b(vote|voting)\\s+(info|help me)\\b", NULL};
    struct tocsin_keyword_checked out;
    char err[300];
    for (const char *const *p = bad; *p; p++) {
        if (tocsin_keyword_rules_check("RALLY", *p, CONFIRMATION, "Acme", &out, err, sizeof err) ==
            0)
            fail_msg("costly pattern \"%s\" accepted", *p);
        if (!strstr(err, "too costly"))
            fail_msg("pattern \"%s\" refused for another reason: %s", *p, err);
    }
    for (const char *const *p = good; *p; p++)
        if (tocsin_keyword_rules_check("RALLY", *p, CONFIRMATION, "Acme", &out, err, sizeof err) !=
            0)
            fail_msg("pattern \"%s\" refused: %s", *p, err);
    assert_int_equal(
        tocsin_keyword_rules_check("RALLY", NULL, CONFIRMATION, "Acme", &out, err, sizeof err), 0);
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
        cmocka_unit_test(test_catastrophic_pattern_bounded),
        cmocka_unit_test(test_costly_pattern_refused),
        cmocka_unit_test(test_trim),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
