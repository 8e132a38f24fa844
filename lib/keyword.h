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
