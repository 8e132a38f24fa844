#!/usr/bin/env bash
# An admin's Senders screen through the API (issue 19), against a real
# tocsin-dashboard, tocsin-worker, the carrier simulator and PostgreSQL:
# who may read and change senders (admins only), another org's sender ids
# answering 404, bad input answered 400 in words (the CLI's own checks), the
# secret never read back by any route nor written to audit_events, nothing
# sealed before the worker published its key, then a sender added through
# the API whose credential the dashboard sealed (v3) opened by the worker:
# a test message delivered by the simulator. Then the credentials replaced
# with a wrong token: the test message fails with the carrier's own words.
# An opted-out number and a disabled sender are refused at once. Last, a
# key change: tocsinctl reseal seals both formats again with the new key.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dashboard_lib.sh"
dash_setup TOCSIN_ALLOW_INSECURE_CARRIER_URLS=1 TOCSIN_PUBLIC_URL=https://texts.example.org
"$BIN/ops/tocsinctl" org create other --name "Other Org" >/dev/null
no_two_factor other  # as dash_setup does for demo
echo "other admin password" | "$BIN/ops/tocsinctl" user add --org other --email admin@other.test --role admin --password-stdin >/dev/null
assert_eq "$(login vol1 vol1@demo.test)" 200 "volunteer logs in"
assert_eq "$(login lead lead@demo.test)" 200 "lead logs in"
assert_eq "$(login admin admin@demo.test)" 200 "admin logs in"
assert_eq "$(login other admin@other.test 'other admin password')" 200 "another org's admin logs in"
TOKEN=7c0c51a0000000000000000000000000 # the simulator's demo account
SID=AC7c0c51a0000000000000000000000000
# A gateway, the simulator and a worker (carrier_setup), started after the
# sealing key is withdrawn below; the dashboard shows the public URL it was
# given instead of the gateway's. Until then SIM names no carrier.
SIM=http://127.0.0.1:9
add() { node -e 'const o = {provider: "twilio", account_sid: process.argv[1], secret: process.argv[2], messages_per_second: "5", base_url: process.argv[3]}; for (let i = 4; i < process.argv.length; i += 2) o[process.argv[i]] = process.argv[i + 1]; process.stdout.write(JSON.stringify(o))' "$@"; }
# wait_test SENDER MESSAGE STATE: polls the screen's route until the test message is STATE.
test_is() { call admin GET "/api/senders/$1/tests/$2" >/dev/null; WAIT_LAST=$(jq_ 'd.state'); [ "$WAIT_LAST" == "$3" ]; }
wait_test() { wait_until 60 "test message $2 to become $3" test_is "$@"; }

# --- roles ---
assert_eq "$(call vol1 GET /api/senders/manage)" 403 "volunteers do not see the Senders screen"
assert_eq "$(call lead GET /api/senders/manage)" 403 "leads do not see the Senders screen"
assert_eq "$(call lead POST /api/senders "$(add $SID $TOKEN "$SIM" address +14155550199)")" 403 "leads do not add senders"
assert_eq "$(call vol1 POST /api/senders/$SENDER/disable)" 403 "volunteers do not disable senders"
assert_eq "$(call lead POST /api/senders/$SENDER/credentials '{"secret":"x"}')" 403 "leads do not replace credentials"
assert_eq "$(call lead POST /api/senders/$SENDER/test '{"phone":"+14155550123"}')" 403 "leads do not send test messages"

# --- the list: webhook URLs from TOCSIN_PUBLIC_URL and the gateway's routes; no secret ---
assert_eq "$(call admin GET /api/senders/manage)" 200 "admin lists senders"
assert_eq "$(jq_ 'd.webhooks.twilio.inbound')" "https://texts.example.org/twilio/inbound" "Twilio inbound URL"
assert_eq "$(jq_ 'd.webhooks.twilio.status')" "https://texts.example.org/twilio/status" "Twilio status URL"
assert_eq "$(jq_ 'd.webhooks.telnyx.webhook')" "https://texts.example.org/telnyx/webhook" "Telnyx webhook URL"
assert_eq "$(jq_ 'd.senders.map(s => s.address + " " + s.provider + " " + s.state).join()')" "24680 twilio enabled" "the demo short code listed"
assert_eq "$(jq_ 'd.sealing_key_ready')" true "tocsinctl migrate (with the key) published the sealing key"
sealed=$(sql "SELECT credentials_sealed FROM senders WHERE id = $SENDER")
out=$(cat "$TMP/out")
# (The demo token is the tail of the demo account SID: look for it as a value.)
[[ "$out" != *"\"$TOKEN\""* && "$out" != *"${sealed:3:40}"* && "$out" != *credentials_sealed* ]] || fail "the list shows a credential: $out"

