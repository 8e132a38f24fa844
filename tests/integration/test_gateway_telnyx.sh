#!/usr/bin/env bash
# tocsin-gateway's Telnyx webhooks: JSON events signed with Ed25519 by an
# OpenSSL key (an implementation independent of ours), verified with the
# sender's public key; stale timestamps and tampered bodies refused; a
# member's message applied like Twilio's; receipts applied; other events
# acknowledged.
source "$(dirname "$0")/lib.sh"
demo_db
openssl genpkey -algorithm ED25519 -out "$TMP/key.pem" 2>/dev/null
PK=$(openssl pkey -in "$TMP/key.pem" -pubout -outform DER | tail -c 32 | base64 -w0)
TELNYX_KEY=KEY_test_123 "$CTL" sender add --org demo --address "(800) 555-0199" --provider telnyx --mps 20 \
  --api-key-env TELNYX_KEY --public-key "$PK" >/dev/null
GW_PORT=$(free_port)
TOCSIN_GATEWAY_PORT=$GW_PORT "$BIN/gateway/tocsin-gateway" >"$TMP/gateway.log" 2>&1 & GW=$!
TEST_PIDS+=($GW)
wait_http "http://127.0.0.1:$GW_PORT/healthz"

# post_event BODY [TIMESTAMP] [SIGN_THIS_BODY_INSTEAD]: prints the HTTP status.
post_event() {
  local body=$1 ts=${2:-$(date +%s)} signed=${3:-$1}
  printf '%s|%s' "$ts" "$signed" > "$TMP/msg"
  local sig
  sig=$(openssl pkeyutl -sign -inkey "$TMP/key.pem" -rawin -in "$TMP/msg" | base64 -w0)
  curl -s -o "$TMP/last" -D "$TMP/last.head" -w '%{http_code}' "http://127.0.0.1:$GW_PORT/telnyx/webhook" \
    -H 'Content-Type: application/json' -H "telnyx-timestamp: $ts" -H "telnyx-signature-ed25519: $sig" \
    --data-binary "$body"
}
received() { # received ID FROM TEXT
  printf '{"data":{"event_type":"message.received","id":"ev-%s","payload":{"id":"%s","direction":"inbound","from":{"phone_number":"%s"},"to":[{"phone_number":"+18005550199","status":"webhook_delivered"}],"text":"%s"},"record_type":"event"},"meta":{"attempt":1}}' "$1" "$1" "$2" "$3"
}

assert_eq "$(post_event "$(received 1111-a +14155550200 'Join!')")" 200 "signed member message"
assert_eq "$(sql "SELECT provider || ' ' || intent FROM inbound_messages WHERE provider_message_id = '1111-a'")" "telnyx keyword" "stored as a keyword"
assert_eq "$(sql "SELECT count(*) FROM messages WHERE to_phone = '+14155550200' AND provider = 'telnyx' AND purpose = 'confirmation'")" 1 "confirmation queued on the Telnyx sender"
assert_eq "$(post_event "$(received 1111-a +14155550200 'Join!')")" 200 "retried event"
assert_eq "$(sql "SELECT count(*) FROM inbound_messages WHERE provider_message_id = '1111-a'")" 1 "stored once"

n0=$(sql "SELECT count(*) FROM inbound_messages")
assert_eq "$(post_event "$(received 2222-b +14155550201 hi)" $(( $(date +%s) - 600 )))" 403 "stale timestamp"
assert_contains "$(cat "$TMP/last")" "more than 5 minutes" "says why"
assert_eq "$(post_event "$(received 2222-c +14155550201 hi)" "" "$(received 2222-c +14155550201 hello)")" 403 "tampered body"
# An event for a number we do not have is answered exactly as a bad
# signature (status, headers, body): configured numbers cannot be probed.
cp "$TMP/last" "$TMP/bad_sig.body"; cp "$TMP/last.head" "$TMP/bad_sig.head"
unknown=$(received 2222-d +14155550201 hi | sed 's/+18005550199/+18005550198/')
assert_eq "$(post_event "$unknown")" 403 "unknown To: as a bad signature"
cmp -s "$TMP/bad_sig.body" "$TMP/last" || fail "unknown To: body differs from a bad signature's: $(cat "$TMP/last")"
cmp -s "$TMP/bad_sig.head" "$TMP/last.head" || fail "unknown To: headers differ: $(diff "$TMP/bad_sig.head" "$TMP/last.head")"
assert_eq "$(post_event "$unknown" $(( $(date +%s) - 600 )))" 403 "unknown To, stale timestamp"
assert_contains "$(cat "$TMP/last")" "more than 5 minutes" "as a stale signature"
assert_eq "$(sql "SELECT count(*) FROM inbound_messages")" "$n0" "nothing stored"
assert_eq "$(post_event '{"data": []}')" 400 "malformed event"

