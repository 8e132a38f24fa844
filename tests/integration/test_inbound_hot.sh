#!/usr/bin/env bash
# Schema 036: a member's reply updates her open conversation in place (HOT:
# no index names a column a reply changes) and does not write her contact
# again; the lists those indexes used to keep in order still come newest
# reply first (a volunteer's inbox, an admin's open conversations). A
# member of another org with the same number is not touched. The journal
# has no foreign key to senders any more: a journaled reply whose sender is
# gone moves to inbound_journal_failed and the rest are threaded; a retry
# of a journaled message is answered "duplicate" and stored once.
source "$(dirname "$0")/lib.sh"
demo_db
S=$(sql "SELECT id FROM senders WHERE address = '24680'")
ORG=$(sql "SELECT org_id FROM senders WHERE id = $S")
VOL=$(sql "SELECT id FROM users WHERE email = 'vol1@demo.test'")
A=+14155550431 B=+14155550432 C=+14155550433 D=+14155550434 E=+14155550435

# A and B: open conversations of the volunteer's; C: one in the pool. The
# other org has a contact with A's number, and a conversation.
sql "INSERT INTO contacts (org_id, phone) VALUES ($ORG, '$A'), ($ORG, '$B'), ($ORG, '$C');
     INSERT INTO conversations (org_id, contact_id, sender_id, assignee_id, assigned_at)
     SELECT $ORG, c.id, $S, CASE WHEN c.phone <> '$C' THEN $VOL END, now()
       FROM contacts c WHERE c.org_id = $ORG AND c.phone IN ('$A', '$B', '$C')" >/dev/null
