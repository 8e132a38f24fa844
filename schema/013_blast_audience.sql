-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 013_blast_audience: a due blast is expanded in two steps instead of one.
--
--   1. The audience is fixed when the blast is due, in ONE statement
--      (tocsin_blast_snapshot): the list's subscribed contacts, the
--      filter, minus opted-out numbers, stored as their contact ids in
--      chunks of 1,000 (blast_audience). Who receives the blast is decided
--      here, once; blasts.recipients, queued and unfed are set from it.
--   2. The chunks become queued messages just ahead of the sender
--      (tocsin_blast_feed, from the tick): each feed turns whole chunks
--      into messages in one INSERT ... SELECT, with the body rendered, its
--      segments counted and the recipient's quiet-hours window, exactly as
--      006's single expansion did.
--
-- Why: a message row is wide and has seven indexes and three foreign
-- keys; inserting a million of them took 34-43 s on a 2-core machine, and
-- nothing went out until the last one was in. A chunk row of 1,000 ids
-- is one narrow row, so fixing a million-member audience takes about 2 s,
-- sending starts within a tick, and the messages table holds what the
-- sender can send in the next few seconds rather than the whole audience
-- (which also keeps the claim's index small). The total work of inserting
-- messages is the same; it is spread over the sending time, where the
-- sender's rate, not the database, is the limit.
--
-- Counters stay exact: queued counts unfed recipients too, so a blast
-- completes only when every chunk is fed and sent. A recipient who opts
-- out after the snapshot is fed as a 'cancelled' message and counted in
-- opted_out (the opt-out trigger of 006 counts only numbers that already
-- have a message); a recipient whose contact no longer exists is counted
-- cancelled. A cancel deletes the unfed chunks and counts them cancelled.

CREATE TABLE blast_audience (
    blast_id    bigint NOT NULL REFERENCES blasts ON DELETE CASCADE,
    chunk       int NOT NULL CHECK (chunk >= 0),
    contact_ids bigint[] NOT NULL CHECK (cardinality(contact_ids) BETWEEN 1 AND 1000),
    PRIMARY KEY (blast_id, chunk)
) WITH (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 100);

ALTER TABLE blasts ADD COLUMN unfed int NOT NULL DEFAULT 0 CHECK (unfed >= 0);

-- Fixes the audience of blast p_blast (the caller holds it in
-- 'expanding'). Returns the recipient count.
CREATE FUNCTION tocsin_blast_snapshot(p_blast bigint) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    v_b blasts;
    v_filter text := 'true';
    v_count int;
BEGIN
    SELECT * INTO v_b FROM blasts WHERE id = p_blast;
    IF v_b.filter ? 'field' THEN
        v_filter := format('lower(%s) = lower($1)', tocsin_blast_field_sql(v_b.filter->>'field'));
    END IF;
    -- A list holds a contact once and a contact a number once per org:
    -- no duplicate phones. Chunks follow no particular order.
    EXECUTE format($q$
        WITH ins AS (
            INSERT INTO blast_audience (blast_id, chunk, contact_ids)
            SELECT $4, (a.n - 1) / 1000, array_agg(a.id)
              FROM (SELECT c.id, row_number() OVER () AS n
                      FROM subscriptions s
                      JOIN contacts c ON c.id = s.contact_id
                     WHERE s.list_id = $2 AND s.unsubscribed_at IS NULL
                       AND NOT EXISTS (SELECT 1 FROM opt_outs o WHERE o.org_id = $3 AND o.phone = c.phone)
                       AND %s) a
             GROUP BY (a.n - 1) / 1000
            RETURNING cardinality(contact_ids) AS n
        )
        SELECT coalesce(sum(n), 0)::int FROM ins
    $q$, v_filter)
    INTO v_count
    USING v_b.filter->>'equals', v_b.list_id, v_b.org_id, v_b.id;
    RETURN v_count;
END $$;

-- Turns up to p_chunks of a sending blast's audience chunks into messages
-- at p_now. Returns the number of recipients fed, or 0 when the blast is
-- not sending or a lead's action holds its row (the next tick tries
-- again): the blast's row is locked first, as pause and cancel lock it,
-- so a feed and a cancel never wait on each other's rows.
CREATE FUNCTION tocsin_blast_feed(p_blast bigint, p_chunks int, p_now timestamptz) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    v_b record;
    v_fed int;
    v_queued int;
    v_stopped int;
