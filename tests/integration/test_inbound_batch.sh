#!/usr/bin/env bash
# tocsin_receive_inbound_batch (schema/functions/inbound.sql) against tocsin_receive_inbound
# (004), differentially: the same member messages — replies, a number
# writing twice in one batch, STOP then a reply, keywords, HELP, START
# before and after an opt-out, retried message ids within and across
# batches (one in a batch of replies only), a plain-words revocation — applied in batches to one database
# and one by one to another must give the same answers and the same
# state; so must receipts. Then a batch with a message the database
# refuses fails whole.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/inbound_state.sh"
fresh_db
export TOCSIN_SECRET_KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
CTL="$BIN/ops/tocsinctl"
two_databases +14155550306

# Messages: batch|mid|from|body|intent|keyword|likely|reply
cat > "$TMP/messages" <<EOF
1|SMb001|+14155550301|hello|reply|||
1|SMb002|+14155550302|hi there|reply|||
1|SMb003|+14155550301|twice in one batch|reply|||
1|SMb004|+14155550306|STOP|opt_out|||stopped
1|SMb005|+14155550306|and a reply|reply|||
1|SMb006|+14155550307|JOIN|keyword|$K||joined
1|SMb007|+14155550308|same id twice|reply|||
1|SMb007|+14155550308|same id twice|reply|||
1|SMb008|+14155550303|a third|reply|||
2|SMb009|+14155550302|again|reply|||
2|SMb010|+14155550306|still here|reply|||
2|SMb011|+14155550303|STOP|opt_out|||stopped
2|SMb012|+14155550309|HELP|help|||help text
2|SMb001|+14155550301|hello|reply|||
2|SMb013|+14155550310|START|opt_in|||back
2|SMb014|+14155550311|stop texting me|reply||true|
3|SMb015|+14155550306|START|opt_in|||back
3|SMb016|+14155550303|after stop|reply|||
3|SMb017|+14155550304|new one|reply||true|
3|SMb018|+14155550307|thanks|reply|||
4|SMb019|+14155550312|all replies|reply|||
4|SMb017|+14155550304|new one|reply||true|
4|SMb020|+14155550313|one a retry|reply|||
EOF
lit() { # lit VALUE: a SQL literal, NULL when empty
  if [ -z "$1" ]; then echo NULL; else echo "'${1//\'/\'\'}'"; fi
}
one_call() { # one_call LINE: the per-message call
  IFS='|' read -r _ mid from body intent kw likely reply <<<"$1"
  echo "SELECT '$mid', action FROM tocsin_receive_inbound('twilio', '$mid', $S, '$from', $(lit "$body"), 0, '$intent', $(lit "$kw")::bigint, coalesce($(lit "$likely")::boolean, false), $(lit "$reply"), $( [ -n "$reply" ] && echo "'GSM-7'" || echo NULL), $( [ -n "$reply" ] && echo 1 || echo NULL));"
}
batch_call() { # batch_call N: the batch call for batch N
  local line b mid from body intent kw likely reply
  local provider="" mids="" senders="" froms="" bodies="" media="" intents="" kws="" likelies="" replies="" encs="" segs=""
  while IFS= read -r line; do
    IFS='|' read -r b mid from body intent kw likely reply <<<"$line"
    [ "$b" == "$1" ] || continue
    provider+="'twilio',"; mids+="'$mid',"; senders+="$S,"; froms+="'$from',"; bodies+="$(lit "$body"),"
    media+="0,"; intents+="'$intent',"; kws+="$(lit "$kw"),"; likelies+="$( [ -n "$likely" ] && echo true || echo false),"
    replies+="$(lit "$reply"),"; encs+="$( [ -n "$reply" ] && echo "'GSM-7'" || echo NULL),"; segs+="$( [ -n "$reply" ] && echo 1 || echo NULL),"
  done < "$TMP/messages"
  echo "SELECT string_agg(m || ' ' || r.action, ',' ORDER BY r.ord) FROM tocsin_receive_inbound_batch(ARRAY[${provider%,}], ARRAY[${mids%,}], ARRAY[${senders%,}]::bigint[], ARRAY[${froms%,}], ARRAY[${bodies%,}], ARRAY[${media%,}], ARRAY[${intents%,}], ARRAY[${kws%,}]::bigint[], ARRAY[${likelies%,}], ARRAY[${replies%,}]::text[], ARRAY[${encs%,}]::text[], ARRAY[${segs%,}]::int[]) r JOIN LATERAL (SELECT (ARRAY[${mids%,}])[r.ord] AS m) x ON true;"
}
for b in 1 2 3 4; do
  got=$("$PSQL" -XqAt -v ON_ERROR_STOP=1 "$ONE" -c "$(batch_call $b)")
  want=$(grep "^$b|" "$TMP/messages" | while IFS= read -r line; do "$PSQL" -XqAt -v ON_ERROR_STOP=1 "$TWO" -c "$(one_call "$line")"; done | tr '|' ' ' | paste -sd,)
  assert_eq "$got" "$want" "batch $b answers as one-by-one calls"
  [ "$b" != 3 ] || assert_contains "$got" "SMb015 opted_in" "batch 3 ran both paths"
