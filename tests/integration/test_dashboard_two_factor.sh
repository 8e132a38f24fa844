#!/usr/bin/env bash
# Two-factor login (docs/accounts.md), with oathtool as the reference for
# the codes: an admin of an org that requires it is sent to enrolment
# after her password and can do nothing else; enrolment gives a secret,
# an otpauth URI and a QR code once, and ends with a code; then logins
# take two steps. Refused: a wrong code, a replayed one, one from two
# steps ago, a reused recovery code, every other route with the half
# session, more than 5 codes in one login, a brute force beyond the
# throttle (5, then one a minute), disabling without the password and a
# code, new recovery codes without a code; another org's user for an
# admin's reset. Also the org setting,
# tocsinctl's reset, and the sessions a person sees and ends.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dashboard_lib.sh"
command -v oathtool >/dev/null || fail "oathtool is not installed: run ops/install-deps"
dash_setup
CTL="$BIN/ops/tocsinctl"
assert_eq "$("$CTL" org set demo --require-two-factor on)" "org demo: require_two_factor=on" "tocsinctl turns the requirement on"
ADMIN=$(sql "SELECT id FROM users WHERE email = 'admin@demo.test'")
LEAD=$(sql "SELECT id FROM users WHERE email = 'lead@demo.test'")

# totp SECRET [OFFSET_STEPS]: oathtool's code for the step OFFSET from now.
totp() { oathtool --totp -b "$1" -N "@$(( $(date +%s) + 30 * ${2:-0} ))"; }
code_body() { echo "{\"code\":\"$1\"}"; }
err_code() { jq_ 'd.error.code'; }

# --- a volunteer is not asked; an admin must enrol ---
assert_eq "$(login v1 vol1@demo.test)" 200 "a volunteer logs in with her password alone"
assert_eq "$(login admin admin@demo.test)" 202 "the admin's password is right: 202"
assert_contains "$(tr -d ' ' < "$TMP/admin.login")" '"stage":"enrol"' "and she is to enrol"
assert_eq "$(call admin GET /api/me)" 200 "the half session says who she is"
assert_eq "$(jq_ 'd.stage')" enrol "and what is owed"
for route in "GET /api/conversations" "GET /api/people" "GET /api/events" "GET /api/sessions" \
             "POST /api/conversations/claim" "POST /api/logout-everywhere" "GET /api/two-factor"; do
  assert_eq "$(call admin $route '{}')" 401 "enrolment owed: $route refused"
  assert_eq "$(err_code)" two_factor_enrolment_required "and says why ($route)"
done
assert_eq "$(call admin POST /api/login/code "$(code_body 123456)")" 409 "no code is owed before enrolment"

# --- enrolment ---
assert_eq "$(call admin POST /api/two-factor/enrol)" 200 "enrolment begins"
SECRET=$(jq_ 'd.secret')
[[ "$SECRET" =~ ^[A-Z2-7]{32}$ ]] || fail "the secret is 32 base32 characters: $SECRET"
assert_contains "$(jq_ 'd.uri')" "otpauth://totp/Tocsin%20%28Tocsin%20Demo%20Chapter%29%3Aadmin%40demo.test?" "an otpauth URI naming the org and the account"
assert_contains "$(jq_ 'd.uri')" "secret=$SECRET&" "with the secret"
assert_eq "$(jq_ 'String(d.qr.modules.length === d.qr.size * d.qr.size && d.qr.size >= 21 && /^[01]+$/.test(d.qr.modules))')" true "and a QR code's modules"
assert_eq "$(sql "SELECT encode(secret, 'hex') FROM user_totp WHERE user_id = $ADMIN")" \
  "$(node -e '
    const a = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"; let bits = "";
    for (const c of process.argv[1]) bits += a.indexOf(c).toString(2).padStart(5, "0");
    process.stdout.write(bits.match(/.{8}/g).map((b) => parseInt(b, 2).toString(16).padStart(2, "0")).join(""));' "$SECRET")" \
  "the database keeps the same secret"
