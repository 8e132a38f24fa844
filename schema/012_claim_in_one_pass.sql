-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 012_claim_in_one_pass: the worker's claim and stamp (005) with the same
-- meaning and less work per message. Measured on the outbound benchmark,
-- the database spent ~39 us per message claiming and ~26 us stamping:
-- each claimed row was visited by five statements, and the opt-out check
-- went through tocsin_message_blocked, an SQL function with a subquery,
-- which PostgreSQL cannot inline and so runs as a function call per row.
-- Now a pass of the claim is two selects (one per lane) and ONE update that
-- decides per row between suppressed (opted out), deferred (outside its
-- quiet-hours window: a later not_before, still queued) and sending, and
-- returns what it claimed; the stamp reads each message once and writes
-- only the opted-out ones. tocsin_message_blocked stays for the callers
-- that check one message at a time.

CREATE OR REPLACE FUNCTION tocsin_claim(p_sender bigint, p_worker text, p_limit int, p_now timestamptz,
                                        p_lease_seconds int)
RETURNS TABLE (id bigint, to_phone text, body text, segments int, lane text, purpose text,
               validity_seconds int)
LANGUAGE plpgsql AS $$
DECLARE
    v_ids bigint[];
    v_more bigint[];
    v_claimed int := 0;
    v_got int;
BEGIN
    -- Candidates that drop out (suppressed, deferred) make room for more, a
    -- bounded number of times, so a queue whose head is out of its window
    -- does not starve the rest. Rows come back ordered within a pass:
    -- conversational first, then oldest first.
    FOR pass IN 1..20 LOOP
        SELECT array_agg(c.id) INTO v_ids FROM (
            SELECT m.id FROM messages m
             WHERE m.sender_id = p_sender AND m.lane = 'conversational' AND m.state = 'queued'
               AND m.not_before <= p_now
             ORDER BY m.not_before, m.id LIMIT p_limit - v_claimed
               FOR UPDATE SKIP LOCKED) c;
        v_ids := coalesce(v_ids, '{}');
        IF cardinality(v_ids) < p_limit - v_claimed THEN
            SELECT array_agg(b.id) INTO v_more FROM (
                SELECT m.id FROM messages m
                 WHERE m.sender_id = p_sender AND m.lane = 'bulk' AND m.state = 'queued'
                   AND m.not_before <= p_now
                   AND (m.blast_id IS NULL
                        OR EXISTS (SELECT 1 FROM blasts bl WHERE bl.id = m.blast_id AND bl.state = 'sending'))
                 ORDER BY m.not_before, m.id LIMIT p_limit - v_claimed - cardinality(v_ids)
                   FOR UPDATE OF m SKIP LOCKED) b;
            v_ids := v_ids || coalesce(v_more, '{}');
        END IF;
        EXIT WHEN cardinality(v_ids) = 0;

        RETURN QUERY
        WITH judged AS (
            SELECT x.id,
                   x.purpose <> 'opt_out_confirmation'
                   AND EXISTS (SELECT 1 FROM opt_outs o WHERE o.org_id = x.org_id AND o.phone = x.to_phone)
                       AS blocked,
                   CASE WHEN x.lane = 'bulk' AND x.recipient_zones IS NOT NULL
                        THEN tocsin_quiet_window_start(x.recipient_zones, x.quiet_end_hour, p_now)
                        ELSE p_now END AS opens
              FROM messages x
             WHERE x.id = ANY (v_ids) AND x.state = 'queued' AND x.not_before <= p_now),
        done AS (
            UPDATE messages m SET
                state = CASE WHEN j.blocked THEN 'suppressed'
                             WHEN j.opens IS DISTINCT FROM p_now THEN 'queued' ELSE 'sending' END,
                error_message = CASE WHEN j.blocked THEN 'the recipient opted out' ELSE m.error_message END,
                finalized_at = CASE WHEN j.blocked THEN now() ELSE m.finalized_at END,
                not_before = CASE WHEN NOT j.blocked AND j.opens IS DISTINCT FROM p_now
                                  THEN coalesce(j.opens, p_now + interval '1 day') ELSE m.not_before END,
                claimed_by = CASE WHEN j.blocked OR j.opens IS DISTINCT FROM p_now THEN m.claimed_by
                                  ELSE p_worker END,
                lease_until = CASE WHEN j.blocked OR j.opens IS DISTINCT FROM p_now THEN m.lease_until
                                   ELSE now() + make_interval(secs => p_lease_seconds) END,
                updated_at = now()
              FROM judged j
             WHERE m.id = ANY (v_ids) AND m.id = j.id  -- the ANY keeps it an index scan
            RETURNING m.id, m.to_phone, m.body, m.segments, m.lane, m.purpose, m.state, m.not_before,
                      m.recipient_zones, m.quiet_end_hour)
        SELECT d.id, d.to_phone, d.body, d.segments, d.lane, d.purpose,
               CASE WHEN d.recipient_zones IS NULL THEN NULL
                    ELSE greatest(60, least(14400, extract(epoch FROM
                         (SELECT min((date_trunc('day', p_now AT TIME ZONE z) + make_interval(hours => d.quiet_end_hour))
                                     AT TIME ZONE z) FROM unnest(d.recipient_zones) z) - p_now)::int)) END
          FROM done d
         WHERE d.state = 'sending'
         ORDER BY d.lane DESC, d.not_before, d.id;  -- 'conversational' sorts after 'bulk': DESC puts it first
        GET DIAGNOSTICS v_got = ROW_COUNT;
        v_claimed := v_claimed + v_got;
        EXIT WHEN v_claimed >= p_limit;
    END LOOP;
