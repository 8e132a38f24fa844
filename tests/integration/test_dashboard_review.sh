#!/usr/bin/env bash
# A lead's Message review through the API (issue 19), against a real
# tocsin-dashboard and PostgreSQL: volunteers refused; every filter
# (campaign, tag, volunteer, state, flagged, date range, text search in
# the last message) and each one's 400 naming the field; keyset pages that
# stay exact while conversations arrive; bulk reassign and close all or
# nothing (another org's id reads as missing, closed ones refuse a move,
# the volunteer cap holds), each audited once with its ids and heard on
# the volunteers' live streams; an outreach answer corrected and cleared,
# audited with old and new; hostile input (overlong and wildcard searches,
# 10,000 ids). No assertion depends on the time of day.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dashboard_lib.sh"
dash_setup
assert_eq "$(login vol1 vol1@demo.test)" 200 "volunteer logs in"
assert_eq "$(login lead lead@demo.test)" 200 "lead logs in"
LEAD=$(sql "SELECT id FROM users WHERE email = 'lead@demo.test'")
V1=$(sql "SELECT id FROM users WHERE email = 'vol1@demo.test'")
V2=$(sql "SELECT id FROM users WHERE email = 'vol2@demo.test'")
audits() { sql "SELECT count(*) FROM audit_events WHERE org_id = $ORG"; }
state_of() { sql "SELECT string_agg(id || ':' || state || ':' || coalesce(assignee_id::text, '-'), ' ' ORDER BY id) FROM conversations"; }
ids_of() { jq_ 'd.conversations.map(c => c.id).join(" ")'; }

# --- the org's conversations, and one of another org ---
c1=$(member_writes +14155550101 "When is the rally?")
c2=$(member_writes +14155550102 "please STOP texting me" true)
c3=$(member_writes +14155550103 "100% yes, count me in")
c4=$(member_writes +14155550104 "my_name is Ana")
c5=$(member_writes +14155550105 "see you there")
c6=$(member_writes +14155550106 "what time?")
sql "UPDATE conversations SET assignee_id = $V1, assigned_at = now() WHERE id IN ($c1, $c2)" >/dev/null
sql "UPDATE conversations SET assignee_id = $V2, assigned_at = now() WHERE id = $c3" >/dev/null
sql "UPDATE conversations SET state = 'closed' WHERE id = $c6" >/dev/null
# Two in a fixed past week, one in the next: the date range never meets today.
sql "UPDATE conversations SET created_at = '2001-05-01 10:00Z', last_inbound_at = '2001-05-01 23:30Z' WHERE id = $c4;
     UPDATE conversations SET created_at = '2001-04-01 10:00Z', last_inbound_at = '2001-05-02 00:30Z' WHERE id = $c5;
     UPDATE conversations SET created_at = '2001-05-03 10:00Z', last_inbound_at = '2001-05-03 10:00Z' WHERE id = $c6" >/dev/null
TAG=$(sql "INSERT INTO tags (org_id, name) VALUES ($ORG, 'press') RETURNING id")
sql "INSERT INTO conversation_tags (org_id, conversation_id, tag_id) VALUES ($ORG, $c3, $TAG), ($ORG, $c6, $TAG)" >/dev/null
# An outreach campaign whose text opened c1's conversation, with one
# question answered No; that text is c1's newest message now, so its
# inbound body is not the last.
outreach_answered "$c1" "$V1" "Rally Saturday?"
C1_CONTACT=$CONTACT

