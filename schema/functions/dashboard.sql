-- SPDX-License-Identifier: AGPL-3.0-or-later
-- dashboard: what the volunteer inbox reads and does — the inbox, a
-- conversation's thread, the claim and hand-off of conversations, the API
-- error shape — and the NOTIFY of a conversation's message state.
--
-- The two reads a volunteer makes all day (her inbox, a conversation) are
-- functions so their plans are cached per connection: planning the
-- statements costs more than running them (1.5-1.8 ms vs 0.7-2.6 ms on
-- 100,000 conversations), and lib/db sends unnamed statements.
--
-- A repeatable file: edited in place; tocsinctl migrate applies it again
-- when it changes (schema/README.md).

-- The API's uniform error body, built where the decision is made.
CREATE OR REPLACE FUNCTION tocsin_api_error(p_status int, p_code text, p_message text) RETURNS json
    LANGUAGE sql IMMUTABLE AS $$
    SELECT json_build_object('error', json_build_object('status', p_status, 'code', p_code,
                                                        'message', p_message)) $$;

-- A volunteer sees the last four digits of a member's number only (and of
-- the rest of a contact, what tocsin_contact_seen_fields lets her: retention.sql).
CREATE OR REPLACE FUNCTION tocsin_dashboard_phone(p_phone text, p_role text) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_role = 'volunteer' THEN '•••' || right(p_phone, 4) ELSE p_phone END $$;

-- A conversation as a list shows it. The newest message comes from the
-- side that has it (last_inbound_at vs last_outbound_at): one index probe
-- per row rather than sorting both halves of conversation_messages.
CREATE OR REPLACE VIEW dashboard_conversation_rows AS
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

-- One row of a list as JSON: p_seen is what the caller sees of a contact
-- (tocsin_contact_seen_fields, asked once for the whole list). The two-
-- argument version asked per row (and predates the repeatable files).
DROP FUNCTION IF EXISTS tocsin_dashboard_row_json(dashboard_conversation_rows, text);
CREATE OR REPLACE FUNCTION tocsin_dashboard_row_json(r dashboard_conversation_rows, p_role text, p_seen text[])
RETURNS json LANGUAGE sql STABLE AS $$
    SELECT json_build_object('id', r.id, 'state', r.state, 'unread', r.unread,
                             'likely_opt_out', r.likely_opt_out, 'last_inbound_at', r.last_inbound_at,
                             'last_outbound_at', r.last_outbound_at, 'assigned_at', r.assigned_at,
                             'created_at', r.created_at,
                             'first_name', tocsin_contact_shown(p_seen, 'first_name', r.first_name),
                             'last_name', tocsin_contact_shown(p_seen, 'last_name', r.last_name),
                             'phone', tocsin_dashboard_phone(r.phone, p_role),
                             'assignee', r.assignee, 'last_message', r.last_message) $$;

-- The caller's open conversations, newest reply first.
CREATE OR REPLACE FUNCTION tocsin_dashboard_inbox(p_org bigint, p_user bigint, p_role text) RETURNS json
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    v json;
    v_seen text[] := tocsin_contact_seen_fields(p_org, p_role);
BEGIN
    SELECT coalesce(json_agg(tocsin_dashboard_row_json(r, p_role, v_seen)
                             ORDER BY r.last_inbound_at DESC NULLS LAST, r.id DESC), '[]')
      INTO v
      FROM (SELECT * FROM dashboard_conversation_rows
             WHERE assignee_id = p_user AND org_id = p_org AND state = 'open'
             ORDER BY last_inbound_at DESC NULLS LAST, id DESC LIMIT 500) r;
    RETURN v;
END $$;

-- The next conversations of the pool for the caller, oldest first, in one
-- call: up to p_count (1 to 50, default 5), and for a volunteer no more
-- than her org's cap minus what she holds. Her claims are serialised by an
-- advisory lock and each statement after it sees the claims committed
-- before it, so claims running at once cannot pass the cap together (a
-- single SQL statement would count with a snapshot taken before the
-- wait). SKIP LOCKED keeps two volunteers off the same conversation, and
-- the re-check of assignee_id under the row lock keeps a taken one taken.
CREATE OR REPLACE FUNCTION tocsin_conversations_claim(p_org bigint, p_user bigint, p_role text, p_count int)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    v_cap int;
    v_held int := 0;
    v_room int;
    v_ids bigint[];
