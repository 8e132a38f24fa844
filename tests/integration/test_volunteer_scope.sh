#!/usr/bin/env bash
# What one volunteer can hold and see: claiming from the pool stops at the
# org's cap (orgs.volunteer_max_conversations, default 25), also when her
# claims run at once; an outreach send never takes over a conversation
# assigned to another volunteer; and no answer a volunteer gets carries a
# member's full number (inbox, conversation, outreach script with {phone},
# next script after an answer) — she sees the last four digits. Leads keep
# the full number. Exports (full numbers) are closed to volunteers, and
# live events name conversations only.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dashboard_lib.sh"
dash_setup TOCSIN_DASHBOARD_RELEASE_AFTER_S=0

for i in $(seq 10 79); do member_writes "+141555501$i" "hello $i" >/dev/null; done
assert_eq "$(login vol1 vol1@demo.test)" 200 "volunteer 1 logs in"
assert_eq "$(login vol2 vol2@demo.test)" 200 "volunteer 2 logs in"
assert_eq "$(login lead lead@demo.test)" 200 "lead logs in"
V1=$(sql "SELECT id FROM users WHERE email = 'vol1@demo.test'")
V2=$(sql "SELECT id FROM users WHERE email = 'vol2@demo.test'")
DAY=$(zone_at 12)
held() { sql "SELECT count(*) FROM conversations WHERE assignee_id = $1 AND state = 'open'"; }

# --- the cap: 25 by default, whatever the count asked ---
assert_eq "$(call vol1 POST /api/conversations/claim '{"count":50}')" 200 "claim 50"
assert_eq "$(jq_ 'd.claimed.length')" 25 "a volunteer gets no more than the cap"
assert_eq "$(sql "SELECT volunteer_max_conversations FROM orgs WHERE id = $ORG")" 25 "the org setting's default"
assert_eq "$(jq_ '[d.held, d.cap].join(" ")')" "25 25" "the answer says what she holds and the cap"
assert_eq "$(call vol1 POST /api/conversations/claim '{"count":5}')" 200 "claim again at the cap"
assert_eq "$(jq_ 'd.claimed.length')" 0 "nothing more"
assert_eq "$(held "$V1")" 25 "25 held"

# --- parallel claims cannot pass it (the statement counts under a lock) ---
assert_eq "$("$BIN/ops/tocsinctl" org set demo --volunteer-max-conversations 12)" "org demo: volunteer_max_conversations=12" \
  "an operator sets the cap"
rc=0; "$BIN/ops/tocsinctl" org set demo --volunteer-max-conversations 0 2>/dev/null || rc=$?
assert_eq "$rc" 2 "a cap under 1 is a usage error"
for i in 1 2 3 4 5 6; do
  curl -s -b "$TMP/vol2.jar" -H "X-CSRF-Token: $(cat "$TMP/vol2.csrf")" -X POST "$DASH/api/conversations/claim" \
    -d '{"count":5}' >"$TMP/claim_$i" &
done
for j in $(jobs -p); do [ "$j" = "$DASH_PID" ] || wait "$j"; done
assert_eq "$(held "$V2")" 12 "six claims of 5 at once stop at a cap of 12"
# Lowering the cap takes nothing away; it only stops new claims.
assert_eq "$(call vol1 POST /api/conversations/claim '{"count":1}')" 200 "over a lowered cap"
assert_eq "$(jq_ 'd.claimed.length')" 0 "no new claim"
assert_eq "$(held "$V1")" 25 "and nothing released"
assert_eq "$(sql "UPDATE orgs SET volunteer_max_conversations = 0 WHERE id = $ORG" 2>&1 >/dev/null | grep -c violates)" 1 \
  "the cap is at least 1"

# --- no full number in what a volunteer sees ---
assert_eq "$(call lead POST /api/outreach/campaigns "{\"name\":\"Check\",\"sender_id\":$SENDER,\"script\":\"Hi {first_name|friend}, is {phone} still yours?\",\"batch_size\":5}")" 201 \
  "a campaign whose script uses {phone}"
