// SPDX-License-Identifier: AGPL-3.0-or-later
// sms.js — segment counting for the live counter, the same rules as
// lib/sms.c (COMPLIANCE.md): GSM-7 (160 / 153 per segment; form feed and
// [ \ ] ^ { | } ~ € count two) unless a character is outside GSM-7, then
// UCS-2 (70 / 67; characters outside the BMP count two units). An escape
// pair or a surrogate pair is never split across segments. Both are tested
// against tests/unit/sms_cases.json.

const BASIC = 1,
  EXT = 2,
  NOGSM = 4,
  ASTRAL = 8;

// Latin-1 part of the GSM 03.38 default alphabet (see lib/sms.c).
const BASIC_LATIN1 = new Set([
  0x0a, 0x0d, 0xa1, 0xa3, 0xa4, 0xa5, 0xa7, 0xbf, 0xc4, 0xc5, 0xc6, 0xc7, 0xc9, 0xd1, 0xd6, 0xd8, 0xdc, 0xdf, 0xe0,
  0xe4, 0xe5, 0xe6, 0xe8, 0xe9, 0xec, 0xf1, 0xf2, 0xf6, 0xf8, 0xf9, 0xfc,
]);
const EXTENSION = new Set([0x0c, 0x5b, 0x5c, 0x5d, 0x5e, 0x7b, 0x7c, 0x7d, 0x7e, 0x20ac]);
const GREEK = new Set([0x393, 0x394, 0x398, 0x39b, 0x39e, 0x3a0, 0x3a3, 0x3a6, 0x3a8, 0x3a9]);

function gsmClass(cp) {
  if (EXTENSION.has(cp)) return EXT;
  if ((cp >= 0x20 && cp <= 0x7e && cp !== 0x60) || BASIC_LATIN1.has(cp) || GREEK.has(cp)) return BASIC;
  return cp >= 0x10000 ? NOGSM | ASTRAL : NOGSM;
}

function segmentsOf(units, pad, single, multi) {
  if (units <= single) return units ? 1 : 0;
  return Math.ceil((units + pad) / multi);
}

/** Counts text: { encoding: 'GSM-7'|'UCS-2', units, segments, chars }. */
export function countSms(text) {
  let septets = 0,
    gsmPad = 0,
    chars = 0,
    astral = 0,
    ucsPad = 0,
    seen = 0;
  for (const ch of text) {
    const cls = gsmClass(ch.codePointAt(0));
    if (cls & EXT) {
      if ((septets + gsmPad) % 153 === 152) gsmPad++;
    } else if (cls & ASTRAL) {
      if ((chars + astral + ucsPad) % 67 === 66) ucsPad++;
      astral++;
    }
    septets += cls & (BASIC | EXT);
    seen |= cls;
    chars++;
  }
  if (!(seen & NOGSM))
    return { encoding: 'GSM-7', units: septets, segments: segmentsOf(septets, gsmPad, 160, 153), chars };
  const units = chars + astral;
  return { encoding: 'UCS-2', units, segments: segmentsOf(units, ucsPad, 70, 67), chars };
}

/** Room left before the next segment starts (for "12 left"). */
export function unitsLeft(info) {
  if (info.units === 0) return info.encoding === 'GSM-7' ? 160 : 70;
  const [single, multi] = info.encoding === 'GSM-7' ? [160, 153] : [70, 67];
  if (info.segments <= 1) return single - info.units;
  return Math.max(0, info.segments * multi - info.units);
}
