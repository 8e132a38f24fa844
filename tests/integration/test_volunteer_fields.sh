#!/usr/bin/env bash
# Volunteers see less (issue 20): the org's privacy settings (an admin's
# only: who may read and change them, hostile values refused naming the
# field, changes audited with old and new values), and a hostile walk of
# every route `tocsin-dashboard --routes` lists, as a volunteer, with ids
# of her own conversation, campaign and tag in the paths: no answer —
# JSON, CSV or the live-event stream — may carry a member's full number
# or a field the org does not show volunteers (default: first name only),
# including an outreach script that asks for those fields. Then the admin
# shows one custom field, and only that one appears.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dashboard_lib.sh"
dash_setup
assert_eq "$(login vol1 vol1@demo.test)" 200 "volunteer logs in"
assert_eq "$(login lead lead@demo.test)" 200 "lead logs in"
assert_eq "$(login admin admin@demo.test)" 200 "admin logs in"
VOL=$(sql "SELECT id FROM users WHERE email = 'vol1@demo.test'")

# Ana writes; her conversation is vol1's. Otto is in vol1's outreach batch.
CONV=$(member_writes +14155550123 "hello from Ana")
sql "UPDATE conversations SET assignee_id = $VOL, assigned_at = now() WHERE id = $CONV;
     UPDATE contacts SET first_name = 'Ana', last_name = 'Hiddenlast', zip = '94110',
            fields = '{\"county\": \"Hiddencounty\", \"shirt\": \"Shownshirt\"}' WHERE phone = '+14155550123'" >/dev/null
