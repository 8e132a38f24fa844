#!/usr/bin/env bash
# A national admin acting in a chapter (schema 028) and the account
# routes: her sessions and two-factor login are her own account's, never
# the acting account's. Reading her two-factor state, listing and ending
# her sessions and "log out everywhere (else)" act on her own account and
# are audited in her own org (API_OWN); enrolling, confirming, turning
# off two-factor login and new recovery codes are refused while she acts
# (409 acting_in_chapter). The acting account never gets an authenticator,
# recovery codes or a session, even from a statement that reached the
# database with its id, nor through the chapter's single sign-on. The
# hostile cases: every account route called while acting; a chapter admin
# ending the national admin's session, resetting the acting account's
# two-factor login, or ending its sessions (its visits end, her session
# in her own org does not); the window running out while a request waits
# in the database.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dashboard_lib.sh"
command -v oathtool >/dev/null || fail "oathtool is not installed: run ops/install-deps"
dash_setup
CTL="$BIN/ops/tocsinctl"
"$CTL" org create nat --name "National Body" --national >/dev/null
no_two_factor nat
NAT=$(sql "SELECT id FROM orgs WHERE slug = 'nat'")
echo "national password" | "$CTL" user add --org nat --email admin@nat.test --role admin --password-stdin >/dev/null
NADMIN=$(sql "SELECT id FROM users WHERE email = 'admin@nat.test'")
sql "UPDATE orgs SET parent_org_id = $NAT WHERE id = $ORG" >/dev/null # demo is nat's chapter
totp() { oathtool --totp -b "$1" -N "@$(( $(date +%s) + 30 * ${2:-0} ))"; }
err_code() { jq_ 'd.error.code'; }
session_of() { sql "SELECT id FROM sessions WHERE user_id = $NADMIN ORDER BY id DESC LIMIT 1"; }

assert_eq "$(login nat admin@nat.test 'national password')" 200 "the national admin logs in"
S_NAT=$(session_of)
assert_eq "$(login demo admin@demo.test)" 200 "the chapter's admin logs in"

# --- at home she turns two-factor login on ---
assert_eq "$(call nat POST /api/two-factor/enrol)" 200 "she enrols at home"
SECRET=$(jq_ 'd.secret')
assert_eq "$(call nat POST /api/two-factor/enrol/confirm "{\"code\":\"$(totp "$SECRET")\"}")" 200 "and confirms"
R1=$(jq_ 'd.recovery_codes[0]')
assert_eq "$(login phone admin@nat.test 'national password')" 202 "her phone logs in: a code is owed"
# The next step's code: the one enrolment took is used.
assert_eq "$(call phone POST /api/login/code "{\"code\":\"$(totp "$SECRET" 1)\"}")" 200 "her phone's login finishes"
S_PHONE=$(session_of)
left_before=$(sql "SELECT count(*) FROM recovery_codes WHERE user_id = $NADMIN AND used_at IS NULL")

# --- she enters the chapter ---
assert_eq "$(call nat POST "/api/chapters/$ORG/enter" '{"reason":"check the chapter account routes"}')" 200 "she enters"
ACTING=$(sql "SELECT id FROM users WHERE org_id = $ORG AND national_user_id = $NADMIN")
assert_eq "$(call nat GET /api/me)" 200 "me"
assert_eq "$(jq_ 'd.acting.org.id + " " + d.user.id')" "$ORG $ACTING" "acting through the acting account"

