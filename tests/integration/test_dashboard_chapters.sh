#!/usr/bin/env bash
# Chapters (issue 19, schema 028) against a real tocsin-dashboard and
# PostgreSQL: a national org's admin lists its chapters, creates one and
# invites its first admin (the link works once), and acts in a chapter
# only after an explicit, audited step with a reason: the session is then
# scoped to the chapter for a bounded window, everything she does there is
# the chapter's (audited there by her acting account), and leaving is
# audited in both orgs. The hostile cases: a chapter admin against a
# sibling chapter and the national org, the national admin against chapter
# ids without entering, an expired window, a chapter admin locking the
# acting account out, a volunteer and a lead calling the chapter routes,
# event streams that outlive a change of org,
# another national org's chapters, and an invite token used twice.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dashboard_lib.sh"
dash_setup
CTL="$BIN/ops/tocsinctl"
"$CTL" org create nat --name "National Body" --national >/dev/null
NAT=$(sql "SELECT id FROM orgs WHERE slug = 'nat'")
assert_eq "$(sql "SELECT national FROM orgs WHERE id = $NAT")" t "tocsinctl org create --national"
rc=0; "$CTL" org create bad --name Bad --national --parent nat 2>"$TMP/err" || rc=$?
assert_eq "$rc" 2 "a chapter cannot be national"
"$CTL" org create rival --name "Rival Body" >/dev/null
"$CTL" org create rival-east --name "Rival East" --parent rival >/dev/null
# Their admins and leads log in with a password alone, as dash_setup's demo org.
no_two_factor nat; no_two_factor rival; no_two_factor rival-east
assert_eq "$(sql "SELECT national FROM orgs WHERE slug = 'rival'")" t "a parent becomes national"
rc=0; "$CTL" org create deep --name Deep --parent rival-east 2>"$TMP/err" || rc=$?
assert_eq "$rc" 1 "a chapter has no chapters"
assert_contains "$(cat "$TMP/err")" "is itself a chapter" "and says why"
RIVAL_EAST=$(sql "SELECT id FROM orgs WHERE slug = 'rival-east'")
for u in admin:admin lead:lead vol:volunteer; do
  echo "national password ${u%%:*}" | "$CTL" user add --org nat --email "${u%%:*}@nat.test" --role "${u#*:}" --password-stdin >/dev/null
done
echo "rival admin password" | "$CTL" user add --org rival --email admin@rival.test --role admin --password-stdin >/dev/null
# The demo org is one of nat's chapters, with a member's conversation.
sql "UPDATE orgs SET parent_org_id = $NAT WHERE id = $ORG" >/dev/null
CONV=$(member_writes +14155550901 "a demo member writes")
V1=$(sql "SELECT id FROM users WHERE email = 'vol1@demo.test'")
NADMIN=$(sql "SELECT id FROM users WHERE email = 'admin@nat.test'")
assert_eq "$(login nat admin@nat.test 'national password admin')" 200 "the national admin logs in"
assert_eq "$(login nlead lead@nat.test 'national password lead')" 200 "a national lead logs in"
assert_eq "$(login nvol vol@nat.test 'national password vol')" 200 "a national volunteer logs in"
assert_eq "$(login rival admin@rival.test 'rival admin password')" 200 "another national admin logs in"
assert_eq "$(login demo admin@demo.test)" 200 "the demo chapter's admin logs in"
audits() { sql "SELECT count(*) FROM audit_events WHERE action = '$1'"; }

