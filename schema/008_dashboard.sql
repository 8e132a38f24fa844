-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 008_dashboard: what the dashboard adds to conversations — volunteers'
-- notes, when the assigned volunteer last did something (auto-release),
-- and the indexes its inbox, pool and session sweeps read.

-- Notes a volunteer or lead leaves on a conversation, never sent.
CREATE TABLE conversation_notes (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id          bigint NOT NULL,
    conversation_id bigint NOT NULL,
    user_id         bigint NOT NULL,
    body            text NOT NULL CHECK (length(body) BETWEEN 1 AND 2000),
    created_at      timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (org_id, conversation_id) REFERENCES conversations (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);
CREATE INDEX conversation_notes_conversation ON conversation_notes (conversation_id, created_at);

-- The assigned volunteer's last action on the conversation (claim, open,
-- reply, note, read). A conversation whose volunteer has done nothing for
-- TOCSIN_DASHBOARD_RELEASE_AFTER_S goes back to the pool.
ALTER TABLE conversations ADD COLUMN assignee_active_at timestamptz;
UPDATE conversations SET assignee_active_at = coalesce(assigned_at, now()) WHERE assignee_id IS NOT NULL;
CREATE INDEX conversations_assignee_idle ON conversations (assignee_active_at)
    WHERE state = 'open' AND assignee_id IS NOT NULL;

-- A lead's view of everything open in the org, newest reply first (a
-- volunteer's inbox uses conversations_assignee of 003).
CREATE INDEX conversations_org_open ON conversations (org_id, last_inbound_at DESC) WHERE state = 'open';
CREATE INDEX sessions_user ON sessions (user_id);

-- The API's uniform error body, built where the decision is made.
CREATE FUNCTION tocsin_api_error(p_status int, p_code text, p_message text) RETURNS json
    LANGUAGE sql IMMUTABLE AS $$
    SELECT json_build_object('error', json_build_object('status', p_status, 'code', p_code,
                                                        'message', p_message)) $$;

-- The two reads a volunteer makes all day (her inbox, a conversation) are
-- functions so their plans are cached per connection: planning the
-- statements costs more than running them (1.5-1.8 ms vs 0.7-2.6 ms on
-- 100,000 conversations), and lib/db sends unnamed statements.

-- A volunteer sees the last four digits of a member's number only.
CREATE FUNCTION tocsin_dashboard_phone(p_phone text, p_role text) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_role = 'volunteer' THEN '•••' || right(p_phone, 4) ELSE p_phone END $$;

-- A conversation as a list shows it. The newest message comes from the
-- side that has it (last_inbound_at vs last_outbound_at): one index probe
-- per row rather than sorting both halves of conversation_messages.
CREATE VIEW dashboard_conversation_rows AS
SELECT c.id, c.org_id, c.assignee_id, c.state, c.unread, c.likely_opt_out, c.last_inbound_at,
       c.last_outbound_at, c.assigned_at, c.created_at, ct.first_name, ct.last_name, ct.phone,
       CASE WHEN u.id IS NOT NULL THEN json_build_object('id', u.id, 'display_name', u.display_name) END
           AS assignee,
       CASE WHEN c.last_outbound_at > c.last_inbound_at OR c.last_inbound_at IS NULL THEN
                (SELECT json_build_object('direction', 'outbound', 'body', left(m.body, 200), 'at', m.created_at)
                   FROM messages m WHERE m.conversation_id = c.id ORDER BY m.created_at DESC LIMIT 1)
            ELSE (SELECT json_build_object('direction', 'inbound', 'body', left(i.body, 200), 'at', i.received_at)
                    FROM inbound_messages i WHERE i.conversation_id = c.id ORDER BY i.received_at DESC LIMIT 1)
       END AS last_message
  FROM conversations c
  JOIN contacts ct ON ct.org_id = c.org_id AND ct.id = c.contact_id
  LEFT JOIN users u ON u.id = c.assignee_id;

CREATE FUNCTION tocsin_dashboard_row_json(r dashboard_conversation_rows, p_role text) RETURNS json
    LANGUAGE sql STABLE AS $$
    SELECT json_build_object('id', r.id, 'state', r.state, 'unread', r.unread,
                             'likely_opt_out', r.likely_opt_out, 'last_inbound_at', r.last_inbound_at,
                             'last_outbound_at', r.last_outbound_at, 'assigned_at', r.assigned_at,
                             'created_at', r.created_at, 'first_name', r.first_name,
                             'last_name', r.last_name, 'phone', tocsin_dashboard_phone(r.phone, p_role),
                             'assignee', r.assignee, 'last_message', r.last_message) $$;

-- The caller's open conversations, newest reply first.
CREATE FUNCTION tocsin_dashboard_inbox(p_org bigint, p_user bigint, p_role text) RETURNS json
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    v json;
BEGIN
    SELECT coalesce(json_agg(tocsin_dashboard_row_json(r, p_role)
                             ORDER BY r.last_inbound_at DESC NULLS LAST, r.id DESC), '[]')
      INTO v
      FROM (SELECT * FROM dashboard_conversation_rows
             WHERE assignee_id = p_user AND org_id = p_org AND state = 'open'
             ORDER BY last_inbound_at DESC NULLS LAST, id DESC LIMIT 500) r;
    RETURN v;
END $$;

-- One conversation with its whole thread, or NULL when the caller may not
-- see it (a volunteer: only conversations assigned to her).
CREATE FUNCTION tocsin_dashboard_conversation(p_org bigint, p_user bigint, p_role text, p_id bigint)
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
        'messages', (SELECT coalesce(json_agg(json_build_object('id', m.id, 'direction', m.direction,
                                                                'body', m.body, 'state', m.state, 'at', m.at,
                                                                'sent_by', u.display_name)
                                              ORDER BY m.at, m.id), '[]')
                       FROM conversation_messages m LEFT JOIN users u ON u.id = m.sent_by_user_id
                      WHERE m.conversation_id = c.id),
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
