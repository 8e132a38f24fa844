#!/usr/bin/env bash
# tocsin-worker end to end with the carrier simulator: three workers share
# one queue; every member is texted exactly once and no opted-out number
# at all (except the one confirmation of an opt-out); conversational
# messages overtake a bulk backlog; the sender's rate is never exceeded in
# any second the carrier saw (nor a carrier account's own limit) and the
# backlog drains; a STOP committed mid-send stops that number's messages;
# SIGTERM gives back what was claimed and exits 0. Only properties that hold
# on a slow machine are asserted: how near the limit a backlog runs is
# speed, measured by ops/bench/pacing.sh.
# ctest: RUN_SERIAL
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/worker_lib.sh"

RATE=40
sender_rate $RATE
enqueue_bulk 1 400 "Rally"
# Ten members opted out before the send.
sql "INSERT INTO opt_outs (org_id, phone, source) SELECT 1, '+1415555' || lpad(g::text, 4, '0'), 'admin' FROM generate_series(1, 100, 10) g"
# The one message that still goes to an opted-out number: its confirmation.
sql "INSERT INTO messages (org_id, sender_id, provider, to_phone, body, encoding, segments, lane, purpose)
     SELECT org_id, id, provider, '+14155550011', 'You are unsubscribed', 'GSM-7', 1, 'conversational', 'opt_out_confirmation' FROM senders"

start_worker a
start_worker b
start_worker c
# Mid-blast: the workers are through the first second's worth.
wait_until 60 "the blast under way" sql_gt "SELECT count(*) FROM messages WHERE lane = 'bulk' AND state = 'sent'" $RATE
# A member replies mid-blast: the volunteer's answer overtakes the backlog.
sql "INSERT INTO messages (org_id, sender_id, provider, to_phone, body, encoding, segments, lane, purpose)
     SELECT org_id, id, provider, '+14155559999', 'Volunteer reply', 'GSM-7', 1, 'conversational', 'reply' FROM senders"
