#!/usr/bin/env bash
# Blasts in the database, driven as the worker would (tocsin_blasts_tick,
# tocsin_claim, tocsin_mark_going, tocsin_record_outcomes) with no worker
# running: the audience (opted-out, unsubscribed, duplicate and other-list
# members left out), the filter, fields with fallbacks, quiet hours (Florida
# at 20:30, split zones, a known contact timezone), counters against a
# recount after claims, outcomes, receipts, a STOP and a cancel, pause and
# resume against the claim, and two concurrent ticks expanding once.
source "$(dirname "$0")/lib.sh"
fresh_db
CTL="$BIN/ops/tocsinctl"
"$CTL" migrate >/dev/null
"$CTL" org create north --name "North Chapter" >/dev/null
ORG=$(sql "SELECT id FROM orgs WHERE slug = 'north'")
SENDER=$(sql "INSERT INTO senders (org_id, address, kind, provider, credentials_sealed, messages_per_second)
              VALUES ($ORG, '+18005550199', 'toll_free', 'telnyx', 'x', 10) RETURNING id")

# The quiet-hours table is filled by migrate.
assert_eq "$(sql "SELECT zones::text || ' ' || quiet_end_hour FROM phone_zones WHERE prefix = '+1305'")" \
  "{America/New_York,America/Chicago} 20" "Florida area code: both zones, 20:00"
assert_eq "$(sql "SELECT quiet_end_hour FROM phone_zones WHERE prefix = '+1405'")" 20 "Oklahoma ends at 20:00"
assert_eq "$(sql "SELECT count(*) FROM phone_zones p, unnest(p.zones) z WHERE z NOT IN (SELECT name FROM pg_timezone_names)")" 0 \
  "every zone is known to PostgreSQL"
assert_eq "$(sql "SELECT count(*) FROM phone_zones WHERE tocsin_quiet_window_start(zones, quiet_end_hour, '2026-01-15 12:00Z') IS NULL
                     OR tocsin_quiet_window_start(zones, quiet_end_hour, '2026-07-15 12:00Z') IS NULL")" 0 \
  "every zone set shares a window, winter and summer"

# One number's zones (for messages queued outside blasts): the longest
# prefix, a known contact timezone, the conservative defaults.
rz() { sql "SELECT zones::text || ' ' || quiet_end_hour FROM tocsin_recipient_zones('$1', $2)"; }
assert_eq "$(rz +13055550101 NULL)" "{America/New_York,America/Chicago} 20" "Florida number"
assert_eq "$(rz +13055550101 "'America/Denver'")" "{America/Denver} 20" "known timezone, Florida's end hour"
assert_eq "$(rz +13055550101 "'Mars/Olympus'")" "{America/New_York,America/Chicago} 20" "unknown timezone ignored"
assert_eq "$(rz +442071838750 NULL)" "{Europe/London} 21" "a country"
assert_eq "$(rz +18005550100 NULL)" "{America/St_Johns,America/New_York,America/Anchorage,Pacific/Honolulu} 20" "NANP without a place"
assert_eq "$(rz +85221234567 NULL)" "{UTC} 20" "a country without a row"
assert_eq "$(sql "SELECT count(*) FROM phone_zone_keys k JOIN phone_zones z USING (prefix)")" 9000 "every key resolves"
assert_eq "$(sql "SELECT prefix FROM phone_zone_keys WHERE key = '+4420'")" "+44" "keys take the longest prefix"

# The audience: imported through the CSV path (a duplicate row, a timezone).
cat > "$TMP/members.csv" <<'CSV'
phone,first_name,last_name,city,timezone
+13055550101,Ana,Diaz,Miami,
(305) 555-0101,Ana,Again,Miami,
+12125550102,,Stone,Austin,
+12125550103,Lee,Park,austin,America/Los_Angeles
+15125550104,Sam,Cruz,Austin,
+14155550105,Opted,Out,Austin,
+14155550106,Gone,Away,Austin,
CSV
out=$("$CTL" contacts import --org north --list members "$TMP/members.csv")
assert_contains "$out" "imported=6" "six distinct members imported"
assert_eq "$(sql "SELECT timezone FROM contacts WHERE phone = '+12125550103'")" "America/Los_Angeles" "timezone column imported"
LIST=$(sql "SELECT id FROM lists WHERE name = 'members'")
sql "INSERT INTO opt_outs (org_id, phone, source) VALUES ($ORG, '+14155550105', 'admin')" >/dev/null
sql "UPDATE subscriptions SET unsubscribed_at = now() WHERE contact_id = (SELECT id FROM contacts WHERE phone = '+14155550106')" >/dev/null
# Someone on another list only.
sql "WITH c AS (INSERT INTO contacts (org_id, phone, first_name) VALUES ($ORG, '+14155550107', 'Other') RETURNING id),
          l AS (INSERT INTO lists (org_id, name) VALUES ($ORG, 'others') RETURNING id)
     INSERT INTO subscriptions (org_id, list_id, contact_id, source) SELECT $ORG, l.id, c.id, 'api' FROM c, l" >/dev/null

create() { # BODY [FILTER] -> blast id
  sql "SELECT tocsin_blast_create($ORG, NULL, $SENDER, $LIST, \$b\$$1\$b\$, '${2:-{\}}'::jsonb)"
}
schedule() { sql "SELECT tocsin_blast_schedule($ORG, $1, NULL, '$2')" >/dev/null; }
tick() { sql "SELECT tocsin_blasts_tick('$1')"; }
# hold SQL OUT: in the background, one transaction runs SQL (output to OUT)
# and stays open at a gate until `release`; returns once it is at the gate,
# so what runs next meets its locks, however slow the machine.
sql "CREATE TABLE test_gate (opened boolean)" >/dev/null
hold() {
  PGAPPNAME=test_holder "$PSQL" -XqAt -v ON_ERROR_STOP=1 "$TOCSIN_DATABASE_URL" -c "BEGIN" -c "$1" \
    -c "DO \$\$ BEGIN FOR i IN 1..6000 LOOP EXIT WHEN EXISTS (SELECT FROM test_gate); PERFORM pg_sleep(0.05); END LOOP; END \$\$" \
    -c "COMMIT" > "$2" 2>&1 &
  HOLDER=$!
  wait_sql "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'test_holder' AND query LIKE 'DO %' AND state = 'active'" 1
}
release() { sql "INSERT INTO test_gate VALUES (true)" >/dev/null; wait "$HOLDER" || fail "the held transaction failed: $(cat "$1")"; sql "DELETE FROM test_gate" >/dev/null; }

# --- audience, fields and fallbacks, quiet hours ---------------------------
# 2026-07-01 20:30 in New York: Florida (20:00 end) is closed until 08:00 in
# both its zones, i.e. 08:00 Chicago; New York is open until 21:00; Texas
# (Chicago and Denver) is open; a contact in Los Angeles is open.
NOW='2026-07-01 20:30 America/New_York'
B1=$(create 'Hi {first_name|friend}, {City} votes! Reply STOP to opt out')
assert_eq "$(tick "$NOW")" 0 "a draft is not expanded"
schedule "$B1" "2026-07-01 20:00 America/New_York"
assert_eq "$(tick '2026-07-01 19:59 America/New_York')" 0 "not due yet"
assert_eq "$(tick "$NOW")" 1 "due blast expanded"
assert_eq "$(sql "SELECT state || ' ' || recipients || ' ' || queued FROM blasts WHERE id = $B1")" "sending 4 4" "state and counters"
got=$(sql "SELECT to_phone || '|' || body FROM messages WHERE blast_id = $B1 ORDER BY to_phone")
assert_eq "$got" "+12125550102|Hi friend, Austin votes! Reply STOP to opt out
+12125550103|Hi Lee, austin votes! Reply STOP to opt out
+13055550101|Hi Ana, Miami votes! Reply STOP to opt out
+15125550104|Hi Sam, Austin votes! Reply STOP to opt out" "recipients and rendered bodies"
assert_eq "$(sql "SELECT count(*) FROM messages WHERE blast_id = $B1 AND (lane, purpose, provider, encoding, segments, sender_id)
                  = ('bulk', 'blast', 'telnyx', 'GSM-7', 1, $SENDER) AND contact_id IS NOT NULL")" 4 "message columns"
nb() { sql "SELECT to_char(not_before AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' ' || recipient_zones::text || ' ' || quiet_end_hour
            FROM messages WHERE blast_id = $1 AND to_phone = '$2'"; }
assert_eq "$(nb "$B1" +13055550101)" "2026-07-02 13:00 {America/New_York,America/Chicago} 20" \
  "Florida at 20:30: held until 08:00 in both its zones (08:00 CDT = 13:00 UTC)"
assert_eq "$(nb "$B1" +12125550102)" "2026-07-02 00:30 {America/New_York} 21" "New York at 20:30: now"
assert_eq "$(nb "$B1" +12125550103)" "2026-07-02 00:30 {America/Los_Angeles} 21" "known contact timezone wins"
assert_eq "$(nb "$B1" +15125550104)" "2026-07-02 00:30 {America/Chicago,America/Denver} 21" "Texas: split zones"

# Split zones at the other end of the day: 07:30 in Chicago is 06:30 in
# Denver, so a Texas number waits for 08:00 Denver (09:00 Chicago).
B2=$(create 'Early {last_name|}. Reply STOP to opt out' '{"field":"first_name","equals":"SAM"}')
schedule "$B2" "2026-07-01 07:00 America/Chicago"
tick '2026-07-01 07:30 America/Chicago' >/dev/null
assert_eq "$(sql "SELECT count(*) FROM messages WHERE blast_id = $B2")" 1 "filter on a column, ignoring case"
assert_eq "$(nb "$B2" +15125550104)" "2026-07-01 14:00 {America/Chicago,America/Denver} 21" "08:00 Denver = 14:00 UTC"
assert_eq "$(sql "SELECT body FROM messages WHERE blast_id = $B2")" "Early Cruz. Reply STOP to opt out" "field filled"

# A filter on an imported column; the body's own fields.
B3=$(create '{first_name|Friend} in {city}' '{"field":"city","equals":"austin"}')
schedule "$B3" "$NOW"; tick "$NOW" >/dev/null
assert_eq "$(sql "SELECT string_agg(to_phone, ',' ORDER BY to_phone) FROM messages WHERE blast_id = $B3")" \
  "+12125550102,+12125550103,+15125550104" "filter on contacts.fields, ignoring case"

# An empty audience completes at once.
B4=$(create 'Nobody {city}' '{"field":"city","equals":"Nowhere"}')
schedule "$B4" "$NOW"; tick "$NOW" >/dev/null; tick "$NOW" >/dev/null
assert_eq "$(sql "SELECT state || ' ' || recipients FROM blasts WHERE id = $B4")" "completed 0" "empty blast completes"

# --- body and filter validation -------------------------------------------
bad() { # EXPECTED-MESSAGE SQL
  local out rc=0
  out=$(sql "$2" 2>&1) || rc=$?
  [ "$rc" -ne 0 ] || fail "accepted: $2"
  assert_contains "$out" "$1" "refused: $2"
}
bad 'unknown field "frist_name" in body' "SELECT tocsin_blast_create($ORG, NULL, $SENDER, $LIST, 'Hi {frist_name}', '{}')"
bad 'is not a field' "SELECT tocsin_blast_create($ORG, NULL, $SENDER, $LIST, 'Hi {first name}', '{}')"
bad 'is not a field' "SELECT tocsin_blast_create($ORG, NULL, $SENDER, $LIST, 'Hi } there', '{}')"
bad 'could render empty' "SELECT tocsin_blast_create($ORG, NULL, $SENDER, $LIST, ' {first_name} ', '{}')"
bad 'up to 1610 characters' "SELECT tocsin_blast_create($ORG, NULL, $SENDER, $LIST, repeat('x', 1510) || '{first_name}', '{}')"
bad 'invalid filter' "SELECT tocsin_blast_create($ORG, NULL, $SENDER, $LIST, 'Hi', '{\"field\":\"city\"}')"
bad 'invalid filter' "SELECT tocsin_blast_create($ORG, NULL, $SENDER, $LIST, 'Hi', '{\"field\":\"a b\",\"equals\":\"x\"}')"
bad 'unknown field "shoe" in filter' "SELECT tocsin_blast_create($ORG, NULL, $SENDER, $LIST, 'Hi', '{\"field\":\"shoe\",\"equals\":\"x\"}')"
bad 'cannot be paused: it is draft' "SELECT tocsin_blast_pause($ORG, $(create 'Draft'), NULL)"
bad 'blast 999999 does not exist' "SELECT tocsin_blast_cancel($ORG, 999999, NULL)"
bad 'blast '"$B1"' does not exist' "SELECT tocsin_blast_pause($ORG + 1, $B1, NULL)"

# --- pause, resume and the claim -----------------------------------------
# B3's three messages are due at NOW (none in Florida). Pause: the claim
# passes over them; resume: it takes them.
sql "SELECT tocsin_blast_pause($ORG, $B1, NULL); SELECT tocsin_blast_pause($ORG, $B3, NULL)" >/dev/null
claim() { sql "SELECT count(*) FROM tocsin_claim($SENDER, '$1', $2, '$3', 60)"; }
assert_eq "$(claim w1 10 "$NOW")" 1 "paused blasts' messages are not claimed (only B2's)"
sql "SELECT tocsin_blast_resume($ORG, $B3, NULL)" >/dev/null
assert_eq "$(sql "SELECT string_agg(m.blast_id::text, ',' ORDER BY m.id) FROM tocsin_claim($SENDER, 'w1', 10, '$NOW', 60) c JOIN messages m ON m.id = c.id")" \
  "$B3,$B3,$B3" "resumed blast's messages are claimed"
sql "SELECT tocsin_blast_resume($ORG, $B1, NULL)" >/dev/null

# --- counters ------------------------------------------------------------
# A sequence: claim B1's three due messages, send them (one sent, one
# failed, one unknown), a receipt delivers the sent one, a STOP from the
# Florida member (still queued: cancelled) and then cancel the blast.
ids=$(sql "SELECT string_agg(id::text, ',' ORDER BY id) FROM tocsin_claim($SENDER, 'w2', 10, '$NOW', 60)")
assert_eq "$(tr ',' '\n' <<<"$ids" | wc -l)" 3 "three of B1 due (Florida waits)"
sql "SELECT count(*) FROM tocsin_mark_going('{$ids}', 'w2')" >/dev/null
first=${ids%%,*}
sql "SELECT tocsin_record_outcomes('w2', '{$ids}', '{sent,failed,unknown}', '{SM1,NULL,NULL}', '{NULL,21211,NULL}', '{NULL,bad number,NULL}',
                                   '{0,0,0}', '{f,f,f}')" >/dev/null
sql "SELECT tocsin_apply_receipt('telnyx', 'SM1', $SENDER, 'delivered', NULL, NULL)" >/dev/null
sql "SELECT * FROM tocsin_receive_inbound('telnyx', 'in-1', $SENDER, '+13055550101', 'STOP', 0, 'opt_out', NULL,
                                          false, 'You are unsubscribed', 'GSM-7', 1)" >/dev/null
