#!/usr/bin/env bash
# The outbox (schema 034) through the worker's SQL functions alone: a
# claim takes messages out of the outbox into one claims row; only the
# claiming worker stamps and records them; a cancellation skips a message
# in flight and cancels one still in the outbox; an outcome written twice
# changes nothing; a retry and a release put a message back; the sweep
# of an expired claim makes a stamped message unknown and puts an
# unstamped one back; a deleted message takes its outbox row along; a
# stale outbox row is never sent; a STOP reaches a message in the outbox
# and one claimed but not stamped; the stamp sends the conversation's
# live "status" event, and so does putting messages back (one event per
# conversation per statement, the operator's requeue too); a claim reads only the outbox rows it
# takes, and a cancellation only those it cancels.
source "$(dirname "$0")/lib.sh"
fresh_db
"$BIN/ops/tocsinctl" migrate >/dev/null
sql "INSERT INTO orgs (slug, name) VALUES ('o', 'Org');
     INSERT INTO senders (org_id, address, kind, provider, account_sid, credentials_sealed, messages_per_second)
     SELECT id, '12345', 'short_code', 'twilio', 'AC' || repeat('0', 32), 'sealed', 1 FROM orgs;
     INSERT INTO messages (org_id, sender_id, provider, to_phone, body, encoding, segments, lane)
     SELECT s.org_id, s.id, 'twilio', '+1415555270' || g, 'm' || g, 'GSM-7', 1, 'bulk'
       FROM senders s, generate_series(1, 8) g" >/dev/null
S=$(sql "SELECT id FROM senders")
id() { sql "SELECT id FROM messages WHERE body = 'm$1'"; }
shown() { sql "SELECT tocsin_message_shown_state(id, state) FROM messages WHERE body = 'm$1'"; }
outcome() { # WORKER ID KIND: records one outcome, prints the rows changed
  sql "SELECT tocsin_record_outcomes('$1', ARRAY[$2]::bigint[], ARRAY['$3'], ARRAY['SM$2'], ARRAY['']::text[],
                                     ARRAY['']::text[], ARRAY[0], ARRAY[false])"
}
assert_eq "$(sql "SELECT count(*) FROM outbox")" 8 "queued messages are in the outbox"

# Claim four: out of the outbox, one claim of w1's with four open.
assert_eq "$(sql "SELECT count(*) FROM tocsin_claim($S, 'w1', 4, now(), 60)")" 4 "four claimed"
assert_eq "$(sql "SELECT worker || ' ' || cardinality(message_ids) || ' ' || open FROM claims")" "w1 4 4" "one claims row"
assert_eq "$(sql "SELECT count(*) FROM outbox")" 4 "the others wait in the outbox"
assert_eq "$(shown 1) $(shown 5)" "sending queued" "in flight shows as sending"
M1=$(id 1) M2=$(id 2) M3=$(id 3) M4=$(id 4) M5=$(id 5)

# Another worker: nothing to stamp, nothing to record.
assert_eq "$(sql "SELECT count(*) FROM tocsin_mark_going(ARRAY[$M1, $M2, $M3]::bigint[], 'w2')")" 0 "w2 cannot stamp w1's claim"
assert_eq "$(outcome w2 "$M1" sent)" 0 "w2 cannot record w1's message"
assert_eq "$(sql "SELECT count(*) FROM tocsin_mark_going(ARRAY[$M1, $M2, $M3]::bigint[], 'w1')")" 3 "w1 stamps three"

# A cancellation (tocsin_unqueue, which every cancelling site calls)
# skips the ones in flight and cancels the ones still in the outbox.
assert_eq "$(sql "SELECT tocsin_unqueue(ARRAY[$M1, $M5]::bigint[], 'test')")" 1 "only the one in the outbox is cancelled"
assert_eq "$(shown 1) $(shown 5)" "sending cancelled" "the one in flight goes on"
assert_eq "$(sql "SELECT error_message FROM messages WHERE id = $M5")" test "with the reason given"
assert_eq "$(sql "SELECT count(*) FROM outbox WHERE id = $M5")" 0 "the cancelled one left the outbox"
assert_eq "$(sql "SELECT tocsin_unqueue(ARRAY[$M5]::bigint[], 'again') || ' ' || tocsin_unqueue('{}', NULL)")" "0 0" \
  "cancelling again, or nothing, changes nothing"

