#!/usr/bin/env bash
# Peer-to-peer outreach through the dashboard's API against a real
# tocsin-dashboard and PostgreSQL: a lead's campaign and audience upload
# (targets, never subscribers), two volunteers claiming at once without
# overlap, opted-out contacts never claimed nor texted, one initial message
# per request, texting hours (by the contact's zone, by the campaign's
# narrower hours, and at an injected clock), replies landing in the sending
# volunteer's conversation, answers and the next script, progress, CSV
# exports guarded against formulas, releasing batches, a disabled
# volunteer's conversations back to the pool, CSRF / roles on every
# outreach route, and sends paced to one per click (429 too_soon).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dashboard_lib.sh"
dash_setup TOCSIN_DASHBOARD_RELEASE_AFTER_S=0

# Zones where it is midday and night right now.
DAY=$(zone_at 12)
NIGHT=$(zone_at 3)

assert_eq "$(login vol1 vol1@demo.test)" 200 "volunteer 1 logs in"
assert_eq "$(login vol2 vol2@demo.test)" 200 "volunteer 2 logs in"
assert_eq "$(login lead lead@demo.test)" 200 "lead logs in"
V1=$(sql "SELECT id FROM users WHERE email = 'vol1@demo.test'")
V2=$(sql "SELECT id FROM users WHERE email = 'vol2@demo.test'")

# --- a lead's campaign ---
assert_eq "$(call vol1 POST /api/outreach/campaigns "{\"name\":\"x\",\"sender_id\":$SENDER,\"script\":\"hi\"}")" 403 \
  "a volunteer cannot create a campaign"
assert_eq "$(call lead POST /api/outreach/campaigns "{\"name\":\"Bad\",\"sender_id\":$SENDER,\"script\":\"Hi {first_name\"}")" 422 \
  "a script with a broken field is refused"
assert_eq "$(call lead POST /api/outreach/campaigns "{\"name\":\"Late\",\"sender_id\":$SENDER,\"script\":\"hi\",\"hours_end\":22}")" 422 \
  "a campaign may not text later than 21:00"
assert_eq "$(call lead POST /api/outreach/campaigns "{\"name\":\"Rally\",\"sender_id\":$SENDER,\"script\":\"Hi {first_name|friend}, rally Saturday?\",\"batch_size\":5}")" 201 \
  "lead creates a campaign"
CAMP=$(jq_ 'd.id')
assert_eq "$(jq_ '[d.hours_start, d.hours_end, d.state].join(" ")')" "8 21 draft" \
  "texting hours default to the compliance window; a new campaign is a draft"
assert_eq "$(call vol1 GET /api/outreach/campaigns)" 200 "a volunteer's campaign list"
assert_eq "$(jq_ 'd.some((c) => c.id === '"$CAMP"')')" false "does not show a draft"
assert_eq "$(call vol1 GET "/api/outreach/campaigns/$CAMP/next")" 404 "nor does her sending view"
assert_eq "$(call vol1 POST "/api/outreach/campaigns/$CAMP/claim")" 409 "and nobody can claim from it"

# --- the audience: targets of the campaign, subscribed to nothing ---
OPTED=+14155550100
sql "INSERT INTO opt_outs (org_id, phone, source) VALUES ($ORG, '$OPTED', 'keyword')" >/dev/null
csv="phone,first_name,timezone\n$OPTED,Oona,$DAY\n"
for i in $(seq 10 39); do csv+="+141555501$i,Name$i,$DAY\n"; done
csv+="+14155550140,Formula,$DAY\n"
csv+="not-a-number,Bad,$DAY\n"
assert_eq "$(call vol1 POST "/api/outreach/campaigns/$CAMP/audience" "{\"csv\":\"$csv\"}")" 403 "a volunteer cannot upload"
assert_eq "$(call lead POST "/api/outreach/campaigns/$CAMP/audience" "{\"csv\":\"$csv\",\"filename\":\"rally.csv\"}")" 200 \
  "lead uploads the audience"
