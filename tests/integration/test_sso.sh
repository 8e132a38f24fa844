#!/usr/bin/env bash
# Single sign-on against a real OpenID provider (oidc-provider, started
# here on loopback), driven with curl as a browser would: an admin sets the
# provider (secret write-only, audited; a volunteer may not; a plain-http
# or non-loopback issuer refused), then sign-ins that work (the same
# session as a password login; an address matched whatever its case; an
# invited address becomes its account) and every one that must not: a
# replayed or expired state, another browser, an unverified or unknown
# address, a disabled account, and ID tokens re-signed by the provider's
# test hook with the wrong audience, several audiences and no azp, another
# issuer, an old expiry, a bad signature, a key it never published (under
# its kid and under a new one: fetched once, then refused without asking
# again), a wrong nonce; an issuer whose discovery names another; keys
# rotated at the provider picked up on the next sign-in; ES256 ID tokens
# and a public client (PKCE alone, no secret stored).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dashboard_lib.sh"
source "$(dirname "$0")/sso_lib.sh"
dash_setup TOCSIN_SSO_ALLOW_HTTP=1
op_start k1 ec:e1

# --- an admin's settings ---
assert_eq "$(login admin admin@demo.test)" 200 "admin logs in"
assert_eq "$(login vol vol2@demo.test)" 200 "volunteer logs in"
assert_eq "$(call vol GET /api/sso)" 403 "a volunteer may not read the SSO settings"
assert_eq "$(sso_configure vol "$OP")" 403 "nor set them"
assert_eq "$(sso_configure admin "http://id.example.org")" 400 "plain http off loopback is refused"
assert_contains "$(cat "$TMP/out")" "https://" "and says https"
assert_eq "$(sso_configure admin "http://localhost:80@id.example.org")" 400 "a loopback name before an @ is not loopback"
assert_eq "$(sso_configure admin "https://id.example.org/?tenant=x")" 400 "an issuer with a query is refused"
assert_eq "$(call admin POST /api/sso '{"enabled":true,"issuer":"'"$OP"'","client_id":""}')" 400 "an empty client id is refused"
long=$(head -c 600 /dev/zero | tr '\0' s)
assert_eq "$(call admin POST /api/sso '{"enabled":true,"issuer":"'"$OP"'","client_id":"tocsin","client_secret":"'"$long"'"}')" 400 "an oversized secret is refused"
assert_eq "$(sso_configure admin "$OP")" 200 "the admin sets the provider"
assert_eq "$(call admin GET /api/sso)" 200 "and reads it back"
assert_eq "$(jq_ 'd.client_secret_set + " " + d.issuer + " " + d.redirect_uri')" "true $OP $DASH/sso/callback" "the secret is set, never shown"
grep -q tocsin-test-secret "$TMP/out" && fail "the secret was returned"
assert_eq "$(sql "SELECT details->>'secret' || ' ' || (details::text LIKE '%tocsin-test-secret%')::text FROM audit_events WHERE action = 'sso.configure'")" \
  "set false" "the change is audited without the secret"
assert_eq "$(call admin POST /api/sso '{"enabled":true,"issuer":"'"$OP"'","client_id":"tocsin"}')" 200 "saved again without a secret"
assert_eq "$(sql "SELECT client_secret FROM org_sso WHERE org_id = $ORG")" tocsin-test-secret-0123456789 "keeps the stored one"

# --- sign-ins that work ---
url=$(sso_authorize b1 admin)
assert_contains "$url" "iss=" "the provider names itself (RFC 9207)"
cp "$TMP/b1.jar" "$TMP/b1copy.jar" # the same browser, its sign-in cookie kept for the replay
read -r status loc < <(sso_callback b1 "$url")
assert_eq "$status $loc" "302 $DASH/" "the admin is signed in and sent home"
assert_eq "$(curl -s -b "$TMP/b1.jar" -o "$TMP/out" -w '%{http_code}' "$DASH/api/me")" 200 "the session works"
assert_eq "$(jq_ 'd.user.email + " " + d.user.role')" "admin@demo.test admin" "as the admin"
grep -q tocsin_sso "$TMP/b1.jar" && fail "the sign-in cookie outlived the sign-in"
assert_eq "$(sql "SELECT details->>'method' || ' ' || (details->>'issuer') FROM audit_events WHERE action = 'session.login' ORDER BY id DESC LIMIT 1")" \
  "sso $OP" "audited as a login by SSO"
