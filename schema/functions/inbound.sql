-- SPDX-License-Identifier: AGPL-3.0-or-later
-- inbound: member messages and delivery receipts as the gateway applies
-- them — one at a time (tocsin_receive_inbound), in batches and bursts,
-- from the journal — and the matching of receipts that arrive before
-- their message is stamped.
--
-- A repeatable file: edited in place; tocsinctl migrate applies it again
-- when it changes (schema/README.md).

-- A delivery receipt moves an outbound message forward, never back (a late
-- "sent" after "delivered" changes nothing). A receipt for a message whose
-- provider id the worker has not recorded yet is kept, to be matched when
-- it is (delivery_receipts_pending).
CREATE OR REPLACE FUNCTION tocsin_message_rank(state text) RETURNS int
    LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE state WHEN 'queued' THEN 0 WHEN 'sending' THEN 1 WHEN 'unknown' THEN 1 WHEN 'sent' THEN 2
                      WHEN 'delivered' THEN 3 WHEN 'undelivered' THEN 3 WHEN 'failed' THEN 3 ELSE 4 END $$;

-- The size of an inbound batch or burst: its arrays, one element per
-- message, must all be that long. The one check of both functions below.
CREATE OR REPLACE FUNCTION tocsin_inbound_batch_size(
    p_provider text[], p_message_id text[], p_sender_id bigint[], p_from text[], p_body text[],
    p_num_media int[], p_intent text[], p_keyword_id bigint[], p_likely_revocation boolean[],
    p_reply text[], p_reply_encoding text[], p_reply_segments int[])
RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    n int := coalesce(cardinality(p_message_id), 0);
BEGIN
    IF coalesce(cardinality(p_provider), 0) <> n OR coalesce(cardinality(p_sender_id), 0) <> n
       OR coalesce(cardinality(p_from), 0) <> n OR coalesce(cardinality(p_body), 0) <> n
       OR coalesce(cardinality(p_num_media), 0) <> n OR coalesce(cardinality(p_intent), 0) <> n
       OR coalesce(cardinality(p_keyword_id), 0) <> n OR coalesce(cardinality(p_likely_revocation), 0) <> n
       OR coalesce(cardinality(p_reply), 0) <> n OR coalesce(cardinality(p_reply_encoding), 0) <> n
       OR coalesce(cardinality(p_reply_segments), 0) <> n THEN
        RAISE EXCEPTION 'invalid inbound batch: the arrays differ in length';
    END IF;
    RETURN n;
END $$;

-- The payload of a "message" event (the dashboard's events.c reads it), as
-- json_build_object writes it; formatted (numbers only), as the "status"
-- event is (dashboard.sql): a batch sends one per message. STABLE, as
-- format() is, so that it is inlined into the calling statement: about
-- 1 µs a message against json_build_object's 2 (declared IMMUTABLE it is
-- not inlined and costs 4).
CREATE OR REPLACE FUNCTION tocsin_conversation_message_event(p_org bigint, p_conv bigint, p_assignee bigint)
RETURNS text LANGUAGE sql STABLE AS $$
    SELECT format('{"org_id" : %s, "conversation_id" : %s, "event" : "message", "assignee_id" : %s, '
                  '"previous_assignee_id" : null}', p_org, p_conv, coalesce(p_assignee::text, 'null'))
$$;