BEGIN
    SELECT b.*, s.provider INTO v_b FROM blasts b JOIN senders s ON s.id = b.sender_id
     WHERE b.id = p_blast AND b.state = 'sending' AND b.unfed > 0
       FOR UPDATE OF b SKIP LOCKED;
    IF NOT FOUND OR p_chunks < 1 THEN
        RETURN 0;
    END IF;
    -- 006's expansion over the ids of the chunks taken (see
    -- tocsin_blast_expand for the three fenced levels and pz).
    EXECUTE format($q$
        WITH fed AS (
            DELETE FROM blast_audience a
             WHERE a.blast_id = $4
               AND a.chunk IN (SELECT f.chunk FROM blast_audience f WHERE f.blast_id = $4
                                ORDER BY f.chunk LIMIT $6)
            RETURNING a.contact_ids
        ), pz AS (
            SELECT z.prefix, z.zones, z.quiet_end_hour,
                   coalesce(tocsin_quiet_window_start(z.zones, z.quiet_end_hour, $5), $5) AS opens
              FROM phone_zones z
        ), ins AS (
            INSERT INTO messages (org_id, sender_id, provider, contact_id, to_phone, body, encoding, segments,
                                  lane, purpose, blast_id, recipient_zones, quiet_end_hour, not_before,
                                  created_at, updated_at, state, error_message, finalized_at)
            SELECT $1, $2, $3, x.contact_id, x.phone, x.body,
                   CASE WHEN x.code %% 2 = 0 THEN 'GSM-7' ELSE 'UCS-2' END, x.code / 2,
                   'bulk', 'blast', $4, x.zones, x.end_hour, x.opens, $5, $5,
                   CASE WHEN x.stopped THEN 'cancelled' ELSE 'queued' END,
                   CASE WHEN x.stopped THEN 'the member opted out before it was sent' END,
                   CASE WHEN x.stopped THEN $5 END
              FROM (SELECT r.*, tocsin_sms_code(r.body) AS code FROM (
                        SELECT c.id AS contact_id, c.phone, %1$s AS body,
                               CASE WHEN t.name IS NULL THEN z.zones ELSE ARRAY[t.name] END AS zones,
                               z.quiet_end_hour AS end_hour,
                               CASE WHEN t.name IS NULL THEN z.opens
                                    ELSE tocsin_quiet_window_start_zone(t.name, z.quiet_end_hour, $5) END AS opens,
                               EXISTS (SELECT 1 FROM opt_outs o WHERE o.org_id = $1 AND o.phone = c.phone) AS stopped
                          FROM fed CROSS JOIN LATERAL unnest(fed.contact_ids) AS u(id)
                          JOIN contacts c ON c.id = u.id
                          JOIN phone_zone_keys k ON k.key = left(c.phone, 5)
                          JOIN pz z ON z.prefix = k.prefix
                          LEFT JOIN tz_names t ON t.name = c.timezone
                        OFFSET 0) r
                    OFFSET 0) x
            RETURNING state
        )
        SELECT (SELECT coalesce(sum(cardinality(fed.contact_ids)), 0) FROM fed)::int,
               count(*) FILTER (WHERE ins.state = 'queued')::int,
               count(*) FILTER (WHERE ins.state = 'cancelled')::int
          FROM ins
    $q$, tocsin_blast_render_sql(v_b.body))
    INTO v_fed, v_queued, v_stopped
    USING v_b.org_id, v_b.sender_id, v_b.provider, v_b.id, p_now, p_chunks;
    UPDATE blasts SET unfed = unfed - v_fed WHERE id = p_blast;
    IF v_fed > v_queued THEN
        INSERT INTO blast_counter_deltas (blast_id, queued, cancelled, opted_out)
        VALUES (p_blast, v_queued - v_fed, v_fed - v_queued, v_stopped);
    END IF;
    RETURN v_fed;
END $$;

-- How far ahead of a sender a blast is fed: five seconds of its rate (the
-- tick runs every second), from 2,000 to 20,000 messages. A tick feeds a
-- blast at most 10 chunks
-- (about 0.6 s on a 2-core machine, on one of the worker's pooled
-- connections), so feeding keeps up with up to 10,000 messages/s per
-- blast.
CREATE FUNCTION tocsin_blast_feed_ahead(p_mps numeric) RETURNS int LANGUAGE sql IMMUTABLE AS $$
    SELECT greatest(2000, least(20000, ceil(p_mps * 5)))::int
$$;

