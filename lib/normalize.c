/* SPDX-License-Identifier: AGPL-3.0-or-later
 * normalize.c — folds a member's message (and an org's keyword pattern) to
 * the one form the keyword rules read. Tables for the Latin letters members
 * type most (Latin-1, Latin Extended-A: no library call on the hot path);
 * ICU's character properties and decompositions for everything else. */
#include "normalize.h"

#include <stdint.h>
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/utf16.h>
#include <unicode/unorm2.h>

/* U+00C0..U+00FF and U+0100..U+017F without accents, lower case; '?' marks
 * the few that need more than one letter or are not letters (× ÷). */
static const char latin1[] = "aaaaaa?ceeeeiiiidnooooo?ouuuuy??"  /* C0..DF */
                             "aaaaaa?ceeeeiiiidnooooo?ouuuuy?y"; /* E0..FF */
static const char latin_ext_a[] = "aaaaaaccccccccdd"
                                  "ddeeeeeeeeeegggg"
                                  "gggghhhhiiiiiiii"
                                  "ii??jjkkklllllll"
                                  "lllnnnnnn?nnoooo"
                                  "oo??rrrrrrssssss"
                                  "ssttttttuuuuuuuu"
                                  "uuuuwwyyyzzzzzzs";

/* Decodes one UTF-8 character at s[0..len); sets *n to the bytes used.
 * An invalid or truncated sequence reads as '?' and uses one byte. */
static uint32_t decode(const unsigned char *s, size_t len, size_t *n)
{
    unsigned char c = s[0];
    *n = 1;
    if (c < 0x80)
        return c;
    size_t need;
    uint32_t cp, min;
    if (c >= 0xc2 && c <= 0xdf)
        need = 2, cp = c & 0x1f, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef)
        need = 3, cp = c & 0x0f, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4)
        need = 4, cp = c & 0x07, min = 0x10000;
    else
        return '?';
    if (len < need)
        return '?';
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return '?';
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return '?';
    *n = need;
    return cp;
}

static size_t encode(uint32_t cp, char *o)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

static int is_space(uint32_t cp)
{
    if (cp < 0x80)
        return cp == ' ' || (cp >= 0x09 && cp <= 0x0d) || cp < 0x20 || cp == 0x7f;
    return (cp >= 0x80 && cp < 0xa0) || u_isUWhiteSpace((UChar32)cp);
}

/* Punctuation, symbols (emoji among them) and spaces: what a keyword may be
 * wrapped in. */