CAMP=$(jq_ 'd.id')
assert_eq "$(call lead POST "/api/outreach/campaigns/$CAMP/steps" '{"question":"Right number?","choices":[{"label":"Yes","next_script":"Thanks! We have {phone}."}]}')" 201 \
  "a step whose next script uses {phone}"
csv="phone,first_name,timezone\n"
for i in $(seq 80 89); do csv+="+141555501$i,Name$i,$DAY\n"; done
assert_eq "$(call lead POST "/api/outreach/campaigns/$CAMP/audience" "{\"csv\":\"$csv\"}")" 200 "the audience"
assert_eq "$(call lead POST "/api/outreach/campaigns/$CAMP" '{"state":"active"}')" 200 "the lead starts it (a new campaign is a draft)"
assert_eq "$(call vol1 POST "/api/outreach/campaigns/$CAMP/claim")" 200 "volunteer 1 claims outreach targets"
assert_eq "$(call vol1 GET "/api/outreach/campaigns/$CAMP/next")" 200 "next"
C=$(jq_ 'd.contact.id')
PHONE=$(sql "SELECT phone FROM contacts WHERE id = $C")
script=$(jq_ 'd.contact.script')
assert_eq "$script" "Hi $(sql "SELECT first_name FROM contacts WHERE id = $C"), is •••${PHONE: -4} still yours?" \
  "{phone} in the script shows the last four digits to a volunteer"
[[ "$(cat "$TMP/out")" != *"$PHONE"* ]] || fail "the full number is in the volunteer's next: $(cat "$TMP/out")"
assert_eq "$(call vol1 POST "/api/outreach/campaigns/$CAMP/send" "{\"contact_id\":$C,\"body\":$(node -e 'process.stdout.write(JSON.stringify(process.argv[1]))' "$script")}")" 201 \
  "the filled-in script is sent"
CONV=$(jq_ 'd.conversation_id')
assert_eq "$(call vol1 GET "/api/conversations/$CONV/outreach")" 200 "the conversation's campaign"
YES=$(jq_ 'd.campaign.steps[0].choices[0].id')
assert_eq "$(call vol1 POST "/api/conversations/$CONV/outreach-answer" "{\"choice_id\":$YES}")" 200 "an answer"
assert_eq "$(jq_ 'd.next_script')" "Thanks! We have •••${PHONE: -4}." "the next script masks {phone} too"
# Every answer volunteer 1 can get, scanned for any full number of the org.
for path in /api/conversations "/api/conversations/$CONV" "/api/conversations/$CONV/outreach" \
            "/api/outreach/campaigns/$CAMP/next" /api/outreach/campaigns /api/me /api/canned-responses \
            /api/conversations/waiting; do
  assert_eq "$(call vol1 GET "$path")" 200 "GET $path"
  ! grep -qE '\+1[0-9]{10}' "$TMP/out" || fail "GET $path shows a volunteer a full number: $(grep -oE '\+1[0-9]{10}' "$TMP/out" | head -1)"
done
# Exports carry full numbers: none is open to a volunteer.
for path in "/api/outreach/campaigns/$CAMP/answers.csv" "/api/outreach/campaigns/$CAMP/opt-outs.csv" \
            "/api/lists/$(sql "SELECT min(id) FROM lists")/export"; do
  assert_eq "$(call vol1 GET "$path")" 403 "GET $path is refused to a volunteer"