recount() { # BLAST: counters as stored + pending deltas, then as recounted
  sql "SELECT concat_ws(' ', s->>'queued', s->>'sending', s->>'sent', s->>'delivered', s->>'undelivered',
                        s->>'failed', s->>'unknown', s->>'suppressed', s->>'cancelled')
         FROM tocsin_blast_status(NULL, $1) s"
  # (in flight: queued with no outbox row, schema 034)
  sql "SELECT concat_ws(' ', count(*) FILTER (WHERE state = 'queued'), count(*) FILTER (WHERE state = 'sending'),
                        count(*) FILTER (WHERE state = 'sent'), count(*) FILTER (WHERE state = 'delivered'),
                        count(*) FILTER (WHERE state = 'undelivered'), count(*) FILTER (WHERE state = 'failed'),
                        count(*) FILTER (WHERE state = 'unknown'), count(*) FILTER (WHERE state = 'suppressed'),
                        count(*) FILTER (WHERE state = 'cancelled'))
         FROM (SELECT tocsin_message_shown_state(id, state) AS state FROM messages WHERE blast_id = $1) m"
}
r=$(recount "$B1")
assert_eq "$(sed -n 1p <<<"$r")" "$(sed -n 2p <<<"$r")" "B1 counters equal a recount"
assert_eq "$(sed -n 1p <<<"$r")" "0 0 0 1 0 1 1 0 1" "B1 counters"
assert_eq "$(sql "SELECT (tocsin_blast_status(NULL, $B1))->>'opted_out'")" 1 "the STOP during the blast counts as opted out"
tick "$NOW" >/dev/null   # folds the deltas into blasts
assert_eq "$(sql "SELECT concat_ws(' ', queued, sending, sent, delivered, undelivered, failed, unknown, suppressed, cancelled, opted_out)
                  FROM blasts WHERE id = $B1")" "0 0 0 1 0 1 1 0 1 1" "folded counters"
