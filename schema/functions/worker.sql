-- SPDX-License-Identifier: AGPL-3.0-or-later
-- worker: what the sending worker calls — the claim of due messages and
-- its stamp, outcomes, leases and their sweep, dispatch slots per sender,
-- quiet-hours windows, and the blast tick.
--
-- A repeatable file: edited in place; tocsinctl migrate applies it again
-- when it changes (schema/README.md).

-- The earliest instant at or after p_at at which the local time is within
-- [p_start_hour:00, p_end_hour:00) in every one of p_zones (p_at itself
-- when it already is); the start is 08:00 unless an org's texting hours
-- start later (schema 028). Each pass moves the candidate to the next
-- opening of the first zone that is closed; zones of one country agree
-- within a few passes. NULL when no such instant exists within a week
-- (zones too far apart to share a window).
DROP FUNCTION IF EXISTS tocsin_quiet_window_start(text[], int, timestamptz);
CREATE OR REPLACE FUNCTION tocsin_quiet_window_start(p_zones text[], p_end_hour int, p_at timestamptz,
                                                     p_start_hour int DEFAULT 8)
RETURNS timestamptz LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_at timestamptz := p_at;
    v_start interval := make_interval(hours => p_start_hour);
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
            IF v_local < date_trunc('day', v_local) + v_start THEN
                v_at := (date_trunc('day', v_local) + v_start) AT TIME ZONE v_zone;
                v_moved := true;
            ELSIF v_local >= date_trunc('day', v_local) + make_interval(hours => p_end_hour) THEN
                v_at := (date_trunc('day', v_local) + interval '1 day' + v_start) AT TIME ZONE v_zone;
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

-- Takes or renews the dispatcher lease of an account for p_seconds. True
-- when p_worker holds it afterwards.
CREATE OR REPLACE FUNCTION tocsin_dispatch_acquire(p_account text, p_worker text, p_seconds int)
RETURNS boolean LANGUAGE sql AS $$
    INSERT INTO dispatch_leases AS l (account, holder, lease_until)
    VALUES (p_account, p_worker, now() + make_interval(secs => p_seconds))
    ON CONFLICT (account) DO UPDATE
       SET holder = EXCLUDED.holder, lease_until = EXCLUDED.lease_until
     WHERE l.holder = EXCLUDED.holder OR l.lease_until < now()
    RETURNING true
$$;

CREATE OR REPLACE FUNCTION tocsin_dispatch_release(p_worker text) RETURNS void LANGUAGE sql AS $$
    DELETE FROM dispatch_leases WHERE holder = p_worker
$$;

-- Whether a message may still go to its number: nothing may, after an
-- opt-out, except the one confirmation of that opt-out.
CREATE OR REPLACE FUNCTION tocsin_message_blocked(p_org bigint, p_phone text, p_purpose text)
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT p_purpose <> 'opt_out_confirmation'
       AND EXISTS (SELECT 1 FROM opt_outs o WHERE o.org_id = p_org AND o.phone = p_phone)
$$;

-- The outbox (034) follows messages without a trigger on their updates
-- (one would run for every outcome): a message inserted queued gets its
-- row from the statement trigger below; whatever else puts a message back
-- into the queue (a retry, a release, the sweep, the claim's deferral,
-- tocsinctl messages requeue) inserts its row itself (all but the
-- deferral through tocsin_outbox_put_back), and whatever takes one out of it (a
-- blast cancel, STOP, forget, an opt-out) calls tocsin_unqueue.
CREATE OR REPLACE FUNCTION tocsin_outbox_fill() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO outbox (id, sender_id, lane, not_before, blast_id)
    SELECT n.id, n.sender_id, n.lane, n.not_before, n.blast_id FROM new_rows n WHERE n.state = 'queued';
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER messages_outbox_fill AFTER INSERT ON messages
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tocsin_outbox_fill();

-- A message deleted takes its outbox row along: an outbox row always has
-- its message.
CREATE OR REPLACE FUNCTION tocsin_outbox_forget() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM outbox o USING old_rows d WHERE o.id = d.id AND d.state = 'queued';
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER messages_outbox_forget AFTER DELETE ON messages
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION tocsin_outbox_forget();