assert_eq "$(call admin POST /api/two-factor/enrol/confirm "$(code_body 000000)")" 401 "a wrong first code does not finish enrolment"
[ "$(totp "$SECRET")" != 000000 ] || fail "unlucky: the code was 000000"
assert_eq "$(call admin GET /api/conversations)" 401 "still nothing else"
assert_eq "$(call admin POST /api/two-factor/enrol/confirm "$(code_body "$(totp "$SECRET")")")" 200 "oathtool's code finishes enrolment"
assert_eq "$(jq_ 'd.stage')" full "the session is a full one now"
assert_eq "$(jq_ 'String(new Set(d.recovery_codes).size === 10 && d.recovery_codes.every((c) => /^[a-z2-7]{4}(-[a-z2-7]{4}){3}$/.test(c)))')" true "ten recovery codes"
jq_ 'd.recovery_codes.join("\n")' >"$TMP/recovery"
R1=$(sed -n 1p "$TMP/recovery"); R2=$(sed -n 2p "$TMP/recovery")
assert_eq "$(sql "SELECT count(*) FROM recovery_codes WHERE user_id = $ADMIN AND used_at IS NULL")" 10 "kept"
assert_eq "$(sql "SELECT count(*) FROM recovery_codes WHERE code_hash = sha256('$(echo "$R1" | tr -d -)'::bytea)")" 1 "hashed (SHA-256), not as typed"
assert_eq "$(sql "SELECT count(*) FROM recovery_codes WHERE encode(code_hash, 'escape') LIKE '%$(echo "$R1" | cut -c1-4)%'")" 0 "the code itself is stored nowhere"
assert_eq "$(call admin GET /api/conversations)" 200 "now she works"
assert_eq "$(call admin GET /api/two-factor)" 200 "her two-factor state"
assert_eq "$(jq_ 'JSON.stringify([d.enrolled, d.recovery_codes_left, d.required, "secret" in d])')" '[true,10,true,false]' "on, 10 codes left, required, no secret"
assert_eq "$(call admin POST /api/two-factor/enrol)" 409 "enrolling again is refused while it is on (the secret is never shown again)"
assert_eq "$(sql "SELECT count(*) FROM audit_events WHERE action = 'two_factor.enrol' AND user_id = $ADMIN")" 1 "enrolment audited"

# --- logging in: two steps ---
assert_eq "$(call admin POST /api/logout)" 200 "log out"
assert_eq "$(login admin admin@demo.test)" 202 "the password"
assert_contains "$(tr -d ' ' < "$TMP/admin.login")" '"stage":"code"' "then a code is owed"
for route in "GET /api/conversations" "GET /api/people" "GET /api/events" "POST /api/users/$LEAD/role" \
             "POST /api/two-factor/disable" "GET /api/sessions"; do
  assert_eq "$(call admin $route '{"role":"admin","password":"tocsin-demo","code":"123456"}')" 401 "code owed: $route refused"
  assert_eq "$(err_code)" two_factor_required "and says why ($route)"
done
assert_eq "$(call admin POST /api/two-factor/enrol)" 409 "nor can the half session enrol a new authenticator"
assert_eq "$(call admin POST /api/login/code '{"code":"12345"}')" 400 "five digits are not a code"
assert_eq "$(call admin POST /api/login/code '{"code":"000000"}')" 401 "a wrong code"
assert_eq "$(err_code)" invalid_code "is refused"
assert_eq "$(call admin POST /api/login/code "$(code_body "$(totp "$SECRET" -2)")")" 401 "a code from two steps ago is refused"
NEXT=$(totp "$SECRET" 1) PREV=$(totp "$SECRET")
assert_eq "$(call admin POST /api/login/code "$(code_body "$NEXT")")" 200 "the next step's code (within one step) logs her in"
assert_eq "$(jq_ 'd.stage')" full "a full session"
assert_eq "$(call admin GET /api/people)" 200 "which works"
assert_eq "$(sql "SELECT count(*) FROM audit_events WHERE action = 'session.login' AND user_id = $ADMIN AND details->>'factor' = 'totp'")" 1 "the login is audited with its factor"