BEGIN
    v_room := least(greatest(coalesce(p_count, 5), 1), 50);
    IF p_role = 'volunteer' THEN
        PERFORM pg_advisory_xact_lock(hashtextextended(format('conversation_claim %s', p_user), 0));
        SELECT o.volunteer_max_conversations INTO v_cap FROM orgs o WHERE o.id = p_org;
        SELECT count(*) INTO v_held FROM conversations c
         WHERE c.org_id = p_org AND c.assignee_id = p_user AND c.state = 'open';
        v_room := least(v_room, greatest(v_cap - v_held, 0));
    END IF;
    WITH picked AS (
        SELECT id FROM conversations
         WHERE org_id = p_org AND state = 'open' AND assignee_id IS NULL
         ORDER BY created_at, id
         LIMIT v_room FOR UPDATE SKIP LOCKED
    ), u AS (
        UPDATE conversations c SET assignee_id = p_user, assigned_at = now(), assignee_active_at = now()
          FROM picked WHERE c.id = picked.id AND c.assignee_id IS NULL
        RETURNING c.id
    )
    SELECT coalesce(array_agg(id ORDER BY id), '{}') INTO v_ids FROM u;
    INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id)
    SELECT p_org, p_user, 'conversation.claim', 'conversation', id FROM unnest(v_ids) id;
    PERFORM pg_notify('tocsin_conversations', json_build_object(
                'org_id', p_org, 'conversation_id', id, 'event', 'assigned', 'assignee_id', p_user,
                'previous_assignee_id', NULL::bigint)::text)
       FROM unnest(v_ids) id;
    RETURN json_build_object('claimed', to_json(v_ids), 'notified', cardinality(v_ids),
                             'held', v_held + cardinality(v_ids), 'cap', v_cap);
END $$;

