/* SPDX-License-Identifier: AGPL-3.0-or-later
 * common.c — the few out-of-line helpers behind common.h. */
#include "common.h"

int tocsin_str_eq_nocase(tocsin_str a, tocsin_str b)
{
    if (a.len != b.len)
        return 0;
    for (size_t i = 0; i < a.len; i++) {
        unsigned char x = (unsigned char)a.base[i], y = (unsigned char)b.base[i];
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x + 32);
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y + 32);
        if (x != y)
            return 0;
    }
    return 1;
}