static int is_edge(uint32_t cp)
{
    if (cp < 0x80)
        return !((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9'));
    if (is_space(cp) || cp == 0xfffd)
        return 1;
    switch (u_charType((UChar32)cp)) {
    case U_CONNECTOR_PUNCTUATION:
    case U_DASH_PUNCTUATION:
    case U_START_PUNCTUATION:
    case U_END_PUNCTUATION:
    case U_INITIAL_PUNCTUATION:
    case U_FINAL_PUNCTUATION:
    case U_OTHER_PUNCTUATION:
    case U_MATH_SYMBOL:
    case U_CURRENCY_SYMBOL:
    case U_MODIFIER_SYMBOL:
    case U_OTHER_SYMBOL:
    case U_UNASSIGNED: /* emoji newer than this ICU */
    case U_PRIVATE_USE_CHAR:
        return 1;
    default:
        return 0;
    }
}

#define MAP_MAX 8

static size_t utf8_len(uint32_t cp)
{
    return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/* cp's compatibility case fold (NFKC_Casefold) when it differs from cp:
 * mathematical and circled letters, ligatures, superscripts and the like
 * as plain letters and digits ("𝐒𝐓𝐎𝐏" -> "stop", "ﬁ" -> "fi"). Returns the
 * number of code points in out, 0 when cp folds to itself, or -1 when its
 * fold is longer than MAP_MAX code points. */
static int compat_fold(uint32_t cp, uint32_t out[MAP_MAX])
{
    UErrorCode e = U_ZERO_ERROR;
    const UNormalizer2 *cf = unorm2_getNFKCCasefoldInstance(&e);
    if (U_FAILURE(e))
        return 0;
    UChar src[2], dst[2 * MAP_MAX];
    int32_t ns = 0, nd;
    U16_APPEND_UNSAFE(src, ns, (UChar32)cp);
    nd = unorm2_normalize(cf, src, ns, dst, 2 * MAP_MAX, &e);
    if (U_FAILURE(e))
        return -1;
    if (nd == ns && memcmp(src, dst, (size_t)ns * sizeof src[0]) == 0)
        return 0;
    int n = 0;
    for (int32_t i = 0; i < nd;) {
        UChar32 c;
        U16_NEXT(dst, i, nd, c);
        if (n == MAP_MAX)
            return -1;
        out[n++] = (uint32_t)c;
    }
    return n;
}

/* The first code point of cp's full canonical decomposition (its base
 * letter), or cp itself. */
static uint32_t base_letter(uint32_t cp)
{
    UErrorCode e = U_ZERO_ERROR;
    const UNormalizer2 *nfd = unorm2_getNFDInstance(&e);
    if (U_FAILURE(e))
        return cp;
    UChar buf[8];
    int32_t n = unorm2_getDecomposition(nfd, (UChar32)cp, buf, 8, &e);
    if (U_FAILURE(e) || n <= 0)
        return cp;
    if (U16_IS_LEAD(buf[0]) && n > 1 && U16_IS_TRAIL(buf[1]))
        return (uint32_t)U16_GET_SUPPLEMENTARY(buf[0], buf[1]);
    return buf[0];
}

/* What one character becomes: up to MAP_MAX code points in m (0: dropped). For
 * patterns (pattern != 0) ASCII is kept as it is. What a character folds
 * or decomposes to is mapped again (depth bounds that), so that folding
 * twice changes nothing: a decomposition may start with a mark to drop
 * or a quote to straighten. */
static int map_at(uint32_t cp, int pattern, uint32_t m[MAP_MAX], int depth)
{
    if (cp < 0x80) {
        m[0] = (!pattern && cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
        if (is_space(cp))
            m[0] = ' ';
        else if (!pattern && cp == '`')
            m[0] = '\'';
        return 1;
    }
    if (cp >= 0xff01 && cp <= 0xff5e) /* fullwidth ASCII: then as ASCII */
        return map_at(cp - 0xfee0, pattern, m, depth);
    switch (cp) {
    case 0x2018:
    case 0x2019:
    case 0x201a:
    case 0x201b:
    case 0x2032:
    case 0x00b4:
    case 0x02bc:
        m[0] = '\'';
        return 1;
    case 0x201c:
    case 0x201d:
    case 0x201e:
    case 0x201f:
    case 0x2033:
        m[0] = '"';
        return 1;
    case 0x2010:
    case 0x2011:
    case 0x2012:
    case 0x2013:
    case 0x2014:
    case 0x2015:
    case 0x2212:
    case 0xfe58:
    case 0xfe63:
        m[0] = '-';
        return 1;
    case 0x2026:
        m[0] = m[1] = m[2] = '.';
        return 3;
    case 0x00c6:
    case 0x00e6:
        m[0] = 'a', m[1] = 'e';
        return 2;
    case 0x00de:
    case 0x00fe:
        m[0] = 't', m[1] = 'h';
        return 2;
    case 0x00df:
        m[0] = m[1] = 's';
        return 2;
    case 0x0132:
    case 0x0133:
        m[0] = 'i', m[1] = 'j';
        return 2;
    case 0x0149:
        m[0] = '\'', m[1] = 'n';
        return 2;
    case 0x0152:
    case 0x0153:
        m[0] = 'o', m[1] = 'e';
        return 2;
    default:
        break;
    }
    if (is_space(cp)) {
        m[0] = ' ';
        return 1;
    }
    if (cp >= 0xc0 && cp <= 0xff && cp != 0xd7 && cp != 0xf7) {
        m[0] = (unsigned char)latin1[cp - 0xc0];
        return 1;
    }
    if (cp >= 0x100 && cp <= 0x17f) {
        m[0] = (unsigned char)latin_ext_a[cp - 0x100];
        return 1;
    }
    int8_t type = u_charType((UChar32)cp);
    if (type == U_FORMAT_CHAR || type == U_NON_SPACING_MARK || type == U_ENCLOSING_MARK)
        return 0; /* zero-width, BOM, soft hyphen, variation selectors, combining accents */
    uint32_t parts[MAP_MAX];
    int np = depth < 3 ? compat_fold(cp, parts) : 0;
    if (np > 0) {
        /* Each part mapped in turn; kept only if it fits (and never takes
         * more than twice cp's bytes, the bound tocsin_normalize_* promise). */
        int k = 0;
        size_t bytes = 0;
        for (int i = 0; i < np && k >= 0; i++) {
            uint32_t sub[MAP_MAX];
            int ns = map_at(parts[i], pattern, sub, depth + 1);
            if (k + ns > MAP_MAX) {
                k = -1;
                break;
            }
            for (int j = 0; j < ns; j++) {
                bytes += utf8_len(sub[j]) + 1; /* + a possible escape in patterns */
                m[k++] = sub[j];
            }
        }
        if (k >= 0 && bytes <= 2 * utf8_len(cp))
            return k;
    }
    uint32_t f = (uint32_t)u_foldCase((UChar32)cp, U_FOLD_CASE_DEFAULT);
    if (f < 0x2000 && f >= 0x180)
        f = base_letter(f);
    if (f != cp && depth < 3)
        return map_at(f, pattern, m, depth + 1); /* Ǡ -> a; ´ from a Greek accent -> ' */
    m[0] = f;
    return 1;
}

static int map(uint32_t cp, int pattern, uint32_t m[MAP_MAX])
{
    return map_at(cp, pattern, m, 0);
}

static size_t fold(const char *in, size_t len, char *out, size_t cap, int pattern)
{
    if (cap == 0)
        return 0;
    const unsigned char *s = (const unsigned char *)in;
    size_t o = 0, keep = 0; /* keep: out's length up to its last non-edge character */
    int space = 0;
    for (size_t i = 0; i < len;) {
        size_t n;
        uint32_t cp = decode(s + i, len - i, &n), m[MAP_MAX];
        int k = map(cp, pattern, m);
        i += n;
        for (int j = 0; j < k; j++) {
            char buf[8];
            size_t w = 0;
            if (!pattern && m[j] == ' ') {
                space = 1;
                continue;
            }
            if (!pattern && space && o > 0)
                buf[w++] = ' ';
            space = 0;
            if (pattern && cp >= 0x80 && m[j] < 0x80 &&
                !((m[j] >= 'a' && m[j] <= 'z') || (m[j] >= 'A' && m[j] <= 'Z') ||
                  (m[j] >= '0' && m[j] <= '9') || m[j] == ' '))
                buf[w++] = '\\'; /* a literal, as the non-ASCII mark was */
            w += encode(m[j], buf + w);
            if (!pattern && o == 0 && is_edge(m[j]))
                continue; /* leading punctuation, symbols */
            if (o + w + 1 > cap) {
                len = 0; /* full: stop at this boundary */
                break;
            }
            memcpy(out + o, buf, w);
            o += w;
            if (pattern || !is_edge(m[j]))
                keep = o;
        }
    }
    if (!pattern)
        o = keep; /* trailing punctuation, symbols, spaces */
    out[o] = '\0';
    return o;
}

size_t tocsin_normalize_message(const char *in, size_t len, char *out, size_t cap)
{
    return fold(in, len, out, cap, 0);
}

size_t tocsin_normalize_pattern(const char *in, size_t len, char *out, size_t cap)
{
    return fold(in, len, out, cap, 1);
}