-- The row triggers of the first outbox draft, which ran on every update of
-- messages (gone from databases that had them).
DROP TRIGGER IF EXISTS messages_outbox_follow ON messages;
DROP TRIGGER IF EXISTS messages_outbox_cancel ON messages;
DROP FUNCTION IF EXISTS tocsin_outbox_follow();
DROP FUNCTION IF EXISTS tocsin_outbox_cancel();

-- Cancels those of p_ids still waiting in the outbox (a blast cancelled,
-- STOP, a member forgotten, an opt-out recorded by a volunteer, an import
-- or a carrier): their outbox rows are deleted first, and only the
-- messages whose row this deleted become 'cancelled' (error_message
-- p_error, or left as it was when NULL). A queued message without an
-- outbox row is in flight: the worker owns it until its outcome, the
-- stamp re-checks opt-outs before it goes, and it is skipped here, as
-- 'sending' was before 034. A claim racing this waits for it or skips the
-- row (SKIP LOCKED), so a message is either cancelled or claimed, never
-- both. Every site that takes queued messages out of the queue calls this;
-- none updates them directly. Returns the number cancelled.
CREATE OR REPLACE FUNCTION tocsin_unqueue(p_ids bigint[], p_error text) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    v_taken bigint[];
    v_count int;
BEGIN
    IF cardinality(p_ids) > 0 THEN
        -- Locked in id order: two cancellations of the same messages (a
        -- blast cancel and a STOP) wait for each other instead of
        -- deadlocking. Deleted by the addresses (ctid) the locking scan
        -- found, as the claim does: a join back by id let the planner
        -- read the whole outbox to cancel a few of its rows (a locked row
        -- cannot move before this statement deletes it: nothing updates
        -- outbox rows).
        WITH d AS (DELETE FROM outbox o
                    WHERE o.ctid = ANY (ARRAY(SELECT l.ctid FROM outbox l WHERE l.id = ANY (p_ids)
                                               ORDER BY l.id FOR UPDATE))
                   RETURNING o.id)
        SELECT array_agg(d.id) INTO v_taken FROM d;
    END IF;
    IF v_taken IS NULL THEN
        RETURN 0;
    END IF;
    UPDATE messages m SET state = 'cancelled', error_message = coalesce(p_error, m.error_message),
           updated_at = now(), finalized_at = now()
     WHERE m.id = ANY (v_taken) AND m.state = 'queued';
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END $$;

-- Puts p_ids (queued messages in flight, locked by the caller) back into
-- the outbox: a retry, a release, the lease sweep, and the operator's
-- requeue of unknown ones (tocsin_messages_requeue, which has just made
-- them 'queued'). Their state does not change here, and no trigger
-- tells the dashboard of a state turned 'queued' (messages_state_notify); what a
-- reader is shown does (tocsin_message_shown_state: 'sending' becomes
-- 'queued'), so each conversation among them hears one "status" event,
-- however many of its messages came back: one lookup of the rows put
-- back, one NOTIFY per conversation, nothing per message. A blast's
-- messages have no conversation and cost nothing more. Returns the
-- number put back (one already in the outbox is left as it is).
CREATE OR REPLACE FUNCTION tocsin_outbox_put_back(p_ids bigint[]) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    v_count int;
    v_convs bigint[];
BEGIN
    IF p_ids IS NULL OR cardinality(p_ids) = 0 THEN
        RETURN 0;
    END IF;
    -- The conversations are those of all p_ids: the callers pass only
    -- messages in flight, so a row already in the outbox (ON CONFLICT)
    -- is an exception, and an event too many only makes a page look again.
    WITH m AS (
        SELECT m.id, m.sender_id, m.lane, m.not_before, m.blast_id, m.conversation_id
          FROM messages m WHERE m.id = ANY (p_ids)
    ), back AS (
        INSERT INTO outbox (id, sender_id, lane, not_before, blast_id)
        SELECT m.id, m.sender_id, m.lane, m.not_before, m.blast_id FROM m
        ON CONFLICT (id) DO NOTHING
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM back),
           (SELECT array_agg(DISTINCT m.conversation_id) FROM m WHERE m.conversation_id IS NOT NULL)
      INTO v_count, v_convs;
    IF v_convs IS NOT NULL THEN
        PERFORM tocsin_conversations_status_notify(v_convs);
    END IF;
    RETURN v_count;
