-- SPDX-License-Identifier: AGPL-3.0-or-later
-- messaging: the outbox NOTIFY the worker listens to, the thread view of a
-- conversation, and rendering a contact's fields.
--
-- A repeatable file: edited in place; tocsinctl migrate applies it again
-- when it changes (schema/README.md).

-- Wake workers when conversational or bulk messages are queued.
CREATE OR REPLACE FUNCTION tocsin_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tocsin_outbox', s.sender_id::text)
       FROM (SELECT DISTINCT sender_id FROM new_rows WHERE state = 'queued') s;
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER messages_outbox_notify AFTER INSERT ON messages
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tocsin_outbox_notify();

-- The state a reader is shown: a queued message with no outbox row is in
-- flight, claimed and not yet recorded (schema 034), and shows 'sending'.
-- Here, not in worker.sql, because the view below names it. PL/pgSQL: a
-- SQL function with a subquery is never inlined, and PostgreSQL 15 plans
-- one anew in every statement that calls it (five times a thread view);
-- this one plans its lookup once a session, and only a queued message
-- needs it.
CREATE OR REPLACE FUNCTION tocsin_message_shown_state(p_id bigint, p_state text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF p_state IS DISTINCT FROM 'queued' THEN  -- a simple expression: no executor
        RETURN p_state;
    END IF;
    IF EXISTS (SELECT 1 FROM outbox o WHERE o.id = p_id) THEN
        RETURN 'queued';
    END IF;
    RETURN 'sending';
END $$;

CREATE OR REPLACE VIEW conversation_messages AS
    SELECT org_id, conversation_id, 'inbound'::text AS direction, id, body,
           'received'::text AS state, received_at AS at, NULL::bigint AS sent_by_user_id
      FROM inbound_messages WHERE conversation_id IS NOT NULL
    UNION ALL
    SELECT org_id, conversation_id, 'outbound', id, body, tocsin_message_shown_state(id, state), created_at,
           sent_by_user_id
      FROM messages WHERE conversation_id IS NOT NULL;

-- A body with its {fields} filled in for one contact as the caller may see
-- it: a volunteer's {phone} is the masked number (tocsin_dashboard_phone),
-- like everywhere else she looks, and a field her org does not show her
-- (tocsin_contact_seen_fields) takes its fallback. For scripts shown in the dashboard; the
-- worker renders blasts with tocsin_blast_render_sql over contacts itself.
CREATE OR REPLACE FUNCTION tocsin_contact_render(p_body text, p_contact bigint, p_role text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_out text;
BEGIN
    -- What the caller sees is asked once (OFFSET 0 keeps the subquery
    -- from being folded into each field's expression, one lookup each).
    EXECUTE format('SELECT %s FROM (SELECT tocsin_contact_shown(v.seen, ''first_name'', x.first_name) AS first_name,'
                   ' tocsin_contact_shown(v.seen, ''last_name'', x.last_name) AS last_name,'
                   ' tocsin_contact_shown(v.seen, ''zip'', x.zip) AS zip,'
                   ' tocsin_contact_shown(v.seen, ''timezone'', x.timezone) AS timezone,'
                   ' tocsin_contact_fields_shown(v.seen, x.fields) AS fields,'
                   ' tocsin_dashboard_phone(x.phone, $2) AS phone FROM contacts x,'
                   ' LATERAL (SELECT tocsin_contact_seen_fields(x.org_id, $2) AS seen OFFSET 0) v WHERE x.id = $1) c',
                   tocsin_blast_render_sql(p_body))
       INTO v_out USING p_contact, p_role;
    RETURN v_out;
END $$;
