#!/usr/bin/env bash
# tocsin-gateway on a bad day: the database behind a TCP proxy the test
# kills. While it is gone, signed webhooks from known senders still get
# 200 (spooled, fdatasync'd), an uncached sender gets 503; when it returns
# the spool is replayed in order (a STOP before a START or a reply from the
# same number applies first), every message is stored exactly once, and a
# carrier's retry is not applied twice. Then a gateway killed with -9 over
# a non-empty spool (with a torn record at its end) replays it on restart.
# Also: a batch with one message the database refuses fails that one only,
# and a spooled message the database refuses is set aside, not the others.
source "$(dirname "$0")/lib.sh"
demo_db
T=7c0c51a0000000000000000000000000
DIRECT_URL=$TOCSIN_DATABASE_URL
PROXY_PORT=$(free_port)
GW_PORT=$(free_port)
SPOOL="$TMP/spool/gateway.spool"
export TOCSIN_PUBLIC_URL="http://127.0.0.1:$GW_PORT" TOCSIN_GATEWAY_PORT=$GW_PORT
export TOCSIN_GATEWAY_RATE_PER_IP=0 TOCSIN_GATEWAY_RATE_GLOBAL=0 TOCSIN_DB_RECONNECT_MAX_MS=300
GW_URL="host=127.0.0.1 port=$PROXY_PORT dbname=${DIRECT_URL#*dbname=}"

