/* SPDX-License-Identifier: AGPL-3.0-or-later
 * test_normalize.c — the folded form of a message (lib/normalize) and the
 * keyword decisions that read it: every reserved word of both languages
 * and the org's keywords in the spellings phones produce (case, accents
 * precomposed or combining, inverted and trailing punctuation, curly
 * quotes, guillemets, fullwidth forms, NBSP and other spaces, zero-width
 * characters, BOM, emoji after the word), the plain-words revocation
 * patterns with curly apostrophes, and what must stay a reply. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "compliance.h"
#include "keyword.h"
#include "normalize.h"

static const char *fold(const char *in)
{
    static char out[512];
    tocsin_normalize_message(in, strlen(in), out, sizeof out);
    return out;
}

static void test_folded_form(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"STOP", "stop"},
        {"  Stop!!  ", "stop"},
        {"\xc2\xa1\xc3\x9anete!", "unete"}, /* ¡Únete! */
        {"U\xcc\x81NETE", "unete"},         /* U + combining acute */
        {"\xc2\xbf"
         "Ayuda?",
         "ayuda"},                                                    /* ¿Ayuda? */
        {"\xef\xbc\xb3\xef\xbc\xb4\xef\xbc\xaf\xef\xbc\xb0", "stop"}, /* fullwidth */
        {"\xc2\xa0STOP\xc2\xa0", "stop"},                             /* NBSP */
        {"\xef\xbb\xbfSTOP", "stop"},                                 /* BOM */
        {"ST\xe2\x80\x8dOP", "stop"},                                 /* zero-width joiner inside */
        {"STOP \xf0\x9f\x9b\x91", "stop"},                            /* 🛑 */
        {"STOP\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd", "stop"},             /* 👍🏽 */
        {"\xc2\xab"
         "ALTO\xc2\xbb",
         "alto"},                                        /* «ALTO» */
        {"Don\xe2\x80\x99t  text\tme", "don't text me"}, /* ’, whitespace runs */
        {"\xe2\x80\x9cHi\xe2\x80\x9d \xe2\x80\x94 ok\xe2\x80\xa6 yes", "hi\" - ok... yes"},
        {"Stra\xc3\x9f"
         "e \xc5\x92uvre \xc3\x86on",
         "strasse oeuvre aeon"},
        {"\xc5\x81\xc3\xb3"
         "d\xc5\xba \xc4\x8c"
         "e\xc5\xa1ka",
         "lodz ceska"},                           /* Latin Extended-A */
        {"\xce\xa3\xce\x99", "\xcf\x83\xce\xb9"}, /* ΣΙ -> σι (Greek folds) */
        {"\xe1\xbb\x87"
         "a",
         "ea"}, /* ệ (Latin Extended Additional) */
        {"\xe2\x80\x83\xe3\x80\x80 mid \xe2\x80\xaf word ",
         "mid word"},                 /* em, ideographic, narrow NBSP */
        {"\xff\xfeSTOP\xc3", "stop"}, /* invalid UTF-8 around */
        {"\xf0\x9d\x90\x92\xf0\x9d\x90\x93\xf0\x9d\x90\x8e\xf0\x9d\x90\x8f",
         "stop"},                                                     /* math bold */
        {"\xe2\x93\x88\xe2\x93\xa3\xe2\x93\x9e\xe2\x93\x9f", "stop"}, /* circled */
        {"\xef\xac\x81n \xe2\x84\xa2", "fin tm"},                     /* ligature, trade mark */
        {"\xe1\xba\x9e", "ss"},                                       /* capital sharp s */
        {"!!!", ""},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (strcmp(fold(cases[i][0]), cases[i][1]) != 0)
            fail_msg("case %zu folded to \"%s\", want \"%s\"", i, fold(cases[i][0]), cases[i][1]);
}