wait_sql "SELECT state FROM messages WHERE body = 'Volunteer reply'" sent
behind=$(sql "SELECT count(*) FROM messages WHERE lane = 'bulk' AND state = 'queued'")
[ "$behind" -gt 100 ] || fail "the reply should overtake a backlog (only $behind bulk left)"
# It waited only for what was already in the workers' hands: counted in
# messages the carrier was sent meanwhile, not in seconds (a loaded machine
# stretches the seconds, not the count).
waited=$(sql "SELECT count(*) FROM messages b, messages r
               WHERE r.body = 'Volunteer reply' AND b.lane = 'bulk'
                 AND b.request_sent_at > r.created_at AND b.request_sent_at < r.request_sent_at")
[ "$waited" -le $(( RATE * 3 )) ] || fail "the reply waited behind $waited blast messages sent after it was queued"

# A STOP committed mid-blast (as the gateway commits it): nothing to that
# number afterwards, whatever was claimed already.
victim=+14155550399
sql "SELECT * FROM tocsin_receive_inbound('twilio', 'SMstop1', 1, '$victim', 'STOP', 0, 'opt_out', NULL, false, 'bye', 'GSM-7', 1)" >/dev/null
stop_ms=$(sql "SELECT (extract(epoch FROM opted_out_at) * 1000)::bigint FROM opt_outs WHERE phone = '$victim'")

wait_sql "SELECT count(*) FROM messages WHERE state IN ('queued', 'sending')" 0 120
assert_eq "$(sql "SELECT count(*) FROM messages WHERE purpose = 'blast' AND state = 'suppressed'")" 10 "opted-out members suppressed"
assert_eq "$(sql "SELECT count(*) FROM messages WHERE purpose = 'blast' AND state IN ('sent', 'delivered')")" 389 "every other member texted"
assert_eq "$(sql "SELECT state FROM messages WHERE to_phone = '$victim' AND purpose = 'blast'")" cancelled "the STOP cancelled its queued message"
assert_eq "$(sql "SELECT count(*) FROM messages WHERE state IN ('sent', 'delivered') AND provider_message_id IS NULL")" 0 "sent means a provider id"
assert_eq "$(sim_dupes)" 0 "nobody texted twice"
assert_eq "$(sim_accepted)" 392 "the carrier got 389 blast messages, the reply and two opt-out confirmations"
opted_got=$(curl -s "$SIM/sim/messages" | jq '[.messages[] | select(.direction == "outbound" and (.to | test("^\\+141555500[0-9]1$")) and .body != "You are unsubscribed")] | length')
assert_eq "$opted_got" 0 "no blast message reached an opted-out number"
assert_eq "$(curl -s "$SIM/sim/count" --get --data-urlencode 'to=+14155550011' --data-urlencode 'body=You are unsubscribed' | jq .count)" 1 "the opt-out confirmation went out"
late=$(curl -s "$SIM/sim/messages?to=$victim" | jq --argjson t "$stop_ms" '[.messages[] | select(.direction == "outbound" and .created_ms > $t and .body != "bye")] | length')
assert_eq "$late" 0 "nothing reached the STOPped number after its commit"

max=$(sim_max_rate 24680)
[ "$max" -le $RATE ] || fail "the carrier saw $max segments in one second (limit $RATE)"
echo "rate: limit $RATE, best second $max (informative: ops/bench/pacing.sh measures it)"

# One dispatcher per carrier account at a time.
assert_eq "$(sql "SELECT count(*) FROM dispatch_leases")" 1 "one lease for the demo account"

# SIGTERM while a backlog is claimed: exit 0, and nothing stays claimed.
enqueue_bulk 1000 200 "Second"
wait_until 60 "the second batch claimed" sql_gt "SELECT count(*) FROM messages WHERE body LIKE 'Second %' AND tocsin_message_shown_state(id, state) = 'sending'" 0
for n in a b c; do pid_var="WORKER_PID_$n"; kill -TERM "${!pid_var}"; done
for n in a b c; do
  pid_var="WORKER_PID_$n"
  wait "${!pid_var}" || fail "worker $n exited with $? on SIGTERM"
done
assert_eq "$(sql "SELECT count(*) FROM claims")" 0 "claimed messages were given back"
assert_eq "$(sql "SELECT count(*) FROM messages m WHERE m.state = 'queued'
                    AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.id = m.id)")" 0 "back in the outbox, all of them"
assert_eq "$(sql "SELECT count(*) FROM dispatch_leases")" 0 "leases released"
left=$(sql "SELECT count(*) FROM messages WHERE body LIKE 'Second %' AND state = 'queued'")
[ "$left" -gt 0 ] || fail "the second batch (200 at $RATE/s) had finished before SIGTERM"
assert_eq "$(sim_dupes)" 0 "nobody texted twice"

# A carrier account's own limit below its sender's: the account's wins.
curl -s -XPOST "$SIM/sim/reset" >/dev/null
sql "DELETE FROM messages WHERE state = 'queued'"
sender_rate 100
"$CTL" sender limit --provider twilio --account AC7c0c51a0000000000000000000000000 --mps 15 >/dev/null
enqueue_bulk 2000 60 "Account"
start_worker d
wait_sql "SELECT count(*) FROM messages WHERE body LIKE 'Account %' AND state = 'sent'" 60
max=$(sim_max_rate 24680)
[ "$max" -le 15 ] || fail "an account limited to 15/s sent $max in one second (its sender allows 100)"
assert_eq "$("$CTL" sender limit --provider twilio --account x --mps -1 2>&1 >/dev/null; echo $?)" \
  "tocsinctl sender limit: invalid account limit \"-1\": must be a number from 0 to 999999 (--mps)
2" "a bad limit is refused"
echo "test_worker_send: ok"
