#!/usr/bin/env bash
# The inbound journal (schema/015, gateway/journal.c). Differentially:
# batches through tocsin_receive_inbound_burst, with the journal applied
# late (a carrier's retry arriving while its first copy still waits in the
# journal, and after it was applied), end in the same state as the same
# messages applied one by one; STOP and keywords in a burst batch take
# effect in its own transaction. A journal row that reached
# inbound_messages another way is not stored twice; a row the database
# refuses is set aside in inbound_journal_failed and the rest go on; a
# journal row is a batch (040), taken whole. Then
# a live gateway that journals every batch answers 200, threads the
# replies into conversations by itself, and drains at startup what an
# earlier gateway left.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/inbound_state.sh"
fresh_db
export TOCSIN_SECRET_KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
CTL="$BIN/ops/tocsinctl"
two_databases +14155550406
q1() { "$PSQL" -XqAt -v ON_ERROR_STOP=1 "$ONE" -c "$1"; }

# batch|mid|from|body|intent|keyword|likely|reply; "apply" lines drain the journal.
cat > "$TMP/messages" <<EOF
1|SMj001|+14155550401|hello|reply|||
1|SMj002|+14155550402|hi there|reply|||
1|SMj003|+14155550401|twice in one batch|reply|||
1|SMj004|+14155550406|STOP|opt_out|||stopped
1|SMj005|+14155550407|JOIN|keyword|$K||joined
1|SMj006|+14155550408|stop texting me|reply||true|
2|SMj002|+14155550402|hi there|reply|||
2|SMj007|+14155550403|a third|reply|||
2|SMj008|+14155550407|thanks|reply|||
apply
3|SMj002|+14155550402|hi there|reply|||
3|SMj009|+14155550406|still here|reply|||
3|SMj010|+14155550409|HELP|help|||help text
3|SMj011|+14155550402|again|reply|||
apply
EOF
lit() { if [ -z "$1" ]; then echo NULL; else echo "'${1//\'/\'\'}'"; fi; }
one_call() {
  IFS='|' read -r _ mid from body intent kw likely reply <<<"$1"
  echo "SELECT action FROM tocsin_receive_inbound('twilio', '$mid', $S, '$from', $(lit "$body"), 0, '$intent', $(lit "$kw")::bigint, coalesce($(lit "$likely")::boolean, false), $(lit "$reply"), $( [ -n "$reply" ] && echo "'GSM-7'" || echo NULL), $( [ -n "$reply" ] && echo 1 || echo NULL));"
}
burst_call() { # burst_call N: batch N through the burst function, answers in order
  local line b mid from body intent kw likely reply a=()
  local mids="" froms="" bodies="" intents="" kws="" likelies="" replies="" encs="" segs="" n=0
  while IFS= read -r line; do
    IFS='|' read -r b mid from body intent kw likely reply <<<"$line"
    [ "$b" == "$1" ] || continue
    n=$((n + 1)); mids+="'$mid',"; froms+="'$from',"; bodies+="$(lit "$body"),"; intents+="'$intent',"
    kws+="$(lit "$kw"),"; likelies+="$( [ -n "$likely" ] && echo true || echo false),"
    replies+="$(lit "$reply"),"; encs+="$( [ -n "$reply" ] && echo "'GSM-7'" || echo NULL),"; segs+="$( [ -n "$reply" ] && echo 1 || echo NULL),"
  done < "$TMP/messages"
  echo "SELECT string_agg(action, ',' ORDER BY ord) FROM tocsin_receive_inbound_burst(array_fill('twilio'::text, ARRAY[$n]), ARRAY[${mids%,}], array_fill($S::bigint, ARRAY[$n]), ARRAY[${froms%,}], ARRAY[${bodies%,}], array_fill(0, ARRAY[$n]), ARRAY[${intents%,}], ARRAY[${kws%,}]::bigint[], ARRAY[${likelies%,}], ARRAY[${replies%,}]::text[], ARRAY[${encs%,}]::text[], ARRAY[${segs%,}]::int[]);"
}
drain() { # drain DB: applies the journal until it is empty
  for _ in $(seq 1 50); do
    [ "$("$PSQL" -XqAt -v ON_ERROR_STOP=1 "$1" -c "SELECT more FROM tocsin_inbound_journal_apply(200)")" == f ] && return
  done
  fail "the journal did not drain"
}
answers=""
for b in 1 2 apply 3 apply; do
  if [ "$b" == apply ]; then drain "$ONE"; continue; fi
  answers+="$b:$(q1 "$(burst_call $b)") "
  grep "^$b|" "$TMP/messages" | while IFS= read -r line; do "$PSQL" -XqAt -v ON_ERROR_STOP=1 "$TWO" -c "$(one_call "$line")" >/dev/null; done