-- The tick of 006, with the expansion split: due blasts get their
-- audience fixed; sending blasts whose due queued messages run below
-- tocsin_blast_feed_ahead are fed whole chunks. Queued messages waiting
-- for the recipient's morning do not count as due, so a blast whose first
-- chunks are all outside quiet hours keeps feeding the others.
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
        -- what is wanted (the rest may wait for the morning).
        SELECT count(*) FILTER (WHERE q.not_before <= p_now) INTO v_due
          FROM (SELECT m.not_before FROM messages m
                 WHERE m.blast_id = v_b.id AND m.state = 'queued' LIMIT 2 * v_want) q;
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

-- 006's cancel, which also drops the chunks not fed yet and counts them
-- cancelled. Returns how many messages and unfed recipients it cancelled.
CREATE OR REPLACE FUNCTION tocsin_blast_cancel(p_org bigint, p_blast bigint, p_user bigint)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    v_b blasts := tocsin_blast_lock(p_org, p_blast);
    v_count int;
    v_unfed int;
BEGIN
    IF v_b.state NOT IN ('draft', 'scheduled', 'sending', 'paused') THEN
        RAISE EXCEPTION 'blast % cannot be cancelled: it is %', p_blast, v_b.state USING ERRCODE = '55000';
    END IF;
    UPDATE blasts SET state = 'cancelled', completed_at = now(), unfed = 0 WHERE id = p_blast;
    UPDATE messages SET state = 'cancelled', error_message = 'the blast was cancelled',
           updated_at = now(), finalized_at = now()
     WHERE blast_id = p_blast AND state = 'queued';
    GET DIAGNOSTICS v_count = ROW_COUNT;
    WITH d AS (DELETE FROM blast_audience WHERE blast_id = p_blast RETURNING cardinality(contact_ids) AS n)
    SELECT coalesce(sum(n), 0)::int INTO v_unfed FROM d;
    IF v_unfed > 0 THEN
        INSERT INTO blast_counter_deltas (blast_id, queued, cancelled) VALUES (p_blast, -v_unfed, v_unfed);
    END IF;
    PERFORM tocsin_blast_audit(v_b.org_id, p_user, 'blast.cancel', p_blast,
                               jsonb_build_object('messages_cancelled', v_count, 'recipients_not_queued', v_unfed));
    RETURN v_count + v_unfed;
END $$;

-- 006's status with `unfed`: how many of the recipients counted queued
-- are not messages yet (tocsinctl blast status prints it as "not fed").
CREATE OR REPLACE FUNCTION tocsin_blast_status(p_org bigint, p_blast bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    WITH d AS (
        SELECT coalesce(sum(queued), 0) AS queued, coalesce(sum(sending), 0) AS sending,
               coalesce(sum(sent), 0) AS sent, coalesce(sum(delivered), 0) AS delivered,
               coalesce(sum(undelivered), 0) AS undelivered, coalesce(sum(failed), 0) AS failed,
               coalesce(sum(unknown), 0) AS unknown, coalesce(sum(suppressed), 0) AS suppressed,
               coalesce(sum(cancelled), 0) AS cancelled, coalesce(sum(opted_out), 0) AS opted_out
          FROM blast_counter_deltas WHERE blast_id = p_blast
    ), c AS (
        SELECT b.id, b.org_id, b.state, b.sender_id, b.list_id, b.filter, b.body, b.scheduled_at,
               b.started_at, b.completed_at, b.created_at, b.recipients, b.unfed,
               b.queued + d.queued AS queued, b.sending + d.sending AS sending, b.sent + d.sent AS sent,
               b.delivered + d.delivered AS delivered, b.undelivered + d.undelivered AS undelivered,
               b.failed + d.failed AS failed, b.unknown + d.unknown AS unknown,
               b.suppressed + d.suppressed AS suppressed, b.cancelled + d.cancelled AS cancelled,
               b.opted_out + d.opted_out AS opted_out
          FROM blasts b, d WHERE b.id = p_blast AND (p_org IS NULL OR b.org_id = p_org)
    )
    SELECT to_jsonb(c) || jsonb_build_object(
               'progress', CASE WHEN c.recipients = 0 THEN 1.0
                                ELSE round(1 - (c.queued + c.sending)::numeric / c.recipients, 4) END,
               'per_minute', (SELECT count(*) FROM messages m
                               WHERE m.blast_id = c.id AND m.state IN ('sent', 'delivered', 'undelivered', 'failed', 'unknown')
                                 AND m.request_sent_at > now() - interval '1 minute'))
      FROM c
$$;

-- 006's expansion in one statement is replaced by the two steps above.
DROP FUNCTION tocsin_blast_expand(bigint, timestamptz);
