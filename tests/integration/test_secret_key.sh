#!/usr/bin/env bash
# The carrier-credential key: only the processes that open credentials get
# it (the dashboard refuses to start with it, and ops/run's way of starting
# the dashboard leaves it out of its environment); it can come from a file
# readable by its owner only; a sealed credential opens only for the
# sender row it was sealed for (a copy to another row is useless); old
# unbound credentials are re-sealed by tocsinctl migrate; and a carrier
# base URL of http:// is refused outside test mode.
source "$(dirname "$0")/lib.sh"
fresh_db
KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
export TOCSIN_SECRET_KEY=$KEY
CTL="$BIN/ops/tocsinctl"
"$CTL" migrate >/dev/null
"$CTL" demo-seed >/dev/null
T=7c0c51a0000000000000000000000000

# --- the dashboard never holds the key ---
port=$(free_port)
rc=0; TOCSIN_DASHBOARD_PORT=$port timeout 20 "$BIN/dashboard/tocsin-dashboard" >"$TMP/dash_refused.log" 2>&1 || rc=$?
assert_eq "$rc" 2 "the dashboard refuses to start with TOCSIN_SECRET_KEY in its environment"
assert_contains "$(cat "$TMP/dash_refused.log")" "TOCSIN_SECRET_KEY" "and names it"
rc=0; env -u TOCSIN_SECRET_KEY TOCSIN_SECRET_KEY_FILE=/nonexistent TOCSIN_DASHBOARD_PORT=$port \
  timeout 20 "$BIN/dashboard/tocsin-dashboard" >"$TMP/dash_refused.log" 2>&1 || rc=$?
assert_eq "$rc" 2 "nor with TOCSIN_SECRET_KEY_FILE"
# Started as ops/run starts it (ops/daemon-exec), with the key exported.
TOCSIN_DASHBOARD_PORT=$port "$TOCSIN_SOURCE_DIR/ops/daemon-exec" dashboard "$BIN/dashboard/tocsin-dashboard" \
  >"$TMP/dashboard.log" 2>&1 &
DASH_PID=$!
TEST_PIDS+=($DASH_PID)
wait_http "http://127.0.0.1:$port/healthz"
env_of_dash=$(tr '\0' '\n' <"/proc/$DASH_PID/environ")
assert_contains "$env_of_dash" "TOCSIN_DASHBOARD_PORT=$port" "the environ read is the dashboard's"
[[ "$env_of_dash" != *TOCSIN_SECRET_KEY* ]] || fail "the dashboard's environment holds the key"
[[ "$env_of_dash" != *"$KEY"* ]] || fail "the dashboard's environment holds the key's value"
grep -q '^exec' "$TOCSIN_SOURCE_DIR/ops/daemon-exec" || fail "ops/daemon-exec must exec (the pid is the daemon's)"
grep -q 'daemon-exec dashboard' "$TOCSIN_SOURCE_DIR/ops/run" || fail "ops/run starts the dashboard through ops/daemon-exec"
# The gateway, started the same way, keeps it.
assert_contains "$(env TOCSIN_SECRET_KEY=$KEY "$TOCSIN_SOURCE_DIR/ops/daemon-exec" gateway /usr/bin/env)" \
  "TOCSIN_SECRET_KEY=$KEY" "the gateway gets the key"

# --- TOCSIN_SECRET_KEY_FILE ---
printf '%s\n' "$KEY" >"$TMP/key"
chmod 600 "$TMP/key"
GW_PORT=$(free_port)
export TOCSIN_PUBLIC_URL="http://127.0.0.1:$GW_PORT"
# signed TOKEN TO: a hand-signed Twilio inbound webhook; prints the status.
signed() {
  local url="http://127.0.0.1:$GW_PORT/twilio/inbound" sid="SM$RANDOM$RANDOM"
  local sig
  sig=$(printf '%s' "${url}Bodyhi${sid:+From+14155550105MessageSid$sid}To$2" | openssl dgst -sha1 -hmac "$1" -binary | base64)
  curl -s -o "$TMP/last" -w '%{http_code}' -H "X-Twilio-Signature: $sig" "$url" \
    --data-urlencode Body=hi --data-urlencode From=+14155550105 --data-urlencode "MessageSid=$sid" --data-urlencode "To=$2"
}
chmod 644 "$TMP/key"
rc=0; env -u TOCSIN_SECRET_KEY TOCSIN_SECRET_KEY_FILE="$TMP/key" TOCSIN_GATEWAY_PORT=$GW_PORT \
  timeout 20 "$BIN/gateway/tocsin-gateway" >"$TMP/gw_refused.log" 2>&1 || rc=$?