assert_eq "$(sql "SELECT count(*) FROM blast_counter_deltas")" 0 "all deltas folded"
assert_eq "$(sql "SELECT state FROM blasts WHERE id = $B1")" completed "nothing queued or in flight: completed"

# B2's claimed message: the lease runs out before the request left -> queued again.
sql "UPDATE claims SET lease_until = now() - interval '1 second'
      WHERE message_ids && (SELECT array_agg(id) FROM messages WHERE blast_id = $B2)" >/dev/null
sql "SELECT tocsin_sweep_leases()" >/dev/null
r=$(recount "$B2"); assert_eq "$(sed -n 1p <<<"$r")" "$(sed -n 2p <<<"$r")" "B2 counters after a sweep"
# Cancel B2: its queued message is cancelled in one statement.
assert_eq "$(sql "SELECT tocsin_blast_cancel($ORG, $B2, NULL)")" 1 "cancel returns the messages cancelled"
r=$(recount "$B2"); assert_eq "$(sed -n 1p <<<"$r")" "0 0 0 0 0 0 0 0 1" "B2 counters after cancel"
assert_eq "$(sed -n 1p <<<"$r")" "$(sed -n 2p <<<"$r")" "B2 counters equal a recount"
bad 'cannot be resumed: it is cancelled' "SELECT tocsin_blast_resume($ORG, $B2, NULL)"
assert_eq "$(sql "SELECT string_agg(action, ',' ORDER BY id) FROM audit_events WHERE subject_id = $B2 AND subject_type = 'blast'")" \
  "blast.create,blast.schedule,blast.cancel" "audit trail"

