#!/usr/bin/env bash
# What happened to member data, against a real tocsin-dashboard: reads
# audited (opening a conversation, exports with their counts, failed
# logins); the admin's audit screen (filters, paging, only the org's own
# rows, refused to leads and volunteers, bad filters answered 400) and its
# CSV export, itself audited; alerts (a lead's big export, a volunteer's
# many claims) listed for admins and acknowledged (audited, another org's
# alert 404); the protection settings; and the two-person rule for big
# blasts through the API and through tocsinctl.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dashboard_lib.sh"
dash_setup
CTL="$BIN/ops/tocsinctl"
"$CTL" org create other --name "Other Org" >/dev/null
no_two_factor other  # as dash_setup does for demo
echo "other admin password" | "$CTL" user add --org other --email admin@other.test --role admin --password-stdin >/dev/null
echo "second lead password" | "$CTL" user add --org demo --email lead2@demo.test --role lead --password-stdin >/dev/null
for who in vol1 lead admin; do assert_eq "$(login $who $who@demo.test)" 200 "$who logs in"; done
assert_eq "$(login lead2 lead2@demo.test 'second lead password')" 200 "a second lead logs in"
assert_eq "$(login other admin@other.test 'other admin password')" 200 "another org's admin logs in"
LEAD=$(sql "SELECT id FROM users WHERE email = 'lead@demo.test'")
V1=$(sql "SELECT id FROM users WHERE email = 'vol1@demo.test'")
ADMIN=$(sql "SELECT id FROM users WHERE email = 'admin@demo.test'")
audits() { sql "SELECT count(*) FROM audit_events WHERE org_id = $ORG AND action = '$1'"; }

# --- reads are audited ---
member_writes +14155550111 "hello" >/dev/null
C=$(sql "SELECT id FROM conversations WHERE org_id = $ORG ORDER BY id DESC LIMIT 1")
assert_eq "$(call lead GET "/api/conversations/$C")" 200 "the lead opens a conversation"
assert_eq "$(call lead GET "/api/conversations/$C")" 200 "and again (a live update)"
assert_eq "$(sql "SELECT count(*) || ' ' || max(user_id) || ' ' || max(subject_id) FROM audit_events WHERE action = 'conversation.view'")" \
  "1 $LEAD $C" "opening is audited once per person in 10 minutes"
assert_eq "$(call vol1 GET "/api/conversations/$C")" 404 "a volunteer cannot open one not hers"
assert_eq "$(audits conversation.view)" 1 "and a refused read writes nothing"

assert_eq "$(login x lead@demo.test wrong-password)" 401 "a wrong password"
assert_eq "$(sql "SELECT count(*) || ' ' || max(subject_id) || ' ' || coalesce(max(user_id)::text, 'none') || ' ' || max(details->>'address') FROM audit_events WHERE action = 'session.login_failed'")" \
  "1 $LEAD none 127.0.0.1" "a failed login is audited in the account's org, with its address"
assert_eq "$(login x nobody@demo.test wrong-password)" 401 "an unknown email"
assert_eq "$(sql "SELECT count(*) FROM audit_events WHERE action = 'session.login_failed'")" 1 "has no org: only logged"

LIST=$(sql "SELECT id FROM lists WHERE org_id = $ORG AND name = 'members'")
{ echo phone,first_name; for i in $(seq 10 21); do echo "+141555502$i,M$i"; done; } >"$TMP/m.csv"
"$CTL" contacts import --org demo --list members "$TMP/m.csv" >/dev/null
MEMBERS=$(sql "SELECT count(*) FROM tocsin_lead_audience($ORG, $LIST)")
[ "$MEMBERS" -ge 12 ] || fail "the list has its members ($MEMBERS)"
assert_eq "$(call lead GET "/api/lists/$LIST/export")" 200 "the lead exports the list"
assert_eq "$(sql "SELECT user_id || ' ' || subject_id || ' ' || (details->>'rows') FROM audit_events WHERE action = 'list.export'")" \
  "$LEAD $LIST $MEMBERS" "the export is audited with its count"
assert_eq "$(sql "SELECT count(*) FROM audit_alerts")" 0 "under the threshold (1000): no alert"