END $$;

-- In-flight messages are counted 'sending' in their blast's counters
-- although their state stays 'queued': the claim moves them (p_sign 1),
-- and whatever else ends their flight (release, sweep, suppression) moves
-- them back (p_sign -1) before the state change counts them. An outcome
-- counts both in its own statement (tocsin_record_outcomes).
CREATE OR REPLACE FUNCTION tocsin_outbox_count_flight(p_ids bigint[], p_sign int) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO blast_counter_deltas (blast_id, queued, sending)
    SELECT m.blast_id, -p_sign * count(*), p_sign * count(*)
      FROM unnest(p_ids) AS i(id)
      JOIN messages m ON m.id = i.id  -- by key: the index on (blast_id, state) would read every queued one
     WHERE m.blast_id IS NOT NULL AND m.state = 'queued'
     GROUP BY m.blast_id
$$;

-- Which of p_ids p_worker holds in a live claim, with the claim: bounded
-- by the claims' id ranges first, then matched by hashing (an array
-- overlap test would compare every pair).
CREATE OR REPLACE FUNCTION tocsin_claims_held(p_worker text, p_ids bigint[])
RETURNS TABLE (claim_id bigint, id bigint, blasts boolean) LANGUAGE sql STABLE AS $$
    SELECT c.id, x.id, c.blasts
      FROM claims c CROSS JOIN LATERAL unnest(c.message_ids) AS x(id)
     WHERE c.worker = p_worker
       AND c.lo <= (SELECT max(i) FROM unnest(p_ids) i) AND c.hi >= (SELECT min(i) FROM unnest(p_ids) i)
       AND x.id IN (SELECT i FROM unnest(p_ids) i)
$$;

-- p_ids leave p_worker's claims (a retry, a release, a suppression at the
-- stamp): taken out of the arrays, open counted down, a claim left empty
-- deleted. Returns the ids taken. Rare: the common end of a flight is an
-- outcome, which only counts down (tocsin_claims_settle).
CREATE OR REPLACE FUNCTION tocsin_claims_take(p_worker text, p_ids bigint[]) RETURNS bigint[]
LANGUAGE plpgsql AS $$
DECLARE
    v_taken bigint[];
BEGIN
    WITH h AS (
        SELECT * FROM tocsin_claims_held(p_worker, p_ids)
    ), c AS (
        SELECT k.id, k.message_ids, k.open, (SELECT count(*) FROM h WHERE h.claim_id = k.id) AS n
          FROM claims k WHERE k.id IN (SELECT h.claim_id FROM h)
           FOR UPDATE
    ), upd AS (
        UPDATE claims k SET message_ids = array(SELECT unnest(c.message_ids) EXCEPT SELECT unnest(p_ids)),
               open = c.open - c.n
          FROM c WHERE k.id = c.id AND c.open > c.n
    ), del AS (
        DELETE FROM claims k USING c WHERE k.id = c.id AND c.open <= c.n
    )
    SELECT array_agg(h.id) INTO v_taken FROM h;
    RETURN coalesce(v_taken, '{}');
END $$;

