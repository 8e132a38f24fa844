-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 017_receipt_scope: a delivery receipt moves only a message of the sender
-- whose credentials verified it. Until now tocsin_apply_receipt (004)
-- matched on (provider, provider message id) alone, so a status callback
-- signed with one org's Twilio token (or Telnyx key), naming another org's
-- message id, could mark that message failed or delivered; and a receipt
-- for an id no message has was kept in delivery_receipts_pending for good,
-- so made-up ids grew the table without bound. Now:
--  - receipts match on (provider, provider message id, sender): the
--    gateway passes the sender it verified the callback with. A receipt
--    for another sender's message changes nothing and is not kept
--    ('foreign');
--  - pending receipts carry their sender and match only its messages (at
--    the worker's record of ids, 012, and at its sweep, 014);
--  - pending receipts are bounded: a sender holding 10000 already gets no
--    more ('dropped'), and the worker's sweep drops those older than one
--    day (a receipt waits for an id the worker records within seconds of
--    the carrier's answer; a day is far past any carrier's retries) and
--    trims each sender to its newest 10000 (two transactions inserting at
--    once can both pass the check).
-- Pending receipts stored before this migration carry no sender: nothing
-- can say whose they are, so they are deleted (they wait seconds in normal
-- operation; the rest were receipts no message would ever claim).

DELETE FROM delivery_receipts_pending;
ALTER TABLE delivery_receipts_pending
    ADD COLUMN sender_id bigint NOT NULL REFERENCES senders (id) ON DELETE CASCADE;
DROP INDEX receipts_pending_lookup;
CREATE INDEX receipts_pending_lookup ON delivery_receipts_pending (provider, provider_message_id, sender_id);
-- The cap per sender and the trim (newest first), and the age sweep.
CREATE INDEX receipts_pending_sender ON delivery_receipts_pending (sender_id, received_at);
CREATE INDEX receipts_pending_age ON delivery_receipts_pending (received_at);

-- The bounds, in one place for the functions below.
CREATE FUNCTION tocsin_receipts_pending_cap() RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT 10000 $$;
CREATE FUNCTION tocsin_receipts_pending_max_age() RETURNS interval LANGUAGE sql IMMUTABLE AS
$$ SELECT interval '1 day' $$;

DROP FUNCTION tocsin_apply_receipt_batch(text[], text[], text[], text[], jsonb[]);
DROP FUNCTION tocsin_apply_receipt(text, text, text, text, jsonb);

-- 004's function, scoped to p_sender_id. Outcomes: 'applied', 'stale' (the
-- message is already that far), 'ignored' (a status we do not track),
-- 'pending' (no message has the id yet), 'foreign' (another sender's
-- message has it: nothing done), 'dropped' (the sender has too many
-- pending receipts already).
CREATE FUNCTION tocsin_apply_receipt(p_provider text, p_message_id text, p_sender_id bigint, p_status text,
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
    UPDATE messages SET state = v_state, error_code = coalesce(p_error_code, error_code), updated_at = now(),
           finalized_at = CASE WHEN tocsin_message_rank(v_state) = 3 THEN now() ELSE finalized_at END
     WHERE provider = p_provider AND provider_message_id = p_message_id AND sender_id = p_sender_id
       AND tocsin_message_rank(state) < tocsin_message_rank(v_state)
    RETURNING id INTO v_id;
    IF v_id IS NOT NULL THEN
        RETURN 'applied';
    END IF;
    SELECT sender_id INTO v_owner FROM messages WHERE provider = p_provider AND provider_message_id = p_message_id;
    IF FOUND THEN
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
CREATE FUNCTION tocsin_apply_receipt_batch(p_provider text[], p_message_id text[], p_sender_id bigint[],
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
     USING messages m
     WHERE p.provider = m.provider AND p.provider_message_id = m.provider_message_id
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
         USING messages m
         WHERE p.provider = m.provider AND p.provider_message_id = m.provider_message_id
           AND p.sender_id = m.sender_id
        RETURNING p.*
    LOOP
        PERFORM tocsin_apply_receipt(v_receipt.provider, v_receipt.provider_message_id, v_receipt.sender_id,
                                     v_receipt.status, v_receipt.error_code, v_receipt.payload);
        v_count := v_count + 1;
    END LOOP;
    RETURN v_count;
END $$;

-- 012's record of outcomes, unchanged but for its last step: receipts that
-- came before the ids were recorded match on the sender too.
CREATE OR REPLACE FUNCTION tocsin_record_outcomes(p_worker text, p_ids bigint[], p_kinds text[],
                                                  p_provider_ids text[], p_codes text[], p_errors text[],
                                                  p_retry_ms int[], p_opt_outs boolean[])
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    v_changed int;
    v_receipt record;
    v_nestloop text := current_setting('enable_nestloop');
BEGIN
    PERFORM set_config('enable_nestloop', 'off', true);
    WITH o AS (
        SELECT * FROM unnest(p_ids, p_kinds, p_provider_ids, p_codes, p_errors, p_retry_ms, p_opt_outs)
                 AS t(id, kind, provider_id, code, error, retry_ms, opt_out)
    )
    UPDATE messages m SET
        state = CASE o.kind WHEN 'sent' THEN 'sent' WHEN 'retry' THEN 'queued'
                            WHEN 'failed' THEN 'failed' ELSE 'unknown' END,
        provider_message_id = CASE WHEN o.kind = 'sent' THEN o.provider_id ELSE m.provider_message_id END,
        error_code = CASE WHEN o.kind = 'sent' THEN NULL ELSE nullif(o.code, '') END,
        error_message = CASE WHEN o.kind = 'sent' THEN NULL ELSE nullif(o.error, '') END,
        not_before = CASE WHEN o.kind = 'retry'
                          THEN now() + make_interval(secs => greatest(o.retry_ms, 0) / 1000.0)
                          ELSE m.not_before END,
        request_sent_at = CASE WHEN o.kind = 'retry' THEN NULL ELSE coalesce(m.request_sent_at, now()) END,
        attempts = m.attempts + 1,
        claimed_by = CASE WHEN o.kind = 'retry' THEN NULL ELSE m.claimed_by END,
        lease_until = NULL,
        sent_at = CASE WHEN o.kind = 'sent' THEN now() ELSE m.sent_at END,
        finalized_at = CASE WHEN o.kind = 'failed' THEN now() ELSE m.finalized_at END,
        updated_at = now()
      FROM o
     WHERE m.id = ANY (p_ids) AND m.id = o.id  -- the ANY keeps it an index scan
       AND m.claimed_by = p_worker AND m.state IN ('sending', 'unknown');
    GET DIAGNOSTICS v_changed = ROW_COUNT;
    PERFORM set_config('enable_nestloop', v_nestloop, true);

    -- The carrier says these numbers opted out: record it and stop
    -- everything still queued for them.
    IF true = ANY (p_opt_outs) THEN
    WITH gone AS (
        SELECT DISTINCT m.org_id, m.to_phone, o.code
          FROM unnest(p_ids, p_opt_outs, p_codes) AS o(id, opt_out, code)
          JOIN messages m ON m.id = o.id
         WHERE o.opt_out AND m.id = ANY (p_ids)
    ), added AS (
        INSERT INTO opt_outs (org_id, phone, source, evidence)
        SELECT org_id, to_phone, 'carrier', 'carrier error ' || coalesce(code, '') FROM gone
        ON CONFLICT (org_id, phone) DO NOTHING
        RETURNING org_id, phone, evidence
    ), consent AS (
        INSERT INTO consent_events (org_id, phone, event, source, evidence)
        SELECT org_id, phone, 'opt_out', 'carrier', evidence FROM added
    )
    UPDATE messages m SET state = 'cancelled', updated_at = now(), finalized_at = now()
      FROM gone g
     WHERE m.org_id = g.org_id AND m.to_phone = g.to_phone AND m.state = 'queued';
    END IF;

    -- Receipts that came before this batch recorded its provider ids.
    IF NOT EXISTS (SELECT 1 FROM delivery_receipts_pending) THEN
        RETURN v_changed;
    END IF;
    FOR v_receipt IN
        DELETE FROM delivery_receipts_pending p
         USING messages m
         WHERE m.id = ANY (p_ids) AND m.provider_message_id IS NOT NULL
           AND p.provider = m.provider AND p.provider_message_id = m.provider_message_id
           AND p.sender_id = m.sender_id
        RETURNING p.*
    LOOP
        PERFORM tocsin_apply_receipt(v_receipt.provider, v_receipt.provider_message_id, v_receipt.sender_id,
                                     v_receipt.status, v_receipt.error_code, v_receipt.payload);
    END LOOP;
    RETURN v_changed;
END $$;