# replay: the same code in a new login
assert_eq "$(login admin2 admin@demo.test)" 202 "a second login"
assert_eq "$(call admin2 POST /api/login/code "$(code_body "$NEXT")")" 401 "the code already used is refused (replay)"
assert_eq "$(call admin2 POST /api/login/code "$(code_body "$PREV")")" 401 "so is the step's before it"
# recovery codes
assert_eq "$(call admin2 POST /api/login/code "{\"recovery_code\":\"$(echo "$R1" | tr a-z A-Z)\"}")" 200 "a recovery code (any case) logs her in"
assert_eq "$(sql "SELECT count(*) FROM recovery_codes WHERE user_id = $ADMIN AND used_at IS NOT NULL")" 1 "and is used up"
assert_eq "$(sql "SELECT details->>'left' FROM audit_events WHERE action = 'two_factor.recovery_code_used' AND user_id = $ADMIN")" 9 "audited, with how many are left"
assert_eq "$(login admin3 admin@demo.test)" 202 "a third login"
assert_eq "$(call admin3 POST /api/login/code "{\"recovery_code\":\"$R1\"}")" 401 "the same recovery code again is refused"
assert_eq "$(call admin3 POST /api/login/code '{"recovery_code":"aaaa-bbbb-cccc-dddd"}')" 401 "a made-up one too"
# too many codes in one login: the half session ends
sql "UPDATE sessions SET factor_attempts = 5 WHERE user_id = $ADMIN AND stage = 'code'" >/dev/null
assert_eq "$(call admin3 POST /api/login/code "{\"recovery_code\":\"$R2\"}")" 401 "after 5 codes in one login, even a right one"
assert_eq "$(err_code)" too_many_codes "is refused: log in again"
assert_eq "$(call admin3 GET /api/me)" 401 "that half session is gone"
assert_eq "$(sql "SELECT count(*) FROM recovery_codes WHERE user_id = $ADMIN AND used_at IS NULL")" 9 "and the code was not spent"

# a half session does not outlive its few minutes, and never slides
assert_eq "$(login admin4 admin@demo.test)" 202 "a fourth login"
assert_eq "$(sql "SELECT expires_at <= now() + interval '600 seconds' AND expires_at > now() FROM sessions WHERE user_id = $ADMIN AND stage = 'code'")" t "the half session lives 10 minutes"
sql "UPDATE sessions SET created_at = now() - interval '11 minutes', expires_at = now() - interval '1 second' WHERE user_id = $ADMIN AND stage = 'code'" >/dev/null
assert_eq "$(call admin4 POST /api/login/code "{\"recovery_code\":\"$R2\"}")" 401 "an expired half session takes no code"
assert_eq "$(err_code)" unauthenticated "it is simply over"
R3=$(sed -n 3p "$TMP/recovery")
assert_eq "$(login admin6 admin@demo.test)" 202 "a fifth login"
assert_eq "$(call admin6 POST /api/login/code "{\"recovery_code\":\"$R3\"}")" 200 "a right code clears her throttle, as a right password does"

# brute force: 20 codes at once from one half session; the throttle lets 5 through
assert_eq "$(login lead lead@demo.test)" 202 "the lead's password"
assert_eq "$(call lead POST /api/two-factor/enrol)" 200 "she enrols"
LSECRET=$(jq_ 'd.secret')
assert_eq "$(call lead POST /api/two-factor/enrol/confirm "$(code_body "$(totp "$LSECRET")")")" 200 "with oathtool's code"
assert_eq "$(login lead2 lead@demo.test)" 202 "a new login"
for i in $(seq 1 20); do
  curl -s -b "$TMP/lead2.jar" -o /dev/null -w '%{http_code}\n' -X POST "$DASH/api/login/code" \
    -H "X-CSRF-Token: $(cat "$TMP/lead2.csrf")" -H 'Content-Type: application/json' \
    -d "{\"code\":\"$(printf '%06d' $((i * 7)))\"}" >"$TMP/brute.$i" &
done
wait_all() { local p; for p in $(jobs -p); do [[ " ${TEST_PIDS[*]} " == *" $p "* ]] || wait "$p"; done; }
wait_all
checked=$(cat "$TMP"/brute.* | grep -c '^401$' || true)
throttled=$(cat "$TMP"/brute.* | grep -c '^429$' || true)
[ "$checked" -le 5 ] || fail "20 parallel guesses: $checked were checked (at most 5 may be)"
assert_eq "$((checked + throttled))" 20 "every guess was refused (401) or throttled (429)"
[ "$throttled" -ge 15 ] || fail "at least 15 of 20 guesses throttled, got $throttled"
echo "20 parallel guesses: $checked checked, $throttled throttled"
assert_eq "$(call lead2 POST /api/login/code "$(code_body "$(totp "$LSECRET" 1)")")" 429 "the throttle holds the right code back too, for at most a minute"
grep -q 'Retry-After' <(curl -s -i -b "$TMP/lead2.jar" -X POST "$DASH/api/login/code" -H "X-CSRF-Token: $(cat "$TMP/lead2.csrf")" \
  -H 'Content-Type: application/json' -d '{"code":"111111"}') || fail "a throttled code says when to retry"

