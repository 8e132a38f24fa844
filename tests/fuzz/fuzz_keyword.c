/* SPDX-License-Identifier: AGPL-3.0-or-later
 * fuzz_keyword.c — arbitrary bytes through the message normaliser
 * (lib/normalize), the keyword trimmer and the classifier (reserved
 * words, a pcre2 keyword set, revocation patterns). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keyword.h"
#include "normalize.h"

/* The folded form: within its buffer, NUL-terminated, no longer than twice
 * the input, stable when folded again (the classifier folds a message
 * once and the reserved-word check folds what it is given again), and
 * never cut when given 2 * size + 1 bytes. */
static void check_normalize(const uint8_t *data, size_t size)
{
    size_t cap = 2 * size + 1;
    char *a = malloc(cap), *b = malloc(cap), small[8];
    if (!a || !b)
        abort();
    size_t n = tocsin_normalize_message((const char *)data, size, a, cap);
    if (n >= cap || a[n] != '\0' || strlen(a) != n)
        abort();
    size_t m = tocsin_normalize_message(a, n, b, cap);
    if (m != n || memcmp(a, b, n) != 0)
        abort();
    size_t k = tocsin_normalize_message((const char *)data, size, small, sizeof small);
    if (k >= sizeof small || small[k] != '\0')
        abort();
    n = tocsin_normalize_pattern((const char *)data, size, a, cap);
    if (n >= cap || a[n] != '\0')
        abort();
    free(a);
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct tocsin_keyword_set *set;
    if (!set) {
        struct tocsin_keyword_def defs[] = {{1, "(?i)^\\s*JOIN[\\s\\p{P}]*$"},
                                            {2, "(?i)^\\s*UNETE[\\s\\p{P}]*$"}};
        char err[128];
        set = tocsin_keyword_set_new(defs, 2, err, sizeof err);
        if (!set)
            abort();
    }
    check_normalize(data, size);
    const char *start;
    size_t n = tocsin_keyword_trim((const char *)data, size, &start);
    if (n > size || start < (const char *)data || start + n > (const char *)data + size)
        abort();
    struct tocsin_classification c;
    tocsin_keyword_classify(set, (const char *)data, size, &c);
    if (c.intent == TOCSIN_INTENT_KEYWORD && c.keyword_id != 1 && c.keyword_id != 2)
        abort();
    if (c.likely_revocation && c.intent != TOCSIN_INTENT_REPLY)
        abort();
    return 0;
}
