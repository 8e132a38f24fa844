#!/usr/bin/env bash
# A blast honours its org's texting hours (Settings; schema 025, 028) in
# each member's own zone, as the compliance window (08:00 to the number's
# end) is honoured: the claim the worker runs (tocsin_claim) takes only the
# members whose local time is inside the org's hours, and defers the others
# to the org's start, local. With the default hours (08:00-21:00) the same
# members are texted as before. The zones are picked from the current UTC
# hour (zone_at), each an hour or more from the edge of its window, so the
# test passes whatever the time of day. The blast's confirm counts the same
# members as in their quiet hours now.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dashboard_lib.sh"
dash_setup
assert_eq "$(login lead lead@demo.test)" 200 "lead logs in"
# Four members: local 13:00 (inside 10-18), 08:00 (inside the compliance
# window, before the org's start), 19:00 (after the org's end, before
# 21:00) and 03:00 (outside both).
declare -A ZONE=([+14155550601]=$(zone_at 13) [+14155550602]=$(zone_at 8) [+14155550603]=$(zone_at 19) [+14155550604]=$(zone_at 3))
LIST=$(sql "INSERT INTO lists (org_id, name) VALUES ($ORG, 'Hours') RETURNING id")
for phone in "${!ZONE[@]}"; do
  sql "WITH c AS (INSERT INTO contacts (org_id, phone, first_name, timezone) VALUES ($ORG, '$phone', 'M', '${ZONE[$phone]}') RETURNING id)
       INSERT INTO subscriptions (org_id, list_id, contact_id, source) SELECT $ORG, $LIST, id, 'api' FROM c" >/dev/null
done
blast() { printf '{"sender_id":%s,"list_id":%s,"body":"%s"}' "$SENDER" "$LIST" "$1"; }
# send_blast BODY: created, sent now, fed by the worker's tick; prints its id.
send_blast() {
  local b
  [ "$(call lead POST /api/blasts "$(blast "$1")")" = 201 ] || fail "blast not created: $(cat "$TMP/out")"
  b=$(jq_ 'd.id')
  [ "$(call lead POST "/api/blasts/$b/schedule" '{}')" = 200 ] || fail "blast not sent: $(cat "$TMP/out")"
  sql "SELECT tocsin_blasts_tick(now())" >/dev/null
  echo "$b"
}
# claimed BLAST: the numbers the worker's claim takes from that blast now.
claimed() {
  sql "SELECT coalesce(string_agg(c.to_phone, ',' ORDER BY c.to_phone), '')
         FROM tocsin_claim($SENDER, 'hours-test', 100, now(), 60) c JOIN messages m ON m.id = c.id
        WHERE m.blast_id = $1"
}
# opens PHONE DAYS HOUR: the instant it is HOUR:00 in PHONE's zone, DAYS after today there.
opens() { sql "SELECT (date_trunc('day', now() AT TIME ZONE '${ZONE[$1]}') + make_interval(days => $2, hours => $3)) AT TIME ZONE '${ZONE[$1]}'"; }
not_before() { sql "SELECT not_before FROM messages WHERE blast_id = $1 AND to_phone = '$2'"; }

# --- the org texts from 10:00 to 18:00 ---
sql "UPDATE orgs SET texting_hours_start = 10, texting_hours_end = 18 WHERE id = $ORG" >/dev/null
assert_eq "$(call lead POST /api/blasts/preview "$(blast 'Rally at noon')")" 200 "the confirm's figures"
assert_eq "$(jq_ 'd.recipients + " " + d.quiet_now')" "4 3" "three of four outside the org's hours now"
B1=$(send_blast 'Rally at noon')
assert_eq "$(sql "SELECT count(*) FROM messages WHERE blast_id = $B1")" 4 "four messages fed"
assert_eq "$(sql "SELECT DISTINCT quiet_start_hour || '-' || quiet_end_hour FROM messages WHERE blast_id = $B1")" "10-18" "each carries the org's window"
assert_eq "$(claimed "$B1")" "+14155550601" "only the member at 13:00 is texted"
assert_eq "$(sql "SELECT string_agg(to_phone || ' ' || tocsin_message_shown_state(id, state), ',' ORDER BY to_phone)
               FROM messages WHERE blast_id = $B1")" \
  "+14155550601 sending,+14155550602 queued,+14155550603 queued,+14155550604 queued" "the others wait"
assert_eq "$(not_before "$B1" +14155550602)" "$(opens +14155550602 0 10)" "08:00: waits for 10:00 today, not texted at 08:00"
assert_eq "$(not_before "$B1" +14155550603)" "$(opens +14155550603 1 10)" "19:00: waits for 10:00 tomorrow, not texted before 21:00"
assert_eq "$(not_before "$B1" +14155550604)" "$(opens +14155550604 0 10)" "03:00: waits for 10:00, not 08:00"
assert_eq "$(claimed "$B1")" "" "a second claim takes none of them early"

# --- the default hours: as before ---
sql "UPDATE orgs SET texting_hours_start = 8, texting_hours_end = 21 WHERE id = $ORG" >/dev/null
B2=$(send_blast 'Rally at one')
assert_eq "$(claimed "$B2")" "+14155550601,+14155550602,+14155550603" "08:00-21:00: all but the member at 03:00"
assert_eq "$(not_before "$B2" +14155550604)" "$(opens +14155550604 0 8)" "who waits for 08:00"
echo "PASS"