-- p_received_at (040): when each message's webhook was stored, for
-- messages the journal threads later; NULL (the gateway's batches) is now.
DROP FUNCTION IF EXISTS tocsin_receive_inbound_batch(text[], text[], bigint[], text[], text[], int[], text[], bigint[],
                                                     boolean[], text[], text[], int[]);
CREATE OR REPLACE FUNCTION tocsin_receive_inbound_batch(
    p_provider text[], p_message_id text[], p_sender_id bigint[], p_from text[], p_body text[],
    p_num_media int[], p_intent text[], p_keyword_id bigint[], p_likely_revocation boolean[],
    p_reply text[], p_reply_encoding text[], p_reply_segments int[], p_received_at timestamptz[] DEFAULT NULL)
RETURNS TABLE (inbound_id bigint, action text, conversation_id bigint, ord int)
LANGUAGE plpgsql
-- Array parameters make custom plans no better than generic ones: plan once.
-- The planner cannot estimate how many rows the CTEs below return and would
-- join them with nested loops, quadratic in the batch: hash joins instead
-- (the lookups into tables are LATERAL or subqueries, which stay indexed:
-- no sequential scans, which a plan made while a table was small would keep
-- as it grows); and no JIT, which those settings' penalty costs would
-- switch on.
SET plan_cache_mode = force_generic_plan SET enable_nestloop = off SET enable_seqscan = off SET jit = off AS $$
#variable_conflict use_column
DECLARE
    n int := tocsin_inbound_batch_size(p_provider, p_message_id, p_sender_id, p_from, p_body, p_num_media,
                                       p_intent, p_keyword_id, p_likely_revocation, p_reply, p_reply_encoding,
                                       p_reply_segments);
    v_set int[];   -- applied set-based
    v_all boolean; -- v_set holds every message: filtering by it is skipped
    v_one int[];   -- applied one by one
    k int;
BEGIN
    IF n = 0 THEN
        RETURN;
    END IF;
    IF cardinality(p_received_at) <> n THEN
        RAISE EXCEPTION 'invalid inbound batch: the arrays differ in length';
    END IF;
    -- Every sender exists, and stays until this batch commits: locked
    -- once here, as each row's foreign key did before 038 (inbound_links.sql).
    IF array_position(p_sender_id, NULL) IS NOT NULL
       OR (SELECT count(*) FROM (SELECT 1 FROM senders s WHERE s.id = ANY (p_sender_id) FOR KEY SHARE) l)
          <> (SELECT count(DISTINCT u.id) FROM unnest(p_sender_id) u(id)) THEN
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
    -- Usually every message: then each statement below reads them all
    -- without testing each one's position against v_set (a linear search
    -- per message, since an array in a variable is not hashed: about 2%
    -- of a new number's instructions).
    v_all := cardinality(v_set) = n;

    IF cardinality(v_set) > 0 THEN
        -- 1. Serialise with other messages from these numbers (as 004 does),
        --    in one order so that batches cannot deadlock each other.
        PERFORM pg_advisory_xact_lock(l.h)
           FROM (SELECT DISTINCT hashtextextended(s.org_id::text || u.from_phone, 0) AS h
                   FROM unnest(p_sender_id, p_from) WITH ORDINALITY AS u(sender_id, from_phone, ord)
                   JOIN senders s ON s.id = u.sender_id
                  WHERE (v_all OR u.ord = ANY (v_set)) ORDER BY 1) l;
        -- 2. Retried messages (seen after the lock, so a message being
        --    stored by a batch holding it is seen once committed).
        RETURN QUERY
            SELECT i.id, 'duplicate'::text, i.conversation_id, u.ord::int
              FROM unnest(p_provider, p_message_id) WITH ORDINALITY AS u(provider, mid, ord),
                   LATERAL (SELECT d.id, d.conversation_id FROM inbound_messages d
                             WHERE d.provider = u.provider AND d.provider_message_id = u.mid
                             LIMIT 1) i -- LIMIT keeps it a per-row index lookup
             WHERE (v_all OR u.ord = ANY (v_set));
        GET DIAGNOSTICS k = ROW_COUNT;
        IF k > 0 THEN
            SELECT coalesce(array_agg(u.ord::int), '{}') INTO v_set
              FROM unnest(p_provider, p_message_id) WITH ORDINALITY AS u(provider, mid, ord)
             WHERE (v_all OR u.ord = ANY (v_set))
               AND NOT EXISTS (SELECT 1 FROM inbound_messages i
                                WHERE i.provider = u.provider AND i.provider_message_id = u.mid);
            v_all := false; -- the retries are left out now
        END IF;
    END IF;

    IF cardinality(v_set) > 0 THEN
        -- 3. Contacts, conversations (opened or appended to), then the
        --    messages with their links in one insert (nothing updated after).
        --    A message stored meanwhile by a one-by-one call (which takes the
        --    lock after its insert) fails the batch on its unique key; the
        --    gateway then applies the batch's messages one by one.
        --    Every link this statement writes it found or made itself in
        --    its rows' own org (the sender's org, the contact by org and
        --    number, the conversation by that contact and sender), so the
        --    statement-level link checks skip it (inbound_links.sql), as
        --    the blast counters skip the worker's outcomes: for this
        --    statement only, set back below (an error rolls it back too).
        PERFORM set_config('tocsin.inbound_links_checked', 'on', true);
        RETURN QUERY
        WITH m AS (
            SELECT u.ord::int AS ord, u.provider, u.mid, u.sender_id, s.org_id, u.from_phone, u.body,
                   u.num_media, u.likely, u.received_at
              FROM unnest(p_provider, p_message_id, p_sender_id, p_from, p_body, p_num_media,
                          p_likely_revocation, p_received_at)
                   WITH ORDINALITY AS u(provider, mid, sender_id, from_phone, body, num_media, likely,
                                        received_at, ord)
              JOIN senders s ON s.id = u.sender_id
             WHERE (v_all OR u.ord = ANY (v_set))),
        -- A member who wrote before is looked up once, through (org_id,
        -- phone), the one index on a number whatever the statistics (042);
        -- a new number gets its contact by a plain insert. Not INSERT ...
        -- ON CONFLICT DO NOTHING, which builds and checks the whole new row
        -- before it finds the key taken, then a lookup: a tenth of a
        -- member's reply's instructions (ops/bench/inbound_db.sh). A contact that
        -- another transaction (an import, say, which does not take the
        -- number's lock) created after this statement's snapshot is not
        -- found and fails the insert on its unique key, as before it
        -- failed the conversation's NOT NULL: the gateway applies the
        -- batch's messages one by one, and the journal asks again.
        mx AS (
            SELECT m.*,
                   (SELECT ct.id FROM contacts ct WHERE ct.org_id = m.org_id AND ct.phone = m.from_phone) AS known
              FROM m),
        c AS (
            INSERT INTO contacts (org_id, phone)
            SELECT mx.org_id, mx.from_phone FROM mx WHERE mx.known IS NULL ORDER BY mx.org_id, mx.from_phone
            RETURNING id, org_id, phone),
        mc AS (
            SELECT mx.*, coalesce(mx.known, c.id) AS contact_id,
                   (SELECT 1 FROM opt_outs o WHERE o.org_id = mx.org_id AND o.phone = mx.from_phone LIMIT 1)
                       IS NOT NULL AS opted -- a lookup per row, never a scan (as 016)
              FROM mx LEFT JOIN c ON c.org_id = mx.org_id AND c.phone = mx.from_phone),
        conv AS (
            INSERT INTO conversations AS cv (org_id, contact_id, sender_id, last_inbound_at, unread, likely_opt_out)
            SELECT mc.org_id, mc.contact_id, mc.sender_id, now(), 1, mc.likely FROM mc
             ORDER BY mc.contact_id, mc.sender_id
            ON CONFLICT (contact_id, sender_id) WHERE state = 'open' DO UPDATE
               SET last_inbound_at = now(), unread = cv.unread + 1,
                   likely_opt_out = cv.likely_opt_out OR EXCLUDED.likely_opt_out
            RETURNING cv.id, cv.contact_id, cv.sender_id, cv.assignee_id),
        ins AS (
            INSERT INTO inbound_messages (org_id, sender_id, provider, provider_message_id, from_phone, body,
                                          num_media, contact_id, conversation_id, intent, received_at)
            SELECT mc.org_id, mc.sender_id, mc.provider, mc.mid, mc.from_phone, mc.body, mc.num_media,
                   mc.contact_id, conv.id, 'reply', coalesce(mc.received_at, now())
              FROM mc JOIN conv ON conv.contact_id = mc.contact_id AND conv.sender_id = mc.sender_id
             ORDER BY mc.ord
            RETURNING id, org_id, provider, provider_message_id, conversation_id),
        done AS (
            SELECT ins.id, ins.org_id, ins.conversation_id, mc.ord, mc.opted, conv.assignee_id
              FROM ins JOIN mc ON mc.provider = ins.provider AND mc.mid = ins.provider_message_id
              JOIN conv ON conv.id = ins.conversation_id),
        -- One notification per conversation, in the shape every
        -- conversation event has, with its assignee: the dashboard routes
        -- it without asking the database.
        notified AS (
            SELECT pg_notify('tocsin_conversations',
                             tocsin_conversation_message_event(done.org_id, done.conversation_id, done.assignee_id))
              FROM done)
        SELECT done.id, CASE WHEN done.opted THEN 'reply_while_opted_out' ELSE 'reply' END,
               done.conversation_id, done.ord
          FROM done
         WHERE (SELECT count(*) FROM notified) >= 0;
        PERFORM set_config('tocsin.inbound_links_checked', '', true);
    END IF;

    FOREACH k IN ARRAY v_one LOOP
        RETURN QUERY
            SELECT r.inbound_id, r.action, r.conversation_id, k
              FROM tocsin_receive_inbound(p_provider[k], p_message_id[k], p_sender_id[k], p_from[k], p_body[k],
                                          p_num_media[k], p_intent[k], p_keyword_id[k], p_likely_revocation[k],
                                          p_reply[k], p_reply_encoding[k], p_reply_segments[k]) r;
    END LOOP;
END $$;

-- Threads the oldest journal rows (040: one per burst batch) into
-- conversations, oldest first, until it holds p_limit messages (1 to
-- 1000) or the journal ends, and deletes them from the journal. Callers
-- run side by side (040): each takes rows no other caller holds (a row
-- lock, skipped by the others), and 007's per-number locks keep one
-- member's messages from being threaded by two at once. A member's two
-- replies journaled in different rows may then be threaded in either
-- order, but each keeps when its webhook was stored (received_at), so her
-- thread shows them in the order they came. A
-- batch that fails for its data is applied message by message; a message
-- that fails alone moves to inbound_journal_failed with its error.
-- Returns how many messages were applied (duplicates included), how many
-- failed, and whether more rows wait that no caller holds.
CREATE OR REPLACE FUNCTION tocsin_inbound_journal_apply(p_limit int)
RETURNS TABLE (applied int, failed int, more boolean)
LANGUAGE plpgsql
-- The journal's oldest rows, and whether more wait, through its primary key:
-- a plan made while the journal was empty would scan all of it (and the
-- rows deleted since) on every call.
SET enable_seqscan = off SET jit = off AS $$
DECLARE
    oldest CURSOR FOR SELECT * FROM inbound_journal ORDER BY id FOR UPDATE SKIP LOCKED;
    j record;
    v_rows bigint[] := '{}';    -- the journal rows taken
    v_row bigint[] := '{}';     -- per message: its journal row
    v_at timestamptz[] := '{}'; -- per message: when its row was journaled
    v_provider text[] := '{}';
    v_mid text[] := '{}';
    v_sender bigint[] := '{}';
    v_from text[] := '{}';
    v_body text[] := '{}';
    v_media int[] := '{}';
    v_likely boolean[] := '{}';
    v_last bigint;
    n int := 0;
    k int;
    tries int;
    v_err text;
BEGIN
    applied := 0;
    failed := 0;
    more := false;
    IF p_limit IS NULL OR p_limit < 1 OR p_limit > 1000 THEN
        RAISE EXCEPTION 'invalid journal batch size: % (1 to 1000)', p_limit;
    END IF;
    -- One row at a time (a FOR loop would lock ten ahead, held unused).
    OPEN oldest;
    WHILE n < p_limit LOOP
        FETCH oldest INTO j;
        EXIT WHEN NOT FOUND;
        v_rows := v_rows || j.id;
        v_row := v_row || array_fill(j.id, ARRAY[cardinality(j.provider)]);
        v_at := v_at || array_fill(j.received_at, ARRAY[cardinality(j.provider)]);
        v_provider := v_provider || j.provider;
        v_mid := v_mid || j.provider_message_id;
        v_sender := v_sender || j.sender_id;
        v_from := v_from || j.from_phone;
        v_body := v_body || j.body;
        v_media := v_media || j.num_media;
        v_likely := v_likely || j.likely_revocation;
        v_last := j.id;
        n := n + cardinality(j.provider);
    END LOOP;
    CLOSE oldest;
    IF n = 0 THEN
        RETURN NEXT;
        RETURN;
    END IF;
    BEGIN
        PERFORM tocsin_receive_inbound_batch(
            v_provider, v_mid, v_sender, v_from, v_body, v_media, array_fill('reply'::text, ARRAY[n]),
            array_fill(NULL::bigint, ARRAY[n]), v_likely, array_fill(NULL::text, ARRAY[n]),
            array_fill(NULL::text, ARRAY[n]), array_fill(NULL::int, ARRAY[n]), v_at);
        applied := n;
    EXCEPTION WHEN data_exception OR integrity_constraint_violation OR raise_exception THEN
        FOR k IN 1 .. n LOOP
            tries := 0;
            LOOP
                v_err := NULL;
                BEGIN
                    PERFORM tocsin_receive_inbound(v_provider[k], v_mid[k], v_sender[k], v_from[k], v_body[k],
                                                   v_media[k], 'reply', NULL, v_likely[k], NULL, NULL, NULL, v_at[k]);
                    applied := applied + 1;
                EXCEPTION
                    WHEN unique_violation THEN
                        -- Another path stored the same contact or message
                        -- meanwhile and has committed: asked again, the
                        -- message finds it (a duplicate, or its contact).
                        tries := tries + 1;
                        CONTINUE WHEN tries < 3;
                        v_err := SQLERRM;
                    WHEN data_exception OR integrity_constraint_violation OR raise_exception THEN
                        -- raise_exception: what 007's checks raise (a sender gone)
                        v_err := SQLERRM;
                END;
                EXIT;
            END LOOP;
            IF v_err IS NOT NULL THEN
                INSERT INTO inbound_journal_failed
                    (id, received_at, provider, provider_message_id, sender_id, from_phone, body, num_media,
                     likely_revocation, apply_error)
                VALUES (v_row[k], v_at[k], v_provider[k], v_mid[k], v_sender[k], v_from[k], v_body[k], v_media[k],
                        v_likely[k], left(v_err, 500));
                failed := failed + 1;
            END IF;
        END LOOP;
    END;
    DELETE FROM inbound_journal WHERE id = ANY (v_rows);
    more := EXISTS (SELECT 1 FROM inbound_journal WHERE id > v_last);
    RETURN NEXT;
END $$;

-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 016_burst_lookup: the burst function (015) checked each message against
-- inbound_messages with NOT EXISTS, which the planner may turn into an
-- anti-join; its generic plan, made while inbound_messages was small,
-- hashed the whole table on every call. Under a benchmark burst that
-- was a third of PostgreSQL's time, growing with the table (3,071 scans
-- reading 20 million rows in 12 seconds). A scalar subquery with LIMIT
-- stays a lookup per message in the unique index, whatever the
-- statistics said when the plan was made. Nothing else changes.
CREATE OR REPLACE FUNCTION tocsin_receive_inbound_burst(
    p_provider text[], p_message_id text[], p_sender_id bigint[], p_from text[], p_body text[],
    p_num_media int[], p_intent text[], p_keyword_id bigint[], p_likely_revocation boolean[],
    p_reply text[], p_reply_encoding text[], p_reply_segments int[])