assert_eq "$rc" 2 "a key file others may read is refused"
assert_contains "$(cat "$TMP/gw_refused.log")" "readable by its owner only" "and says why"
# A systemd credential ($CREDENTIALS_DIRECTORY/secret_key, what the
# package's units point TOCSIN_SECRET_KEY_FILE at) is read-only, 0400.
chmod 400 "$TMP/key"
env -u TOCSIN_SECRET_KEY TOCSIN_SECRET_KEY_FILE="$TMP/key" "$BIN/ops/tocsinctl" migrate --status >/dev/null ||
  fail "a read-only owner-only key file (a systemd credential) is refused"
chmod 644 "$TMP/key"
rc=0; env -u TOCSIN_SECRET_KEY TOCSIN_SECRET_KEY_FILE="$TMP/key" "$BIN/ops/tocsinctl" migrate --status >/dev/null 2>&1 || rc=$?
assert_eq "$rc" 2 "tocsinctl refuses a key file others may read too"
chmod 600 "$TMP/key"
rc=0; TOCSIN_SECRET_KEY_FILE="$TMP/key" TOCSIN_GATEWAY_PORT=$GW_PORT \
  timeout 20 "$BIN/gateway/tocsin-gateway" >"$TMP/gw_refused.log" 2>&1 || rc=$?
assert_eq "$rc" 2 "the key and a key file at once are refused"
env -u TOCSIN_SECRET_KEY TOCSIN_SECRET_KEY_FILE="$TMP/key" TOCSIN_GATEWAY_PORT=$GW_PORT \
  "$BIN/gateway/tocsin-gateway" >"$TMP/gateway.log" 2>&1 &
GW=$!
TEST_PIDS+=($GW)
wait_http "http://127.0.0.1:$GW_PORT/healthz"
assert_eq "$(signed $T 24680)" 200 "the gateway opens the demo credential with the key from the file"

# --- a credential opens only for its own sender row ---
T2=c0ffee00000000000000000000000002 "$CTL" sender add --org demo --address 13579 --provider twilio \
  --mps 1 --account-sid AC7c0c51a0000000000000000000000001 --auth-token-env T2 >/dev/null
assert_eq "$(signed c0ffee00000000000000000000000002 13579)" 200 "the second sender's own credential"
sql "UPDATE senders SET credentials_sealed = (SELECT credentials_sealed FROM senders WHERE address = '24680')
      WHERE address = '13579'" >/dev/null
# The gateway hears of the change (NOTIFY) and looks the sender up again.
signed_is() { WAIT_LAST=$(signed "$1" "$2"); [ "$WAIT_LAST" == "$3" ]; }
wait_until 60 "a credential copied to another sender row to be refused (503)" signed_is $T 13579 503
assert_contains "$(cat "$TMP/gateway.log")" "sender_unusable" "logged"
assert_eq "$(sql "SELECT credentials_sealed LIKE 'v2.%' FROM senders WHERE address = '24680'")" t "sealed in the bound format"

