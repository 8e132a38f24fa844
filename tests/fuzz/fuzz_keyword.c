/* SPDX-License-Identifier: AGPL-3.0-or-later
 * fuzz_keyword.c — arbitrary bytes through the keyword normaliser and
 * classifier (reserved words, a pcre2 keyword set, revocation patterns). */
#include <stdint.h>
#include <stdlib.h>

#include "keyword.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct tocsin_keyword_set *set;
    if (!set) {
        struct tocsin_keyword_def defs[] = {{1, "(?i)^\\s*JOIN[\\s\\p{P}]*$"}, {2, "(?i)^\\s*UNETE[\\s\\p{P}]*$"}};
        char err[128];
        set = tocsin_keyword_set_new(defs, 2, err, sizeof err);
        if (!set)
            abort();
    }
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
