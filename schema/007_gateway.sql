-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 007_gateway: member messages and receipts in batches. The gateway
-- gathers the messages that arrive together and applies them with one call
-- of tocsin_receive_inbound_batch, whose effect is exactly that of calling
-- tocsin_receive_inbound (004) for each message in order, in one
-- transaction. Replies — the bulk of the traffic after a blast — from a
-- number that appears once in the batch are applied set-based (a few
-- statements for the whole batch); every other message (a keyword, STOP,
-- START, HELP, or a number writing twice in the batch) goes through
-- tocsin_receive_inbound one by one, in batch order. The two groups share
-- no number, so applying the set-based group first changes no outcome.
--
-- The dashboard hears about the set-based replies with ONE notification per
-- org and batch on tocsin_conversations:
--   {"org_id": 1, "conversation_ids": [...], "inbound_ids": [...]}
-- (messages applied one by one still notify {"org_id", "conversation_id",
-- "inbound_id"} each, as in 004).

CREATE FUNCTION tocsin_receive_inbound_batch(
    p_provider text[], p_message_id text[], p_sender_id bigint[], p_from text[], p_body text[],
    p_num_media int[], p_intent text[], p_keyword_id bigint[], p_likely_revocation boolean[],
    p_reply text[], p_reply_encoding text[], p_reply_segments int[])
RETURNS TABLE (inbound_id bigint, action text, conversation_id bigint, ord int)
LANGUAGE plpgsql
-- Array parameters make custom plans no better than generic ones: plan once.
-- The planner cannot estimate how many rows the CTEs below return and would
-- join them with nested loops, quadratic in the batch: hash joins instead
-- (the lookups into tables are LATERAL or subqueries, which stay indexed);
-- and no JIT, which that setting's penalty cost would switch on.
SET plan_cache_mode = force_generic_plan SET enable_nestloop = off SET jit = off AS $$
#variable_conflict use_column
DECLARE
    n int := coalesce(cardinality(p_message_id), 0);
    v_set int[];   -- applied set-based
    v_one int[];   -- applied one by one
    k int;
