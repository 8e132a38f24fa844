#!/usr/bin/env bash
# tocsin-gateway under a junk-webhook flood: requests that fail their
# signature spend only their own address's budget, so a correctly signed
# webhook (a STOP) from the same address is still taken; an address out
# of budget no longer costs sender lookups; X-Forwarded-For from an
# untrusted peer is ignored in the limits and the log.
source "$(dirname "$0")/lib.sh"
fresh_db
export TOCSIN_SECRET_KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
"$BIN/ops/tocsinctl" migrate >/dev/null
"$BIN/ops/tocsinctl" demo-seed >/dev/null
T=7c0c51a0000000000000000000000000
GW_PORT=$(free_port)
export TOCSIN_PUBLIC_URL="http://127.0.0.1:$GW_PORT"
TOCSIN_GATEWAY_PORT=$GW_PORT TOCSIN_GATEWAY_RATE_PER_IP=1 \
  "$BIN/gateway/tocsin-gateway" >"$TMP/gateway.log" 2>&1 & GW=$!
TEST_PIDS+=($GW)
wait_http "http://127.0.0.1:$GW_PORT/healthz"

# signed PATH TOKEN k=v...: a hand-signed Twilio webhook with X-Forwarded-For
# $XFF; prints the status.
signed() {
  local path=$1 token=$2; shift 2
  local url="http://127.0.0.1:$GW_PORT$path" args=() kv sig
  sig=$(twilio_signature "$url" "$token" "$@")
  for kv in "$@"; do args+=(--data-urlencode "$kv"); done
  curl -s -o "$TMP/last" -w '%{http_code}' -H "X-Twilio-Signature: $sig" \
    -H "X-Forwarded-For: ${XFF:-}" "$url" "${args[@]}"
}

# 60 junk webhooks (wrong signature) from one address, each claiming a
# different forwarded address: the peer is not a trusted proxy, so they all
# count against 127.0.0.1.
for i in $(seq 1 60); do
  XFF="198.51.100.$i" signed /twilio/inbound wrong-token MessageSid=SMjunk$i From=+14155550170 To=24680 Body=junk >>"$TMP/junk"
  echo >>"$TMP/junk"
done
assert_eq "$(grep -c '^403$' "$TMP/junk")" 60 "junk is refused for its signature"
# The member's STOP, correctly signed, from the same address.
assert_eq "$(signed /twilio/inbound "$T" MessageSid=SMstop0001 From=+14155550171 To=24680 Body=STOP)" 200 \
  "an authentic STOP is taken after a junk flood from its address"
assert_eq "$(sql "SELECT count(*) FROM opt_outs WHERE phone = '+14155550171'")" 1 "the STOP opted the member out"
# Junk for numbers the gateway has never seen no longer reaches the
# database from an address that keeps spending its budget (1/s, burst 2):
# 10 junk webhooks to 10 unknown numbers are all refused, and only those
# the budget allowed (its burst, plus one a second the run took) cost a
# sender lookup — without the budget each would (10).
lookups() { curl -s "http://127.0.0.1:$GW_PORT/metrics" | sed -n 's/^tocsin_gateway_sender_lookups_total //p'; }
l0=$(lookups) t0=$SECONDS
codes=$(for i in $(seq 1 10); do signed /twilio/inbound wrong-token MessageSid=SMjunkx$i From=+14155550170 To=9999$i Body=junk; echo; done)
[ -z "$(grep -vE '^(403|429)$' <<<"$codes")" ] || fail "junk to unknown numbers is refused: $codes"
allowed=$(( 2 + SECONDS - t0 ))
[ $(( $(lookups) - l0 )) -le $allowed ] ||
  fail "an out-of-budget address made $(( $(lookups) - l0 )) sender lookups in $((SECONDS - t0)) s (at most $allowed)"
assert_eq "$(signed /twilio/inbound "$T" MessageSid=SMok0002 From=+14155550172 To=24680 Body=hello)" 200 \
  "authentic webhooks still pass"
kill -TERM $GW; wait $GW 2>/dev/null || true
grep -q 'remote=127.0.0.1' "$TMP/gateway.log" || fail "the log names the peer"
if grep -q 'remote=198.51.100' "$TMP/gateway.log"; then fail "an untrusted X-Forwarded-For reached the log"; fi
echo ok
