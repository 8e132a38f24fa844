/* SPDX-License-Identifier: AGPL-3.0-or-later
 * randpool.c — buffered random bytes for identifiers (randpool.h): one
 * randombytes_buf() per 4 KiB instead of one per id. Owns only its buffer;
 * libsodium must be initialised (tocsin_crypto_init) before first use. */
#include <string.h>

#include <sodium.h>

#include "randpool.h"

void sim_randpool_bytes(struct sim_randpool *p, void *out, size_t n)
{
    unsigned char *o = out;
    while (n) {
        if (!p->left) {
            randombytes_buf(p->buf, sizeof p->buf);
            p->left = sizeof p->buf;
        }
        size_t take = n < p->left ? n : p->left;
        memcpy(o, p->buf + sizeof p->buf - p->left, take);
        p->left -= take;
        o += take;
        n -= take;
    }
}

void sim_randpool_hex16(struct sim_randpool *p, char out[33])
{
    unsigned char rnd[16];
    sim_randpool_bytes(p, rnd, sizeof rnd);
    sodium_bin2hex(out, 33, rnd, sizeof rnd);
}