# --- nothing can be sealed before the key is published ---
sql "DELETE FROM sealing_key"
assert_eq "$(call admin POST /api/senders "$(add $SID $TOKEN "$SIM" address +14155550199)")" 409 "no sealing key: refused"
assert_contains "$(jq_ 'd.error.message')" "start the worker once so it publishes its sealing key" "says what to do"
assert_eq "$(sql "SELECT count(*) FROM senders")" 1 "nothing added"
carrier_setup
wait_until 60 "the worker to publish its sealing key" sql_is "SELECT count(*) FROM sealing_key" 1

# --- bad input: 400 in words, nothing added ---
bad() { # bad JSON EXPECTED_WORDS LABEL
  assert_eq "$(call admin POST /api/senders "$1")" 400 "$3"
  assert_contains "$(jq_ 'd.error.message')" "$2" "$3: the reason"
}
bad "$(add $SID $TOKEN "$SIM" address 555)" 'invalid phone number "555"' "a bad number"
bad "$(add AC0123 $TOKEN "$SIM" address +14155550199)" 'invalid account SID "AC0123"' "a bad account SID"
bad "$(add '' $TOKEN "$SIM" address +14155550199)" 'needs its account SID' "Twilio without an account SID"
bad "$(add $SID $TOKEN "$SIM" address +14155550199 messages_per_second 0)" 'invalid rate "0"' "a zero rate"
bad "$(add $SID $TOKEN "$SIM" address +14155550199 messages_per_second 1e3)" 'invalid rate "1e3"' "a rate in exponent form"
bad "$(add $SID $TOKEN "$SIM" address +14155550199 messages_per_second 20000)" 'at most 10000' "too high a rate"
bad "$(add $SID $TOKEN "$SIM" address +14155550199 account_limit -1)" 'invalid account limit "-1"' "a negative account limit"
bad "$(add $SID $'tok\r\nX-Evil: 1' "$SIM" address +14155550199)" 'printable ASCII' "a secret that would inject a header"
bad "$(add $SID "$(head -c 600 /dev/zero | tr '\0' a)" "$SIM" address +14155550199)" 'too long' "an oversized secret"
bad "$(add $SID '' "$SIM" address +14155550199)" 'missing the carrier secret' "no secret"
bad "$(add $SID $TOKEN ftp://x address +14155550199)" 'invalid base URL' "a bad base URL"
bad "$(add $SID $TOKEN "$SIM" address +14155550199 provider sms)" 'invalid provider "sms"' "a bad provider"
bad "$(add '' KEY_x "$SIM" address +14155550198 provider telnyx)" 'needs its public key' "Telnyx without its public key"
bad "$(add $SID $TOKEN "$SIM" address 24681 kind long_code)" 'kind must be short_code' "a short code called a long code"
bad "$(add $SID $TOKEN "$SIM" address "$(head -c 5000 /dev/zero | tr '\0' 5)")" 'invalid phone number' "an oversized address"
assert_eq "$(sql "SELECT count(*) FROM senders")" 1 "nothing added by bad input"
assert_eq "$(call admin POST /api/senders "$(add $SID $TOKEN "$SIM" address 24680)")" 409 "an address already a sender"
assert_contains "$(jq_ 'd.error.message')" "24680 is already a sender" "says so"

# --- added: sealed by the dashboard, opened by the worker ---
assert_eq "$(call admin POST /api/senders "$(add $SID $TOKEN "$SIM" address '(415) 555-0199' account_limit 40)")" 201 "admin adds a Twilio number"
NEW=$(jq_ 'd.id')
assert_eq "$(jq_ '[d.address, d.kind, d.provider, d.account_sid, d.messages_per_second, d.account_limit, d.state, d.credentials_format].join()')" \
  "+14155550199,long_code,twilio,$SID,5,40,enabled,v3" "the new sender as the screen shows it"
[[ "$(cat "$TMP/out")" != *"\"$TOKEN\""* ]] || fail "the add answer shows the secret"
assert_eq "$(sql "SELECT left(credentials_sealed, 3), position('$TOKEN' in credentials_sealed) FROM senders WHERE id = $NEW")" "v3.|0" "stored sealed, v3"
assert_eq "$(call other POST /api/senders "$(add $SID other-token "$SIM" address +14155550177 account_limit 1)")" 409 \
  "another org cannot set the limit of an account this org sends through"
assert_contains "$(jq_ 'd.error.message')" "also sends for another organisation" "says why"
assert_eq "$(sql "SELECT count(*) FROM senders WHERE address = '+14155550177'")" 0 "and adds nothing"

