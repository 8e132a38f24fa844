#!/usr/bin/env bash
# tocsinctl blast create|schedule|pause|resume|cancel|status|list and
# messages requeue against a live database: the happy path with the
# worker's steps simulated in SQL, PostgreSQL-style errors, exit statuses
# (2 for usage and invalid input, 1 for impossible actions), audit events
# with no user, and zones refresh.
source "$(dirname "$0")/lib.sh"
fresh_db
CTL="$BIN/ops/tocsinctl"
out=$("$CTL" migrate)
assert_contains "$out" "phone_zones: " "migrate fills phone_zones"
assert_contains "$("$CTL" migrate)" "database is up to date" "and only once"
assert_contains "$("$CTL" zones refresh)" "0 changed" "refresh is idempotent"
sql "UPDATE phone_zones SET quiet_end_hour = 23 WHERE prefix = '+1305'" >/dev/null
assert_contains "$("$CTL" zones refresh)" "1 changed" "refresh repairs a changed row"
assert_eq "$(sql "SELECT quiet_end_hour FROM phone_zones WHERE prefix = '+1305'")" 20 "Florida back at 20:00"

"$CTL" org create north --name "North Chapter" >/dev/null
ORG=$(sql "SELECT id FROM orgs WHERE slug = 'north'")
sql "INSERT INTO senders (org_id, address, kind, provider, credentials_sealed, messages_per_second)
     VALUES ($ORG, '+18005550199', 'toll_free', 'telnyx', 'x', 10)" >/dev/null
printf 'phone,first_name,team\n+12125550101,Ana,red\n+12125550102,,blue\n+12125550103,Lee,red\n' > "$TMP/m.csv"
"$CTL" contacts import --org north --list members "$TMP/m.csv" >/dev/null

exit_of() { local rc=0; "$@" >"$TMP/out" 2>&1 || rc=$?; echo "$rc"; }
expect_fail() { # STATUS MESSAGE CMD...
  local want=$1 msg=$2; shift 2
  assert_eq "$(exit_of "$@")" "$want" "exit status of: $*"
  assert_contains "$(cat "$TMP/out")" "$msg" "message of: $*"
}

assert_contains "$("$CTL" blast --help)" "Usage: tocsinctl blast COMMAND" "blast --help"
for c in create schedule pause resume cancel status list; do
  assert_contains "$("$CTL" blast $c --help)" "Usage: tocsinctl blast $c" "blast $c --help"
done
assert_contains "$("$CTL" messages requeue --help)" "Usage: tocsinctl messages requeue" "requeue --help"
assert_eq "$(exit_of "$CTL" blast)" 2 "blast without a command"
expect_fail 2 'unknown command "frob"' "$CTL" blast frob

# create: usage and invalid input -> 2, impossible -> 1.
create=("$CTL" blast create --org north --sender +18005550199 --list members)
expect_fail 2 "missing --body" "${create[@]}"
expect_fail 2 'invalid filter "{nope"' "${create[@]}" --body Hi --filter '{nope'
expect_fail 2 'invalid filter "[1]": must be a JSON object' "${create[@]}" --body Hi --filter '[1]'
expect_fail 2 'unknown field "frist_name" in body' "${create[@]}" --body 'Hi {frist_name}'
expect_fail 2 'is not a field' "${create[@]}" --body 'Hi {first name}'
expect_fail 2 'invalid filter' "${create[@]}" --body Hi --filter '{"field":"team"}'
expect_fail 2 'unknown field "shirt" in filter' "${create[@]}" --body Hi --filter '{"field":"shirt","equals":"M"}'
expect_fail 2 'invalid body: must be 1 to 1600 characters' "${create[@]}" --body "$(printf 'x%.0s' $(seq 1601))"
expect_fail 1 'list "nobody" does not exist in this org' "$CTL" blast create --org north --sender +18005550199 --list nobody --body Hi
expect_fail 1 'sender "+18005550100" does not exist in this org' "$CTL" blast create --org north --sender +18005550100 --list members --body Hi
expect_fail 1 'org "south" does not exist' "$CTL" blast create --org south --sender +18005550199 --list members --body Hi
assert_eq "$(sql "SELECT count(*) FROM blasts")" 0 "nothing created by bad input"

out=$("${create[@]}" --body 'Hi {first_name|friend}, team {team} meets Sunday. Reply STOP to opt out' --filter '{"field":"team","equals":"RED"}')
assert_contains "$out" "created blast " "create prints the id"
ID=$(sed -E 's/created blast ([0-9]+).*/\1/' <<<"$out")
assert_eq "$(sql "SELECT state || ' ' || filter::text FROM blasts WHERE id = $ID")" 'draft {"field": "team", "equals": "RED"}' "a draft with its filter"