# --- the list; who may call the chapter routes ---
assert_eq "$(call nat GET /api/me)" 200 "me"
assert_eq "$(jq_ 'd.national + " " + d.acting')" "true null" "a national admin, not acting"
assert_eq "$(call nat GET /api/chapters)" 200 "the national admin lists its chapters"
assert_eq "$(jq_ 'd.chapters.map((c) => c.slug).join()')" demo "its one chapter, no other national body's"
assert_eq "$(jq_ 'd.chapters[0].admins.map((a) => a.email).join()')" admin@demo.test "with its admins"
assert_eq "$(jq_ 'd.chapters[0].members + " " + d.chapters[0].senders')" "1 1" "members and senders counted"
for who in nlead nvol; do
  assert_eq "$(call $who GET /api/chapters)" 403 "$who: no chapters list"
  assert_eq "$(call $who POST /api/chapters '{"name":"X","slug":"x-'$who'"}')" 403 "$who: no chapter made"
  assert_eq "$(call $who POST "/api/chapters/$ORG/invites" '{"email":"z@z.test"}')" 403 "$who: no chapter invite"
  assert_eq "$(call $who POST "/api/chapters/$ORG/enter" '{"reason":"let me in"}')" 403 "$who: cannot enter"
done
assert_eq "$(call nvol POST /api/chapters/leave)" 200 "leaving with nothing to leave"
assert_eq "$(jq_ 'd.left')" false "changes nothing"
assert_eq "$(call demo GET /api/chapters)" 404 "a chapter's admin has no chapters"
assert_eq "$(call demo POST /api/chapters '{"name":"Sub","slug":"sub"}')" 404 "and makes none"