done
# Batch 1: the replies from numbers seen once are journaled; the number
# writing twice, STOP and JOIN are applied in the batch's transaction.
# Batch 2: SMj002 waits in the journal, so its retry is journaled again
# (040): threaded once.
# Batch 3: SMj002 was applied by then; a duplicate again.
assert_eq "$answers" "1:reply,journaled,reply,opted_out,subscribed,journaled 2:journaled,journaled,journaled 3:duplicate,journaled,help,reply " "what each burst answered"
assert_eq "$(q1 "SELECT count(*) FROM inbound_journal")" 0 "the journal drained"
state "$ONE" > "$TMP/one.state"
state "$TWO" > "$TMP/two.state"
diff "$TMP/one.state" "$TMP/two.state" >&2 || fail "burst + journal and one-by-one states differ"
grep -q "^msg|+14155550406|blast|cancelled" "$TMP/one.state" || fail "STOP in a burst cancelled the queued blast"
grep -q "^conv|+14155550408|$S|open|1|t|" "$TMP/one.state" || fail "a journaled revocation flags its conversation"
grep -q "^conv|+14155550402|$S|open|2|" "$TMP/one.state" || fail "a retried reply counts once"

# A journal row whose message reached inbound_messages meanwhile.
journal_row() { # journal_row MID:FROM:BODY...: one journal row (a burst batch) holding these messages
  local p="" m="" s="" f="" b="" n="" l="" x
  for x in "$@"; do
    IFS=: read -r mid from body <<<"$x"
    p+="'twilio',"; m+="'$mid',"; s+="$S,"; f+="'$from',"; b+="'$body',"; n+="0,"; l+="false,"
  done
  q1 "INSERT INTO inbound_journal (provider, provider_message_id, sender_id, from_phone, body, num_media, likely_revocation)
      VALUES (ARRAY[${p%,}], ARRAY[${m%,}], ARRAY[${s%,}]::bigint[], ARRAY[${f%,}], ARRAY[${b%,}], ARRAY[${n%,}], ARRAY[${l%,}])"
}
journal_row SMj001:+14155550401:hello
n0=$(q1 "SELECT count(*) FROM inbound_messages")
assert_eq "$(q1 "SELECT applied || ',' || failed || ',' || more FROM tocsin_inbound_journal_apply(200)")" "1,0,false" "a stored message's journal row is consumed"
assert_eq "$(q1 "SELECT count(*) FROM inbound_messages")" "$n0" "and not stored twice"

# A row the database refuses (a rule this test adds) is set aside; the
# rows before and after it are applied.
q1 "ALTER TABLE inbound_messages ADD CONSTRAINT test_no_poison CHECK (body <> 'poison')"
journal_row SMjp1:+14155550411:before SMjp2:+14155550412:poison SMjp3:+14155550413:after
q1 "UPDATE inbound_journal SET received_at = '2026-01-02 03:04:05+00'"
assert_eq "$(q1 "SELECT applied || ',' || failed || ',' || more FROM tocsin_inbound_journal_apply(200)")" "2,1,false" "one of three refused"
assert_eq "$(q1 "SELECT string_agg((received_at = '2026-01-02 03:04:05+00')::text, ',') FROM inbound_messages
                   WHERE provider_message_id IN ('SMjp1', 'SMjp3')")" "true,true" \
  "applied one by one, still stamped when their webhook was stored"
