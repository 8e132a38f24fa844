/* SPDX-License-Identifier: AGPL-3.0-or-later
 * prog_seal_legacy.c — prints SECRET sealed in the format used before
 * credentials were bound to their sender row (secretbox, no prefix), so
 * test_secret_key can check that tocsinctl migrate re-seals it.
 * Usage: prog_seal_legacy KEY_HEX SECRET */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "crypto.h"

int main(int argc, char **argv)
{
    unsigned char key[32];
    size_t n = 0;
    char sealed[1024];
    if (argc != 3 || tocsin_crypto_init() != 0 ||
        sodium_hex2bin(key, sizeof key, argv[1], strlen(argv[1]), NULL, &n, NULL) != 0 || n != 32 ||
        tocsin_secret_seal(key, argv[2], strlen(argv[2]), sealed, sizeof sealed) != 0) {
        fprintf(stderr, "usage: prog_seal_legacy KEY_HEX SECRET\n");
        return 2;
    }
    printf("%s\n", sealed);
    return 0;
}
