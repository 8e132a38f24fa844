#!/usr/bin/env bash
# tocsinctl metrics: per sender, the due queued messages and the age of the
# oldest (messages not yet due do not count), and the unknown ones, as
# Prometheus text; every sender appears, one with nothing with 0.
source "$(dirname "$0")/lib.sh"
demo_db
senders=$(sql "SELECT count(*) FROM senders")
[ "$senders" -ge 1 ] || fail "the demo has no sender"
first=$(sql "SELECT address FROM senders ORDER BY address LIMIT 1")
fid=$(sql "SELECT id FROM senders WHERE address = '$first'")
ins() { # COUNT NOT_BEFORE STATE
  sql "INSERT INTO messages (org_id, sender_id, provider, to_phone, body, encoding, segments, lane, purpose, not_before, state)
       SELECT s.org_id, s.id, s.provider, '+1415555' || lpad(g::text, 4, '0'), 'm ' || g, 'GSM-7', 1, 'bulk', 'blast', $2, '$3'
         FROM senders s, generate_series(1, $1) g WHERE s.id = $fid" >/dev/null
}
ins 3 "now() - interval '10 minutes'" queued
ins 2 "now() - interval '1 minute'" queued
ins 4 "now() + interval '1 hour'" queued
ins 1 "now() - interval '1 hour'" unknown

out=$("$CTL" metrics)
val() { echo "$out" | awk -v m="$1{sender=\"$2\"}" '$1 == m { print $2 }'; }
assert_eq "$(val tocsin_queue_due_messages "$first")" 5 "five due (the four not yet due are not counted)"
age=$(val tocsin_queue_oldest_due_age_seconds "$first")
[ "$age" -ge 600 ] && [ "$age" -lt 3600 ] || fail "the oldest due message waited $age s, not about 600"
assert_eq "$(val tocsin_messages_unknown "$first")" 1 "one unknown"
assert_eq "$(echo "$out" | grep -c '^tocsin_queue_due_messages{')" "$senders" "every sender appears"
if [ "$senders" -ge 2 ]; then
  other=$(sql "SELECT address FROM senders WHERE id <> $fid ORDER BY address LIMIT 1")
  assert_eq "$(val tocsin_queue_due_messages "$other")" 0 "a sender with nothing shows 0"
fi
assert_contains "$out" "# TYPE tocsin_queue_oldest_due_age_seconds gauge" "typed for Prometheus"
rc=0; "$CTL" metrics --bogus 2>/dev/null || rc=$?
assert_eq "$rc" 2 "an unknown option is a usage error"
echo PASS
