/* SPDX-License-Identifier: AGPL-3.0-or-later
 * totp.c — RFC 6238 codes, RFC 4648 base32 and recovery-code shapes for
 * two-factor login (see totp.h). HMAC-SHA1 comes from crypto.c; this file
 * keeps no state. */
#include <ctype.h>
#include <string.h>

#include <sodium.h>

#include "crypto.h"
#include "totp.h"

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

uint32_t tocsin_totp_code(const unsigned char *key, size_t keylen, uint64_t step)
{
    unsigned char msg[8], mac[20];
    for (int i = 7; i >= 0; i--) {
        msg[i] = (unsigned char)(step & 0xff);
        step >>= 8;
    }
    tocsin_hmac_sha1(key, keylen, msg, sizeof msg, mac);
    unsigned off = mac[19] & 0x0f;
    uint32_t bin = ((uint32_t)(mac[off] & 0x7f) << 24) | ((uint32_t)mac[off + 1] << 16) |
                   ((uint32_t)mac[off + 2] << 8) | (uint32_t)mac[off + 3];
    return bin % 1000000u;
}

long tocsin_totp_parse(const char *text)
{
    long v = 0;
    int digits = 0;
    if (!text)
        return -1;
    for (const char *p = text; *p; p++) {
        if (*p == ' ' && digits > 0)
            continue;
        if (*p < '0' || *p > '9' || ++digits > TOCSIN_TOTP_DIGITS)
            return -1;
        v = v * 10 + (*p - '0');
    }
    return digits == TOCSIN_TOTP_DIGITS ? v : -1;
}

int64_t tocsin_totp_match(const unsigned char *key, size_t keylen, uint64_t now_step, long code,
                          unsigned window)
{
    int64_t found = -1;
    if (code < 0 || code > 999999)
        return -1;
    /* Every candidate is computed and compared, whichever matches. */
    for (unsigned d = 0; d <= 2 * window; d++) {
        /* order: now, now-1, now+1, now-2, now+2, ... */
        int64_t off = d == 0 ? 0 : (d % 2 ? -(int64_t)((d + 1) / 2) : (int64_t)(d / 2));
        if (off < 0 && (uint64_t)-off > now_step)
            continue;
        uint64_t step = (uint64_t)((int64_t)now_step + off);
        uint32_t want = tocsin_totp_code(key, keylen, step), got = (uint32_t)code;
        if (tocsin_ct_equal(&want, &got, sizeof want) && found < 0)
            found = (int64_t)step;
    }
    return found;
}

long tocsin_base32_encode(const void *in, size_t len, char *out, size_t outsize)
{
    const unsigned char *p = in;
    size_t need = (len * 8 + 4) / 5 + 1, o = 0;
    if (outsize < need)
        return -1;
    unsigned buf = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        buf = (buf << 8) | p[i];
        bits += 8;
        while (bits >= 5) {
            out[o++] = b32[(buf >> (bits - 5)) & 31];
            bits -= 5;
        }
        buf &= (1u << bits) - 1;
    }
    if (bits > 0)
        out[o++] = b32[(buf << (5 - bits)) & 31];
    out[o] = '\0';
    return (long)o;
}

long tocsin_base32_decode(const char *in, unsigned char *out, size_t outsize)
{
    unsigned buf = 0;
    int bits = 0;
    size_t o = 0;
    for (const char *c = in; *c; c++) {
        if (*c == ' ' || *c == '=')
            continue;
        const char *pos = strchr(b32, toupper((unsigned char)*c));
        if (!pos || !*pos)
            return -1;
        buf = (buf << 5) | (unsigned)(pos - b32);
        bits += 5;
        if (bits >= 8) {
            if (o >= outsize)
                return -1;
            out[o++] = (unsigned char)(buf >> (bits - 8));
            bits -= 8;
            buf &= (1u << bits) - 1;
        }
    }
    return (long)o;
}

int tocsin_recovery_code_make(char out[20])
{
    unsigned char raw[10];
    char text[17];
    if (tocsin_crypto_init() != 0)
        return -1;
    randombytes_buf(raw, sizeof raw);
    if (tocsin_base32_encode(raw, sizeof raw, text, sizeof text) != TOCSIN_RECOVERY_CODE_LEN)
        return -1;
    for (int g = 0, o = 0; g < 4; g++) {
        for (int i = 0; i < 4; i++)
            out[o++] = (char)tolower((unsigned char)text[g * 4 + i]);
        out[o++] = g < 3 ? '-' : '\0';
    }
    return 0;
}

int tocsin_recovery_code_normalize(const char *typed, char out[17])
{
    size_t n = 0;
    if (!typed || strlen(typed) > 64)
        return -1;
    for (const char *c = typed; *c; c++) {
        if (*c == '-' || *c == ' ')
            continue;
        char u = (char)toupper((unsigned char)*c);
        if (!strchr(b32, u) || !u || n == TOCSIN_RECOVERY_CODE_LEN)
            return -1;
        out[n++] = (char)tolower((unsigned char)u);
    }
    out[n] = '\0';
    return n == TOCSIN_RECOVERY_CODE_LEN ? 0 : -1;
}
