#!/usr/bin/env bash
# Schema 038: inbound messages and conversations link to their org's
# senders, contacts and conversations without per-row foreign keys; the
# statement checks and parent guards of schema/functions/inbound_links.sql
# keep what the keys guaranteed. Another org's sender, contact or
# conversation is refused on insert and on update; a parent still named is
# not deleted nor moved to another org; a batch from two orgs with the same
# number threads each message into its own org. The races: a member
# forgotten while her reply is being stored (the reply commits first and
# is forgotten too), a reply arriving while she is being forgotten (it
# waits and opens a new conversation), a sender deleted while a batch
# for it runs (refused once the batch committed). Schema 039: the batch's
# own insert skips the checks for that statement only; contacts name an
# org that exists, once per statement instead of a foreign key per row,
# and an org with contacts is not deleted, even while they are being
# inserted; the batch's conversation events keep json_build_object's text.
source "$(dirname "$0")/lib.sh"
demo_db
S=$(sql "SELECT id FROM senders WHERE address = '24680'")
ORG=$(sql "SELECT org_id FROM senders WHERE id = $S")
OTHER=$(sql "INSERT INTO orgs (slug, name) VALUES ('other', 'Other') RETURNING id")
S2=$(sql "INSERT INTO senders (org_id, provider, address, kind, account_sid, credentials_sealed, messages_per_second)
          SELECT $OTHER, provider, '13579', kind, account_sid, credentials_sealed, messages_per_second FROM senders
           WHERE id = $S RETURNING id")
A=+14155550501 B=+14155550502 C=+14155550503 D=+14155550504

# batch MID:SENDER:FROM...: one call of the batch function; prints the actions.
batch_sql() {
  local mids="" senders="" froms="" n=0 p rest
  for p in "$@"; do
    rest=${p#*:}
    mids+="'${p%%:*}',"; senders+="${rest%%:*},"; froms+="'${rest#*:}',"; n=$((n + 1))
  done
  echo "SELECT string_agg(action, ',' ORDER BY ord) FROM tocsin_receive_inbound_batch(
    array_fill('twilio'::text, ARRAY[$n]), ARRAY[${mids%,}], ARRAY[${senders%,}]::bigint[], ARRAY[${froms%,}],
    array_fill('see you there'::text, ARRAY[$n]), array_fill(0, ARRAY[$n]), array_fill('reply'::text, ARRAY[$n]),
    array_fill(NULL::bigint, ARRAY[$n]), array_fill(false, ARRAY[$n]), array_fill(NULL::text, ARRAY[$n]),
    array_fill(NULL::text, ARRAY[$n]), array_fill(NULL::int, ARRAY[$n]))"
}
batch() { sql "$(batch_sql "$@")"; }
# refused SQL: runs SQL, which must fail as a foreign key violation.
refused() {
  local out rc=0
  out=$("$PSQL" -XqAt -v ON_ERROR_STOP=1 -v VERBOSITY=verbose "$TOCSIN_DATABASE_URL" -c "$1" 2>&1) || rc=$?
  [ "$rc" -ne 0 ] || fail "$2: not refused"
  assert_contains "$out" "23503" "$2"
  [ -z "${3:-}" ] || assert_contains "$out" "$3" "$2, saying why"
}

# The same number writes to both orgs in one batch: each message lands in
# its own org's contact and conversation.
assert_eq "$(batch SMl001:$S:$A SMl002:$S2:$A SMl003:$S:$B)" "reply,reply,reply" "a batch across two orgs"
assert_eq "$(sql "SELECT string_agg(i.provider_message_id || '=' || (c.org_id = i.org_id AND v.org_id = i.org_id
                                      AND v.contact_id = c.id AND s.org_id = i.org_id)::text, ' '
                                     ORDER BY i.provider_message_id)
                    FROM inbound_messages i JOIN contacts c ON c.id = i.contact_id
                    JOIN conversations v ON v.id = i.conversation_id JOIN senders s ON s.id = i.sender_id
                   WHERE i.provider_message_id LIKE 'SMl00_'")" "SMl001=true SMl002=true SMl003=true" \
  "every message linked within its own org"
assert_eq "$(sql "SELECT i.org_id FROM inbound_messages i WHERE provider_message_id = 'SMl002'")" "$OTHER" \
  "the other org's message is the other org's"

CA=$(sql "SELECT id FROM contacts WHERE org_id = $ORG AND phone = '$A'")
VA=$(sql "SELECT conversation_id FROM inbound_messages WHERE provider_message_id = 'SMl001'")
CA2=$(sql "SELECT id FROM contacts WHERE org_id = $OTHER AND phone = '$A'")
VA2=$(sql "SELECT conversation_id FROM inbound_messages WHERE provider_message_id = 'SMl002'")

# Another org's rows, by hand: refused on insert and on update.
ins="INSERT INTO inbound_messages (org_id, sender_id, provider, provider_message_id, from_phone, body"
refused "$ins, contact_id) VALUES ($ORG, $S, 'twilio', 'SMx1', '$A', 'x', $CA2)" "another org's contact"
refused "$ins, contact_id, conversation_id) VALUES ($ORG, $S, 'twilio', 'SMx2', '$A', 'x', $CA, $VA2)" \
  "another org's conversation"
refused "$ins) VALUES ($ORG, $S2, 'twilio', 'SMx3', '$A', 'x')" "another org's sender"
refused "$ins) VALUES ($ORG, $S, 'twilio', 'SMx4', '$A', 'x'), ($ORG, 987654, 'twilio', 'SMx5', '$A', 'x')" \
  "one bad row of several"
refused "INSERT INTO conversations (org_id, contact_id, sender_id) VALUES ($ORG, $CA2, $S)" \
  "a conversation with another org's contact"
refused "INSERT INTO conversations (org_id, contact_id, sender_id) VALUES ($ORG, $CA, $S2)" \
  "a conversation with another org's sender"
refused "UPDATE inbound_messages SET conversation_id = $VA2 WHERE provider_message_id = 'SMl001'" \
  "moving a message to another org's conversation"
refused "UPDATE inbound_messages SET contact_id = $CA2 WHERE provider_message_id = 'SMl001'" \
  "moving a message to another org's contact"
refused "UPDATE conversations SET contact_id = $CA2 WHERE id = $VA" "moving a conversation to another org's contact"
assert_eq "$(sql "SELECT count(*) FROM inbound_messages WHERE provider_message_id LIKE 'SMx%'")" 0 "nothing stored"

# The batch's own insert skips the checks (schema 039: it made every link
# itself), for that statement only: a bad row written after a batch in the
# same transaction, or after a batch that failed halfway and was caught,
# is still refused.
refused "BEGIN; $(batch_sql SMl004:$S:$C); $ins) VALUES ($ORG, $S2, 'twilio', 'SMx6', '$A', 'x'); COMMIT" \
  "another org's sender, after a batch in the same transaction"
refused "BEGIN; $(batch_sql SMl005:$S:$C);
         INSERT INTO conversations (org_id, contact_id, sender_id) VALUES ($ORG, $CA2, $S); COMMIT" \
  "a conversation with another org's contact, after a batch in the same transaction"
long=$(printf 'x%.0s' $(seq 1 10001))
refused "DO \$\$ BEGIN
           BEGIN
             PERFORM $(batch_sql SMl006:$S:$C | sed "s/'see you there'/'$long'/; s/^SELECT string_agg(action, ',' ORDER BY ord)/count(*)/");
             RAISE EXCEPTION 'the oversized batch was stored';
           EXCEPTION WHEN check_violation THEN NULL;
           END;
           $ins) VALUES ($ORG, $S2, 'twilio', 'SMx7', '$A', 'x');
         END \$\$" "another org's sender, after a batch that failed and was caught"