# --- protection settings ---
assert_eq "$(call lead GET /api/settings/protection)" 403 "a lead does not read them"
assert_eq "$(call admin GET /api/settings/protection)" 200 "the admin does"
assert_eq "$(jq_ 'd.alert_export_over + " " + d.alert_claims_per_hour + " " + d.blast_approval_over')" "1000 200 null" "defaults"
assert_eq "$(call admin POST /api/settings/protection '{"alert_export_over":"0"}')" 400 "zero is refused"
assert_contains "$(jq_ 'd.error.message')" "invalid alert_export_over" "naming the setting"
assert_eq "$(call admin POST /api/settings/protection '{"alert_export_over":"abc"}')" 400 "text is refused"
assert_eq "$(call lead POST /api/settings/protection '{"alert_export_over":"5"}')" 403 "a lead cannot change them"
assert_eq "$(call admin POST /api/settings/protection '{"alert_export_over":"5","alert_claims_per_hour":"3","blast_approval_over":"10"}')" 200 "the admin sets them"
assert_eq "$(sql "SELECT details::text FROM audit_events WHERE action = 'org.protection'")" \
  '{"alert_export_over": {"new": 5, "old": 1000}, "blast_approval_over": {"new": 10, "old": null}, "alert_claims_per_hour": {"new": 3, "old": 200}}' \
  "audited with old and new values"

# --- alerts ---
assert_eq "$(call lead GET "/api/lists/$LIST/export")" 200 "the lead exports again"
assert_eq "$(sql "SELECT kind || ' ' || user_id || ' ' || (details->>'rows') || ' ' || (details->>'limit') FROM audit_alerts")" \
  "export $LEAD $MEMBERS 5" "above the threshold: an alert"
assert_eq "$(call admin GET "/api/lists/$LIST/export")" 200 "the admin exports"
assert_eq "$(sql "SELECT count(*) FROM audit_alerts")" 1 "an admin's export raises none"
for i in 1 2 3 4 5; do member_writes "+1415555030$i" "reply $i" >/dev/null; done
assert_eq "$(call vol1 POST /api/conversations/claim '{"count":3}')" 200 "a volunteer claims 3"
assert_eq "$(sql "SELECT count(*) FROM audit_alerts WHERE kind = 'claims'")" 0 "at the threshold: no alert"
assert_eq "$(call vol1 POST /api/conversations/claim '{"count":1}')" 200 "and one more"
assert_eq "$(sql "SELECT user_id || ' ' || (details->>'claimed_last_hour') FROM audit_alerts WHERE kind = 'claims'")" \
  "$V1 4" "above it within the hour: an alert"
assert_eq "$(call vol1 POST /api/conversations/claim '{"count":1}')" 200 "one more"
assert_eq "$(sql "SELECT count(*) FROM audit_alerts WHERE kind = 'claims'")" 1 "one open alert an hour, not one per claim"

assert_eq "$(call lead GET /api/alerts)" 403 "a lead does not see alerts"
assert_eq "$(call vol1 GET /api/alerts)" 403 "nor a volunteer"
assert_eq "$(call other GET /api/alerts)" 200 "another org's admin"
assert_eq "$(jq_ 'd.open + " " + d.alerts.length')" "0 0" "sees none of them"
assert_eq "$(call admin GET /api/alerts)" 200 "the admin lists them"
assert_eq "$(jq_ 'd.open + " " + d.alerts.map((a) => a.kind + ":" + a.email).join(",")')" \
  "2 claims:vol1@demo.test,export:lead@demo.test" "two open, newest first, with who"
AL=$(sql "SELECT id FROM audit_alerts WHERE kind = 'export'")
assert_eq "$(call other POST "/api/alerts/$AL/acknowledge")" 404 "another org's admin cannot acknowledge it"
assert_eq "$(call lead POST "/api/alerts/$AL/acknowledge")" 403 "nor a lead"
assert_eq "$(call admin POST "/api/alerts/$AL/acknowledge")" 200 "the admin acknowledges"
assert_eq "$(call admin POST "/api/alerts/$AL/acknowledge")" 200 "again: a no-op"
assert_eq "$(sql "SELECT count(*) || ' ' || max(user_id) || ' ' || max(subject_id) FROM audit_events WHERE action = 'alert.acknowledge'")" \
  "1 $ADMIN $AL" "acknowledged once, audited"
call admin GET /api/alerts >/dev/null
assert_eq "$(jq_ 'd.open + " " + d.alerts[1].acknowledged_by')" "1 Ada Admin" "one left open; who acknowledged"

