/* SPDX-License-Identifier: AGPL-3.0-or-later
 * normalize.h — the one folded form of a member's message that every
 * keyword decision reads (reserved words, org keywords, plain-words
 * revocation, the carrier simulator's own STOP handling), and the matching
 * treatment of an org's keyword pattern. It decides nothing about intent
 * (lib/keyword, lib/compliance do). */
#ifndef TOCSIN_NORMALIZE_H
#define TOCSIN_NORMALIZE_H

#include <stddef.h>

/* Folds a message (UTF-8; invalid bytes read as '?') into out:
 *  - Unicode case fold; accents and other diacritics removed (Latin-1
 *    Supplement, Latin Extended-A by table; other letters below U+2000 by
 *    their canonical decomposition; combining marks dropped): "ÚNETE",
 *    "Únete", "U\u0301nete" -> "unete"; ß -> ss, æ -> ae, œ -> oe;
 *  - fullwidth forms as ASCII ("ＳＴＯＰ" -> "stop"), and the other
 *    compatibility forms (NFKC_Casefold: mathematical and circled letters,
 *    ligatures, superscripts) when their fold is short ("𝐒𝐓𝐎𝐏" -> "stop");
 *  - quotes ‘ ’ ‚ ‛ ′ ´ ` as ', “ ” „ ‟ ″ as ", dashes ‐ ‑ ‒ – — ― − as -,
 *    … as "...";
 *  - zero-width and format characters (ZWSP, ZWJ, ZWNJ, word joiner, BOM,
 *    soft hyphen, variation selectors) dropped;
 *  - every Unicode space (NBSP, thin, ideographic...) and control as a
 *    space, runs of them as one;
 *  - leading and trailing punctuation, symbols and emoji of any language
 *    (¡ ¿ ! ? . , ; : « » " ' ( ) 🙂 ...) and spaces removed.
 * Inner punctuation stays: "don't stop the rally" keeps its words apart.
 * Writes at most cap - 1 bytes and a NUL (a longer result is cut at a
 * character boundary; out needs 2 * len + 1 bytes never to be cut) and
 * returns the length written. out must not overlap in. */
size_t tocsin_normalize_message(const char *in, size_t len, char *out, size_t cap);

/* An org's keyword pattern (pcre2) as it must be compiled to match folded
 * messages: non-ASCII letters lose their accents and case ("únete",
 * "ÚNETE" -> "unete"), quotes, dashes, fullwidth forms and spaces map as in
 * messages (an ASCII punctuation mark that comes from a non-ASCII one is
 * escaped, so it stays a literal), zero-width characters go. ASCII is left
 * alone: escapes such as \S or \W keep their meaning. Compile the result
 * with PCRE2_CASELESS: patterns are matched against the folded, lower-case
 * message, so "UNETE" and "unete" are the same pattern. Same output rules
 * as tocsin_normalize_message (out needs 2 * len + 1 bytes). */
size_t tocsin_normalize_pattern(const char *in, size_t len, char *out, size_t cap);

#endif