-- A conversation as the inbox shows it (NULL: not the caller's to see). Its
-- thread is what the member wrote and what this org's sender sent her: the
-- messages of the conversation, the blasts sent to her number, and the
-- keyword confirmations and HELP answers sent outside any conversation
-- (usually before her first reply) — the last 50 together, oldest first,
-- each with its kind and, for blasts and outreach, what it belonged to.
-- Messages she never got (cancelled, suppressed) outside the conversation
-- are left out.
CREATE OR REPLACE FUNCTION tocsin_dashboard_conversation(p_org bigint, p_user bigint, p_role text, p_id bigint)
    RETURNS json LANGUAGE plpgsql STABLE AS $$
DECLARE
    v json;
    v_seen text[] := tocsin_contact_seen_fields(p_org, p_role);
BEGIN
    SELECT json_build_object(
        'id', c.id, 'state', c.state, 'unread', c.unread, 'likely_opt_out', c.likely_opt_out,
        'assigned_at', c.assigned_at,
        'assignee', (SELECT json_build_object('id', u.id, 'display_name', u.display_name)
                       FROM users u WHERE u.id = c.assignee_id),
        -- A volunteer sees the fields her org lets her (retention.sql).
        'contact', json_build_object('id', ct.id,
                                     'first_name', tocsin_contact_shown(v_seen, 'first_name', ct.first_name),
                                     'last_name', tocsin_contact_shown(v_seen, 'last_name', ct.last_name),
                                     'phone', tocsin_dashboard_phone(ct.phone, p_role),
                                     'zip', tocsin_contact_shown(v_seen, 'zip', ct.zip),
                                     'fields', tocsin_contact_fields_shown(v_seen, ct.fields),
                                     'forgotten', ct.forgotten_at IS NOT NULL,
                                     'opted_out', EXISTS (SELECT 1 FROM opt_outs o
                                                           WHERE o.org_id = ct.org_id AND o.phone = ct.phone)),
        -- Each half is read newest first through its index and cut at 50
        -- before the halves meet, so a member with years of blasts costs
        -- no more than one with a few.
        'messages', (SELECT coalesce(json_agg(json_build_object(
                                'id', t.id, 'direction', t.direction, 'body', t.body, 'state', t.state,
                                'removed', t.removed,
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
                                             i.received_at AS at, 'member'::text AS kind, NULL::bigint AS sent_by_user_id,
                                             i.body_removed_at IS NOT NULL AS removed
                                        FROM inbound_messages i WHERE i.conversation_id = c.id
                                       ORDER BY i.received_at DESC LIMIT 50)
                                     UNION ALL
                                     SELECT * FROM (
                                         (SELECT 'outbound'::text, m.id, m.body, tocsin_message_shown_state(m.id, m.state), m.created_at, m.purpose,
                                                 m.sent_by_user_id, m.body_removed_at IS NOT NULL
                                            FROM messages m WHERE m.conversation_id = c.id
                                           ORDER BY m.created_at DESC LIMIT 50)
                                         UNION
                                         (SELECT 'outbound'::text, m.id, m.body, tocsin_message_shown_state(m.id, m.state), m.created_at, m.purpose,
                                                 m.sent_by_user_id, m.body_removed_at IS NOT NULL
                                            FROM messages m
                                           WHERE m.org_id = c.org_id AND m.to_phone = ct.phone
                                             AND m.blast_id IS NOT NULL AND m.sender_id = c.sender_id
                                             AND m.state NOT IN ('cancelled', 'suppressed')
                                           ORDER BY m.created_at DESC LIMIT 50)
                                         UNION
                                         -- keyword confirmations and HELP answers, sent
                                         -- before (or without) a conversation
                                         -- (messages_outside_conversation)
                                         (SELECT 'outbound'::text, m.id, m.body, tocsin_message_shown_state(m.id, m.state), m.created_at, m.purpose,
                                                 m.sent_by_user_id, m.body_removed_at IS NOT NULL
                                            FROM messages m
                                           WHERE m.org_id = c.org_id AND m.to_phone = ct.phone
                                             AND m.sender_id = c.sender_id
                                             AND m.conversation_id IS NULL AND m.blast_id IS NULL
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
-- away from p_user, if it is no longer hers; NULL otherwise (404). A
-- lead's single move is audited per conversation (021's index); a bulk
-- move (review.sql) once, with the new holder as subject and each id's
-- previous holder in details->'from' (026's index).
CREATE OR REPLACE FUNCTION tocsin_dashboard_handoff(p_org bigint, p_user bigint, p_id bigint)
    RETURNS json LANGUAGE sql STABLE AS $$
    SELECT json_build_object('conversation_id', c.id,
                             'to', coalesce(t.display_name, t.email), 'by', coalesce(b.display_name, b.email),
                             'at', a.created_at)
      FROM conversations c
      JOIN LATERAL (SELECT * FROM (
                        (SELECT e.id, e.user_id, e.created_at, (e.details->>'to')::bigint AS to_id,
                                (e.details->>'from')::bigint AS from_id
                           FROM audit_events e
                          WHERE e.action = 'conversation.assign' AND e.subject_id = c.id
                            AND e.org_id = c.org_id AND e.subject_type = 'conversation'
                          ORDER BY e.created_at DESC, e.id DESC LIMIT 1)
                        UNION ALL
                        (SELECT e.id, e.user_id, e.created_at, e.subject_id,
                                (e.details->'from'->>c.id::text)::bigint
                           FROM audit_events e
                          WHERE e.action = 'conversation.bulk_assign' AND e.subject_id = c.assignee_id
                            AND e.org_id = c.org_id AND e.subject_type = 'user'
                            AND e.details->'from' ? c.id::text
                          ORDER BY e.created_at DESC, e.id DESC LIMIT 1)) x
                     ORDER BY x.created_at DESC, x.id DESC LIMIT 1) a ON true
      LEFT JOIN users t ON t.org_id = c.org_id AND t.id = a.to_id
      LEFT JOIN users b ON b.org_id = c.org_id AND b.id = a.user_id
     WHERE c.id = p_id AND c.org_id = p_org
       AND a.from_id = p_user
       AND c.assignee_id IS DISTINCT FROM p_user $$;

-- What an outbound message of conversation p_conv shows changed: tell
-- the dashboard (ids only; sent at commit). Its state changing calls this
-- (the trigger below), and so do two worker steps that do not write the
-- message's state: the stamp, from which on it shows 'sending'
-- (tocsin_message_shown_state; the event leaves before the carrier
-- request does), and a retry, release, lease sweep or requeue putting it
-- back into the outbox, from which on it shows 'queued' again
-- (tocsin_outbox_put_back).
CREATE OR REPLACE FUNCTION tocsin_conversation_status_notify(p_org bigint, p_conv bigint) RETURNS void
LANGUAGE sql AS $$
    SELECT pg_notify('tocsin_conversations', tocsin_conversation_status_event(
        p_org, p_conv, (SELECT c.assignee_id FROM conversations c WHERE c.id = p_conv)))
$$;

-- The same for many conversations in one statement (the worker's stamp
-- and its requeues, which handle messages by the thousand): one event
-- each, whatever the repeats in p_convs.
CREATE OR REPLACE FUNCTION tocsin_conversations_status_notify(p_convs bigint[]) RETURNS void
LANGUAGE sql AS $$
    SELECT pg_notify('tocsin_conversations', tocsin_conversation_status_event(c.org_id, c.id, c.assignee_id))
      FROM conversations c WHERE c.id IN (SELECT unnest(p_convs))  -- a join: = ANY would compare every pair
$$;

-- The payload of a "status" event (events.c reads it), as
-- json_build_object writes it; formatted (numbers only), since a requeue
-- may send thousands. STABLE, not IMMUTABLE: format() is STABLE, and an
-- IMMUTABLE SQL function calling it is never inlined (300,000 calls: 3.2 µs
-- each so, 0.8 µs inlined; json_build_object's text 2.2-2.8 µs).
CREATE OR REPLACE FUNCTION tocsin_conversation_status_event(p_org bigint, p_conv bigint, p_assignee bigint)
RETURNS text LANGUAGE sql STABLE AS $$
    SELECT format('{"org_id" : %s, "conversation_id" : %s, "event" : "status", "assignee_id" : %s, '
                  '"previous_assignee_id" : null}', p_org, p_conv, coalesce(p_assignee::text, 'null'))
$$;

-- A message turned 'queued' again (tocsinctl messages requeue, the one
-- writer of that change) is left to tocsin_outbox_put_back, which puts
-- it back into the outbox and tells each conversation once for the whole
-- requeue, where this trigger would run once a message.
CREATE OR REPLACE FUNCTION tocsin_message_state_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM tocsin_conversation_status_notify(NEW.org_id, NEW.conversation_id);
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER messages_state_notify AFTER UPDATE OF state ON messages
    FOR EACH ROW WHEN (NEW.conversation_id IS NOT NULL AND OLD.state IS DISTINCT FROM NEW.state
                       AND NEW.state <> 'queued')
    EXECUTE FUNCTION tocsin_message_state_notify();
