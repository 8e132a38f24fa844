#!/usr/bin/env bash
# tocsin-worker on bad days, against the carrier simulator's faults: 429
# storms are retried (slower) until sent, exactly once; 500s and timeouts
# leave messages 'unknown' and are never resent; Twilio 21610 opts the
# member out and cancels what was queued for them; a worker killed with -9
# mid-blast is taken over by another, and no member is texted twice nor
# silently lost; quiet hours hold a bulk message until 08:00 in the
# recipient's zone (injectable clock).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/worker_lib.sh"
faults() { curl -s -XPOST "$SIM/sim/faults" -d "$1" >/dev/null; }
count() { curl -s "$SIM/sim/count" --get --data-urlencode "to=$1" --data-urlencode "body=$2" | jq .count; }
export TOCSIN_WORKER_LEASE_SECONDS=5 TOCSIN_WORKER_DISPATCH_LEASE_SECONDS=3 TOCSIN_WORKER_HTTP_TIMEOUT_MS=1000
sender_rate 200

# --- a 429 storm: everything goes out once, some of it later ---
faults '{"p429": 0.3}'
enqueue_bulk 1 100 "Storm"
start_worker a
wait_sql "SELECT count(*) FROM messages WHERE body LIKE 'Storm %' AND state = 'sent'" 100 90
assert_eq "$(sim_dupes)" 0 "nobody texted twice through a 429 storm"
retried=$(curl -s "http://127.0.0.1:$(grep -o 'port=[0-9]*' "$TMP/worker-a.log" | head -1 | cut -d= -f2)/metrics" | awk '/^tocsin_worker_retried_total/ {print $2}')
[ "${retried:-0}" -gt 0 ] || fail "a 30% 429 storm should have retried some messages"
grep -q sender_slowed "$TMP/worker-a.log" || fail "429s should slow the sender down"

# --- 500s and timeouts: unknown, never resent ---
faults '{"p429": 0, "p500": 1}'
enqueue_bulk 200 3 "Five"
wait_sql "SELECT count(*) FROM messages WHERE body LIKE 'Five %' AND state = 'unknown'" 3
faults '{"p500": 0, "ptimeout": 1}'
enqueue_bulk 300 3 "Late"
wait_sql "SELECT count(*) FROM messages WHERE body LIKE 'Late %' AND state = 'unknown'" 3
faults '{"ptimeout": 0, "pslow": 1, "slow_ms": 300}'
enqueue_bulk 400 3 "Slow"
wait_sql "SELECT count(*) FROM messages WHERE body LIKE 'Slow %' AND state = 'sent'" 3
faults '{"pslow": 0}'
# Claims after the unknowns: a message queued now and sent means the worker
# claimed again since, and would have picked an unknown one up with it.
enqueue_bulk 4000 1 "After"
wait_sql "SELECT state FROM messages WHERE body = 'After 4000'" sent
assert_eq "$(count +14155550300 'Late 300')" 1 "a timed-out message reached the carrier once"
assert_eq "$(count +14155550200 'Five 200')" 0 "the 500 was not retried"
assert_eq "$(sql "SELECT count(*) FROM messages WHERE state = 'unknown' AND attempts = 1")" 6 "unknown messages were tried once"

# --- 21610: the carrier says the member opted out ---
# A carrier that answers opt-outs itself (a short code does not since
# the simulator models both kinds): it refuses later sends with 21610.
curl -s -XPOST "$SIM/sim/senders" -d '{"number": "24680", "opt_out_handling": "carrier"}' >/dev/null
curl -s -XPOST "$SIM/sim/inbound" -d '{"from": "+14155550500", "to": "24680", "body": "STOP"}' >/dev/null
sql "INSERT INTO messages (org_id, sender_id, provider, to_phone, body, encoding, segments, lane, purpose, not_before)
     SELECT org_id, id, provider, '+14155550500', b, 'GSM-7', 1, 'bulk', 'blast', now() + (b = 'later')::int * interval '1 hour'
       FROM senders, unnest(ARRAY['first', 'later']) b"
wait_sql "SELECT state || ' ' || error_code FROM messages WHERE to_phone = '+14155550500' AND body = 'first'" "failed 21610"
assert_eq "$(sql "SELECT source FROM opt_outs WHERE phone = '+14155550500'")" carrier "21610 records the opt-out"
assert_eq "$(sql "SELECT state FROM messages WHERE to_phone = '+14155550500' AND body = 'later'")" cancelled "and cancels what was queued"
kill -TERM "$WORKER_PID_a"; wait "$WORKER_PID_a" || fail "worker a exit status"

