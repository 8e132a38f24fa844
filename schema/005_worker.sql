-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 005_worker: what tocsin-worker asks of the database, one function per
-- step of a message's trip out, so each step is one round trip and the
-- rules (opt-outs, quiet hours, paused blasts, leases) live next to the
-- data they read:
--
--   tocsin_claim         queued -> sending, for one sender, conversational
--                        lane first; opted-out numbers -> suppressed; bulk
--                        messages outside quiet hours wait (not_before).
--   tocsin_mark_going    records one send_stamps row just before a group
--                        of requests leaves (re-checking opt-outs): from
--                        then on a lost worker means 'unknown', never a
--                        resend.
--   tocsin_record_outcomes   sent / retry / failed / unknown, in one call
--                        per batch, with request_sent_at and the attempt,
--                        matching receipts that came early.
--   tocsin_sweep_leases  a dead worker's rows: back to queued when provably
--                        never sent, else unknown.
--   tocsin_dispatch_acquire  a renewable lease that makes one worker the
--                        dispatcher of a carrier account, so the rate limit
--                        is kept by one process without a round trip per
--                        message (docs/architecture.md explains why).

-- Quiet hours. A bulk message carries the zones its recipient may be in (a
-- known contact timezone, or every zone of the number's area) and the hour
-- its window ends (21, or 20 for Florida and Oklahoma). NULL zones: no
-- quiet hours (conversational messages, unknown places are resolved when
-- the message is queued).
ALTER TABLE messages
    ADD COLUMN recipient_zones text[] CHECK (cardinality(recipient_zones) BETWEEN 1 AND 8),
    ADD COLUMN quiet_end_hour smallint NOT NULL DEFAULT 21 CHECK (quiet_end_hour BETWEEN 9 AND 24);

-- The earliest instant at or after p_at at which the local time is within
-- [08:00, p_end_hour:00) in every one of p_zones (p_at itself when it
-- already is). Each pass moves the candidate to the next opening of the
-- first zone that is closed; zones of one country agree within a few
-- passes. NULL when no such instant exists within a week (zones too far
-- apart to share a window).
CREATE FUNCTION tocsin_quiet_window_start(p_zones text[], p_end_hour int, p_at timestamptz)
RETURNS timestamptz LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_at timestamptz := p_at;
    v_zone text;
    v_local timestamp;
    v_moved boolean;
BEGIN
    IF p_zones IS NULL THEN
        RETURN p_at;
    END IF;
    FOR pass IN 1..16 LOOP
        v_moved := false;
        FOREACH v_zone IN ARRAY p_zones LOOP
            v_local := v_at AT TIME ZONE v_zone;
            IF v_local < date_trunc('day', v_local) + interval '8 hours' THEN
                v_at := (date_trunc('day', v_local) + interval '8 hours') AT TIME ZONE v_zone;
                v_moved := true;
            ELSIF v_local >= date_trunc('day', v_local) + make_interval(hours => p_end_hour) THEN
                v_at := (date_trunc('day', v_local) + interval '1 day 8 hours') AT TIME ZONE v_zone;
                v_moved := true;
            END IF;
        END LOOP;
        IF NOT v_moved THEN
            RETURN v_at;
        END IF;
        IF v_at > p_at + interval '7 days' THEN
            RETURN NULL;
        END IF;
    END LOOP;
    RETURN NULL;
END $$;

-- Optional per-account limits (Twilio account SID), on top of each
-- sender's messages_per_second.
CREATE TABLE provider_account_limits (
    provider            text NOT NULL CHECK (provider IN ('twilio', 'telnyx')),
    account             text NOT NULL CHECK (length(account) BETWEEN 1 AND 100),
    messages_per_second numeric(8, 2) NOT NULL CHECK (messages_per_second > 0),
    PRIMARY KEY (provider, account)
);

-- Who dispatches which carrier account, until when.
CREATE TABLE dispatch_leases (
    account     text PRIMARY KEY,
    holder      text NOT NULL,
    lease_until timestamptz NOT NULL
);

-- Takes or renews the dispatcher lease of an account for p_seconds. True
-- when p_worker holds it afterwards.
CREATE FUNCTION tocsin_dispatch_acquire(p_account text, p_worker text, p_seconds int)
RETURNS boolean LANGUAGE sql AS $$
    INSERT INTO dispatch_leases AS l (account, holder, lease_until)
    VALUES (p_account, p_worker, now() + make_interval(secs => p_seconds))
    ON CONFLICT (account) DO UPDATE
       SET holder = EXCLUDED.holder, lease_until = EXCLUDED.lease_until
     WHERE l.holder = EXCLUDED.holder OR l.lease_until < now()
    RETURNING true
$$;

CREATE FUNCTION tocsin_dispatch_release(p_worker text) RETURNS void LANGUAGE sql AS $$
    DELETE FROM dispatch_leases WHERE holder = p_worker
$$;

-- Whether a message may still go to its number: nothing may, after an
-- opt-out, except the one confirmation of that opt-out.
CREATE FUNCTION tocsin_message_blocked(p_org bigint, p_phone text, p_purpose text)
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT p_purpose <> 'opt_out_confirmation'
       AND EXISTS (SELECT 1 FROM opt_outs o WHERE o.org_id = p_org AND o.phone = p_phone)
$$;

-- Blasts: expansion of due blasts and completion of finished ones. The
-- blast migration replaces this; the worker calls it once a second.
CREATE FUNCTION tocsin_blasts_tick(p_now timestamptz) RETURNS int LANGUAGE sql AS $$ SELECT 0 $$;

-- Claims up to p_limit due messages of one sender for p_worker, the
-- conversational lane first, oldest first, skipping rows another worker
-- holds. Opted-out numbers are suppressed here; bulk messages outside
-- their recipient's window get a later not_before and stay queued;
-- messages of a blast that is not 'sending' (paused, cancelled) are left
-- alone. Candidates that drop out make room for more, a bounded number of
-- times, so a queue whose head is out of its window does not starve the
-- rest. p_now is the worker's clock (injectable in tests); leases use the
-- database's.
CREATE FUNCTION tocsin_claim(p_sender bigint, p_worker text, p_limit int, p_now timestamptz,
                             p_lease_seconds int)
RETURNS TABLE (id bigint, to_phone text, body text, segments int, lane text, purpose text,
               validity_seconds int)
LANGUAGE plpgsql AS $$
DECLARE
    v_ids bigint[];
    v_more bigint[];
    v_claimed bigint[] := '{}';
    v_got bigint[];
BEGIN
    FOR pass IN 1..20 LOOP
        SELECT array_agg(c.id) INTO v_ids FROM (
            SELECT m.id FROM messages m
             WHERE m.sender_id = p_sender AND m.lane = 'conversational' AND m.state = 'queued'
               AND m.not_before <= p_now
             ORDER BY m.not_before, m.id LIMIT p_limit - cardinality(v_claimed)
               FOR UPDATE SKIP LOCKED) c;
        v_ids := coalesce(v_ids, '{}');
        IF cardinality(v_ids) < p_limit - cardinality(v_claimed) THEN
            SELECT array_agg(b.id) INTO v_more FROM (
                SELECT m.id FROM messages m
                 WHERE m.sender_id = p_sender AND m.lane = 'bulk' AND m.state = 'queued'
                   AND m.not_before <= p_now
                   AND (m.blast_id IS NULL
                        OR EXISTS (SELECT 1 FROM blasts bl WHERE bl.id = m.blast_id AND bl.state = 'sending'))
                 ORDER BY m.not_before, m.id LIMIT p_limit - cardinality(v_claimed) - cardinality(v_ids)
                   FOR UPDATE OF m SKIP LOCKED) b;
            v_ids := v_ids || coalesce(v_more, '{}');
        END IF;
        EXIT WHEN cardinality(v_ids) = 0;

        UPDATE messages m SET state = 'suppressed', error_message = 'the recipient opted out',
               updated_at = now(), finalized_at = now()
         WHERE m.id = ANY (v_ids) AND tocsin_message_blocked(m.org_id, m.to_phone, m.purpose);

        UPDATE messages m SET not_before = coalesce(w.opens, p_now + interval '1 day'), updated_at = now()
          FROM (SELECT x.id, tocsin_quiet_window_start(x.recipient_zones, x.quiet_end_hour, p_now) AS opens
                  FROM messages x
                 WHERE x.id = ANY (v_ids) AND x.state = 'queued' AND x.lane = 'bulk'
                   AND x.recipient_zones IS NOT NULL) w
         WHERE m.id = w.id AND w.opens IS DISTINCT FROM p_now;

        WITH c AS (
            UPDATE messages m SET state = 'sending', claimed_by = p_worker,
                   lease_until = now() + make_interval(secs => p_lease_seconds), updated_at = now()
             WHERE m.id = ANY (v_ids) AND m.state = 'queued' AND m.not_before <= p_now
            RETURNING m.id)
        SELECT array_agg(c.id) INTO v_got FROM c;
        v_claimed := v_claimed || coalesce(v_got, '{}');
        EXIT WHEN cardinality(v_claimed) >= p_limit;
    END LOOP;

    RETURN QUERY
    SELECT m.id, m.to_phone, m.body, m.segments, m.lane, m.purpose,
           CASE WHEN m.recipient_zones IS NULL THEN NULL
                ELSE greatest(60, least(14400, extract(epoch FROM
                     (SELECT min((date_trunc('day', p_now AT TIME ZONE z) + make_interval(hours => m.quiet_end_hour))
                                 AT TIME ZONE z) FROM unnest(m.recipient_zones) z) - p_now)::int)) END
      FROM messages m WHERE m.id = ANY (v_claimed)
     ORDER BY m.lane DESC, m.not_before, m.id;  -- 'conversational' sorts after 'bulk': DESC puts it first
END $$;

-- Gives back messages this worker claimed but never handed to a carrier
-- (a clean stop, a lost dispatcher lease): queued again, as if never
-- claimed. Returns the count.
CREATE FUNCTION tocsin_release_claims(p_ids bigint[], p_worker text) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    v_count int;
BEGIN
    UPDATE messages m SET state = 'queued', claimed_by = NULL, lease_until = NULL, request_sent_at = NULL,
           updated_at = now()
     WHERE m.id = ANY (p_ids) AND m.claimed_by = p_worker AND m.state = 'sending';
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END $$;

-- The stamp: one row per group of messages a worker is about to hand to a
-- carrier — which, who, when — instead of a write to every message (that
-- was a third row version per message, with its index updates, and cost
-- a quarter of the database's work per message). The lease sweep reads
-- the stamps to decide 'queued' (provably never handed over) or
-- 'unknown'. A stamp counts only if it is newer than the claim
-- (messages.updated_at of a 'sending' row is its claim time: nothing else
-- writes a claimed row), so a message released or retried and claimed
-- again is not judged by an old stamp.
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
CREATE FUNCTION tocsin_mark_going(p_ids bigint[], p_worker text)
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

-- The outcome of a batch of sends (parallel arrays, one element per
-- message). p_kinds: 'sent' (p_provider_ids set), 'retry' (provably not
-- processed: queued again after p_retry_ms), 'failed' (refused for good),
-- 'unknown' (may have gone out: never resent automatically). p_opt_outs
-- marks recipients the carrier reports as opted out (Twilio 21610).
-- Receipts that arrived before the provider id was known are applied.
-- Returns how many rows changed.
CREATE FUNCTION tocsin_record_outcomes(p_worker text, p_ids bigint[], p_kinds text[],
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

-- Messages whose worker's lease ran out: never stamped since their claim
-- -> queued again; stamped -> unknown, for an operator to check (tocsinctl
-- messages requeue). Stamps older than any lease are pruned. Returns the
-- number of messages swept.
CREATE FUNCTION tocsin_sweep_leases() RETURNS int LANGUAGE plpgsql AS $$
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

-- What the worker dispatches: senders with due messages, with their
-- account key (the unit of the dispatcher lease and of account limits).
CREATE FUNCTION tocsin_sender_account(p_provider text, p_account_sid text, p_sender bigint)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_account_sid IS NOT NULL THEN p_provider || ':' || p_account_sid
                ELSE p_provider || ':sender:' || p_sender END
$$;
