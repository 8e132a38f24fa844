#!/usr/bin/env bash
# A real blast through three workers: 10,000 imported members of a list,
# 500 of them opted out beforehand and a few sending STOP mid-blast, fed as
# messages a few thousand at a time as the workers' ticks find the queue
# running low (schema 013). Every
# other member is texted exactly once with their own first name, none of
# the opted-out ones, never above the sender's rate in any second, and the
# blast's counters end equal to a recount of its messages.
# ctest: RUN_SERIAL
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/worker_lib.sh"
RATE=1000
sender_rate $RATE
{
  echo "phone,first_name"
  for i in $(seq 0 9999); do printf '+1415555%04d,Member%d\n' "$i" "$i"; done
} >"$TMP/members.csv"
"$CTL" contacts import --org demo --list members "$TMP/members.csv" >"$TMP/import.log"
sql "INSERT INTO opt_outs (org_id, phone, source) SELECT 1, '+1415555' || lpad(g::text, 4, '0'), 'admin' FROM generate_series(0, 9999, 20) g"
# The members live where it is early afternoon now, so quiet hours (tested
# with a fake clock in test_worker_faults) hold nobody back at any hour
# this runs: at 21:37 in California the whole blast waited for morning.
zone=$(sql "SELECT name FROM tz_names WHERE name LIKE 'Etc/GMT%'
             ORDER BY abs(extract(hour FROM now() AT TIME ZONE name) - 13) LIMIT 1")
sql "UPDATE contacts SET timezone = '$zone'" >/dev/null
blast=$("$CTL" blast create --org demo --sender 24680 --list members --body 'Rally tonight, {first_name|friend}! Reply STOP to opt out' | sed -E 's/^created blast ([0-9]+).*/\1/')
start_worker a
start_worker b
start_worker c
"$CTL" blast schedule "$blast" --at now >/dev/null
# Members at the end of the queue text STOP while the blast is going out.
wait_sql "SELECT count(*) > 500 FROM messages WHERE blast_id = $blast AND state = 'sent'" t 60
for i in 9991 9993 9995; do
  sql "SELECT * FROM tocsin_receive_inbound('twilio', 'SMstop$i', 1, '+1415555$i', 'STOP', 0, 'opt_out', NULL, false, 'bye', 'GSM-7', 1)" >/dev/null
done
wait_sql "SELECT state FROM blasts WHERE id = $blast" completed 120

assert_eq "$(sql "SELECT recipients FROM blasts WHERE id = $blast")" 9500 "opted-out members are not recipients"
# 5,000 fed ahead of a 1,000/s sender: the messages came in several ticks.
feeds=$(sql "SELECT count(DISTINCT created_at) FROM messages WHERE blast_id = $blast")
[ "$feeds" -ge 2 ] || fail "the blast should be fed just ahead of the sender, in several ticks (got $feeds)"
assert_eq "$(sim_dupes)" 0 "nobody texted twice"
got=$(curl -s "$SIM/sim/messages" | jq '[.messages[] | select(.direction == "outbound" and (.body | startswith("Rally")))] | length')
assert_eq "$got" 9497 "every other member texted once (three stopped mid-blast)"
curl -s "$SIM/sim/messages" | jq -r '.messages[] | select(.direction == "outbound" and (.body | startswith("Rally"))) | .to' | sort >"$TMP/texted"
sql "SELECT phone FROM opt_outs" | sort >"$TMP/opted"
assert_eq "$(comm -12 "$TMP/texted" "$TMP/opted" | wc -l)" 0 "no opted-out number got the blast"
assert_eq "$(curl -s "$SIM/sim/count" --get --data-urlencode 'to=+14155550001' --data-urlencode 'body=Rally tonight, Member1! Reply STOP to opt out' | jq .count)" 1 "the member's own first name"
max=$(sim_max_rate 24680)
[ "$max" -le $RATE ] || fail "the carrier saw $max segments in one second (limit $RATE)"
recount=$(sql "SELECT count(*) FILTER (WHERE state IN ('sent', 'delivered', 'undelivered', 'failed'))
                 || ' ' || count(*) FILTER (WHERE state = 'cancelled') FROM messages WHERE blast_id = $blast")
counted=$(sql "SELECT (s->>'sent')::int + (s->>'delivered')::int + (s->>'undelivered')::int + (s->>'failed')::int
                       || ' ' || (s->>'cancelled') FROM tocsin_blast_status(NULL, $blast) s")
echo "recount $recount, counters $counted, best second $max of $RATE"
assert_eq "$counted" "$recount" "the blast's counters equal a recount"
echo "test_worker_blast: ok"
