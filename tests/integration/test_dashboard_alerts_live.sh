#!/usr/bin/env bash
# Audit alerts pushed live (schema 032; dashboard/events_alerts.c): a
# lead's export above alert_export_over reaches the open streams of her
# org's admins as "event: alert" (its id, "raised"), and an
# acknowledgement as "acknowledged"; never a lead's or a volunteer's
# stream of the org, nor another org's admin, whose own alert reaches
# only her; a volunteer whose claims raise one about her never hears it.
# Each "never" is checked once the stream has had a later event
# (streams keep the order in which the dashboard heard the notifications),
# so a late delivery cannot pass for none.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dashboard_lib.sh"
dash_setup
CTL="$BIN/ops/tocsinctl"
"$CTL" org create rival --name "Rival Org" >/dev/null
no_two_factor rival
RIVAL=$(sql "SELECT id FROM orgs WHERE slug = 'rival'")
echo "rival admin password" | "$CTL" user add --org rival --email admin@rival.test --role admin --password-stdin >/dev/null
echo "rival lead password" | "$CTL" user add --org rival --email lead@rival.test --role lead --password-stdin >/dev/null
RIVAL_LEAD=$(sql "SELECT id FROM users WHERE email = 'lead@rival.test'")
LIST=$(sql "SELECT id FROM lists WHERE org_id = $ORG AND name = 'members'")
{ echo phone,first_name; for i in 11 12 13; do echo "+141555502$i,M$i"; done; } >"$TMP/m.csv"
"$CTL" contacts import --org demo --list members "$TMP/m.csv" >/dev/null
sql "UPDATE orgs SET alert_export_over = 2 WHERE id IN ($ORG, $RIVAL)" >/dev/null
for who in "admin admin@demo.test" "lead lead@demo.test" "vol1 vol1@demo.test"; do
  assert_eq "$(login $who)" 200 "${who%% *} logs in"
done
assert_eq "$(login rival admin@rival.test 'rival admin password')" 200 "another org's admin logs in"

# has NAME TEXT: the stream of NAME holds TEXT (fixed string).
has() { file_has "$TMP/sse_$1" "$2"; }
# until_has NAME TEXT WHAT: waits for TEXT on NAME's stream.
until_has() { wait_until 60 "$3 (\"$2\" on the stream of $1)" has "$1" "$2"; }
# more_than NAME EVENT N: NAME's stream holds more than N events EVENT.
more_than() { WAIT_LAST=$(grep -c "^event: $2\$" "$TMP/sse_$1"); [ "$WAIT_LAST" -gt "$3" ]; }
for who in admin lead vol1 rival; do open_stream $who; done

# --- the lead's export raises an alert: the org's admins hear it ---
assert_eq "$(call lead GET "/api/lists/$LIST/export")" 200 "the lead exports the members (above the threshold)"
ALERT=$(sql "SELECT id FROM audit_alerts WHERE org_id = $ORG AND kind = 'export' ORDER BY id DESC LIMIT 1")
[ -n "$ALERT" ] || fail "the export raised no alert: $(sql "SELECT action, details FROM audit_events ORDER BY id DESC LIMIT 3") $(sql "SELECT alert_export_over FROM orgs")"
until_has admin "{\"alert_id\":$ALERT,\"event\":\"raised\"}" "the admin's stream hears the alert"
grep -A1 -F "event: alert" "$TMP/sse_admin" | grep -q "^data: {\"alert_id\":$ALERT," || fail "as an alert event"
assert_eq "$(call admin GET /api/alerts)" 200 "she reads it"
assert_eq "$(jq_ 'd.alerts[0].id + " " + d.open')" "$ALERT 1" "the alert announced is the one open"

# --- the rival's own alert: only the rival's admin ---
RIVAL_ALERT=$(sql "SELECT tocsin_audit($RIVAL, $RIVAL_LEAD, 'list.export', 'list', 1, '{\"rows\": 50}');
                   SELECT id FROM audit_alerts WHERE org_id = $RIVAL ORDER BY id DESC LIMIT 1" | tail -1)
until_has rival "{\"alert_id\":$RIVAL_ALERT,\"event\":\"raised\"}" "the rival's admin hears her own org's alert"
has rival "\"alert_id\":$ALERT," && fail "another org's admin received the demo org's alert"
assert_eq "$(grep -c '^event: alert' "$TMP/sse_rival")" 1 "she heard one alert: her own"
assert_eq "$(call rival POST "/api/alerts/$ALERT/acknowledge")" 404 "nor can she acknowledge the demo org's"

# --- volunteers and leads: a later event came, and never the alert ---
member_writes +14155550999 "a new member writes" >/dev/null
until_has lead "event: conversation" "the lead's stream hears the new conversation"
until_has vol1 "event: waiting" "the volunteer's stream hears the pool's size"
has lead "event: alert" && fail "a lead's stream received an alert"
has vol1 "event: alert" && fail "a volunteer's stream received an alert"
assert_eq "$(call vol1 GET /api/alerts)" 403 "a volunteer cannot read alerts"
assert_eq "$(call lead GET /api/alerts)" 403 "nor can a lead"

# --- acknowledged: the admins hear that too, and never the rival's ---
assert_eq "$(call admin POST "/api/alerts/$ALERT/acknowledge")" 200 "the admin acknowledges it"
until_has admin "{\"alert_id\":$ALERT,\"event\":\"acknowledged\"}" "the acknowledgement is pushed"
has admin "\"alert_id\":$RIVAL_ALERT," && fail "the demo admin received another org's alert"
has rival "\"alert_id\":$ALERT," && fail "another org's admin received the demo org's acknowledgement"
# A notification of another shape, or a forged event name, reaches nobody.
sql "SELECT pg_notify('tocsin_alerts', '{\"org_id\": $ORG, \"alert_id\": 1, \"event\": \"x\\n\\ndata: forged\"}'),
            pg_notify('tocsin_alerts', 'not json')" >/dev/null
seen=$(grep -c '^event: conversation$' "$TMP/sse_admin")
member_writes +14155550998 "another member writes" >/dev/null
wait_until 60 "a later event on the admin's stream" more_than admin conversation "$seen"
has admin "forged" && fail "a forged event name reached a page"
assert_eq "$(grep -c '^event: alert' "$TMP/sse_admin")" 2 "the admin heard two alert events: raised and acknowledged"

# --- a volunteer's own claims raise an alert about her: she never hears it ---
sql "UPDATE orgs SET alert_claims_per_hour = 1 WHERE id = $ORG" >/dev/null
assert_eq "$(call vol1 POST /api/conversations/claim '{"count":2}')" 200 "the volunteer claims two conversations"
CLAIMS=$(sql "SELECT id FROM audit_alerts WHERE org_id = $ORG AND kind = 'claims'")
[ -n "$CLAIMS" ] || fail "her claims raised no alert"
until_has admin "{\"alert_id\":$CLAIMS,\"event\":\"raised\"}" "the admin hears the claims alert"
seen=$(grep -c '^event: waiting$' "$TMP/sse_vol1")
member_writes +14155550997 "a third member writes" >/dev/null
wait_until 60 "a later event on the volunteer's stream" more_than vol1 waiting "$seen"
has vol1 "event: alert" && fail "the volunteer heard the alert about her own claims"
has rival "\"alert_id\":$CLAIMS," && fail "another org's admin heard it"
echo "PASS"