-- Outcomes recorded: p_claims (one entry per message, repeats allowed)
-- count down; a claim at 0 is deleted.
CREATE OR REPLACE FUNCTION tocsin_claims_settle(p_claims bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    WITH s AS (
        SELECT c AS claim_id, count(*) AS n FROM unnest(p_claims) c GROUP BY c
    ), upd AS (
        UPDATE claims k SET open = k.open - s.n FROM s WHERE k.id = s.claim_id AND k.open > s.n
    )
    DELETE FROM claims k USING s WHERE k.id = s.claim_id AND k.open <= s.n;
END $$;

-- Gives back messages this worker claimed but never handed to a carrier
-- (a clean stop, a lost dispatcher lease): into the outbox again, as if
-- never claimed. Returns the count.
DROP FUNCTION IF EXISTS tocsin_release_claims(bigint[], text);
CREATE OR REPLACE FUNCTION tocsin_release_claims(p_ids bigint[], p_worker text) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    v_mine bigint[] := tocsin_claims_take(p_worker, p_ids);
    v_back bigint[];
BEGIN
    SELECT array_agg(q.id) INTO v_back
      FROM (SELECT m.id FROM messages m WHERE m.id = ANY (v_mine) AND m.state = 'queued' FOR UPDATE) q;
    IF v_back IS NULL THEN
        RETURN 0;
    END IF;
    PERFORM tocsin_outbox_count_flight(v_back, -1);
    PERFORM tocsin_outbox_put_back(v_back);
    RETURN cardinality(v_back);
END $$;

-- Claims whose lease ran out: a message never stamped since its claim
-- goes back into the outbox; a stamped one becomes unknown, for an
-- operator to check (tocsinctl messages requeue). Stamps older than any
-- lease are pruned. Returns the number of messages swept.
CREATE OR REPLACE FUNCTION tocsin_sweep_leases() RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    v_gone bigint[];
    v_workers text[];
    v_back bigint[];
BEGIN
    WITH expired AS (
        DELETE FROM claims c
         WHERE c.id IN (SELECT e.id FROM claims e WHERE e.lease_until < now() FOR UPDATE SKIP LOCKED)
        RETURNING c.worker, c.claimed_at, c.message_ids
    ), flying AS (
        SELECT x.id, e.worker, e.claimed_at FROM expired e, unnest(e.message_ids) x(id)
          JOIN messages m ON m.id = x.id
         WHERE m.state = 'queued' AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.id = x.id)
    ), judged AS (
        SELECT f.id, f.worker, EXISTS (SELECT 1 FROM send_stamps s
                              WHERE s.worker = f.worker AND s.stamped_at >= f.claimed_at
                                AND f.id = ANY (s.message_ids)) AS may_have_gone
          FROM flying f
    )
    SELECT array_agg(j.id) FILTER (WHERE j.may_have_gone), array_agg(j.worker) FILTER (WHERE j.may_have_gone),
           array_agg(j.id) FILTER (WHERE NOT j.may_have_gone)
      INTO v_gone, v_workers, v_back FROM judged j;
    IF v_gone IS NOT NULL THEN
        PERFORM tocsin_outbox_count_flight(v_gone, -1);
        UPDATE messages m SET state = 'unknown', claimed_by = g.worker,
               request_sent_at = coalesce(m.request_sent_at, now()),
               error_message = 'the worker was lost after the request was sent', updated_at = now()
          FROM unnest(v_gone, v_workers) AS g(id, worker)
         WHERE m.id = ANY (v_gone) AND m.id = g.id AND m.state = 'queued';
    END IF;
    IF v_back IS NOT NULL THEN
        -- Locked and checked again: an outcome being recorded now wins.
        SELECT array_agg(q.id) INTO v_back
          FROM (SELECT m.id FROM messages m WHERE m.id = ANY (v_back) AND m.state = 'queued' FOR UPDATE) q;
        PERFORM tocsin_outbox_count_flight(v_back, -1);
        PERFORM tocsin_outbox_put_back(v_back);
    END IF;
    DELETE FROM send_stamps WHERE stamped_at < now() - interval '2 hours';
    RETURN coalesce(cardinality(v_gone), 0) + coalesce(cardinality(v_back), 0);
END $$;

-- What the worker dispatches: senders with due messages, with their
-- account key (the unit of the dispatcher lease and of account limits).
CREATE OR REPLACE FUNCTION tocsin_sender_account(p_provider text, p_account_sid text, p_sender bigint)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_account_sid IS NOT NULL THEN p_provider || ':' || p_account_sid
                ELSE p_provider || ':sender:' || p_sender END
