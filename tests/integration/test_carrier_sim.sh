#!/usr/bin/env bash
# tocsin-carrier-sim over loopback: Twilio's Messages API (auth, validation,
# the 201 resource and its escaping, GET by sid), signed status callbacks (sent, delivered,
# undelivered), members texting the short code (signed inbound webhooks;
# STOP honoured at the carrier with its own confirmation and 21610 on a
# Twilio long code, not filtered on a short code), faults (429, 500, reset and
# timeout after acceptance, duplicate receipts), counts and rates, shutdown.
source "$(dirname "$0")/lib.sh"
A=AC7c0c51a0000000000000000000000000
T=7c0c51a0000000000000000000000000
SINK_PORT=$(free_port)
SIM_PORT=$(free_port)
"$BIN/tests/prog_webhook_sink" "$SINK_PORT" "$T" "$TMP/hooks.log" & TEST_PIDS+=($!)
"$BIN/ops/tocsin-carrier-sim" --port "$SIM_PORT" --gateway "http://127.0.0.1:$SINK_PORT" \
  --receipt-delay-ms 50 --fail-prefix +1305555 >"$TMP/sim.log" 2>&1 & SIM=$!
TEST_PIDS+=($SIM)
SIM_URL="http://127.0.0.1:$SIM_PORT"
wait_http "$SIM_URL/healthz"
assert_sigpipe_ignored "$SIM" tocsin-carrier-sim
wait_http "http://127.0.0.1:$SINK_PORT/healthz"
API="$SIM_URL/2010-04-01/Accounts/$A/Messages.json"
CB="http://127.0.0.1:$SINK_PORT/twilio/status"

# send TO BODY [extra curl args]: prints "STATUS BODY".
send() {
  local to=$1 body=$2; shift 2
  curl -s -u "$A:$T" "$API" --data-urlencode "To=$to" --data-urlencode From=24680 \
    --data-urlencode "Body=$body" --data-urlencode "StatusCallback=$CB" -w ' %{http_code}' "$@"
}
# wait_hooks PATTERN N: until the sink logged N lines matching PATTERN.
hooks_ge() { WAIT_LAST=$(grep -c -- "$1" "$TMP/hooks.log" 2>/dev/null || true); [ "$WAIT_LAST" -ge "$2" ]; }
wait_hooks() { wait_until 60 "$2 webhooks matching \"$1\"" hooks_ge "$1" "$2"; }

out=$(send +14155552671 "Rally at 5 {bring signs}")
assert_contains "$out" " 201" "accepted"
sid=$(sed -E 's/.*"sid":"(SM[0-9a-f]{32})".*/\1/' <<<"$out")
[[ "$sid" =~ ^SM[0-9a-f]{32}$ ]] || fail "sid shape: $out"
assert_contains "$out" '"status":"queued"' "queued"
assert_contains "$out" '"num_segments":"1"' "segments as Twilio's string"
assert_contains "$out" "\"uri\":\"/2010-04-01/Accounts/$A/Messages/$sid.json\"" "uri"
assert_eq "$(jq -c 'keys_unsorted' <<<"${out% *}")" \
  '["account_sid","api_version","body","date_created","date_updated","date_sent","direction","error_code","error_message","from","messaging_service_sid","num_media","num_segments","price","price_unit","sid","status","to","uri","subresource_uris"]' \
  "Twilio's members, in Twilio's order"
assert_eq "$(jq -c '[.date_sent, .error_code, .price, .num_media, .subresource_uris.media]' <<<"${out% *}")" \
  "[null,null,null,\"0\",\"/2010-04-01/Accounts/$A/Messages/$sid/Media.json\"]" "nulls, strings and the media uri"
wait_hooks "MessageSid=$sid MessageStatus=delivered" 1
assert_eq "$(grep -c "MessageSid=$sid" "$TMP/hooks.log")" 2 "sent then delivered"
grep "MessageSid=$sid MessageStatus=sent" "$TMP/hooks.log" | grep -q "valid=1" || fail "sent callback signed"
grep "MessageSid=$sid MessageStatus=delivered" "$TMP/hooks.log" | grep -q "valid=1" || fail "delivered callback signed"
got=$(curl -s -u "$A:$T" "$SIM_URL/2010-04-01/Accounts/$A/Messages/$sid.json")
assert_contains "$got" '"status":"delivered"' "GET by sid shows the final status"

out=$(send +13055550100 "hello")
fsid=$(sed -E 's/.*"sid":"(SM[0-9a-f]{32})".*/\1/' <<<"$out")
wait_hooks "MessageSid=$fsid MessageStatus=undelivered ErrorCode=30003" 1

