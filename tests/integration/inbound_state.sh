# Sourced by the inbound tests, which apply the same member messages two
# ways to two databases: two_databases sets them up; state DB prints
# everything member messages change (inbound messages, conversations,
# contacts, opt-outs, consent, queued replies, subscriptions), keyed by
# phone and message id, so the two can be diffed.

# two_databases BLAST_PHONE: this test's database (ONE) and a second one
# (TWO), both migrated and seeded with the demo org, each with a queued blast
# message to BLAST_PHONE for a STOP to cancel; S and K are the demo sender
# and its first keyword.
two_databases() {
  ONE=$TOCSIN_DATABASE_URL
  local name_b db
  name_b="$(sed 's/.*dbname=\([^ ]*\).*/\1/' <<<"$ONE")_b"
  TWO="host=127.0.0.1 port=$TEST_PG_PORT dbname=$name_b user=tocsin"
  "$PSQL" -XqAt "host=127.0.0.1 port=$TEST_PG_PORT dbname=postgres user=tocsin" -c "SET client_min_messages = warning" \
    -c "DROP DATABASE IF EXISTS \"$name_b\"" -c "CREATE DATABASE \"$name_b\""
  for db in "$ONE" "$TWO"; do
    TOCSIN_DATABASE_URL=$db "$CTL" migrate >/dev/null
    TOCSIN_DATABASE_URL=$db "$CTL" demo-seed >/dev/null
    "$PSQL" -XqAt -v ON_ERROR_STOP=1 "$db" -c "INSERT INTO messages (org_id, sender_id, provider, to_phone, body, encoding, segments, lane, purpose)
       SELECT org_id, id, 'twilio', '$1', 'blast to cancel', 'GSM-7', 1, 'bulk', 'blast' FROM senders"
  done
  S=$(sql "SELECT id FROM senders WHERE address = '24680'")
  K=$(sql "SELECT id FROM keywords ORDER BY id LIMIT 1")
}
state() { # state DB: everything the messages changed, keyed by phone and message id
  "$PSQL" -XqAt -v ON_ERROR_STOP=1 "$1" <<'SQL'
SELECT 'in', i.provider_message_id, i.from_phone, i.body, i.intent, k.phone, c2.phone, cv.sender_id
  FROM inbound_messages i LEFT JOIN contacts k ON k.id = i.contact_id
  LEFT JOIN conversations cv ON cv.id = i.conversation_id LEFT JOIN contacts c2 ON c2.id = cv.contact_id
 ORDER BY 2;
SELECT 'conv', k.phone, c.sender_id, c.state, c.unread, c.likely_opt_out, c.assignee_id
  FROM conversations c JOIN contacts k ON k.id = c.contact_id ORDER BY 2, 3;
SELECT 'contact', phone FROM contacts ORDER BY 2;
SELECT 'optout', phone, source, i.provider_message_id FROM opt_outs o LEFT JOIN inbound_messages i ON i.id::text = o.evidence ORDER BY 2;
SELECT 'consent', e.phone, e.event, e.source, e.list_id, i.provider_message_id
  FROM consent_events e LEFT JOIN inbound_messages i ON i.id::text = e.evidence ORDER BY 2, 6, 3;
SELECT 'msg', m.to_phone, m.purpose, m.state, m.body, m.lane, i.provider_message_id
  FROM messages m LEFT JOIN inbound_messages i ON i.id = m.inbound_id ORDER BY 2, 7, 5;
SELECT 'sub', k.phone, s.list_id, s.source, s.unsubscribed_at IS NULL, i.provider_message_id
  FROM subscriptions s JOIN contacts k ON k.id = s.contact_id LEFT JOIN inbound_messages i ON i.id = s.evidence_inbound_id
 ORDER BY 2, 3;
SQL
}