$$;

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
    -- conversational first, then oldest first. Taking a candidate is
    -- deleting its outbox row: from then on the message is this worker's
    -- (a cancellation skips it), until its outcome, its release or the
    -- sweep of its claim. The rows are deleted by the addresses (ctid)
    -- the locking scan found: a join back by id let the planner scan the
    -- whole outbox, dead rows included, on every claim (43 million rows
    -- read for 240 claims in a test database); a locked row cannot move
    -- before this statement deletes it.
    FOR pass IN 1..20 LOOP
        WITH c AS (
            DELETE FROM outbox q WHERE q.ctid = ANY (ARRAY(
                SELECT o.ctid FROM outbox o
                 WHERE o.sender_id = p_sender AND o.lane = 'conversational' AND o.not_before <= p_now
                 ORDER BY o.not_before, o.id LIMIT p_limit - v_claimed
                   FOR UPDATE SKIP LOCKED))
            RETURNING q.id)
        SELECT array_agg(c.id) INTO v_ids FROM c;
        v_ids := coalesce(v_ids, '{}');
        IF cardinality(v_ids) < p_limit - v_claimed THEN
            WITH c AS (
                DELETE FROM outbox q WHERE q.ctid = ANY (ARRAY(
                    SELECT o.ctid FROM outbox o
                     WHERE o.sender_id = p_sender AND o.lane = 'bulk' AND o.not_before <= p_now
                       AND (o.blast_id IS NULL
                            OR EXISTS (SELECT 1 FROM blasts bl WHERE bl.id = o.blast_id AND bl.state = 'sending'))
                     ORDER BY o.not_before, o.id LIMIT p_limit - v_claimed - cardinality(v_ids)
                       FOR UPDATE OF o SKIP LOCKED))
                RETURNING q.id)
            SELECT array_agg(c.id) INTO v_more FROM c;
            v_ids := v_ids || coalesce(v_more, '{}');
        END IF;
        EXIT WHEN cardinality(v_ids) = 0;

        -- The checks of the claim, each run once for a candidate: its
        -- opt-out as a join (an EXISTS here would be copied into every
        -- CASE below that reads it), and the opening of its quiet-hours
        -- window in a subquery the planner keeps (OFFSET 0) for the same
        -- reason. A candidate no longer queued (its outbox row outlived a
        -- state change) just leaves the outbox. An opted-out one is
        -- suppressed; one outside its window goes back to the outbox at
        -- its opening; the rest are claimed, one claims row for them all.
        RETURN QUERY
        WITH judged AS (
            SELECT x.id, x.to_phone, x.body, x.segments, x.lane, x.purpose, x.not_before, x.sender_id,
                   x.blast_id, x.recipient_zones, x.quiet_end_hour, o.phone IS NOT NULL AS blocked, w.opens
              FROM messages x
              LEFT JOIN opt_outs o ON o.org_id = x.org_id AND o.phone = x.to_phone
                                  AND x.purpose <> 'opt_out_confirmation'
             CROSS JOIN LATERAL (
                   -- quiet hours
                   SELECT CASE WHEN x.lane = 'bulk' AND x.recipient_zones IS NOT NULL
                               THEN tocsin_quiet_window_start(x.recipient_zones, x.quiet_end_hour, p_now,
                                                              x.quiet_start_hour)
                               ELSE p_now END AS opens
                   OFFSET 0) w
             WHERE x.id = ANY (v_ids) AND x.state = 'queued'),
        suppressed AS (
            UPDATE messages m SET state = 'suppressed', error_message = 'the recipient opted out',
                   finalized_at = now(), updated_at = now()
              FROM judged j
             WHERE m.id = ANY (v_ids) AND m.id = j.id AND j.blocked  -- the ANY keeps it an index scan
            RETURNING m.id),
        deferred AS (
            UPDATE messages m SET not_before = coalesce(j.opens, p_now + interval '1 day'), updated_at = now()
              FROM judged j
             WHERE m.id = ANY (v_ids) AND m.id = j.id AND NOT j.blocked AND j.opens IS DISTINCT FROM p_now
            RETURNING m.id, m.sender_id, m.lane, m.not_before, m.blast_id),
        back AS (
            INSERT INTO outbox (id, sender_id, lane, not_before, blast_id)
            SELECT d.id, d.sender_id, d.lane, d.not_before, d.blast_id FROM deferred d),
        going AS (
            SELECT j.* FROM judged j WHERE NOT j.blocked AND j.opens IS NOT DISTINCT FROM p_now),
        claim AS (
            INSERT INTO claims (worker, message_ids, lo, hi, open, blasts, lease_until)
            SELECT p_worker, array_agg(g.id), min(g.id), max(g.id), count(*), bool_or(g.blast_id IS NOT NULL),
                   now() + make_interval(secs => p_lease_seconds)
              FROM going g HAVING count(*) > 0),
        counted AS (
            INSERT INTO blast_counter_deltas (blast_id, queued, sending)
            SELECT g.blast_id, -count(*), count(*) FROM going g WHERE g.blast_id IS NOT NULL
             GROUP BY g.blast_id)
        SELECT d.id, d.to_phone, d.body, d.segments, d.lane, d.purpose,
               CASE WHEN d.recipient_zones IS NULL THEN NULL
                    ELSE greatest(60, least(14400, extract(epoch FROM
                         (SELECT min((date_trunc('day', p_now AT TIME ZONE z) + make_interval(hours => d.quiet_end_hour))
                                     AT TIME ZONE z) FROM unnest(d.recipient_zones) z) - p_now)::int)) END
          FROM going d
         ORDER BY d.lane DESC, d.not_before, d.id;  -- 'conversational' sorts after 'bulk': DESC puts it first
        GET DIAGNOSTICS v_got = ROW_COUNT;
        v_claimed := v_claimed + v_got;
        EXIT WHEN v_claimed >= p_limit;
    END LOOP;
