-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 019_consent: who sends the STOP confirmation, what START restores, and
-- the language the answers to STOP, START and HELP go in (COMPLIANCE.md).
-- tocsin_receive_inbound keeps its signature (the gateway, its spool and
-- the batch functions of 007/015/016 call it unchanged); it now writes the
-- replies to reserved words itself, because only the committed state knows
-- the member's language and which lists START gave back.

-- Who answers the opt-out words. 'carrier': the carrier answers the
-- English opt-out words itself and refuses the program's later messages to
-- that number with 21610 (Twilio's default opt-out handling on long codes
-- and toll-free numbers), so Tocsin sends no confirmation of its own for
-- them; 'program': nothing filters (a standalone short code), Tocsin sends
-- the one confirmation. NULL: the default for the sender's kind and
-- provider (tocsin_sender_opt_out_handling).
ALTER TABLE senders ADD COLUMN opt_out_handling text CHECK (opt_out_handling IN ('carrier', 'program'));

CREATE FUNCTION tocsin_sender_opt_out_handling(p_kind text, p_provider text, p_set text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(p_set, CASE WHEN p_provider = 'twilio' AND p_kind IN ('long_code', 'toll_free')
                                THEN 'carrier' ELSE 'program' END)
$$;

-- A member's language: the keyword they joined with, or their last
-- reserved word that has one (lib/compliance's tocsin_reserved_language:
-- STOP, START, HELP and INFO are every program's words and keep it).
ALTER TABLE contacts ADD COLUMN language text CHECK (language IN ('en', 'es'));

-- A keyword's language; when not given, read from its confirmation (a
-- Spanish confirmation names AYUDA or ALTO or the rates in Spanish).
ALTER TABLE keywords ADD COLUMN language text CHECK (language IN ('en', 'es'));

CREATE FUNCTION tocsin_text_language(p_text text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_text ~* '\m(ayuda|alto|tarifas|responde|mensajes)\M' THEN 'es' ELSE 'en' END
$$;

CREATE FUNCTION tocsin_keyword_language_default() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.language IS NULL THEN
        NEW.language := tocsin_text_language(NEW.reply);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER keywords_language BEFORE INSERT OR UPDATE ON keywords
    FOR EACH ROW EXECUTE FUNCTION tocsin_keyword_language_default();
UPDATE keywords SET language = tocsin_text_language(reply) WHERE language IS NULL;
ALTER TABLE keywords ALTER COLUMN language SET NOT NULL;

-- The HELP reply in Spanish (help_text is the English one); NULL: the
-- default text below.
ALTER TABLE orgs ADD COLUMN help_text_es text CHECK (length(help_text_es) <= 1600);

-- Which opt-out ended a subscription (the opt-out's consent_events row),
-- so that START gives back exactly those lists. Subscriptions a keyword
-- STOP ended before this migration ended in its transaction, at its
-- event's time.
ALTER TABLE subscriptions ADD COLUMN ended_by_opt_out bigint REFERENCES consent_events (id) ON DELETE SET NULL;
UPDATE subscriptions s SET ended_by_opt_out = e.id
  FROM contacts c, consent_events e
 WHERE c.id = s.contact_id AND e.org_id = c.org_id AND e.phone = c.phone AND e.event = 'opt_out'
   AND e.source = 'keyword' AND e.created_at = s.unsubscribed_at
   AND EXISTS (SELECT 1 FROM opt_outs o WHERE o.org_id = c.org_id AND o.phone = c.phone);

-- The answer to a reserved word: p_kind 'opt_out', 'opt_in' (START, with
-- the names of the lists the member is on after it, none: an empty array)
-- or 'help', in
-- p_lang. Each carries COMPLIANCE.md's parts: the program's name, how often,
-- "Msg&data rates may apply" (Spanish: "tarifas de mensajes y datos"), how
-- to get help and how to stop.
CREATE FUNCTION tocsin_consent_reply(p_org bigint, p_kind text, p_lang text, p_lists text[])
RETURNS text LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN p_lang = 'es' THEN CASE p_kind
            WHEN 'opt_out' THEN format('%s: te diste de baja y no recibirás más mensajes. Responde ALTA '
                                       'o START para volver.', o.name)
            WHEN 'opt_in' THEN CASE WHEN cardinality(p_lists) > 0
                THEN format('%s: vuelves a recibir nuestros mensajes de: %s. Mensajes recurrentes. Pueden aplicar '
                            'tarifas de mensajes y datos. Responde AYUDA para ayuda, ALTO para cancelar.',
                            o.name, array_to_string(p_lists, ', '))
                ELSE format('%s: puedes volver a recibir mensajes, pero no estás en ninguna lista. '
                            'Envía una palabra clave para unirte. Pueden aplicar tarifas de mensajes y '
                            'datos. Responde AYUDA para ayuda, ALTO para cancelar.', o.name) END
            ELSE coalesce(o.help_text_es,
                          format('%s: mensajes recurrentes, la frecuencia varía. Responde a este número '
                                 'para hablar con nosotros. Pueden aplicar tarifas de mensajes y datos. '
                                 'Responde ALTO para cancelar.', o.name)) END
        ELSE CASE p_kind
            WHEN 'opt_out' THEN format('%s: you are unsubscribed and will get no more messages. Reply '
                                       'START to resubscribe.', o.name)
            WHEN 'opt_in' THEN CASE WHEN cardinality(p_lists) > 0
                THEN format('%s: you are subscribed again to: %s. Recurring msgs. Msg&data rates may apply. '
                            'Reply HELP for help, STOP to cancel.', o.name, array_to_string(p_lists, ', '))
                ELSE format('%s: you can get our messages again, but you are on no list. Text a keyword '
                            'to join one. Msg&data rates may apply. Reply HELP for help, STOP to cancel.',
                            o.name) END
            ELSE coalesce(o.help_text,
                          format('%s: recurring msgs, frequency varies. Reply to this number to reach us. '
                                 'Msg&data rates may apply. Reply STOP to cancel.', o.name)) END
    END
      FROM orgs o WHERE o.id = p_org
$$;

-- As in 004, and: p_intent may carry the language of the reserved word
-- that gave it ('opt_out:es', 'help:en'; lib/compliance), remembered on the
-- contact; a keyword's language is remembered when it subscribes. The
-- replies to opt_out, opt_in and help are written here, in the contact's
-- language, unless the caller gives its own text in p_reply (the gateway
-- gives one for keywords only; records spooled by a gateway older than
-- this migration carry its English text, and keep it). A STOP on a sender whose
-- carrier answers it queues no confirmation. START gives back the
-- subscriptions the opt-out ended and says which.
CREATE OR REPLACE FUNCTION tocsin_receive_inbound(
    p_provider text, p_message_id text, p_sender_id bigint, p_from text, p_body text,
    p_num_media int, p_intent text, p_keyword_id bigint, p_likely_revocation boolean,
    p_reply text, p_reply_encoding text, p_reply_segments int)
RETURNS TABLE (inbound_id bigint, action text, conversation_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_intent text := split_part(p_intent, ':', 1);
    v_lang text := nullif(split_part(p_intent, ':', 2), '');
    v_org bigint;
    v_provider text;
    v_handling text;
    v_in bigint;
    v_contact bigint;
    v_contact_lang text;
    v_conv bigint;
    v_opted boolean;
    v_list bigint;
    v_action text;
    v_purpose text;
    v_event bigint;
    v_lists text[] := '{}';
    v_reply text;
    v_encoding text;
    v_segments int;
BEGIN
    IF v_intent NOT IN ('opt_out', 'opt_in', 'help', 'keyword', 'reply')
       OR (v_lang IS NOT NULL AND v_lang NOT IN ('en', 'es')) THEN
        RAISE EXCEPTION 'invalid intent "%"', p_intent;
    END IF;
    SELECT s.org_id, s.provider, tocsin_sender_opt_out_handling(s.kind, s.provider, s.opt_out_handling)
      INTO v_org, v_provider, v_handling
      FROM senders s WHERE s.id = p_sender_id;
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
    IF v_lang IS NOT NULL AND (v_intent IN ('opt_out', 'help') OR (v_intent = 'opt_in' AND v_opted)) THEN
        UPDATE contacts SET language = v_lang WHERE id = v_contact AND language IS DISTINCT FROM v_lang;
    END IF;

    IF v_intent = 'opt_out' THEN
        IF v_opted THEN
            v_action := 'already_opted_out'; -- one confirmation only, ever
        ELSE
            INSERT INTO opt_outs (org_id, phone, source, evidence) VALUES (v_org, p_from, 'keyword', v_in::text);
            INSERT INTO consent_events (org_id, phone, event, source, evidence)
            VALUES (v_org, p_from, 'opt_out', 'keyword', v_in::text)
            RETURNING id INTO v_event;
            UPDATE subscriptions SET unsubscribed_at = now(), ended_by_opt_out = v_event
             WHERE contact_id = v_contact AND unsubscribed_at IS NULL;
            UPDATE messages SET state = 'cancelled', updated_at = now(), finalized_at = now()
             WHERE org_id = v_org AND to_phone = p_from AND state = 'queued';
            v_action := 'opted_out';
            -- The carrier answers the words it knows (not the Spanish ones)
            -- and would refuse ours with 21610: the member sees one.
            IF v_handling = 'program' OR v_lang = 'es' THEN
                v_purpose := 'opt_out_confirmation';
            END IF;
        END IF;
    ELSIF v_intent = 'opt_in' AND v_opted THEN
        DELETE FROM opt_outs WHERE org_id = v_org AND phone = p_from;
        INSERT INTO consent_events (org_id, phone, event, source, evidence)
        VALUES (v_org, p_from, 'opt_in', 'keyword', v_in::text);
        -- Give back what the last opt-out ended, and only that.
        SELECT max(e.id) INTO v_event FROM consent_events e
         WHERE e.org_id = v_org AND e.phone = p_from AND e.event = 'opt_out';
        WITH back AS (
            UPDATE subscriptions s SET unsubscribed_at = NULL, ended_by_opt_out = NULL
             WHERE s.contact_id = v_contact AND s.ended_by_opt_out = v_event AND s.unsubscribed_at IS NOT NULL
            RETURNING s.list_id)
        INSERT INTO consent_events (org_id, phone, event, source, list_id, evidence)
        SELECT v_org, p_from, 'opt_in', 'keyword', back.list_id, v_in::text FROM back;
        -- The reply names every list the member is on now: those given back
        -- and those an opt-out that ended nothing (the carrier's) left.
        SELECT coalesce(array_agg(l.name ORDER BY l.name), '{}') INTO v_lists
          FROM subscriptions s JOIN lists l ON l.id = s.list_id
         WHERE s.contact_id = v_contact AND s.unsubscribed_at IS NULL;
        v_action := 'opted_in';
        v_purpose := 'confirmation';
    ELSIF v_opted THEN
        v_action := 'reply_while_opted_out'; -- recorded, nothing sent
    ELSIF v_intent = 'help' THEN
        v_action := 'help';
        v_purpose := 'help';
    ELSIF v_intent = 'keyword' THEN
        SELECT k.list_id, k.language INTO v_list, v_lang FROM keywords k WHERE k.id = p_keyword_id AND k.org_id = v_org;
        IF v_list IS NULL THEN
            RAISE EXCEPTION 'keyword % does not belong to this org', p_keyword_id;
        END IF;
        INSERT INTO subscriptions (org_id, list_id, contact_id, source, evidence_inbound_id)
        VALUES (v_org, v_list, v_contact, 'keyword', v_in)
        ON CONFLICT (list_id, contact_id) DO UPDATE
           SET unsubscribed_at = NULL, ended_by_opt_out = NULL, source = 'keyword', consented_at = now(),
               evidence_inbound_id = EXCLUDED.evidence_inbound_id, evidence_import_id = NULL;
        INSERT INTO consent_events (org_id, phone, event, source, list_id, evidence)
        VALUES (v_org, p_from, 'opt_in', 'keyword', v_list, v_in::text);
        UPDATE contacts SET language = v_lang WHERE id = v_contact AND language IS DISTINCT FROM v_lang;
        v_action := 'subscribed';
        v_purpose := 'confirmation';
    ELSE
        v_action := 'reply';
    END IF;

    IF v_action IN ('reply', 'reply_while_opted_out') OR (v_intent = 'opt_in' AND NOT v_opted) THEN
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
        v_reply := p_reply; -- the caller's own text (a keyword's confirmation)
        v_encoding := p_reply_encoding;
        v_segments := p_reply_segments;
    ELSIF v_purpose IS NOT NULL AND v_intent IN ('opt_out', 'opt_in', 'help') THEN
        SELECT c.language INTO v_contact_lang FROM contacts c WHERE c.id = v_contact;
        v_reply := tocsin_consent_reply(v_org, v_intent, coalesce(v_lang, v_contact_lang, 'en'), v_lists);
        v_encoding := tocsin_sms_encoding(v_reply);
        v_segments := tocsin_sms_segments(v_reply);
    END IF;
    IF v_reply IS NOT NULL THEN
        INSERT INTO messages (org_id, sender_id, provider, contact_id, to_phone, body, encoding, segments,
                              lane, purpose, inbound_id, conversation_id)
        VALUES (v_org, p_sender_id, v_provider, v_contact, p_from, v_reply, v_encoding,
                v_segments, 'conversational', v_purpose, v_in, v_conv);
    END IF;
    UPDATE inbound_messages SET contact_id = v_contact, conversation_id = v_conv,
           intent = CASE WHEN v_action IN ('reply', 'reply_while_opted_out') THEN 'reply'
                         WHEN v_action = 'opted_in' THEN 'opt_in_again'
                         WHEN v_action = 'subscribed' THEN 'keyword'
                         WHEN v_action IN ('opted_out', 'already_opted_out') THEN 'opt_out'
                         ELSE v_intent END
     WHERE id = v_in;
    RETURN QUERY SELECT v_in, v_action, v_conv;
END $$;
