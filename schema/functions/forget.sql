-- SPDX-License-Identifier: AGPL-3.0-or-later
-- forget: forgetting one member of an org (an admin in the dashboard,
-- tocsinctl contacts forget): her names, fields, notes, message bodies and
-- conversations go; her opt-out, her consent history and the delivery
-- facts of what was sent stay, as the law and the carriers require
-- (shared COMPLIANCE.md). tocsin_member_data_columns says, for every
-- column that holds member data, what forgetting does to it; the
-- integration test fails on a column it does not name.
--
-- A repeatable file: edited in place; tocsinctl migrate applies it again
-- when it changes (schema/README.md).

-- Every column that can hold a member's number, name, words or link, and
-- what tocsin_contact_forget does with it:
--   cleared   the value is emptied (the row stays for what else it records)
--   deleted   the row goes
--   unlinked  the link is set to NULL
--   kept      kept on purpose (the reason says why)
CREATE OR REPLACE FUNCTION tocsin_member_data_columns()
RETURNS TABLE (table_name text, column_name text, handling text, reason text) LANGUAGE sql IMMUTABLE AS $$
    VALUES
        ('contacts', 'first_name', 'cleared', NULL),
        ('contacts', 'last_name', 'cleared', NULL),
        ('contacts', 'zip', 'cleared', NULL),
        ('contacts', 'timezone', 'cleared', NULL),
        ('contacts', 'language', 'cleared', NULL),
        ('contacts', 'fields', 'cleared', NULL),
        ('contacts', 'phone', 'kept', 'subscriptions (consent history) and opt-outs are by number'),
        ('conversations', 'contact_id', 'deleted', NULL),
        ('conversation_notes', 'body', 'deleted', NULL),
        ('conversation_tags', 'conversation_id', 'deleted', NULL),
        ('messages', 'body', 'cleared', NULL),
        ('messages', 'to_phone', 'kept', 'delivery facts: what was sent to which number, when, at what cost'),
        ('messages', 'contact_id', 'kept', 'delivery facts'),
        ('messages', 'conversation_id', 'unlinked', NULL),
        ('inbound_messages', 'body', 'cleared', 'except a keyword, STOP or START: consent evidence'),
        ('inbound_messages', 'from_phone', 'kept', 'consent evidence and receipt of what the member sent'),
        ('inbound_messages', 'contact_id', 'kept', 'consent evidence'),
        ('inbound_messages', 'conversation_id', 'unlinked', NULL),
        ('inbound_journal', 'body', 'kept', 'threaded into inbound_messages within a second, then deleted'),
        ('inbound_journal', 'from_phone', 'kept', 'threaded into inbound_messages within a second, then deleted'),
        ('inbound_journal_failed', 'body', 'cleared', NULL),
        ('inbound_journal_failed', 'from_phone', 'kept', 'the operator must see which message failed'),
        ('outreach_targets', 'contact_id', 'deleted', NULL),
        ('outreach_answers', 'contact_id', 'deleted', NULL),
        ('blast_audience', 'contact_ids', 'cleared', NULL),
        ('subscriptions', 'contact_id', 'kept', 'consent history (ended, not deleted)'),
        ('consent_events', 'phone', 'kept', 'consent history: kept five years'),
        ('consent_events', 'evidence', 'kept', 'consent history: the inbound message id or import batch'),
        ('opt_outs', 'evidence', 'kept', 'what the opt-out rests on'),
        ('opt_outs', 'phone', 'kept', 'an opt-out is never forgotten while it is in force'),
        ('blasts', 'body', 'kept', 'a lead''s template, not a member''s data'),
        ('canned_responses', 'body', 'kept', 'a shared text, not a member''s data'),
        ('outreach_campaigns', 'script', 'kept', 'a lead''s template, not a member''s data'),
        ('outreach_choices', 'next_script', 'kept', 'a lead''s template, not a member''s data'),
        ('audit_events', 'details', 'kept', 'the audit log is append-only (and chained); it names contacts by id'),
        ('audit_alerts', 'details', 'kept', 'an alert''s counts (rows exported, claims in an hour), no member''s data'),
        ('orgs', 'phone_region', 'kept', 'an org''s setting (a country code), not a member''s data') $$;

