#!/usr/bin/env bash
# A message's outcome is a HOT update (schema 035): no index of messages
# names a column the outcome writes, and an outcome batch on fresh pages
# writes every new version on its own page. What those indexes served
# still works through the side tables: a carrier id given twice is
# refused, a receipt finds its message (also one that came first), a
# receipt signed by another sender does not; unknown outcomes are listed
# until requeued (an org's filter never reaches another org's), and a
# deleted message leaves neither table holding it.
source "$(dirname "$0")/lib.sh"
fresh_db
"$BIN/ops/tocsinctl" migrate >/dev/null
sql "INSERT INTO orgs (slug, name) VALUES ('o', 'Org'), ('x', 'Other');
     INSERT INTO senders (org_id, address, kind, provider, account_sid, credentials_sealed, messages_per_second)
     SELECT id, CASE slug WHEN 'o' THEN '12345' ELSE '54321' END, 'short_code', 'twilio',
            'AC' || repeat(CASE slug WHEN 'o' THEN '0' ELSE '1' END, 32), 'sealed', 1 FROM orgs" >/dev/null
S=$(sql "SELECT s.id FROM senders s WHERE s.address = '12345'")
X=$(sql "SELECT s.id FROM senders s WHERE s.address = '54321'")
OX=$(sql "SELECT id FROM orgs WHERE slug = 'x'")
queue() { # SENDER FROM TO: queues messages m<FROM>..m<TO>
  sql "INSERT INTO messages (org_id, sender_id, provider, to_phone, body, encoding, segments, lane)
       SELECT s.org_id, s.id, 'twilio', '+1415555' || lpad(g::text, 4, '0'), 'm' || g, 'GSM-7', 1, 'bulk'
         FROM senders s, generate_series($2, $3) g WHERE s.id = $1" >/dev/null
}
id() { sql "SELECT id FROM messages WHERE body = 'm$1'"; }
# outcomes WORKER KIND IDS...: one tocsin_record_outcomes call, the carrier
# id of each message SM<id>; prints the rows changed.
outcomes() {
  local w=$1 kind=$2 ids
  shift 2
  ids=$(IFS=,; echo "$*")
  sql "SELECT tocsin_record_outcomes('$w', ARRAY[$ids]::bigint[], array_fill('$kind'::text, ARRAY[$#]),
         (SELECT array_agg('SM' || i ORDER BY o) FROM unnest(ARRAY[$ids]::bigint[]) WITH ORDINALITY AS u(i, o)),
         array_fill(''::text, ARRAY[$#]), array_fill(''::text, ARRAY[$#]), array_fill(0, ARRAY[$#]),
         array_fill(false, ARRAY[$#]))"
}
claim() { sql "SELECT string_agg(id::text, ' ' ORDER BY id) FROM tocsin_claim($1, '$2', $3, now(), 60)"; }
stamp() { sql "SELECT count(*) FROM tocsin_mark_going(ARRAY[$(IFS=,; echo "${*:2}")]::bigint[], '$1')" >/dev/null; }

# No index of messages names a column an outcome, a receipt or a requeue
# writes (in its key, expressions or predicate).
written="state provider_message_id error_code error_message not_before request_sent_at attempts claimed_by
         lease_until sent_at finalized_at updated_at"
for col in $written; do
  assert_eq "$(sql "SELECT string_agg(i.indexrelid::regclass::text, ',') FROM pg_index i
                     WHERE i.indrelid = 'messages'::regclass
                       AND ((SELECT attnum FROM pg_attribute WHERE attrelid = 'messages'::regclass
                                                               AND attname = '$col') = ANY (i.indkey::int2[])
                            OR pg_get_indexdef(i.indexrelid) ~ '\m$col\M')")" "" "no index names $col"
done

# The outcome of ten messages on a fresh page: every update HOT. The
# statistics of this session's updates arrive within a second or so.
queue "$S" 1 10
upd0=$(sql "SELECT n_tup_upd || ' ' || n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'messages'")
read -r -a ten <<<"$(claim "$S" w1 10)"
assert_eq "${#ten[@]}" 10 "ten claimed"
stamp w1 "${ten[@]}"
assert_eq "$(outcomes w1 sent "${ten[@]}")" 10 "ten sent"
for _ in $(seq 1 100); do
  read -r u h <<<"$(sql "SELECT n_tup_upd || ' ' || n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'messages'")"
  read -r u0 h0 <<<"$upd0"
  [ $((u - u0)) -ge 10 ] && break
  sleep 0.1
done
assert_eq "$((u - u0)) $((h - h0))" "10 10" "the ten outcomes were HOT updates"
assert_eq "$(sql "SELECT count(*) FROM message_carrier_ids c JOIN messages m ON m.id = c.message_id
                   AND m.provider_message_id = c.provider_message_id AND m.provider = c.provider")" 10 \
  "each carrier id leads to its message"

# A carrier id already given is refused: the whole batch, as the unique
# index on messages refused it, and nothing of it is written.
queue "$S" 11 12
read -r -a two <<<"$(claim "$S" w1 2)"
stamp w1 "${two[@]}"
M1=${ten[0]}
out=$(sql "SELECT tocsin_record_outcomes('w1', ARRAY[${two[0]}, ${two[1]}]::bigint[], ARRAY['sent', 'sent'],
             ARRAY['SM${two[0]}', 'SM$M1'], ARRAY['', ''], ARRAY['', ''], ARRAY[0, 0], ARRAY[false, false])" 2>&1) &&
  fail "a carrier id given twice was accepted: $out"
assert_contains "$out" "duplicate key value" "refused as a duplicate"
assert_eq "$(sql "SELECT string_agg(state, ',') FROM messages WHERE id IN (${two[0]}, ${two[1]})")" "queued,queued" \
  "neither outcome of the refused batch written"
assert_eq "$(sql "SELECT message_id FROM message_carrier_ids WHERE provider_message_id = 'SM$M1'")" "$M1" \
  "the id still leads to its first message"
assert_eq "$(sql "SELECT count(*) FROM message_carrier_ids WHERE provider_message_id = 'SM${two[0]}'")" 0 \
  "and the refused batch left no carrier id"

# Receipts: by the carrier id; another sender's signature changes nothing.
assert_eq "$(sql "SELECT tocsin_apply_receipt('twilio', 'SM$M1', $X, 'delivered', NULL, '{}')")" foreign \
  "another sender's receipt is foreign"
assert_eq "$(sql "SELECT tocsin_apply_receipt('twilio', 'SM$M1', $S, 'delivered', NULL, '{}')")" applied "applied"
assert_eq "$(sql "SELECT state FROM messages WHERE id = $M1")" delivered "delivered"
assert_eq "$(sql "SELECT tocsin_apply_receipt('twilio', 'SM$M1', $S, 'sent', NULL, '{}')")" stale "a late sent is stale"
# One that comes before its outcome waits, and the outcome applies it.
assert_eq "$(sql "SELECT tocsin_apply_receipt('twilio', 'SM${two[1]}', $S, 'delivered', NULL, '{}')")" pending \
  "a receipt before its outcome waits"
assert_eq "$(outcomes w1 sent "${two[@]}")" 2 "the two sent"
assert_eq "$(sql "SELECT state FROM messages WHERE id = ${two[1]}")" delivered "the waiting receipt applied"
assert_eq "$(sql "SELECT count(*) FROM delivery_receipts_pending")" 0 "nothing left waiting"
# And one the sweep matches (tocsin_receipts_rematch), after an id was
# given outside the worker's function.
sql "INSERT INTO delivery_receipts_pending (provider, provider_message_id, sender_id, status)
     VALUES ('twilio', 'SMlate', $S, 'undelivered')" >/dev/null
sql "UPDATE messages SET provider_message_id = 'SMlate' WHERE id = ${ten[1]}" >/dev/null
assert_eq "$(sql "SELECT message_id FROM message_carrier_ids WHERE provider_message_id = 'SMlate'")" "${ten[1]}" \
  "an id given by hand is found too"
assert_eq "$(sql "SELECT tocsin_message_by_carrier_id('twilio', 'SM${ten[1]}') IS NULL")" t \
  "and its old id no longer leads to it"
assert_eq "$(sql "SELECT tocsin_receipts_rematch()")" 1 "rematched"
assert_eq "$(sql "SELECT state FROM messages WHERE id = ${ten[1]}")" undelivered "the rematched receipt applied"

# Unknown outcomes: listed until requeued; org x's requeue reaches none.
queue "$S" 13 14
read -r -a unk <<<"$(claim "$S" w2 2)"
stamp w2 "${unk[@]}"
assert_eq "$(outcomes w2 unknown "${unk[@]}")" 2 "two unknown"
assert_eq "$(sql "SELECT string_agg(message_id::text, ' ' ORDER BY message_id) FROM unknown_messages")" "${unk[*]}" \
  "listed as unknown"
assert_eq "$(sql "SELECT tocsin_messages_requeue($OX, NULL, NULL, NULL, false)")" 0 "another org's requeue: none"
assert_eq "$(sql "SELECT tocsin_messages_requeue(NULL, NULL, $S, NULL, true)")" 2 "a dry run counts two"
assert_eq "$(sql "SELECT count(*) FROM unknown_messages")" 2 "a dry run changes nothing"
assert_eq "$(sql "SELECT tocsin_messages_requeue(NULL, NULL, $S, NULL, false)")" 2 "requeued"
assert_eq "$(sql "SELECT count(*) FROM unknown_messages")" 0 "no longer unknown"
assert_eq "$(sql "SELECT count(*) FROM outbox WHERE id IN (${unk[0]}, ${unk[1]})")" 2 "back in the outbox"
# One made unknown by hand (an operator's SQL) is listed too.
sql "UPDATE messages SET state = 'unknown' WHERE id = ${ten[2]}" >/dev/null
assert_eq "$(sql "SELECT message_id FROM unknown_messages")" "${ten[2]}" "unknown by hand: listed"

# A deleted message leaves no carrier id and no unknown row behind.
sql "DELETE FROM messages WHERE id IN (${ten[2]}, ${ten[3]})" >/dev/null
assert_eq "$(sql "SELECT count(*) FROM unknown_messages")" 0 "its unknown row went"
assert_eq "$(sql "SELECT count(*) FROM message_carrier_ids WHERE message_id IN (${ten[2]}, ${ten[3]})")" 0 \
  "its carrier ids went"
# The id is free again, as it was once its message was gone.
sql "UPDATE messages SET provider_message_id = 'SM${ten[3]}', state = 'sent' WHERE id = ${ten[4]}" >/dev/null
assert_eq "$(sql "SELECT message_id FROM message_carrier_ids WHERE provider_message_id = 'SM${ten[3]}'")" "${ten[4]}" \
  "a freed id can be given again"
echo "test_hot_outcome: ok"