RETURNS TABLE (inbound_id bigint, action text, conversation_id bigint, ord int)
LANGUAGE plpgsql
-- Generic plans, no sequential scans and no JIT, as 007's; nested loops
-- stay, for the lookups into inbound_messages and the journal.
SET plan_cache_mode = force_generic_plan SET enable_seqscan = off SET jit = off AS $$
#variable_conflict use_column
DECLARE
    n int := tocsin_inbound_batch_size(p_provider, p_message_id, p_sender_id, p_from, p_body, p_num_media,
                                       p_intent, p_keyword_id, p_likely_revocation, p_reply, p_reply_encoding,
                                       p_reply_segments);
    v_set int[];   -- journaled
    v_all boolean; -- v_set holds every message: filtering by it is skipped
    v_one int[];   -- applied now, by 007's batch function
BEGIN
    IF n = 0 THEN
        RETURN;
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
    -- Usually every message: then each statement below reads them all
    -- without testing each one's position against v_set (a linear search
    -- per message, since an array in a variable is not hashed: about 2%
    -- of a new number's instructions).
    v_all := cardinality(v_set) = n;

    IF cardinality(v_set) > 0 THEN
        -- One journal row for the batch's replies, in their order, less
        -- those inbound_messages already holds (a per-message lookup in
        -- its unique index, never a join). A retry whose first copy still
        -- waits in the journal is journaled again: the applier finds it a
        -- duplicate (040).
        RETURN QUERY
        WITH fresh AS MATERIALIZED (
            SELECT u.*
              FROM unnest(p_provider, p_message_id, p_sender_id, p_from, p_body, p_num_media, p_likely_revocation)
                   WITH ORDINALITY AS u(provider, mid, sender_id, from_phone, body, num_media, likely, ord)
             WHERE (v_all OR u.ord = ANY (v_set))
               AND (SELECT 1 FROM inbound_messages i
                     WHERE i.provider = u.provider AND i.provider_message_id = u.mid
                     LIMIT 1) IS NULL),
        j AS (
            INSERT INTO inbound_journal (provider, provider_message_id, sender_id, from_phone, body, num_media,
                                         likely_revocation)
            SELECT array_agg(f.provider), array_agg(f.mid), array_agg(f.sender_id), array_agg(f.from_phone),
                   array_agg(f.body), array_agg(f.num_media), array_agg(f.likely)
              FROM fresh f
            HAVING count(*) > 0)
        SELECT NULL::bigint, CASE WHEN f.ord IS NULL THEN 'duplicate' ELSE 'journaled' END,
               NULL::bigint, u.ord::int
          FROM unnest(v_set) AS u(ord)
          LEFT JOIN fresh f ON f.ord = u.ord;
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

