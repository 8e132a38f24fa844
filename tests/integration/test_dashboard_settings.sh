#!/usr/bin/env bash
# An admin's org settings and a lead's canned responses and tags through
# the API (issue 19), against a real tocsin-dashboard and PostgreSQL: who
# may read and change them (volunteers never; settings admins only),
# another org's ids answering 404 like missing rows, hostile input
# answered 400 naming the field (bad hours, overlong texts, a HELP reply
# without the CTIA parts, checked as keyword confirmations are), every
# change audited with old and new values, retired texts leaving the
# volunteers' menus but not the conversations they tag, the org's texting
# hours as a new campaign's, and the org's idle-release time used by the
# dashboard's release timer instead of its default.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dashboard_lib.sh"
# The default release time is short so the timer ticks every second; the
# demo org sets its own (longer) one below.
dash_setup TOCSIN_DASHBOARD_RELEASE_AFTER_S=4
"$BIN/ops/tocsinctl" org create other --name "Other Org" >/dev/null
no_two_factor other  # as dash_setup does for demo
echo "other admin password" | "$BIN/ops/tocsinctl" user add --org other --email admin@other.test --role admin --password-stdin >/dev/null
OTHER=$(sql "SELECT id FROM orgs WHERE slug = 'other'")
assert_eq "$(login vol1 vol1@demo.test)" 200 "volunteer logs in"
assert_eq "$(login lead lead@demo.test)" 200 "lead logs in"
assert_eq "$(login admin admin@demo.test)" 200 "admin logs in"
assert_eq "$(login other admin@other.test 'other admin password')" 200 "another org's admin logs in"
json() { node -e 'const o = {}; for (let i = 1; i < process.argv.length; i += 2) { const v = process.argv[i + 1]; o[process.argv[i]] = /^-?[0-9]+$/.test(v) ? Number(v) : v; } process.stdout.write(JSON.stringify(o))' "$@"; }
audits() { sql "SELECT count(*) FROM audit_events WHERE org_id = $ORG"; }

# --- settings: roles ---
assert_eq "$(call vol1 GET /api/settings)" 403 "volunteers do not read settings"
assert_eq "$(call lead GET /api/settings)" 403 "leads do not read settings"
assert_eq "$(call lead POST /api/settings '{"volunteer_max_conversations":3}')" 403 "leads do not change settings"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "$DASH/api/settings")" 401 "no session"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' -b "$TMP/admin.jar" -X POST "$DASH/api/settings" -d '{"volunteer_max_conversations":3}')" 403 "no CSRF token"
assert_eq "$(call admin GET /api/settings)" 200 "the admin reads them"
assert_eq "$(jq_ '[d.name, d.texting_hours_start, d.texting_hours_end, d.release_after_minutes, d.volunteer_max_conversations].join()')" \
  "Tocsin Demo Chapter,8,21,,25" "the defaults"
assert_contains "$(jq_ 'd.help_text')" "Reply STOP" "the demo's HELP reply"

# --- settings: hostile input, each refused naming its field, nothing changed ---
before=$(sql "SELECT row(o.*)::text FROM orgs o WHERE id = $ORG")
a0=$(audits)
bad() { # BODY FIELD WHAT
  assert_eq "$(call admin POST /api/settings "$1")" 400 "$3"
  assert_contains "$(jq_ 'd.error.message')" "$2" "$3: names $2"
}
bad '{"texting_hours_start":7}' texting_hours_start "texting starts before 08:00"
bad '{"texting_hours_end":22}' texting_hours_end "texting ends after 21:00"
bad '{"texting_hours_start":"9am"}' texting_hours_start "an hour that is not a number"
bad '{"texting_hours_start":20,"texting_hours_end":10}' texting_hours_end "the end before the start"
bad '{"texting_hours_start":12,"texting_hours_end":12}' texting_hours_end "an empty window"
bad '{"texting_hours_start":99999999999}' texting_hours_start "an hour too big for an int"
bad '{"release_after_minutes":2}' release_after_minutes "releasing after 2 minutes"
bad '{"release_after_minutes":-5}' release_after_minutes "a negative release time"
bad '{"volunteer_max_conversations":0}' volunteer_max_conversations "a cap of 0"
bad '{"volunteer_max_conversations":501}' volunteer_max_conversations "a cap over 500"
bad "$(json name "$(head -c 201 /dev/zero | tr '\0' n)")" name "a 201-character name"
bad '{"name":"   "}' name "a blank name"
bad "$(json help_text 'Tocsin Demo Chapter: 4 msgs/mo. Msg&data rates may apply. Reply HELP for help.')" help_text "a HELP reply without STOP"
assert_contains "$(jq_ 'd.error.message')" "STOP" "says what is missing"
bad "$(json help_text 'Reply HELP for help, STOP to cancel. 4 msgs/mo. Msg&data rates may apply.')" help_text "a HELP reply without the org's name"
bad "$(json help_text_es 'Tocsin Demo Chapter: hasta 4 mensajes al mes. Responde ALTO para cancelar.')" help_text_es "a Spanish HELP reply without rates or AYUDA"
bad "$(json help_text "Tocsin Demo Chapter: 4 msgs/mo. Msg&data rates may apply. Reply HELP for help, STOP to cancel. $(head -c 1600 /dev/zero | tr '\0' x)")" help_text "an overlong HELP reply"
# Renaming must keep the HELP reply true: it has to name the new name too.
bad '{"name":"Bay Tenants Union"}' help_text "a new name the kept HELP reply does not carry"
bad '{"texting_hours_start":9,"volunteer_max_conversations":0}' volunteer_max_conversations "one bad field refuses the whole save"
assert_eq "$(call admin POST /api/settings '{"texting_hours_start":')" 400 "broken JSON"
assert_eq "$(sql "SELECT row(o.*)::text FROM orgs o WHERE id = $ORG")" "$before" "refused saves changed nothing"
assert_eq "$(audits)" "$a0" "and audited nothing"