sql "UPDATE messages SET state = 'sent', provider_message_id = 'out-1', sent_at = now() WHERE to_phone = '+14155550200'" >/dev/null
final='{"data":{"event_type":"message.finalized","id":"ev-9","payload":{"id":"out-1","direction":"outbound","from":{"phone_number":"+18005550199"},"to":[{"phone_number":"+14155550200","status":"delivery_failed"}],"errors":[{"code":"40002","title":"Blocked"}]}}}'
assert_eq "$(post_event "$final")" 200 "finalized receipt"
assert_eq "$(sql "SELECT state || ' ' || error_code FROM messages WHERE provider_message_id = 'out-1'")" "undelivered 40002" "receipt applied"
other='{"data":{"event_type":"number_order.complete","id":"ev-10","payload":{}}}'
assert_eq "$(post_event "$other")" 200 "other events acknowledged"
kill -TERM "$GW"
rc=0; wait "$GW" || rc=$?
assert_eq "$rc" 0 "clean stop"

# A junk flood spends only its address's unverified budget (1/s, burst
# 2): malformed events still get 400 (no lookup is needed to refuse them),
# but once the budget is spent, events for numbers the gateway has not
# cached get 429 instead of a database lookup each.
GW_PORT=$(free_port)
TOCSIN_GATEWAY_RATE_PER_IP=1 TOCSIN_GATEWAY_PORT=$GW_PORT "$BIN/gateway/tocsin-gateway" >"$TMP/gateway2.log" 2>&1 &
TEST_PIDS+=($!)
wait_http "http://127.0.0.1:$GW_PORT/healthz"
codes=$(for i in $(seq 1 25); do curl -s -o /dev/null -w '%{http_code} ' -XPOST "http://127.0.0.1:$GW_PORT/telnyx/webhook" -d '{}'; done)
assert_eq "$(tr ' ' '\n' <<<"$codes" | grep -c 400)" 25 "malformed events are refused"
# 20 at once, each to a different number nobody has: the budget (burst 2,
# then 1/s) serves at most a few of them however slowly the machine runs
# them, so some must get 429 (in a row, a loaded machine could take a
# second a request and refill it). Different numbers, because a number
# looked up and not found is remembered for a while (no budget spent on
# it again): with one number, a first answer back before the others went
# out left no 429 to see (it failed so in a fresh-clone run).
for i in $(seq 1 20); do
  received "3333-x$i" +14155550202 hi | sed "s/+18005550199/+1800555$((2000 + i))/" >"$TMP/unknown$i"
done
pids=()
for i in $(seq 1 20); do
  curl -s -D "$TMP/h$i" -o /dev/null -w '%{http_code}' -XPOST "http://127.0.0.1:$GW_PORT/telnyx/webhook" \
    -d "@$TMP/unknown$i" >"$TMP/code$i" &
  pids+=($!)
done
# Each curl's own status is not the point (its code file says what came
# back, 000 for none), and a bare `wait` would end the test silently on one.
for p in "${pids[@]}"; do wait "$p" || true; done
refused=$(grep -l '^429$' "$TMP"/code* | head -1 || true)
[ -n "$refused" ] || fail "an address out of unverified budget gets no lookups for unknown numbers: $(cat "$TMP"/code*)"
cp "$TMP/h${refused##*code}" "$TMP/h"
grep -qi '^Retry-After: 1' "$TMP/h" || fail "429 without Retry-After"
unverified=$(curl -s "http://127.0.0.1:$GW_PORT/metrics" | awk '$1 == "tocsin_gateway_unverified_total" { print $2 }')
[ "${unverified:-0}" -ge 25 ] && [ "$unverified" -le 45 ] || fail "unverified webhooks counted: ${unverified:-none}"
echo "test_gateway_telnyx: ok"