-- The bounds, in one place for the functions below.
CREATE OR REPLACE FUNCTION tocsin_receipts_pending_cap() RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT 10000 $$;

CREATE OR REPLACE FUNCTION tocsin_receipts_pending_max_age() RETURNS interval LANGUAGE sql IMMUTABLE AS
$$ SELECT interval '1 day' $$;

-- 004's function, scoped to p_sender_id. Outcomes: 'applied', 'stale' (the
-- message is already that far), 'ignored' (a status we do not track),
-- 'pending' (no message has the id yet), 'foreign' (another sender's
-- message has it: nothing done), 'dropped' (the sender has too many
-- pending receipts already).
CREATE OR REPLACE FUNCTION tocsin_apply_receipt(p_provider text, p_message_id text, p_sender_id bigint, p_status text,
                                     p_error_code text, p_payload jsonb)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_state text;
    v_id bigint;
    v_owner bigint;
BEGIN
    IF p_sender_id IS NULL THEN
        RAISE EXCEPTION 'a receipt needs the sender whose credentials verified it' USING ERRCODE = '22004';
    END IF;
    v_state := CASE p_status WHEN 'sent' THEN 'sent' WHEN 'delivered' THEN 'delivered'
                             WHEN 'undelivered' THEN 'undelivered' WHEN 'failed' THEN 'failed'
                             WHEN 'delivery_failed' THEN 'undelivered' ELSE NULL END;
    IF v_state IS NULL THEN
        RETURN 'ignored'; -- queued, sending, accepted...: nothing we track
    END IF;
    -- The carrier's id leads to the message through message_carrier_ids
    -- (schema 035: messages has no index on it, so outcomes are HOT).
    v_id := tocsin_message_by_carrier_id(p_provider, p_message_id);
    IF v_id IS NOT NULL THEN
        UPDATE messages SET state = v_state, error_code = coalesce(p_error_code, error_code), updated_at = now(),
               finalized_at = CASE WHEN tocsin_message_rank(v_state) = 3 THEN now() ELSE finalized_at END
         WHERE id = v_id AND sender_id = p_sender_id
           AND tocsin_message_rank(state) < tocsin_message_rank(v_state)
        RETURNING sender_id INTO v_owner;
        IF FOUND THEN
            RETURN 'applied';
        END IF;
        SELECT sender_id INTO v_owner FROM messages WHERE id = v_id;
        RETURN CASE WHEN v_owner = p_sender_id THEN 'stale' ELSE 'foreign' END;
    END IF;
    IF (SELECT count(*) FROM (SELECT 1 FROM delivery_receipts_pending WHERE sender_id = p_sender_id
                               LIMIT tocsin_receipts_pending_cap()) s) >= tocsin_receipts_pending_cap() THEN
        RETURN 'dropped';
    END IF;
    INSERT INTO delivery_receipts_pending (provider, provider_message_id, sender_id, status, error_code, payload)
    VALUES (p_provider, p_message_id, p_sender_id, p_status, p_error_code, p_payload);
    RETURN 'pending';