# --- settings: a save, audited with old and new values ---
HELP_EN='Bay Tenants Union: up to 4 msgs/mo. Help: help@bay.example. Msg&data rates may apply. Reply HELP for help, STOP to cancel.'
HELP_ES='Bay Tenants Union: hasta 4 mensajes al mes. Pueden aplicarse tarifas de mensajes y datos. Responde AYUDA para ayuda, ALTO para cancelar.'
body=$(json name 'Bay Tenants Union' help_text "$HELP_EN" help_text_es "$HELP_ES" texting_hours_start 10 texting_hours_end 19 \
            release_after_minutes 30 volunteer_max_conversations 3)
assert_eq "$(call admin POST /api/settings "$body")" 200 "the admin saves"
assert_eq "$(jq_ '[d.name, d.texting_hours_start, d.texting_hours_end, d.release_after_minutes, d.volunteer_max_conversations].join()')" \
  "Bay Tenants Union,10,19,30,3" "the answer is the saved settings"
assert_eq "$(sql "SELECT concat_ws(',', name, texting_hours_start, texting_hours_end, release_after_minutes, volunteer_max_conversations, help_text = \$t\$$HELP_EN\$t\$, help_text_es = \$t\$$HELP_ES\$t\$) FROM orgs WHERE id = $ORG")" \
  "Bay Tenants Union,10,19,30,3,t,t" "stored"
assert_eq "$(sql "SELECT count(*) FROM audit_events WHERE org_id = $ORG AND action = 'org.settings'")" 1 "one audit event"
assert_eq "$(sql "SELECT concat_ws(',', details->'name'->>'old', details->'name'->>'new', details->'volunteer_max_conversations'->>'old', details->'volunteer_max_conversations'->>'new', coalesce(details->'release_after_minutes'->>'old', 'null'), details->'release_after_minutes'->>'new', user_id = (SELECT id FROM users WHERE email = 'admin@demo.test')) FROM audit_events WHERE action = 'org.settings'")" \
  "Tocsin Demo Chapter,Bay Tenants Union,25,3,null,30,t" "old and new values, and who"
assert_eq "$(call admin POST /api/settings '{"texting_hours_end":19}')" 200 "saving what is already there"
assert_eq "$(sql "SELECT count(*) FROM audit_events WHERE org_id = $ORG AND action = 'org.settings'")" 1 "audits nothing"
assert_eq "$(call admin POST /api/settings '{"help_text_es":"","release_after_minutes":""}')" 200 "back to the defaults"
assert_eq "$(sql "SELECT (help_text_es IS NULL)::text || ',' || (release_after_minutes IS NULL)::text FROM orgs WHERE id = $ORG")" "true,true" "cleared"
assert_eq "$(call admin POST /api/settings '{"release_after_minutes":30}')" 200 "the release time again"
# The HELP reply a member gets is the saved one.
assert_eq "$(sql "SELECT tocsin_consent_reply($ORG, 'help', 'en', ARRAY[]::text[])")" "$HELP_EN" "a member's HELP gets the saved reply"

# --- settings of another org ---
assert_eq "$(call other GET /api/settings)" 200 "another org's admin reads"
assert_eq "$(jq_ 'd.name')" "Other Org" "only its own org"
assert_eq "$(call other POST /api/settings '{"volunteer_max_conversations":7}')" 200 "and changes only its own"
assert_eq "$(sql "SELECT volunteer_max_conversations FROM orgs WHERE id = $ORG")" 3 "this org's cap untouched"

