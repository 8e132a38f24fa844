/* SPDX-License-Identifier: AGPL-3.0-or-later
 * totp.h — one-time codes for two-factor login: RFC 6238 TOTP (HMAC-SHA1,
 * 30-second steps, 6 digits) as authenticator apps compute them, the
 * RFC 4648 base32 their otpauth:// URIs carry, and the shape of recovery
 * codes. Pure functions: no clock, no storage; which steps were already
 * used is the caller's (the dashboard records the last one per user). */
#ifndef TOCSIN_TOTP_H
#define TOCSIN_TOTP_H

#include <stddef.h>
#include <stdint.h>

#define TOCSIN_TOTP_SECRET_LEN 20 /* bytes: an HMAC-SHA1 key of the hash's size */
#define TOCSIN_TOTP_STEP_S 30
#define TOCSIN_TOTP_DIGITS 6
/* base32 of 20 bytes: 32 characters, no padding, plus the NUL. */
#define TOCSIN_TOTP_SECRET_B32_LEN 33

/* The code for one time step (unix time / 30) of key, 0..999999 (RFC 4226
 * dynamic truncation). */
uint32_t tocsin_totp_code(const unsigned char *key, size_t keylen, uint64_t step);

/* Reads a typed code: exactly 6 digits, spaces allowed between them (apps
 * show "123 456"). Returns the code, or -1 for anything else. */
long tocsin_totp_parse(const char *text);

/* The step within window steps of now_step (either way) whose code is
 * code, preferring the current step, then the past one; -1 if none. The
 * codes are compared in constant time. */
int64_t tocsin_totp_match(const unsigned char *key, size_t keylen, uint64_t now_step, long code,
                          unsigned window);

/* RFC 4648 base32, upper case and unpadded (what otpauth URIs use).
 * encode writes a NUL-terminated string and returns its length, or -1 when
 * out is too small (needs ceil(8n/5) + 1). decode ignores case, spaces and
 * '=' padding and returns the byte count, or -1 for any other character
 * or when out is too small. */
long tocsin_base32_encode(const void *in, size_t len, char *out, size_t outsize);
long tocsin_base32_decode(const char *in, unsigned char *out, size_t outsize);

/* Recovery codes: 16 base32 characters (80 random bits) shown as
 * "abcd-efgh-ijkl-mnop". make writes one into out[20]; returns 0 or -1.
 * normalize reads what a person typed (any case, dashes and spaces
 * anywhere) into the 16 lower-case characters that are hashed, out[17];
 * returns 0, or -1 when it is not a recovery code's shape. */
#define TOCSIN_RECOVERY_CODE_LEN 16
int tocsin_recovery_code_make(char out[20]);
int tocsin_recovery_code_normalize(const char *typed, char out[17]);

#endif