# --- two-factor login: read as her own, never changed from inside ---
assert_eq "$(call nat GET /api/two-factor)" 200 "her two-factor state"
assert_eq "$(jq_ 'd.enrolled + " " + d.recovery_codes_left')" "true $left_before" "is her own account's, not the acting account's"
for route in "/api/two-factor/enrol {}" "/api/two-factor/enrol/confirm {\"code\":\"123456\"}" \
             "/api/two-factor/disable {\"password\":\"national password\",\"recovery_code\":\"$R1\"}" \
             "/api/two-factor/recovery-codes {\"recovery_code\":\"$R1\"}" \
             "/api/login/code {\"code\":\"123456\"}"; do
  assert_eq "$(call nat POST ${route%% *} "${route#* }")" 409 "acting: POST ${route%% *} refused"
  assert_eq "$(err_code)" acting_in_chapter "and says why (${route%% *})"
  assert_contains "$(jq_ 'd.error.message')" "leave the chapter first" "in words (${route%% *})"
done
assert_eq "$(sql "SELECT count(*) FROM user_totp WHERE user_id = $ACTING") $(sql "SELECT count(*) FROM recovery_codes WHERE user_id = $ACTING")" \
  "0 0" "the acting account gained no authenticator and no recovery codes"
assert_eq "$(sql "SELECT count(*) FROM user_totp WHERE user_id = $NADMIN AND confirmed_at IS NOT NULL")" 1 "her own authenticator is still on"
assert_eq "$(sql "SELECT count(*) FROM recovery_codes WHERE user_id = $NADMIN AND used_at IS NULL")" "$left_before" "no recovery code of hers was spent"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' -b "$TMP/nat.jar" -X POST "$DASH/api/two-factor/enrol")" 403 "but CSRF is checked first"

# --- her sessions: her own account's, ended from anywhere ---
assert_eq "$(call nat GET /api/sessions)" 200 "her sessions while acting"
assert_eq "$(jq_ 'd.sessions.map((s) => s.id + ":" + s.current).sort().join()')" \
  "$(printf '%s\n' "$S_NAT:true" "$S_PHONE:false" | sort | paste -sd,)" "are her own account's two, this one current"
assert_eq "$(call nat POST "/api/sessions/$S_PHONE/end")" 200 "she ends her phone's session from inside the chapter"
assert_eq "$(sql "SELECT count(*) FROM sessions WHERE id = $S_PHONE")" 0 "it is gone"
assert_eq "$(sql "SELECT org_id || ' ' || user_id FROM audit_events WHERE action = 'session.end' AND subject_id = $S_PHONE")" \
  "$NAT $NADMIN" "audited in her own org, by her own account"
assert_eq "$(login laptop admin@nat.test 'national password')" 202 "another login of hers, half done"
S_LAPTOP=$(session_of)
assert_eq "$(call nat POST /api/logout-everywhere '{"keep_this":true}')" 200 "log out everywhere else, while acting"
assert_eq "$(jq_ 'd.logged_out')" 1 "ends her other session"
assert_eq "$(sql "SELECT count(*) FROM sessions WHERE id = $S_LAPTOP") $(sql "SELECT count(*) FROM sessions WHERE id = $S_NAT")" "0 1" "that one, not this"
assert_eq "$(sql "SELECT org_id || ' ' || user_id FROM audit_events WHERE action = 'session.logout_everywhere' ORDER BY id DESC LIMIT 1")" \
  "$NAT $NADMIN" "audited in her own org"
assert_eq "$(call nat GET /api/me)" 200 "still acting"
assert_eq "$(jq_ 'd.acting.org.id')" "$ORG" "in the chapter"
assert_eq "$(sql "SELECT count(*) FROM audit_events WHERE user_id = $ACTING AND (action LIKE 'session.%' OR action LIKE 'two_factor.%')")" \
  0 "nothing of her account's is on the acting account's record"

# --- the chapter's admin against her ---
assert_eq "$(call demo POST "/api/sessions/$S_NAT/end")" 404 "a chapter admin cannot end the national admin's session"
assert_eq "$(sql "SELECT count(*) FROM sessions WHERE id = $S_NAT")" 1 "it lives"
assert_eq "$(call demo POST "/api/users/$NADMIN/revoke-sessions")" 404 "nor her national account's sessions"
assert_eq "$(call demo POST "/api/users/$NADMIN/reset-two-factor")" 404 "nor reset her national account's two-factor login"
assert_eq "$(call demo POST "/api/users/$ACTING/reset-two-factor")" 409 "the acting account has no two-factor login to reset"
assert_eq "$(err_code)" acting_account "and says why"
assert_eq "$(sql "SELECT count(*) FROM user_totp WHERE user_id = $NADMIN") $(sql "SELECT count(*) FROM sessions WHERE id = $S_NAT")" "1 1" "her authenticator and session stay"
open_stream nat
leaves=$(sql "SELECT count(*) FROM audit_events WHERE action = 'national.leave' AND org_id = $ORG")
assert_eq "$(call demo POST "/api/users/$ACTING/revoke-sessions")" 200 "the chapter's admin ends the acting account's sessions"
assert_eq "$(jq_ 'd.revoked + " " + d.visits_ended')" "0 1" "which ends her visit, not her session"
stream_closed "$stream_pid" "her stream scoped to the chapter closes"
assert_eq "$(sql "SELECT count(*) FROM sessions WHERE id = $S_NAT AND acting_org_id IS NULL")" 1 "her session goes on, at home"
assert_eq "$(sql "SELECT count(*) FROM audit_events WHERE action = 'national.leave' AND org_id = $ORG")" "$((leaves + 1))" "the chapter's record says she left"
assert_eq "$(sql "SELECT details->>'visits_ended' FROM audit_events WHERE action = 'user.revoke_sessions' AND subject_id = $ACTING")" 1 "and who ended it"
assert_eq "$(call nat GET /api/me)" 200 "she is still logged in"
assert_eq "$(jq_ 'd.acting + " " + d.user.org.slug')" "null nat" "at home"

# --- the acting account signs in nowhere, whatever reaches the database ---
for stmt in "INSERT INTO user_totp (user_id, org_id, secret) VALUES ($ACTING, $ORG, '\\x00')" \
            "INSERT INTO recovery_codes (org_id, user_id, code_hash) VALUES ($ORG, $ACTING, '\\x01')" \
            "INSERT INTO sessions (org_id, user_id, token_hash, csrf_token, expires_at) VALUES ($ORG, $ACTING, '\\x02', 'c', now() + interval '1 hour')"; do
  rc=0; sql "$stmt" >/dev/null 2>"$TMP/err" || rc=$?
  [ "$rc" -ne 0 ] || fail "the database took a row for the acting account: $stmt"
  assert_contains "$(cat "$TMP/err")" "acting account has no" "and says why"
done
assert_eq "$(sql "SELECT outcome FROM tocsin_sso_login($ORG, 'ADMIN@nat.test', 'https://idp.chapter.test', 'sub', '\\x03', 'c', 3600, NULL, NULL, true, 600)")" \
  no_account "the chapter's sign-on provider vouching for her address opens no acting account"
assert_eq "$(sql "SELECT count(*) FROM sessions WHERE user_id = $ACTING")" 0 "no session of its own"

# --- the window runs out while a request waits in the database ---
assert_eq "$(call nat POST "/api/chapters/$ORG/enter" '{"reason":"one more look"}')" 200 "she enters again"
assert_eq "$(login tablet admin@nat.test 'national password')" 202 "another login of hers"
S_TABLET=$(session_of)
sql "UPDATE sessions SET last_seen_at = now() WHERE id = $S_NAT" >/dev/null # no sliding write to wait on
mkfifo "$TMP/pg_in"
"$PSQL" -XqAt -v ON_ERROR_STOP=1 "$TOCSIN_DATABASE_URL" <"$TMP/pg_in" >"$TMP/pg_out" 2>&1 &
TEST_PIDS+=("$!")
exec 7>"$TMP/pg_in"
echo "BEGIN; SELECT id FROM sessions WHERE id = $S_TABLET FOR UPDATE; \\echo locked" >&7
wait_until 60 "the lock to be taken" file_has "$TMP/pg_out" locked
call nat POST /api/logout-everywhere '{"keep_this":true}' >"$TMP/held_status" &
held=$!
wait_sql "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%DELETE FROM sessions%'" 1
echo "UPDATE sessions SET acting_until = now() - interval '1 second' WHERE id = $S_NAT; COMMIT;" >&7
exec 7>&-
wait "$held"
assert_eq "$(cat "$TMP/held_status")" 200 "it finishes after the window ran out"
assert_eq "$(sql "SELECT count(*) FROM sessions WHERE id = $S_TABLET")" 0 "on her own account's sessions"
assert_eq "$(sql "SELECT org_id || ' ' || user_id FROM audit_events WHERE action = 'session.logout_everywhere' ORDER BY id DESC LIMIT 1")" \
  "$NAT $NADMIN" "audited in her own org"
assert_eq "$(sql "SELECT count(*) FROM sessions WHERE user_id = $ACTING") $(sql "SELECT count(*) FROM user_totp WHERE user_id = $ACTING")" \
  "0 0" "the acting account has nothing of its own"
assert_eq "$(call nat POST /api/two-factor/enrol)" 409 "after the window: her authenticator is on, so no new enrolment"
assert_eq "$(err_code)" already_enrolled "on her own account, no longer refused as acting"
echo "PASS"
