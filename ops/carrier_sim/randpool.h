/* SPDX-License-Identifier: AGPL-3.0-or-later
 * randpool.h — random bytes for identifiers (message sids, event ids),
 * taken from a 4 KiB buffer that libsodium refills when it runs dry, so
 * an id costs a memcpy instead of a getrandom() system call. Each byte is
 * handed out once. Not for secrets: what was drawn stays in the buffer.
 * An all-zero pool is an empty one. Not thread-safe. */
#ifndef CARRIER_SIM_RANDPOOL_H
#define CARRIER_SIM_RANDPOOL_H

#include <stddef.h>

struct sim_randpool {
    unsigned char buf[4096];
    size_t left; /* unused bytes, at the end of buf */
};

/* Fills out[0..n) with bytes never handed out before. */
void sim_randpool_bytes(struct sim_randpool *p, void *out, size_t n);

/* 16 such bytes as 32 lower-case hex digits and a NUL: the random part of
 * a sid or an event id. */
void sim_randpool_hex16(struct sim_randpool *p, char out[33]);

#endif