BEGIN
    IF n = 0 THEN
        RETURN;
    END IF;
    IF coalesce(cardinality(p_provider), 0) <> n OR coalesce(cardinality(p_sender_id), 0) <> n
       OR coalesce(cardinality(p_from), 0) <> n OR coalesce(cardinality(p_body), 0) <> n
       OR coalesce(cardinality(p_num_media), 0) <> n OR coalesce(cardinality(p_intent), 0) <> n
       OR coalesce(cardinality(p_keyword_id), 0) <> n OR coalesce(cardinality(p_likely_revocation), 0) <> n
       OR coalesce(cardinality(p_reply), 0) <> n OR coalesce(cardinality(p_reply_encoding), 0) <> n
       OR coalesce(cardinality(p_reply_segments), 0) <> n THEN
        RAISE EXCEPTION 'invalid inbound batch: the arrays differ in length';
    END IF;
    IF (SELECT count(*) FROM unnest(p_sender_id) u(id) JOIN senders s ON s.id = u.id) <> n THEN
        RAISE EXCEPTION 'invalid inbound batch: a sender does not exist';
    END IF;

    SELECT coalesce(array_agg(x.ord ORDER BY x.ord) FILTER (WHERE x.set_based), '{}'),
           coalesce(array_agg(x.ord ORDER BY x.ord) FILTER (WHERE NOT x.set_based), '{}')
      INTO v_set, v_one
      FROM (SELECT u.ord::int AS ord,
                   coalesce(u.intent = 'reply' AND count(*) OVER (PARTITION BY s.org_id, u.from_phone) = 1,
                            false) AS set_based
              FROM unnest(p_sender_id, p_from, p_intent) WITH ORDINALITY AS u(sender_id, from_phone, intent, ord)
              JOIN senders s ON s.id = u.sender_id) x;

    IF cardinality(v_set) > 0 THEN
        -- 1. Serialise with other messages from these numbers (as 004 does),
        --    in one order so that batches cannot deadlock each other.
        PERFORM pg_advisory_xact_lock(l.h)
           FROM (SELECT DISTINCT hashtextextended(s.org_id::text || u.from_phone, 0) AS h
                   FROM unnest(p_sender_id, p_from) WITH ORDINALITY AS u(sender_id, from_phone, ord)
                   JOIN senders s ON s.id = u.sender_id
                  WHERE u.ord = ANY (v_set) ORDER BY 1) l;
        -- 2. Retried messages (seen after the lock, so a message being
        --    stored by a batch holding it is seen once committed).
        RETURN QUERY
            SELECT i.id, 'duplicate'::text, i.conversation_id, u.ord::int
              FROM unnest(p_provider, p_message_id) WITH ORDINALITY AS u(provider, mid, ord),
                   LATERAL (SELECT d.id, d.conversation_id FROM inbound_messages d
                             WHERE d.provider = u.provider AND d.provider_message_id = u.mid
                             LIMIT 1) i -- LIMIT keeps it a per-row index lookup
             WHERE u.ord = ANY (v_set);
        GET DIAGNOSTICS k = ROW_COUNT;
        IF k > 0 THEN
            SELECT coalesce(array_agg(u.ord::int), '{}') INTO v_set
              FROM unnest(p_provider, p_message_id) WITH ORDINALITY AS u(provider, mid, ord)
             WHERE u.ord = ANY (v_set)
               AND NOT EXISTS (SELECT 1 FROM inbound_messages i
                                WHERE i.provider = u.provider AND i.provider_message_id = u.mid);
        END IF;
    END IF;

    IF cardinality(v_set) > 0 THEN
        -- 3. Contacts, conversations (opened or appended to), then the
        --    messages with their links in one insert (nothing updated after).
        --    A message stored meanwhile by a one-by-one call (which takes the
        --    lock after its insert) fails the batch on its unique key; the
        --    gateway then applies the batch's messages one by one.
        RETURN QUERY
        WITH m AS (
            SELECT u.ord::int AS ord, u.provider, u.mid, u.sender_id, s.org_id, u.from_phone, u.body,
                   u.num_media, u.likely
              FROM unnest(p_provider, p_message_id, p_sender_id, p_from, p_body, p_num_media,
                          p_likely_revocation)
                   WITH ORDINALITY AS u(provider, mid, sender_id, from_phone, body, num_media, likely, ord)
              JOIN senders s ON s.id = u.sender_id
             WHERE u.ord = ANY (v_set)),
        c AS (
            INSERT INTO contacts (org_id, phone)
            SELECT m.org_id, m.from_phone FROM m ORDER BY m.org_id, m.from_phone
            ON CONFLICT (org_id, phone) DO UPDATE SET updated_at = now()
            RETURNING id, org_id, phone),
        mc AS (
            SELECT m.*, c.id AS contact_id,
                   EXISTS (SELECT 1 FROM opt_outs o WHERE o.org_id = m.org_id AND o.phone = m.from_phone) AS opted
              FROM m JOIN c ON c.org_id = m.org_id AND c.phone = m.from_phone),
        conv AS (
            INSERT INTO conversations AS cv (org_id, contact_id, sender_id, last_inbound_at, unread, likely_opt_out)
            SELECT mc.org_id, mc.contact_id, mc.sender_id, now(), 1, mc.likely FROM mc
             ORDER BY mc.contact_id, mc.sender_id
            ON CONFLICT (contact_id, sender_id) WHERE state = 'open' DO UPDATE
               SET last_inbound_at = now(), unread = cv.unread + 1,
                   likely_opt_out = cv.likely_opt_out OR EXCLUDED.likely_opt_out
            RETURNING cv.id, cv.contact_id, cv.sender_id),
        ins AS (
            INSERT INTO inbound_messages (org_id, sender_id, provider, provider_message_id, from_phone, body,
                                          num_media, contact_id, conversation_id, intent)
            SELECT mc.org_id, mc.sender_id, mc.provider, mc.mid, mc.from_phone, mc.body, mc.num_media,
                   mc.contact_id, conv.id, 'reply'
              FROM mc JOIN conv ON conv.contact_id = mc.contact_id AND conv.sender_id = mc.sender_id
             ORDER BY mc.ord
            RETURNING id, org_id, provider, provider_message_id, conversation_id),
        done AS (
            SELECT ins.id, ins.org_id, ins.conversation_id, mc.ord, mc.opted
              FROM ins JOIN mc ON mc.provider = ins.provider AND mc.mid = ins.provider_message_id),
        notified AS (
            SELECT pg_notify('tocsin_conversations',
                             json_build_object('org_id', done.org_id,
                                               'conversation_ids', json_agg(done.conversation_id ORDER BY done.ord),
                                               'inbound_ids', json_agg(done.id ORDER BY done.ord))::text)
              FROM done GROUP BY done.org_id)
        SELECT done.id, CASE WHEN done.opted THEN 'reply_while_opted_out' ELSE 'reply' END,
               done.conversation_id, done.ord
          FROM done
         WHERE (SELECT count(*) FROM notified) >= 0;
    END IF;

    FOREACH k IN ARRAY v_one LOOP
        RETURN QUERY
            SELECT r.inbound_id, r.action, r.conversation_id, k
              FROM tocsin_receive_inbound(p_provider[k], p_message_id[k], p_sender_id[k], p_from[k], p_body[k],
                                          p_num_media[k], p_intent[k], p_keyword_id[k], p_likely_revocation[k],
                                          p_reply[k], p_reply_encoding[k], p_reply_segments[k]) r;
    END LOOP;
END $$;

-- Delivery receipts in batches: tocsin_apply_receipt (004) for each, in
-- order, in one transaction (one round trip and one commit per batch
-- instead of per receipt). Returns each receipt's outcome and position.
CREATE FUNCTION tocsin_apply_receipt_batch(p_provider text[], p_message_id text[], p_status text[],
                                           p_error_code text[], p_payload jsonb[])
RETURNS TABLE (outcome text, ord int)
LANGUAGE plpgsql AS $$
DECLARE
    n int := coalesce(cardinality(p_message_id), 0);
BEGIN
    IF coalesce(cardinality(p_provider), 0) <> n OR coalesce(cardinality(p_status), 0) <> n
       OR coalesce(cardinality(p_error_code), 0) <> n OR coalesce(cardinality(p_payload), 0) <> n THEN
        RAISE EXCEPTION 'invalid receipt batch: the arrays differ in length';
    END IF;
    FOR k IN 1 .. n LOOP
        outcome := tocsin_apply_receipt(p_provider[k], p_message_id[k], p_status[k], p_error_code[k],
                                        p_payload[k]);
        ord := k;
        RETURN NEXT;
    END LOOP;
END $$;