END $$;

-- 007's batch, with the senders.
CREATE OR REPLACE FUNCTION tocsin_apply_receipt_batch(p_provider text[], p_message_id text[], p_sender_id bigint[],
                                           p_status text[], p_error_code text[], p_payload jsonb[])
RETURNS TABLE (outcome text, ord int)
LANGUAGE plpgsql AS $$
DECLARE
    n int := coalesce(cardinality(p_message_id), 0);
BEGIN
    IF coalesce(cardinality(p_provider), 0) <> n OR coalesce(cardinality(p_sender_id), 0) <> n
       OR coalesce(cardinality(p_status), 0) <> n OR coalesce(cardinality(p_error_code), 0) <> n
       OR coalesce(cardinality(p_payload), 0) <> n THEN
        RAISE EXCEPTION 'invalid receipt batch: the arrays differ in length';
    END IF;
    FOR k IN 1 .. n LOOP
        outcome := tocsin_apply_receipt(p_provider[k], p_message_id[k], p_sender_id[k], p_status[k],
                                        p_error_code[k], p_payload[k]);
        ord := k;
        RETURN NEXT;
    END LOOP;
END $$;

-- 014's sweep: applies pending receipts to their own sender's messages,
-- drops those that can never match (another sender's message has the id)
-- or are older than a day, and trims each sender to its newest 10000.
CREATE OR REPLACE FUNCTION tocsin_receipts_rematch() RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    v_receipt record;
    v_count int := 0;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM delivery_receipts_pending) THEN
        RETURN 0;
    END IF;
    DELETE FROM delivery_receipts_pending WHERE received_at < now() - tocsin_receipts_pending_max_age();
    DELETE FROM delivery_receipts_pending p
     USING message_carrier_ids c JOIN messages m ON m.id = c.message_id
     WHERE p.provider = c.provider AND p.provider_message_id = c.provider_message_id
       AND m.provider = c.provider AND m.provider_message_id = c.provider_message_id
       AND p.sender_id <> m.sender_id;
    -- Over the cap only when inserts raced past it: rare, so the window
    -- runs only when the table is that big at all.
    IF (SELECT count(*) FROM (SELECT 1 FROM delivery_receipts_pending LIMIT tocsin_receipts_pending_cap() + 1) s)
       > tocsin_receipts_pending_cap() THEN
        DELETE FROM delivery_receipts_pending p
         USING (SELECT id, row_number() OVER (PARTITION BY sender_id ORDER BY received_at DESC, id DESC) AS rn
                  FROM delivery_receipts_pending) r
         WHERE p.id = r.id AND r.rn > tocsin_receipts_pending_cap();
    END IF;
    FOR v_receipt IN
        DELETE FROM delivery_receipts_pending p
         USING message_carrier_ids c JOIN messages m ON m.id = c.message_id
         WHERE p.provider = c.provider AND p.provider_message_id = c.provider_message_id
           AND m.provider = c.provider AND m.provider_message_id = c.provider_message_id
           AND p.sender_id = m.sender_id
        RETURNING p.*
    LOOP
        PERFORM tocsin_apply_receipt(v_receipt.provider, v_receipt.provider_message_id, v_receipt.sender_id,
                                     v_receipt.status, v_receipt.error_code, v_receipt.payload);
        v_count := v_count + 1;
    END LOOP;
    RETURN v_count;