done
assert_contains "$got" "SMb017 duplicate" "batch 4, every message set-based, found its retry"

state "$ONE" > "$TMP/one.state"
state "$TWO" > "$TMP/two.state"
diff "$TMP/one.state" "$TMP/two.state" >&2 || fail "the batch and one-by-one states differ"
grep -q "^in|SMb016|+14155550303|after stop|reply|+14155550303|+14155550303" "$TMP/one.state" || fail "a reply after STOP is kept in its conversation"
grep -q "^msg|+14155550306|blast|cancelled" "$TMP/one.state" || fail "STOP cancelled the queued blast"
grep -q "^conv|+14155550301|$S|open|2|" "$TMP/one.state" || fail "two messages in one batch count twice"

# Receipts: a batch (forward only, a late 'sent', one before the provider
# id is known, an unknown status) answers and ends as one-by-one calls.
for db in "$ONE" "$TWO"; do
  "$PSQL" -XqAt -v ON_ERROR_STOP=1 "$db" -c "UPDATE messages SET state = 'sent', provider_message_id = 'out-' || id, sent_at = now() WHERE state = 'queued'"
done
ids=$(sql "SELECT string_agg('out-' || id, ' ' ORDER BY id) FROM messages WHERE provider_message_id IS NOT NULL")
set -- $ids
[ $# -ge 2 ] || fail "two sent messages to receive receipts for, not $#"
receipts="$1|delivered| $1|sent| $2|undelivered|30003 out-early|delivered| $2|accepted| $1|failed|"
want=""
for r in $receipts; do
  IFS='|' read -r mid st code <<<"$r"
  want+="$("$PSQL" -XqAt -v ON_ERROR_STOP=1 "$TWO" -c "SELECT tocsin_apply_receipt('twilio', '$mid', $S, '$st', $(lit "$code"), NULL)"),"
done
arr() { local out="" r f; for r in $receipts; do IFS='|' read -r -a f <<<"$r"; out+="$(lit "${f[$1]:-}"),"; done; echo "${out%,}"; }
got=$("$PSQL" -XqAt -v ON_ERROR_STOP=1 "$ONE" -c "SELECT string_agg(outcome, ',' ORDER BY ord) || ',' FROM tocsin_apply_receipt_batch(array_fill('twilio'::text, ARRAY[6]), ARRAY[$(arr 0)], array_fill($S::bigint, ARRAY[6]), ARRAY[$(arr 1)], ARRAY[$(arr 2)]::text[], array_fill(NULL::jsonb, ARRAY[6]))")
assert_eq "$got" "$want" "a receipt batch answers as one-by-one calls"
assert_contains "$got" "applied,stale,applied,pending,ignored" "every outcome seen"
receipts_state() { "$PSQL" -XqAt "$1" -c "SELECT provider_message_id, state, error_code FROM messages WHERE provider_message_id IS NOT NULL ORDER BY 1" -c "SELECT provider_message_id, status FROM delivery_receipts_pending ORDER BY 1"; }
assert_eq "$(receipts_state "$ONE")" "$(receipts_state "$TWO")" "the same states after receipts"

# One message the database refuses fails the whole batch: nothing stored.
n0=$(sql "SELECT count(*) FROM inbound_messages")
out=$("$PSQL" -XqAt "$ONE" -c "SELECT * FROM tocsin_receive_inbound_batch(ARRAY['twilio','twilio'], ARRAY['SMbad1','SMbad2'], ARRAY[$S,$S]::bigint[], ARRAY['+14155550390','not a phone'], ARRAY['a','b'], ARRAY[0,0], ARRAY['reply','reply'], ARRAY[NULL,NULL]::bigint[], ARRAY[false,false], ARRAY[NULL,NULL]::text[], ARRAY[NULL,NULL]::text[], ARRAY[NULL,NULL]::int[])" 2>&1) && fail "a bad batch was accepted"
assert_eq "$(sql "SELECT count(*) FROM inbound_messages")" "$n0" "nothing stored from a failed batch"
out=$("$PSQL" -XqAt "$ONE" -c "SELECT * FROM tocsin_receive_inbound_batch(ARRAY['twilio'], ARRAY['SMbad3'], ARRAY[0]::bigint[], ARRAY['+14155550390'], ARRAY['a'], ARRAY[0], ARRAY['reply'], ARRAY[NULL]::bigint[], ARRAY[false], ARRAY[NULL]::text[], ARRAY[NULL]::text[], ARRAY[NULL]::int[])" 2>&1) && fail "an unknown sender was accepted"
assert_contains "$out" "a sender does not exist" "says why"
# Arrays of different lengths (one body short) are refused by the batch and
# the burst alike (their one check, tocsin_inbound_batch_size), nothing stored.
for fn in tocsin_receive_inbound_batch tocsin_receive_inbound_burst; do
  out=$("$PSQL" -XqAt "$ONE" -c "SELECT * FROM $fn(ARRAY['twilio','twilio'], ARRAY['SMshort1','SMshort2'], ARRAY[$S,$S]::bigint[], ARRAY['+14155550391','+14155550392'], ARRAY['only one body'], ARRAY[0,0], ARRAY['reply','reply'], ARRAY[NULL,NULL]::bigint[], ARRAY[false,false], ARRAY[NULL,NULL]::text[], ARRAY[NULL,NULL]::text[], ARRAY[NULL,NULL]::int[])" 2>&1) &&
    fail "$fn accepted arrays of different lengths"
  assert_contains "$out" "the arrays differ in length" "$fn says why"
done
out=$("$PSQL" -XqAt "$ONE" -c "SELECT * FROM tocsin_receive_inbound_batch(ARRAY['twilio'], ARRAY['SMshort3'], ARRAY[$S]::bigint[], ARRAY['+14155550393'], ARRAY['b'], ARRAY[0], ARRAY['reply'], ARRAY[NULL]::bigint[], ARRAY[false], ARRAY[NULL]::text[], ARRAY[NULL]::text[], ARRAY[NULL]::int[], ARRAY[now(), now()])" 2>&1) &&
  fail "two receipt times for one message were accepted"
assert_contains "$out" "the arrays differ in length" "the receipt times are counted too"
assert_eq "$(sql "SELECT count(*) FROM inbound_messages WHERE provider_message_id LIKE 'SMshort%'")" "0" "nothing stored from uneven arrays"
assert_eq "$(sql "SELECT count(*) FROM inbound_journal")" "0" "nothing journaled from uneven arrays"
# A writer that does not take the number's lock (an import) creates the
# contact while a batch is storing a message from that number: the batch
# waits on the contact's unique key, then fails whole on it (nothing
# stored, no message without its contact); one by one, as the gateway
# then applies it, the message joins that contact.
org=$(sql "SELECT org_id FROM senders WHERE id = $S")
PGAPPNAME=contact_writer "$PSQL" -XqAt -v ON_ERROR_STOP=1 "$ONE" -c "BEGIN" \
  -c "INSERT INTO contacts (org_id, phone, first_name) VALUES ($org, '+14155550395', 'Imported')" \
  -c "DO \$\$ BEGIN -- commits once the batch waits for it (or after 60 s: the batch's check fails then)
        FOR i IN 1 .. 1200 LOOP
          EXIT WHEN EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 'racing_batch'
                                                              AND wait_event = 'transactionid');
          PERFORM pg_sleep(0.05);
          PERFORM pg_stat_clear_snapshot();
        END LOOP;
      END \$\$" -c "COMMIT" >"$TMP/writer.out" 2>&1 &