/* Every spelling of word in the shapes phones produce. */
static void check_spellings(const struct tocsin_keyword_set *set, const char *word,
                            enum tocsin_intent want, long long want_id)
{
    static const char *const wraps[][2] = {
        {"", ""},
        {" ", " "},
        {"", "!"},
        {"", "."},
        {"", "..."},
        {"", "\xe2\x80\xa6"}, /* … */
        {"\xc2\xa1", "!"},    /* ¡ ! */
        {"\xc2\xbf", "?"},    /* ¿ ? */
        {"\xc2\xa1\xc2\xa1", "!!!"},
        {"\"", "\""},
        {"'", "'"},
        {"\xe2\x80\x9c", "\xe2\x80\x9d"}, /* “ ” */
        {"\xe2\x80\x98", "\xe2\x80\x99"}, /* ‘ ’ */
        {"\xc2\xab", "\xc2\xbb"},         /* « » */
        {"\xc2\xa0", "\xc2\xa0"},         /* NBSP */
        {"\xe2\x80\x89", "\xe3\x80\x80"}, /* thin space, ideographic space */
        {"\t", "\r\n"},
        {"\xef\xbb\xbf", ""},                     /* BOM */
        {"\xe2\x80\x8b", "\xe2\x80\x8d"},         /* ZWSP, ZWJ */
        {"", " \xf0\x9f\x99\x8f"},                /* 🙏 */
        {"", "\xf0\x9f\x91\x8b\xf0\x9f\x8f\xbb"}, /* 👋🏻 */
        {"", " \xe2\x9d\xa4\xef\xb8\x8f"},        /* ❤️ */
        {"(", ")"},
        {"-", "-"},
        {"\xe2\x80\x94", "\xe2\x80\x94"}, /* — */
        {"*", "*"},
    };
    char forms[6][128];
    size_t nf = 0, wl = strlen(word);
    /* as listed, lower case, title case (ASCII letters; accents stay as written) */
    snprintf(forms[nf++], sizeof forms[0], "%s", word);
    for (size_t i = 0; i <= wl; i++)
        forms[nf][i] = (word[i] >= 'A' && word[i] <= 'Z') ? (char)(word[i] + 32) : word[i];
    nf++;
    memcpy(forms[nf], forms[1], sizeof forms[0]);
    if (forms[nf][0] >= 'a' && forms[nf][0] <= 'z')
        forms[nf][0] = (char)(forms[nf][0] - 32);
    nf++;
    /* fullwidth, where the word is ASCII letters */
    size_t o = 0;
    int ascii = 1;
    for (size_t i = 0; i < wl; i++) {
        unsigned cp = 0xff00u + (unsigned char)word[i] - 0x20u;
        ascii &= (unsigned char)word[i] < 0x80;
        forms[nf][o++] = (char)(0xe0 | (cp >> 12));
        forms[nf][o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
        forms[nf][o++] = (char)(0x80 | (cp & 0x3f));
    }
    forms[nf][o] = '\0';
    nf += ascii;
    /* a zero-width joiner after the first letter (autocorrect, emoji keyboards) */
    if (ascii && wl > 1) {
        snprintf(forms[nf], sizeof forms[0], "%c\xe2\x80\x8d%s", word[0], word + 1);
        nf++;
    }
    for (size_t f = 0; f < nf; f++)
        for (size_t w = 0; w < sizeof wraps / sizeof wraps[0]; w++) {
            char body[1024];
            if ((size_t)snprintf(body, sizeof body, "%s%s%s", wraps[w][0], forms[f], wraps[w][1]) >=
                sizeof body)
                fail_msg("spelling too long");
            struct tocsin_classification c;
            tocsin_keyword_classify(set, body, strlen(body), &c);
            if (c.intent != want || (want == TOCSIN_INTENT_KEYWORD && c.keyword_id != want_id))
                fail_msg("\"%s\" classified %d (keyword %lld), want %d", body, c.intent,
                         c.keyword_id, want);
            /* The carrier simulator reads STOP with tocsin_reserved_word: the same answer. */
            enum tocsin_reserved r = tocsin_reserved_word(body, strlen(body));
            enum tocsin_reserved want_r = want == TOCSIN_INTENT_OPT_OUT  ? TOCSIN_RESERVED_OPT_OUT
                                          : want == TOCSIN_INTENT_OPT_IN ? TOCSIN_RESERVED_OPT_IN
                                          : want == TOCSIN_INTENT_HELP   ? TOCSIN_RESERVED_HELP
                                                                         : TOCSIN_RESERVED_NONE;
            if (r != want_r)
                fail_msg("\"%s\": tocsin_reserved_word says %d, want %d", body, r, want_r);
        }
}

static void test_reserved_spellings(void **state)
{
    (void)state;
    for (const char *const *w = tocsin_opt_out_words; *w; w++)
        check_spellings(NULL, *w, TOCSIN_INTENT_OPT_OUT, 0);
    for (const char *const *w = tocsin_opt_in_words; *w; w++)
        check_spellings(NULL, *w, TOCSIN_INTENT_OPT_IN, 0);
    for (const char *const *w = tocsin_help_words; *w; w++)
        check_spellings(NULL, *w, TOCSIN_INTENT_HELP, 0);
    /* accents members add or autocorrect adds */
    static const struct {
        const char *body;
        enum tocsin_intent want;
    } accented[] = {
        {"s\xc3\xad", TOCSIN_INTENT_OPT_IN},          /* sí */
        {"S\xc3\x8d", TOCSIN_INTENT_OPT_IN},          /* SÍ */
        {"\xc2\xa1S\xc3\xad!", TOCSIN_INTENT_OPT_IN}, /* ¡Sí! */
        {"si\xcc\x81", TOCSIN_INTENT_OPT_IN},         /* s i + combining acute */
        {"\xc3\x81lto", TOCSIN_INTENT_OPT_OUT},       /* Álto */
        {"\xc2\xa1"
         "ALTO!",
         TOCSIN_INTENT_OPT_OUT},
        {"\xc2\xa1\xc3\x81LTO!", TOCSIN_INTENT_OPT_OUT}, /* ¡ÁLTO! */
        {"Par\xc3\xa1r", TOCSIN_INTENT_OPT_OUT},         /* Parár */
        {"cancel\xc3\xa1r", TOCSIN_INTENT_OPT_OUT},
        {"B\xc3\xa1ja", TOCSIN_INTENT_OPT_OUT},
        {"\xc2\xbf"
         "Ay\xc3\xba"
         "da?",
         TOCSIN_INTENT_HELP},                   /* ¿Ayúda? */
        {"\xc3\x80LTA", TOCSIN_INTENT_OPT_IN},  /* ÀLTA */
        {"St\xc3\xb6p", TOCSIN_INTENT_OPT_OUT}, /* Stöp */
    };
    for (size_t i = 0; i < sizeof accented / sizeof accented[0]; i++) {
        struct tocsin_classification c;
        tocsin_keyword_classify(NULL, accented[i].body, strlen(accented[i].body), &c);
        if (c.intent != accented[i].want)
            fail_msg("\"%s\" classified %d, want %d", accented[i].body, c.intent, accented[i].want);
    }
}

static void test_org_keyword_spellings(void **state)
{
    (void)state;
    /* The default pattern tocsinctl writes, one written in lower case with
     * its accent, one in capitals, one loose. */
    struct tocsin_keyword_def defs[] = {
        {1, "(?i)^\\s*JOIN[\\s\\p{P}]*$"},
        {2, "^\\s*\xc3\xbanete\\s*$"}, /* ^\s*únete\s*$ */
        {3, "^VOLUNTEER$"},
        {4, "(?i)^\\s*UNIRME[\\s\\p{P}]*$"},
        {5, "^caf\xc3\x89 con leche$"}, /* ^cafÉ con leche$ */
    };
    char err[200];
    struct tocsin_keyword_set *set = tocsin_keyword_set_new(defs, 5, err, sizeof err);
    assert_non_null(set);
    check_spellings(set, "JOIN", TOCSIN_INTENT_KEYWORD, 1);
    check_spellings(set, "UNETE", TOCSIN_INTENT_KEYWORD, 2);
    check_spellings(set, "\xc3\x9aNETE", TOCSIN_INTENT_KEYWORD, 2);  /* ÚNETE */
    check_spellings(set, "\xc3\xbanete", TOCSIN_INTENT_KEYWORD, 2);  /* únete */
    check_spellings(set, "U\xcc\x81nete", TOCSIN_INTENT_KEYWORD, 2); /* combining */
    check_spellings(set, "VOLUNTEER", TOCSIN_INTENT_KEYWORD, 3);
    check_spellings(set, "UNIRME", TOCSIN_INTENT_KEYWORD, 4);
    check_spellings(set, "Caf\xc3\xa9 con leche", TOCSIN_INTENT_KEYWORD, 5);
    check_spellings(set, "CAFE\xc2\xa0 CON   LECHE", TOCSIN_INTENT_KEYWORD, 5);
    /* Reserved words come first whatever the org's patterns say. */
    check_spellings(set, "STOP", TOCSIN_INTENT_OPT_OUT, 0);
    struct tocsin_classification c;
    tocsin_keyword_classify(set, "join us tomorrow", 16, &c);
    assert_int_equal(c.intent, TOCSIN_INTENT_REPLY);
    tocsin_keyword_set_free(set);
}

static void test_still_replies(void **state)
{
    (void)state;
    static const char *const replies[] = {
        "stop by the office tomorrow",
        "don't stop the rally",
        "Don\xe2\x80\x99t stop the rally!",
        "stop it",
        "stopping by later",
        "help me find the rally",
        "yes please",
        "s\xc3\xad, claro",
        "alto ah\xc3\xad",
        "S.T.O.P",
        "\xf0\x9f\x9b\x91",
        "\xc2\xa1\xc2\xbf!?",
        "",
    };
    for (size_t i = 0; i < sizeof replies / sizeof replies[0]; i++) {
        struct tocsin_classification c;
        tocsin_keyword_classify(NULL, replies[i], strlen(replies[i]), &c);
        if (c.intent != TOCSIN_INTENT_REPLY)
            fail_msg("\"%s\" classified %d, want a reply", replies[i], c.intent);
    }
    struct tocsin_classification c;
    tocsin_keyword_classify(NULL, "stop by the office tomorrow", 27, &c);
    assert_int_equal(c.likely_revocation, 0);
}

static void test_revocation_with_curly_quotes(void **state)
{
    (void)state;
    static const char *const yes[] = {
        "Don't text me anymore",
        "Don\xe2\x80\x99t text me anymore", /* ’ (iPhone) */
        "Don\xe2\x80\x98t text me anymore", /* ‘ */
        "DON\xe2\x80\x99T TEXT ME",
        "don\xc2\xb4t text me", /* ´ */
        "don`t text me",
        "Don\xe2\x80\xb2t message me",          /* ′ */
        "Please\xc2\xa0stop\xc2\xa0texting me", /* NBSP */
        "\xe2\x80\x9cRemove me\xe2\x80\x9d",
        "No m\xc3\xa1s mensajes",
        "NO M\xc3\x81S MENSAJES",
        "no mas mensajes \xf0\x9f\x98\xa1",
        "Dejen de enviarme mensajes",
        "No me env\xc3\xad"
        "en m\xc3\xa1s",
        "B\xc3\x93RRAME",
        "Opt\xe2\x80\xafout", /* narrow NBSP: "opt out" */
    };
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        struct tocsin_classification c;
        tocsin_keyword_classify(NULL, yes[i], strlen(yes[i]), &c);
        if (c.intent != TOCSIN_INTENT_REPLY || !c.likely_revocation)
            fail_msg("\"%s\": intent %d, likely_revocation %d; want a flagged reply", yes[i],
                     c.intent, c.likely_revocation);
    }
}