assert_eq "$(jq_ '[d.imported, d.targeted, d.rejected, d.kept_opted_out].join(" ")')" "32 32 1 1" "upload report"
assert_eq "$(jq_ 'd.rejections[0].line')" 34 "the bad row is reported with its line"
assert_eq "$(sql "SELECT count(*) FROM outreach_targets WHERE campaign_id = $CAMP AND state = 'pending'")" 32 "32 pending targets"
assert_eq "$(sql "SELECT count(*) FROM subscriptions")" 0 "outreach contacts are subscribed to nothing (never in a blast)"
assert_eq "$(sql "SELECT count(*) FROM consent_events WHERE event = 'opt_in'")" 0 "and no consent is recorded for them"
assert_eq "$(sql "SELECT count(*) || ' ' || max(details->>'imported') FROM audit_events WHERE action = 'outreach.audience_import' AND user_id = (SELECT id FROM users WHERE email = 'lead@demo.test')")" \
  "1 32" "the upload is audited with its counts"
assert_eq "$(call lead POST "/api/outreach/campaigns/999999/audience" "{\"csv\":\"$csv\"}")" 422 "no such campaign: nothing imported"
# A file the import refuses is answered as every import answers it
# (api_import_answer): 400 import_failed with the reason and the report.
assert_eq "$(call lead POST "/api/outreach/campaigns/$CAMP/audience" '{"csv":"first_name\nAna\n"}')" 400 "an audience without a phone column"
assert_eq "$(jq_ 'd.error.code')" import_failed "refused as any import is"
assert_contains "$(jq_ 'd.error.message')" phone "says the phone column is missing"
assert_eq "$(jq_ '[d.report.imported, d.report.targeted].join(" ")')" "0 0" "with the report: nothing imported or targeted"
assert_eq "$(sql "SELECT count(*) FROM audit_events WHERE action = 'outreach.audience_import'")" 1 "a refused upload is not"
assert_eq "$(call lead POST "/api/outreach/campaigns/$CAMP" '{"state":"active"}')" 200 "the lead starts the campaign"
assert_eq "$(call vol1 GET /api/outreach/campaigns)" 200 "and volunteers"
assert_eq "$(jq_ 'd.some((c) => c.id === '"$CAMP"')')" true "see it"

# --- two volunteers claim at once: never the same contact ---
for i in 1 2 3 4; do
  for v in vol1 vol2; do
    curl -s -b "$TMP/$v.jar" -H "X-CSRF-Token: $(cat "$TMP/$v.csrf")" -X POST \
      "$DASH/api/outreach/campaigns/$CAMP/claim" >"$TMP/claim_${v}_$i" &
  done