# --- another org's admin: every sender route answers 404 ---
assert_eq "$(call other POST /api/senders/$NEW/credentials '{"secret":"stolen"}')" 404 "another org's sender: credentials"
assert_eq "$(call other POST /api/senders/$NEW '{"messages_per_second":"1"}')" 404 "another org's sender: rate"
assert_eq "$(call other POST /api/senders/$NEW/disable)" 404 "another org's sender: disable"
assert_eq "$(call other POST /api/senders/$NEW/test '{"phone":"+14155550123"}')" 404 "another org's sender: test"
assert_eq "$(call other GET /api/senders/manage)" 200 "another org's admin lists"
assert_eq "$(jq_ 'd.senders.length')" 0 "and sees none of ours"
assert_eq "$(sql "SELECT disabled_at IS NULL AND messages_per_second = 5 FROM senders WHERE id = $NEW")" t "unchanged by them"

# --- a test message: queued, sent by the worker with the sealed credential, delivered ---
assert_eq "$(call admin POST /api/senders/$NEW/test '{"phone":"(415) 555-0123"}')" 201 "a test message queued"
MSG=$(jq_ 'd.id')
assert_eq "$(jq_ 'd.to')" "+14155550123" "to the number typed, in E.164"
assert_eq "$(call other GET /api/senders/$NEW/tests/$MSG)" 404 "another org cannot watch it"
assert_eq "$(call admin GET /api/senders/$SENDER/tests/$MSG)" 404 "nor through another sender"
wait_test "$NEW" "$MSG" delivered
assert_eq "$(curl -s "$SIM/sim/phones/%2B14155550123" | node -e 'const d = JSON.parse(require("fs").readFileSync(0)); process.stdout.write(String(d.messages.filter(m => m.from === "+14155550199" && /test message/.test(m.body)).length))')" 1 \
  "the simulator got it from the new number"
bad_test() { assert_eq "$(call admin POST /api/senders/$NEW/test "$1")" "$2" "$3"; }
bad_test '{"phone":"12"}' 400 "a bad number"
sql "INSERT INTO opt_outs (org_id, phone, source) VALUES ($ORG, '+14155550777', 'keyword')"
bad_test '{"phone":"+14155550777"}' 409 "an opted-out number is refused"
assert_contains "$(jq_ 'd.error.message')" "has opted out" "in words"

# --- wrong credentials: the carrier's own words ---
assert_eq "$(call admin POST /api/senders/$NEW/credentials '{"secret":"00000000000000000000000000000000"}')" 200 "credentials replaced"
[[ "$(cat "$TMP/out")" != *00000000000000000000000000000000* ]] || fail "the answer shows the new secret"
assert_eq "$(call admin POST /api/senders/$NEW/credentials '{"secret":"x","telnyx_public_key":"AAAA"}')" 400 "a bad public key"
assert_eq "$(call admin POST /api/senders/$NEW/credentials "{\"secret\":\"x\",\"telnyx_public_key\":\"$(head -c 32 /dev/urandom | base64)\"}")" 400 "a public key on a Twilio sender"
assert_eq "$(call admin POST /api/senders/$NEW/test '{"phone":"+14155550124"}')" 201 "a test with the wrong token"
MSG=$(jq_ 'd.id')
wait_test "$NEW" "$MSG" failed
assert_eq "$(jq_ 'd.error_code + " " + d.error_message')" "20003 Authenticate" "the carrier's own code and words"

# --- rate, disable, enable ---
assert_eq "$(call admin POST /api/senders/$NEW '{"messages_per_second":"2.5"}')" 200 "the rate changed"
assert_eq "$(jq_ "String(d.messages_per_second)")" "2.5" "to 2.5"
assert_eq "$(call admin POST /api/senders/$NEW '{"messages_per_second":"fast"}')" 400 "a bad rate"
assert_eq "$(call admin POST /api/senders/$NEW/disable)" 200 "disabled"
assert_eq "$(jq_ 'd.state')" disabled "shown disabled"
assert_eq "$(call admin POST /api/senders/$NEW/test '{"phone":"+14155550123"}')" 409 "no test through a disabled sender"
assert_eq "$(call lead GET /api/senders)" 200 "a lead's senders"
assert_eq "$(jq_ 'd.map(s => s.address).join()')" 24680 "a disabled sender is not offered to leads"
LIST=$(sql "INSERT INTO lists (org_id, name) VALUES ($ORG, 'Testers') RETURNING id")
assert_eq "$(call lead POST /api/blasts "{\"sender_id\":$NEW,\"list_id\":$LIST,\"body\":\"Rally Saturday. Reply STOP to opt out\"}")" 400 \
  "nor taken for a blast through the API"
assert_contains "$(jq_ 'd.error.message')" "is disabled" "saying why"
assert_eq "$(call admin POST /api/senders/$NEW/enable)" 200 "enabled"
assert_eq "$(jq_ 'd.state')" enabled "shown enabled"

# --- a Telnyx number: API key sealed by the dashboard, opened by the worker ---
PK=$(curl -s "$SIM/sim/telnyx/public-key" | node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0)).public_key)')
assert_eq "$(call admin POST /api/senders "$(add $SID KEY_tocsin_demo "$SIM" address +14155550155 provider telnyx telnyx_public_key "$PK")")" 400 \
  "a Telnyx sender with an account SID"
