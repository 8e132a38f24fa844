-- SPDX-License-Identifier: AGPL-3.0-or-later
-- Superseded by schema/034_outbox.sql, which does all of the list below;
-- this file applies only to a schema before 034 (it creates outbox).
-- ops/bench/designs/outbox.sql — a MEASUREMENT PROTOTYPE for issue 22, not
-- schema: apply it with ops/bench/outbound_db.sh 50000 ops/bench/designs/outbox.sql.
-- A narrow outbox table that the claim deletes from, one lease row per
-- claimed batch (claims), and the wide message row written once, by its
-- outcome (no 'sending' state on messages). Measured 2026-12-07 on a loaded
-- 2-core machine: PostgreSQL 37.6, 41.2, 31.0, 34.7 us/message, WAL 851 bytes/message,
-- against 52.0, 55.8, 51.0 us and 1315-1336 bytes for the functions of the same commit.
-- What it leaves out, and a real migration must do: the conversational lane
-- and quiet hours in the claim (a constant per claim); the lease sweep over
-- claims (stamped -> unknown, else back into the outbox); release; retries
-- and requeue going back into the outbox; cancellations (blast cancel, STOP)
-- deleting from the outbox first so a message in flight is never cancelled
-- under its send; in-flight shown to the dashboard and the blast counters
-- (a queued message with no outbox row is in flight: read through, or count
-- claims); record_outcomes checking the claim row instead of claimed_by.
CREATE TABLE outbox (id bigint PRIMARY KEY, sender_id bigint NOT NULL, lane text NOT NULL,
                     not_before timestamptz NOT NULL);
CREATE INDEX outbox_claimable ON outbox (sender_id, lane, not_before, id);
CREATE TABLE claims (id bigserial PRIMARY KEY, worker text NOT NULL, message_ids bigint[] NOT NULL,
                     lease_until timestamptz NOT NULL);
CREATE FUNCTION fill_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO outbox SELECT id, sender_id, lane, not_before FROM new_rows WHERE state = 'queued';
    RETURN NULL;
END $$;
CREATE TRIGGER messages_fill_outbox AFTER INSERT ON messages REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION fill_outbox();
DROP INDEX messages_claimable;
DROP INDEX messages_leases;

CREATE OR REPLACE FUNCTION tocsin_claim(p_sender bigint, p_worker text, p_limit int, p_now timestamptz,
                                        p_lease_seconds int)
RETURNS TABLE (id bigint, to_phone text, body text, segments int, lane text, purpose text,
               validity_seconds int)
LANGUAGE plpgsql AS $$
DECLARE
    v_ids bigint[];
BEGIN
    WITH c AS (
        DELETE FROM outbox q WHERE q.id IN (
            SELECT o.id FROM outbox o WHERE o.sender_id = p_sender AND o.lane = 'bulk' AND o.not_before <= p_now
             ORDER BY o.not_before, o.id LIMIT p_limit FOR UPDATE SKIP LOCKED)
        RETURNING q.id)
    SELECT array_agg(c.id) INTO v_ids FROM c;
    IF v_ids IS NULL THEN RETURN; END IF;
    INSERT INTO claims (worker, message_ids, lease_until)
    VALUES (p_worker, v_ids, now() + make_interval(secs => p_lease_seconds));
    RETURN QUERY
    SELECT m.id, m.to_phone, m.body, m.segments, m.lane, m.purpose, NULL::int
      FROM messages m
      LEFT JOIN opt_outs o ON o.org_id = m.org_id AND o.phone = m.to_phone AND m.purpose <> 'opt_out_confirmation'
     WHERE m.id = ANY (v_ids) AND o.phone IS NULL
     ORDER BY m.not_before, m.id;
END $$;

CREATE OR REPLACE FUNCTION tocsin_mark_going(p_ids bigint[], p_worker text)
RETURNS SETOF bigint LANGUAGE plpgsql AS $$
DECLARE
    v_going bigint[];
BEGIN
    SELECT array_agg(m.id) INTO v_going
      FROM unnest(p_ids) AS i(id) JOIN messages m ON m.id = i.id
      LEFT JOIN opt_outs o ON o.org_id = m.org_id AND o.phone = m.to_phone AND m.purpose <> 'opt_out_confirmation'
     WHERE m.state = 'queued' AND o.phone IS NULL;
    IF v_going IS NOT NULL THEN
        INSERT INTO send_stamps (worker, message_ids) VALUES (p_worker, v_going);
        RETURN QUERY SELECT unnest(v_going);
    END IF;
END $$;

CREATE OR REPLACE FUNCTION tocsin_record_outcomes(p_worker text, p_ids bigint[], p_kinds text[],
                                                  p_provider_ids text[], p_codes text[], p_errors text[],
                                                  p_retry_ms int[], p_opt_outs boolean[])
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    v_changed int;
BEGIN
    UPDATE messages m SET
        state = CASE o.kind WHEN 'sent' THEN 'sent' WHEN 'failed' THEN 'failed' ELSE 'unknown' END,
        provider_message_id = CASE WHEN o.kind = 'sent' THEN o.provider_id ELSE m.provider_message_id END,
        error_code = CASE WHEN o.kind = 'sent' THEN NULL ELSE nullif(o.code, '') END,
        error_message = CASE WHEN o.kind = 'sent' THEN NULL ELSE nullif(o.error, '') END,
        request_sent_at = now(), attempts = m.attempts + 1, claimed_by = p_worker,
        sent_at = CASE WHEN o.kind = 'sent' THEN now() ELSE m.sent_at END,
        finalized_at = CASE WHEN o.kind = 'failed' THEN now() ELSE m.finalized_at END,
        updated_at = now()
      FROM unnest(p_ids, p_kinds, p_provider_ids, p_codes, p_errors) AS o(id, kind, provider_id, code, error)
     WHERE m.id = o.id AND m.state = 'queued';
    GET DIAGNOSTICS v_changed = ROW_COUNT;
    RETURN v_changed;
END $$;