# Outcomes: sent, then the same again (nothing changes); a retry goes
# back into the outbox.
assert_eq "$(outcome w1 "$M1" sent)" 1 "sent recorded"
assert_eq "$(outcome w1 "$M1" sent)" 0 "recorded twice: nothing changes"
assert_eq "$(sql "SELECT attempts FROM messages WHERE id = $M1")" 1 "one attempt"
assert_eq "$(outcome w1 "$M2" retry)" 1 "retry recorded"
assert_eq "$(sql "SELECT count(*) FROM outbox WHERE id = $M2")" 1 "a retry is back in the outbox"
assert_eq "$(sql "SELECT open || ' ' || ($M2 = ANY (message_ids)) FROM claims")" "2 false" "and out of the claim"
# Release: M4 (never stamped) goes back.
assert_eq "$(sql "SELECT tocsin_release_claims(ARRAY[$M4]::bigint[], 'w2')")" 0 "w2 cannot release w1's claim"
assert_eq "$(sql "SELECT tocsin_release_claims(ARRAY[$M4]::bigint[], 'w1')")" 1 "released"
assert_eq "$(sql "SELECT count(*) FROM outbox WHERE id = $M4")" 1 "released: back in the outbox"

# The lease runs out with M3 stamped: unknown, never back in the outbox.
assert_eq "$(sql "SELECT tocsin_sweep_leases()")" 0 "the lease still runs"
sql "UPDATE claims SET lease_until = now() - interval '1 second'" >/dev/null
assert_eq "$(sql "SELECT tocsin_sweep_leases()")" 1 "the sweep judges the one left"
assert_eq "$(sql "SELECT state || ' ' || claimed_by FROM messages WHERE id = $M3")" "unknown w1" "stamped: unknown"
assert_eq "$(sql "SELECT count(*) FROM outbox WHERE id = $M3") $(sql "SELECT count(*) FROM claims")" "0 0" \
  "not queued again, and the claim is gone"
assert_eq "$(outcome w1 "$M3" sent)" 1 "its worker's late outcome is still taken"

# An unstamped claim whose lease runs out: back in the outbox.
N=$(sql "SELECT string_agg(id::text, ',') FROM tocsin_claim($S, 'w3', 2, now(), 60)")
sql "UPDATE claims SET lease_until = now() - interval '1 second'" >/dev/null
assert_eq "$(sql "SELECT tocsin_sweep_leases()")" 2 "both swept"
assert_eq "$(sql "SELECT count(*) FROM outbox WHERE id IN ($N)")" 2 "never stamped: back in the outbox"

# A queued message changed by hand (no tocsin_unqueue) keeps a stale
# outbox row: the claim drops the row and never sends the message.
sql "INSERT INTO messages (org_id, sender_id, provider, to_phone, body, encoding, segments, lane)
     SELECT org_id, id, 'twilio', '+14155552798', 'hand', 'GSM-7', 1, 'bulk' FROM senders" >/dev/null
M6=$(sql "SELECT id FROM messages WHERE body = 'hand'")
sql "UPDATE messages SET state = 'cancelled' WHERE id = $M6" >/dev/null
assert_eq "$(sql "SELECT count(*) FROM outbox WHERE id = $M6")" 1 "changed by hand: its outbox row stays"

assert_eq "$(sql "SELECT count(*) FROM tocsin_claim($S, 'w4', 10, now(), 60) WHERE id = $M6")" 0 "a stale outbox row is not claimed"
assert_eq "$(sql "SELECT count(*) FROM outbox WHERE id = $M6")" 0 "and it is gone"
sql "DELETE FROM claims" >/dev/null

# A STOP (as the gateway commits it) while a message waits in the outbox,
# and while another is claimed but not yet stamped: neither is ever sent.
sql "INSERT INTO messages (org_id, sender_id, provider, to_phone, body, encoding, segments, lane)
     SELECT s.org_id, s.id, 'twilio', '+14155552799', 'stop' || g, 'GSM-7', 1, 'bulk'
       FROM senders s, generate_series(1, 2) g" >/dev/null
P1=$(sql "SELECT id FROM messages WHERE body = 'stop1'") P2=$(sql "SELECT id FROM messages WHERE body = 'stop2'")
sql "DELETE FROM outbox WHERE id = $P2;
     INSERT INTO claims (worker, message_ids, lo, hi, open, blasts, lease_until)
     VALUES ('w5', ARRAY[$P2]::bigint[], $P2, $P2, 1, false, now() + interval '1 minute')" >/dev/null