assert_eq "$(sql "SELECT count(*) FROM inbound_messages WHERE provider_message_id IN ('SMx6', 'SMx7', 'SMl004', 'SMl005', 'SMl006')")" \
  0 "none of them stored"
assert_eq "$(sql "SELECT conversation_id FROM inbound_messages WHERE provider_message_id = 'SMl001'")" "$VA" \
  "nothing moved"

# Parents still named: kept.
refused "DELETE FROM conversations WHERE id = $VA" "deleting a conversation a message names"
refused "DELETE FROM contacts WHERE id = $CA" "deleting a contact a conversation names"
refused "DELETE FROM senders WHERE id = $S2" "deleting a sender a message names"
refused "UPDATE contacts SET org_id = $OTHER WHERE id = $CA" "moving a named contact to another org"
refused "UPDATE conversations SET org_id = $OTHER WHERE id = $VA" "moving a named conversation to another org"
lone=$(sql "INSERT INTO senders (org_id, provider, address, kind, account_sid, credentials_sealed, messages_per_second)
            SELECT $OTHER, provider, '97531', kind, account_sid, credentials_sealed, messages_per_second FROM senders
             WHERE id = $S RETURNING id")
sql "DELETE FROM senders WHERE id = $lone" >/dev/null
sql "INSERT INTO contacts (org_id, phone) VALUES ($ORG, '$D'); DELETE FROM contacts WHERE org_id = $ORG AND phone = '$D'"
assert_eq "$(sql "SELECT count(*) FROM senders WHERE id = $lone")" 0 "a sender nothing names is deleted"

# held SQL: runs SQL in an open transaction of its own session (fd 7),
# waits until it ran; release commits it. The last call's output goes
# first: its "held" would otherwise answer for this one before this psql
# had even opened the file (a race CI hit).
held() {
  rm -f "$TMP/held_out"
  mkfifo "$TMP/held_in"
  "$PSQL" -XqAt -v ON_ERROR_STOP=1 "$TOCSIN_DATABASE_URL" <"$TMP/held_in" >"$TMP/held_out" 2>&1 &
  TEST_PIDS+=("$!")
  exec 7>"$TMP/held_in"
  printf 'BEGIN;\n%s;\n\\echo held\n' "$1" >&7
  wait_until 60 "the held transaction to run" file_has "$TMP/held_out" held
}
release() { echo "COMMIT;" >&7; exec 7>&-; rm -f "$TMP/held_in"; }
waiting_for_lock() { sql_is "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type IN ('Lock', 'Advisory')
                              AND query LIKE '%$1%'" 1; }

# Forgotten while her reply is being stored: the reply commits first, and
# is forgotten with the rest (body cleared, conversation gone).
held "$(batch_sql SMl010:$S:$B)"
sql "SELECT status FROM tocsin_contact_forget($ORG, 0, '$B', false)" >"$TMP/forget_out" 2>&1 &
forget=$!
wait_until 60 "forgetting to wait for the reply" waiting_for_lock tocsin_contact_forget
release
wait "$forget" || fail "forgetting failed: $(cat "$TMP/forget_out")"
assert_eq "$(cat "$TMP/forget_out")" 200 "forgotten"
assert_eq "$(sql "SELECT body || '|' || coalesce(conversation_id::text, 'none') FROM inbound_messages
                   WHERE provider_message_id = 'SMl010'")" "|none" "the reply stored meanwhile is forgotten too"
assert_eq "$(sql "SELECT count(*) FROM conversations v JOIN contacts c ON c.id = v.contact_id
                   WHERE c.org_id = $ORG AND c.phone = '$B'")" 0 "her conversation is gone"

# A reply arriving while she is being forgotten waits, then opens a new
# conversation with its words.
held "SELECT status FROM tocsin_contact_forget($ORG, 0, '$A', false)"
sql "$(batch_sql SMl011:$S:$A)" >"$TMP/reply_out" 2>&1 &
reply=$!
wait_until 60 "the reply to wait for forgetting" waiting_for_lock tocsin_receive_inbound_batch
release
wait "$reply" || fail "the reply failed: $(cat "$TMP/reply_out")"
assert_eq "$(cat "$TMP/reply_out")" reply "stored after"
assert_eq "$(sql "SELECT i.body || '|' || (v.id <> $VA)::text FROM inbound_messages i
                    JOIN conversations v ON v.id = i.conversation_id WHERE i.provider_message_id = 'SMl011'")" \
  "see you there|true" "in a new conversation, its words kept"
assert_eq "$(sql "SELECT count(*) FROM conversations WHERE id = $VA")" 0 "the old one was forgotten"

# A sender deleted while the first batch for it runs: the batch commits,
# then the delete sees its message and is refused.
S3=$(sql "INSERT INTO senders (org_id, provider, address, kind, account_sid, credentials_sealed, messages_per_second)
          SELECT $OTHER, provider, '86420', kind, account_sid, credentials_sealed, messages_per_second FROM senders
           WHERE id = $S RETURNING id")
held "$(batch_sql SMl012:$S3:$C)"
sql "DELETE FROM senders WHERE id = $S3" >"$TMP/delete_out" 2>&1 &
del=$!
wait_until 60 "the delete to wait for the batch" waiting_for_lock "DELETE FROM senders"
release
rc=0; wait "$del" || rc=$?
[ "$rc" -ne 0 ] || fail "the sender was deleted under a committed message"
assert_contains "$(cat "$TMP/delete_out")" "still named by" "refused, saying why"
assert_eq "$(sql "SELECT count(*) FROM inbound_messages WHERE provider_message_id = 'SMl012'")" 1 "the message stayed"

# Contacts and their org (schema 039): checked per statement, kept.
refused "INSERT INTO contacts (org_id, phone) VALUES (987654, '$D')" "a contact of an org that does not exist" \
  "names org 987654, which does not exist"
refused "INSERT INTO contacts (org_id, phone) VALUES ($ORG, '$D'), (987654, '$D')" "one such contact of several"
refused "UPDATE contacts SET org_id = 987654 WHERE id = $CA2" "moving a contact to an org that does not exist"
# (an org that has nothing but a contact: no other key names it)
LONE=$(sql "INSERT INTO orgs (slug, name) VALUES ('lone', 'Lone') RETURNING id")
sql "INSERT INTO contacts (org_id, phone) VALUES ($LONE, '$D')" >/dev/null
refused "DELETE FROM orgs WHERE id = $LONE" "deleting an org that has contacts" "still has contacts"
refused "BEGIN; ALTER TABLE orgs ALTER COLUMN id SET GENERATED BY DEFAULT; UPDATE orgs SET id = 987654 WHERE id = $LONE" \
  "re-keying an org that has contacts (its id an identity an operator made updatable)" "still has contacts"
sql "DELETE FROM contacts WHERE org_id = $LONE" >/dev/null
sql "DELETE FROM orgs WHERE id = $LONE" >/dev/null
assert_eq "$(sql "SELECT count(*) FROM orgs WHERE id = $LONE")" 0 "an org without contacts is deleted"
# An org deleted while its first contact is being inserted: the delete
# waits for the insert, then sees the contact and is refused.
LONE=$(sql "INSERT INTO orgs (slug, name) VALUES ('lone2', 'Lone 2') RETURNING id")
held "INSERT INTO contacts (org_id, phone) VALUES ($LONE, '$D')"
sql "DELETE FROM orgs WHERE id = $LONE" >"$TMP/org_out" 2>&1 &
del=$!
wait_until 60 "the delete to wait for the insert" waiting_for_lock "DELETE FROM orgs"
release
rc=0; wait "$del" || rc=$?
[ "$rc" -ne 0 ] || fail "the org was deleted under a committed contact"
assert_contains "$(cat "$TMP/org_out")" "still has contacts" "refused, saying why"
assert_eq "$(sql "SELECT count(*) FROM contacts c WHERE NOT EXISTS (SELECT 1 FROM orgs o WHERE o.id = c.org_id)")" 0 \
  "no contact names an org that is gone"

# The events a batch sends for its conversations are the ones every
# conversation event is (the dashboard's events.c parses them).
events=$("$PSQL" -XqAt -v ON_ERROR_STOP=1 "$TOCSIN_DATABASE_URL" 2>&1 <<SQL
LISTEN tocsin_conversations;
$(batch_sql SMl013:$S:$C);
SQL
)
VC=$(sql "SELECT conversation_id FROM inbound_messages WHERE provider_message_id = 'SMl013'")
want=$(sql "SELECT json_build_object('org_id', $ORG, 'conversation_id', $VC, 'event', 'message',
                                     'assignee_id', NULL::bigint, 'previous_assignee_id', NULL)::text")
assert_contains "$events" "Asynchronous notification \"tocsin_conversations\" with payload \"$want\"" \
  "the batch's event, as json_build_object writes it"
UID_=$(sql "SELECT id FROM users WHERE org_id = $ORG LIMIT 1")
sql "UPDATE conversations SET assignee_id = $UID_ WHERE id = $VC" >/dev/null
assert_eq "$(sql "SELECT tocsin_conversation_message_event($ORG, $VC, $UID_)")" \
  "$(sql "SELECT json_build_object('org_id', $ORG, 'conversation_id', $VC, 'event', 'message',
                                   'assignee_id', $UID_, 'previous_assignee_id', NULL)::text")" "with an assignee too"

# Nothing anywhere names a parent of another org, or one that is gone.
assert_eq "$(sql "SELECT count(*) FROM inbound_messages i
                   WHERE NOT EXISTS (SELECT 1 FROM senders s WHERE s.id = i.sender_id AND s.org_id = i.org_id)
                      OR (i.contact_id IS NOT NULL
                          AND NOT EXISTS (SELECT 1 FROM contacts c WHERE c.id = i.contact_id AND c.org_id = i.org_id))
                      OR (i.conversation_id IS NOT NULL
                          AND NOT EXISTS (SELECT 1 FROM conversations v
                                           WHERE v.id = i.conversation_id AND v.org_id = i.org_id))")" 0 \
  "no inbound message names a missing or foreign parent"
assert_eq "$(sql "SELECT count(*) FROM conversations v
                   WHERE NOT EXISTS (SELECT 1 FROM senders s WHERE s.id = v.sender_id AND s.org_id = v.org_id)
                      OR NOT EXISTS (SELECT 1 FROM contacts c WHERE c.id = v.contact_id AND c.org_id = v.org_id)")" 0 \
  "no conversation names a missing or foreign parent"
echo "PASS"
