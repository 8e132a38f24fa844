# Sourced by the inbound tests: state DB prints everything member messages
# change (inbound messages, conversations, contacts, opt-outs, consent,
# queued replies, subscriptions), keyed by phone and message id, so two
# databases that applied the same messages different ways can be diffed.
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