# --- two-person rule ---
blast() { node -e 'process.stdout.write(JSON.stringify({sender_id: +process.argv[1], list_id: +process.argv[2], body: process.argv[3]}))' "$@"; }
assert_eq "$(call lead POST /api/blasts "$(blast "$SENDER" "$LIST" 'Rally Saturday! Reply STOP to opt out')")" 201 "the lead drafts a blast"
B=$(jq_ 'd.id')
assert_eq "$(call lead POST "/api/blasts/$B/schedule" '{}')" 409 "above the org's 10: not schedulable alone"
assert_contains "$(jq_ 'd.error.message')" "a second lead or an admin must approve it first" "says why"
assert_eq "$(call lead GET "/api/blasts/$B")" 200 "the blast"
assert_eq "$(jq_ 'd.approval.required + " " + d.approval.audience + " " + d.approval.threshold + " " + d.approval.created_by_name')" \
  "true $MEMBERS 10 Lee Lead" "says approval is required, the audience and who created it"
assert_eq "$(call lead POST "/api/blasts/$B/approve" "{\"count\":$MEMBERS}")" 409 "the creator cannot approve her own"
assert_contains "$(jq_ 'd.error.message')" "you created blast" "says so"
assert_eq "$(call vol1 POST "/api/blasts/$B/approve" "{\"count\":$MEMBERS}")" 403 "a volunteer cannot approve"
assert_eq "$(call other POST "/api/blasts/$B/approve" "{\"count\":$MEMBERS}")" 404 "another org's admin cannot"
assert_eq "$(call lead2 POST "/api/blasts/$B/approve" '{"count":3}')" 409 "approving a count not the audience's"
assert_contains "$(jq_ 'd.error.message')" "not the 3 you saw" "says the count changed"
assert_eq "$(call lead2 POST "/api/blasts/$B/approve" '{}')" 400 "no count"
assert_eq "$(audits blast.approve)" 0 "refusals approve nothing"
# A source in the body is no field of the route: the dashboard's
# approval is recorded as the dashboard's.
assert_eq "$(call lead2 POST "/api/blasts/$B/approve" "{\"count\":$MEMBERS,\"source\":\"cli\"}")" 200 "a second lead approves"
LEAD2=$(sql "SELECT id FROM users WHERE email = 'lead2@demo.test'")
assert_eq "$(jq_ 'd.approval.approved_by + " " + d.approval.approved_count')" "$LEAD2 $MEMBERS" "the approval shows"
assert_eq "$(sql "SELECT user_id || ' ' || (details->>'count') || ' ' || (details->>'source') || ' ' || (details->>'body') FROM audit_events WHERE action = 'blast.approve'")" \
  "$LEAD2 $MEMBERS dashboard Rally Saturday! Reply STOP to opt out" "approving is audited with what was seen, from the dashboard"

# An edit voids it (no route edits a blast today: the rule is the table's).
sql "UPDATE blasts SET body = 'Rally Sunday! Reply STOP to opt out' WHERE id = $B" >/dev/null
assert_eq "$(sql "SELECT approved_by IS NULL FROM blasts WHERE id = $B")" t "editing the body voids the approval"
assert_eq "$(audits blast.approval_void)" 1 "audited"
assert_eq "$(call lead POST "/api/blasts/$B/schedule" '{}')" 409 "so it cannot be scheduled"
assert_eq "$(call admin POST "/api/blasts/$B/approve" "{\"count\":$MEMBERS}")" 200 "an admin approves the new text"
assert_eq "$(call lead POST "/api/blasts/$B/schedule" '{"at":"2099-01-01T00:00:00Z"}')" 200 "now the lead schedules it"