static void test_reserved_language(void **state)
{
    (void)state;
    assert_string_equal(tocsin_reserved_language("\xc2\xa1"
                                                 "Alto!",
                                                 7),
                        "es");
    assert_string_equal(tocsin_reserved_language("AYUDA", 5), "es");
    assert_string_equal(tocsin_reserved_language("S\xc3\x8d", 3), "es");
    assert_string_equal(tocsin_reserved_language("baja", 4), "es");
    assert_string_equal(tocsin_reserved_language("Cancel", 6), "en");
    assert_string_equal(tocsin_reserved_language("yes", 3), "en");
    assert_null(tocsin_reserved_language("STOP", 4));
    assert_null(tocsin_reserved_language("help", 4));
    assert_null(tocsin_reserved_language("start", 5));
    assert_null(tocsin_reserved_language("hola", 4));
}

static void test_patterns_folded(void **state)
{
    (void)state;
    char out[128];
    /* ASCII (escapes) untouched; accents and case of other letters folded;
     * a quote or dash from a non-ASCII mark stays a literal. */
    static const char p1[] = "^\\S*\xc3\x9aNETE\\W$", p2[] = "don\xe2\x80\x99t\xe2\x80\xa6",
                      p3[] = "\xef\xbc\x88x\xef\xbc\x89";
    tocsin_normalize_pattern(p1, sizeof p1 - 1, out, sizeof out);
    assert_string_equal(out, "^\\S*uNETE\\W$");
    tocsin_normalize_pattern(p2, sizeof p2 - 1, out, sizeof out);
    assert_string_equal(out, "don\\'t\\.\\.\\.");
    tocsin_normalize_pattern(p3, sizeof p3 - 1, out, sizeof out);
    assert_string_equal(out, "\\(x\\)");
}

/* Cost per message: printed, not asserted (machines differ). */
static void test_cost(void **state)
{
    (void)state;
    static const char *const bodies[] = {
        "STOP", "\xc2\xa1\xc3\x9anete!", "Don\xe2\x80\x99t text me anymore, thanks",
        "I will be there at 6, can I bring my neighbour? \xf0\x9f\x99\x82"};
    char out[256];
    struct timespec a, b;
    size_t n = 200000, sum = 0;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (size_t i = 0; i < n; i++) {
        const char *s = bodies[i % 4];
        sum += tocsin_normalize_message(s, strlen(s), out, sizeof out);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ns = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / (double)n;
    printf("normalise: %.0f ns per message (mean of 4 bodies, %zu bytes out)\n", ns, sum / n);
    assert_true(sum > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_folded_form),
        cmocka_unit_test(test_reserved_spellings),
        cmocka_unit_test(test_org_keyword_spellings),
        cmocka_unit_test(test_still_replies),
        cmocka_unit_test(test_revocation_with_curly_quotes),
        cmocka_unit_test(test_reserved_language),
        cmocka_unit_test(test_patterns_folded),
        cmocka_unit_test(test_cost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
