#!/usr/bin/env bash
# Delivery receipts are scoped to the sender whose credentials signed them:
# a status callback signed with one org's token, naming another org's
# message id, changes nothing and is not kept pending; receipts kept
# pending match only their own sender's message (at the worker's record of
# ids and at its sweep); and delivery_receipts_pending is bounded: older
# than a day or beyond 10000 rows per sender, receipts are dropped.
source "$(dirname "$0")/lib.sh"
fresh_db
export TOCSIN_SECRET_KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
CTL="$BIN/ops/tocsinctl"
"$CTL" migrate >/dev/null
"$CTL" demo-seed >/dev/null
T=7c0c51a0000000000000000000000000 # the demo short code's token
"$CTL" org create rival --name "Rival" >/dev/null
echo "rival-token-0000" | "$CTL" sender add --org rival --address 13579 --provider twilio \
  --account-sid AC0123456789abcdef0123456789abcdef --mps 5 --auth-token-stdin >/dev/null
A=$(sql "SELECT id FROM senders WHERE address = '24680'")
B=$(sql "SELECT id FROM senders WHERE address = '13579'")
GW_PORT=$(free_port)
export TOCSIN_PUBLIC_URL="http://127.0.0.1:$GW_PORT"
TOCSIN_GATEWAY_PORT=$GW_PORT "$BIN/gateway/tocsin-gateway" >"$TMP/gateway.log" 2>&1 & TEST_PIDS+=($!)
wait_http "http://127.0.0.1:$GW_PORT/healthz"

# signed PATH TOKEN k=v...: a hand-signed Twilio webhook; prints the HTTP status.
signed() {
  local path=$1 token=$2; shift 2
  local url="http://127.0.0.1:$GW_PORT$path" concat="" args=() kv
  while IFS= read -r kv; do concat+="${kv%%=*}${kv#*=}"; done < <(printf '%s\n' "$@" | LC_ALL=C sort)
  local sig
  sig=$(printf '%s' "$url$concat" | openssl dgst -sha1 -hmac "$token" -binary | base64)
  for kv in "$@"; do args+=(--data-urlencode "$kv"); done
  curl -s -o "$TMP/last" -w '%{http_code}' -H "X-Twilio-Signature: $sig" "$url" "${args[@]}"
}
sent_msg() { # SENDER_ID SID: a sent message of that sender's org with that provider id
  sql "INSERT INTO messages (org_id, sender_id, provider, to_phone, body, encoding, segments, lane, purpose,
                             state, provider_message_id, sent_at)
       SELECT org_id, id, 'twilio', '+14155550123', 'hello', 'GSM-7', 1, 'conversational', 'reply',
              'sent', '$2', now() FROM senders WHERE id = $1" >/dev/null
}

# --- another org's signed callback cannot touch this org's message ---
sent_msg "$A" SMvictim0001
assert_eq "$(signed /twilio/status rival-token-0000 MessageSid=SMvictim0001 MessageStatus=failed ErrorCode=30007 From=13579 To=+14155550123)" 200 \
  "the rival's callback is authentic (its own token)"
assert_eq "$(sql "SELECT state || ' ' || coalesce(error_code, '-') FROM messages WHERE provider_message_id = 'SMvictim0001'")" "sent -" \
  "another sender's receipt leaves the message alone"
assert_eq "$(sql "SELECT count(*) FROM delivery_receipts_pending")" 0 "and is not kept to match later"
grep -q 'event=receipt .*message_sid=SMvictim0001 outcome=foreign' "$TMP/gateway.log" || fail "the gateway logs the foreign receipt"
assert_eq "$(signed /twilio/status "$T" MessageSid=SMvictim0001 MessageStatus=delivered From=24680 To=+14155550123)" 200 "its own sender's receipt"
assert_eq "$(sql "SELECT state FROM messages WHERE provider_message_id = 'SMvictim0001'")" delivered "applies"

