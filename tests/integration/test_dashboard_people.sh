#!/usr/bin/env bash
# The People screen's API (issue 19) against a real tocsin-dashboard and
# PostgreSQL: an admin lists the org's users (role, last activity) and
# pending invites, invites with a chosen role and revokes the invite,
# changes a role (effective on the user's next request), disables (her
# sessions end, her conversations go back to the pool) and re-enables,
# and resets a password (the old one and her sessions end at once; the
# link, shown once, sets a new one; a newer link voids an older one).
# Each change is audited. Leads and volunteers are refused (403); another
# org's admin gets 404 for this org's ids, and an admin cannot change her
# own role or reset her own password here.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dashboard_lib.sh"
dash_setup
"$BIN/ops/tocsinctl" org create other --name "Other Org" >/dev/null
no_two_factor other  # as dash_setup does for demo
echo "other admin password" | "$BIN/ops/tocsinctl" user add --org other --email admin@other.test --role admin --password-stdin >/dev/null
assert_eq "$(login vol1 vol1@demo.test)" 200 "volunteer 1 logs in"
assert_eq "$(login vol2 vol2@demo.test)" 200 "volunteer 2 logs in"
assert_eq "$(login lead lead@demo.test)" 200 "lead logs in"
assert_eq "$(login admin admin@demo.test)" 200 "admin logs in"
assert_eq "$(login other admin@other.test 'other admin password')" 200 "another org's admin logs in"
V1=$(sql "SELECT id FROM users WHERE email = 'vol1@demo.test'")
V2=$(sql "SELECT id FROM users WHERE email = 'vol2@demo.test'")
ADMIN=$(sql "SELECT id FROM users WHERE email = 'admin@demo.test'")
audits() { sql "SELECT count(*) FROM audit_events WHERE action = '$1'"; }

# --- the list ---
assert_eq "$(call lead GET /api/people)" 403 "a lead does not manage people"
assert_eq "$(call vol1 GET /api/people)" 403 "nor does a volunteer"
assert_eq "$(call admin GET /api/people)" 200 "the admin lists the org's people"
assert_eq "$(jq_ 'd.users.map((u) => u.email).sort().join(",")')" \
  "$(sql "SELECT string_agg(email, ',' ORDER BY email) FROM users WHERE org_id = $ORG")" "every user of the org, no other"
assert_eq "$(jq_ 'd.users.find((u) => u.id === '"$V1"').last_active_at !== null')" true "last activity from her session"
assert_eq "$(call other GET /api/people)" 200 "the other org's list"
assert_eq "$(jq_ 'd.users.map((u) => u.email).join()')" "admin@other.test" "holds only its own"