# --- kill -9 mid-blast, then another worker takes over ---
sender_rate 100
enqueue_bulk 1000 400 "Kill"
start_worker b
wait_sql "SELECT count(*) > 50 FROM messages WHERE body LIKE 'Kill %' AND state = 'sent'" t
kill -9 "$WORKER_PID_b"; wait "$WORKER_PID_b" 2>/dev/null || true
in_limbo=$(sql "SELECT count(*) FROM messages WHERE body LIKE 'Kill %' AND tocsin_message_shown_state(id, state) = 'sending'")
echo "killed with $in_limbo messages claimed"
start_worker c
wait_sql "SELECT count(*) FROM messages WHERE body LIKE 'Kill %' AND state IN ('queued', 'sending')" 0 60
assert_eq "$(sim_dupes)" 0 "nobody texted twice across the kill"
sent=$(sql "SELECT count(*) FROM messages WHERE body LIKE 'Kill %' AND state IN ('sent', 'delivered')")
unknown=$(sql "SELECT count(*) FROM messages WHERE body LIKE 'Kill %' AND state = 'unknown'")
assert_eq "$(( sent + unknown ))" 400 "each message is sent or visibly unknown"
accepted=$(curl -s "$SIM/sim/messages" | jq '[.messages[] | select(.direction == "outbound" and (.body | startswith("Kill ")))] | length')
[ "$accepted" -ge "$sent" ] && [ "$accepted" -le 400 ] || fail "carrier accepted $accepted, we recorded $sent sent"
lost=$(curl -s "$SIM/sim/messages" | jq -r '.messages[] | select(.direction == "outbound" and (.body | startswith("Kill "))) | .body' | sort > "$TMP/accepted"
       sql "SELECT body FROM messages WHERE body LIKE 'Kill %' AND state = 'queued'" | sort > "$TMP/queued"
       comm -12 "$TMP/accepted" "$TMP/queued" | wc -l)
assert_eq "$lost" 0 "nothing the carrier accepted is queued to go again"
echo "kill -9: $sent sent, $unknown unknown (claimed at the kill: $in_limbo)"
kill -TERM "$WORKER_PID_c"; wait "$WORKER_PID_c" || fail "worker c exit status"

# --- quiet hours, with the worker's clock set to 23:00 in New York ---
night=$(sql "SELECT extract(epoch FROM (date_trunc('day', now() AT TIME ZONE 'America/New_York') + interval '1 day 23 hours') AT TIME ZONE 'America/New_York')::bigint")
quiet() { # quiet PHONE BODY LANE ZONES END
  sql "INSERT INTO messages (org_id, sender_id, provider, to_phone, body, encoding, segments, lane, purpose, recipient_zones, quiet_end_hour)
       SELECT org_id, id, provider, '$1', '$2', 'GSM-7', 1, '$3', 'blast', $4, $5 FROM senders"
}
quiet +13055550100 'Florida evening' bulk "'{America/New_York}'" 20
quiet +12125550101 'Night reply' conversational NULL 21
# 20:30 in Florida (quiet from 20:00): held; a conversational reply is not.
start_worker d TOCSIN_WORKER_FAKE_NOW=$(( night - 9000 ))
wait_sql "SELECT state FROM messages WHERE body = 'Night reply'" sent
wait_sql "SELECT to_char(not_before AT TIME ZONE 'America/New_York', 'HH24:MI') FROM messages WHERE body = 'Florida evening'" "08:00"
assert_eq "$(sql "SELECT state FROM messages WHERE body = 'Florida evening'")" queued "20:30 in Florida waits"
kill -TERM "$WORKER_PID_d"; wait "$WORKER_PID_d" || true
quiet +12125550100 'Night owl' bulk "'{America/New_York}'" 21
start_worker e TOCSIN_WORKER_FAKE_NOW=$night
# Held until 08:00 the next morning (the worker saw it and moved it on).
wait_sql "SELECT to_char(not_before AT TIME ZONE 'America/New_York', 'YYYY-MM-DD HH24:MI') = to_char(to_timestamp($night) AT TIME ZONE 'America/New_York' + interval '1 day', 'YYYY-MM-DD 08:00') FROM messages WHERE body = 'Night owl'" t
assert_eq "$(sql "SELECT state FROM messages WHERE body = 'Night owl'")" queued "23:00 in New York waits"
assert_eq "$(count +12125550100 'Night owl')" 0 "nothing sent at night"
kill -TERM "$WORKER_PID_e"; wait "$WORKER_PID_e" || true
start_worker f TOCSIN_WORKER_FAKE_NOW=$(( night + 9 * 3600 + 60 ))
wait_sql "SELECT string_agg(state, ',' ORDER BY body) FROM messages WHERE body IN ('Night owl', 'Florida evening')" "sent,sent"
echo "test_worker_faults: ok"
