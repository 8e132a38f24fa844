/* SPDX-License-Identifier: AGPL-3.0-or-later
 * keyword.h — what a member's message means, in COMPLIANCE.md's order:
 * an opt-out word, an opt-back-in word, a help word (whole message, any
 * case, surrounding spaces and trailing punctuation ignored), one of the
 * org's opt-in keywords (pcre2 patterns compiled once per set), or else a
 * reply — flagged when it reads like a revocation in plain words ("stop
 * texting me", "deja de enviarme mensajes"). Whether an opt-back-in word
 * acts (only for an opted-out number) is the caller's decision. */
#ifndef TOCSIN_KEYWORD_H
#define TOCSIN_KEYWORD_H

#include <stddef.h>

enum tocsin_intent {
    TOCSIN_INTENT_REPLY = 0,
    TOCSIN_INTENT_OPT_OUT,
    TOCSIN_INTENT_OPT_IN,
    TOCSIN_INTENT_HELP,
    TOCSIN_INTENT_KEYWORD,
};

struct tocsin_keyword_def {
    long long id;
    const char *pattern; /* pcre2, UTF-8 */
};

struct tocsin_keyword_set;

/* Every match of an org pattern (and of the revocation patterns) runs
 * under these pcre2 limits: a pattern that backtracks catastrophically
 * ("(a+)+$") gives up after TOCSIN_KEYWORD_MATCH_LIMIT steps and counts as
 * no match, instead of holding the gateway's loop for every org (pcre2's
 * default, 10 million steps, was 15-30 ms per keyword per message with JIT
 * and 150-250 ms without). depth and heap bound the interpreter (no JIT). */
#define TOCSIN_KEYWORD_MATCH_LIMIT 100000
#define TOCSIN_KEYWORD_DEPTH_LIMIT 5000
#define TOCSIN_KEYWORD_HEAP_LIMIT_KIB 2048

/* Compiles pattern as the gateway does and matches it, under the limits
 * above, against a corpus of hostile 1600-byte messages (long runs of one
 * character, of the pattern's own characters, of words and spaces, each
 * ending in a character that makes an anchored match fail). Returns 0, or
 * -1 with `pattern "..." is too costly: ...` in err when any reaches a
 * limit, or the pattern does not compile. Keyword creation calls it. */
int tocsin_keyword_pattern_cost_check(const char *pattern, char *err, size_t errlen);

/* Compiles defs (n at most 256). Returns NULL with `keyword 12: pattern
 * error at offset 3: ...` in err. Free with tocsin_keyword_set_free(). */
struct tocsin_keyword_set *tocsin_keyword_set_new(const struct tocsin_keyword_def *defs, size_t n,
                                                  char *err, size_t errlen);
void tocsin_keyword_set_free(struct tocsin_keyword_set *set);

struct tocsin_classification {
    enum tocsin_intent intent;
    long long keyword_id;  /* for TOCSIN_INTENT_KEYWORD */
    int likely_revocation; /* for replies that read like "stop texting me" */
};

/* Classifies body (UTF-8, len bytes); set may be NULL (no org keywords). */
void tocsin_keyword_classify(const struct tocsin_keyword_set *set, const char *body, size_t len,
                             struct tocsin_classification *out);

/* The message trimmed of surrounding whitespace and trailing punctuation,
 * as the reserved words are matched: returns the view's length and sets
 * *start. */
size_t tocsin_keyword_trim(const char *body, size_t len, const char **start);

/* 1 when the text reads like a request to stop being texted. */
int tocsin_likely_revocation(const char *body, size_t len);

#endif
