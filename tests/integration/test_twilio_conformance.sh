#!/usr/bin/env bash
# Conformance with Twilio's own OpenAPI description (../shared/specs): the
# requests the worker's Twilio provider builds (worker/providers/twilio.c,
# sent by lib/http_client) and the simulator's answers pass through prism
# in proxy mode, which validates both against the spec and
# flags any mismatch in an sl-violations header. A request the spec rejects
# (no To) gets prism's 422, which shows the validator is really checking.
source "$(dirname "$0")/lib.sh"
SPEC="$TOCSIN_SOURCE_DIR/../shared/specs/twilio_api_v2010.json"
PRISM="$TOCSIN_SOURCE_DIR/tests/conformance/node_modules/.bin/prism"
[ -f "$SPEC" ] || fail "no Twilio spec at $SPEC (../shared beside the checkout)"
[ -x "$PRISM" ] || fail "prism is not installed: run ops/install-deps"
A=AC7c0c51a0000000000000000000000000
T=7c0c51a0000000000000000000000000
SIM_PORT=$(free_port)
PRISM_PORT=$(free_port)
"$BIN/ops/tocsin-carrier-sim" --port "$SIM_PORT" >"$TMP/sim.log" 2>&1 & TEST_PIDS+=($!)
"$PRISM" proxy --errors -h 127.0.0.1 -p "$PRISM_PORT" "$SPEC" "http://127.0.0.1:$SIM_PORT" >"$TMP/prism.log" 2>&1 &
TEST_PIDS+=($!)
wait_http "http://127.0.0.1:$SIM_PORT/healthz"
listening() { (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; }
wait_until 120 "the mock server on port $PRISM_PORT" listening "$PRISM_PORT"
BASE="http://127.0.0.1:$PRISM_PORT/2010-04-01/Accounts/$A"

# The provider's own request, through the validator: prism answers 422
# (outcome=failed) for a request the spec rejects, and adds an
# sl-violations header (ignored by the provider, so we look at prism's log).
out=$("$BIN/tests/prog_provider_send" twilio "http://127.0.0.1:$PRISM_PORT" "$A" "$T" 24680 +14155552671 \
  "Tocsin Demo Chapter: rally at 5 & bring signs. Reply STOP to cancel." http://127.0.0.1:8080/twilio/status)
assert_contains "$out" "outcome=sent id=SM" "the provider's create passes the spec"
! grep -q "Violation" "$TMP/prism.log" || fail "the create violates the spec: $(grep Violation "$TMP/prism.log")"
sid=$(sed -E 's/.*id=(SM[0-9a-f]{32}).*/\1/' <<<"$out")

curl -s -u "$A:$T" "$BASE/Messages/$sid.json" -D "$TMP/h2" -o "$TMP/b2"
assert_contains "$(head -1 "$TMP/h2")" "200" "fetch by sid"
! grep -qi '^sl-violations' "$TMP/h2" || fail "fetch violates the spec: $(grep -i sl-violations "$TMP/h2")"
assert_contains "$(cat "$TMP/b2")" "\"sid\":\"$sid\"" "fetched the same message"

# A request the spec rejects never reaches the simulator.
code=$(curl -s -o "$TMP/b3" -w '%{http_code}' -u "$A:$T" "$BASE/Messages.json" \
  --data-urlencode From=24680 --data-urlencode Body=x)
assert_eq "$code" 422 "prism rejects a create without To"
assert_contains "$(cat "$TMP/b3")" "required property 'To'" "and says why"
echo "test_twilio_conformance: ok"