writer=$!
TEST_PIDS+=($writer)
writing() { [ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'contact_writer' AND query LIKE 'DO %'")" == 1 ]; }
wait_until 60 "the writer to hold its new contact" writing
out=$(PGAPPNAME=racing_batch timeout 60 "$PSQL" -XqAt "$ONE" -c "SELECT * FROM tocsin_receive_inbound_batch(ARRAY['twilio'], ARRAY['SMrace1'], ARRAY[$S]::bigint[], ARRAY['+14155550395'], ARRAY['hello'], ARRAY[0], ARRAY['reply'], ARRAY[NULL]::bigint[], ARRAY[false], ARRAY[NULL]::text[], ARRAY[NULL]::text[], ARRAY[NULL]::int[])" 2>&1) &&
  fail "a batch racing a new contact was accepted: $out"
wait "$writer" || fail "the writer failed: $(cat "$TMP/writer.out")"
assert_contains "$out" "contacts_org_id_phone_key" "it fails on the contact's unique key"
assert_eq "$(sql "SELECT count(*) FROM inbound_messages WHERE provider_message_id = 'SMrace1'")" 0 "nothing stored from it"
assert_eq "$("$PSQL" -XqAt -v ON_ERROR_STOP=1 "$ONE" -c "SELECT action FROM tocsin_receive_inbound('twilio', 'SMrace1', $S, '+14155550395', 'hello', 0, 'reply', NULL, false, NULL, NULL, NULL)")" \
  reply "one by one it is stored"
assert_eq "$(sql "SELECT c.first_name FROM inbound_messages i JOIN contacts c ON c.id = i.contact_id WHERE i.provider_message_id = 'SMrace1'")" \
  Imported "in the writer's contact"
# The batch looks a member up by org and number in a plan made once per
# connection, maybe while contacts was nearly empty: then any other index
# led by org_id could be taken for it, a scan of the org's contacts per
# message (042). (org_id, phone) must be the only one.
assert_eq "$(sql "SELECT string_agg(pg_get_indexdef(i.indexrelid), '; ')
                    FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                   WHERE i.indrelid = 'contacts'::regclass AND a.attname = 'org_id'")" \
  "CREATE UNIQUE INDEX contacts_org_id_phone_key ON public.contacts USING btree (org_id, phone)" \
  "the one index on contacts led by org_id is (org_id, phone)"
echo "test_inbound_batch: ok"
