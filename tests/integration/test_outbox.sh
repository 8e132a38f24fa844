#!/usr/bin/env bash
# The outbox (schema 034) through the worker's SQL functions alone: a
# claim takes messages out of the outbox into one claims row; only the
# claiming worker stamps and records them; a cancellation skips a message
# in flight and cancels one still in the outbox; an outcome written twice
# changes nothing; a retry and a release put a message back; the sweep
# of an expired claim makes a stamped message unknown and puts an
# unstamped one back; a deleted message takes its outbox row along.
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

# A cancellation (as a STOP or a blast cancel writes it) skips the ones
# in flight and cancels the ones still in the outbox.
assert_eq "$(sql "WITH u AS (UPDATE messages SET state = 'cancelled' WHERE id IN ($M1, $M5) AND state = 'queued' RETURNING 1)
                  SELECT count(*) FROM u")" 1 "only the queued one is cancelled"
assert_eq "$(shown 1) $(shown 5)" "sending cancelled" "the one in flight goes on"
assert_eq "$(sql "SELECT count(*) FROM outbox WHERE id = $M5")" 0 "the cancelled one left the outbox"

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

# A deleted message takes its outbox row along.
sql "DELETE FROM messages WHERE id = $M4" >/dev/null
assert_eq "$(sql "SELECT count(*) FROM outbox WHERE id = $M4")" 0 "no outbox row without its message"
echo "test_outbox: ok"