"$BIN/ops/tocsinctl" org create other --name "Other Org" >/dev/null
no_two_factor other  # as dash_setup does for demo
OTHER=$(sql "SELECT id FROM orgs WHERE slug = 'other'")
OSENDER=$(sql "INSERT INTO senders (org_id, address, kind, provider, credentials_sealed, messages_per_second)
               VALUES ($OTHER, '+18005550199', 'toll_free', 'telnyx', 'x', 10) RETURNING id")
OCONTACT=$(sql "INSERT INTO contacts (org_id, phone) VALUES ($OTHER, '+14155550199') RETURNING id")
cx=$(sql "INSERT INTO conversations (org_id, contact_id, sender_id) VALUES ($OTHER, $OCONTACT, $OSENDER) RETURNING id")

# --- roles ---
for r in "GET /api/review/conversations" "POST /api/review/close" "POST /api/review/reassign" \
         "POST /api/review/conversations/$c1/answer"; do
  assert_eq "$(call vol1 ${r% *} "${r#* }" "{\"ids\":[$c1]}")" 403 "a volunteer may not: $r"
done
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "$DASH/api/review/conversations")" 401 "no session"

# --- the list: everything, open and closed, newest first, never another org's ---
assert_eq "$(call lead GET /api/review/conversations)" 200 "the lead lists"
assert_eq "$(ids_of)" "$c6 $c5 $c4 $c3 $c2 $c1" "open and closed, newest first, not another org's"
assert_eq "$(jq_ 'd.next')" "null" "one page"
assert_eq "$(jq_ 'd.conversations.find(c => c.id == '$c3').tags.map(t => t.name).join()')" press "rows carry their tags"
assert_eq "$(jq_ 'd.conversations.find(c => c.id == '$c1').campaign.name')" Rally "and their campaign"
assert_eq "$(jq_ 'd.conversations.find(c => c.id == '$c2').phone')" +14155550102 "a lead sees whole numbers"

# --- every filter ---
list() { # QUERY EXPECTED WHAT
  assert_eq "$(call lead GET "/api/review/conversations?$1")" 200 "$3"
  assert_eq "$(ids_of)" "$2" "$3"
}
list "campaign=$CAMP" "$c1" "by campaign"
list "tag=$TAG" "$c6 $c3" "by tag"
list "volunteer=$V1" "$c2 $c1" "by volunteer"
list "volunteer=none" "$c6 $c5 $c4" "unassigned"
list "state=closed" "$c6" "closed"
list "state=open" "$c5 $c4 $c3 $c2 $c1" "open"
list "flagged=true" "$c2" "flagged as likely opt-out"
list "flagged=false&state=open&volunteer=$V1" "$c1" "filters combine"
list "from=2001-05-01&to=2001-05-02" "$c5 $c4" "a date range of whole UTC days, by last activity"
list "from=2001-05-03" "$c6 $c3 $c2 $c1" "from a day on"
list "to=2001-05-01" "$c4" "up to a day"
list "q=WHEN" "" "the search reads the last message only (c1's is the outreach text now)"
list "q=saturday" "$c1" "case ignored"
list "q=100%25" "$c3" "a literal %"
list "q=%25" "$c3" "% alone matches only a %"
list "q=_" "$c4" "_ matches only an underscore"
list "q=my_name" "$c4" "an underscore inside a word"
list "q=%5C" "" "a backslash is literal too"
list "q=" "$c6 $c5 $c4 $c3 $c2 $c1" "an empty search is no filter"

# --- each filter refused naming itself, nothing read ---
bad() { # QUERY FIELD
  assert_eq "$(call lead GET "/api/review/conversations?$1")" 400 "$1 refused"
  assert_contains "$(jq_ 'd.error.message')" "$2" "$1: names $2"
}
bad "campaign=abc" campaign
bad "campaign=999999" campaign
bad "tag=-1" tag
bad "volunteer=x" volunteer
bad "state=archived" state
bad "flagged=yes" flagged
bad "from=2001-13-01" from
bad "from=yesterday" from
bad "to=2001-02-30" to
bad "from=2001-05-03&to=2001-05-01" to
bad "before=0" before
bad "limit=0" limit
bad "limit=101" limit
bad "limit=99999999999" limit
bad "q=$(head -c 101 /dev/zero | tr '\0' a)" q
bad "q=$(head -c 401 /dev/zero | tr '\0' a)" q
bad "q=%FF" q
bad "colour=red" colour
bad "state=open&state=closed" state
# Another org's ids read as ones that do not exist.
OTAG=$(sql "INSERT INTO tags (org_id, name) VALUES ($OTHER, 'theirs') RETURNING id")
bad "tag=$OTAG" tag

# --- keyset pages stay exact while conversations arrive ---
assert_eq "$(call lead GET '/api/review/conversations?limit=4')" 200 "page 1"
page1=$(ids_of)
next=$(jq_ 'd.next')
assert_eq "$page1" "$c6 $c5 $c4 $c3" "page 1 is the newest four"
assert_eq "$next" "$c3" "next is the last id shown"
n1=$(member_writes +14155550107 "a new arrival")
n2=$(member_writes +14155550108 "another")
assert_eq "$(call lead GET "/api/review/conversations?limit=4&before=$next")" 200 "page 2 after arrivals"
assert_eq "$(ids_of)" "$c2 $c1" "page 2: the rest, nothing repeated or skipped"
assert_eq "$(jq_ 'd.next')" "null" "the last page"
assert_eq "$(call lead GET '/api/review/conversations?limit=2')" 200 "a new first page"
assert_eq "$(ids_of)" "$n2 $n1" "starts with the arrivals"

# --- bulk close: all or nothing ---
a0=$(audits); s0=$(state_of)
assert_eq "$(call lead POST /api/review/close "{\"ids\":[$c4,$cx]}")" 404 "another org's id: refused as missing"
assert_contains "$(jq_ 'd.error.message')" "1 of the 2 conversations do not exist" "says how many"
[[ "$(cat "$TMP/out")" != *"$cx"* ]] || fail "the answer does not echo the other org's id"
assert_eq "$(call lead POST /api/review/close "{\"ids\":[$c4,99999999]}")" 404 "a missing id: refused"
assert_eq "$(call lead POST /api/review/close '{"ids":[]}')" 400 "no ids"
assert_contains "$(jq_ 'd.error.message')" "ids" "names ids"
assert_eq "$(call lead POST /api/review/close '{"ids":"1,2"}')" 400 "ids not a list"
assert_eq "$(call lead POST /api/review/close '{"ids":[1,"x"]}')" 400 "an id not a number"
assert_eq "$(call lead POST /api/review/close '{"ids":[1,-3]}')" 400 "a negative id"
big=$(node -e 'process.stdout.write(JSON.stringify({ids: Array.from({length: 10000}, (_, i) => i + 1)}))')
assert_eq "$(call lead POST /api/review/close "$big")" 400 "10,000 ids"
assert_contains "$(jq_ 'd.error.message')" "at most 500" "says the bound"
assert_eq "$(state_of)" "$s0" "refused closes changed nothing"
assert_eq "$(audits)" "$a0" "and audited nothing"

# Disabling volunteer 2 releases her conversations (010): give c3 back after.
sql "UPDATE users SET disabled_at = now() WHERE id = $V2" >/dev/null
assert_eq "$(call lead POST /api/review/reassign "{\"ids\":[$c4],\"user_id\":$V2}")" 400 "a disabled volunteer"
assert_contains "$(jq_ 'd.error.message')" user_id "names user_id"
sql "UPDATE users SET disabled_at = NULL WHERE id = $V2; UPDATE conversations SET assignee_id = $V2 WHERE id = $c3" >/dev/null
# Live streams: volunteer 1 hears of her conversations, volunteer 2 of hers.
curl -sN -b "$TMP/vol1.jar" --max-time 120 "$DASH/api/events" >"$TMP/sse_vol1" &
sse=$!
login vol2 vol2@demo.test >/dev/null
curl -sN -b "$TMP/vol2.jar" --max-time 120 "$DASH/api/events" >"$TMP/sse_vol2" &
sse2=$!
wait_until 60 "volunteer 1's stream to start" file_has "$TMP/sse_vol1" ready
wait_until 60 "volunteer 2's stream to start" file_has "$TMP/sse_vol2" ready

assert_eq "$(call lead POST /api/review/close "{\"ids\":[$c2,$c6,$c2]}")" 200 "the lead closes two (one twice in the list)"
assert_eq "$(jq_ '[d.closed, d.already_closed].join()')" "1,1" "one closed, one already was"
assert_eq "$(sql "SELECT state FROM conversations WHERE id = $c2")" closed "closed"
assert_eq "$(sql "SELECT count(*) FROM audit_events WHERE action = 'conversation.bulk_close'")" 1 "one audit row"
assert_eq "$(sql "SELECT concat_ws('|', user_id, details->>'ids', details->>'closed') FROM audit_events WHERE action = 'conversation.bulk_close'")" \
  "$LEAD|[$c2, $c6]|[$c2]" "naming the ids and those it closed"

# --- bulk reassign: assignee, closed ids, the cap, all or nothing ---
a0=$(audits); s0=$(state_of)
assert_eq "$(call lead POST /api/review/reassign "{\"ids\":[$c4,$c5]}")" 400 "nobody to take them"
assert_contains "$(jq_ 'd.error.message')" user_id "names user_id"
OADMIN=$(echo "other admin password" | "$BIN/ops/tocsinctl" user add --org other --email admin@other.test --role admin --password-stdin >/dev/null;
         sql "SELECT id FROM users WHERE email = 'admin@other.test'")
assert_eq "$(call lead POST /api/review/reassign "{\"ids\":[$c4],\"user_id\":$OADMIN}")" 400 "another org's user"
assert_eq "$(call lead POST /api/review/reassign "{\"ids\":[$c4,$cx],\"user_id\":$V1}")" 404 "another org's conversation"
assert_eq "$(call lead POST /api/review/reassign "{\"ids\":[$c4,$c2],\"user_id\":$V1}")" 409 "a closed one among them"
assert_contains "$(jq_ 'd.error.message')" "$c2" "names the closed one"
sql "UPDATE orgs SET volunteer_max_conversations = 3 WHERE id = $ORG" >/dev/null
# Volunteer 1 holds c1 (open); three more would make four.
assert_eq "$(call lead POST /api/review/reassign "{\"ids\":[$c1,$c3,$c4,$c5],\"user_id\":$V1}")" 409 "past her cap"
assert_eq "$(jq_ 'd.error.code')" over_cap "over_cap"
assert_contains "$(jq_ 'd.error.message')" "at most 3" "says the cap"
assert_eq "$(state_of)" "$s0" "refused moves changed nothing"
assert_eq "$(audits)" "$a0" "and audited nothing"
# Her own c1 in the list does not count twice: 1 + 2 = 3 fits.
assert_eq "$(call lead POST /api/review/reassign "{\"ids\":[$c1,$c3,$c4],\"user_id\":$V1}")" 200 "up to her cap"
assert_eq "$(jq_ 'd.moved')" 2 "two moved"
assert_eq "$(sql "SELECT string_agg(id::text, ' ' ORDER BY id) FROM conversations WHERE assignee_id = $V1 AND state = 'open'")" \
  "$c1 $c3 $c4" "hers now"
assert_eq "$(sql "SELECT count(*) FROM audit_events WHERE action = 'conversation.bulk_assign'")" 1 "one audit row"
assert_eq "$(sql "SELECT concat_ws('|', user_id, subject_id, details->>'ids', details->'from'->>'$c3', coalesce(details->'from'->>'$c4', 'none')) FROM audit_events WHERE action = 'conversation.bulk_assign'")" \
  "$LEAD|$V1|[$c1, $c3, $c4]|$V2|none" "naming the ids, the assignee and where each came from"
# Volunteer 2 learns who took c3, as after a single move (021).
assert_eq "$(call vol2 GET "/api/conversations/$c3/handoff")" 200 "volunteer 2 asks who took c3"
assert_eq "$(jq_ '[d.to, d.by].join()')" "Val Volunteer,Lee Lead" "the bulk move names who took it and who moved it"
assert_eq "$(call vol1 GET "/api/conversations/$c4/handoff")" 404 "c4 was nobody's before: no hand-off"
# A lead has no cap (as when she claims).
assert_eq "$(call lead POST /api/review/reassign "{\"ids\":[$c5,$n1,$n2],\"user_id\":$LEAD}")" 200 "a lead takes three"

wait_for() { wait_until 60 "event $2 in $1" file_has "$1" "$2"; } # FILE TEXT
wait_for "$TMP/sse_vol1" "{\"type\":\"closed\",\"conversation_id\":$c2}"
wait_for "$TMP/sse_vol1" "{\"type\":\"assigned\",\"conversation_id\":$c3}"
wait_for "$TMP/sse_vol1" "{\"type\":\"assigned\",\"conversation_id\":$c4}"
wait_for "$TMP/sse_vol2" "{\"type\":\"assigned\",\"conversation_id\":$c3}"
kill "$sse" "$sse2" 2>/dev/null || true
wait "$sse" "$sse2" 2>/dev/null || true
[[ "$(cat "$TMP/sse_vol2")" != *"\"conversation_id\":$c4}"* ]] || fail "volunteer 2 heard of a conversation never hers"

# --- correcting an outreach answer ---
a0=$(audits)
assert_eq "$(call lead POST "/api/review/conversations/$c1/answer" "{\"step_id\":$STEP,\"choice_id\":$YES}")" 200 "the lead corrects No to Yes"
assert_eq "$(sql "SELECT choice_id || '|' || recorded_by FROM outreach_answers WHERE contact_id = $C1_CONTACT AND step_id = $STEP")" "$YES|$LEAD" "recorded"
assert_eq "$(sql "SELECT concat_ws('|', user_id, subject_id, details->>'old_choice_id', details->>'new_choice_id', details->>'old_label', details->>'new_label') FROM audit_events WHERE action = 'outreach.answer_correct'")" \
  "$LEAD|$c1|$NO|$YES|No|Yes" "audited with old and new"
assert_eq "$(call lead POST "/api/review/conversations/$c1/answer" "{\"step_id\":$STEP,\"choice_id\":$YES}")" 200 "the same again"
assert_eq "$(jq_ 'd.changed')" false "changes nothing"
assert_eq "$(call lead POST "/api/review/conversations/$c1/answer" "{\"step_id\":$STEP,\"choice_id\":\"\"}")" 200 "cleared"
assert_eq "$(sql "SELECT count(*) FROM outreach_answers WHERE contact_id = $C1_CONTACT")" 0 "no answer left"
assert_eq "$(sql "SELECT coalesce(details->>'old_label', '') || '>' || coalesce(details->>'new_choice_id', 'null') FROM audit_events WHERE action = 'outreach.answer_correct' ORDER BY id DESC LIMIT 1")" \
  "Yes>null" "the clearing audited"
assert_eq "$(sql "SELECT count(*) FROM audit_events WHERE action = 'outreach.answer_correct'")" 2 "two corrections, two rows"
a1=$(audits)
assert_eq "$(call lead POST "/api/review/conversations/$c1/answer" "{\"step_id\":$STEP,\"choice_id\":99999}")" 400 "a choice of no such answer"
assert_contains "$(jq_ 'd.error.message')" choice_id "names choice_id"
assert_eq "$(call lead POST "/api/review/conversations/$c1/answer" "{\"choice_id\":$YES}")" 400 "no step"
assert_contains "$(jq_ 'd.error.message')" step_id "names step_id"
assert_eq "$(call lead POST "/api/review/conversations/$c1/answer" "{\"step_id\":\"x\",\"choice_id\":$YES}")" 400 "a step that is no id"
assert_eq "$(call lead POST "/api/review/conversations/$c3/answer" "{\"step_id\":$STEP,\"choice_id\":$YES}")" 404 "a conversation of no campaign"
assert_eq "$(call lead POST "/api/review/conversations/$cx/answer" "{\"step_id\":$STEP,\"choice_id\":$YES}")" 404 "another org's conversation"
assert_eq "$(audits)" "$a1" "refused corrections audited nothing"
echo "PASS test_dashboard_review"
