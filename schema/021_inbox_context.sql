-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 021_inbox_context: what the volunteer inbox needs to make sense of a
-- reply and to stay live.
--
-- 1. A conversation's thread shows what the member received from this org
--    and sender — the messages filed under the conversation (replies,
--    outreach) and the blasts sent to the member's number — so "what time
--    is the rally?" has the blast above it. The last 50 messages, oldest
--    first, each with its kind and, for blasts and outreach, what it
--    belonged to. (Keyword confirmations sent before any conversation are
--    not shown: finding them would need another index on messages.)
-- 2. A change of an outbound message's state in a conversation (the worker
--    marks it sent, a receipt delivered or failed) notifies
--    tocsin_conversations with ids only. One notification per conversation
--    and transaction: PostgreSQL drops a notification identical to one the
--    transaction already sent, so a batch of outcomes or receipts gives
--    each conversation one event however many of its messages changed.
--    Blast messages have no conversation and never fire the trigger.
-- 3. A volunteer who lost a conversation to a lead may learn who took it
--    and who moved it (names only, nothing of the member).

-- What a member received outside the conversation is found through
-- indexes messages already has: blasts by messages_blast_phone (006), the
-- rest (outreach, replies) are filed under the conversation. A new index
-- on (contact, sender, time) was measured at +12.6% WAL per blast message
-- (143 MB against 127 MB for 200,000), on the table every send writes.
-- The last reassignment of a conversation.
CREATE INDEX audit_events_assign ON audit_events (subject_id, created_at DESC)
    WHERE action = 'conversation.assign';

CREATE OR REPLACE FUNCTION tocsin_dashboard_conversation(p_org bigint, p_user bigint, p_role text, p_id bigint)
    RETURNS json LANGUAGE plpgsql STABLE AS $$
DECLARE
    v json;
BEGIN
    SELECT json_build_object(
        'id', c.id, 'state', c.state, 'unread', c.unread, 'likely_opt_out', c.likely_opt_out,
        'assigned_at', c.assigned_at,
        'assignee', (SELECT json_build_object('id', u.id, 'display_name', u.display_name)
                       FROM users u WHERE u.id = c.assignee_id),
        'contact', json_build_object('id', ct.id, 'first_name', ct.first_name, 'last_name', ct.last_name,
                                     'phone', tocsin_dashboard_phone(ct.phone, p_role), 'zip', ct.zip,
                                     'fields', ct.fields,
                                     'opted_out', EXISTS (SELECT 1 FROM opt_outs o
                                                           WHERE o.org_id = ct.org_id AND o.phone = ct.phone)),
        -- Each half is read newest first through its index and cut at 50
        -- before the halves meet, so a member with years of blasts costs
        -- no more than one with a few.
        'messages', (SELECT coalesce(json_agg(json_build_object(
                                'id', t.id, 'direction', t.direction, 'body', t.body, 'state', t.state,
                                'at', t.at, 'kind', t.kind, 'source', t.source, 'sent_by', u.display_name)
                            ORDER BY t.at, t.direction, t.id), '[]')
                       FROM (SELECT a.*,
                                    CASE a.kind
                                        WHEN 'blast' THEN (SELECT l.name FROM messages m
                                                             JOIN blasts b ON b.id = m.blast_id
                                                             JOIN lists l ON l.org_id = b.org_id AND l.id = b.list_id
                                                            WHERE m.id = a.id)
                                        -- outreach_targets is found by its conversation's index
                                        WHEN 'outreach' THEN (SELECT oc.name FROM messages m
                                                                JOIN outreach_targets ot ON ot.conversation_id = m.conversation_id
                                                                                        AND ot.message_id = m.id
                                                                JOIN outreach_campaigns oc ON oc.id = ot.campaign_id
                                                               WHERE m.id = a.id LIMIT 1)
                                    END AS source
                               FROM ((SELECT 'inbound'::text AS direction, i.id, i.body, 'received'::text AS state,
                                             i.received_at AS at, 'member'::text AS kind, NULL::bigint AS sent_by_user_id
                                        FROM inbound_messages i WHERE i.conversation_id = c.id
                                       ORDER BY i.received_at DESC LIMIT 50)
                                     UNION ALL
                                     SELECT * FROM (
                                         (SELECT 'outbound'::text, m.id, m.body, m.state, m.created_at, m.purpose,
                                                 m.sent_by_user_id
                                            FROM messages m WHERE m.conversation_id = c.id
                                           ORDER BY m.created_at DESC LIMIT 50)
                                         UNION
                                         (SELECT 'outbound'::text, m.id, m.body, m.state, m.created_at, m.purpose,
                                                 m.sent_by_user_id
                                            FROM messages m
                                           WHERE m.org_id = c.org_id AND m.to_phone = ct.phone
                                             AND m.blast_id IS NOT NULL AND m.sender_id = c.sender_id
                                             AND m.state NOT IN ('cancelled', 'suppressed')
                                           ORDER BY m.created_at DESC LIMIT 50)) o
                                    ) a
                              ORDER BY a.at DESC, a.id DESC LIMIT 50) t
                       LEFT JOIN users u ON u.id = t.sent_by_user_id),
        'tags', (SELECT coalesce(json_agg(json_build_object('id', t.id, 'name', t.name) ORDER BY t.name), '[]')
                   FROM conversation_tags x JOIN tags t ON t.id = x.tag_id WHERE x.conversation_id = c.id),
        'notes', (SELECT coalesce(json_agg(json_build_object('id', n.id, 'body', n.body, 'at', n.created_at,
                                                             'by', u.display_name)
                                           ORDER BY n.created_at, n.id), '[]')
                    FROM conversation_notes n JOIN users u ON u.id = n.user_id
                   WHERE n.conversation_id = c.id))
      INTO v
      FROM conversations c JOIN contacts ct ON ct.org_id = c.org_id AND ct.id = c.contact_id
     WHERE c.id = p_id AND c.org_id = p_org AND (p_role <> 'volunteer' OR c.assignee_id = p_user);
    RETURN v;