# tocsinctl: the same rule, in the database.
out=$("$CTL" blast create --org demo --sender "$(sql "SELECT address FROM senders WHERE id = $SENDER")" --list members --body 'CLI blast. Reply STOP to opt out')
CB=$(sed -E 's/created blast ([0-9]+).*/\1/' <<<"$out")
rc=0; "$CTL" blast schedule "$CB" --at now >"$TMP/o" 2>&1 || rc=$?
assert_eq "$rc" 1 "tocsinctl blast schedule is refused too"
assert_contains "$(cat "$TMP/o")" "must approve it first" "with the reason"
assert_eq "$(call lead POST "/api/blasts/$CB/approve" "{\"count\":$MEMBERS}")" 200 "any lead may approve a blast made by the CLI"
assert_contains "$("$CTL" blast schedule "$CB" --at now)" "scheduled blast $CB" "then the CLI schedules it"
# An audience grown past its approval goes back to draft when the worker fixes it.
{ echo phone; for i in $(seq 40 51); do echo "+141555504$i"; done; } >"$TMP/more.csv"
"$CTL" contacts import --org demo --list members "$TMP/more.csv" >/dev/null
sql "SELECT tocsin_blasts_tick(now())" >/dev/null
assert_eq "$(sql "SELECT state FROM blasts WHERE id = $CB")" draft "an audience grown past the approval goes back to draft"
assert_contains "$(sql "SELECT details->>'error' FROM audit_events WHERE action = 'blast.expand_failed' AND subject_id = $CB")" \
  "it must be approved again" "and the audit says why"

# --- the audit screen ---
assert_eq "$(call lead GET /api/audit)" 403 "a lead cannot read the audit"
assert_eq "$(call vol1 GET /api/audit)" 403 "nor a volunteer"
assert_eq "$(call vol1 GET /api/audit.csv)" 403 "nor export it"
assert_eq "$(call admin GET '/api/audit?limit=5')" 200 "the admin reads a page"
assert_eq "$(jq_ 'd.rows.length + " " + (d.next_before !== null) + " " + d.actions.includes("blast.approve")')" "5 true true" \
  "five rows, a next page, the actions for the menu"
first=$(jq_ 'd.rows.map((r) => r.id).join(",")'); next=$(jq_ 'd.next_before')
assert_eq "$(call admin GET "/api/audit?limit=5&before=$next")" 200 "the next page"
assert_eq "$(jq_ 'd.rows[0].id < '"${first##*,}"'')" true "older rows, none repeated"
assert_eq "$(call admin GET "/api/audit?user=$LEAD&action=list")" 200 "by person and action prefix"
assert_eq "$(jq_ 'd.rows.map((r) => r.action + ":" + r.email).join(",")')" "list.export:lead@demo.test,list.export:lead@demo.test" \
  "the lead's two exports"
assert_eq "$(call admin GET "/api/audit?action=blast.approve&from=$(date -u +%F)&to=$(date -u +%F)")" 200 "by date"
assert_eq "$(jq_ 'd.rows.length')" 3 "today's three approvals"
assert_eq "$(call admin GET "/api/audit?action=blast.approve&to=2000-01-01")" 200 "a range with none"
assert_eq "$(jq_ 'd.rows.length + " " + d.next_before')" "0 null" "no rows, no next page"
assert_eq "$(call other GET '/api/audit?action=list.export')" 200 "another org's admin"
assert_eq "$(jq_ 'd.rows.length')" 0 "sees none of this org's rows"
assert_eq "$(call admin GET '/api/audit?from=yesterday-ish')" 400 "a bad date"
assert_contains "$(jq_ 'd.error.message')" 'invalid from "yesterday-ish"' "named"
assert_eq "$(call admin GET '/api/audit?user=abc')" 400 "a bad person"
assert_eq "$(call admin GET '/api/audit?limit=500')" 400 "a limit too large"
assert_eq "$(call admin GET '/api/audit?frob=1')" 400 "an unknown filter"
assert_eq "$(call admin GET "/api/audit?action=$(head -c 100 /dev/zero | tr '\0' a)")" 400 "an oversized value"

assert_eq "$(call admin GET "/api/audit.csv?action=list.export")" 200 "the CSV export"
assert_eq "$(head -1 "$TMP/out" | tr -d '\r')" "id,at,person,email,action,subject,details" "its header"
assert_eq "$(tail -n +2 "$TMP/out" | grep -c 'list.export')" 3 "the three list exports"
assert_eq "$(sql "SELECT user_id || ' ' || (details->>'rows') || ' ' || (details->'filters'->>'action') FROM audit_events WHERE action = 'audit.export'")" \
  "$ADMIN 3 list.export" "the export is itself audited, with its count and filters"
assert_eq "$(call admin GET "/api/audit.csv?from=nope")" 400 "a bad filter on the export too"
assert_eq "$(audits audit.export)" 1 "and a refused export writes nothing"
assert_contains "$("$CTL" audit verify --org demo)" "chain intact" "all of this is one intact chain"
echo "ok"
