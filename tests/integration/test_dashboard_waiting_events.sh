#!/usr/bin/env bash
# The "waiting" event (the pool's size, for volunteers): a burst of member
# messages gives a volunteer's stream far fewer waiting events than
# messages, and the last one has the pool's size after the burst. Routing
# a new reply needs no query: its NOTIFY carries the assignee (one payload
# shape for every conversation event), so it reaches exactly its assignee.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dashboard_lib.sh"
dash_setup
assert_eq "$(login vol1 vol1@demo.test)" 200 "volunteer 1 logs in"
assert_eq "$(login vol2 vol2@demo.test)" 200 "volunteer 2 logs in"
V1=$(sql "SELECT id FROM users WHERE email = 'vol1@demo.test'")
pool() { sql "SELECT count(*) FROM conversations WHERE org_id = $ORG AND state = 'open' AND assignee_id IS NULL"; }

curl -sN -b "$TMP/vol1.jar" --max-time 60 "$DASH/api/events" >"$TMP/sse_vol1" &
sse1=$!
curl -sN -b "$TMP/vol2.jar" --max-time 60 "$DASH/api/events" >"$TMP/sse_vol2" &
sse2=$!
TEST_PIDS+=("$sse1" "$sse2")
for _ in $(seq 1 100); do grep -q ready "$TMP/sse_vol1" 2>/dev/null && grep -q ready "$TMP/sse_vol2" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$TMP/sse_vol1" && grep -q ready "$TMP/sse_vol2" || fail "the streams never opened"

# A burst: 40 new members write in, in one transaction (40 notifications
# that arrive together).
N=40
sql "SELECT count(*) FROM generate_series(1, $N) g,
            tocsin_receive_inbound('twilio', 'SMburst' || g, $SENDER, '+1415556' || lpad(g::text, 4, '0'),
                                   'hello', 0, 'reply', NULL, false, NULL, NULL, NULL)" >/dev/null
expected=$(pool)
last_waiting() { grep -A1 "^event: waiting$" "$1" | sed -n 's/^data: {"waiting" *: *\([0-9]*\)}$/\1/p' | tail -1; }
for _ in $(seq 1 300); do [ "$(last_waiting "$TMP/sse_vol1")" = "$expected" ] && break; sleep 0.1; done
assert_eq "$(last_waiting "$TMP/sse_vol1")" "$expected" "the last waiting event has the pool's size after the burst"
# A second's window more, in which nothing of the burst is left to send.
sleep 1.5
events=$(grep -c "^event: waiting$" "$TMP/sse_vol1")
[ "$events" -ge 1 ] && [ "$events" -le 3 ] || fail "$N messages in a burst gave $events waiting events (expected 1 to 3)"
assert_eq "$(last_waiting "$TMP/sse_vol1")" "$expected" "still the latest count"
assert_eq "$(last_waiting "$TMP/sse_vol2")" "$expected" "every volunteer's stream gets it"

# Later changes are announced too, with the new count.
member_writes +14155569999 "one more" >/dev/null
expected=$(pool)
for _ in $(seq 1 300); do [ "$(last_waiting "$TMP/sse_vol1")" = "$expected" ] && break; sleep 0.1; done
assert_eq "$(last_waiting "$TMP/sse_vol1")" "$expected" "a later change is announced with its count"

# A reply in volunteer 1's conversation reaches her, and only her, with no
# lookup: the payload names the assignee.
conv=$(member_writes +14155569998 "mine soon")
sql "UPDATE conversations SET assignee_id = $V1, assigned_at = now(), assignee_active_at = now() WHERE id = $conv" >/dev/null
member_writes +14155569998 "now mine" >/dev/null
for _ in $(seq 1 100); do grep -q "\"type\":\"message\",\"conversation_id\":$conv}" "$TMP/sse_vol1" && break; sleep 0.1; done
grep -q "\"type\":\"message\",\"conversation_id\":$conv}" "$TMP/sse_vol1" || fail "the assignee heard of the reply: $(tail -5 "$TMP/sse_vol1")"
! grep -q "\"conversation_id\":$conv}" "$TMP/sse_vol2" || fail "another volunteer heard of it"
# The payload the database sent for it has the one shape.
payload=$("$PSQL" -XqAt "$TOCSIN_DATABASE_URL" <<SQL | grep -o '{.*}' | head -1
LISTEN tocsin_conversations;
SELECT conversation_id FROM tocsin_receive_inbound('twilio', 'SMshape', $SENDER, '+14155569998', 'shape', 0, 'reply',
                                                   NULL, false, NULL, NULL, NULL);
SQL
)
assert_eq "$payload" "{\"org_id\" : $ORG, \"conversation_id\" : $conv, \"event\" : \"message\", \"assignee_id\" : $V1, \"previous_assignee_id\" : null}" \
  "a new reply's payload"
kill "$sse1" "$sse2" 2>/dev/null || true
! grep -q "AddressSanitizer" "$TMP/dashboard.log" || fail "sanitizer report in the dashboard log"
echo "test_dashboard_waiting_events: ok"