assert_eq "$(q1 "SELECT string_agg(provider_message_id, ',' ORDER BY id) FROM inbound_messages WHERE provider_message_id LIKE 'SMjp%'")" "SMjp1,SMjp3" "the others applied"
assert_contains "$(q1 "SELECT provider_message_id || ' ' || apply_error FROM inbound_journal_failed")" "SMjp2 " "the refused row kept with its reason"
assert_contains "$(q1 "SELECT apply_error FROM inbound_journal_failed")" "test_no_poison" "the reason names the rule"
assert_eq "$(q1 "SELECT count(*) FROM inbound_journal")" 0 "nothing left in the journal"
q1 "ALTER TABLE inbound_messages DROP CONSTRAINT test_no_poison"
# A journal row is a batch (040): its arrays are aligned, or it is refused.
out=$(q1 "INSERT INTO inbound_journal (provider, provider_message_id, sender_id, from_phone, body, num_media, likely_revocation)
          VALUES (ARRAY['twilio', 'twilio'], ARRAY['SMjx1'], ARRAY[$S]::bigint[], ARRAY['+14155550414'], ARRAY['x'],
                  ARRAY[0], ARRAY[false])" 2>&1) && fail "a journal row with uneven arrays was accepted"
assert_contains "$out" "inbound_journal_aligned" "uneven arrays name the rule"
# Calls take whole rows, oldest first, until they hold the limit.
journal_row SMjl1:+14155550431:a SMjl2:+14155550432:b
journal_row SMjl3:+14155550433:c SMjl4:+14155550434:d
assert_eq "$(q1 "SELECT applied || ',' || failed || ',' || more FROM tocsin_inbound_journal_apply(2)")" "2,0,true" "the first row held the limit"
assert_eq "$(q1 "SELECT applied || ',' || failed || ',' || more FROM tocsin_inbound_journal_apply(1)")" "2,0,false" "a row bigger than the limit, whole"
assert_eq "$(q1 "SELECT count(*) FROM inbound_messages WHERE provider_message_id LIKE 'SMjl%' AND conversation_id IS NOT NULL")" 4 "all four threaded"
# A journaled message keeps when its webhook was stored, however late it
# is threaded: a member's thread shows her replies in the order they came.
journal_row SMjt1:+14155550435:early
q1 "UPDATE inbound_journal SET received_at = '2026-01-02 03:04:05+00'"
q1 "SELECT applied FROM tocsin_inbound_journal_apply(200)" >/dev/null
assert_eq "$(q1 "SELECT received_at = '2026-01-02 03:04:05+00' FROM inbound_messages WHERE provider_message_id = 'SMjt1'")" t \
  "stamped when its webhook was stored"
# Another writer storing the same contact or message meanwhile shows as a
# unique violation once it commits: the message is asked again and goes
# in; one that still fails after three tries is set aside with why, never
# dropped. (A rule this test adds raises it: twice, then always for SMju2.)
q1 "CREATE SEQUENCE test_uv"
q1 "CREATE FUNCTION test_uv() RETURNS trigger LANGUAGE plpgsql AS \$\$
    BEGIN
      IF NEW.provider_message_id = 'SMju2' OR (NEW.provider_message_id = 'SMju1' AND nextval('test_uv') <= 2) THEN
        RAISE EXCEPTION 'a racing writer' USING ERRCODE = 'unique_violation';
      END IF;
      RETURN NEW;
    END \$\$"
q1 "CREATE TRIGGER test_uv BEFORE INSERT ON inbound_messages FOR EACH ROW EXECUTE FUNCTION test_uv()"
journal_row SMju1:+14155550441:racing SMju2:+14155550442:always
assert_eq "$(q1 "SELECT applied || ',' || failed || ',' || more FROM tocsin_inbound_journal_apply(200)")" "1,1,false" "retried in, and set aside"
assert_eq "$(q1 "SELECT count(*) FROM inbound_messages WHERE provider_message_id = 'SMju1'")" 1 "the retried message stored"
assert_contains "$(q1 "SELECT apply_error FROM inbound_journal_failed WHERE provider_message_id = 'SMju2'")" "a racing writer" "the other kept with why"
q1 "DROP TRIGGER test_uv ON inbound_messages"
q1 "DROP FUNCTION test_uv()"
assert_eq "$(q1 "SELECT count(*) FROM inbound_journal")" 0 "nothing left in the journal"
out=$(q1 "SELECT * FROM tocsin_inbound_journal_apply(1001)" 2>&1) && fail "a batch over 1000 was accepted"
# Callers run side by side (040): a row another caller holds is skipped,
# not waited for, and the rows after it are applied; it is applied once
# its holder lets go.
# The holder is known by its application_name (the cluster is shared with
# tests running beside this one), holds its row until this test ends it,
# and is waited for without a deadline that a loaded machine could miss.
journal_row SMjh1:+14155550451:held
journal_row SMjh2:+14155550452:free
PGAPPNAME=journal_holder "$PSQL" -XqAt "$ONE" -c "BEGIN" \
  -c "SELECT id FROM inbound_journal ORDER BY id LIMIT 1 FOR UPDATE" \
  -c "SELECT pg_sleep(600)" -c "COMMIT" >/dev/null 2>&1 &
holder=$!
held="SELECT count(*) FROM pg_stat_activity
      WHERE application_name = 'journal_holder' AND state = 'active' AND query LIKE '%pg_sleep%'"
held_once() { [ "$(q1 "$held")" == 1 ]; }
wait_until 120 "the holder to take the row" held_once
assert_eq "$(timeout 60 "$PSQL" -XqAt -v ON_ERROR_STOP=1 "$ONE" -c "SELECT applied || ',' || failed || ',' || more FROM tocsin_inbound_journal_apply(200)")" \
  "1,0,false" "the held row skipped, the next applied"
assert_eq "$(q1 "SELECT string_agg(provider_message_id, ',') FROM inbound_messages WHERE provider_message_id LIKE 'SMjh%'")" "SMjh2" "only the free row's message"
q1 "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'journal_holder'" >/dev/null
wait "$holder" || true
assert_eq "$(q1 "SELECT applied || ',' || failed || ',' || more FROM tocsin_inbound_journal_apply(200)")" "1,0,false" "then the held one"
assert_eq "$(q1 "SELECT count(*) FROM inbound_journal")" 0 "nothing left in the journal"
assert_contains "$out" "1 to 1000" "says the bound"

# A journal row lives for seconds: one of 50 replies (about 5 kB, past
# the 2 kB at which PostgreSQL compresses) is compressed with lz4, a
# tenth of pglz's cost (041).
q1 "INSERT INTO inbound_journal (provider, provider_message_id, sender_id, from_phone, body, num_media, likely_revocation)
    SELECT array_agg('twilio'::text), array_agg('SMsize_' || md5(g::text)), array_agg($S::bigint),
           array_agg('+1415555' || lpad(g::text, 4, '0')), array_agg('a reply of some length, ' || md5(g::text)),
           array_agg(0), array_agg(false)
      FROM generate_series(1, 50) g"
assert_eq "$(q1 "SELECT pg_column_compression(provider_message_id) || ',' || pg_column_compression(body)
                   FROM inbound_journal WHERE provider_message_id[1] LIKE 'SMsize%'")" "lz4,lz4" \
  "a journal row is compressed with lz4"
q1 "DELETE FROM inbound_journal WHERE provider_message_id[1] LIKE 'SMsize%'"

# The duplicate check is a lookup in inbound_messages' unique index, never
# a scan of the table (016: 015's hashed anti-join read all of it on every
# burst call).
q1 "SELECT pg_stat_reset_single_table_counters('inbound_messages'::regclass)"
q1 "SELECT string_agg(action, ',') FROM tocsin_receive_inbound_burst(ARRAY['twilio', 'twilio'], ARRAY['SMjs1', 'SMjs2'],
      ARRAY[$S, $S]::bigint[], ARRAY['+14155550421', '+14155550422'], ARRAY['a', 'b'], ARRAY[0, 0], ARRAY['reply', 'reply'],
      ARRAY[NULL, NULL]::bigint[], ARRAY[false, false], ARRAY[NULL, NULL]::text[], ARRAY[NULL, NULL]::text[],
      ARRAY[NULL, NULL]::int[])" >/dev/null
