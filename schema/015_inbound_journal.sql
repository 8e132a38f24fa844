-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 015_inbound_journal: a burst of replies is stored first and threaded
-- into conversations just after.
--
-- Storing a reply the full way (007) costs PostgreSQL about 100 µs. It
-- creates or updates the contact and the conversation and inserts the
-- message: 14 index entries and 7 foreign-key checks. On two cores the
-- database alone, with nothing else running, does that for at most about
-- 15,000 new numbers a second. Under a burst (a blast's replies), the
-- carrier then waits, times out and retries, which makes the burst worse.
--
-- So when the gateway sends a big batch (it has fallen behind), the batch
-- goes through tocsin_receive_inbound_burst instead. Each reply, as 007
-- defines it (intent 'reply', its number once in the batch), is committed
-- as one narrow row of inbound_journal, about a third of the cost. The
-- carrier is answered after that commit, so it is still durable before
-- acknowledged. Everything else in the batch (STOP, START, HELP, keywords,
-- a number writing twice) is applied at once by 007's batch function, in
-- the same transaction: an opt-out never waits behind the journal.
--
-- tocsin_inbound_journal_apply then threads the journal into conversations
-- in arrival order, in batches of hundreds, through that same batch
-- function: the contacts, conversations, unread counts, revocation flags
-- and dashboard notifications are exactly 007's. The gateway calls it when
-- its queue is idle and at least once a second.
--
-- A message is stored once. Its provider id is unique in the journal. The
-- burst function does not journal an id that inbound_messages already
-- holds. Applying skips an id that reached inbound_messages another way
-- in between (a retry that came while the journal row was being applied):
-- 007's function answers 'duplicate' for it.
--
-- A journal row's received_at is when the carrier's webhook was stored;
-- the inbound_messages row it becomes is stamped when it was applied, at
-- most seconds later.

CREATE TABLE inbound_journal (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at         timestamptz NOT NULL DEFAULT now(),
    provider            text NOT NULL CHECK (provider IN ('twilio', 'telnyx')),
    provider_message_id text NOT NULL CHECK (length(provider_message_id) BETWEEN 1 AND 100),
    sender_id           bigint NOT NULL REFERENCES senders (id),
    from_phone          text NOT NULL CHECK (tocsin_is_e164(from_phone)),
    body                text NOT NULL CHECK (length(body) <= 10000),
    num_media           int NOT NULL CHECK (num_media >= 0),
    likely_revocation   boolean NOT NULL,
    UNIQUE (provider, provider_message_id)
);

-- Journal rows that could not be applied, with why (the gateway logs
-- them): kept for an operator, out of the way of the rows after them.
CREATE TABLE inbound_journal_failed (
    LIKE inbound_journal,
    failed_at   timestamptz NOT NULL DEFAULT now(),
    apply_error text NOT NULL
);

-- Same arguments and result as tocsin_receive_inbound_batch (007); a
-- journaled reply answers (NULL, 'journaled', NULL, ord).
CREATE FUNCTION tocsin_receive_inbound_burst(
    p_provider text[], p_message_id text[], p_sender_id bigint[], p_from text[], p_body text[],
    p_num_media int[], p_intent text[], p_keyword_id bigint[], p_likely_revocation boolean[],
    p_reply text[], p_reply_encoding text[], p_reply_segments int[])
RETURNS TABLE (inbound_id bigint, action text, conversation_id bigint, ord int)
LANGUAGE plpgsql
-- Generic plans and no JIT, as 007's; nested loops stay, for the lookups
-- into inbound_messages.
SET plan_cache_mode = force_generic_plan SET jit = off AS $$
#variable_conflict use_column
DECLARE
    n int := coalesce(cardinality(p_message_id), 0);
    v_set int[];   -- journaled
    v_one int[];   -- applied now, by 007's batch function
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
    -- 007's partition: a reply from a number that appears once in the batch.
    SELECT coalesce(array_agg(x.ord ORDER BY x.ord) FILTER (WHERE x.set_based), '{}'),
           coalesce(array_agg(x.ord ORDER BY x.ord) FILTER (WHERE NOT x.set_based), '{}')
      INTO v_set, v_one
      FROM (SELECT u.ord::int AS ord,
                   coalesce(u.intent = 'reply' AND s.org_id IS NOT NULL
                            AND count(*) OVER (PARTITION BY s.org_id, u.from_phone) = 1, false) AS set_based
              FROM unnest(p_sender_id, p_from, p_intent) WITH ORDINALITY AS u(sender_id, from_phone, intent, ord)
              LEFT JOIN senders s ON s.id = u.sender_id) x;

    IF cardinality(v_set) > 0 THEN
        RETURN QUERY
        WITH j AS (
            INSERT INTO inbound_journal (provider, provider_message_id, sender_id, from_phone, body, num_media,
                                         likely_revocation)
            SELECT u.provider, u.mid, u.sender_id, u.from_phone, u.body, u.num_media, u.likely
              FROM unnest(p_provider, p_message_id, p_sender_id, p_from, p_body, p_num_media, p_likely_revocation)
                   WITH ORDINALITY AS u(provider, mid, sender_id, from_phone, body, num_media, likely, ord)
             WHERE u.ord = ANY (v_set)
               AND NOT EXISTS (SELECT 1 FROM inbound_messages i
                                WHERE i.provider = u.provider AND i.provider_message_id = u.mid)
             ORDER BY u.ord
            ON CONFLICT (provider, provider_message_id) DO NOTHING
            RETURNING provider, provider_message_id)
        SELECT NULL::bigint, CASE WHEN j.provider IS NULL THEN 'duplicate' ELSE 'journaled' END,
               NULL::bigint, u.ord::int
          FROM unnest(p_provider, p_message_id) WITH ORDINALITY AS u(provider, mid, ord)
          LEFT JOIN j ON j.provider = u.provider AND j.provider_message_id = u.mid
         WHERE u.ord = ANY (v_set);
    END IF;

    IF cardinality(v_one) > 0 THEN
        RETURN QUERY
            SELECT r.inbound_id, r.action, r.conversation_id, v_one[r.ord]
              FROM tocsin_receive_inbound_batch(
                       ARRAY(SELECT p_provider[k] FROM unnest(v_one) k),
                       ARRAY(SELECT p_message_id[k] FROM unnest(v_one) k),
                       ARRAY(SELECT p_sender_id[k] FROM unnest(v_one) k),
                       ARRAY(SELECT p_from[k] FROM unnest(v_one) k),
                       ARRAY(SELECT p_body[k] FROM unnest(v_one) k),
                       ARRAY(SELECT p_num_media[k] FROM unnest(v_one) k),
                       ARRAY(SELECT p_intent[k] FROM unnest(v_one) k),
                       ARRAY(SELECT p_keyword_id[k] FROM unnest(v_one) k),
                       ARRAY(SELECT p_likely_revocation[k] FROM unnest(v_one) k),
                       ARRAY(SELECT p_reply[k] FROM unnest(v_one) k),
                       ARRAY(SELECT p_reply_encoding[k] FROM unnest(v_one) k),
                       ARRAY(SELECT p_reply_segments[k] FROM unnest(v_one) k)) r;
    END IF;
END $$;

-- Threads up to p_limit (at most 200: 007's notification must stay under
-- PostgreSQL's 8000 bytes) journaled replies into conversations, oldest
-- first, and deletes them from the journal. One caller at a time (others
-- return at once with nothing done), so the journal applies in arrival
-- order. A batch that fails for its data is applied row by row; a row that
-- fails alone moves to inbound_journal_failed with its error. Returns how
-- many rows were applied (duplicates included), how many failed, and
-- whether more wait (or another caller holds the journal).
CREATE FUNCTION tocsin_inbound_journal_apply(p_limit int)
RETURNS TABLE (applied int, failed int, more boolean)
LANGUAGE plpgsql AS $$
DECLARE
    v_ids bigint[];
    v_provider text[];
    v_mid text[];
    v_sender bigint[];
    v_from text[];
    v_body text[];
    v_media int[];
    v_likely boolean[];
    v_last bigint;
    n int;
    k int;
BEGIN
    applied := 0;
    failed := 0;
    more := false;
    IF p_limit IS NULL OR p_limit < 1 OR p_limit > 200 THEN
        RAISE EXCEPTION 'invalid journal batch size: % (1 to 200)', p_limit;
    END IF;
    IF NOT pg_try_advisory_xact_lock(hashtextextended('tocsin_inbound_journal', 0)) THEN
        more := true; -- another gateway is applying: ask again later
        RETURN NEXT;
        RETURN;
    END IF;
    SELECT array_agg(j.id ORDER BY j.id), array_agg(j.provider ORDER BY j.id),
           array_agg(j.provider_message_id ORDER BY j.id), array_agg(j.sender_id ORDER BY j.id),
           array_agg(j.from_phone ORDER BY j.id), array_agg(j.body ORDER BY j.id),
           array_agg(j.num_media ORDER BY j.id), array_agg(j.likely_revocation ORDER BY j.id)
      INTO v_ids, v_provider, v_mid, v_sender, v_from, v_body, v_media, v_likely
      FROM (SELECT * FROM inbound_journal ORDER BY id LIMIT p_limit) j;
    n := coalesce(cardinality(v_ids), 0);
    IF n = 0 THEN
        RETURN NEXT;
        RETURN;
    END IF;
    v_last := v_ids[n];
    BEGIN
        PERFORM tocsin_receive_inbound_batch(
            v_provider, v_mid, v_sender, v_from, v_body, v_media, array_fill('reply'::text, ARRAY[n]),
            array_fill(NULL::bigint, ARRAY[n]), v_likely, array_fill(NULL::text, ARRAY[n]),
            array_fill(NULL::text, ARRAY[n]), array_fill(NULL::int, ARRAY[n]));
        applied := n;
    EXCEPTION WHEN data_exception OR integrity_constraint_violation THEN
        FOR k IN 1 .. n LOOP
            BEGIN
                PERFORM tocsin_receive_inbound(v_provider[k], v_mid[k], v_sender[k], v_from[k], v_body[k],
                                               v_media[k], 'reply', NULL, v_likely[k], NULL, NULL, NULL);
                applied := applied + 1;
            EXCEPTION
                WHEN unique_violation THEN
                    -- stored meanwhile by another path: the next call finds it a duplicate
                    v_ids[k] := NULL;
                WHEN data_exception OR integrity_constraint_violation THEN
                    INSERT INTO inbound_journal_failed
                    SELECT j.*, now(), left(SQLERRM, 500) FROM inbound_journal j WHERE j.id = v_ids[k];
                    failed := failed + 1;
            END;
        END LOOP;
    END;
    DELETE FROM inbound_journal WHERE id = ANY (v_ids);
    more := EXISTS (SELECT 1 FROM inbound_journal WHERE id > v_last);
    RETURN NEXT;
END $$;