# schedule
expect_fail 2 "missing blast ID" "$CTL" blast schedule --at now
expect_fail 2 'invalid blast id "x1"' "$CTL" blast schedule x1 --at now
expect_fail 2 "missing --at" "$CTL" blast schedule "$ID"
expect_fail 2 'invalid input syntax for type timestamp with time zone: "tomorrowish"' "$CTL" blast schedule "$ID" --at tomorrowish
expect_fail 1 "blast 999999 does not exist" "$CTL" blast schedule 999999 --at now
expect_fail 1 "blast $ID cannot be paused: it is draft" "$CTL" blast pause "$ID"
assert_contains "$("$CTL" blast schedule "$ID" --at '2026-11-03 09:00 America/Chicago')" "scheduled blast $ID at 2026-11-03" "schedule at a time"
assert_contains "$("$CTL" blast schedule "$ID" --at now)" "scheduled blast $ID" "reschedule now"

# The worker's tick expands it, tomorrow at 15:00 UTC (10:00 or 11:00 in
# New York: inside the window whenever the test runs).
AT=$(sql "SELECT date_trunc('day', now()) + interval '1 day 15 hours'")
sql "SELECT tocsin_blasts_tick('$AT')" >/dev/null
assert_eq "$(sql "SELECT state || ' ' || recipients FROM blasts WHERE id = $ID")" "sending 2" "expanded to the two reds"
status=$("$CTL" blast status "$ID")
assert_contains "$status" "blast $ID: sending" "status: state"
assert_contains "$status" "recipients   2" "status: recipients"
assert_contains "$status" "queued       2" "status: queued"
json=$("$CTL" blast status "$ID" --json)
assert_eq "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["queued"], d["recipients"], d["state"], d["progress"])' <<<"$json")" \
  "2 2 sending 0.0" "status --json"
expect_fail 1 "blast 999999 does not exist" "$CTL" blast status 999999
list=$("$CTL" blast list --org north)
assert_contains "$list" "sending" "list shows the blast"
assert_contains "$list" "Hi {first_name|friend}, team {team}" "list shows the body"

# pause / resume
assert_contains "$("$CTL" blast pause "$ID")" "paused blast $ID" "pause"
expect_fail 1 "blast $ID cannot be paused: it is paused" "$CTL" blast pause "$ID"
assert_contains "$("$CTL" blast resume "$ID")" "resumed blast $ID" "resume"
expect_fail 1 "blast $ID cannot be resumed: it is sending" "$CTL" blast resume "$ID"

# One message goes out and comes back unknown (a 5xx); then cancel.
SENDER=$(sql "SELECT id FROM senders")
mid=$(sql "SELECT id FROM tocsin_claim($SENDER, 'w1', 1, '$AT', 60)")
sql "SELECT count(*) FROM tocsin_mark_going('{$mid}', 'w1')" >/dev/null
sql "SELECT tocsin_record_outcomes('w1', '{$mid}', '{unknown}', '{NULL}', '{500}', '{server error}', '{0}', '{f}')" >/dev/null
assert_contains "$("$CTL" blast cancel "$ID")" "cancelled blast $ID: 1 queued messages cancelled" "cancel"
expect_fail 1 "blast $ID cannot be cancelled: it is cancelled" "$CTL" blast cancel "$ID"
assert_eq "$(sql "SELECT concat_ws(' ', s->>'queued', s->>'unknown', s->>'cancelled') FROM tocsin_blast_status(NULL, $ID) s")" \
  "0 1 1" "counters after cancel"

# requeue
expect_fail 2 "missing --state" "$CTL" messages requeue
expect_fail 2 'invalid state "failed"' "$CTL" messages requeue --state failed
expect_fail 2 'invalid blast id "b"' "$CTL" messages requeue --state unknown --blast b
expect_fail 1 'sender "+15555550000" does not exist' "$CTL" messages requeue --state unknown --sender +15555550000
assert_contains "$("$CTL" messages requeue --state unknown --org north --dry-run)" "would requeue 1 unknown messages (dry run)" "dry run"
assert_eq "$(sql "SELECT state FROM messages WHERE id = $mid")" unknown "dry run changed nothing"
assert_contains "$("$CTL" messages requeue --state unknown --org north --sender +18005550199 --blast "$ID")" "requeued 1 unknown messages" "requeue"
assert_eq "$(sql "SELECT state || ' ' || (request_sent_at IS NULL) FROM messages WHERE id = $mid")" "queued true" "requeued"
assert_contains "$("$CTL" messages requeue --state unknown)" "requeued 0 unknown messages" "nothing left"

# Every action is audited, with no user (the CLI).
assert_eq "$(sql "SELECT string_agg(action, ',' ORDER BY id) FROM audit_events WHERE user_id IS NULL AND action LIKE 'blast.%'")" \
  "blast.create,blast.schedule,blast.schedule,blast.pause,blast.resume,blast.cancel" "audit trail"
assert_eq "$(sql "SELECT details->>'count' FROM audit_events WHERE action = 'messages.requeue'")" 1 "requeue audited"
echo ok