# --- create a chapter, invite its first admin ---
assert_eq "$(call nat POST /api/chapters '{"name":"East Chapter","slug":"Bad Slug!"}')" 400 "a slug that is not one"
assert_contains "$(jq_ 'd.error.message')" "lower-case letters" "says what a slug is"
assert_eq "$(call nat POST /api/chapters '{"name":"","slug":"east"}')" 400 "a chapter needs a name"
long_name=$(head -c 201 /dev/zero | tr '\0' n)
assert_eq "$(call nat POST /api/chapters "{\"name\":\"$long_name\",\"slug\":\"east\"}")" 400 "an oversized name"
long_slug=$(head -c 64 /dev/zero | tr '\0' s)
assert_eq "$(call nat POST /api/chapters "{\"name\":\"East\",\"slug\":\"$long_slug\"}")" 400 "an oversized short name"
assert_eq "$(sql "SELECT count(*) FROM orgs WHERE parent_org_id = $NAT")" 1 "no chapter made by a refused request"
assert_eq "$(call nat POST /api/chapters '{"name":"Again","slug":"demo"}')" 409 "a taken slug"
assert_eq "$(call nat POST /api/chapters '{"name":"East Chapter","slug":"east"}')" 201 "the national admin creates a chapter"
EAST=$(jq_ 'd.id')
assert_eq "$(sql "SELECT parent_org_id FROM orgs WHERE id = $EAST")" "$NAT" "under the national org"
assert_eq "$(sql "SELECT count(*) FROM audit_events WHERE action = 'chapter.create' AND org_id = $NAT AND user_id = $NADMIN AND subject_id = $EAST")" 1 "audited in the national org"
assert_eq "$(sql "SELECT details->>'national_user_id' FROM audit_events WHERE action = 'org.create' AND org_id = $EAST")" "$NADMIN" "and in the chapter"
assert_eq "$(call nat POST "/api/chapters/$EAST/invites" '{"email":"not an email"}')" 400 "an invite to an address that is not one"
assert_eq "$(call nat POST "/api/chapters/$EAST/invites" '{"email":"admin@demo.test"}')" 409 "an address that already has an account"
assert_eq "$(call nat POST "/api/chapters/$RIVAL_EAST/invites" '{"email":"spy@nat.test"}')" 404 "another national body's chapter"
assert_eq "$(call nat POST "/api/chapters/$NAT/invites" '{"email":"spy@nat.test"}')" 404 "its own org is no chapter"
assert_eq "$(call rival POST "/api/chapters/$EAST/invites" '{"email":"spy@rival.test"}')" 404 "nor is nat's chapter the rival's"
assert_eq "$(call nat POST "/api/chapters/$EAST/invites" '{"email":"first@east.test"}')" 201 "the first admin invited"
TOKEN=$(jq_ 'd.url.split("#token=")[1]')
[ ${#TOKEN} -ge 40 ] || fail "the link carries its token in the fragment: $(jq_ 'd.url')"
assert_eq "$(sql "SELECT org_id || ' ' || role FROM invites WHERE id = $(jq_ 'd.id')")" "$EAST admin" "an admin invite of the chapter"
assert_eq "$(sql "SELECT count(*) FROM audit_events WHERE (action, org_id) IN (('chapter.invite', $NAT), ('invite.create', $EAST))")" 2 "audited in both orgs"
accept() {
  curl -s -o "$TMP/out" -w '%{http_code}' -X POST "$DASH/api/invite/accept" -H 'Content-Type: application/json' \
    -d "{\"token\":\"$1\",\"display_name\":\"$2\",\"password\":\"$3\"}"
}
assert_eq "$(accept "$TOKEN" "East First" "east admin password")" 201 "she accepts"
sql "UPDATE orgs SET require_two_factor = false WHERE id = $EAST" >/dev/null  # a password alone, as for demo
assert_eq "$(accept "$TOKEN" "Intruder" "intruder password 1")" 404 "the link works once"
assert_eq "$(sql "SELECT count(*) FROM users WHERE display_name = 'Intruder'")" 0 "no second account"
assert_eq "$(login east first@east.test 'east admin password')" 200 "the chapter's admin logs in"
assert_eq "$(call east GET /api/me)" 200 "me"
assert_eq "$(jq_ 'd.user.org.slug + " " + d.user.role + " " + d.national')" "east admin false" "an admin of the chapter"
assert_eq "$(call nat GET /api/chapters)" 200 "the list again"
assert_eq "$(jq_ 'd.chapters.map((c) => c.slug + ":" + c.admins.length).join()')" "east:1,demo:1" "both chapters, by name, with their admins"
# Each chapter's phone region (schema 037), and the deployment's that
# those without one read numbers in.
assert_eq "$(jq_ 'd.chapters.map((c) => c.slug + ":" + c.phone_region).join() + " " + d.default_phone_region')" \
  "east:null,demo:null US" "no chapter has its own region yet; the default is named"
assert_contains "$("$CTL" org set demo --phone-region MX)" "phone_region=MX" "an operator gives demo its region"
assert_eq "$(call nat GET /api/chapters)" 200 "the list again"
assert_eq "$(jq_ 'd.chapters.map((c) => c.slug + ":" + c.phone_region).join()')" "east:null,demo:MX" "demo's region listed"
assert_eq "$(call rival GET /api/chapters)" 200 "the other national body's list"
[[ "$(cat "$TMP/out")" != *'"MX"'* && "$(jq_ 'd.chapters.map((c) => c.slug).join()')" != *demo* ]] \
  || fail "the other national body sees nat's chapter: $(cat "$TMP/out")"
for who in nlead nvol; do
  assert_eq "$(call $who GET /api/chapters)" 403 "$who: no regions either"
done
"$CTL" org set demo --phone-region default >/dev/null

# --- a chapter admin never reaches a sibling or the national org ---
assert_eq "$(call east GET "/api/conversations/$CONV")" 404 "a sibling chapter's conversation"
assert_eq "$(call east POST "/api/users/$V1/disable")" 404 "a sibling chapter's user"
assert_eq "$(call east POST "/api/users/$NADMIN/disable")" 404 "the national org's admin"
assert_eq "$(call east POST "/api/chapters/$ORG/enter" '{"reason":"curious about demo"}')" 404 "a chapter admin cannot enter a sibling"
assert_eq "$(call east GET /api/people)" 200 "her own people"
assert_eq "$(jq_ 'd.users.map((u) => u.email).join()')" first@east.test "only her chapter's"

# --- the national admin without entering: 404 on every chapter id ---
assert_eq "$(call nat GET "/api/conversations/$CONV")" 404 "a chapter's conversation"
assert_eq "$(call nat POST "/api/conversations/$CONV/assign" "{\"user_id\":$V1}")" 404 "assigning it"
assert_eq "$(call nat POST "/api/users/$V1/disable")" 404 "a chapter's user"
assert_eq "$(call nat GET /api/people)" 200 "her own people"
assert_eq "$(jq_ 'd.users.every((u) => u.email.endsWith("@nat.test"))')" true "only the national org's"

# --- entering: a reason, a window, both trails ---
assert_eq "$(call nat POST "/api/chapters/$ORG/enter" '{}')" 400 "no reason"
assert_contains "$(jq_ 'd.error.message')" "say why" "asks for one"
assert_eq "$(call nat POST "/api/chapters/$ORG/enter" '{"reason":"  x "}')" 400 "too short a reason"
assert_eq "$(call nat POST "/api/chapters/$ORG/enter" '{"reason":"help","minutes":1000}')" 400 "too long a window"
long=$(head -c 501 /dev/zero | tr '\0' r)
assert_eq "$(call nat POST "/api/chapters/$ORG/enter" "{\"reason\":\"$long\"}")" 400 "an oversized reason"
assert_eq "$(call nat POST "/api/chapters/$RIVAL_EAST/enter" '{"reason":"take a look"}')" 404 "another national body's chapter"
assert_eq "$(call rival POST "/api/chapters/$ORG/enter" '{"reason":"take a look"}')" 404 "the rival cannot enter nat's chapter"
assert_eq "$(audits chapter.enter) $(audits national.enter)" "0 0" "refused entries left no trace"
open_stream nat
assert_eq "$(call nat POST "/api/chapters/$ORG/enter" '{"reason":"help the demo chapter triage","minutes":30}')" 200 "she enters the demo chapter"
stream_closed "$stream_pid" "her open stream, scoped to her own org, closes on entering"
open_stream nat
member_writes +14155550901 "another line from the demo member" >/dev/null
wait_until 60 "the stream reopened in the chapter to hear its conversations" \
  grep -Eq "\"conversation_id\" *: *$CONV[ ,}]" "$TMP/sse_nat"
ACTING=$(sql "SELECT id FROM users WHERE org_id = $ORG AND national_user_id = $NADMIN")
[ -n "$ACTING" ] || fail "no acting account in the chapter"
assert_eq "$(sql "SELECT details->>'reason' FROM audit_events WHERE action = 'chapter.enter' AND org_id = $NAT AND user_id = $NADMIN AND subject_id = $ORG")" \
  "help the demo chapter triage" "audited with the reason in the national org"
assert_eq "$(sql "SELECT details->>'reason' FROM audit_events WHERE action = 'national.enter' AND org_id = $ORG AND user_id = $ACTING")" \
  "help the demo chapter triage" "and in the chapter"
assert_eq "$(sql "SELECT acting_until BETWEEN now() + interval '29 minutes' AND now() + interval '31 minutes' FROM sessions WHERE acting_org_id = $ORG")" t "for the window asked"
assert_eq "$(call nat GET /api/me)" 200 "me while acting"
assert_eq "$(jq_ 'd.acting.org.id + " " + d.acting.home + " " + d.user.org.slug + " " + d.user.role')" "$ORG National Body demo admin" "acting in the chapter, as an admin there"
assert_eq "$(call nat GET "/api/conversations/$CONV")" 200 "the chapter's conversation now"
assert_eq "$(call nat POST "/api/conversations/$CONV/assign" "{\"user_id\":$V1}")" 200 "she assigns it"
assert_eq "$(sql "SELECT org_id || ' ' || user_id FROM audit_events WHERE action = 'conversation.assign' AND subject_id = $CONV")" \
  "$ORG $ACTING" "audited in the chapter, by her acting account"
assert_eq "$(call nat GET /api/chapters)" 404 "no chapters list while acting (the chapter has none)"
assert_eq "$(call nat POST "/api/chapters/$EAST/enter" '{"reason":"hop over"}')" 409 "no hopping: leave first"
assert_eq "$(call nat GET /api/people)" 200 "the chapter's people"
assert_eq "$(jq_ 'd.users.filter((u) => u.national).map((u) => u.id).join()')" "$ACTING" "show her acting account"
assert_eq "$(call demo POST "/api/users/$ACTING/reset-password")" 409 "an acting account never gets a password"
assert_eq "$(call nat POST /api/chapters/leave)" 200 "she leaves"
assert_eq "$(jq_ 'd.left')" true "left"
stream_closed "$stream_pid" "the chapter's stream closes on leaving"
assert_eq "$(audits chapter.leave) $(audits national.leave)" "1 1" "leaving audited in both orgs"
assert_eq "$(call nat GET "/api/conversations/$CONV")" 404 "the chapter's data is out of reach again"
assert_eq "$(call nat GET /api/me)" 200 "me"
assert_eq "$(jq_ 'd.acting + " " + d.user.org.slug')" "null nat" "back home"

# --- the window ends by itself ---
assert_eq "$(call nat POST "/api/chapters/$ORG/enter" '{"reason":"second look"}')" 200 "she enters again"
assert_eq "$(sql "SELECT count(*) FROM users WHERE national_user_id = $NADMIN")" 1 "the same acting account"
sql "UPDATE sessions SET acting_until = now() - interval '1 second' WHERE acting_org_id = $ORG" >/dev/null
assert_eq "$(call nat GET "/api/conversations/$CONV")" 404 "an expired window reaches nothing"
assert_eq "$(call nat GET /api/me)" 200 "me"
assert_eq "$(jq_ 'd.acting + " " + d.user.org.slug')" "null nat" "home again when it ran out"
assert_eq "$(call nat POST /api/chapters/leave)" 200 "leaving an expired window"
assert_eq "$(sql "SELECT details->>'expired' FROM audit_events WHERE action = 'chapter.leave' ORDER BY id DESC LIMIT 1")" true "recorded as expired"

# --- a chapter admin locks the acting account out ---
assert_eq "$(call nat POST "/api/chapters/$ORG/enter" '{"reason":"third look"}')" 200 "she enters once more"
assert_eq "$(call nat GET "/api/conversations/$CONV")" 200 "in"
assert_eq "$(call demo POST "/api/users/$ACTING/disable")" 200 "the chapter's admin disables the acting account"
assert_eq "$(call nat GET "/api/conversations/$CONV")" 404 "she is out at once"
assert_eq "$(call nat GET /api/me)" 200 "her own session still works"
assert_eq "$(call nat POST /api/chapters/leave)" 200 "she leaves"

# --- a session that ends while acting leaves on the record ---
assert_eq "$(call demo POST "/api/users/$ACTING/enable")" 200 "the chapter's admin lets her in again"
assert_eq "$(call nat POST "/api/chapters/$ORG/enter" '{"reason":"last look"}')" 200 "she enters"
leaves=$(audits national.leave)
assert_eq "$(call nat POST /api/logout)" 200 "and logs out without leaving"
assert_eq "$(audits national.leave)" "$((leaves + 1))" "the chapter's record says she left"
assert_eq "$(sql "SELECT details->>'session_ended' FROM audit_events WHERE action = 'chapter.leave' AND org_id = $NAT ORDER BY id DESC LIMIT 1")" \
  true "as the session ended"

# --- the national admin's login is unaffected by her acting account ---
assert_eq "$(login nat admin@nat.test 'national password admin')" 200 "she logs in again by the shared email"
assert_eq "$(call nat GET /api/me)" 200 "me"
assert_eq "$(jq_ 'd.user.org.slug')" nat "as herself"
echo "PASS"
