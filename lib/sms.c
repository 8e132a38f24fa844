/* SPDX-License-Identifier: AGPL-3.0-or-later
 * sms.c — GSM-7 / UCS-2 detection and segment counting (COMPLIANCE.md).
 * Owns the GSM 03.38 default alphabet and extension table; nothing else.
 *
 * Counting model: a message fits one segment up to 160 septets (GSM-7) or
 * 70 UCS-2 units; longer messages are split into segments of 153 / 67
 * because each carries a 6-byte concatenation header. Like Twilio, we never
 * split an escape pair (extension character) or a surrogate pair across two
 * segments: when such a pair would straddle a boundary it moves whole to
 * the next segment, so a split message can need one more segment than
 * ceil(units / 153). */
#include "sms.h"

#include <stdint.h>

/* Code points of the GSM 03.38 basic table outside printable ASCII, and
 * the ASCII characters that are NOT in it. */
static const uint16_t gsm_basic_non_ascii[] = {
    0x00A3, 0x00A5, 0x00E8, 0x00E9, 0x00F9, 0x00EC, 0x00F2, 0x00C7, 0x00D8, 0x00F8, 0x00C5,
    0x00E5, 0x0394, 0x03A6, 0x0393, 0x039B, 0x03A9, 0x03A0, 0x03A8, 0x03A3, 0x0398, 0x039E,
    0x00C6, 0x00E6, 0x00DF, 0x00C9, 0x00A4, 0x00A1, 0x00C4, 0x00D6, 0x00D1, 0x00DC, 0x00A7,
    0x00BF, 0x00E4, 0x00F6, 0x00F1, 0x00FC, 0x00E0,
};

/* Septets per ASCII character: 0 = not GSM-7 (control characters other
 * than LF/CR/FF, and the backtick), 1 = basic table, 2 = extension table
 * (escape + character: form feed [ \ ] ^ { | } ~). */
static const unsigned char gsm_ascii[128] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 1,
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 0,
};

static int gsm_width(uint32_t cp)
{
    if (cp < 0x80)
        return gsm_ascii[cp];
    if (cp == 0x20AC) /* € */
        return 2;
    for (size_t i = 0; i < sizeof gsm_basic_non_ascii / sizeof gsm_basic_non_ascii[0]; i++)
        if (gsm_basic_non_ascii[i] == cp)
            return 1;
    return 0;
}

/* Decodes one UTF-8 sequence at s (n bytes left); returns its length and
 * the code point in *cp, or 0 if invalid (overlong, surrogate, > U+10FFFF,
 * truncated, stray continuation byte). */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t len;
    uint32_t min;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        min = 0x80;
        *cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        min = 0x800;
        *cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        min = 0x10000;
        *cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        *cp = (*cp << 6) | (s[i] & 0x3F);
    }
    if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF))
        return 0;
    return len;
}

/* Segments for a sequence of character widths already summed per
 * segment-aware packing: see sms_pack(). */
struct sms_packer {
    size_t single, multi; /* capacity of a lone segment, of a split one */
    size_t units;         /* total units */
    size_t segments;      /* segments when split */
    size_t used;          /* units in the current split segment */
};

static void sms_pack(struct sms_packer *p, size_t width)
{
    p->units += width;
    if (p->used + width > p->multi) {
        p->segments++;
        p->used = 0;
    }
    p->used += width;
}

static size_t sms_segments(const struct sms_packer *p)
{
    if (p->units == 0)
        return 0;
    if (p->units <= p->single)
        return 1;
    return p->segments + 1;
}

/* Decodes the next character (validated), or returns 0 for bad UTF-8. */
static size_t next_char(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    return utf8_next(s, n, cp);
}

int tocsin_sms_count(const char *body, size_t len, struct tocsin_sms_info *out)
{
    const unsigned char *s = (const unsigned char *)body;
    /* Pass 1 assumes GSM-7 (most messages are) and validates the UTF-8. */
    struct sms_packer gsm = {160, 153, 0, 0, 0};
    int is_gsm = 1;
    size_t chars = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = next_char(s + i, len - i, &cp);
        if (n == 0)
            return -1;
        i += n;
        chars++;
        if (is_gsm) {
            int w = gsm_width(cp);
            if (w == 0)
                is_gsm = 0;
            else
                sms_pack(&gsm, (size_t)w);
        }
    }
    out->chars = chars;
    if (is_gsm) {
        out->encoding = TOCSIN_SMS_GSM7;
        out->units = gsm.units;
        out->segments = sms_segments(&gsm);
        return 0;
    }
    /* Pass 2: UCS-2, for the messages that need it. */
    struct sms_packer ucs = {70, 67, 0, 0, 0};
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        i += next_char(s + i, len - i, &cp);
        sms_pack(&ucs, cp >= 0x10000 ? 2 : 1);
    }
    out->encoding = TOCSIN_SMS_UCS2;
    out->units = ucs.units;
    out->segments = sms_segments(&ucs);
    return 0;
}

const char *tocsin_sms_encoding_name(enum tocsin_sms_encoding enc)
{
    return enc == TOCSIN_SMS_GSM7 ? "GSM-7" : "UCS-2";
}
