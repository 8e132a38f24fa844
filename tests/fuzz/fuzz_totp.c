/* SPDX-License-Identifier: AGPL-3.0-or-later
 * fuzz_totp.c — what a person types as a second factor (lib/totp.c): the
 * bytes as a TOTP code, as a recovery code and as base32. A code read is
 * 0..999999 or -1; a normalized recovery code is 16 characters of the
 * base32 alphabet in lower case; base32 decoding never writes past its
 * buffer, and what it decodes encodes back to the same letters. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "totp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    long code = tocsin_totp_parse(s);
    if (code < -1 || code > 999999)
        abort();
    char norm[TOCSIN_RECOVERY_CODE_LEN + 1];
    if (tocsin_recovery_code_normalize(s, norm) == 0) {
        if (strlen(norm) != TOCSIN_RECOVERY_CODE_LEN)
            abort();
        for (size_t i = 0; i < TOCSIN_RECOVERY_CODE_LEN; i++)
            if (!strchr("abcdefghijklmnopqrstuvwxyz234567", norm[i]))
                abort();
    }
    unsigned char out[64];
    long n = tocsin_base32_decode(s, out, sizeof out);
    if (n > (long)sizeof out)
        abort();
    if (n >= 0) {
        char back[120];
        if (tocsin_base32_encode(out, (size_t)n, back, sizeof back) < 0)
            abort();
        /* The letters given (case, spaces and padding aside) start the
         * re-encoding, save for the bits of a last partial character. */
        size_t k = 0;
        for (const char *c = s; *c && k + 1 < strlen(back); c++)
            if (*c != ' ' && *c != '=' && toupper((unsigned char)*c) != back[k++])
                abort();
    }
    free(s);
    return 0;
}