proxy_start() {
  "$BIN/tests/prog_tcp_proxy" --listen "$PROXY_PORT" --to "127.0.0.1:$TEST_PG_PORT" >"$TMP/proxy.log" 2>&1 &
  PROXY=$!
  TEST_PIDS+=($PROXY)
  wait_until 60 "the proxy to start" file_has "$TMP/proxy.log" listening
}
gw_start() {
  TOCSIN_DATABASE_URL=$GW_URL "$BIN/gateway/tocsin-gateway" >>"$TMP/gateway.log" 2>&1 &
  GW=$!
  TEST_PIDS+=($GW)
  wait_http "http://127.0.0.1:$GW_PORT/metrics"
}
metric() { curl -s "http://127.0.0.1:$GW_PORT/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
metric_is() { WAIT_LAST=$(metric "$1"); [ "$WAIT_LAST" == "$2" ]; }
wait_metric() { wait_until 60 "metric $1 to reach $2" metric_is "$1" "$2"; } # wait_metric NAME VALUE
metric_over() { WAIT_LAST=$(metric "$1"); [ "${WAIT_LAST:-0}" -gt "$2" ]; }
# forget_sender: the gateway's cached sender is made stale (a NOTIFY, as a
# change to senders sends), so the next message looks it up again now.
forget_sender() {
  local c
  c=$(metric tocsin_gateway_sender_changes_total)
  sql "NOTIFY tocsin_senders" >/dev/null
  wait_until 60 "the gateway to hear of a sender change" metric_over tocsin_gateway_sender_changes_total "$c"
}
# stuck_at_proxy: bytes from the gateway wait unread at the stopped proxy
# (a query is in flight on one of its connections).
stuck_at_proxy() { ss -tnH "( sport = :$PROXY_PORT )" | awk '$1 == "ESTAB" && $2 > 0 {f = 1} END {exit !f}'; }
# webhooks_read N: N webhook connections are open at the gateway and it has
# read every byte of them (each request is then parsed and queued).
webhooks_read() {
  ss -tnH "( sport = :$GW_PORT )" |
    awk -v n="$1" '$1 == "ESTAB" {c++; if ($2 > 0) u = 1} END {exit !(c == n && !u)}'
}
# signed PATH k=v...: a Twilio webhook signed with the demo sender's token; prints the HTTP status.
signed() {
  local path=$1; shift
  local url="http://127.0.0.1:$GW_PORT$path" concat="" args=() kv sig
  while IFS= read -r kv; do concat+="${kv%%=*}${kv#*=}"; done < <(printf '%s\n' "$@" | LC_ALL=C sort)
  sig=$(printf '%s' "$url$concat" | openssl dgst -sha1 -hmac "$T" -binary | base64)
  for kv in "$@"; do args+=(--data-urlencode "$kv"); done
  curl -s -o "$TMP/last" -w '%{http_code}' -H "X-Twilio-Signature: $sig" "$url" "${args[@]}"
}
text() { signed /twilio/inbound MessageSid="$1" From="$2" To=24680 Body="$3" NumMedia=0; }
A=+14155550170 B=+14155550171 C=+14155550172

proxy_start
gw_start
wait_metric tocsin_db_up 1
# Before the outage: C joins (the sender is looked up and cached).
assert_eq "$(text SMpre0001 $C JOIN)" 200 "JOIN before the outage"
sql "INSERT INTO messages (org_id, sender_id, provider, to_phone, body, encoding, segments, lane, purpose, state, provider_message_id, sent_at)
     SELECT org_id, id, 'twilio', '$C', 'sent before', 'GSM-7', 1, 'bulk', 'blast', 'sent', 'SMout0001', now() FROM senders" >/dev/null

kill -9 "$PROXY"; wait "$PROXY" 2>/dev/null || true
wait_metric tocsin_db_up 0
# The burst, while the database is unreachable.
codes=""
codes+="$(text SMdown0001 $A STOP) "
codes+="$(text SMdown0002 $A START) "
codes+="$(text SMdown0003 $B STOP) "
codes+="$(text SMdown0004 $B 'is anyone there?') "
for i in $(seq 10 39); do codes+="$(text "SMdown00$i" "+141555502$i" "burst $i") "; done
codes+="$(text SMdown0004 $B 'is anyone there?') "  # the carrier retries
codes+="$(text SMpre0001 $C JOIN) "                  # a retry of one stored before
codes+="$(signed /twilio/status MessageSid=SMout0001 MessageStatus=delivered From=24680 To=$C) "
assert_eq "$(tr ' ' '\n' <<<"$codes" | grep -v '^$' | sort | uniq -c | awk '{print $2 ":" $1}')" "200:37" "every authentic webhook accepted: $codes"
assert_eq "$(signed /twilio/inbound MessageSid=SMdown0099 From=$A To=13579 Body=hi)" 503 "an uncached sender cannot be checked"
assert_eq "$(metric tocsin_gateway_spooled_total)" 37 "all spooled"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$GW_PORT/healthz")" 200 "healthy while it can spool"
[ "$(stat -c %s "$SPOOL")" -gt 0 ] || fail "the spool file holds them"
assert_eq "$(sql "SELECT count(*) FROM inbound_messages WHERE provider_message_id LIKE 'SMdown%'")" 0 "nothing reached the database yet"

# The database returns while four numbers keep writing: their messages go
# behind the spool, then (once it drained, new ones waiting for the last
# appends) straight to the database, and keep their order across the switch.
proxy_start
flows=()
for f in 1 2 3 4; do
  ( for i in $(seq 100 149); do text "SMflow${f}0$i" +1415555018$f "flow $i" > /dev/null; done ) & flows+=($!)
done
wait_metric tocsin_gateway_spool_bytes 0
for f in "${flows[@]}"; do wait "$f"; done
wait_metric tocsin_gateway_spool_bytes 0
assert_eq "$(stat -c %s "$SPOOL")" 0 "the spool is emptied once applied"
assert_eq "$(sql "SELECT count(*), count(DISTINCT provider_message_id) FROM inbound_messages WHERE provider_message_id LIKE 'SMflow%'")" "200|200" "the flows stored once each"
for f in 1 2 3 4; do
  assert_eq "$(sql "SELECT string_agg(provider_message_id, ',' ORDER BY id) = string_agg(provider_message_id, ',' ORDER BY provider_message_id) FROM inbound_messages WHERE from_phone = '+1415555018$f'")" t "flow $f kept its order"
done
replayed=$(metric tocsin_gateway_spool_replayed_total)
[ "$replayed" -ge 37 ] || fail "all replayed ($replayed)"
assert_eq "$(sql "SELECT count(*), count(DISTINCT provider_message_id) FROM inbound_messages WHERE provider_message_id LIKE 'SMdown%'")" "34|34" "every message stored exactly once"
assert_eq "$(sql "SELECT count(*) FROM inbound_messages WHERE provider_message_id = 'SMpre0001'")" 1 "the retried JOIN stored once"
assert_eq "$(sql "SELECT count(*) FROM messages WHERE to_phone = '$C' AND purpose = 'confirmation'")" 1 "and confirmed once"
assert_eq "$(sql "SELECT count(*) FROM opt_outs WHERE phone = '$A'")" 0 "A's STOP applied, then A's START"
assert_eq "$(sql "SELECT string_agg(event, ',' ORDER BY id) FROM consent_events WHERE phone = '$A'")" "opt_out,opt_in" "in that order"
assert_eq "$(sql "SELECT count(*) FROM opt_outs WHERE phone = '$B'")" 1 "B opted out"
assert_eq "$(sql "SELECT string_agg(provider_message_id || ':' || intent, ',' ORDER BY id) FROM inbound_messages WHERE from_phone = '$B'")" "SMdown0003:opt_out,SMdown0004:reply" "B's STOP first, then the reply"
assert_eq "$(sql "SELECT count(*) FROM messages WHERE to_phone = '$B' AND purpose <> 'opt_out_confirmation'")" 0 "nothing but the confirmation for B"
assert_eq "$(sql "SELECT string_agg(provider_message_id, ',' ORDER BY id) FROM inbound_messages WHERE provider_message_id LIKE 'SMdown00__' AND provider_message_id >= 'SMdown0010'" | tr ',' '\n' | sort -c && echo sorted)" sorted "the burst kept its order"
assert_eq "$(sql "SELECT state FROM messages WHERE provider_message_id = 'SMout0001'")" delivered "the spooled receipt applied"
# Back to normal: applied directly again.
assert_eq "$(text SMafter001 $A "back")" 200 "after the outage"
assert_eq "$(sql "SELECT count(*) FROM inbound_messages WHERE provider_message_id = 'SMafter001'")" 1 "stored at once"
spooled=$(metric tocsin_gateway_spooled_total)
assert_eq "$(text SMafter002 $A "back again")" 200 "after the drain"
# Bodies travel as array elements in a batch: quotes, backslashes, braces,
# commas and the word NULL arrive as written.
odd='say "hi", {x} \\ back\slash, NULL'
assert_eq "$(text SModd00001 +14155550190 "$odd")" 200 "an odd body"
assert_eq "$(text SModd00002 +14155550191 NULL)" 200 "a body that reads NULL"
assert_eq "$(sql "SELECT body FROM inbound_messages WHERE provider_message_id = 'SModd00001'")" "$odd" "stored as written"
assert_eq "$(sql "SELECT body IS NOT NULL AND body = 'NULL' FROM inbound_messages WHERE provider_message_id = 'SModd00002'")" t "NULL is a word"
assert_eq "$(metric tocsin_gateway_spooled_total)" "$spooled" "not spooled"

# Batches: with the database paused, the first message's batch hangs and
# the four later ones gather behind it into a second. When one message of
# that is refused (a test trigger poisons it), the batch is retried message
# by message: only that one fails (503, not stored), the others are stored.
sql "CREATE FUNCTION test_poison() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN
       IF NEW.body = 'poison' THEN RAISE EXCEPTION 'poisoned'; END IF; RETURN NEW; END \$\$;
     CREATE TRIGGER test_poison BEFORE INSERT ON inbound_messages FOR EACH ROW EXECUTE FUNCTION test_poison()" >/dev/null
forget_sender
assert_eq "$(text SMwarm0001 $C "warm up")" 200 "the sender is fresh in the cache"
kill -STOP "$PROXY"
pids=()
text SMbatch0001 +14155550401 "batched 1" > "$TMP/batch1" & pids+=($!)
wait_until 60 "the first message's batch to hang at the paused database" stuck_at_proxy
for i in 2 3 4 5; do
  body="batched $i"; [ $i -eq 5 ] && body=poison
  text "SMbatch000$i" "+1415555040$i" "$body" > "$TMP/batch$i" & pids+=($!)
done
wait_until 60 "the four later messages to gather behind it" webhooks_read 5
kill -CONT "$PROXY"
for p in "${pids[@]}"; do wait "$p"; done
assert_eq "$(for i in 1 2 3 4 5; do cat "$TMP/batch$i"; echo; done | paste -sd' ')" "200 200 200 200 503" "only the poisoned message fails"
assert_eq "$(sql "SELECT string_agg(body, ',' ORDER BY body) FROM inbound_messages WHERE provider_message_id LIKE 'SMbatch%'")" "batched 1,batched 2,batched 3,batched 4" "the others are stored"
[ "$(metric tocsin_gateway_inbound_batch_fallbacks_total)" -ge 1 ] || fail "the refused batch was retried one by one"

# kill -9 with a non-empty spool, and a torn record at its end.
# First the proxy hangs with a message in flight, then it dies: that
# message's outcome is unknown, so it is spooled too (replaying it is safe).
forget_sender # so that the sender is looked up now, not while the proxy hangs
assert_eq "$(text SMwarm0002 $C "warm up again")" 200 "the sender is fresh again"
kill -STOP "$PROXY"
text SMcrash001 $A "crash 1" > "$TMP/inflight" &
inflight=$!
wait_until 60 "the message's query to reach the hung proxy" stuck_at_proxy
kill -9 "$PROXY"; wait "$PROXY" 2>/dev/null || true
wait "$inflight"
assert_eq "$(cat "$TMP/inflight")" 200 "in flight when the connection broke"
assert_contains "$(cat "$TMP/gateway.log")" "event=db_unreachable_spooling" "spooled after the failure"
wait_metric tocsin_db_up 0
assert_eq "$(text SMcrash002 $A "crash 2")" 200 "spooled before the crash (2)"
assert_eq "$(text SMcrash009 +14155550199 poison)" 200 "spooled: the database will refuse it"
assert_eq "$(text SMcrash003 $A "crash 3")" 200 "spooled before the crash (3)"
kill -9 "$GW"; wait "$GW" 2>/dev/null || true
size=$(stat -c %s "$SPOOL")
[ "$size" -gt 0 ] || fail "the spool survived"
printf 'TSP1\x40\x00\x00\x00garbage' >> "$SPOOL"
proxy_start
gw_start
wait_metric tocsin_gateway_spool_bytes 0
assert_contains "$(cat "$TMP/gateway.log")" "event=spool_torn_tail" "the torn record is noticed"
assert_eq "$(sql "SELECT string_agg(body, ',' ORDER BY id) FROM inbound_messages WHERE provider_message_id LIKE 'SMcrash%'")" "crash 1,crash 2,crash 3" "replayed at startup, in order"
assert_eq "$(metric tocsin_gateway_spool_replayed_total)" 3 "three replayed"
assert_eq "$(metric tocsin_gateway_spool_rejected_total)" 1 "one refused for good"
assert_eq "$(sql "SELECT count(*) FROM inbound_messages WHERE provider_message_id = 'SMcrash009'")" 0 "not stored"
assert_contains "$(cat "$TMP/spool/gateway.spool.rejected")" "SMcrash009" "but kept aside for the operator"
assert_contains "$(cat "$TMP/gateway.log")" "event=spool_record_rejected" "and logged"
sql "DROP TRIGGER test_poison ON inbound_messages" >/dev/null
kill -TERM "$GW"
rc=0; wait "$GW" || rc=$?
assert_eq "$rc" 0 "gateway stops cleanly"
echo "test_gateway_spool: ok"