# --- old credentials are re-sealed by migrate ---
legacy=$("$BIN/tests/prog_seal_legacy" "$KEY" c0ffee00000000000000000000000002)
sql "UPDATE senders SET credentials_sealed = '$legacy' WHERE address = '13579'" >/dev/null
wait_until 60 "an unbound credential to be refused by a daemon (503)" signed_is c0ffee00000000000000000000000002 13579 503
assert_contains "$(env -u TOCSIN_SECRET_KEY "$CTL" migrate 2>&1)" "1 sender credential(s) in the old format" "migrate without the key says what is left"
assert_contains "$("$CTL" migrate)" "re-sealed 1 sender credential(s)" "migrate re-seals it"
assert_eq "$(sql "SELECT credentials_sealed LIKE 'v2.%' FROM senders WHERE address = '13579'")" t "now bound"
wait_until 60 "the re-sealed credential to open (200)" signed_is c0ffee00000000000000000000000002 13579 200

# --- http:// carrier URLs only in test mode ---
rc=0; out=$(T3=x env -u TOCSIN_ALLOW_INSECURE_CARRIER_URLS "$CTL" sender add --org demo --address 24681 \
  --provider twilio --mps 1 --account-sid AC7c0c51a0000000000000000000000002 --auth-token-env T3 \
  --base-url http://carrier.example 2>&1) || rc=$?
assert_eq "$rc" 1 "tocsinctl refuses an http:// carrier URL"
assert_contains "$out" "TOCSIN_ALLOW_INSECURE_CARRIER_URLS" "and names the setting"
SIM_PORT=$(free_port)
"$BIN/ops/tocsin-carrier-sim" --port "$SIM_PORT" --gateway "http://127.0.0.1:$GW_PORT" >"$TMP/sim.log" 2>&1 &
TEST_PIDS+=($!)
wait_http "http://127.0.0.1:$SIM_PORT/healthz"
sql "UPDATE senders SET base_url = 'http://127.0.0.1:$SIM_PORT' WHERE address = '24680'" >/dev/null
# Due at the workers' fake clock (noon in California, outside quiet hours).
sql "INSERT INTO messages (org_id, sender_id, provider, to_phone, body, encoding, segments, lane, purpose, not_before)
     SELECT org_id, id, 'twilio', '+14155550177', 'hello', 'GSM-7', 1, 'bulk', 'blast', to_timestamp(1767816000 - 60)
       FROM senders WHERE address = '24680'" >/dev/null
env -u TOCSIN_ALLOW_INSECURE_CARRIER_URLS TOCSIN_WORKER_FAKE_NOW=1767816000 TOCSIN_WORKER_METRICS_PORT=$(free_port) TOCSIN_WORKER_POLL_MS=200 \
  "$BIN/worker/tocsin-worker" >"$TMP/worker.log" 2>&1 &
W=$!
TEST_PIDS+=($W)
wait_until 60 "the worker to refuse an http:// carrier URL" file_has "$TMP/worker.log" insecure
assert_contains "$(cat "$TMP/worker.log")" "sender_unusable" "the worker refuses an http:// carrier URL"
assert_contains "$(cat "$TMP/worker.log")" "TOCSIN_ALLOW_INSECURE_CARRIER_URLS" "and names the setting"
assert_eq "$(sql "SELECT state FROM messages WHERE to_phone = '+14155550177'")" queued "nothing sent"
kill -TERM $W; wait $W || true
TOCSIN_ALLOW_INSECURE_CARRIER_URLS=1 TOCSIN_WORKER_FAKE_NOW=1767816000 TOCSIN_WORKER_METRICS_PORT=$(free_port) TOCSIN_WORKER_POLL_MS=200 \
  "$BIN/worker/tocsin-worker" >"$TMP/worker2.log" 2>&1 &
W=$!
TEST_PIDS+=($W)
settled() { case "$(sql "SELECT state FROM messages WHERE to_phone = '+14155550177'")" in queued|sending) return 1 ;; esac; }
wait_until 60 "the message to leave the queue" settled
st=$(sql "SELECT state || coalesce(' ' || error_code, '') FROM messages WHERE to_phone = '+14155550177'")
[[ "$st" == sent* || "$st" == delivered* ]] || { tail -5 "$TMP/worker2.log" >&2; fail "sent in test mode: $st"; }
echo "test_secret_key: ok"