# --- turning it off: password and a code ---
assert_eq "$(call admin POST /api/two-factor/disable "{\"password\":\"tocsin-demo\"}")" 400 "the password alone is not enough"
assert_eq "$(call admin POST /api/two-factor/disable "{\"password\":\"wrong-password\",\"recovery_code\":\"$R2\"}")" 401 "a wrong password with a right code"
assert_eq "$(call admin POST /api/two-factor/disable "{\"password\":\"tocsin-demo\",\"code\":\"000000\"}")" 401 "a right password with a wrong code"
assert_eq "$(sql "SELECT count(*) FROM user_totp WHERE user_id = $ADMIN")" 1 "still on"
assert_eq "$(call admin POST /api/two-factor/disable "{\"password\":\"tocsin-demo\",\"recovery_code\":\"$R2\"}")" 200 "password and a recovery code turn it off"
assert_eq "$(jq_ 'd.stage')" enrol "and, as her org requires it, this session must enrol again"
assert_eq "$(sql "SELECT count(*) FROM user_totp WHERE user_id = $ADMIN")" 0 "the authenticator is gone"
assert_eq "$(call admin GET /api/people)" 401 "she can do nothing else"
assert_eq "$(call admin2 GET /api/me)" 401 "and her other sessions ended"
assert_eq "$(sql "SELECT count(*) FROM audit_events WHERE action = 'two_factor.disable' AND user_id = $ADMIN")" 1 "audited"