# Twilio's checks and error shape.
out=$(curl -s -u "$A:wrong" "$API" -d Body=x -w ' %{http_code}')
assert_contains "$out" '{"code":20003,"message":"Authenticate","more_info":"https://www.twilio.com/docs/errors/20003","status":401} 401' "bad credentials"
out=$(curl -s -u "$A:$T" "$API" --data-urlencode From=24680 -d Body=x -w ' %{http_code}')
assert_contains "$out" '"code":21604' "missing To"
out=$(curl -s -u "$A:$T" "$API" --data-urlencode To=+14155552671 -d Body=x -w ' %{http_code}')
assert_contains "$out" '"code":21603' "missing From"
out=$(send 4155552671 "x")
assert_contains "$out" '"code":21211' "To not E.164"
out=$(send +14155552671 "$(printf 'a%.0s' $(seq 1 1601))")
assert_contains "$out" '"code":21617' "body over 1600"
code=$(curl -s -o /dev/null -w '%{http_code}' -u "$A:$T" "$SIM_URL/2010-04-01/Accounts/$A/Messages/SM00000000000000000000000000000000.json")
assert_eq "$code" 404 "unknown sid"

# Counts and rates.
n=$(curl -s "$SIM_URL/sim/count" --get --data-urlencode to=+14155552671 --data-urlencode "body=Rally at 5 {bring signs}")
assert_eq "$n" '{"count":1}' "exactly one accepted"
assert_contains "$(curl -s "$SIM_URL/sim/rates?from=24680")" '"max":' "rates"
# A body with quotes, backslashes, control characters and non-ASCII text
# comes back escaped (\uXXXX, as jansson writes it) and unchanged.
tricky=$'say "hi" \\ a/b\ttab\nline\x01 caf\u00e9 \U0001F4E3'
out=$(send +14155552672 "$tricky")
assert_contains "$out" '"body":"say \"hi\" \\ a/b\ttab\nline\u0001 caf\u00E9 \uD83D\uDCE3"' "the body escaped"
assert_eq "$(jq -r .body <<<"${out% *}")" "$tricky" "the body round-trips"
assert_eq "$(curl -s "$SIM_URL/sim/count" --get --data-urlencode to=+14155552672 --data-urlencode "body=$tricky")" \
  '{"count":1}' "counted under its own text"

# Faults: refused before acceptance (429, 500) count nothing...
curl -s -XPOST "$SIM_URL/sim/faults" -d '{"p429": 1}' >/dev/null
out=$(send +14155550001 "f429")
assert_contains "$out" '"code":20429' "429"
assert_contains "$out" " 429" "429 status"
curl -s -XPOST "$SIM_URL/sim/faults" -d '{"p429": 0, "p500": 1}' >/dev/null
assert_contains "$(send +14155550001 f500)" " 500" "500"
assert_eq "$(curl -s "$SIM_URL/sim/count?to=%2B14155550001&body=f429")" '{"count":0}' "429 accepted nothing"
# ...while a reset or a timeout after the request was read counts it.
curl -s -XPOST "$SIM_URL/sim/faults" -d '{"p500": 0, "preset": 1}' >/dev/null
rc=0; send +14155550002 reset >/dev/null || rc=$?
assert_eq "$rc" 52 "connection closed without a response"
assert_eq "$(curl -s "$SIM_URL/sim/count?to=%2B14155550002&body=reset")" '{"count":1}' "reset after acceptance"
curl -s -XPOST "$SIM_URL/sim/faults" -d '{"preset": 0, "ptimeout": 1}' >/dev/null
rc=0; send +14155550003 timeout --max-time 1 >/dev/null || rc=$?
assert_eq "$rc" 28 "timed out"
assert_eq "$(curl -s "$SIM_URL/sim/count?to=%2B14155550003&body=timeout")" '{"count":1}' "timeout after acceptance"
curl -s -XPOST "$SIM_URL/sim/faults" -d '{"ptimeout": 0, "duplicate_receipts": true}' >/dev/null
out=$(send +14155550004 dup)
dsid=$(sed -E 's/.*"sid":"(SM[0-9a-f]{32})".*/\1/' <<<"$out")
wait_hooks "MessageSid=$dsid MessageStatus=delivered" 2
out=$(curl -s -XPOST "$SIM_URL/sim/faults" -d '{"p429": 2}' -w ' %{http_code}')
assert_contains "$out" "invalid p429" "bad fault value"
assert_contains "$(curl -s -XPOST "$SIM_URL/sim/faults" -d '{"nope": 1}' -w ' %{http_code}')" " 400" "unknown fault"