-- Forgets the member with number p_phone (E.164) in org p_org for user
-- p_user (0: the operator's tocsinctl); with p_dry, changes nothing and
-- says what it would do. Returns (200, what was changed and what was
-- kept) or (404) when the org has no contact with that number. Audited as
-- contact.forget with the number masked.
CREATE OR REPLACE FUNCTION tocsin_contact_forget(p_org bigint, p_user bigint, p_phone text, p_dry boolean)
RETURNS TABLE (status int, body json) LANGUAGE plpgsql AS $$
DECLARE
    v_ct contacts;
    v_conv bigint[];
    v_n jsonb := '{}';
    v_kept jsonb;
    v_count bigint;
BEGIN
    SELECT * INTO v_ct FROM contacts c WHERE c.org_id = p_org AND c.phone = p_phone FOR UPDATE;
    IF v_ct.id IS NULL THEN
        RETURN QUERY SELECT 404, tocsin_api_error(404, 'not_found', 'no member of this org has that number');
        RETURN;
    END IF;
    -- Her messages being stored right now commit first and are forgotten
    -- too; any after wait for this (the inbound functions' lock on her
    -- number, taken after her contact's row as they do: inbound_links.sql).
    PERFORM pg_advisory_xact_lock(hashtextextended(p_org::text || p_phone, 0));
    SELECT coalesce(array_agg(c.id), '{}') INTO v_conv FROM conversations c WHERE c.org_id = p_org AND c.contact_id = v_ct.id;
    v_kept := jsonb_build_object(
        'opted_out', EXISTS (SELECT 1 FROM opt_outs o WHERE o.org_id = p_org AND o.phone = p_phone),
        'consent_events', (SELECT count(*) FROM consent_events e WHERE e.org_id = p_org AND e.phone = p_phone),
        'subscriptions', (SELECT count(*) FROM subscriptions s WHERE s.org_id = p_org AND s.contact_id = v_ct.id),
        'delivery_records', (SELECT count(*) FROM messages m WHERE m.org_id = p_org AND m.to_phone = p_phone),
        'consent_evidence_bodies', (SELECT count(*) FROM inbound_messages i WHERE i.org_id = p_org AND i.from_phone = p_phone
                                                                            AND tocsin_inbound_is_consent(i.intent)));
    IF p_dry THEN
        v_n := jsonb_build_object(
            'contact_details', CASE WHEN v_ct.forgotten_at IS NULL THEN 1 ELSE 0 END,
            'conversations', cardinality(v_conv),
            'notes', (SELECT count(*) FROM conversation_notes n WHERE n.conversation_id = ANY (v_conv)),
            'outbound_bodies', (SELECT count(*) FROM messages m WHERE m.org_id = p_org AND m.to_phone = p_phone
                                   AND m.body_removed_at IS NULL AND tocsin_message_shown_state(m.id, m.state) <> 'sending'),
            'inbound_bodies', (SELECT count(*) FROM inbound_messages i WHERE i.org_id = p_org AND i.from_phone = p_phone
                                  AND i.body_removed_at IS NULL AND NOT tocsin_inbound_is_consent(i.intent)),
            'outreach', (SELECT count(*) FROM outreach_targets t WHERE t.org_id = p_org AND t.contact_id = v_ct.id)
                      + (SELECT count(*) FROM outreach_answers a WHERE a.org_id = p_org AND a.contact_id = v_ct.id),
            'queued_cancelled', (SELECT count(*) FROM messages m WHERE m.org_id = p_org AND m.to_phone = p_phone
                                    AND tocsin_message_shown_state(m.id, m.state) = 'queued'),
            'subscriptions_ended', (SELECT count(*) FROM subscriptions s WHERE s.org_id = p_org AND s.contact_id = v_ct.id
                                       AND s.unsubscribed_at IS NULL));
        RETURN QUERY SELECT 200, json_build_object('dry_run', true, 'contact_id', v_ct.id,
                                                   'phone', tocsin_forget_masked(p_phone), 'removed', v_n, 'kept', v_kept);
        RETURN;
    END IF;
    -- Nothing queued for her goes out once her words are gone.
    v_count := tocsin_unqueue(array(SELECT m.id FROM messages m
                                     WHERE m.org_id = p_org AND m.to_phone = p_phone AND m.state = 'queued'),
                              'member forgotten');
    v_n := v_n || jsonb_build_object('queued_cancelled', v_count);
    -- Bodies: three disjoint parts, each found by one of messages'
    -- indexes (by conversation, by number for blasts, confirmations outside
    -- both), so no row is updated twice.
    WITH a AS (UPDATE messages m SET body_chars = length(m.body), body = '', body_removed_at = now()
                WHERE m.conversation_id = ANY (v_conv) AND m.body_removed_at IS NULL AND tocsin_message_shown_state(m.id, m.state) <> 'sending'
               RETURNING 1),
         b AS (UPDATE messages m SET body_chars = length(m.body), body = '', body_removed_at = now()
                WHERE m.org_id = p_org AND m.to_phone = p_phone AND m.blast_id IS NOT NULL
                  AND m.body_removed_at IS NULL AND tocsin_message_shown_state(m.id, m.state) <> 'sending'
                  AND (m.conversation_id IS NULL OR NOT m.conversation_id = ANY (v_conv))
               RETURNING 1),
         c AS (UPDATE messages m SET body_chars = length(m.body), body = '', body_removed_at = now()
                WHERE m.org_id = p_org AND m.to_phone = p_phone AND m.conversation_id IS NULL AND m.blast_id IS NULL
                  AND m.body_removed_at IS NULL AND tocsin_message_shown_state(m.id, m.state) <> 'sending'
               RETURNING 1)
    SELECT (SELECT count(*) FROM a) + (SELECT count(*) FROM b) + (SELECT count(*) FROM c) INTO v_count;
    v_n := v_n || jsonb_build_object('outbound_bodies', v_count);
    -- Then the links to her conversations (the bodies' first statement
    -- found its rows by them).
    UPDATE messages m SET conversation_id = NULL WHERE m.conversation_id = ANY (v_conv);
    WITH u AS (UPDATE inbound_messages i
                  SET body_chars = length(i.body), body = '', body_removed_at = now()
                WHERE i.org_id = p_org AND i.from_phone = p_phone AND i.body_removed_at IS NULL
                  AND NOT tocsin_inbound_is_consent(i.intent)
               RETURNING 1)
    SELECT count(*) INTO v_count FROM u;
    v_n := v_n || jsonb_build_object('inbound_bodies', v_count);
    UPDATE inbound_messages i SET conversation_id = NULL WHERE i.conversation_id = ANY (v_conv);
    UPDATE inbound_journal_failed f SET body = ''
      FROM senders s WHERE s.id = f.sender_id AND s.org_id = p_org AND f.from_phone = p_phone;
    WITH t AS (DELETE FROM outreach_targets WHERE org_id = p_org AND contact_id = v_ct.id RETURNING 1),
         a AS (DELETE FROM outreach_answers WHERE org_id = p_org AND contact_id = v_ct.id RETURNING 1)
    SELECT (SELECT count(*) FROM t) + (SELECT count(*) FROM a) INTO v_count;
    v_n := v_n || jsonb_build_object('outreach', v_count);
    SELECT count(*) INTO v_count FROM conversation_notes n WHERE n.conversation_id = ANY (v_conv);
    v_n := v_n || jsonb_build_object('notes', v_count);
    -- Notes and tags go with their conversation (ON DELETE CASCADE).
    DELETE FROM conversations WHERE org_id = p_org AND id = ANY (v_conv);
    v_n := v_n || jsonb_build_object('conversations', cardinality(v_conv));
    DELETE FROM blast_audience WHERE contact_ids = ARRAY[v_ct.id];
    UPDATE blast_audience SET contact_ids = array_remove(contact_ids, v_ct.id) WHERE contact_ids @> ARRAY[v_ct.id];
    -- Her subscriptions stay as consent history, ended: no more blasts.
    UPDATE subscriptions SET unsubscribed_at = now()
     WHERE org_id = p_org AND contact_id = v_ct.id AND unsubscribed_at IS NULL;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    v_n := v_n || jsonb_build_object('subscriptions_ended', v_count);
    UPDATE contacts SET first_name = NULL, last_name = NULL, zip = NULL, timezone = NULL, language = NULL,
           fields = '{}', forgotten_at = coalesce(forgotten_at, now()), updated_at = now()
     WHERE id = v_ct.id;
    v_n := v_n || jsonb_build_object('contact_details', CASE WHEN v_ct.forgotten_at IS NULL THEN 1 ELSE 0 END);
    INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)
    VALUES (p_org, nullif(p_user, 0), 'contact.forget', 'contact', v_ct.id,
            jsonb_build_object('phone', tocsin_forget_masked(p_phone), 'removed', v_n, 'kept', v_kept));
    RETURN QUERY SELECT 200, json_build_object('dry_run', false, 'contact_id', v_ct.id,
                                               'phone', tocsin_forget_masked(p_phone), 'removed', v_n, 'kept', v_kept);
END $$;

-- How a forgotten number is named in the audit log and the answer.
CREATE OR REPLACE FUNCTION tocsin_forget_masked(p_phone text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT '•••' || right(p_phone, 4) $$;