# --- an admin's reset; tocsinctl's; the org setting ---
assert_eq "$(call admin POST /api/two-factor/enrol)" 200 "the admin enrols again"
S2=$(jq_ 'd.secret')
[ "$S2" != "$SECRET" ] || fail "a new enrolment has a new secret"
assert_eq "$(call admin POST /api/two-factor/enrol/confirm "$(code_body "$(totp "$S2")")")" 200 "and confirms"
assert_eq "$(call v1 POST "/api/users/$LEAD/reset-two-factor")" 403 "a volunteer may not reset anyone's two-factor login"
OTHER=$(sql "WITH o AS (INSERT INTO orgs (slug, name) VALUES ('other', 'Other') RETURNING id)
  INSERT INTO users (org_id, email, role) SELECT id, 'x@other.test', 'admin' FROM o RETURNING id")
sql "INSERT INTO user_totp (user_id, org_id, secret, confirmed_at) SELECT id, org_id, '\\x3132333435363738393031323334353637383930', now() FROM users WHERE id = $OTHER" >/dev/null
assert_eq "$(call admin POST "/api/users/$OTHER/reset-two-factor")" 404 "another org's user is not found"
assert_eq "$(sql "SELECT count(*) FROM user_totp WHERE user_id = $OTHER")" 1 "and keeps her authenticator"
assert_eq "$(call admin POST "/api/users/$LEAD/reset-two-factor")" 200 "the admin resets the lead's"
assert_eq "$(sql "SELECT count(*) FROM user_totp WHERE user_id = $LEAD")/$(sql "SELECT count(*) FROM sessions WHERE user_id = $LEAD")" 0/0 "her authenticator and sessions are gone"
assert_eq "$(sql "SELECT count(*) FROM audit_events WHERE action = 'two_factor.reset' AND subject_id = $LEAD")" 1 "audited"
assert_eq "$("$CTL" user reset-two-factor --org demo --email admin@demo.test)" "reset two-factor login of admin@demo.test (1 session(s) ended)" "tocsinctl resets the admin's"
assert_eq "$(sql "SELECT count(*) FROM user_totp WHERE user_id = $ADMIN")" 0 "gone"

assert_eq "$(login admin admin@demo.test)" 202 "the admin logs in"
assert_eq "$(call admin POST /api/two-factor/enrol)" 200 "enrols"
S3=$(jq_ 'd.secret')
assert_eq "$(call admin POST /api/two-factor/enrol/confirm "$(code_body "$(totp "$S3")")")" 200 "confirms"
OLD1=$(jq_ 'd.recovery_codes[0]')
# new recovery codes for the old ones
assert_eq "$(call admin POST /api/two-factor/recovery-codes '{}')" 400 "new recovery codes need a code"
assert_eq "$(call admin POST /api/two-factor/recovery-codes "$(code_body 000000)")" 401 "a right one"
assert_eq "$(call admin POST /api/two-factor/recovery-codes "{\"recovery_code\":\"$OLD1\"}")" 200 "an old recovery code gets new ones"
NEW1=$(jq_ 'd.recovery_codes[0]')
assert_eq "$(jq_ 'String(d.recovery_codes.length)')" 10 "ten"
assert_eq "$(sql "SELECT count(*) FROM recovery_codes WHERE user_id = $ADMIN AND used_at IS NULL")" 10 "they replace the old ones"
assert_eq "$(sql "SELECT count(*) FROM recovery_codes WHERE user_id = $ADMIN AND used_at IS NULL AND code_hash = sha256('$(echo "$NEW1" | tr -d -)'::bytea)")" 1 "the new ones, hashed"
assert_eq "$(sql "SELECT count(*) FROM audit_events WHERE action = 'two_factor.recovery_codes_renewed' AND user_id = $ADMIN")" 1 "audited"
assert_eq "$(call lead POST /api/settings/two-factor '{"required":false}')" 401 "the lead's old session is gone"
assert_eq "$(login lead lead@demo.test)" 202 "the lead must enrol again"
assert_eq "$(call admin GET /api/settings/two-factor)" 200 "the org setting"
assert_eq "$(jq_ 'String(d.require_two_factor)')" true "is on by default"
assert_eq "$(call admin POST /api/settings/two-factor '{"required":"maybe"}')" 400 "only true or false"
assert_eq "$(call admin POST /api/settings/two-factor '{"required":false}')" 200 "the admin turns it off"
assert_eq "$(sql "SELECT details->'require_two_factor'->>'new' FROM audit_events WHERE action = 'org.settings' AND user_id = $ADMIN")" false "audited"
assert_eq "$(login lead lead@demo.test)" 200 "a lead without two-factor login now logs in with her password"
assert_eq "$(call lead POST /api/settings/two-factor '{"required":true}')" 403 "a lead may not change it"
assert_eq "$(login admin5 admin@demo.test)" 202 "one who has it on still gives a code"

# --- sessions: the list, ending one, log out everywhere else ---
assert_eq "$(login v1b vol1@demo.test)" 200 "volunteer 1, a second session"
UA='Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36'
assert_eq "$(curl -s -c "$TMP/v1c.jar" -o "$TMP/v1c.login" -w '%{http_code}' -A "$UA$(head -c 600 /dev/zero | tr '\0' x)" \
  -X POST "$DASH/api/login" -H 'Content-Type: application/json' -d '{"email":"vol1@demo.test","password":"tocsin-demo"}')" 200 "a third, from a phone, with an oversized User-Agent"
node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1])).csrf_token)' "$TMP/v1c.login" >"$TMP/v1c.csrf"
assert_eq "$(call v1 GET /api/sessions)" 200 "she lists her sessions"
assert_eq "$(jq_ 'String(d.sessions.length)')" 3 "three"
assert_eq "$(jq_ 'JSON.stringify(d.sessions.map((s) => s.current))')" '[true,false,false]' "this one first, marked"
assert_eq "$(jq_ 'd.sessions.find((s) => s.device === "Chrome on Android") ? "yes" : "no"')" yes "the phone's device, from its User-Agent"
assert_eq "$(jq_ 'String(Math.max(...d.sessions.map((s) => (s.user_agent || "").length)))')" 256 "a User-Agent is kept to 256 bytes"
assert_eq "$(jq_ 'String(d.sessions.every((s) => s.address === "127.0.0.1" && s.created_at && s.last_seen_at))')" true "address, created and last used"
PHONE_SESSION=$(jq_ 'String(d.sessions.find((s) => s.device === "Chrome on Android").id)')
open_stream v1c
assert_eq "$(call lead POST "/api/sessions/$PHONE_SESSION/end")" 404 "another user cannot end her session"
assert_eq "$(call v1 POST "/api/sessions/$PHONE_SESSION/end")" 200 "she ends the phone's session"
stream_closed "$stream_pid" "an ended session's live stream"
assert_eq "$(call v1c GET /api/me)" 401 "the phone is logged out"
assert_eq "$(sql "SELECT details->>'device' FROM audit_events WHERE action = 'session.end' AND subject_id = $PHONE_SESSION")" "Chrome on Android" "audited"
assert_eq "$(call v1 POST /api/logout-everywhere '{"keep_this":true}')" 200 "log out everywhere else"
assert_eq "$(jq_ 'String(d.logged_out)')" 1 "one other session ended"
assert_eq "$(call v1b GET /api/me)" 401 "the other one is out"
assert_eq "$(call v1 GET /api/me)" 200 "this one stays"
assert_eq "$(call admin5 GET /api/sessions)" 401 "(a half session lists nothing)"
echo PASS
