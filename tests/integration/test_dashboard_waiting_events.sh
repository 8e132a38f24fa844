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
wait_until 60 "volunteer 1's stream to open" file_has "$TMP/sse_vol1" ready
wait_until 60 "volunteer 2's stream to open" file_has "$TMP/sse_vol2" ready

# A burst: 40 new members write in, in one transaction (40 notifications
# that arrive together).
N=40
sql "SELECT count(*) FROM generate_series(1, $N) g,
            tocsin_receive_inbound('twilio', 'SMburst' || g, $SENDER, '+1415556' || lpad(g::text, 4, '0'),
                                   'hello', 0, 'reply', NULL, false, NULL, NULL, NULL)" >/dev/null
expected=$(pool)
last_waiting() { grep -A1 "^event: waiting$" "$1" | sed -n 's/^data: {"waiting" *: *\([0-9]*\)}$/\1/p' | tail -1; }
waiting_is() { WAIT_LAST=$(last_waiting "$1"); [ "$WAIT_LAST" = "$2" ]; }
wait_until 60 "the last waiting event to have the pool's size after the burst ($expected)" waiting_is "$TMP/sse_vol1" "$expected"
# A second's window more, in which nothing of the burst is left to send.
sleep 1.5
events=$(grep -c "^event: waiting$" "$TMP/sse_vol1")
[ "$events" -ge 1 ] && [ "$events" -le 3 ] || fail "$N messages in a burst gave $events waiting events (expected 1 to 3)"
assert_eq "$(last_waiting "$TMP/sse_vol1")" "$expected" "still the latest count"
assert_eq "$(last_waiting "$TMP/sse_vol2")" "$expected" "every volunteer's stream gets it"

# Later changes are announced too, with the new count.
member_writes +14155569999 "one more" >/dev/null
expected=$(pool)
wait_until 60 "a later change to be announced with its count ($expected)" waiting_is "$TMP/sse_vol1" "$expected"

# A reply in volunteer 1's conversation reaches her, and only her, with no
# lookup: the payload names the assignee.
conv=$(member_writes +14155569998 "mine soon")
sql "UPDATE conversations SET assignee_id = $V1, assigned_at = now(), assignee_active_at = now() WHERE id = $conv" >/dev/null
member_writes +14155569998 "now mine" >/dev/null
wait_until 60 "the assignee to hear of the reply" file_has "$TMP/sse_vol1" "\"type\":\"message\",\"conversation_id\":$conv}"
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
