/* SPDX-License-Identifier: AGPL-3.0-or-later
 * keyword_rules.h — whether an opt-in keyword may be saved, by the rules
 * of COMPLIANCE.md: the word (1 to 20 letters A-Z or digits, not a
 * reserved opt-out, opt-in or help word), its pcre2 pattern (compiles,
 * never matches an empty message or a reserved word) and its confirmation
 * (lib/compliance's CTIA parts). `tocsinctl keyword add` and the
 * dashboard's keyword page both ask here. */
#ifndef TOCSIN_KEYWORD_RULES_H
#define TOCSIN_KEYWORD_RULES_H

#include <stddef.h>

#define TOCSIN_KEYWORD_MAX 20
#define TOCSIN_KEYWORD_PATTERN_MAX 500

struct tocsin_keyword_checked {
    char keyword[TOCSIN_KEYWORD_MAX + 1];           /* upper case */
    char pattern[TOCSIN_KEYWORD_PATTERN_MAX + 100]; /* as given, or the default */
};

/* Checks keyword (any case), pattern (NULL: the whole message, any case,
 * surrounding space and trailing punctuation ignored) and the
 * confirmation reply for the org named org_name. A pattern is matched
 * against the message's folded form (lib/normalize: lower case, no
 * accents, straight quotes, single spaces, no surrounding punctuation or
 * emoji), caseless, with its own non-ASCII letters folded alike: "UNETE",
 * "unete" and "únete" are one pattern (a part that turns caseless off
 * with "(?-i)" sees lower case only). Fills out on
 * success.
 * Returns 0, or -1 with the first reason in err (PostgreSQL's style). No
 * pointer but pattern may be NULL. */
int tocsin_keyword_rules_check(const char *keyword, const char *pattern, const char *reply,
                               const char *org_name, struct tocsin_keyword_checked *out, char *err,
                               size_t errlen);

#endif