# --- the cap and the texting hours are used ---
for i in 1 2 3 4 5 6; do member_writes "+1415555020$i" "reply $i" >/dev/null; done
assert_eq "$(call vol1 POST /api/conversations/claim '{"count":50}')" 200 "a volunteer claims"
assert_eq "$(sql "SELECT count(*) FROM conversations WHERE assignee_id = (SELECT id FROM users WHERE email = 'vol1@demo.test') AND state = 'open'")" 3 "no more than the new cap"
assert_eq "$(call lead POST /api/outreach/campaigns "$(json name Doors sender_id "$SENDER" script 'Hi {first_name|there}!')")" 201 "a campaign"
CAMP=$(jq_ 'd.id')
assert_eq "$(jq_ 'd.hours_start + "-" + d.hours_end')" "10-19" "starts with the org's texting hours"
assert_eq "$(call lead POST /api/outreach/campaigns "$(json name Doors2 sender_id "$SENDER" script 'Hi!' hours_start 9 hours_end 12)")" 201 "a campaign with its own"
assert_eq "$(jq_ 'd.hours_start + "-" + d.hours_end')" "9-12" "keeps them"

# --- idle release: the org's own time wins over the dashboard's default ---
# The demo org now releases after 30 minutes; the dashboard's default is
# 4 s. One held conversation idle for a minute, one for 31 minutes: once
# the second is released, a tick has run over both.
V1=$(sql "SELECT id FROM users WHERE email = 'vol1@demo.test'")
HELD=$(sql "SELECT id FROM conversations WHERE assignee_id = $V1 LIMIT 1")
sql "UPDATE conversations SET assignee_active_at = now() - interval '1 minute' WHERE id = $HELD" >/dev/null
OC=$(sql "SELECT id FROM conversations WHERE org_id = $ORG AND assignee_id IS NULL AND state = 'open' LIMIT 1")
sql "UPDATE conversations SET assignee_id = $V1, assigned_at = now(), assignee_active_at = now() - interval '31 minutes' WHERE id = $OC" >/dev/null
wait_sql "SELECT assignee_id IS NULL FROM conversations WHERE id = $OC" t
assert_eq "$(sql "SELECT assignee_id IS NULL FROM conversations WHERE id = $OC")" t "idle past the org's 30 minutes: released"
assert_eq "$(sql "SELECT assignee_id FROM conversations WHERE id = $HELD")" "$V1" "idle 1 minute (past the 4 s default): still held"
assert_eq "$(sql "SELECT details->>'idle_seconds' FROM audit_events WHERE action = 'conversation.auto_release' AND subject_id = $OC")" 1800 "audited with the org's time"

# --- canned responses ---
canned() { json title "$1" body "$2" ${3:+campaign_id} ${3:+"$3"}; }
assert_eq "$(call vol1 POST /api/canned-responses "$(canned Hi 'Hello!')")" 403 "volunteers do not create"
assert_eq "$(call vol1 GET /api/canned-responses/all)" 403 "nor see retired ones"
assert_eq "$(call lead POST /api/canned-responses "$(canned Thanks 'Thank you for writing!')")" 201 "a lead creates one"
C1=$(jq_ 'd.id')
assert_eq "$(call lead POST /api/canned-responses "$(canned thanks 'Again')")" 409 "a second live one titled alike"
assert_eq "$(call lead POST /api/canned-responses "$(canned "$(head -c 101 /dev/zero | tr '\0' t)" x)")" 400 "an overlong title"
assert_contains "$(jq_ 'd.error.message')" title "names the title"
assert_eq "$(call lead POST /api/canned-responses "$(canned T "$(head -c 1601 /dev/zero | tr '\0' b)")")" 400 "an overlong body"
assert_contains "$(jq_ 'd.error.message')" body "names the body"
assert_eq "$(call lead POST /api/canned-responses '{"title":"T"}')" 400 "no body"
assert_eq "$(call lead POST /api/canned-responses "$(canned Doors 'See you at the door' "$CAMP")")" 201 "one for a campaign"
C2=$(jq_ 'd.id')
assert_eq "$(jq_ 'd.campaign')" Doors "names its campaign"
assert_eq "$(call other POST /api/canned-responses "$(canned X y "$CAMP")")" 400 "another org's campaign"
assert_contains "$(jq_ 'd.error.message')" campaign_id "names the field"
assert_eq "$(call lead POST /api/canned-responses '{"title":"X","body":"y","campaign_id":"1 OR 1=1"}')" 400 "a campaign id that is not one"
assert_eq "$(call vol1 GET /api/canned-responses)" 200 "volunteers' menu"
assert_eq "$(jq_ 'd.map((r) => r.title + ":" + (r.campaign || "")).join()')" "Thanks:,Doors:Doors" "org-wide and the campaign's"
assert_eq "$(call lead POST "/api/canned-responses/$C1" "$(json body 'Thanks so much!')")" 200 "edit"
assert_eq "$(sql "SELECT title || '|' || body FROM canned_responses WHERE id = $C1")" "Thanks|Thanks so much!" "edited, the title kept"
assert_eq "$(sql "SELECT details->'old'->>'body' || '|' || (details->'new'->>'body') FROM audit_events WHERE action = 'canned_response.update' AND subject_id = $C1")" \
  "Thank you for writing!|Thanks so much!" "the edit is audited with old and new"