END $$;

-- The stamp: which of p_ids (claimed by p_worker, still queued) go to the
-- carrier now, committed before any request. One opted out since its
-- claim is suppressed instead. The conversations of those going hear a
-- "status" event (they show 'sending' from now; nothing else writes them
-- until the outcome).
CREATE OR REPLACE FUNCTION tocsin_mark_going(p_ids bigint[], p_worker text)
RETURNS SETOF bigint LANGUAGE plpgsql AS $$
DECLARE
    v_held bigint[];
    v_going bigint[];
    v_blocked bigint[];
    v_convs bigint[];
BEGIN
    SELECT array_agg(h.id) INTO v_held FROM tocsin_claims_held(p_worker, p_ids) h;
    SELECT array_agg(x.id) FILTER (WHERE NOT x.blocked), array_agg(x.id) FILTER (WHERE x.blocked),
           array_agg(x.conversation_id) FILTER (WHERE NOT x.blocked AND x.conversation_id IS NOT NULL)
      INTO v_going, v_blocked, v_convs
      FROM (SELECT m.id, m.org_id, m.conversation_id,
                   m.purpose <> 'opt_out_confirmation'
                   AND EXISTS (SELECT 1 FROM opt_outs o WHERE o.org_id = m.org_id AND o.phone = m.to_phone)
                       AS blocked
              FROM unnest(v_held) AS i(id)
              JOIN messages m ON m.id = i.id  -- by key: a partial index on state would read every claim
             WHERE m.state = 'queued') x;
    IF v_blocked IS NOT NULL THEN
        PERFORM tocsin_claims_take(p_worker, v_blocked);
        PERFORM tocsin_outbox_count_flight(v_blocked, -1);
        UPDATE messages m SET state = 'suppressed', error_message = 'the recipient opted out',
               updated_at = now(), finalized_at = now()
         WHERE m.id = ANY (v_blocked) AND m.state = 'queued';
    END IF;
    IF v_convs IS NOT NULL THEN
        PERFORM tocsin_conversations_status_notify(v_convs);
    END IF;
    IF v_going IS NOT NULL THEN
        INSERT INTO send_stamps (worker, message_ids) VALUES (p_worker, v_going);
        RETURN QUERY SELECT unnest(v_going);
    END IF;
END $$;

-- The tick of 006, with the expansion split: due blasts get their
-- audience fixed; sending blasts whose due queued messages run below
-- tocsin_blast_feed_ahead are fed whole chunks. Queued messages waiting
-- for the recipient's morning do not count as due, so a blast whose first
-- chunks are all outside quiet hours keeps feeding the others; nor do
-- those in flight (claimed, out of the outbox), as 'sending' did not.
CREATE OR REPLACE FUNCTION tocsin_blasts_tick(p_now timestamptz) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    v_id bigint;
    v_count int;
    v_done int := 0;
    v_error text;
    v_org bigint;
    v_b record;
    v_want int;
    v_due int;