# --- pending receipts match their own sender's message only ---
assert_eq "$(signed /twilio/status rival-token-0000 MessageSid=SMearly0001 MessageStatus=failed From=13579 To=+14155550123)" 200 "an early receipt from the rival"
assert_eq "$(sql "SELECT sender_id FROM delivery_receipts_pending WHERE provider_message_id = 'SMearly0001'")" "$B" "kept pending under the sender that signed it"
sent_msg "$A" SMearly0001
assert_eq "$(sql "SELECT tocsin_receipts_rematch()")" 0 "the sweep does not apply it to another sender's message"
assert_eq "$(sql "SELECT state FROM messages WHERE provider_message_id = 'SMearly0001'")" sent "still sent"
# The worker's record of ids matches the same way (tocsin_record_outcomes).
sql "UPDATE messages SET state = 'sending', claimed_by = 'w1', lease_until = now() + interval '1 minute', provider_message_id = NULL WHERE provider_message_id = 'SMearly0001'" >/dev/null
mid=$(sql "SELECT id FROM messages WHERE to_phone = '+14155550123' AND state = 'sending'")
sql "SELECT tocsin_record_outcomes('w1', ARRAY[$mid]::bigint[], ARRAY['sent'], ARRAY['SMearly0001'], ARRAY[NULL]::text[], ARRAY[NULL]::text[], ARRAY[0], ARRAY[false])" >/dev/null
assert_eq "$(sql "SELECT state FROM messages WHERE id = $mid")" sent "recording the id does not apply another sender's pending receipt"
assert_eq "$(signed /twilio/status "$T" MessageSid=SMearly0002 MessageStatus=delivered From=24680 To=+14155550123)" 200 "an early receipt of our own"
sent_msg "$A" SMearly0002
assert_eq "$(sql "SELECT tocsin_receipts_rematch()")" 1 "the sweep applies a sender's own pending receipt"
assert_eq "$(sql "SELECT state FROM messages WHERE provider_message_id = 'SMearly0002'")" delivered "delivered"

# --- the pending table is bounded ---
sql "DELETE FROM delivery_receipts_pending" >/dev/null
sql "INSERT INTO delivery_receipts_pending (provider, provider_message_id, sender_id, status, received_at)
     SELECT 'twilio', 'SMold' || g, $B, 'delivered', now() - interval '25 hours' FROM generate_series(1, 5) g" >/dev/null
sql "INSERT INTO delivery_receipts_pending (provider, provider_message_id, sender_id, status, received_at)
     SELECT 'twilio', 'SMflood' || g, $B, 'delivered', now() - (g || ' ms')::interval FROM generate_series(1, 10000) g" >/dev/null
assert_eq "$(sql "SELECT tocsin_apply_receipt('twilio', 'SMflood-more', $B, 'delivered', NULL, NULL)")" dropped \
  "a sender at its cap of pending receipts: the new one is dropped"
assert_eq "$(sql "SELECT tocsin_apply_receipt('twilio', 'SMmine', $A, 'delivered', NULL, NULL)")" pending \
  "another sender is not held back by it"
sql "INSERT INTO delivery_receipts_pending (provider, provider_message_id, sender_id, status)
     SELECT 'twilio', 'SMover' || g, $B, 'delivered' FROM generate_series(1, 7) g" >/dev/null
sql "SELECT tocsin_receipts_rematch()" >/dev/null
assert_eq "$(sql "SELECT count(*) FROM delivery_receipts_pending WHERE received_at < now() - interval '1 day'")" 0 "the sweep drops receipts older than a day"
assert_eq "$(sql "SELECT count(*) FROM delivery_receipts_pending WHERE sender_id = $B")" 10000 "and trims a sender to its newest 10000"
assert_eq "$(sql "SELECT count(*) FROM delivery_receipts_pending WHERE sender_id = $B AND provider_message_id LIKE 'SMover%'")" 7 "keeping the newest"
assert_eq "$(sql "SELECT count(*) FROM delivery_receipts_pending WHERE sender_id = $A")" 1 "the other sender's receipt stays"
echo "test_receipt_scope: ok"