assert_eq "$(call other POST "/api/canned-responses/$C1" "$(json body pwned)")" 404 "another org's lead: not found"
assert_eq "$(call other POST "/api/canned-responses/$C1/retire")" 404 "nor retired"
assert_eq "$(call other GET /api/canned-responses/all)" 200 "another org's list"
assert_eq "$(jq_ 'd.length')" 0 "holds none of these"
assert_eq "$(call lead POST /api/canned-responses/999999999/retire)" 404 "a missing one"
assert_eq "$(call lead POST "/api/canned-responses/$C1/retire")" 200 "retire"
assert_eq "$(call vol1 GET /api/canned-responses)" 200 "menu again"
assert_eq "$(jq_ 'd.map((r) => r.title).join()')" "Doors" "the retired one is gone from the menu"
assert_eq "$(call lead GET /api/canned-responses/all)" 200 "the lead's list"
assert_eq "$(jq_ 'd.filter((r) => r.retired_at).map((r) => r.title).join()')" "Thanks" "keeps it, retired"
assert_eq "$(call lead POST /api/canned-responses "$(canned Thanks 'New thanks')")" 201 "its title is free again"
assert_eq "$(call lead POST "/api/canned-responses/$C1/restore")" 409 "so restoring the old one would clash"
assert_eq "$(call lead POST "/api/outreach/campaigns/$CAMP" '{"state":"closed"}')" 200 "the campaign closes"
assert_eq "$(call vol1 GET /api/canned-responses)" 200 "menu"
assert_eq "$(jq_ 'd.map((r) => r.title).join()')" "Thanks" "a closed campaign's responses leave the menu"
assert_eq "$(sql "SELECT count(*) FROM audit_events WHERE action LIKE 'canned_response.%' AND org_id = $ORG")" 5 "creates, edit and retire audited"

# --- tags ---
assert_eq "$(call vol1 POST /api/tags '{"name":"x"}')" 403 "volunteers do not create tags"
assert_eq "$(call lead POST /api/tags '{"name":"needs ride"}')" 201 "a lead creates a tag"
T1=$(jq_ 'd.id')
assert_eq "$(call lead POST /api/tags '{"name":"Needs Ride"}')" 409 "the same name in another case"
assert_eq "$(call lead POST /api/tags "$(json name "$(head -c 65 /dev/zero | tr '\0' t)")")" 400 "an overlong name"
assert_contains "$(jq_ 'd.error.message')" name "names the field"
assert_eq "$(call lead POST /api/tags '{"name":""}')" 400 "an empty name"
assert_eq "$(call vol1 POST "/api/conversations/$HELD/tags" "{\"tag_id\":$T1}")" 200 "a volunteer tags her conversation"
assert_eq "$(call lead POST "/api/tags/$T1" '{"name":"needs a ride"}')" 200 "rename"
assert_eq "$(call other POST "/api/tags/$T1" '{"name":"pwned"}')" 404 "another org's lead: not found"
assert_eq "$(call other POST "/api/tags/$T1/retire")" 404 "nor retired"
assert_eq "$(call lead POST "/api/tags/$T1/retire")" 200 "retire"
assert_eq "$(call vol1 GET /api/tags)" 200 "the volunteers' menu"
assert_eq "$(jq_ 'd.some((t) => t.id === '"$T1"')')" false "the retired tag is not offered"
assert_eq "$(call vol1 GET "/api/conversations/$HELD")" 200 "the tagged conversation"
assert_eq "$(jq_ 'd.tags.map((t) => t.name).join()')" "needs a ride" "keeps its tag"
assert_eq "$(call vol1 POST "/api/conversations/$OC/tags" "{\"tag_id\":$T1}")" 404 "a retired tag cannot be added"
assert_eq "$(call lead GET /api/tags/all)" 200 "the lead's list"
assert_eq "$(jq_ 'd.find((t) => t.id === '"$T1"').conversations')" 1 "counts the conversations it is on"
assert_eq "$(call lead POST "/api/tags/$T1/restore")" 200 "restore"
assert_eq "$(call vol1 GET /api/tags)" 200 "menu"
assert_eq "$(jq_ 'd.some((t) => t.id === '"$T1"')')" true "offered again"
assert_eq "$(sql "SELECT string_agg(action, ',' ORDER BY id) FROM audit_events WHERE action LIKE 'tag.%' AND org_id = $ORG")" \
  "tag.create,tag.update,tag.retire,tag.restore" "every change audited"
echo "test_dashboard_settings: ok"