# A member texts the short code: a signed inbound webhook. A standalone
# short code's carrier does not filter STOP: the program answers it.
out=$(curl -s -XPOST "$SIM_URL/sim/inbound" -d '{"from": "+14155559999", "to": "24680", "body": "JOIN"}')
assert_contains "$out" '"gateway_status":200' "gateway answered"
wait_hooks "/twilio/inbound valid=1 .*From=+14155559999 To=24680 Body=JOIN" 1
curl -s -XPOST "$SIM_URL/sim/inbound" -d '{"from": "+14155559999", "to": "24680", "body": " stop! "}' >/dev/null
assert_contains "$(send +14155559999 'confirmation after stop')" " 201" "a short code's carrier does not filter"
assert_eq "$(curl -s "$SIM_URL/sim/phones/+14155559999" | jq '[.messages[] | select(.sent_by == "carrier")] | length')" 0 \
  "and sends no confirmation of its own"
# A Twilio long code: the carrier keeps its own opt-out list, confirms once
# itself, refuses the program with 21610 until START. The message is read as
# Tocsin reads it: inverted marks, accents, fullwidth, emoji.
LONG=+18005550142
send_from() { # send_from FROM TO BODY
  curl -s -u "$A:$T" "$API" --data-urlencode "To=$2" --data-urlencode "From=$1" \
    --data-urlencode "Body=$3" -w ' %{http_code}'
}
inbound_long() { curl -s -XPOST "$SIM_URL/sim/inbound" -d "$(jq -nc --arg f "$1" --arg t "$LONG" --arg b "$2" '{from: $f, to: $t, body: $b}')" >/dev/null; }
for body in ' stop! ' $'\xc2\xa1STOP!' $'\xef\xbc\xb3\xef\xbc\xb4\xef\xbc\xaf\xef\xbc\xb0' $'Stop \xf0\x9f\x9b\x91' $'\xe2\x80\x9cUnsubscribe\xe2\x80\x9d'; do
  P=+1415555$(printf '%04d' $((RANDOM % 10000)))
  inbound_long "$P" "$body"
  assert_contains "$(send_from $LONG "$P" 'after stop')" '"code":21610' "21610 after \"$body\" to a long code"
  assert_eq "$(curl -s "$SIM_URL/sim/phones/$P" | jq -c '[.messages[] | select(.direction == "outbound") | .sent_by]')" '["carrier"]' \
    "the carrier confirmed \"$body\" once"
  inbound_long "$P" "STOP"
  assert_eq "$(curl -s "$SIM_URL/sim/phones/$P" | jq '[.messages[] | select(.sent_by == "carrier")] | length')" 1 "once, even twice"
  inbound_long "$P" "start"
  assert_contains "$(send_from $LONG "$P" 'after start')" " 201" "START lifts it"
done
# Spanish words are the program's to answer, even on a long code.
inbound_long +14155550777 $'\xc2\xa1ALTO!'
assert_contains "$(send_from $LONG +14155550777 'confirmacion')" " 201" "ALTO is not the carrier's"
# Configured either way.
assert_contains "$(curl -s -XPOST "$SIM_URL/sim/senders" -d '{"number": "24680", "opt_out_handling": "carrier"}')" '"opt_out_handling":"carrier"' "set"
curl -s -XPOST "$SIM_URL/sim/inbound" -d '{"from": "+14155559998", "to": "24680", "body": "STOP"}' >/dev/null
assert_contains "$(send +14155559998 'after stop')" '"code":21610' "a short code set to carrier handling filters"
assert_contains "$(curl -s -XPOST "$SIM_URL/sim/senders" -d '{"number": "24680", "opt_out_handling": "sometimes"}' -w ' %{http_code}')" " 400" "bad handling"
curl -s -XPOST "$SIM_URL/sim/senders" -d '{"number": "24680", "opt_out_handling": "program"}' >/dev/null
curl -s -XPOST "$SIM_URL/sim/inbound" -d '{"from": "+14155559999", "to": "24680", "body": "START"}' >/dev/null
assert_contains "$(send +14155559999 'after start')" " 201" "START"
thread=$(curl -s "$SIM_URL/sim/phones/+14155559999")
assert_contains "$thread" '"body":"JOIN"' "the phone's thread"
assert_contains "$thread" '"body":"after start"' "the thread shows what it received"
sids() { grep -o '"sid":"SM[0-9a-f]*"' <<<"$1" | tr '\n' ' '; }
assert_eq "$(sids "$(curl -s "$SIM_URL/sim/phones/%2B14155559999")")" "$(sids "$thread")" "a browser's %2B reaches the same phone"
assert_contains "$(curl -s -XPOST "$SIM_URL/sim/inbound" -d '{"from": "4155559999"}' -w ' %{http_code}')" " 400" "bad inbound"