TAG=$(sql "INSERT INTO tags (org_id, name) VALUES ($ORG, 'hot') RETURNING id")
CAMP=$(sql "INSERT INTO outreach_campaigns (org_id, name, sender_id, script, state)
            VALUES ($ORG, 'Drive', $SENDER, 'Hi {first_name} {last_name|friend} of {county|your county}, call {phone}', 'active') RETURNING id")
OTTO=$(sql "INSERT INTO contacts (org_id, phone, first_name, last_name, zip, timezone, fields)
            VALUES ($ORG, '+14155550188', 'Otto', 'Hiddenlast', '94110', '$(zone_at 12)', '{\"county\": \"Hiddencounty\"}') RETURNING id")
sql "INSERT INTO outreach_targets (org_id, campaign_id, contact_id, state, claimed_by, claimed_at)
     VALUES ($ORG, $CAMP, $OTTO, 'claimed', $VOL, now())" >/dev/null
sql "UPDATE users SET last_active_at = now() WHERE id = $VOL" >/dev/null

# --- the privacy settings: an admin's ---
assert_eq "$(call vol1 GET /api/settings/privacy)" 403 "volunteers do not read them"
assert_eq "$(call lead GET /api/settings/privacy)" 403 "leads do not read them"
assert_eq "$(call lead POST /api/settings/privacy '{"retain_outbound_days":30}')" 403 "leads do not change them"
assert_eq "$(call admin GET /api/settings/privacy)" 200 "the admin reads them"
assert_eq "$(jq_ '[d.retain_outbound_days, d.retain_inbound_days, d.retain_session_days, d.retain_audit_days, d.volunteer_fields.join("+"), d.consent_years, d.known_fields.join("+")].join()')" \
  "365,365,30,730,first_name,5,county+shirt" "the defaults, and the custom fields contacts carry"
before=$(sql "SELECT row(o.*)::text FROM orgs o WHERE id = $ORG")
bad() { # BODY FIELD WHAT
  assert_eq "$(call admin POST /api/settings/privacy "$1")" 400 "$3"
  assert_contains "$(jq_ 'd.error.message')" "$2" "$3: names $2"
}
bad '{"retain_outbound_days":29}' retain_outbound_days "bodies kept under 30 days"
bad '{"retain_outbound_days":3651}' retain_outbound_days "bodies kept over ten years"
bad '{"retain_inbound_days":"a year"}' retain_inbound_days "days that are not a number"
bad '{"retain_session_days":0}' retain_session_days "sessions kept 0 days"
bad '{"retain_audit_days":89}' retain_audit_days "audit kept under 90 days"
bad '{"retain_audit_days":99999999999}' retain_audit_days "days too big for an int"
bad '{"volunteer_fields":"first_name\nphone"}' "always masked" "the number as a shown field"
bad "{\"volunteer_fields\":\"$(head -c 65 /dev/zero | tr '\0' x)\"}" volunteer_fields "a 65-character field name"
bad "{\"volunteer_fields\":\"$(for i in $(seq 1 51); do printf 'f%s\\n' "$i"; done)\"}" volunteer_fields "51 fields"
bad '{"volunteer_fields":"a\u0007b"}' volunteer_fields "a control character"
assert_eq "$(sql "SELECT row(o.*)::text FROM orgs o WHERE id = $ORG")" "$before" "refused saves changed nothing"
assert_eq "$(sql "SELECT count(*) FROM audit_events WHERE action = 'org.privacy'")" 0 "and audited nothing"

# --- what her pages show of a member (before the walk sends or closes anything) ---
assert_eq "$(call vol1 GET "/api/conversations/$CONV")" 200 "her conversation"
assert_eq "$(jq_ '[d.contact.first_name, d.contact.last_name, d.contact.zip, JSON.stringify(d.contact.fields), d.contact.phone].join()')" \
  "Ana,,,{},•••0123" "first name and the masked number only"
assert_eq "$(call vol1 GET /api/conversations)" 200 "her inbox"
assert_eq "$(jq_ 'd.map((c) => [c.first_name, c.last_name, c.phone].join()).join()')" "Ana,,•••0123" "the inbox row"
assert_eq "$(call vol1 GET "/api/outreach/campaigns/$CAMP/next")" 200 "her outreach batch"
assert_eq "$(jq_ '[d.contact.first_name, d.contact.last_name, d.contact.phone, d.contact.script].join("|")')" \
  "Otto||•••0188|Hi Otto friend of your county, call •••0188" "the script takes the fallbacks of hidden fields"
# --- leak: the things a volunteer must never see ---
LEAKS=(4155550123 4155550188 555-0123 555-0188 Hiddenlast Hiddencounty 94110)
check_leaks() { # FILE WHAT
  local s
  for s in "${LEAKS[@]}"; do
    grep -qF -- "$s" "$1" && fail "$2: \"$s\" in: $(head -c 600 "$1")"
  done
  return 0
}

# The live-event stream, open while the walk runs.
curl -sN -b "$TMP/vol1.jar" "$DASH/api/events" >"$TMP/events" 2>/dev/null &
EVENTS_PID=$!
TEST_PIDS+=("$EVENTS_PID")

# --- the walk: every route, as the volunteer ---
id_for() { # PATH: the id its first :id stands for
  case $1 in
    /api/conversations/*) echo "$CONV" ;;
    /api/outreach/campaigns/*) echo "$CAMP" ;;
    /api/tags/*) echo "$TAG" ;;
    /api/users/*) echo "$VOL" ;;
    *) echo 1 ;;
  esac
}
BODY="{\"count\":5,\"body\":\"thanks\",\"tag_id\":$TAG,\"contact_id\":$OTTO,\"user_id\":$VOL,\"phone\":\"4155550123\",\"confirm\":\"FORGET\",\"question\":\"Coming?\",\"name\":\"x\"}"
# Walked last: they end her hold on the conversation or her session.
LAST='^(POST /api/conversations/:id/(release|close|opt-out)|POST /api/logout|POST /api/logout-everywhere|POST /api/sessions/:id/end)$'
walked=0
walk() { # METHOD PATH ROLE
  local method=$1 path=$2 role=$3 url status id
  [ "$path" = /api/events ] && return 0
  id=$(id_for "$path")
  url=${path/:id/$id}
  url=${url/:id/$TAG}
  if [ "$method" = GET ]; then status=$(call vol1 GET "$url"); else status=$(call vol1 "$method" "$url" "$BODY"); fi
  if [ "$role" != volunteer ]; then
    assert_eq "$status" 403 "$method $path is not a volunteer's"
  fi
  check_leaks "$TMP/out" "$method $path ($status)"
  walked=$((walked + 1))
}
ROUTES=$("$BIN/dashboard/tocsin-dashboard" --routes | awk '$4 == "session" {print $1, $2, $3}')
total=$(wc -l <<<"$ROUTES")
[ "$total" -ge 60 ] || fail "--routes lists only $total session routes"
while read -r method path role; do
  [[ "$method $path" =~ $LAST ]] && continue
  walk "$method" "$path" "$role"
done <<<"$ROUTES"
# A member writes while the stream is open: an event arrives, ids only.
member_writes +14155550123 "again" >/dev/null
wait_until 60 "a live event" grep -q '^data:' "$TMP/events"
check_leaks "$TMP/events" "the live-event stream"
while read -r method path role; do
  [[ "$method $path" =~ $LAST ]] || continue
  walk "$method" "$path" "$role"
done <<<"$ROUTES"
assert_eq "$walked" "$((total - 1))" "every session route but the stream was walked"

# --- the admin shows one custom field ---
assert_eq "$(call admin POST /api/settings/privacy '{"volunteer_fields":"First_Name\nshirt\n\nshirt","retain_outbound_days":"90"}')" 200 "the admin saves"
assert_eq "$(jq_ '[d.volunteer_fields.join("+"), d.retain_outbound_days].join()')" "first_name+shirt,90" "names trimmed, lower-cased, once each"
assert_eq "$(sql "SELECT concat_ws(',', details->'volunteer_fields'->>'old', details->'volunteer_fields'->>'new', details->'retain_outbound_days'->>'old', details->'retain_outbound_days'->>'new') FROM audit_events WHERE action = 'org.privacy'")" \
  '["first_name"],["first_name", "shirt"],365,90' "audited with old and new values"
assert_eq "$(login vol1 vol1@demo.test)" 200 "volunteer logs in again"
sql "UPDATE conversations SET assignee_id = $VOL, state = 'open' WHERE id = $CONV" >/dev/null
assert_eq "$(call vol1 GET "/api/conversations/$CONV")" 200 "her conversation again"
assert_eq "$(jq_ '[d.contact.first_name, d.contact.last_name, JSON.stringify(d.contact.fields)].join("|")')" \
  'Ana||{"shirt":"Shownshirt"}' "the shown field appears, the others do not"
check_leaks "$TMP/out" "after the change"
assert_eq "$(call lead GET "/api/conversations/$CONV")" 200 "a lead"
assert_eq "$(jq_ '[d.contact.last_name, d.contact.fields.county].join()')" "Hiddenlast,Hiddencounty" "sees every field"
# A text removed by retention shows as removed, not as an empty message.
sql "UPDATE inbound_messages SET body_chars = length(body), body = '', body_removed_at = now() WHERE conversation_id = $CONV AND body = 'hello from Ana'" >/dev/null
assert_eq "$(call lead GET "/api/conversations/$CONV")" 200 "the thread"
assert_eq "$(jq_ 'd.messages.filter((m) => m.removed).map((m) => m.direction + ":" + JSON.stringify(m.body)).join()')" 'inbound:""' \
  "the removed text is flagged"
echo ok