assert_eq "$(sql "SELECT action FROM tocsin_receive_inbound('twilio', 'SMstop2799', $S, '+14155552799', 'STOP', 0,
                                                             'opt_out', NULL, false, NULL, NULL, NULL)")" opted_out "STOP"
assert_eq "$(sql "SELECT state || ' ' || (SELECT count(*) FROM outbox WHERE id = $P1) FROM messages WHERE id = $P1")" \
  "cancelled 0" "in the outbox: cancelled, out of the outbox"
assert_eq "$(sql "SELECT count(*) FROM tocsin_claim($S, 'w6', 100, now(), 60) WHERE id IN ($P1, $P2)")" 0 "neither is claimed"
assert_eq "$(sql "SELECT count(*) FROM tocsin_mark_going(ARRAY[$P2]::bigint[], 'w5')")" 0 "claimed: the stamp refuses it"
assert_eq "$(sql "SELECT state FROM messages WHERE id = $P2")" suppressed "and suppresses it"
assert_eq "$(sql "SELECT count(*) FROM send_stamps WHERE $P1 = ANY (message_ids) OR $P2 = ANY (message_ids)")" 0 "never stamped"
sql "DELETE FROM claims" >/dev/null

# The claim writes nothing a trigger could see: the stamp tells the
# dashboard (NOTIFY tocsin_conversations, sent at its commit, before the
# carrier request) that the answer in a conversation is on its way.
CONV=$(sql "WITH ct AS (INSERT INTO contacts (org_id, phone) SELECT id, '+14155552797' FROM orgs RETURNING id, org_id)
            INSERT INTO conversations (org_id, contact_id, sender_id) SELECT org_id, id, $S FROM ct RETURNING id")
sql "INSERT INTO messages (org_id, sender_id, provider, to_phone, body, encoding, segments, lane, conversation_id)
     SELECT org_id, id, 'twilio', '+14155552797', 'answer', 'GSM-7', 1, 'conversational', $CONV FROM senders" >/dev/null
A=$(sql "SELECT id FROM messages WHERE body = 'answer'")
assert_eq "$(sql "SELECT count(*) FROM tocsin_claim($S, 'w7', 100, now(), 60) WHERE id = $A")" 1 "the answer is claimed"
events=$("$PSQL" -XqAt -v ON_ERROR_STOP=1 "$TOCSIN_DATABASE_URL" 2>&1 <<SQL
LISTEN tocsin_conversations;
SELECT count(*) FROM tocsin_mark_going(ARRAY[$A]::bigint[], 'w7');
SQL
)
assert_eq "$(grep -c 'Asynchronous notification "tocsin_conversations"' <<<"$events")" 1 "the stamp sends one event"
assert_contains "$events" "\"conversation_id\" : $CONV, \"event\" : \"status\"" "a status event of its conversation"
assert_eq "$(sql "SELECT tocsin_message_shown_state(id, state) FROM messages WHERE id = $A")" sending "which now shows it sending"
sql "DELETE FROM claims" >/dev/null

# Putting messages back into the outbox (a release, a retry, the sweep)
# changes what their conversation shows from 'sending' to 'queued': each
# statement sends one event per conversation, however many of its
# messages came back, and none for messages outside a conversation.
sql "INSERT INTO messages (org_id, sender_id, provider, to_phone, body, encoding, segments, lane, conversation_id)
     SELECT org_id, id, 'twilio', '+14155552797', 'again' || g, 'GSM-7', 1, 'conversational', $CONV
       FROM senders, generate_series(1, 3) g;
     INSERT INTO messages (org_id, sender_id, provider, to_phone, body, encoding, segments, lane)
     SELECT org_id, id, 'twilio', '+14155552796', 'outside', 'GSM-7', 1, 'bulk' FROM senders" >/dev/null
AGAIN=$(sql "SELECT string_agg(id::text, ',') FROM messages WHERE body LIKE 'again%'")
listen() { # SQL: runs it, prints the notifications of tocsin_conversations it sent
  "$PSQL" -XqAt -v ON_ERROR_STOP=1 "$TOCSIN_DATABASE_URL" 2>&1 <<SQL | grep 'Asynchronous notification "tocsin_conversations"'
LISTEN tocsin_conversations;
$1;
SQL
}
claimed=$(sql "SELECT string_agg(id::text, ',') FROM tocsin_claim($S, 'w8', 100, now(), 60)")
assert_eq "$(sql "SELECT count(*) FROM messages WHERE id IN ($claimed) AND (id IN ($AGAIN) OR body = 'outside')")" 4 \
  "the three answers and one message outside a conversation are claimed"
events=$(listen "SELECT tocsin_release_claims(ARRAY[$claimed]::bigint[], 'w8')")
assert_eq "$(grep -c . <<<"$events")" 1 "a release of three answers and others sends one event"
assert_contains "$events" "\"conversation_id\" : $CONV, \"event\" : \"status\"" "a status event of their conversation"
assert_eq "$(sql "SELECT count(*) FROM messages WHERE id IN ($AGAIN) AND tocsin_message_shown_state(id, state) = 'queued'")" 3 \
  "which shows them queued"
assert_eq "$(listen "SELECT tocsin_release_claims(ARRAY[$claimed]::bigint[], 'w8')" | grep -c .)" 0 "released again: nothing put back, no event"
sql "SELECT count(*) FROM tocsin_claim($S, 'w8', 100, now(), 60)" >/dev/null
n=$(sql "SELECT count(*) FROM unnest(ARRAY[$AGAIN]) i")
events=$(listen "SELECT tocsin_record_outcomes('w8', ARRAY[$AGAIN]::bigint[], array_fill('retry'::text, ARRAY[$n]),
                   array_fill(''::text, ARRAY[$n]), array_fill(''::text, ARRAY[$n]), array_fill('busy'::text, ARRAY[$n]),
                   array_fill(0, ARRAY[$n]), array_fill(false, ARRAY[$n]))")
assert_eq "$(grep -c "\"conversation_id\" : $CONV, \"event\" : \"status\"" <<<"$events")" 1 "three retries in one outcome: one event"
sql "SELECT count(*) FROM tocsin_claim($S, 'w8', 100, now(), 60)" >/dev/null
sql "UPDATE claims SET lease_until = now() - interval '1 second'" >/dev/null
events=$(listen "SELECT tocsin_sweep_leases()")
assert_eq "$(grep -c "\"conversation_id\" : $CONV, \"event\" : \"status\"" <<<"$events") $(grep -c . <<<"$events")" "1 1" \
  "the sweep of them all: one event"