done
# Live events name conversations only.
open_stream vol1
member_writes "$PHONE" "a reply for volunteer 1" >/dev/null
POOLED=$(member_writes +14155550777 "a new member, nobody's yet")
# Then a second reply of hers: events go out in order, so once its event
# is there the pooled conversation's would have been too.
member_writes "$PHONE" "another reply for volunteer 1" >/dev/null
replies_seen() { [ "$(grep -c "\"type\":\"message\",\"conversation_id\":$CONV}" "$TMP/sse_vol1")" -ge 2 ]; }
wait_until 60 "both replies' events to reach volunteer 1" replies_seen
# The pool's new conversation: her "N waiting" is stale, but no id.
wait_until 60 "volunteer 1 to hear the pool changed" grep -q "^event: waiting$" "$TMP/sse_vol1"
kill "$stream_pid"
! grep -q "\"conversation_id\":$POOLED[,}]" "$TMP/sse_vol1" || fail "a pooled conversation's id reached a volunteer: $(cat "$TMP/sse_vol1")"
! grep -A1 "^event: waiting$" "$TMP/sse_vol1" | grep '^data:' | grep -vqxE 'data: \{"waiting" ?: ?[0-9]+\}' ||
  fail "a waiting event carries more than the pool's size: $(cat "$TMP/sse_vol1")"
! grep -qE '\+1[0-9]{10}' "$TMP/sse_vol1" || fail "an event shows a full number: $(cat "$TMP/sse_vol1")"
first=$(sql "SELECT min(id) FROM conversations WHERE assignee_id = $V1 AND id <> $CONV")
assert_eq "$(call vol1 GET "/api/conversations/$first")" 200 "a claimed conversation"
assert_contains "$(jq_ 'd.contact.phone')" "•••" "masked in the conversation view"
# Leads keep the full number.
assert_eq "$(call lead GET "/api/conversations/$first")" 200 "the lead's view"
assert_eq "$(jq_ 'd.contact.phone')" "$(sql "SELECT ct.phone FROM conversations c JOIN contacts ct ON ct.id = c.contact_id WHERE c.id = $first")" \
  "a lead sees the full number"
assert_eq "$(call lead POST "/api/outreach/campaigns/$CAMP/claim")" 200 "a lead claims outreach targets"
assert_eq "$(call lead GET "/api/outreach/campaigns/$CAMP/next")" 200 "the lead's next"
LP=$(sql "SELECT phone FROM contacts WHERE id = $(jq_ 'd.contact.id')")
assert_eq "$(jq_ 'd.contact.phone')" "$LP" "a lead's next shows the full number"
assert_contains "$(jq_ 'd.contact.script')" "$LP" "and fills {phone} with it"

# --- an outreach send never takes over another volunteer's conversation ---
# Volunteer 2 is talking with a member who is also in volunteer 1's batch.
C2=$(sql "SELECT contact_id FROM outreach_targets WHERE claimed_by = $V1 AND state = 'claimed' ORDER BY contact_id LIMIT 1")
P2=$(sql "SELECT phone FROM contacts WHERE id = $C2")
conv2=$(member_writes "$P2" "who is this?")
sql "UPDATE conversations SET assignee_id = $V2, assigned_at = now() WHERE id = $conv2" >/dev/null
msgs=$(sql "SELECT count(*) FROM messages")
assert_eq "$(call vol1 POST "/api/outreach/campaigns/$CAMP/send" "{\"contact_id\":$C2,\"body\":\"Hi there\"}")" 409 \
  "refused: the member is in another volunteer's conversation"
assert_eq "$(jq_ 'd.error.code')" assigned_elsewhere "the refusal's code"
assert_eq "$(sql "SELECT assignee_id FROM conversations WHERE id = $conv2")" "$V2" "the conversation stays volunteer 2's"
assert_eq "$(sql "SELECT count(*) FROM messages")" "$msgs" "nothing queued"
assert_eq "$(sql "SELECT state || ' ' || claimed_by FROM outreach_targets WHERE campaign_id = $CAMP AND contact_id = $C2")" "claimed $V1" \
  "the contact stays in volunteer 1's batch"
# An unassigned (pool) conversation may still be taken by the send.
sql "UPDATE conversations SET assignee_id = NULL, assigned_at = NULL WHERE id = $conv2" >/dev/null
assert_eq "$(call vol1 POST "/api/outreach/campaigns/$CAMP/send" "{\"contact_id\":$C2,\"body\":\"Hi there\"}")" 201 "a pool conversation is taken"
assert_eq "$(sql "SELECT assignee_id FROM conversations WHERE id = $conv2")" "$V1" "now volunteer 1's"
echo "test_volunteer_scope: ok"
