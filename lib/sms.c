/* SPDX-License-Identifier: AGPL-3.0-or-later
 * sms.c — GSM-7 / UCS-2 detection and segment counting (COMPLIANCE.md).
 * Owns the GSM 03.38 default alphabet and extension table; nothing else.
 *
 * Counting model: a message fits one segment up to 160 septets (GSM-7) or
 * 70 UCS-2 units; longer messages are split into segments of 153 / 67
 * because each carries a 6-byte concatenation header. Like Twilio (and the
 * handsets and SMSCs it follows), we never split an escape pair (extension
 * character) or a surrogate pair across two segments: when such a pair
 * would straddle a boundary it moves whole to the next segment, so a split
 * message can need one more segment than ceil(units / 153). The unit count
 * itself is not padded: it stays septets or UTF-16 code units. */
#include "sms.h"

#include <stdint.h>

/* Classes of a character, or-ed together over a message. */
enum {
    SMS_BASIC = 1,  /* one septet */
    SMS_EXT = 2,    /* two septets: escape + extension table */
    SMS_NOGSM = 4,  /* not in GSM-7: the message is UCS-2 */
    SMS_ASTRAL = 8, /* outside the BMP: two UTF-16 units */
};

/* Class of every code point below U+0100 (ASCII and Latin-1), indexed by
 * code point. Basic table: printable ASCII except '`', LF, CR, and
 * £ ¥ è é ù ì ò Ç Ø ø Å å Æ æ ß É ¤ ¡ Ä Ö Ñ Ü § ¿ ä ö ñ ü à. Extension
 * table: form feed [ \ ] ^ { | } ~ (and € below). */
static const unsigned char gsm_latin1[256] = {
    /* 0x00 */ 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 1, 4, 2, 1, 4, 4,
    /* 0x10 */ 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    /* 0x20 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* 0x30 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* 0x40 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* 0x50 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 1,
    /* 0x60 */ 4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* 0x70 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 4,
    /* 0x80 */ 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    /* 0x90 */ 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    /* 0xA0 */ 4, 1, 4, 1, 1, 1, 4, 1, 4, 4, 4, 4, 4, 4, 4, 4,
    /* 0xB0 */ 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 1,
    /* 0xC0 */ 4, 4, 4, 4, 1, 1, 1, 1, 4, 1, 4, 4, 4, 4, 4, 4,
    /* 0xD0 */ 4, 1, 4, 4, 4, 4, 1, 4, 1, 4, 4, 4, 1, 4, 4, 1,
    /* 0xE0 */ 1, 4, 4, 4, 1, 1, 1, 4, 1, 1, 4, 4, 1, 4, 4, 4,
    /* 0xF0 */ 4, 1, 1, 4, 4, 4, 1, 4, 1, 1, 4, 4, 1, 4, 4, 4,
};

static unsigned gsm_class(uint32_t cp)
{
    if (cp < 0x100)
        return gsm_latin1[cp];
    switch (cp) {
    case 0x0393:
    case 0x0394:
    case 0x0398:
    case 0x039B:
    case 0x039E: /* Γ Δ Θ Λ Ξ */
    case 0x03A0:
    case 0x03A3:
    case 0x03A6:
    case 0x03A8:
    case 0x03A9: /* Π Σ Φ Ψ Ω */
        return SMS_BASIC;
    case 0x20AC: /* € */
        return SMS_EXT;
    default:
        return cp >= 0x10000 ? SMS_NOGSM | SMS_ASTRAL : SMS_NOGSM;
    }
}

/* Decodes one multi-byte UTF-8 sequence at s (n >= 1 bytes left, s[0] >=
 * 0x80); returns its length and the code point in *cp, or 0 if invalid
 * (overlong, surrogate, > U+10FFFF, truncated, stray continuation byte). */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    uint32_t v;
    if (c >= 0xC2 && c <= 0xDF) { /* C0, C1 would be overlong */
        if (n < 2 || (s[1] & 0xC0) != 0x80)
            return 0;
        *cp = (uint32_t)(c & 0x1F) << 6 | (s[1] & 0x3Fu);
        return 2;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
            return 0;
        v = (uint32_t)(c & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 | (s[2] & 0x3Fu);
        if (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF))
            return 0;
        *cp = v;
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
            return 0;
        v = (uint32_t)(c & 0x07) << 18 | (uint32_t)(s[1] & 0x3F) << 12 |
            (uint32_t)(s[2] & 0x3F) << 6 | (s[3] & 0x3Fu);
        if (v < 0x10000 || v > 0x10FFFF)
            return 0;
        *cp = v;
        return 4;
    }
    return 0;
}

/* Running counts over a body. A pair (escape + extension character, or a
 * surrogate pair) that would straddle a segment boundary of a split message
 * is pushed to the next segment: one unit of padding, counted in *_pad.
 * Position p in the padded stream is a pair's start; it straddles when
 * p % multi == multi - 1. Only pairs pay for this check. */
struct sms_counts {
    size_t septets, gsm_pad;       /* GSM-7 */
    size_t chars, astral, ucs_pad; /* UCS-2 units = chars + astral */
    unsigned seen;                 /* classes or-ed together */
};

static void count_class(struct sms_counts *c, unsigned cls)
{
    if (cls & SMS_EXT) {
        if ((c->septets + c->gsm_pad) % 153 == 152)
            c->gsm_pad++;
    } else if (cls & SMS_ASTRAL) {
        if ((c->chars + c->astral + c->ucs_pad) % 67 == 66)
            c->ucs_pad++;
        c->astral++;
    }
    c->septets += cls & (SMS_BASIC | SMS_EXT);
    c->seen |= cls;
    c->chars++;
}

static size_t segments(size_t units, size_t pad, size_t single, size_t multi)
{
    if (units <= single)
        return units ? 1 : 0;
    return (units + pad + multi - 1) / multi;
}

int tocsin_sms_count(const char *body, size_t len, struct tocsin_sms_info *out)
{
    const unsigned char *s = (const unsigned char *)body;
    struct sms_counts c = {0, 0, 0, 0, 0, 0};
    /* One pass validates the UTF-8 and counts both encodings at once; an
     * ASCII byte (most bodies are ASCII) costs one table load. */
    for (size_t i = 0; i < len;) {
        if (s[i] < 0x80) { /* an ASCII run: no pair but an escape pair */
            size_t start = i;
            do {
                unsigned cls = gsm_latin1[s[i]];
                if (cls == SMS_EXT && (c.septets + c.gsm_pad) % 153 == 152)
                    c.gsm_pad++;
                c.septets += cls & (SMS_BASIC | SMS_EXT);
                c.seen |= cls;
            } while (++i < len && s[i] < 0x80);
            c.chars += i - start;
            continue;
        }
        uint32_t cp;
        size_t n = utf8_next(s + i, len - i, &cp);
        if (n == 0)
            return -1;
        i += n;
        count_class(&c, gsm_class(cp));
    }
    out->chars = c.chars;
    if (!(c.seen & SMS_NOGSM)) {
        out->encoding = TOCSIN_SMS_GSM7;
        out->units = c.septets;
        out->segments = segments(c.septets, c.gsm_pad, 160, 153);
    } else {
        out->encoding = TOCSIN_SMS_UCS2;
        out->units = c.chars + c.astral;
        out->segments = segments(out->units, c.ucs_pad, 70, 67);
    }
    return 0;
}

const char *tocsin_sms_encoding_name(enum tocsin_sms_encoding enc)
{
    return enc == TOCSIN_SMS_GSM7 ? "GSM-7" : "UCS-2";
}