# --- invite with a role, revoke ---
assert_eq "$(call admin POST /api/invites '{"email":"new.lead@demo.test","role":"lead"}')" 201 "invite a lead"
INV=$(jq_ 'd.id')
TOKEN=$(jq_ 'd.url.split("#token=")[1]')
[ ${#TOKEN} -ge 40 ] || fail "the link carries its token in the fragment: $(jq_ 'd.url')"
assert_eq "$(call admin GET /api/people)" 200 "the list again"
assert_eq "$(jq_ 'd.invites.map((i) => i.id + " " + i.email + " " + i.role).join()')" "$INV new.lead@demo.test lead" "the pending invite, its role"
assert_eq "$(jq_ 'JSON.stringify(d).includes("'"$TOKEN"'")')" false "the token is never listed again"
invites_before=$(sql "SELECT count(*) FROM invites")
assert_eq "$(call admin POST /api/invites '{"email":"x@demo.test","role":"owner"}')" 400 "a role that does not exist"
assert_contains "$(jq_ 'd.error.message')" "admin, lead or volunteer" "says which roles exist"
assert_eq "$(call admin POST /api/invites '{"email":"not an email","role":"lead"}')" 400 "an email that is not one"
assert_eq "$(sql "SELECT count(*) FROM invites")" "$invites_before" "no invite made for them"
assert_eq "$(call other POST "/api/invites/$INV/revoke")" 404 "another org's admin cannot revoke it"
assert_eq "$(call lead POST "/api/invites/$INV/revoke")" 403 "nor can a lead"
assert_eq "$(call admin POST "/api/invites/$INV/revoke")" 200 "the admin revokes it"
assert_eq "$(call admin POST "/api/invite/show" "{\"token\":\"$TOKEN\"}")" 404 "the revoked link no longer works"
assert_eq "$(call admin POST "/api/invites/$INV/revoke")" 404 "revoking twice: not found"
assert_eq "$(sql "SELECT details->>'email' FROM audit_events WHERE action = 'invite.revoke' AND subject_id = $INV")" \
  "new.lead@demo.test" "revoking audited"

# --- roles ---
assert_eq "$(call vol1 GET /api/people)" 403 "volunteer 1 is a volunteer"
assert_eq "$(call admin POST "/api/users/$V1/role" '{"role":"lead"}')" 200 "the admin makes her a lead"
assert_eq "$(call vol1 GET /api/conversations/pool)" 200 "effective on her next request"
assert_eq "$(sql "SELECT details::text FROM audit_events WHERE action = 'user.role' AND subject_id = $V1")" \
  '{"to": "lead", "from": "volunteer"}' "audited, from and to"
assert_eq "$(call admin POST "/api/users/$V1/role" '{"role":"volunteer"}')" 200 "and back"
assert_eq "$(call vol1 GET /api/conversations/pool)" 403 "a volunteer again"
assert_eq "$(call admin POST "/api/users/$V1/role" '{"role":"superuser"}')" 400 "a role that does not exist"
assert_eq "$(call admin POST "/api/users/$ADMIN/role" '{"role":"volunteer"}')" 409 "not her own role"
assert_eq "$(call other POST "/api/users/$V1/role" '{"role":"admin"}')" 404 "another org's admin: no such user"
assert_eq "$(call lead POST "/api/users/$V1/role" '{"role":"admin"}')" 403 "a lead cannot"
assert_eq "$(sql "SELECT role FROM users WHERE id = $V1")" volunteer "unchanged by the refused calls"
assert_eq "$(audits user.role)" 2 "only the two changes audited"

# --- disable, re-enable ---
CONV=$(member_writes +14155550901 "hi there")
assert_eq "$(call lead POST "/api/conversations/$CONV/assign" "{\"user_id\":$V2}")" 200 "a conversation for volunteer 2"
assert_eq "$(call admin POST "/api/users/$V2/disable")" 200 "the admin disables volunteer 2"
assert_eq "$(call vol2 GET /api/me)" 401 "her session ended at once"
assert_eq "$(sql "SELECT assignee_id IS NULL FROM conversations WHERE id = $CONV")" t "her conversation went back to the pool"
assert_eq "$(call admin GET /api/people)" 200 "the list"
assert_eq "$(jq_ 'd.users.find((u) => u.id === '"$V2"').disabled')" true "shows her disabled"
assert_eq "$(call admin POST "/api/users/$V2/enable")" 200 "re-enabled"
assert_eq "$(login vol2 vol2@demo.test)" 200 "she logs in again"

# --- reset a password ---
assert_eq "$(call lead POST "/api/users/$V1/reset-password")" 403 "a lead cannot reset a password"
assert_eq "$(call other POST "/api/users/$V1/reset-password")" 404 "another org's admin: no such user"
assert_eq "$(call admin POST "/api/users/$ADMIN/reset-password")" 409 "not her own"
assert_eq "$(call vol1 GET /api/me)" 200 "volunteer 1 still logged in"
assert_eq "$(call admin POST "/api/users/$V1/reset-password")" 201 "the admin resets volunteer 1's password"
OLD_TOKEN=$(jq_ 'd.url.split("#token=")[1]')
assert_eq "$(call vol1 GET /api/me)" 401 "her sessions ended"
assert_eq "$(login vol1 vol1@demo.test)" 401 "the old password no longer works"
assert_eq "$(call admin POST "/api/users/$V1/reset-password")" 201 "a second reset link"
TOKEN=$(jq_ 'd.url.split("#token=")[1]')
assert_eq "$(call admin POST /api/invite/show "{\"token\":\"$OLD_TOKEN\"}")" 404 "the first link is void"
assert_eq "$(call admin GET /api/people)" 200 "the list"
assert_eq "$(jq_ 'd.invites.filter((i) => i.user_id === '"$V1"').length')" 1 "one pending reset for her"
assert_eq "$(curl -s -o "$TMP/out" -w '%{http_code}' -X POST "$DASH/api/invite/show" -H 'Content-Type: application/json' -d "{\"token\":\"$TOKEN\"}")" 200 "the link opens"
assert_eq "$(jq_ 'd.reset + " " + d.email')" "true vol1@demo.test" "as a reset, for her"
users_before=$(sql "SELECT count(*) FROM users")
code=$(curl -s -o "$TMP/out" -w '%{http_code}' -X POST "$DASH/api/invite/accept" -H 'Content-Type: application/json' \
       -d "{\"token\":\"$TOKEN\",\"display_name\":\"\",\"password\":\"a brand new password\"}")
assert_eq "$code" 201 "she sets a new password"
assert_eq "$(sql "SELECT count(*) FROM users")" "$users_before" "no new user made"
assert_eq "$(login vol1 vol1@demo.test 'a brand new password')" 200 "she logs in with it"
assert_eq "$(sql "SELECT display_name <> '' FROM users WHERE id = $V1")" t "her name kept"
assert_eq "$(audits user.reset_password) $(audits user.password_set)" "2 1" "the resets and the new password audited"
assert_eq "$(call admin POST "/api/users/$V2/disable")" 200 "disable volunteer 2"
assert_eq "$(call admin POST "/api/users/$V2/reset-password")" 409 "a disabled user's password is not reset"
assert_eq "$(call admin POST /api/users/999999/role '{"role":"lead"}')" 404 "no such user"
echo "PASS"