# Telnyx: Bearer key, JSON, and Ed25519-signed events.
curl -s -XPOST "$SIM_URL/sim/faults" -d '{"duplicate_receipts": false}' >/dev/null
PK=$(curl -s "$SIM_URL/sim/telnyx/public-key" | sed -E 's/.*"public_key":"([^"]+)".*/\1/')
TSINK_PORT=$(free_port)
"$BIN/tests/prog_webhook_sink" "$TSINK_PORT" "$T" "$TMP/telnyx.log" "$PK" & TEST_PIDS+=($!)
wait_http "http://127.0.0.1:$TSINK_PORT/healthz"
TNX="$SIM_URL/v2/messages"
out=$(curl -s "$TNX" -H "Authorization: Bearer KEY_tocsin_demo" -H 'Content-Type: application/json' -w ' %{http_code}' \
  -d "{\"from\": \"+18005550199\", \"to\": \"+14155552671\", \"text\": \"Telnyx hello\", \"webhook_url\": \"http://127.0.0.1:$TSINK_PORT/telnyx/webhook\"}")
assert_contains "$out" '"record_type":"message"' "telnyx message object"
assert_eq "$(jq -c '.data | [.direction, .type, .from.phone_number, .to[0].phone_number, .to[0].status, .text, .media, .encoding, .parts, .webhook_url, .errors]' <<<"${out% *}")" \
  "[\"outbound\",\"SMS\",\"+18005550199\",\"+14155552671\",\"queued\",\"Telnyx hello\",[],\"GSM-7\",1,\"http://127.0.0.1:$TSINK_PORT/telnyx/webhook\",[]]" \
  "telnyx message members"
assert_contains "$out" '"status":"queued"' "telnyx queued"
assert_contains "$out" " 200" "telnyx 200"
wait_until 60 "the telnyx finalized event" file_has "$TMP/telnyx.log" "event=message.finalized"
assert_contains "$(cat "$TMP/telnyx.log")" "valid=1 event=message.sent status=sent text=Telnyx hello" "telnyx sent event, signed"
assert_contains "$(cat "$TMP/telnyx.log")" "valid=1 event=message.finalized status=delivered" "telnyx finalized, signed"
out=$(curl -s "$TNX" -H "Authorization: Bearer wrong-key-123" -d '{}' -w ' %{http_code}')
assert_contains "$out" '"code":"10009"' "telnyx bad key"
assert_contains "$out" " 401" "telnyx 401"
out=$(curl -s "$TNX" -H "Authorization: Bearer KEY_tocsin_demo" -d '{"from": "+18005550199", "to": "555", "text": "x"}' -w ' %{http_code}')
assert_contains "$out" " 422" "telnyx bad to"
assert_contains "$out" '"code":"40310"' "telnyx error code"
curl -s -XPOST "$SIM_URL/sim/faults" -d '{"fail_prefixes": []}' >/dev/null
out=$(curl -s -XPOST "$SIM_URL/sim/inbound" -d '{"from": "+14155558888", "to": "+18005550199", "body": "HELP", "provider": "telnyx"}')
assert_contains "$out" '"gateway_status":200' "telnyx inbound answered"
assert_contains "$(cat "$TMP/hooks.log")" "/telnyx/webhook valid=0 event=message.received status=webhook_delivered text=HELP" \
  "a member's message as a Telnyx event (this sink has no key to check it with)"

assert_contains "$(curl -s -XPOST "$SIM_URL/sim/reset")" '"reset":true' "reset"
assert_eq "$(curl -s "$SIM_URL/sim/count" --get --data-urlencode to=+14155552671 --data-urlencode "body=Rally at 5 {bring signs}")" '{"count":0}' "reset clears counts"

# The phones page: served, and it inserts message text only as text.
page=$(curl -s "$SIM_URL/sim/")
assert_contains "$page" "<title>Carrier simulator: phones</title>" "phones page"
assert_contains "$page" "div.textContent = m.body" "message bodies are shown as text"
! grep -q "innerHTML" <<<"$page" || fail "the phones page must not build HTML from message text"

rc=0; out=$("$BIN/ops/tocsin-carrier-sim" --faults '{"p429": 7}' 2>&1) || rc=$?
assert_eq "$rc" 2 "bad --faults"
assert_contains "$out" "invalid --faults: invalid p429" "bad --faults says why"

kill -TERM "$SIM"
rc=0; wait "$SIM" || rc=$?
assert_eq "$rc" 0 "clean exit on SIGTERM"
echo "test_carrier_sim: ok"