done
for j in $(jobs -p); do [ "$j" = "$DASH_PID" ] || wait "$j"; done
total=$(node -e '
  const fs = require("fs");
  const n = process.argv.slice(1).map((f) => JSON.parse(fs.readFileSync(f, "utf8")).claimed);
  process.stdout.write(String(n.reduce((a, b) => a + b, 0)))' "$TMP"/claim_vol*)
assert_eq "$total" 10 "8 concurrent claims fill two batches of 5 and report 10 claims in all"
assert_eq "$(sql "SELECT string_agg(n::text, ' ' ORDER BY claimed_by) FROM (SELECT claimed_by, count(*) n FROM outreach_targets WHERE state = 'claimed' GROUP BY claimed_by) x")" "5 5" \
  "each volunteer holds exactly her batch"
assert_eq "$(sql "SELECT coalesce(sum((details->>'claimed')::int), 0) FROM audit_events WHERE action = 'outreach.claim'")" 10 \
  "claims audited, no contact counted twice"
assert_eq "$(sql "SELECT t.state FROM outreach_targets t JOIN contacts c ON c.id = t.contact_id WHERE c.phone = '$OPTED'")" pending \
  "the opted-out contact (first in line) was never claimed"

# --- the next contact, with the script filled in ---
assert_eq "$(call vol1 GET "/api/outreach/campaigns/$CAMP/next")" 200 "next contact"
C1=$(jq_ 'd.contact.id')
assert_eq "$(jq_ 'd.left')" 5 "five left in the batch"
assert_eq "$(jq_ 'd.contact.script')" "Hi $(sql "SELECT first_name FROM contacts WHERE id = $C1"), rally Saturday?" "the script is filled in"
assert_contains "$(jq_ 'd.contact.phone')" "•••" "volunteers see the last digits only"
assert_eq "$(sql "SELECT claimed_by FROM outreach_targets WHERE contact_id = $C1")" "$V1" "it is volunteer 1's"

# --- one message per request ---
msgs=$(sql "SELECT count(*) FROM messages")
for bad in "{\"contact_ids\":[$C1],\"body\":\"hi\"}" "{\"contact_id\":[$C1,$((C1 + 1))],\"body\":\"hi\"}" \
           "{\"contact_id\":$C1,\"body\":[\"hi\",\"again\"]}" "{\"contact_id\":$C1,\"body\":\"hi\",\"then\":{\"contact_id\":2}}" \
           "[{\"contact_id\":$C1,\"body\":\"hi\"},{\"contact_id\":$C1,\"body\":\"hi\"}]" "{\"contact_id\":$C1}"; do
  code=$(call vol1 POST "/api/outreach/campaigns/$CAMP/send" "$bad")
  assert_eq "$code" 400 "refused: $bad"
done
assert_eq "$(sql "SELECT count(*) FROM messages")" "$msgs" "nothing queued by the refused requests"
assert_eq "$(call vol1 POST "/api/outreach/campaigns/$CAMP/send" "{\"contact_id\":$C1,\"body\":\"Hi there, rally Saturday? (edited)\"}")" 201 \
  "one message for one contact"
CONV1=$(jq_ 'd.conversation_id')
MSG1=$(jq_ 'd.message_id')
assert_eq "$(jq_ 'd.left')" 4 "four left"
assert_eq "$(sql "SELECT purpose, lane, sent_by_user_id, body, encoding, segments, state FROM messages WHERE id = $MSG1")" \
  "outreach|conversational|$V1|Hi there, rally Saturday? (edited)|GSM-7|1|queued" "the message is queued, edited, with its sender"
assert_eq "$(sql "SELECT count(*) FROM messages WHERE validity_until IS NOT NULL AND id = $MSG1")" 1 "it expires when the texting hours end"
assert_eq "$(sql "SELECT assignee_id, state FROM conversations WHERE id = $CONV1")" "$V1|open" "the conversation is volunteer 1's"
assert_eq "$(sql "SELECT state, texted_by, message_id FROM outreach_targets WHERE contact_id = $C1")" "texted|$V1|$MSG1" "target texted"
assert_eq "$(sql "SELECT count(*) FROM audit_events WHERE action = 'outreach.send' AND user_id = $V1 AND subject_id = $MSG1")" 1 "the send is audited"
assert_eq "$(call vol1 GET "/api/conversations/$CONV1")" 200 "the conversation of the outreach text"
assert_eq "$(jq_ 'd.messages.filter((m) => m.id === '$MSG1').map((m) => [m.kind, m.source, m.state].join("|")).join()')" \
  "outreach|Rally|queued" "its thread marks the text as the campaign's outreach"
assert_eq "$(call vol1 POST "/api/outreach/campaigns/$CAMP/send" "{\"contact_id\":$C1,\"body\":\"again\"}")" 409 "never twice to the same contact"
C2=$(sql "SELECT contact_id FROM outreach_targets WHERE claimed_by = $V2 ORDER BY contact_id LIMIT 1")
assert_eq "$(call vol1 POST "/api/outreach/campaigns/$CAMP/send" "{\"contact_id\":$C2,\"body\":\"hi\"}")" 409 "not another volunteer's contact"
assert_eq "$(jq_ 'd.error.code')" not_claimed "refusal reason"

# --- opted out after the claim: refused, and gone from the batch ---
C3=$(sql "SELECT contact_id FROM outreach_targets WHERE claimed_by = $V1 ORDER BY contact_id LIMIT 1")
sql "INSERT INTO opt_outs (org_id, phone, source) SELECT $ORG, phone, 'keyword' FROM contacts WHERE id = $C3" >/dev/null
assert_eq "$(call vol1 POST "/api/outreach/campaigns/$CAMP/send" "{\"contact_id\":$C3,\"body\":\"hi\"}")" 409 "an opted-out contact is refused"
assert_eq "$(jq_ 'd.error.code')" opted_out "refusal reason"
call vol1 GET "/api/outreach/campaigns/$CAMP/next" >/dev/null
assert_eq "$(jq_ 'd.left')" 3 "and left out of the batch"
[ "$(jq_ 'd.contact.id')" != "$C3" ] || fail "the opted-out contact is offered"

# --- texting hours ---
C4=$(sql "SELECT contact_id FROM outreach_batch WHERE claimed_by = $V1 ORDER BY contact_id LIMIT 1")
sql "UPDATE contacts SET timezone = '$NIGHT' WHERE id = $C4" >/dev/null
assert_eq "$(call vol1 POST "/api/outreach/campaigns/$CAMP/send" "{\"contact_id\":$C4,\"body\":\"hi\"}")" 409 \
  "refused at night in the contact's zone ($NIGHT)"
assert_eq "$(jq_ 'd.error.code')" outside_hours "refusal reason"
assert_eq "$(sql "SELECT state, claimed_by, skipped_at IS NOT NULL FROM outreach_targets WHERE contact_id = $C4")" "claimed|$V1|t" \
  "the contact stays in the batch, moved to its end"
call vol1 GET "/api/outreach/campaigns/$CAMP/next" >/dev/null
[ "$(jq_ 'd.contact.id')" != "$C4" ] || fail "the skipped contact is offered first"
C5=$(jq_ 'd.contact.id')
assert_eq "$(call lead POST "/api/outreach/campaigns/$CAMP" '{"hours_start":8,"hours_end":9}')" 200 "lead narrows the hours"
assert_eq "$(call vol1 POST "/api/outreach/campaigns/$CAMP/send" "{\"contact_id\":$C5,\"body\":\"hi\"}")" 409 \
  "refused at midday when the campaign texts 08-09 only"
assert_eq "$(call lead POST "/api/outreach/campaigns/$CAMP" '{"hours_start":8,"hours_end":21}')" 200 "and widens them back"
# The clock is injectable: the same function at chosen instants.
sql "UPDATE contacts SET timezone = 'America/Chicago' WHERE id = $C4" >/dev/null
assert_eq "$(sql "SELECT status FROM tocsin_outreach_send($ORG, $V1, $CAMP, $C4, 'hi', 'GSM-7', 1, '2026-07-01 12:59:59Z')")" 409 \
  "07:59 in Chicago: refused"
assert_eq "$(sql "SELECT status FROM tocsin_outreach_send($ORG, $V1, $CAMP, $C4, 'hi', 'GSM-7', 1, '2026-07-02 02:00:00Z')")" 409 \
  "21:00 in Chicago: refused"
assert_eq "$(sql "SELECT status FROM tocsin_outreach_send($ORG, $V1, $CAMP, $C4, 'hi', 'GSM-7', 1, '2026-07-02 01:59:00Z')")" 201 \
  "20:59 in Chicago: sent"
sql "UPDATE contacts SET phone = '+13055550199', timezone = NULL WHERE id = $C5" >/dev/null
assert_eq "$(sql "SELECT status FROM tocsin_outreach_send($ORG, $V1, $CAMP, $C5, 'hi', 'GSM-7', 1, '2026-07-02 00:30:00Z')")" 409 \
  "20:30 in Miami: refused (Florida ends at 20:00)"

# --- skip ---
C6=$(sql "SELECT contact_id FROM outreach_batch WHERE claimed_by = $V1 AND skipped_at IS NULL ORDER BY contact_id LIMIT 1")
assert_eq "$(call vol1 POST "/api/outreach/campaigns/$CAMP/skip" "{\"contact_id\":$C6}")" 200 "skip"
assert_eq "$(call vol2 POST "/api/outreach/campaigns/$CAMP/skip" "{\"contact_id\":$C6}")" 404 "not someone else's contact"

# --- a reply lands in the sending volunteer's conversation ---
P1=$(sql "SELECT phone FROM contacts WHERE id = $C1")
reply_conv=$(member_writes "$P1" "Yes I'll come!")
assert_eq "$reply_conv" "$CONV1" "the reply joins the outreach conversation"
assert_eq "$(call vol1 GET /api/conversations)" 200 "volunteer 1's inbox"
assert_eq "$(jq_ 'd.find((c) => c.id === '"$CONV1"').last_message.body')" "Yes I'll come!" "the reply is in her inbox"
assert_eq "$(call vol2 GET "/api/conversations/$CONV1")" 404 "not in volunteer 2's"

# --- follow-up steps: the answer is recorded and the next script offered ---
assert_eq "$(call lead POST "/api/outreach/campaigns/$CAMP/steps" '{"question":"Coming Saturday?","choices":[{"label":"Yes","next_script":"Great, {first_name|friend}! Doors at 10."},{"label":"No"}]}')" 201 \
  "lead adds a step"
assert_eq "$(call lead POST "/api/outreach/campaigns/$CAMP/steps" '{"question":"Q","choices":"Yes"}')" 400 "choices must be a list"
assert_eq "$(call vol1 GET "/api/conversations/$CONV1/outreach")" 200 "the conversation's campaign"
assert_eq "$(jq_ 'd.campaign.steps[0].question')" "Coming Saturday?" "its question"
YES=$(jq_ 'd.campaign.steps[0].choices[0].id')
assert_eq "$(call vol2 POST "/api/conversations/$CONV1/outreach-answer" "{\"choice_id\":$YES}")" 404 "another volunteer cannot answer"
assert_eq "$(call vol1 POST "/api/conversations/$CONV1/outreach-answer" "{\"choice_id\":$YES}")" 200 "the volunteer records the answer"
assert_eq "$(jq_ 'd.next_script')" "Great, $(sql "SELECT first_name FROM contacts WHERE id = $C1")! Doors at 10." "the next script, filled in"
assert_eq "$(sql "SELECT count(*) FROM outreach_answers WHERE choice_id = $YES AND recorded_by = $V1")" 1 "recorded"
c_plain=$(member_writes +14155559999 "hello")
assert_eq "$(call lead GET "/api/conversations/$c_plain/outreach")" 200 "a conversation from no campaign"
assert_eq "$(cat "$TMP/out")" null "has no campaign"

# --- progress and exports ---
# A contact whose name is a formula answers too.
CX=$(sql "SELECT id FROM contacts WHERE phone = '+14155550140'")
sql "UPDATE contacts SET first_name = '=HYPERLINK(\"http://evil\")' WHERE id = $CX" >/dev/null
sql "UPDATE outreach_targets SET state = 'claimed', claimed_by = $V2 WHERE contact_id = $CX AND state = 'pending'" >/dev/null
assert_eq "$(sql "SELECT status FROM tocsin_outreach_send($ORG, $V2, $CAMP, $CX, 'hi', 'GSM-7', 1, now())")" 201 "volunteer 2 texts the formula contact"
CONVX=$(sql "SELECT conversation_id FROM outreach_targets WHERE contact_id = $CX")
assert_eq "$(sql "SELECT status FROM tocsin_outreach_answer($ORG, $V2, 'volunteer', $CONVX, $YES)")" 200 "and records an answer"
# STOP works as for subscribers: the number is opted out, one confirmation.
P4=$(sql "SELECT phone FROM contacts WHERE id = $C4")
assert_eq "$(sql "SELECT action FROM tocsin_receive_inbound('twilio', 'SMstop4', $SENDER, '$P4', 'STOP', 0, 'opt_out', NULL, false, 'You are unsubscribed.', 'GSM-7', 1)")" \
  opted_out "a texted contact replies STOP"
assert_eq "$(sql "SELECT count(*) FROM opt_outs WHERE phone = '$P4'")" 1 "and is opted out"
assert_eq "$(sql "SELECT count(*) FROM messages WHERE to_phone = '$P4' AND purpose = 'opt_out_confirmation'")" 1 "with one confirmation"
assert_eq "$(call lead GET "/api/outreach/campaigns/$CAMP")" 200 "progress"
assert_eq "$(jq_ '[d.progress.total, d.progress.texted, d.progress.replied, d.progress.opted_out].join(" ")')" "32 3 1 3" \
  "32 targets, 3 texted, 1 replied (STOP is not a reply), 3 opted out"
assert_eq "$(jq_ 'd.progress.answers[0].choices[0].count')" 2 "answers per question"
assert_eq "$(call vol1 GET "/api/outreach/campaigns/$CAMP/answers.csv")" 403 "volunteers cannot export"
code=$(curl -s -b "$TMP/lead.jar" -D "$TMP/h" -o "$TMP/answers.csv" -w '%{http_code}' "$DASH/api/outreach/campaigns/$CAMP/answers.csv")
assert_eq "$code" 200 "answers export"
assert_contains "$(cat "$TMP/h")" "text/csv" "served as CSV"
assert_contains "$(cat "$TMP/h")" "attachment" "as a download"
assert_eq "$(head -1 "$TMP/answers.csv" | tr -d '\r')" 'phone,first_name,last_name,question,answer,recorded_by,recorded_at' "header"
assert_eq "$(wc -l <"$TMP/answers.csv")" 3 "two answers"
assert_contains "$(cat "$TMP/answers.csv")" "'+14155550140,\"'=HYPERLINK(\"\"http://evil\"\")\"" "a formula is defused and quotes doubled"
# The rule every export shares (lib/csv_write), checked the way a
# spreadsheet reads the file: no formulas, phone numbers text with "+".
sheet_check() { # FILE: prints "formulas=N phones=K/M" (K of M phone cells are text with their "+")
  node -e 'const s = JSON.parse(process.argv[1]);
    const f = s.flat().filter((c) => c.type === "formula").length;
    const p = s.slice(1).map((r) => r[0]);
    const ok = p.filter((c) => c.type === "text" && /^\x27?\+1[0-9]{10}$/.test(c.shown)).length;
    process.stdout.write("formulas=" + f + " phones=" + ok + "/" + p.length)' \
    "$(node "$TOCSIN_SOURCE_DIR/tests/integration/spreadsheet_read.mjs" "$1")"
}
assert_eq "$(sheet_check "$TMP/answers.csv")" "formulas=0 phones=2/2" "answers open as text in a spreadsheet"
assert_eq "$(call lead GET "/api/outreach/campaigns/$CAMP/opt-outs.csv")" 200 "opt-outs export"
assert_contains "$(cat "$TMP/out")" "'$OPTED,Oona" "the opted-out contact is exported"
assert_eq "$(sheet_check "$TMP/out")" "formulas=0 phones=3/3" "opt-outs open as text in a spreadsheet"
assert_eq "$(wc -l <"$TMP/out")" 4 "header and three opt-outs"
assert_eq "$(sql "SELECT string_agg(action || ':' || (details->>'rows'), ',' ORDER BY id) FROM audit_events WHERE action LIKE 'outreach.export%'")" \
  "outreach.export_answers:2,outreach.export_opt_outs:3" "both exports audited with their row counts"

# --- a lead releases unsent batches ---
held2=$(sql "SELECT count(*) FROM outreach_targets WHERE claimed_by = $V2")
assert_eq "$(call vol1 POST "/api/outreach/campaigns/$CAMP/release" "{}")" 403 "a volunteer cannot release batches"
assert_eq "$(call lead POST "/api/outreach/campaigns/$CAMP/release" "{\"user_id\":$V2}")" 200 "lead releases volunteer 2's batch"
assert_eq "$(jq_ 'd.released')" "$held2" "all of it"
assert_eq "$(sql "SELECT count(*) FROM outreach_targets WHERE claimed_by = $V2")" 0 "nothing held by volunteer 2"
[ "$(sql "SELECT count(*) FROM outreach_targets WHERE claimed_by = $V1")" -gt 0 ] || fail "volunteer 1 keeps her batch"

# --- a disabled volunteer: her conversations back to the pool, her batch to pending ---
sql "UPDATE users SET disabled_at = now() WHERE id = $V1" >/dev/null
assert_eq "$(sql "SELECT count(*) FROM conversations WHERE assignee_id = $V1")" 0 "no conversation left with her"
assert_eq "$(sql "SELECT assignee_id IS NULL AND state = 'open' FROM conversations WHERE id = $CONV1")" t "hers is in the pool"
assert_eq "$(sql "SELECT count(*) FROM outreach_targets WHERE claimed_by = $V1")" 0 "her batch is pending again"
assert_eq "$(member_writes "$P1" "what time?")" "$CONV1" "a later reply waits in the pool conversation"
assert_eq "$(call lead GET /api/conversations/pool)" 200 "pool"
assert_eq "$(jq_ 'd.oldest.some((c) => c.id === '"$CONV1"')')" true "the lead sees it in the pool"
assert_eq "$(call vol1 GET /api/me)" 401 "and she is logged out"

# --- CSRF and roles on every outreach route ---
routes=$("$BIN/dashboard/tocsin-dashboard" --routes | awk '$2 ~ /outreach/ {print $1, $2, $3}')
[ "$(wc -l <<<"$routes")" -ge 16 ] || fail "could not read the outreach routes: $routes"
audits=$(sql "SELECT count(*) FROM audit_events")
msgs=$(sql "SELECT count(*) FROM messages")
while read -r method pattern role; do
  path=$(sed -e "s/campaigns\/:id/campaigns\/$CAMP/; s/conversations\/:id/conversations\/$CONVX/" <<<"$pattern")
  code=$(curl -s -o /dev/null -w '%{http_code}' -X "$method" "$DASH$path")
  assert_eq "$code" 401 "$method $pattern without a session"
  if [ "$method" != GET ]; then
    code=$(curl -s -o /dev/null -w '%{http_code}' -b "$TMP/vol2.jar" -X "$method" "$DASH$path" \
           -d "{\"contact_id\":$CX,\"body\":\"x\",\"name\":\"n\",\"choice_id\":$YES}")
    assert_eq "$code" 403 "$method $pattern without a CSRF token"
  fi
  if [ "$role" = lead ]; then
    code=$(call vol2 "$method" "$path" "{\"name\":\"n$RANDOM\",\"sender_id\":$SENDER,\"script\":\"x\",\"question\":\"q\",\"choices\":[{\"label\":\"a\"}],\"csv\":\"phone\\n+14155550177\\n\"}")
    assert_eq "$code" 403 "$method $pattern needs a lead"
  fi
done <<<"$routes"
assert_eq "$(sql "SELECT count(*) FROM audit_events")" "$audits" "refused requests changed nothing"
assert_eq "$(sql "SELECT count(*) FROM messages")" "$msgs" "refused requests sent nothing"

# --- one message per click: a send right after the previous one is refused ---
# A double click whose second click lands on the next contact reaches the
# server as two sends about 100 ms apart; the second is refused (429
# too_soon, TOCSIN_OUTREACH_MIN_SEND_INTERVAL_MS, 300 by default) and
# audited, and nothing is queued for it.
assert_eq "$(call vol2 POST "/api/outreach/campaigns/$CAMP/claim")" 200 "volunteer 2 claims a new batch"
read -r PA PB PC PD _ < <(sql "SELECT string_agg(contact_id::text, ' ' ORDER BY contact_id) FROM outreach_batch WHERE claimed_by = $V2 AND campaign_id = $CAMP AND timezone = '$DAY'")
[ -n "$PD" ] || fail "volunteer 2 should hold four contacts at least"
# send_pair seq|par NAME CONTACT1 OUT1 CONTACT2 OUT2: two sends by NAME from
# one curl process — one right after the other (seq: the second leaves as
# the first is answered, tens of ms later) or at the same instant (par) —
# so a loaded machine cannot spread them apart the way two forked clients
# were (two "simultaneous" sends once arrived more than 300 ms apart).
# Each status lands in OUT.code, each body in OUT.
send_pair() {
  local mode=$1 who=$2 par=() one=()
  [ "$mode" = par ] && par=(--parallel --parallel-immediate)
  one=(-s -b "$TMP/$who.jar" -H "X-CSRF-Token: $(cat "$TMP/$who.csrf")" -H 'Content-Type: application/json'
       -w '%{filename_effective} %{http_code}\n' -X POST)
  curl "${par[@]}" "${one[@]}" -o "$4" -d "{\"contact_id\":$3,\"body\":\"Rally Saturday?\"}" \
    "$DASH/api/outreach/campaigns/$CAMP/send" --next \
    "${one[@]}" -o "$6" -d "{\"contact_id\":$5,\"body\":\"Rally Saturday?\"}" \
    "$DASH/api/outreach/campaigns/$CAMP/send" |
    while read -r file code; do echo "$code" >"$file.code"; done
}
msgs=$(sql "SELECT count(*) FROM messages")
send_pair seq vol2 "$PA" "$TMP/pace1" "$PB" "$TMP/pace2"
assert_eq "$(cat "$TMP/pace1.code") $(cat "$TMP/pace2.code")" "201 429" "two sends in a row: the first goes, the second is refused"
assert_eq "$(node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1])).error.code)' "$TMP/pace2")" \
  too_soon "with a clear code"
assert_eq "$(sql "SELECT count(*) FROM messages")" "$((msgs + 1))" "one message queued, not two"
assert_eq "$(sql "SELECT state, claimed_by FROM outreach_targets WHERE contact_id = $PB")" "claimed|$V2" \
  "the second contact is still in her batch, untexted"
assert_eq "$(sql "SELECT count(*) FROM conversations WHERE contact_id = $PB")" 0 "and no conversation was opened for it"
assert_eq "$(sql "SELECT details->>'reason', details->>'contact_id', (details->>'gap_ms')::int < 300, user_id FROM audit_events WHERE action = 'outreach.send_refused'")" \
  "too_soon|$PB|t|$V2" "the refusal is audited"
sleep 0.4
assert_eq "$(call vol2 POST "/api/outreach/campaigns/$CAMP/send" "{\"contact_id\":$PB,\"body\":\"Rally Saturday?\"}")" 201 \
  "a deliberate send after the interval goes"
# Two sends at the same instant (two tabs): the per-volunteer lock lets one through.
sleep 0.4
send_pair par vol2 "$PC" "$TMP/pace3" "$PD" "$TMP/pace4"
assert_eq "$(printf '%s\n' "$(cat "$TMP/pace3.code")" "$(cat "$TMP/pace4.code")" | sort | xargs)" "201 429" \
  "two sends at once: exactly one goes ($(cat "$TMP/pace3" "$TMP/pace4"))"
# A refusal for another reason keeps its reason, even when soon.
assert_eq "$(call vol2 POST "/api/outreach/campaigns/$CAMP/send" "{\"contact_id\":$PB,\"body\":\"again\"}")" 409 \
  "a contact already texted is still a 409, however soon"
assert_eq "$(sql "SELECT count(*) FROM audit_events WHERE action = 'outreach.send_refused'")" 2 "two refusals audited in all"

# --- the lead's preview fills fields as the server does ---
# tests/unit/fields.test.mjs checks dashboard/static/fields.js on these cases.
CASES="$TOCSIN_SOURCE_DIR/tests/unit/fields_cases.json"
FC=$(sql "INSERT INTO contacts (org_id, phone, first_name, last_name, zip, fields)
          SELECT $ORG, '+14155550777', c->>'first_name', c->>'last_name', c->>'zip', jsonb_build_object('ward', c->>'ward')
            FROM (SELECT \$j\$$(node -e 'process.stdout.write(JSON.stringify(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).contact))' "$CASES")\$j\$::jsonb c) x
          RETURNING id")
rendered=0
while IFS=$'\t' read -r script want; do
  rendered=$((rendered + 1))
  assert_eq "$(sql "SELECT tocsin_blast_render(\$s\$$script\$s\$, $FC)")" "$want" "the server renders \"$script\" as the preview does"
done < <(node -e 'for (const [s, w] of JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).cases) console.log(s + "\t" + w)' "$CASES")
assert_eq "$rendered" 6 "every preview case was rendered by the server"

# --- the command line ---
CTL="$BIN/ops/tocsinctl"
out=$("$CTL" outreach create --org demo --name "GOTV" --sender 24680 --script "Hi {first_name|there}, vote Tuesday!" --batch-size 2)
assert_contains "$out" "created outreach campaign" "tocsinctl outreach create"
GOTV=${out##* }
assert_eq "$(sql "SELECT batch_size, hours_start, hours_end, created_by IS NULL FROM outreach_campaigns WHERE id = $GOTV")" "2|8|21|t" "with its settings"
set +e
"$CTL" outreach create --org demo --name "Late" --sender 24680 --script "x" --hours-end 23 2>/dev/null; code=$?
assert_eq "$code" 2 "later than 21:00 is refused (exit 2)"
"$CTL" outreach create --org demo --name "Braces" --sender 24680 --script "Hi {x" 2>"$TMP/err"; code=$?
assert_eq "$code" 2 "a broken field is refused (exit 2)"
assert_contains "$(cat "$TMP/err")" "braces are for fields only" "with the reason"
"$CTL" contacts import --org demo --list L --outreach "$GOTV" /dev/null 2>/dev/null; code=$?
assert_eq "$code" 2 "a list or a campaign, not both"
"$CTL" outreach status --org demo 999999 2>/dev/null; code=$?
assert_eq "$code" 1 "status of no such campaign"
set -e
printf 'phone,first_name\n+14155550501,Gus\n+14155550110,\n' >"$TMP/gotv.csv"
assert_contains "$("$CTL" contacts import --org demo --outreach "$GOTV" "$TMP/gotv.csv")" "targeted=2 outreach=$GOTV" "tocsinctl imports targets"
assert_eq "$(sql "SELECT count(*) FROM subscriptions")" 0 "still no subscription"
assert_eq "$("$CTL" outreach status --org demo "$GOTV")" "$GOTV draft \"GOTV\" pending=2 claimed=0 texted=0 replied=0 opted_out=0" \
  "tocsinctl outreach status"
assert_eq "$("$CTL" outreach status --org demo | wc -l)" 2 "one line per campaign"
echo "ok"