assert_eq "$(sql "SELECT count(*) FROM sso_logins")" 0 "the state is spent"

read -r status _ < <(sso_callback b1copy "$url")
assert_eq "$status" 400 "a replayed callback is refused"
assert_contains "$(cat "$TMP/page")" "already used" "and says so"

assert_eq "$(sso_login b2 vol1)" 302 "an address the provider writes in capitals matches"
assert_eq "$(curl -s -b "$TMP/b2.jar" "$DASH/api/me" | node -e 'process.stdin.on("data",d=>process.stdout.write(JSON.parse(d).user.email))')" \
  vol1@demo.test "the volunteer's own account"

assert_eq "$(call admin POST /api/invites '{"email":"new.member@demo.test","role":"lead"}')" 201 "an invite for a new address"
assert_eq "$(sso_login b3 invited)" 302 "signing in with the invited address accepts the invite"
assert_eq "$(sql "SELECT role || ' ' || (password_hash IS NULL)::text FROM users WHERE email = 'new.member@demo.test'")" "lead true" "with the invite's role, no password"
assert_eq "$(sql "SELECT count(*) FROM invites WHERE email = 'new.member@demo.test' AND used_at IS NOT NULL")" 1 "the invite is spent"

assert_eq "$(sso_configure admin "$OP" true tocsin-es256)" 200 "a client whose ID tokens are ES256"
assert_eq "$(sso_login b11 admin)" 302 "signs in with an ES256 token"
assert_eq "$(call admin POST /api/sso '{"enabled":true,"issuer":"'"$OP"'","client_id":"tocsin-public","clear_secret":true}')" 200 "a public client: the secret removed"
assert_eq "$(sql "SELECT client_secret IS NULL FROM org_sso WHERE org_id = $ORG")" t "nothing stored"
assert_eq "$(sql "SELECT details->>'secret' FROM audit_events WHERE action = 'sso.configure' ORDER BY id DESC LIMIT 1")" cleared "audited as cleared"
assert_eq "$(sso_login b12 admin)" 302 "signs in with PKCE alone"
assert_eq "$(sso_configure admin "$OP")" 200 "back to the confidential client"

# --- the state: other browser, expired, missing cookie ---
url=$(sso_authorize b4 admin)
cp "$TMP/b4.jar" "$TMP/b5.jar"
sed -i 's/\ttocsin_sso\t.*/\ttocsin_sso\tsomeone-elses-cookie/' "$TMP/b5.jar"
read -r status _ < <(sso_callback b5 "$url")
assert_eq "$status" 400 "a callback from another browser is refused"
assert_contains "$(cat "$TMP/page")" "another browser" "and says so"
assert_eq "$(sql "SELECT count(*) FROM audit_events WHERE details->>'reason' = 'other_browser'")" 1 "audited"
read -r status _ < <(sso_callback b4 "$url")
assert_eq "$status" 400 "and the state it spent is gone for the first browser too"

url=$(sso_authorize b6 admin)
sql "UPDATE sso_logins SET created_at = now() - interval '20 minutes', expires_at = now() - interval '10 minutes'" >/dev/null
read -r status _ < <(sso_callback b6 "$url")
assert_eq "$status" 400 "an expired state is refused"
assert_contains "$(cat "$TMP/page")" "expired" "and says so"
assert_eq "$(sql "SELECT count(*) FROM audit_events WHERE details->>'reason' = 'expired'")" 1 "audited"

