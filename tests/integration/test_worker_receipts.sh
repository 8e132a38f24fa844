#!/usr/bin/env bash
# Delivery receipts end to end: the simulator posts signed status callbacks
# to a real gateway, sometimes before it answered the worker's request
# (the receipt waits in delivery_receipts_pending until the worker records
# the provider id) and always twice. Every message ends 'delivered' or
# 'undelivered' with its error code, nothing is left pending, and a late
# 'sent' never moves a message back. A receipt left pending by a race with
# the recording of its id is applied by the worker's sweep.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/worker_lib.sh"
GW_PORT=$(free_port)
export TOCSIN_PUBLIC_URL="http://127.0.0.1:$GW_PORT"
TOCSIN_GATEWAY_PORT=$GW_PORT "$BIN/gateway/tocsin-gateway" >"$TMP/gateway.log" 2>&1 & TEST_PIDS+=($!)
wait_http "http://127.0.0.1:$GW_PORT/healthz"
# This test's own simulator posts receipts to that gateway.
SIM_PORT=$(free_port)
SIM="http://127.0.0.1:$SIM_PORT"
"$BIN/ops/tocsin-carrier-sim" --port "$SIM_PORT" --gateway "http://127.0.0.1:$GW_PORT" --receipt-delay-ms 50 \
  --fail-prefix +141555501 >"$TMP/sim2.log" 2>&1 & TEST_PIDS+=($!)
wait_http "$SIM/healthz"
sql "UPDATE senders SET base_url = '$SIM'"
sender_rate 200
curl -s -XPOST "$SIM/sim/faults" -d '{"receipts_before_response": true, "duplicate_receipts": true}' >/dev/null
enqueue_bulk 1 200 "Receipt"
start_worker a
wait_sql "SELECT count(*) FROM messages WHERE body LIKE 'Receipt %' AND state IN ('delivered', 'undelivered')" 200 60
assert_eq "$(sql "SELECT count(*) FROM delivery_receipts_pending")" 0 "early receipts were matched"
assert_eq "$(sql "SELECT count(*) FROM messages WHERE state = 'undelivered' AND error_code = '30003'")" 100 "the failing prefix ends undelivered with its code"
assert_eq "$(sql "SELECT count(*) FROM messages WHERE state = 'delivered' AND finalized_at IS NOT NULL")" 100 "the rest delivered"
early=$(grep -c 'outcome=pending' "$TMP/gateway.log" || true)
[ "$early" -gt 0 ] || fail "no receipt came before its provider id: the test did not test that"
echo "receipts that came before the provider id was recorded (logged by the gateway): $early"
assert_eq "$(sim_dupes)" 0 "nobody texted twice"

# The race schema 014 repairs: a receipt stored pending while the worker
# was recording its message's id (each transaction missed the other's
# row). The worker's sweep applies it within a few seconds.
sql "SELECT tocsin_apply_receipt('twilio', 'SMrace0000000000000000000000000001', (SELECT id FROM senders), 'delivered', NULL, '{}')" >/dev/null
sql "INSERT INTO messages (org_id, sender_id, provider, to_phone, body, encoding, segments, lane, purpose,
                           state, provider_message_id, sent_at)
     SELECT s.org_id, s.id, s.provider, '+14155550999', 'Race', 'GSM-7', 1, 'conversational', 'reply',
            'sent', 'SMrace0000000000000000000000000001', now()
       FROM senders s" >/dev/null
wait_sql "SELECT state FROM messages WHERE provider_message_id = 'SMrace0000000000000000000000000001'" delivered 15
assert_eq "$(sql "SELECT count(*) FROM delivery_receipts_pending")" 0 "the late match left nothing pending"
grep -q 'event=receipts_rematched count=1' "$TMP/worker-a.log" || fail "the worker should log the rematch"
echo "test_worker_receipts: ok"