END $$;

-- As in 004, and: p_intent may carry the language of the reserved word
-- that gave it ('opt_out:es', 'help:en'; lib/compliance), remembered on the
-- contact; a keyword's language is remembered when it subscribes. The
-- replies to opt_out, opt_in and help are written here, in the contact's
-- language, unless the caller gives its own text in p_reply (the gateway
-- gives one for keywords only; records spooled by a gateway older than
-- this migration carry its English text, and keep it). A STOP, START or HELP
-- on a sender whose carrier answers those words queues no answer of its own
-- (the member gets exactly one). START gives back the subscriptions the
-- opt-out ended and, where Tocsin answers it, says which. p_received_at:
-- when the message's webhook was stored, for a journaled message threaded
-- later (tocsin_inbound_journal_apply); NULL (the gateway) is now.
DROP FUNCTION IF EXISTS tocsin_receive_inbound(text, text, bigint, text, text, int, text, bigint, boolean, text, text,
                                               int);
CREATE OR REPLACE FUNCTION tocsin_receive_inbound(
    p_provider text, p_message_id text, p_sender_id bigint, p_from text, p_body text,
    p_num_media int, p_intent text, p_keyword_id bigint, p_likely_revocation boolean,
    p_reply text, p_reply_encoding text, p_reply_segments int, p_received_at timestamptz DEFAULT NULL)