BEGIN
    FOR v_id IN
        UPDATE blasts b SET state = 'expanding'
         WHERE b.id IN (SELECT d.id FROM blasts d WHERE d.state = 'scheduled' AND d.scheduled_at <= p_now
                         ORDER BY d.scheduled_at, d.id FOR UPDATE SKIP LOCKED)
        RETURNING b.id
    LOOP
        BEGIN
            v_count := tocsin_blast_snapshot(v_id);
            -- An audience grown past its approval goes back to draft.
            PERFORM tocsin_blast_check_approval(v_id, v_count);
            UPDATE blasts SET state = 'sending', recipients = v_count, queued = v_count, unfed = v_count,
                   started_at = p_now
             WHERE id = v_id;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS v_error = MESSAGE_TEXT;
            UPDATE blasts SET state = 'draft' WHERE id = v_id RETURNING org_id INTO v_org;
            PERFORM tocsin_blast_audit(v_org, NULL, 'blast.expand_failed', v_id,
                                       jsonb_build_object('error', v_error));
        END;
        v_done := v_done + 1;
    END LOOP;
    PERFORM tocsin_blast_fold_counters();
    FOR v_b IN
        SELECT b.id, b.org_id, s.messages_per_second AS mps
          FROM blasts b JOIN senders s ON s.id = b.sender_id
         WHERE b.state = 'sending' AND b.unfed > 0
         ORDER BY b.started_at, b.id
    LOOP
        v_want := tocsin_blast_feed_ahead(v_b.mps);
        -- Due queued messages of the blast, looking at no more than twice
        -- what is wanted (the rest may wait for the morning). Due means
        -- in the outbox (found by outbox_blast), by its not_before (the
        -- claim moves a message waiting for its morning there): one in
        -- flight, queued with no outbox row, is on its way and no longer
        -- feeds the sender. Still queued: an outbox row may outlive a
        -- state change.
        SELECT count(*) FILTER (WHERE q.not_before <= p_now) INTO v_due
          FROM (SELECT o.not_before FROM outbox o JOIN messages m ON m.id = o.id
                 WHERE o.blast_id = v_b.id AND m.state = 'queued' LIMIT 2 * v_want) q;
        CONTINUE WHEN v_due >= v_want;
        BEGIN
            PERFORM tocsin_blast_feed(v_b.id, least(10, ceil((v_want - v_due) / 1000.0))::int, p_now);
        EXCEPTION WHEN data_exception OR integrity_constraint_violation THEN
            -- A feed that fails for its data (a body edited past the
            -- checks renders too long) pauses its blast for a lead to see,
            -- instead of failing every tick. Anything else (a lost lock,
            -- a full disk) fails this tick, and the next one tries again.
            GET STACKED DIAGNOSTICS v_error = MESSAGE_TEXT;
            UPDATE blasts SET state = 'paused' WHERE id = v_b.id;
            PERFORM tocsin_blast_audit(v_b.org_id, NULL, 'blast.feed_failed', v_b.id,
                                       jsonb_build_object('error', v_error));
        END;
    END LOOP;
    UPDATE blasts SET state = 'completed', completed_at = p_now
     WHERE state = 'sending' AND queued = 0 AND sending = 0 AND unfed = 0;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_done + v_count;
END $$;

-- 012's record of outcomes, for the messages p_worker holds in a claim
-- (taken out of it) or that the sweep made unknown under its name: a
-- retry goes back into the outbox; the outcome is the wide row's one
-- write since it was queued. Receipts that came before the ids were
-- recorded match on the sender too.
CREATE OR REPLACE FUNCTION tocsin_record_outcomes(p_worker text, p_ids bigint[], p_kinds text[],
                                                  p_provider_ids text[], p_codes text[], p_errors text[],
                                                  p_retry_ms int[], p_opt_outs boolean[])
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    v_changed int;
    v_cancelled int;
    v_mine bigint[];
    v_claim_of bigint[];
    v_settled bigint[];
    v_retry bigint[];
    v_receipt record;
    v_nestloop text := current_setting('enable_nestloop');