url=$(sso_authorize b7 admin)
assert_eq "$(curl -s -o "$TMP/page" -w '%{http_code}' "$url")" 400 "a callback without the sign-in cookie is refused"
assert_contains "$(cat "$TMP/page")" "did not start this sign-in" "and says so"

assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "$DASH/sso/callback?state=x&code=$(head -c 3000 /dev/zero | tr '\0' c)")" 400 "an oversized code is refused"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "$DASH/sso/start?org=no%20such")" 400 "a malformed org is refused"
assert_eq "$(curl -s -o "$TMP/page" -w '%{http_code}' "$DASH/sso/start?org=nosuchorg")" 404 "an org without SSO"
assert_contains "$(cat "$TMP/page")" "not set up" "says it is not set up"

# --- who the provider vouches for ---
sso_refused b8 unverified 403 email_unverified "has not verified your email" "an unverified address"
# Another org, with its own provider and the stranger as its user.
OTHER=$(sql "INSERT INTO orgs (slug, name) VALUES ('other', 'Other Chapter') RETURNING id")
sql "INSERT INTO users (org_id, email, role) VALUES ($OTHER, 'stranger@elsewhere.test', 'admin');
     INSERT INTO org_sso (org_id, enabled, issuer, client_id) VALUES ($OTHER, true, 'https://id.other.example', 'x')" >/dev/null
sso_refused b9 stranger 403 no_account "has no account in this organisation" "another org's user, signing in to this one"
assert_eq "$(call admin GET /api/sso)" 200 "the admin reads her own org's provider"
assert_eq "$(jq_ 'd.issuer')" "$OP" "not the other org's"
sql "UPDATE users SET disabled_at = now() WHERE email = 'vol2@demo.test'" >/dev/null
assert_eq "$(sso_login b10 vol2)" 403 "a disabled account is refused"
assert_contains "$(cat "$TMP/page")" "disabled" "and the page says so"
assert_eq "$(sql "SELECT count(*) FROM audit_events WHERE details->>'reason' = 'account_disabled'")" 1 "audited"
assert_eq "$(sql "SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = 'vol2@demo.test'")" 0 "no session for her"

# --- ID tokens the provider re-signs (tests/oidc/provider.mjs) ---
sessions_before=$(sql "SELECT count(*) FROM sessions")
now=$(date +%s)
op_tamper '{"claims":{"aud":"someone-else"}}'
sso_refused t1 admin 403 wrong_audience "meant for another application" "a token for another client"
op_tamper '{"claims":{"aud":["tocsin","someone-else"]}}'
sso_refused t2 admin 403 wrong_audience "meant for another application" "several audiences without azp"
op_tamper '{"claims":{"iss":"http://127.0.0.1:1"}}'
sso_refused t3 admin 403 wrong_issuer "another provider" "a token from another issuer"
op_tamper '{"claims":{"exp":'$((now - 3600))',"iat":'$((now - 4000))'}}'
sso_refused t4 admin 403 expired "expired" "an expired token"
op_tamper '{"claims":{"nonce":"not-this-one"}}'
sso_refused t5 admin 403 wrong_nonce "not a valid sign-in" "another sign-in's nonce"
op_tamper '{"corrupt":true}'
sso_refused t6 admin 403 bad_signature "signature is not the provider" "a corrupted signature"
op_tamper '{"key":"other"}'
sso_refused t7 admin 403 bad_signature "signature is not the provider" "another key under the provider's kid"
sleep 11 # past the dashboard's refetch bound (SSO_JWKS_REFETCH_MS) since its first fetch
jwks_before=$(op_count /jwks)
op_tamper '{"key":"other","kid":"rotated-away"}'
sso_refused t8 admin 403 unknown_key "does not publish" "a key the provider does not publish"
assert_eq "$(op_count /jwks)" $((jwks_before + 1)) "the unknown kid fetched the key set once more"
op_tamper '{"key":"other","kid":"another-forged-kid"}'
sso_refused t9 admin 403 unknown_key "does not publish" "a second unknown kid at once"
assert_eq "$(op_count /jwks)" $((jwks_before + 1)) "without fetching again within 10 s"
assert_eq "$(sql "SELECT count(*) FROM sessions")" "$sessions_before" "no refused sign-in made a session"

