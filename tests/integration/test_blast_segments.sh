#!/usr/bin/env bash
# The SQL segment counter (tocsin_sms_code and its wrappers, schema 006)
# and lib/sms.c (through `tocsinctl segments`) agree on a shared list of
# tricky bodies: 160/161 and 153*k boundaries, extension characters (two
# septets, never split across segments), characters outside GSM-7, UCS-2
# 70/67 boundaries, emoji (surrogate pairs, never split), backtick.
source "$(dirname "$0")/lib.sh"
fresh_db
CTL="$BIN/ops/tocsinctl"
"$CTL" migrate >/dev/null

# One body per NUL-terminated record.
python3 - > "$TMP/bodies" <<'PY'
import sys
a = lambda n: "a" * n
bodies = [
    "hello", a(1), a(160), a(161), a(306), a(307), a(459), a(460),
    "{" * 80, "{" * 81, "€" * 80, "€" * 81, a(159) + "€", a(152) + "€" + a(152), a(152) + "[" + a(10),
    a(150) + "~^|" + a(20), "\f" * 3 + "x", "line one\nline two\r\n", "Δ Ω ΣΦ and é à ñ ß", "é" * 161,
    "`", "hello `world`", "á", "α" * 10, "ж" * 70, "ж" * 71, "ж" * 134, "ж" * 135,
    "😀", "😀" * 35, "😀" * 36, "a" + "😀" * 34 + "b", "ж" * 66 + "😀" + "ж" * 66, "ж" * 65 + "😀" + "ж" * 67,
    "Hola {name}, ¿vienes? 🗳️", "price: 5€ [approx]", "tab\there", "ÄÖÜ äöü Ç Ø ø Å å Æ æ É ¤ ¡ § ¿ £ ¥",
    "I ❤ NY", "\u00a0nbsp", "x" * 1600, "ж" * 1600, "€" * 800, "😀" * 800,
]
for b in bodies:
    sys.stdout.buffer.write(b.encode() + b"\0")
PY

n=0
while IFS= read -r -d '' body; do
  c=$("$CTL" segments "$body" 2>/dev/null | sed -E 's/^encoding=([^ ]+) segments=([0-9]+).*/\1 \2/')
  hex=$(printf '%s' "$body" | od -An -tx1 -v | tr -d ' \n')
  s=$(sql "SELECT tocsin_sms_encoding(b) || ' ' || tocsin_sms_segments(b)
             FROM (SELECT convert_from(decode('$hex', 'hex'), 'UTF8') AS b) x")
  [ -n "$c" ] || fail "tocsinctl segments printed nothing for body $n"
  assert_eq "$s" "$c" "SQL and C agree on body $n ($(printf '%.40s' "$body"))"
  n=$((n + 1))
done < "$TMP/bodies"
assert_eq "$n" 44 "every body compared"

# The worked examples of the comments, as numbers.
assert_eq "$(sql "SELECT tocsin_sms_segments(repeat('a', 152) || '€' || repeat('a', 152))")" 3 "a pair pushed over a boundary"
assert_eq "$(sql "SELECT tocsin_sms_segments(repeat('a', 306))")" 2 "306 septets in two"
echo ok