END $$;

-- Who took a conversation from the caller: the last reassignment of it
-- away from p_user, if it is no longer hers; NULL otherwise (404).
CREATE FUNCTION tocsin_dashboard_handoff(p_org bigint, p_user bigint, p_id bigint)
    RETURNS json LANGUAGE sql STABLE AS $$
    SELECT json_build_object('conversation_id', c.id,
                             'to', coalesce(t.display_name, t.email), 'by', coalesce(b.display_name, b.email),
                             'at', a.created_at)
      FROM conversations c
      JOIN LATERAL (SELECT * FROM audit_events e
                     WHERE e.action = 'conversation.assign' AND e.subject_id = c.id
                       AND e.org_id = c.org_id AND e.subject_type = 'conversation'
                     ORDER BY e.created_at DESC, e.id DESC LIMIT 1) a ON true
      LEFT JOIN users t ON t.org_id = c.org_id AND t.id = (a.details->>'to')::bigint
      LEFT JOIN users b ON b.org_id = c.org_id AND b.id = a.user_id
     WHERE c.id = p_id AND c.org_id = p_org
       AND (a.details->>'from')::bigint = p_user
       AND c.assignee_id IS DISTINCT FROM p_user $$;

-- A conversation message's state changed: tell the dashboard (ids only).
CREATE FUNCTION tocsin_message_state_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tocsin_conversations', json_build_object(
        'org_id', NEW.org_id, 'conversation_id', NEW.conversation_id, 'event', 'status',
        'assignee_id', (SELECT c.assignee_id FROM conversations c WHERE c.id = NEW.conversation_id))::text);
    RETURN NULL;
END $$;
CREATE TRIGGER messages_state_notify AFTER UPDATE OF state ON messages
    FOR EACH ROW WHEN (NEW.conversation_id IS NOT NULL AND OLD.state IS DISTINCT FROM NEW.state)
    EXECUTE FUNCTION tocsin_message_state_notify();
