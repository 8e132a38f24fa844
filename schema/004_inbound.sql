-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 004_inbound: what happens when a member's message arrives, as one
-- function the gateway calls in one round trip, so the whole effect (the
-- message stored once, opt-out before anything else, subscription, the
-- one confirmation, the conversation) commits or fails together. The
-- gateway decides the intent (keyword engine, lib/keyword) and prepares
-- the reply with its segment count (lib/sms); the function decides, from
-- the committed state, whether that reply is sent at all.

-- Why an outbound message exists; the worker's opt-out check lets only an
-- opt-out confirmation through to a number that just opted out.
ALTER TABLE messages ADD COLUMN purpose text NOT NULL DEFAULT 'reply'
    CHECK (purpose IN ('reply', 'confirmation', 'opt_out_confirmation', 'help', 'blast', 'outreach'));

CREATE FUNCTION tocsin_receive_inbound(
    p_provider text, p_message_id text, p_sender_id bigint, p_from text, p_body text,
    p_num_media int, p_intent text, p_keyword_id bigint, p_likely_revocation boolean,
    p_reply text, p_reply_encoding text, p_reply_segments int)
RETURNS TABLE (inbound_id bigint, action text, conversation_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_org bigint;
    v_provider text;
    v_in bigint;
    v_contact bigint;
    v_conv bigint;
    v_opted boolean;
    v_list bigint;
    v_action text;
    v_purpose text;
BEGIN
    IF p_intent NOT IN ('opt_out', 'opt_in', 'help', 'keyword', 'reply') THEN
        RAISE EXCEPTION 'invalid intent "%"', p_intent;
    END IF;
    SELECT org_id, provider INTO v_org, v_provider FROM senders WHERE id = p_sender_id;
    IF v_org IS NULL THEN
        RAISE EXCEPTION 'sender % does not exist', p_sender_id;
    END IF;
    INSERT INTO inbound_messages (org_id, sender_id, provider, provider_message_id, from_phone, body, num_media)
    VALUES (v_org, p_sender_id, p_provider, p_message_id, p_from, p_body, p_num_media)
    ON CONFLICT (provider, provider_message_id) DO NOTHING
    RETURNING id INTO v_in;
    IF v_in IS NULL THEN -- the carrier retried a webhook we already have
        RETURN QUERY SELECT i.id, 'duplicate'::text, i.conversation_id FROM inbound_messages i
                      WHERE i.provider = p_provider AND i.provider_message_id = p_message_id;
        RETURN;
    END IF;
    INSERT INTO contacts (org_id, phone) VALUES (v_org, p_from)
    ON CONFLICT (org_id, phone) DO UPDATE SET updated_at = now()
    RETURNING id INTO v_contact;
    -- Serialise messages from one number: a STOP and a JOIN racing each
    -- other apply one after the other.
    PERFORM pg_advisory_xact_lock(hashtextextended(v_org::text || p_from, 0));
    v_opted := EXISTS (SELECT 1 FROM opt_outs o WHERE o.org_id = v_org AND o.phone = p_from);

    IF p_intent = 'opt_out' THEN
        IF v_opted THEN
            v_action := 'already_opted_out'; -- one confirmation only, ever
        ELSE
            INSERT INTO opt_outs (org_id, phone, source, evidence) VALUES (v_org, p_from, 'keyword', v_in::text);
            INSERT INTO consent_events (org_id, phone, event, source, evidence)
            VALUES (v_org, p_from, 'opt_out', 'keyword', v_in::text);
            UPDATE subscriptions SET unsubscribed_at = now()
             WHERE contact_id = v_contact AND unsubscribed_at IS NULL;
            UPDATE messages SET state = 'cancelled', updated_at = now(), finalized_at = now()
             WHERE org_id = v_org AND to_phone = p_from AND state = 'queued';
            v_action := 'opted_out';
            v_purpose := 'opt_out_confirmation';
        END IF;
    ELSIF p_intent = 'opt_in' AND v_opted THEN
        DELETE FROM opt_outs WHERE org_id = v_org AND phone = p_from;
        INSERT INTO consent_events (org_id, phone, event, source, evidence)
        VALUES (v_org, p_from, 'opt_in', 'keyword', v_in::text);
        v_action := 'opted_in';
        v_purpose := 'confirmation';
    ELSIF v_opted THEN
        v_action := 'reply_while_opted_out'; -- recorded, nothing sent
    ELSIF p_intent = 'help' THEN
        v_action := 'help';
        v_purpose := 'help';
    ELSIF p_intent = 'keyword' THEN
        SELECT k.list_id INTO v_list FROM keywords k WHERE k.id = p_keyword_id AND k.org_id = v_org;
        IF v_list IS NULL THEN
            RAISE EXCEPTION 'keyword % does not belong to this org', p_keyword_id;
        END IF;
        INSERT INTO subscriptions (org_id, list_id, contact_id, source, evidence_inbound_id)
        VALUES (v_org, v_list, v_contact, 'keyword', v_in)
        ON CONFLICT (list_id, contact_id) DO UPDATE
           SET unsubscribed_at = NULL, source = 'keyword', consented_at = now(),
               evidence_inbound_id = EXCLUDED.evidence_inbound_id, evidence_import_id = NULL;
        INSERT INTO consent_events (org_id, phone, event, source, list_id, evidence)
        VALUES (v_org, p_from, 'opt_in', 'keyword', v_list, v_in::text);
        v_action := 'subscribed';
        v_purpose := 'confirmation';
    ELSE
        v_action := 'reply';
    END IF;

    IF v_action IN ('reply', 'reply_while_opted_out') OR (p_intent = 'opt_in' AND NOT v_opted) THEN
        INSERT INTO conversations AS c (org_id, contact_id, sender_id, last_inbound_at, unread, likely_opt_out)
        VALUES (v_org, v_contact, p_sender_id, now(), 1, p_likely_revocation)
        ON CONFLICT (contact_id, sender_id) WHERE state = 'open' DO UPDATE
           SET last_inbound_at = now(), unread = c.unread + 1,
               likely_opt_out = c.likely_opt_out OR EXCLUDED.likely_opt_out
        RETURNING c.id INTO v_conv;
        PERFORM pg_notify('tocsin_conversations',
                          json_build_object('org_id', v_org, 'conversation_id', v_conv, 'inbound_id', v_in)::text);
        v_action := 'reply';
        IF v_opted THEN v_action := 'reply_while_opted_out'; END IF;
    END IF;

    IF v_purpose IS NOT NULL AND p_reply IS NOT NULL AND length(p_reply) > 0 THEN
        INSERT INTO messages (org_id, sender_id, provider, contact_id, to_phone, body, encoding, segments,
                              lane, purpose, inbound_id, conversation_id)
        VALUES (v_org, p_sender_id, v_provider, v_contact, p_from, p_reply, p_reply_encoding,
                p_reply_segments, 'conversational', v_purpose, v_in, v_conv);
    END IF;
    UPDATE inbound_messages SET contact_id = v_contact, conversation_id = v_conv,
           intent = CASE WHEN v_action IN ('reply', 'reply_while_opted_out') THEN 'reply'
                         WHEN v_action = 'opted_in' THEN 'opt_in_again'
                         WHEN v_action = 'subscribed' THEN 'keyword'
                         WHEN v_action IN ('opted_out', 'already_opted_out') THEN 'opt_out'
                         ELSE p_intent END
     WHERE id = v_in;
    RETURN QUERY SELECT v_in, v_action, v_conv;
END $$;

-- A delivery receipt moves an outbound message forward, never back (a late
-- "sent" after "delivered" changes nothing). A receipt for a message whose
-- provider id the worker has not recorded yet is kept, to be matched when
-- it is (delivery_receipts_pending).
CREATE FUNCTION tocsin_message_rank(state text) RETURNS int
    LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE state WHEN 'queued' THEN 0 WHEN 'sending' THEN 1 WHEN 'unknown' THEN 1 WHEN 'sent' THEN 2
                      WHEN 'delivered' THEN 3 WHEN 'undelivered' THEN 3 WHEN 'failed' THEN 3 ELSE 4 END $$;

CREATE FUNCTION tocsin_apply_receipt(p_provider text, p_message_id text, p_status text,
                                     p_error_code text, p_payload jsonb)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_state text;
    v_id bigint;
BEGIN
    v_state := CASE p_status WHEN 'sent' THEN 'sent' WHEN 'delivered' THEN 'delivered'
                             WHEN 'undelivered' THEN 'undelivered' WHEN 'failed' THEN 'failed'
                             WHEN 'delivery_failed' THEN 'undelivered' ELSE NULL END;
    IF v_state IS NULL THEN
        RETURN 'ignored'; -- queued, sending, accepted...: nothing we track
    END IF;
    UPDATE messages SET state = v_state, error_code = coalesce(p_error_code, error_code), updated_at = now(),
           finalized_at = CASE WHEN tocsin_message_rank(v_state) = 3 THEN now() ELSE finalized_at END
     WHERE provider = p_provider AND provider_message_id = p_message_id
       AND tocsin_message_rank(state) < tocsin_message_rank(v_state)
    RETURNING id INTO v_id;
    IF v_id IS NOT NULL THEN
        RETURN 'applied';
    END IF;
    IF EXISTS (SELECT 1 FROM messages WHERE provider = p_provider AND provider_message_id = p_message_id) THEN
        RETURN 'stale';
    END IF;
    INSERT INTO delivery_receipts_pending (provider, provider_message_id, status, error_code, payload)
    VALUES (p_provider, p_message_id, p_status, p_error_code, p_payload);
    RETURN 'pending';
END $$;
