#!/usr/bin/env bash
# A blast bigger than what its sender is fed ahead (2,000), driven as the
# worker would (tocsin_blasts_tick) with the sends simulated in SQL: the
# audience is fixed once when due, in chunks of 1,000; messages are fed a
# whole chunk at a time, only while the due queue runs low (messages a
# worker holds are not due); a paused blast
# is not fed; a recipient who opts out before being fed gets a cancelled
# message and counts as opted out; messages held for the morning do not
# stop the feed; a cancel drops the chunks not fed; the counters match a
# recount (plus the recipients never fed) all along.
source "$(dirname "$0")/lib.sh"
fresh_db
CTL="$BIN/ops/tocsinctl"
"$CTL" migrate >/dev/null
"$CTL" org create north --name "North Chapter" >/dev/null
ORG=$(sql "SELECT id FROM orgs WHERE slug = 'north'")
# 10 messages/s: fed 2,000 (the floor) ahead.
SENDER=$(sql "INSERT INTO senders (org_id, address, kind, provider, credentials_sealed, messages_per_second)
              VALUES ($ORG, '+18005550199', 'toll_free', 'telnyx', 'x', 10) RETURNING id")
LIST=$(sql "INSERT INTO lists (org_id, name) VALUES ($ORG, 'members') RETURNING id")
# 4,510 New York members, 10 of them opted out beforehand.
sql "INSERT INTO contacts (org_id, phone, first_name)
     SELECT $ORG, '+1212555' || lpad(i::text, 4, '0'), 'M' || i FROM generate_series(0, 4509) i" >/dev/null
sql "INSERT INTO subscriptions (org_id, list_id, contact_id, source) SELECT $ORG, $LIST, id, 'api' FROM contacts" >/dev/null
sql "INSERT INTO opt_outs (org_id, phone, source) SELECT $ORG, phone, 'admin' FROM contacts WHERE id % 451 = 0" >/dev/null

create() { sql "SELECT tocsin_blast_create($ORG, NULL, $SENDER, $LIST, \$b\$$1\$b\$, '{}')"; }
tick() { sql "SELECT tocsin_blasts_tick('$1')" >/dev/null; }
field() { sql "SELECT $2 FROM blasts WHERE id = $1"; }
count_msgs() { sql "SELECT count(*) FROM messages WHERE blast_id = $1 ${2:+AND $2}"; }
send_queued() { # BLAST [LIMIT]: the worker sends that many due queued messages
  sql "UPDATE messages SET state = 'sent', provider_message_id = 'p' || id, sent_at = now()
        WHERE id IN (SELECT id FROM messages WHERE blast_id = $1 AND state = 'queued' ORDER BY id LIMIT ${2:-100000})" >/dev/null
}
check_counters() { # BLAST MESSAGE: counters = recount + unfed recipients counted queued
  local stored recount
  stored=$(sql "SELECT concat_ws(' ', s->>'queued', s->>'sent', s->>'cancelled', s->>'opted_out')
                  FROM tocsin_blast_status(NULL, $1) s")
  recount=$(sql "SELECT concat_ws(' ', count(*) FILTER (WHERE m.state = 'queued') + b.unfed,
                                  count(*) FILTER (WHERE m.state = 'sent'),
                                  count(*) FILTER (WHERE m.state = 'cancelled') + $3,
                                  $4)
                   FROM blasts b LEFT JOIN messages m ON m.blast_id = b.id WHERE b.id = $1 GROUP BY b.unfed")
  assert_eq "$stored" "$recount" "$2"
}

DAY='2026-07-15 12:00 America/New_York'
B=$(create 'Hi {first_name|friend}, rally at noon. Reply STOP to opt out')
sql "SELECT tocsin_blast_schedule($ORG, $B, NULL, '$DAY')" >/dev/null
tick "$DAY"
assert_eq "$(field "$B" "state || ' ' || recipients || ' ' || unfed")" "sending 4500 2500" \
  "the audience is fixed (opted-out left out); two chunks fed"
assert_eq "$(sql "SELECT count(*) || ' ' || sum(cardinality(contact_ids)) FROM blast_audience WHERE blast_id = $B")" "3 2500" \
  "the rest waits in chunks of up to 1,000"
assert_eq "$(count_msgs "$B" "state = 'queued'")" 2000 "2,000 messages queued, rendered"
assert_eq "$(sql "SELECT body FROM messages WHERE blast_id = $B AND to_phone = '+12125550007'")" \
  "Hi M7, rally at noon. Reply STOP to opt out" "with the member's fields"
assert_eq "$(sql "SELECT count(*) FROM blast_audience a, unnest(a.contact_ids) u(id), messages m
                   WHERE a.blast_id = $B AND m.blast_id = $B AND m.contact_id = u.id")" 0 "nobody both fed and waiting"
check_counters "$B" "counters after the first feed" 0 0
status=$("$CTL" blast status "$B")
assert_contains "$status" "queued       4500" "status: the unfed count queued"
assert_contains "$status" "not fed      2500 of the queued" "status: and how many are not messages yet"

tick "$DAY"
assert_eq "$(count_msgs "$B")" 2000 "no feed while the due queue is full"

# Someone in a chunk not fed yet opts out.
late=$(sql "SELECT c.phone FROM blast_audience a, unnest(a.contact_ids) u(id) JOIN contacts c ON c.id = u.id
             WHERE a.blast_id = $B ORDER BY a.chunk DESC, u.id LIMIT 1")
sql "INSERT INTO opt_outs (org_id, phone, source) VALUES ($ORG, '$late', 'keyword')" >/dev/null

# A worker claims 1,500 (schema 034: out of the outbox, still 'queued'
# in messages): in flight, they are no longer due, and the tick feeds.
assert_eq "$(sql "SELECT count(*) FROM tocsin_claim($SENDER, 'w1', 1500, '$DAY', 60)")" 1500 "a worker claims 1,500"
# Its 12 kB of ids are compressed with lz4, not pglz (schema 043).
assert_eq "$(sql "SELECT pg_column_compression(message_ids) FROM claims")" lz4 "a claim's ids are compressed with lz4"
tick "$DAY"
assert_eq "$(count_msgs "$B")" 4000 "1,500 in flight: 500 due left, two chunks fed"
assert_eq "$(field "$B" unfed)" 500 "one chunk left"
# Their outcomes: sent.
assert_eq "$(sql "SELECT tocsin_record_outcomes('w1', message_ids, array_fill('sent'::text, ARRAY[n]),
                                                 array(SELECT 'p' || i FROM unnest(message_ids) i),
                                                 array_fill(NULL::text, ARRAY[n]), array_fill(NULL::text, ARRAY[n]),
                                                 array_fill(0, ARRAY[n]), array_fill(false, ARRAY[n]))
                    FROM (SELECT message_ids, cardinality(message_ids) AS n FROM claims) c")" 1500 "and sends them"
check_counters "$B" "counters after the second feed" 0 0

sql "SELECT tocsin_blast_pause($ORG, $B, NULL)" >/dev/null
send_queued "$B"
tick "$DAY"
assert_eq "$(count_msgs "$B")" 4000 "a paused blast is not fed"
sql "SELECT tocsin_blast_resume($ORG, $B, NULL)" >/dev/null
tick "$DAY"
assert_eq "$(count_msgs "$B")" 4500 "resumed: the last chunk fed"
assert_eq "$(sql "SELECT state || ': ' || error_message FROM messages WHERE blast_id = $B AND to_phone = '$late'")" \
  "cancelled: the member opted out before it was sent" "the late opt-out is never texted"
assert_eq "$(count_msgs "$B" "state = 'queued'")" 499 "everyone else queued"
check_counters "$B" "counters after the last feed" 0 1
send_queued "$B"
tick "$DAY"
tick "$DAY"
assert_eq "$(field "$B" state)" completed "completed once every chunk is fed and sent"
assert_eq "$("$CTL" blast status "$B" | grep -c 'not fed')" 0 "nothing left to feed in the status"
check_counters "$B" "counters at the end" 0 1

# --- held for the morning: the feed goes on --------------------------------
NIGHT='2026-07-16 01:00 America/New_York'
N=$(create 'Night {first_name|friend}')
sql "SELECT tocsin_blast_schedule($ORG, $N, NULL, '$NIGHT')" >/dev/null
tick "$NIGHT"
tick "$NIGHT"
assert_eq "$(count_msgs "$N" "state = 'queued' AND not_before > '$NIGHT'")" 4000 \
  "messages held until 08:00 are not due: a second tick feeds more"

# --- a cancel drops what was not fed ----------------------------------------
# (4,499 recipients now: the late opt-out is left out.)
C=$(create 'Cancel {first_name|friend}')
sql "SELECT tocsin_blast_schedule($ORG, $C, NULL, '$DAY')" >/dev/null
tick "$DAY"
assert_eq "$(sql "SELECT tocsin_blast_cancel($ORG, $C, NULL)")" 4499 "2,000 messages and 2,499 unfed recipients cancelled"
assert_eq "$(sql "SELECT count(*) FROM blast_audience WHERE blast_id = $C")" 0 "its chunks are gone"
assert_eq "$(field "$C" unfed)" 0 "nothing left to feed"
check_counters "$C" "counters after a cancel" 2499 0
tick "$DAY"
assert_eq "$(count_msgs "$C")" 2000 "a cancelled blast is not fed"
assert_contains "$(sql "SELECT details::text FROM audit_events WHERE action = 'blast.cancel' AND subject_id = $C")" \
  '"recipients_not_queued": 2499' "the cancel's audit counts both"
echo "test_blast_feed: ok"