# --- key rotation at the provider ---
op_stop
op_start k2 k1
sleep 11 # past the dashboard's refetch bound since t8's fetch
assert_eq "$(sso_login r1 admin)" 302 "a token signed with the new key signs in"
assert_eq "$(op_count /jwks)" $((jwks_before + 2)) "after one fetch of the new key set"

# --- the org's second factor: owed after SSO unless the provider says "mfa" ---
me_stage() { curl -s -b "$TMP/$1.jar" "$DASH/api/me" | node -e 'process.stdin.on("data",d=>process.stdout.write(JSON.parse(d).stage||"none"))'; }
sql "UPDATE orgs SET require_two_factor = true WHERE id = $ORG" >/dev/null
assert_eq "$(sso_login m1 admin)" 302 "an admin signs in while the org requires a second factor"
assert_eq "$(me_stage m1)" enrol "her session owes enrolment: the provider said nothing of factors"
assert_eq "$(curl -s -b "$TMP/m1.jar" -o /dev/null -w '%{http_code}' "$DASH/api/conversations")" 401 "and opens nothing else yet"
assert_eq "$(sql "SELECT action || ' ' || (details->>'stage') FROM audit_events WHERE details->>'method' = 'sso' ORDER BY id DESC LIMIT 1")" \
  "session.sso_ok enrol" "audited as a half login"
op_tamper '{"claims":{"amr":"mfa"}}'
assert_eq "$(sso_login m2 admin)" 302 "an amr that is not an array"
assert_eq "$(me_stage m2)" enrol "is not taken as several factors"
op_tamper '{"claims":{"amr":["pwd","otp"]}}'
assert_eq "$(sso_login m3 admin)" 302 "an amr without mfa"
assert_eq "$(me_stage m3)" enrol "leaves the second factor owed"
op_tamper '{"claims":{"amr":["pwd","mfa"]}}'
assert_eq "$(sso_login m4 admin)" 302 "a provider that says mfa"
assert_eq "$(me_stage m4)" full "is trusted for the second factor"
assert_eq "$(sso_login m5 vol1)" 302 "a volunteer, whose role the requirement does not cover"
assert_eq "$(me_stage m5)" full "is signed in whole"
assert_eq "$(sql "SELECT count(*) || ' ' || count(user_agent) FROM sessions WHERE user_id = (SELECT id FROM users WHERE email = 'vol1@demo.test')")" "2 2" \
  "SSO sessions record their device"
sql "UPDATE orgs SET require_two_factor = false WHERE id = $ORG" >/dev/null

# --- discovery that names another issuer; SSO turned off ---
assert_eq "$(sso_configure admin "$OP/")" 200 "the issuer configured with a trailing slash"
assert_eq "$(curl -s -o "$TMP/page" -w '%{http_code}' "$DASH/sso/start?org=demo")" 502 "discovery naming another issuer is refused"
assert_contains "$(cat "$TMP/page")" "names another issuer" "and the page says so"
assert_eq "$(sso_configure admin "$OP" false)" 200 "SSO turned off"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "$DASH/sso/start?org=demo")" 404 "no sign-in starts"
assert_eq "$(sql "SELECT string_agg(details->>'client_id' || ':' || (details->>'enabled'), ',' ORDER BY id) FROM audit_events WHERE action = 'sso.configure'")" \
  "tocsin:true,tocsin:true,tocsin-es256:true,tocsin-public:true,tocsin:true,tocsin:true,tocsin:false" "every change audited"
echo "test_sso: ok"