assert_eq "$(sql "SELECT count(*) FROM outbox WHERE id IN ($AGAIN)")" 3 "all three back in the outbox"

# The operator's requeue of unknown messages puts them back the same way:
# tocsin_outbox_put_back once for the whole requeue, and no per-message
# trigger (tocsin_message_state_notify) announcing each of them.
sql "SELECT count(*) FROM tocsin_claim($S, 'w8', 100, now(), 60)" >/dev/null
sql "SELECT count(*) FROM tocsin_mark_going(ARRAY[$AGAIN]::bigint[], 'w8');
     UPDATE claims SET lease_until = now() - interval '1 second'" >/dev/null
sql "SELECT tocsin_sweep_leases()" >/dev/null
assert_eq "$(sql "SELECT count(*) FROM messages WHERE id IN ($AGAIN) AND state = 'unknown'")" 3 \
  "the three answers, stamped and swept, are unknown"
calls() { # FUNCTION: how often the transaction so far called it
  echo "coalesce((SELECT calls FROM pg_stat_xact_user_functions WHERE funcname = '$1'), 0)"
}
events=$("$PSQL" -XqAt -v ON_ERROR_STOP=1 "$TOCSIN_DATABASE_URL" 2>&1 <<SQL
LISTEN tocsin_conversations;
BEGIN;
SET LOCAL track_functions = 'pl';
SELECT 'requeued ' || tocsin_messages_requeue(NULL, NULL, NULL, NULL, false);
SELECT 'calls ' || $(calls tocsin_outbox_put_back) || ' ' || $(calls tocsin_message_state_notify);
COMMIT;
SQL
)
assert_contains "$events" "requeued 3" "the three are requeued"
assert_contains "$events" "calls 1 0" "through one tocsin_outbox_put_back, no trigger per message"
assert_eq "$(grep -c "\"conversation_id\" : $CONV, \"event\" : \"status\"" <<<"$events")" 1 "one event for their conversation"
assert_eq "$(sql "SELECT count(*) FROM outbox WHERE id IN ($AGAIN)")" 3 "all three back in the outbox"

# A deleted message takes its outbox row along.
sql "DELETE FROM messages WHERE id = $M4" >/dev/null
assert_eq "$(sql "SELECT count(*) FROM outbox WHERE id = $M4")" 0 "no outbox row without its message"