END $$;

CREATE OR REPLACE FUNCTION tocsin_mark_going(p_ids bigint[], p_worker text)
RETURNS SETOF bigint LANGUAGE plpgsql AS $$
DECLARE
    v_going bigint[];
    v_blocked bigint[];
BEGIN
    SELECT array_agg(x.id) FILTER (WHERE NOT x.blocked), array_agg(x.id) FILTER (WHERE x.blocked)
      INTO v_going, v_blocked
      FROM (SELECT m.id,
                   m.purpose <> 'opt_out_confirmation'
                   AND EXISTS (SELECT 1 FROM opt_outs o WHERE o.org_id = m.org_id AND o.phone = m.to_phone)
                       AS blocked
              FROM messages m
             WHERE m.id = ANY (p_ids) AND m.state = 'sending' AND m.claimed_by = p_worker) x;
    IF v_blocked IS NOT NULL THEN
        UPDATE messages m SET state = 'suppressed', error_message = 'the recipient opted out',
               lease_until = NULL, updated_at = now(), finalized_at = now()
         WHERE m.id = ANY (v_blocked) AND m.state = 'sending' AND m.claimed_by = p_worker;
    END IF;
    IF v_going IS NOT NULL THEN
        INSERT INTO send_stamps (worker, message_ids) VALUES (p_worker, v_going);
        RETURN QUERY SELECT unnest(v_going);
    END IF;
END $$;

-- The outcome of a batch of sends, as in 005, with the row lookup pinned to
-- the primary key. The statistics of messages usually say that almost no
-- row is 'sending' (they are taken while a blast waits), and on a batch of
-- 1,000 outcomes 005's update was planned as a scan of the whole table
-- in a nested loop with the batch, and with the lookup by key still as a
-- nested loop that rescans the batch for every row: 280 ms, where a hash
-- join takes a few. Nested loops are off for that one statement (a
-- setting on the whole function would also turn the cancel below, which
-- wants the index of queued messages per number, into a scan of them all).
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
        RETURNING p.*
    LOOP
        PERFORM tocsin_apply_receipt(v_receipt.provider, v_receipt.provider_message_id, v_receipt.status,
                                     v_receipt.error_code, v_receipt.payload);
    END LOOP;
    RETURN v_changed;
END $$;
