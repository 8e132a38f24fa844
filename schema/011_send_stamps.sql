-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 011_send_stamps: a cheaper stamp before sending. tocsin_mark_going used
-- to write request_sent_at into every message just before it left: a
-- third row version per message (claim, stamp, outcome), with its index
-- updates and dead tuples in the claim index. Now it writes ONE row per
-- group into send_stamps — these messages, this worker, this instant —
-- and the outcome write sets request_sent_at and counts the attempt. The
-- lease sweep reads the stamps to decide 'queued' (provably never handed
-- to a carrier) or 'unknown'. A stamp counts only if it is newer than the
-- claim (messages.updated_at of a 'sending' row is its claim time: nothing
-- else writes a claimed row), so a message released or retried and
-- claimed again is not judged by an old stamp.

CREATE TABLE send_stamps (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    worker      text NOT NULL,
    message_ids bigint[] NOT NULL CHECK (cardinality(message_ids) BETWEEN 1 AND 10000),
    stamped_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX send_stamps_worker ON send_stamps (worker, stamped_at);

-- Just before the requests leave: suppresses any of the group whose number
-- opted out since the claim, records one stamp for the rest this worker
-- still holds, and returns their ids: those may be sent now.
CREATE OR REPLACE FUNCTION tocsin_mark_going(p_ids bigint[], p_worker text)
RETURNS SETOF bigint LANGUAGE plpgsql AS $$
DECLARE
    v_going bigint[];
BEGIN
    UPDATE messages m SET state = 'suppressed', error_message = 'the recipient opted out',
           lease_until = NULL, updated_at = now(), finalized_at = now()
     WHERE m.id = ANY (p_ids) AND m.state = 'sending' AND m.claimed_by = p_worker
       AND tocsin_message_blocked(m.org_id, m.to_phone, m.purpose);
    SELECT array_agg(m.id) INTO v_going FROM messages m
     WHERE m.id = ANY (p_ids) AND m.state = 'sending' AND m.claimed_by = p_worker;
    IF v_going IS NOT NULL THEN
        INSERT INTO send_stamps (worker, message_ids) VALUES (p_worker, v_going);
        RETURN QUERY SELECT unnest(v_going);
    END IF;
END $$;

-- Messages whose worker's lease ran out: never stamped since their claim
-- -> queued again; stamped -> unknown, for an operator to check (tocsinctl
-- messages requeue). Stamps older than any lease are pruned. Returns the
-- number of messages swept.
CREATE OR REPLACE FUNCTION tocsin_sweep_leases() RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    v_count int;
BEGIN
    WITH expired AS (
        SELECT m.id, m.claimed_by, m.updated_at, m.request_sent_at FROM messages m
         WHERE m.state = 'sending' AND m.lease_until < now()
           FOR UPDATE SKIP LOCKED
    ), judged AS (
        SELECT e.id, (e.request_sent_at IS NOT NULL
                      OR EXISTS (SELECT 1 FROM send_stamps s
                                  WHERE s.worker = e.claimed_by AND s.stamped_at >= e.updated_at
                                    AND e.id = ANY (s.message_ids))) AS may_have_gone
          FROM expired e
    )
    UPDATE messages m SET
        state = CASE WHEN j.may_have_gone THEN 'unknown' ELSE 'queued' END,
        claimed_by = CASE WHEN j.may_have_gone THEN m.claimed_by ELSE NULL END,
        request_sent_at = CASE WHEN j.may_have_gone THEN coalesce(m.request_sent_at, now()) ELSE NULL END,
        error_message = CASE WHEN j.may_have_gone THEN 'the worker was lost after the request was sent'
                             ELSE m.error_message END,
        lease_until = NULL, updated_at = now()
      FROM judged j
     WHERE m.id = j.id;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    DELETE FROM send_stamps WHERE stamped_at < now() - interval '2 hours';
    RETURN v_count;
END $$;

-- The outcome write now also records when the request went out and counts
-- the attempt (the stamp no longer touches the message row).
CREATE OR REPLACE FUNCTION tocsin_record_outcomes(p_worker text, p_ids bigint[], p_kinds text[],
                                       p_provider_ids text[], p_codes text[], p_errors text[],
                                       p_retry_ms int[], p_opt_outs boolean[])
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    v_changed int;
    v_receipt record;
BEGIN
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
     WHERE m.id = o.id AND m.claimed_by = p_worker AND m.state IN ('sending', 'unknown');
    GET DIAGNOSTICS v_changed = ROW_COUNT;

    -- The carrier says these numbers opted out: record it and stop
    -- everything still queued for them.
    IF true = ANY (p_opt_outs) THEN
    WITH gone AS (
        SELECT DISTINCT m.org_id, m.to_phone, o.code
          FROM unnest(p_ids, p_opt_outs, p_codes) AS o(id, opt_out, code)
          JOIN messages m ON m.id = o.id
         WHERE o.opt_out
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
        RETURNING p.*
    LOOP
        PERFORM tocsin_apply_receipt(v_receipt.provider, v_receipt.provider_message_id, v_receipt.status,
                                     v_receipt.error_code, v_receipt.payload);
    END LOOP;
    RETURN v_changed;
END $$;