assert_eq "$(q1 "SELECT seq_scan || ',' || (idx_scan > 0) FROM pg_stat_user_tables WHERE relname = 'inbound_messages'")" "0,true" \
  "a burst looked duplicates up in the index"
drain "$ONE"

# The live gateway, journaling every batch.
T=7c0c51a0000000000000000000000000
GW_PORT=$(free_port)
export TOCSIN_PUBLIC_URL="http://127.0.0.1:$GW_PORT" TOCSIN_GATEWAY_PORT=$GW_PORT TOCSIN_GATEWAY_JOURNAL_AT=1
export TOCSIN_GATEWAY_RATE_PER_IP=0 TOCSIN_GATEWAY_RATE_GLOBAL=0 TOCSIN_GATEWAY_SPOOL_DIR="$TMP/spool"
gw_start() {
  "$BIN/gateway/tocsin-gateway" >>"$TMP/gateway.log" 2>&1 &
  GW=$!
  TEST_PIDS+=($GW)
  wait_http "http://127.0.0.1:$GW_PORT/metrics"
}
signed() { # signed k=v...: a Twilio inbound webhook signed with the demo token; prints the status
  local url="http://127.0.0.1:$GW_PORT/twilio/inbound" concat="" args=() kv sig
  while IFS= read -r kv; do concat+="${kv%%=*}${kv#*=}"; done < <(printf '%s\n' "$@" | LC_ALL=C sort)
  sig=$(printf '%s' "$url$concat" | openssl dgst -sha1 -hmac "$T" -binary | base64)
  for kv in "$@"; do args+=(--data-urlencode "$kv"); done
  curl -s -o /dev/null -w '%{http_code}' -H "X-Twilio-Signature: $sig" "$url" "${args[@]}"
}
text() { signed MessageSid="$1" From="$2" To=24680 Body="$3" NumMedia=0; }
in_conversation() { [ "$(q1 "SELECT count(*) FROM inbound_messages WHERE provider_message_id = '$1' AND conversation_id IS NOT NULL")" == 1 ]; }
threaded() { wait_until 60 "$1 to be threaded into a conversation" in_conversation "$1"; } # threaded MID
# Left by an earlier gateway: drained at startup.
journal_row SMjleft:+14155550420:left
gw_start
threaded SMjleft
assert_eq "$(text SMjlive1 +14155550421 'live reply')" 200 "a journaled reply is acknowledged"
threaded SMjlive1
grep -q "message_sid=SMjlive1 action=journaled inbound_id=-" "$TMP/gateway.log" || fail "the gateway logs the journaled reply"
assert_eq "$(text SMjlive1 +14155550421 'live reply')" 200 "its retry is acknowledged"
assert_eq "$(text SMjlive2 +14155550421 STOP)" 200 "STOP"
assert_eq "$(q1 "SELECT count(*) FROM opt_outs WHERE phone = '+14155550421'")" 1 "STOP committed before its answer"
assert_eq "$(q1 "SELECT count(*) FROM inbound_messages WHERE provider_message_id = 'SMjlive1'")" 1 "the retry stored once"
m=$(curl -s "http://127.0.0.1:$GW_PORT/metrics")
assert_contains "$m" "tocsin_gateway_journaled_total 1" "journaled counted"
assert_contains "$m" "tocsin_gateway_journal_applied_total 2" "applied counted (the startup row too)"
echo "test_inbound_journal: ok"
