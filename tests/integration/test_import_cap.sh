#!/usr/bin/env bash
# List imports (POST /api/lists/import) and outreach audience uploads
# (POST /api/outreach/campaigns/:id/audience), and opt-out list imports
# (POST /api/opt-outs/import) share one cap on CSV imports
# running at once in the dashboard (each holds a thread of libuv's pool and
# a database connection): with two imports held in the database, an upload
# is refused 429 at once; with two uploads held, an import is; once they
# finish, both are taken again.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dashboard_lib.sh"
dash_setup

assert_eq "$(login lead lead@demo.test)" 200 "lead logs in"
assert_eq "$(call lead POST /api/outreach/campaigns "{\"name\":\"Cap\",\"sender_id\":$SENDER,\"script\":\"hi\"}")" 201 \
  "lead creates a campaign"
CAMP=$(jq_ 'd.id')

# post NAME PATH JSON: as the lead, body to $TMP/NAME.out; prints the status.
post() {
  curl -s -m 60 -b "$TMP/lead.jar" -o "$TMP/$1.out" -w '%{http_code}' -X POST "$DASH$2" \
    -H "X-CSRF-Token: $(cat "$TMP/lead.csrf")" -H 'Content-Type: application/json' -d "$3"
}
import_body() { printf '{"name":"%s","csv":"phone,first_name\\n+1415555%04d,Ana\\n"}' "$1" "$2"; }
upload_body() { printf '{"csv":"phone,first_name\\n+1415555%04d,Bo\\n"}' "$1"; }

# hold: a session holds the tables every import writes first, so imports
# started now wait in the database (each on its own thread and connection).
hold() {
  PGAPPNAME=tocsin_cap_holder "$PSQL" -XqAt "$TOCSIN_DATABASE_URL" \
    -c "BEGIN; LOCK TABLE lists, import_batches IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(60); COMMIT;" \
    >/dev/null 2>&1 &
  HOLDER=$!
  TEST_PIDS+=("$HOLDER")
  wait_sql "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
            WHERE a.application_name = 'tocsin_cap_holder' AND l.mode = 'AccessExclusiveLock'
              AND l.granted AND l.relation = 'import_batches'::regclass" 1
}
# waiters N: until N sessions wait for the holder's tables.
waiters() {
  wait_until 60 "$1 imports to start" sql_gt "SELECT count(DISTINCT l.pid) FROM pg_locks l
    WHERE NOT l.granted AND l.relation IN ('lists'::regclass, 'import_batches'::regclass)" $(( $1 - 1 ))
}
release() {
  sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'tocsin_cap_holder'" >/dev/null
  wait "$HOLDER" 2>/dev/null || true
}

# Two imports run (the cap): an upload is refused at once, and so is a third import.
hold
post imp1 /api/lists/import "$(import_body one 1)" >"$TMP/imp1.code" &
P1=$!
post imp2 /api/lists/import "$(import_body two 2)" >"$TMP/imp2.code" &
P2=$!
waiters 2
code=$(curl -s -m 5 -b "$TMP/lead.jar" -o "$TMP/up.out" -w '%{http_code}' -X POST \
  "$DASH/api/outreach/campaigns/$CAMP/audience" -H "X-CSRF-Token: $(cat "$TMP/lead.csrf")" \
  -H 'Content-Type: application/json' -d "$(upload_body 3)" || true)
assert_eq "$code" 429 "an upload while two imports run is refused"
assert_contains "$(cat "$TMP/up.out")" '"code":"busy"' "the refusal says busy"
assert_eq "$(post imp3 /api/lists/import "$(import_body three 3)")" 429 "a third import is refused"
release
wait "$P1" "$P2"
assert_eq "$(cat "$TMP/imp1.code") $(cat "$TMP/imp2.code")" "200 200" "the two imports finish"
assert_eq "$(post up2 "/api/outreach/campaigns/$CAMP/audience" "$(upload_body 4)")" 200 "an upload after them runs"

# Two uploads run: an import is refused.
hold
post up5 "/api/outreach/campaigns/$CAMP/audience" "$(upload_body 5)" >"$TMP/up5.code" &
P1=$!
post up6 "/api/outreach/campaigns/$CAMP/audience" "$(upload_body 6)" >"$TMP/up6.code" &
P2=$!
waiters 2
assert_eq "$(post imp7 /api/lists/import "$(import_body seven 7)")" 429 "an import while two uploads run is refused"
assert_eq "$(post up8 "/api/outreach/campaigns/$CAMP/audience" "$(upload_body 8)")" 429 "a third upload is refused"
assert_eq "$(post opt8 /api/opt-outs/import '{"column":"phone","csv":"phone\n+14155550998\n"}')" 429 \
  "an opt-out list import shares the cap"
release
wait "$P1" "$P2"
assert_eq "$(cat "$TMP/up5.code") $(cat "$TMP/up6.code")" "200 200" "the two uploads finish"
assert_eq "$(post imp9 /api/lists/import "$(import_body nine 9)")" 200 "an import after them runs"
assert_eq "$(sql "SELECT count(*) FROM outreach_targets WHERE campaign_id = $CAMP")" 3 "three uploads imported"
assert_eq "$(sql "SELECT count(*) FROM opt_outs")" 0 "the refused opt-out import wrote nothing"
echo "test_import_cap: ok"
