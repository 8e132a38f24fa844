/* SPDX-License-Identifier: AGPL-3.0-or-later
 * fuzz_jwt.c — arbitrary bytes through the ID token path of lib/jwt.c and
 * lib/jwk.c: the input up to the first newline is a token, the rest a JWK
 * set. Whatever they hold: no crash, no leak; and a token that verifies
 * (a seed carries a real one) stops verifying once one byte of its signed
 * part changes, so the signature covers what is read. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jwt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    const char *nl = memchr(in, '\n', size);
    size_t tlen = nl ? (size_t)(nl - in) : size;
    char err[200];
    struct tocsin_jwks set;
    if (nl) {
        if (tocsin_jwks_parse(nl + 1, size - tlen - 1, &set, err, sizeof err) != 0 && set.n != 0)
            abort();
    } else {
        memset(&set, 0, sizeof set);
    }
    struct tocsin_jwt jwt;
    int rc = tocsin_jwt_parse(in, tlen, &jwt, err, sizeof err);
    if (rc == 0) {
        const struct tocsin_jwk *k = tocsin_jwks_find(&set, jwt.kid);
        if (k && tocsin_jwt_verify(&jwt, k) == 0) {
            char *copy = malloc(tlen);
            if (!copy)
                abort();
            memcpy(copy, in, tlen);
            copy[jwt.signing_input_len - 1] ^= 0x01; /* the payload's last character */
            struct tocsin_jwt other;
            if (tocsin_jwt_parse(copy, tlen, &other, err, sizeof err) == 0) {
                const struct tocsin_jwk *k2 = tocsin_jwks_find(&set, other.kid);
                if (k2 && tocsin_jwt_verify(&other, k2) == 0)
                    abort();
            }
            tocsin_jwt_free(&other);
            free(copy);
        }
        struct tocsin_id_token_expect e = {"https://id.example", "tocsin", "n",
                                           1800000000,           60,       600};
        (void)tocsin_id_token_check(&jwt, &e, err, sizeof err);
    }
    tocsin_jwt_free(&jwt);
    tocsin_jwks_free(&set);
    return 0;
}