RETURNS TABLE (inbound_id bigint, action text, conversation_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_intent text := split_part(p_intent, ':', 1);
    v_lang text := nullif(split_part(p_intent, ':', 2), '');
    v_org bigint;
    v_provider text;
    v_handling text;
    v_answers boolean; -- Tocsin answers this reserved word itself
    v_in bigint;
    v_contact bigint;
    v_contact_lang text;
    v_conv bigint;
    v_assignee bigint;
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
      FROM senders s WHERE s.id = p_sender_id
       FOR KEY SHARE; -- kept until this message commits (inbound_links.sql)
    IF v_org IS NULL THEN
        RAISE EXCEPTION 'sender % does not exist', p_sender_id;
    END IF;
    -- Where the carrier answers reserved words (Twilio's default handling
    -- on long codes: STOP, START and HELP each get its standard reply) it
    -- knows the English ones only; the Spanish ones are ours to answer.
    v_answers := v_handling = 'program' OR v_lang = 'es';
    INSERT INTO inbound_messages (org_id, sender_id, provider, provider_message_id, from_phone, body, num_media,
                                  received_at)
    VALUES (v_org, p_sender_id, p_provider, p_message_id, p_from, p_body, p_num_media, coalesce(p_received_at, now()))
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
            PERFORM tocsin_unqueue(array(SELECT m.id FROM messages m
                                          WHERE m.org_id = v_org AND m.to_phone = p_from AND m.state = 'queued'),
                                   NULL);
            v_action := 'opted_out';
            -- The carrier answers the words it knows (not the Spanish ones)
            -- and would refuse ours with 21610: the member sees one.
            IF v_answers THEN
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
        IF v_answers THEN -- else the carrier said "re-subscribed" itself
            v_purpose := 'confirmation';
        END IF;
    ELSIF v_opted THEN
        v_action := 'reply_while_opted_out'; -- recorded, nothing sent
    ELSIF v_intent = 'help' THEN
        v_action := 'help';
        IF v_answers THEN -- else the carrier sent its HELP text itself
            v_purpose := 'help';
        END IF;
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
        RETURNING c.id, c.assignee_id INTO v_conv, v_assignee;
        PERFORM pg_notify('tocsin_conversations', tocsin_conversation_message_event(v_org, v_conv, v_assignee));
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