OTHER=$(sql "INSERT INTO orgs (slug, name) VALUES ('other', 'Other') RETURNING id")
other_sender=$(sql "INSERT INTO senders (org_id, provider, address, kind, account_sid, credentials_sealed, messages_per_second)
                    SELECT $OTHER, provider, '13579', kind, account_sid, credentials_sealed, messages_per_second FROM senders WHERE id = $S
                    RETURNING id")
sql "INSERT INTO contacts (org_id, phone) VALUES ($OTHER, '$A');
     INSERT INTO conversations (org_id, contact_id, sender_id)
     SELECT $OTHER, id, $other_sender FROM contacts WHERE org_id = $OTHER" >/dev/null
other_before=$(sql "SELECT c.xmin || ' ' || c.updated_at || ' ' || v.xmin || ' ' || v.unread
                      FROM contacts c JOIN conversations v ON v.contact_id = c.id WHERE c.org_id = $OTHER")
a_contact=$(sql "SELECT id || ' ' || xmin || ' ' || updated_at FROM contacts WHERE org_id = $ORG AND phone = '$A'")

# replies MID:FROM...: one batch of replies (one transaction); prints the
# answers, then the rows this transaction updated and HOT-updated in
# conversations and updated or inserted in contacts.
replies() {
  local mids="" froms="" n=0 p
  for p in "$@"; do mids+="'${p%%:*}',"; froms+="'${p#*:}',"; n=$((n + 1)); done
  "$PSQL" -XqAt -v ON_ERROR_STOP=1 "$TOCSIN_DATABASE_URL" <<SQL
BEGIN;
SELECT string_agg(action, ',' ORDER BY ord) FROM tocsin_receive_inbound_batch(
  array_fill('twilio'::text, ARRAY[$n]), ARRAY[${mids%,}], array_fill($S::bigint, ARRAY[$n]), ARRAY[${froms%,}],
  array_fill('see you there'::text, ARRAY[$n]), array_fill(0, ARRAY[$n]), array_fill('reply'::text, ARRAY[$n]),
  array_fill(NULL::bigint, ARRAY[$n]), array_fill(false, ARRAY[$n]), array_fill(NULL::text, ARRAY[$n]),
  array_fill(NULL::text, ARRAY[$n]), array_fill(NULL::int, ARRAY[$n]));
SELECT 'conversations updated ' || pg_stat_get_xact_tuples_updated('conversations'::regclass)
       || ' hot ' || pg_stat_get_xact_tuples_hot_updated('conversations'::regclass)
       || ', contacts updated ' || pg_stat_get_xact_tuples_updated('contacts'::regclass)
       || ' inserted ' || pg_stat_get_xact_tuples_inserted('contacts'::regclass);
COMMIT;
SQL
}
got=$(replies SMh001:$B | paste -sd' ')
assert_eq "$got" "reply conversations updated 1 hot 1, contacts updated 0 inserted 0" \
  "a reply to an open conversation is a HOT update and leaves the contact alone"
got=$(replies SMh002:$A SMh003:$D | paste -sd' ')
assert_eq "$got" "reply,reply conversations updated 1 hot 1, contacts updated 0 inserted 1" \
  "a known member and a new number in one batch"
got=$(replies SMh004:$C | paste -sd' ')
assert_eq "$got" "reply conversations updated 1 hot 1, contacts updated 0 inserted 0" "a reply to the pool's conversation"
got=$(replies SMh005:$B | paste -sd' ')
assert_eq "$got" "reply conversations updated 1 hot 1, contacts updated 0 inserted 0" "a second reply, in place again"

assert_eq "$(sql "SELECT id || ' ' || xmin || ' ' || updated_at FROM contacts WHERE org_id = $ORG AND phone = '$A'")" \
  "$a_contact" "A's contact was not written again"
assert_eq "$(sql "SELECT count(*) FROM inbound_messages i JOIN contacts c ON c.id = i.contact_id
                   WHERE i.provider_message_id = 'SMh002' AND c.org_id = $ORG AND c.phone = '$A'")" 1 \
  "A's reply is linked to her contact in the sender's org"
assert_eq "$(sql "SELECT c.xmin || ' ' || c.updated_at || ' ' || v.xmin || ' ' || v.unread
                    FROM contacts c JOIN conversations v ON v.contact_id = c.id WHERE c.org_id = $OTHER")" \
  "$other_before" "the other org's member with the same number is untouched"
assert_eq "$(sql "SELECT string_agg(ct.phone || '=' || v.unread, ' ' ORDER BY ct.phone) FROM conversations v
                   JOIN contacts ct ON ct.id = v.contact_id WHERE v.org_id = $ORG AND ct.phone LIKE '+1415555043_'")" \
  "$A=1 $B=2 $C=1 $D=1" "unread counts"

# The lists, newest reply first: B replied last to the volunteer, then A;
# among all open ones C, then B, then A and D (one batch, one time: the
# newer conversation first).
inbox=$(sql "SELECT string_agg(e->>'phone', ' ' ORDER BY n) FROM json_array_elements(
               tocsin_dashboard_inbox($ORG, $VOL, 'lead')) WITH ORDINALITY AS x(e, n)")
assert_eq "$inbox" "$B $A" "the volunteer's inbox, newest reply first"
all=$(sql "SELECT string_agg(r.phone, ' ' ORDER BY r.n) FROM (
             SELECT r.phone, row_number() OVER (ORDER BY r.last_inbound_at DESC NULLS LAST, r.id DESC) AS n
               FROM dashboard_conversation_rows r WHERE r.org_id = $ORG AND r.state = 'open') r
            WHERE r.phone LIKE '+1415555043_'")
assert_eq "$all" "$B $C $D $A" "the org's open conversations, newest reply first"

# The journal: a row whose sender is gone fails alone.
sql "INSERT INTO inbound_journal (provider, provider_message_id, sender_id, from_phone, body, num_media, likely_revocation)
     VALUES (ARRAY['twilio', 'twilio'], ARRAY['SMh006', 'SMh007'], ARRAY[(SELECT max(id) + 1000 FROM senders), $S],
             ARRAY['$E', '$E'], ARRAY['lost sender', 'kept'], ARRAY[0, 0], ARRAY[false, false])" >/dev/null
assert_eq "$(sql "SELECT applied || ' ' || failed || ' ' || more FROM tocsin_inbound_journal_apply(200)")" "1 1 false" \
  "one applied, one failed"
assert_contains "$(sql "SELECT provider_message_id || ': ' || apply_error FROM inbound_journal_failed")" \
  "SMh006: sender" "the failed row, with why"
assert_eq "$(sql "SELECT count(*) FROM inbound_messages WHERE provider_message_id = 'SMh007' AND conversation_id IS NOT NULL")" \
  1 "the other row is threaded"
assert_eq "$(sql "SELECT count(*) FROM inbound_journal")" 0 "the journal is empty"

# A retry of a journaled message, in a burst, is journaled again (040: the
# journal has no key on the carrier's id); a retry of a threaded one is a
# duplicate. Each is stored once.
burst() {
  sql "SELECT string_agg(action, ',' ORDER BY ord) FROM tocsin_receive_inbound_burst(
         ARRAY['twilio', 'twilio'], ARRAY['$1', '$2'], ARRAY[$S, $S]::bigint[], ARRAY['$A', '$B'],
         ARRAY['one', 'two'], ARRAY[0, 0], ARRAY['reply', 'reply'], ARRAY[NULL, NULL]::bigint[],
         ARRAY[false, false], ARRAY[NULL, NULL]::text[], ARRAY[NULL, NULL]::text[], ARRAY[NULL, NULL]::int[])"
}
assert_eq "$(burst SMh008 SMh009)" "journaled,journaled" "a burst journals its replies"
assert_eq "$(burst SMh010 SMh008)" "journaled,journaled" "a retry of a journaled reply"
assert_eq "$(burst SMh002 SMh011)" "duplicate,journaled" "a retry of a threaded reply"
sql "SELECT applied FROM tocsin_inbound_journal_apply(200)" >/dev/null
assert_eq "$(sql "SELECT count(*) || ' ' || count(DISTINCT provider_message_id) FROM inbound_messages
                   WHERE provider_message_id IN ('SMh008', 'SMh009', 'SMh010', 'SMh011')")" "4 4" "each stored once"
assert_eq "$(sql "SELECT unread FROM conversations v JOIN contacts c ON c.id = v.contact_id
                   WHERE c.org_id = $ORG AND c.phone = '$B'")" 4 "B's two journaled replies counted"
echo "PASS"