# A claim reads only the outbox rows it takes, whatever the planner knows
# of the table: 3,000 rows waiting (analyzed), 100 claimed, and no row of
# the outbox read by a sequential scan in that transaction (a join back
# by id made one of every claim, dead rows included).
sql "INSERT INTO messages (org_id, sender_id, provider, to_phone, body, encoding, segments, lane)
     SELECT s.org_id, s.id, 'twilio', '+1415' || lpad(g::text, 7, '0'), 'bulk ' || g, 'GSM-7', 1, 'bulk'
       FROM senders s, generate_series(1, 3000) g;
     ANALYZE outbox" >/dev/null
read -r taken seq_read <<<"$(sql "BEGIN;
  CREATE TEMP TABLE taken ON COMMIT DROP AS SELECT id FROM tocsin_claim($S, 'w9', 100, now(), 60);
  SELECT (SELECT count(*) FROM taken) || ' ' || coalesce(seq_tup_read, 0)
    FROM pg_stat_xact_user_tables WHERE relname = 'outbox';
  COMMIT" | tr '|' ' ')"
assert_eq "$taken" 100 "a claim of 100 from 3,000"
assert_eq "$seq_read" 0 "reads no outbox row by a sequential scan"
assert_eq "$(sql "SELECT count(*) FROM outbox o JOIN claims c ON o.id = ANY (c.message_ids) WHERE c.worker = 'w9'")" 0 \
  "and the rows it took left the outbox"

# A cancellation reads only the outbox rows it cancels, whatever the
# planner knows of the table: a blast's 100 waiting messages cancelled
# among some 10,000 others (analyzed), then one number's message (a STOP,
# an opt-out), with no row of the outbox read by a sequential scan in
# either transaction (a join back by id read them all). Below a few
# thousand rows a sequential scan is as cheap as the index and the
# planner may fairly take it: the table is made big enough to tell.
LIST=$(sql "INSERT INTO lists (org_id, name) SELECT id, 'cancel' FROM orgs RETURNING id")
B=$(sql "INSERT INTO blasts (org_id, sender_id, list_id, body, state, recipients)
         SELECT org_id, id, $LIST, 'blast', 'sending', 100 FROM senders RETURNING id")
sql "INSERT INTO messages (org_id, sender_id, provider, to_phone, body, encoding, segments, lane)
     SELECT s.org_id, s.id, 'twilio', '+1417' || lpad(g::text, 7, '0'), 'more ' || g, 'GSM-7', 1, 'bulk'
       FROM senders s, generate_series(1, 7000) g;
     INSERT INTO messages (org_id, sender_id, provider, to_phone, body, encoding, segments, lane, purpose, blast_id)
     SELECT s.org_id, s.id, 'twilio', '+1416' || lpad(g::text, 7, '0'), 'blast ' || g, 'GSM-7', 1, 'bulk', 'blast', $B
       FROM senders s, generate_series(1, 100) g;
     ANALYZE outbox; ANALYZE messages" >/dev/null
WAITING=$(sql "SELECT count(*) FROM outbox")
assert_eq "$(sql "SELECT count(*) FROM outbox WHERE blast_id = $B") $((WAITING > 10000))" "100 1" \
  "the blast's 100 wait among some 10,000"
cancel_reads() { # SQL: runs it in a transaction, prints what it returned and the outbox rows read by sequential scans
  sql "BEGIN;
    CREATE TEMP TABLE r ON COMMIT DROP AS $1 AS n;
    SELECT (SELECT n FROM r) || ' ' || coalesce(seq_tup_read, 0) FROM pg_stat_xact_user_tables WHERE relname = 'outbox';
    COMMIT"
}
assert_eq "$(cancel_reads "SELECT tocsin_blast_cancel(NULL, $B, NULL)")" "100 0" \
  "the blast's 100 cancelled, no outbox row read by a sequential scan"
assert_eq "$(sql "SELECT count(*) FROM messages WHERE blast_id = $B AND state = 'cancelled'") $(sql "SELECT count(*) FROM outbox")" \
  "100 $((WAITING - 100))" "they are cancelled and out of the outbox, the others still wait"
ONE=$(sql "SELECT id FROM messages WHERE body = 'bulk 2999'")
assert_eq "$(cancel_reads "SELECT tocsin_unqueue(ARRAY[$ONE]::bigint[], 'opted out')")" "1 0" \
  "one number's message cancelled, no outbox row read by a sequential scan"
echo "test_outbox: ok"
