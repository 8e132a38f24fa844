#!/usr/bin/env bash
# tocsinctl init: on an empty installation, the first org and an invite
# link for its first admin (no demo data); the link works in the
# dashboard (the admin sets her password and logs in) once; a second init
# is refused. With --national the org is a national body (Chapters).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dashboard_lib.sh"
fresh_db
CTL="$BIN/ops/tocsinctl"
# --national: the first org is a national body, whose admin runs its
# chapters from the dashboard. Then an empty installation again.
"$CTL" migrate >/dev/null
"$CTL" init nat --name "National Union" --admin-email first@nat.test --national >/dev/null
assert_eq "$(sql "SELECT national FROM orgs WHERE slug = 'nat'")" t "init --national"
fresh_db
"$CTL" migrate >/dev/null
DASH_PORT=$(free_port)
DASH="http://127.0.0.1:$DASH_PORT"
export TOCSIN_DASHBOARD_URL=$DASH

rc=0; "$CTL" init acme --name "Acme Union" 2>/dev/null || rc=$?
assert_eq "$rc" 2 "init without --admin-email is a usage error"
out=$("$CTL" init acme --name "Acme Union" --admin-email first@acme.test)
assert_contains "$out" "created org acme" "the org is created"
url=$(echo "$out" | grep -o "$DASH/#token=[A-Za-z0-9_-]*")
[ -n "$url" ] || fail "no invite link in: $out"
token=${url##*#token=}
assert_eq "$(sql "SELECT count(*) FROM orgs")" 1 "one org"
assert_eq "$(sql "SELECT national FROM orgs")" f "not a national body unless asked"
assert_eq "$(sql "SELECT count(*) FROM users")" 0 "no user before the invite is accepted"
assert_eq "$(sql "SELECT count(*) FROM senders") $(sql "SELECT count(*) FROM keywords")" "0 0" "no demo data"
assert_eq "$(sql "SELECT role || ' ' || email || ' ' || (encode(token_hash, 'hex') = encode(sha256('$token'::bytea), 'hex')) FROM invites")" \
  "admin first@acme.test true" "an admin invite, only the token's hash stored"

rc=0; out=$("$CTL" init other --name Other --admin-email x@other.test 2>&1) || rc=$?
assert_eq "$rc" 1 "a second init fails"
assert_contains "$out" "already has an organisation" "and says why"
assert_eq "$(sql "SELECT count(*) FROM orgs")" 1 "nothing added"

env TOCSIN_DASHBOARD_PORT="$DASH_PORT" \
  "$TOCSIN_SOURCE_DIR/ops/daemon-exec" dashboard "$BIN/dashboard/tocsin-dashboard" >"$TMP/dashboard.log" 2>&1 &
TEST_PIDS+=($!)
wait_http "$DASH/healthz"
code=$(curl -s -o "$TMP/out" -w '%{http_code}' -X POST "$DASH/api/invite/show" -H 'Content-Type: application/json' \
  -d "{\"token\":\"$token\"}")
assert_eq "$code" 200 "the dashboard shows the invite"
assert_contains "$(tr -d ' ' < "$TMP/out")" '"role":"admin"' "as an admin's"
code=$(curl -s -o "$TMP/out" -w '%{http_code}' -X POST "$DASH/api/invite/accept" -H 'Content-Type: application/json' \
  -d "{\"token\":\"$token\",\"password\":\"a long first password\",\"display_name\":\"First Admin\"}")
assert_eq "$code" 201 "the admin accepts it"
# A new org requires two-factor login for admins (schema 030): the
# password is right, and the next step is enrolment.
assert_eq "$(login first first@acme.test 'a long first password')" 202 "and logs in with the password"
assert_contains "$(tr -d ' ' < "$TMP/first.login")" '"stage":"enrol"' "and is asked to set up two-factor login"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$DASH/api/invite/accept" -H 'Content-Type: application/json' \
  -d "{\"token\":\"$token\",\"password\":\"another password here\"}")
[ "$code" != 201 ] || fail "the invite worked twice"
assert_eq "$(call first GET /api/chapters)" 401 "the half-logged-in admin reaches nothing else"
no_two_factor acme
assert_eq "$(login first first@acme.test 'a long first password')" 200 "without the requirement, the password alone logs her in"
assert_eq "$(call first GET /api/chapters)" 404 "an org that is not national has no Chapters"
echo PASS