BEGIN
    SELECT array_agg(h.id), array_agg(h.claim_id) INTO v_mine, v_claim_of
      FROM tocsin_claims_held(p_worker, p_ids) h;
    PERFORM set_config('enable_nestloop', 'off', true);
    -- The blast counters of the rows changed here are written by this
    -- statement (counted below), so the trigger that counts every other
    -- UPDATE of messages skips it (tocsin_blast_count_changes).
    PERFORM set_config('tocsin.blast_counted', 'on', true);
    -- Each outcome with the claim that holds its message, if any, joined
    -- once by hashing: not "m.id = ANY (v_mine)" per row, a linear search
    -- of an array in a variable (half a claim's ids compared per message:
    -- 5% of a message's database instructions at 500 outcomes a call,
    -- ops/bench/outbound_db.sh --instructions).
    WITH o AS (
        SELECT t.*, h.claim_id, h.id IS NOT NULL AS mine
          FROM unnest(p_ids, p_kinds, p_provider_ids, p_codes, p_errors, p_retry_ms, p_opt_outs)
                 AS t(id, kind, provider_id, code, error, retry_ms, opt_out)
          LEFT JOIN unnest(v_mine, v_claim_of) AS h(id, claim_id) ON h.id = t.id
    ), done AS (
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
        claimed_by = CASE WHEN o.kind = 'retry' THEN NULL ELSE p_worker END,
        lease_until = NULL,
        sent_at = CASE WHEN o.kind = 'sent' THEN now() ELSE m.sent_at END,
        finalized_at = CASE WHEN o.kind = 'failed' THEN now() ELSE m.finalized_at END,
        updated_at = now()
      FROM o
     WHERE m.id = ANY (p_ids) AND m.id = o.id  -- the ANY keeps it an index scan
       AND ((m.state = 'queued' AND o.mine)
            -- unknown by the sweep's judgement (its claim is gone); an
            -- outcome written twice matches neither the first time's
            -- state nor this, and changes nothing
            OR (m.state = 'unknown' AND m.claimed_by = p_worker AND NOT o.mine))
    -- claim_id: in flight (held in a claim, counted 'sending'); NULL:
    -- unknown before
    RETURNING m.id, m.state, m.blast_id, o.claim_id),
    counted AS (
        INSERT INTO blast_counter_deltas (blast_id, queued, sending, sent, failed, unknown)
        SELECT done.blast_id, count(*) FILTER (WHERE done.state = 'queued'),
               -count(*) FILTER (WHERE done.claim_id IS NOT NULL),
               count(*) FILTER (WHERE done.state = 'sent'), count(*) FILTER (WHERE done.state = 'failed'),
               count(*) FILTER (WHERE done.state = 'unknown') - count(*) FILTER (WHERE done.claim_id IS NULL)
          FROM done WHERE done.blast_id IS NOT NULL
         GROUP BY done.blast_id)
    SELECT count(*), array_agg(done.id) FILTER (WHERE done.state = 'queued'),
           array_agg(done.claim_id) FILTER (WHERE done.state <> 'queued' AND done.claim_id IS NOT NULL)
      INTO v_changed, v_retry, v_settled
      FROM done;
    PERFORM set_config('tocsin.blast_counted', '', true);
    PERFORM set_config('enable_nestloop', v_nestloop, true);
    IF v_settled IS NOT NULL THEN
        PERFORM tocsin_claims_settle(v_settled);
    END IF;
    IF v_retry IS NOT NULL THEN
        PERFORM tocsin_claims_take(p_worker, v_retry);
        PERFORM tocsin_outbox_put_back(v_retry);
    END IF;

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
    SELECT tocsin_unqueue(array(SELECT m.id FROM messages m JOIN gone g ON m.org_id = g.org_id
                                                              AND m.to_phone = g.to_phone
                                 WHERE m.state = 'queued'), NULL)
      INTO v_cancelled;
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