# Requeue of unknown messages: B1's unknown message goes back to queued
# and the completed blast sends again.
assert_eq "$(sql "SELECT tocsin_messages_requeue($ORG, NULL, NULL, $B1, true)")" 1 "dry run counts"
assert_eq "$(sql "SELECT count(*) FROM messages WHERE blast_id = $B1 AND state = 'unknown'")" 1 "dry run changes nothing"
assert_eq "$(sql "SELECT tocsin_messages_requeue($ORG, NULL, $SENDER, $B1, false)")" 1 "requeued"
assert_eq "$(sql "SELECT state || ' ' || (request_sent_at IS NULL) || ' ' || (claimed_by IS NULL) FROM messages
                  WHERE blast_id = $B1 AND id = ${ids##*,}")" "queued true true" "requeued message is fresh"
assert_eq "$(sql "SELECT state FROM blasts WHERE id = $B1")" sending "its blast sends again"
r=$(recount "$B1"); assert_eq "$(sed -n 1p <<<"$r")" "$(sed -n 2p <<<"$r")" "B1 counters after requeue"

# --- a blast that cannot be fed does not block the others -----------------
# (a body edited in the table past tocsin_blast_create's checks renders past
# 1600 characters.) Its audience is fixed; the feed that renders it fails
# and pauses it for a lead to see.
B6=$(create 'Broken {first_name}')
B7=$(create 'Fine {first_name|friend}')
sql "UPDATE blasts SET body = repeat('x', 1593) || '{phone}' WHERE id = $B6" >/dev/null
schedule "$B6" "$NOW"; schedule "$B7" "$NOW"
tick "$NOW" >/dev/null
assert_eq "$(sql "SELECT state FROM blasts WHERE id = $B6")" paused "the broken blast is paused"
assert_contains "$(sql "SELECT details->>'error' FROM audit_events WHERE action = 'blast.feed_failed' AND subject_id = $B6")" \
  "messages_body_check" "with the reason audited"
assert_eq "$(sql "SELECT count(*) FROM messages WHERE blast_id = $B6")" 0 "none of its messages"
assert_eq "$(sql "SELECT state FROM blasts WHERE id = $B7")" sending "the other blast expanded"

# --- two ticks at once expand a blast once --------------------------------
B5=$(create 'Once {first_name|friend}')
schedule "$B5" "$NOW"
hold "SELECT tocsin_blasts_tick('$NOW')" "$TMP/tick1.out"
second=$(tick "$NOW")
release "$TMP/tick1.out"
assert_eq "$second" 0 "the second tick skips the blast the first is expanding"
assert_eq "$(sed -n 1p "$TMP/tick1.out")" 1 "the first tick expanded it"
tick "$NOW" >/dev/null
assert_eq "$(sql "SELECT count(*) || ' ' || count(DISTINCT to_phone) FROM messages WHERE blast_id = $B5")" "3 3" "expanded once (Ana opted out meanwhile)"

# --- a cancel while a worker holds some of the blast's messages -------------
# The worker's transaction claims (locking message rows) and stays open; the
# cancel locks the blast row and waits for those rows. Neither waits for the
# other's blast row, so both finish (no deadlock) and the counters add up.
sql "SELECT tocsin_blast_cancel($ORG, $B5, NULL), tocsin_blast_cancel($ORG, $B7, NULL)" >/dev/null # nothing else due
B8=$(create 'Race {first_name|friend}')
schedule "$B8" "$NOW"; tick "$NOW" >/dev/null
hold "SELECT count(*) FROM tocsin_claim($SENDER, 'w3', 2, '$NOW', 60)" "$TMP/claim.out"
# The cancel waits for the claimed rows: it runs in the background until
# the claim's transaction ends.
sql "SELECT tocsin_blast_cancel($ORG, $B8, NULL)" > "$TMP/cancel.out" &
canceller=$!
wait_sql "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%tocsin_blast_cancel($ORG, $B8,%' AND wait_event_type = 'Lock'" 1
release "$TMP/claim.out"
wait "$canceller" || fail "the cancel failed"
cancelled=$(cat "$TMP/cancel.out")
assert_eq "$(sed -n 1p "$TMP/claim.out")" 2 "the worker claimed two"
assert_eq "$cancelled" 1 "the cancel took the one still queued"
r=$(recount "$B8"); assert_eq "$(sed -n 1p <<<"$r")" "$(sed -n 2p <<<"$r")" "B8 counters after the race"
assert_eq "$(sed -n 1p <<<"$r")" "0 2 0 0 0 0 0 0 1" "two in flight, one cancelled"

echo "ok"