assert_contains "$(jq_ 'd.error.message')" "a telnyx sender has none" "in words"
TX=$(node -e 'process.stdout.write(JSON.stringify({provider: "telnyx", address: "+14155550155", secret: "KEY_tocsin_demo", telnyx_public_key: process.argv[1], messages_per_second: "2", base_url: process.argv[2]}))' "$PK" "$SIM")
assert_eq "$(call admin POST /api/senders "$TX")" 201 "admin adds a Telnyx number"
TXID=$(jq_ 'd.id')
assert_eq "$(jq_ '[d.provider, d.telnyx_public_key, d.account_sid].join()')" "telnyx,$PK," "with its public key, no account"
assert_eq "$(call admin POST /api/senders/$TXID '{"account_limit":"5"}')" 400 "no account limit without an account"
assert_contains "$(jq_ 'd.error.message')" "only a Twilio sender" "says why"
assert_eq "$(call admin POST /api/senders/$TXID/test '{"phone":"+14155550125"}')" 201 "a Telnyx test message"
wait_test "$TXID" "$(jq_ 'd.id')" delivered

# --- audited, never the secret ---
assert_eq "$(sql "SELECT string_agg(action, ',' ORDER BY id) FROM audit_events WHERE org_id = $ORG AND action LIKE 'sender.%'")" \
  "sender.account_limit,sender.add,sender.test,sender.credentials,sender.test,sender.rate,sender.disable,sender.enable,sender.add,sender.test" \
  "every change audited"
assert_eq "$(sql "SELECT count(*) FROM audit_events WHERE details::text LIKE '%\"$TOKEN\"%' OR details::text LIKE '%\"00000000000000000000000000000000\"%' OR details::text LIKE '%v3.%' OR details::text LIKE '%KEY_tocsin_demo%'")" 0 \
  "no secret in the audit trail"
grep -qE "(^|[^C])$TOKEN" "$TMP/dashboard.log" && fail "the dashboard logged the secret"
# --- a key change: tocsinctl reseal opens v2 (CLI) and v3 (dashboard) alike ---
(umask 077; echo "$TOCSIN_SECRET_KEY" > "$TMP/old_key")
NEW_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
old_pk=$(sql "SELECT public_key FROM sealing_key")
sql "INSERT INTO senders (org_id, address, kind, provider, credentials_sealed, telnyx_public_key, messages_per_second)
     VALUES ($ORG, '+14155550166', 'long_code', 'telnyx', 'v3.AAAA', '$PK', 1)" >/dev/null
before=$(sql "SELECT md5(string_agg(credentials_sealed, ',' ORDER BY id)) FROM senders")
rc=0; out=$(TOCSIN_SECRET_KEY=$NEW_KEY "$BIN/ops/tocsinctl" reseal --old-key-file "$TMP/old_key" 2>&1) || rc=$?
assert_eq "$rc" 1 "a credential that opens with neither key stops the reseal"
assert_contains "$out" "opens with neither the old key nor the new one; nothing was changed" "saying so"
assert_eq "$(sql "SELECT md5(string_agg(credentials_sealed, ',' ORDER BY id)) FROM senders")" "$before" "and nothing changed"
sql "DELETE FROM senders WHERE address = '+14155550166'" >/dev/null
out=$(TOCSIN_SECRET_KEY=$NEW_KEY "$BIN/ops/tocsinctl" reseal --old-key-file "$TMP/old_key")
assert_contains "$out" "re-sealed 3 sender credential(s) with the new key (0 had it already)" "the demo (v2) and both dashboard senders (v3)"
assert_eq "$(sql "SELECT string_agg(DISTINCT left(credentials_sealed, 3), ',') FROM senders")" "v2." "all sealed with the new key"
[ "$(sql "SELECT public_key FROM sealing_key")" != "$old_pk" ] || fail "the new sealing key was not published"
out=$(TOCSIN_SECRET_KEY=$NEW_KEY "$BIN/ops/tocsinctl" reseal --old-key-file "$TMP/old_key")
assert_contains "$out" "re-sealed 0 sender credential(s) with the new key (3 had it already)" "a second run changes nothing"
out=$(TOCSIN_SECRET_KEY=$NEW_KEY "$BIN/ops/tocsinctl" doctor --no-carrier --no-probe --key-file "$TMP/old_key" --key-owner "$(id -un)" 2>&1 || true)
assert_eq "$(echo "$out" | grep -c 'credentials open with the key')" 3 "every credential opens with the new key"
assert_contains "$out" "ok    sealing    the dashboard seals new credentials for this key" "and the dashboard seals for it"
echo "test_dashboard_senders: ok"
