/* SPDX-License-Identifier: AGPL-3.0-or-later
 * hash.h — the one non-keyed string hash: 64-bit FNV-1a with a final
 * mixing step (FNV's low bits depend only on the bytes' low bits, and
 * tables keep the low bits). For tables whose keys an attacker does not
 * choose or cannot profit from colliding (a cache bounded by its slots,
 * the numbers of one import, the simulator's indexes); a table keyed by
 * what a client sends uses a keyed hash instead (ratelimit.c: libsodium's
 * crypto_shorthash). */
#ifndef TOCSIN_HASH_H
#define TOCSIN_HASH_H

#include <stddef.h>
#include <stdint.h>

static inline uint64_t tocsin_hash(const void *key, size_t len)
{
    const unsigned char *p = key;
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a offset basis */
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL; /* FNV prime */
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

#endif
