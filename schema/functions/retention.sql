-- SPDX-License-Identifier: AGPL-3.0-or-later
-- retention: keeping less (issue 20). An org's privacy settings (how long
-- bodies, sessions and audit rows are kept; which contact fields its
-- volunteers see) as its admin reads and saves them; what volunteers are
-- shown of a contact; the retention run: what is due (tocsinctl retention
-- run --dry-run), one bounded batch of one kind (the worker's nightly job
-- and tocsinctl loop over these), and the schedule that lets one worker
-- run it a night. Tables: 033_retention.sql. Forgetting one member is
-- forget.sql.
--
-- A repeatable file: edited in place; tocsinctl migrate applies it again
-- when it changes (schema/README.md).

-- Consent events and opt-outs are kept five years (FTC TSR; shared
-- COMPLIANCE.md), whatever an org sets.
CREATE OR REPLACE FUNCTION tocsin_consent_keep() RETURNS interval LANGUAGE sql IMMUTABLE AS $$
    SELECT interval '5 years' $$;

-- Inbound messages that are consent evidence (a keyword, a STOP, a START):
-- their bodies are kept as consent records are.
CREATE OR REPLACE FUNCTION tocsin_inbound_is_consent(p_intent text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(p_intent IN ('keyword', 'opt_out', 'opt_in_again'), false) $$;

-- --- what a volunteer sees of a contact ---

-- The contact fields (first_name, last_name, zip, timezone, or a custom
-- field's name) the caller sees: NULL, every one, for leads and admins; a
-- volunteer, the org's volunteer_fields. The number is
-- tocsin_dashboard_phone's. Asked once a request and handed to the
-- functions below: asked per field of each row, as it was, it cost a
-- volunteer's list of 100 conversations more than its query did.
-- PL/pgSQL, so a session plans the lookup once.
CREATE OR REPLACE FUNCTION tocsin_contact_seen_fields(p_org bigint, p_role text) RETURNS text[]
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF p_role IS DISTINCT FROM 'volunteer' THEN
        RETURN NULL;
    END IF;
    RETURN coalesce((SELECT o.volunteer_fields FROM orgs o WHERE o.id = p_org), '{}');
END $$;

-- p_value if field p_name is among p_seen (tocsin_contact_seen_fields),
-- else NULL. A plain expression naming p_seen once, so PostgreSQL inlines
-- it where it is called.
CREATE OR REPLACE FUNCTION tocsin_contact_shown(p_seen text[], p_name text, p_value text) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_name = ANY (coalesce(p_seen, ARRAY[p_name])) THEN p_value END $$;

-- The custom fields among p_seen (tocsin_contact_seen_fields).
CREATE OR REPLACE FUNCTION tocsin_contact_fields_shown(p_seen text[], p_fields jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF p_seen IS NULL THEN
        RETURN p_fields;
    END IF;
    RETURN (SELECT coalesce(jsonb_object_agg(f.key, f.value), '{}')
              FROM jsonb_each(coalesce(p_fields, '{}')) f WHERE f.key = ANY (p_seen));
END $$;

-- --- the privacy settings ---

CREATE OR REPLACE FUNCTION tocsin_org_privacy_json(o orgs) RETURNS json LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'retain_outbound_days', o.retain_outbound_days, 'retain_inbound_days', o.retain_inbound_days,
        'retain_session_days', o.retain_session_days, 'retain_audit_days', o.retain_audit_days,
        'volunteer_fields', to_json(o.volunteer_fields), 'consent_years', 5) $$;

-- Custom field names seen on the org's newest 5,000 contacts (the
-- settings page offers them), at most 100.
CREATE OR REPLACE FUNCTION tocsin_org_known_fields(p_org bigint) RETURNS json LANGUAGE sql STABLE AS $$
    SELECT coalesce(json_agg(k ORDER BY k), '[]')
      FROM (SELECT DISTINCT jsonb_object_keys(c.fields) AS k
              FROM (SELECT fields FROM contacts WHERE org_id = p_org ORDER BY id DESC LIMIT 5000) c
             LIMIT 100) x $$;

-- Saves what is given (NULL: unchanged). Days are whole numbers within the
-- columns' bounds; p_fields is the field names volunteers see, one a line
-- ('' : none). Returns (200, settings) or (400, error naming the field);
-- audits old and new values as org.privacy.
CREATE OR REPLACE FUNCTION tocsin_org_privacy_save(p_org bigint, p_user bigint, p_out text, p_in text,
                                                   p_sessions text, p_audit text, p_fields text)
RETURNS TABLE (status int, body json) LANGUAGE plpgsql AS $$
DECLARE
    v_old orgs;
    v_new orgs;
    v_key text;
    v_name text;
    v_names text[] := '{}';
    v_changes jsonb;
BEGIN
    SELECT * INTO v_old FROM orgs WHERE id = p_org FOR UPDATE;
    IF v_old.id IS NULL THEN
        RETURN;
    END IF;
    v_new := v_old;
    FOREACH v_key IN ARRAY ARRAY['retain_outbound_days', 'retain_inbound_days', 'retain_session_days',
                                 'retain_audit_days'] LOOP
        DECLARE
            v_text text := CASE v_key WHEN 'retain_outbound_days' THEN p_out WHEN 'retain_inbound_days' THEN p_in
                                      WHEN 'retain_session_days' THEN p_sessions ELSE p_audit END;
            v_lo int := CASE v_key WHEN 'retain_session_days' THEN 1 WHEN 'retain_audit_days' THEN 90 ELSE 30 END;
            v_hi int := CASE v_key WHEN 'retain_session_days' THEN 365 ELSE 3650 END;
        BEGIN
            CONTINUE WHEN v_text IS NULL;
            IF v_text !~ '^\s*[0-9]{1,6}\s*$' OR v_text::int NOT BETWEEN v_lo AND v_hi THEN
                RETURN QUERY SELECT 400, tocsin_api_error(400, 'invalid',
                    format('invalid %s "%s": a whole number of days from %s to %s', v_key, left(v_text, 20), v_lo, v_hi));
                RETURN;
            END IF;
            CASE v_key
                WHEN 'retain_outbound_days' THEN v_new.retain_outbound_days := v_text::int;
                WHEN 'retain_inbound_days' THEN v_new.retain_inbound_days := v_text::int;
                WHEN 'retain_session_days' THEN v_new.retain_session_days := v_text::int;
                ELSE v_new.retain_audit_days := v_text::int;
            END CASE;
        END;
    END LOOP;
    IF p_fields IS NOT NULL THEN
        IF length(p_fields) > 4000 THEN
            RETURN QUERY SELECT 400, tocsin_api_error(400, 'invalid',
                'invalid volunteer_fields: at most 50 names of up to 64 characters');
            RETURN;
        END IF;
        FOREACH v_name IN ARRAY regexp_split_to_array(p_fields, '\n') LOOP
            -- Imports store custom field names lower-cased and trimmed.
            v_name := lower(btrim(v_name));
            CONTINUE WHEN v_name = '' OR v_name = ANY (v_names);
            IF v_name = 'phone' THEN
                RETURN QUERY SELECT 400, tocsin_api_error(400, 'invalid',
                    'invalid volunteer_fields: the number is always masked for volunteers (last four digits)');
                RETURN;
            END IF;
            IF length(v_name) > 64 OR v_name ~ '[[:cntrl:]]' THEN
                RETURN QUERY SELECT 400, tocsin_api_error(400, 'invalid', format(
                    'invalid volunteer_fields "%s": a field name is 1 to 64 characters without control characters',
                    left(regexp_replace(v_name, '[[:cntrl:]]', '?', 'g'), 20)));
                RETURN;
            END IF;
            v_names := v_names || v_name;
        END LOOP;
        IF cardinality(v_names) > 50 THEN
            RETURN QUERY SELECT 400, tocsin_api_error(400, 'invalid', 'invalid volunteer_fields: at most 50 names');
            RETURN;
        END IF;
        v_new.volunteer_fields := v_names;
    END IF;
    UPDATE orgs SET retain_outbound_days = v_new.retain_outbound_days, retain_inbound_days = v_new.retain_inbound_days,
           retain_session_days = v_new.retain_session_days, retain_audit_days = v_new.retain_audit_days,
           volunteer_fields = v_new.volunteer_fields
     WHERE id = p_org;
    v_changes := tocsin_json_changes(to_jsonb(tocsin_org_privacy_json(v_old)),
                                     to_jsonb(tocsin_org_privacy_json(v_new)));
    IF v_changes <> '{}' THEN
        INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)
        VALUES (p_org, nullif(p_user, 0), 'org.privacy', 'org', p_org, v_changes);
    END IF;
    RETURN QUERY SELECT 200, tocsin_org_privacy_json(v_new);
END $$;

-- --- the retention run ---

-- The kinds, in the order a run takes them.
CREATE OR REPLACE FUNCTION tocsin_retention_kinds() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY['outbound_bodies', 'inbound_bodies', 'sessions', 'audit_events', 'consent_events'] $$;

-- The audit rows of org p_org that retention may remove now: its oldest
-- rows, in chain order (seq), up to (not including) its first row still
-- younger than retain_audit_days — a whole prefix, never a row from the
-- middle, even when an older row follows a young one. How many (looking
-- at most p_limit rows).
CREATE OR REPLACE FUNCTION tocsin_retention_audit_due(p_org bigint, p_limit int) RETURNS int
    LANGUAGE sql STABLE AS $$
    WITH cut AS (SELECT now() - make_interval(days => o.retain_audit_days) AS at FROM orgs o WHERE o.id = p_org),
         head AS (SELECT e.seq, e.created_at < cut.at AS due
                    FROM cut, LATERAL (SELECT seq, created_at FROM audit_events
                                        WHERE org_id = p_org ORDER BY seq LIMIT p_limit) e),
         stop AS (SELECT min(seq) AS seq FROM head WHERE NOT due)
    SELECT count(*)::int FROM head h, stop WHERE h.due AND (stop.seq IS NULL OR h.seq < stop.seq) $$;

-- Removes up to p_limit rows of that prefix through the audit chain's own
-- tocsin_audit_prune (schema/functions/audit.sql), which moves the chain's
-- anchor to the last row removed so `tocsinctl audit verify` still
-- passes, and drops the alerts that named them. Given exactly the prefix's
-- length, its window holds only due rows. Returns how many went.
CREATE OR REPLACE FUNCTION tocsin_retention_audit_prefix(p_org bigint, p_limit int) RETURNS int
    LANGUAGE plpgsql AS $$
DECLARE
    v_n int := tocsin_retention_audit_due(p_org, p_limit);
BEGIN
    IF v_n = 0 THEN
        RETURN 0;
    END IF;
    RETURN tocsin_audit_prune(p_org, now() - make_interval(days => (SELECT retain_audit_days FROM orgs WHERE id = p_org)),
                              v_n);
END $$;

-- What a run would remove now, per org and kind (tocsinctl retention run
-- --dry-run); p_org NULL: every org. Counts every row, so it reads whole
-- tables: for the operator, not the nightly job.
CREATE OR REPLACE FUNCTION tocsin_retention_due(p_org bigint)
RETURNS TABLE (org_id bigint, kind text, due bigint) LANGUAGE sql STABLE AS $$
    SELECT o.id, k.kind,
           CASE k.kind
               WHEN 'outbound_bodies' THEN
                   (SELECT count(*) FROM messages m
                     WHERE m.org_id = o.id AND m.body_removed_at IS NULL AND m.state NOT IN ('queued', 'sending')
                       AND m.created_at < now() - make_interval(days => o.retain_outbound_days))
               WHEN 'inbound_bodies' THEN
                   (SELECT count(*) FROM inbound_messages i
                     WHERE i.org_id = o.id AND i.body_removed_at IS NULL
                       AND i.received_at < now() - CASE WHEN tocsin_inbound_is_consent(i.intent)
                                                        THEN greatest(tocsin_consent_keep(), make_interval(days => o.retain_inbound_days))
                                                        ELSE make_interval(days => o.retain_inbound_days) END)
                 + (SELECT count(*) FROM inbound_journal_failed f JOIN senders s ON s.id = f.sender_id
                     WHERE s.org_id = o.id AND f.received_at < now() - make_interval(days => o.retain_inbound_days))
               WHEN 'sessions' THEN
                   (SELECT count(*) FROM sessions s
                     WHERE s.org_id = o.id AND s.expires_at < now() - make_interval(days => o.retain_session_days))
               WHEN 'audit_events' THEN
                   tocsin_retention_audit_due(o.id, 1000000000)::bigint
               ELSE
                   (SELECT count(*) FROM consent_events e
                     WHERE e.org_id = o.id AND e.created_at < now() - tocsin_consent_keep()
                       AND EXISTS (SELECT 1 FROM consent_events n
                                    WHERE n.org_id = e.org_id AND n.phone = e.phone
                                      AND n.list_id IS NOT DISTINCT FROM e.list_id
                                      AND (n.created_at, n.id) > (e.created_at, e.id)
                                      AND n.created_at < now() - tocsin_consent_keep()))
           END
      FROM orgs o CROSS JOIN unnest(tocsin_retention_kinds()) AS k(kind)
     WHERE p_org IS NULL OR o.id = p_org
     ORDER BY o.id, array_position(tocsin_retention_kinds(), k.kind) $$;

-- A run over every org keeps retention_marks for the texts' walk: the
-- first message that kept its text (p_kept, the batch's first), and at the
-- kind's end the next run's start: just before it, or, when every message
-- looked at lost its text, the newest one older than a day looked at (a
-- message still being inserted may take a lower id than one just seen).
CREATE OR REPLACE FUNCTION tocsin_retention_mark(p_kind text, p_kept bigint, p_safe bigint, p_done boolean)
RETURNS void LANGUAGE sql AS $$
    UPDATE retention_marks SET first_kept = coalesce(first_kept, p_kept) WHERE kind = p_kind;
    UPDATE retention_marks SET from_id = greatest(from_id, coalesce(first_kept - 1, p_safe, from_id)), first_kept = NULL
     WHERE kind = p_kind AND p_done;
$$;

-- One batch of one kind, in its own transaction (the caller's statement):
-- at most p_limit (1 to 10,000) rows looked at or changed, under an
-- advisory lock so a manual run and the worker's take turns. p_org NULL:
-- every org. p_after is where the previous batch of this kind stopped (0
-- to start): bodies are walked by id, from retention_marks on a run over
-- every org, so a batch costs the same on the first night as on the
-- thousandth and a night walks only what may have become due; audit rows
-- by org id. Returns the
-- rows changed, the p_after of the next batch, and whether the kind is
-- done.
--
--   outbound_bodies  a message older than retain_outbound_days that is no
--                    longer queued or sending: body '' and body_chars its
--                    length; state, segments, times and carrier ids stay
--   inbound_bodies   the same for inbound messages after
--                    retain_inbound_days, except consent evidence (a
--                    keyword, STOP or START: at least five years); failed journal
--                    rows are deleted after retain_inbound_days
--   sessions         sessions that expired retain_session_days ago
--   audit_events     tocsin_retention_audit_prefix, org by org
--   consent_events   an event superseded (a later one for the same number
--                    and list) more than five years ago; the latest event
--                    of a number and list, and every opt-out in force
--                    (opt_outs is never touched), stay
CREATE OR REPLACE FUNCTION tocsin_retention_batch(p_kind text, p_org bigint, p_after bigint, p_limit int)
RETURNS TABLE (changed int, next_after bigint, done boolean) LANGUAGE plpgsql AS $$
DECLARE
    v_limit int := least(greatest(coalesce(p_limit, 1000), 1), 10000);
    v_after bigint := coalesce(p_after, 0);
    v_n int := 0;
    v_seen int;
    v_last bigint;
    v_oldest timestamptz;
    v_org bigint;
    v_kept bigint;
    v_safe bigint;
    v_done boolean;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('tocsin_retention', 0));
    -- A run over every org starts the texts' walk where the last one left
    -- everything behind it removed.
    IF v_after = 0 AND p_org IS NULL AND p_kind IN ('outbound_bodies', 'inbound_bodies') THEN
        SELECT coalesce(max(m.from_id), 0) INTO v_after FROM retention_marks m WHERE m.kind = p_kind;
    END IF;
    IF p_kind = 'outbound_bodies' THEN
        WITH seen AS (SELECT m.id, m.org_id, m.created_at, m.state, m.body_removed_at FROM messages m
                       WHERE m.id > v_after AND (p_org IS NULL OR m.org_id = p_org) ORDER BY m.id LIMIT v_limit),
             due AS (SELECT s.id FROM seen s JOIN orgs o ON o.id = s.org_id
                      WHERE s.body_removed_at IS NULL AND s.state NOT IN ('queued', 'sending')
                        AND s.created_at < now() - make_interval(days => o.retain_outbound_days)),
             u AS (UPDATE messages m SET body_chars = length(m.body), body = '', body_removed_at = now()
                     FROM due WHERE m.id = due.id RETURNING 1)
        SELECT (SELECT count(*) FROM u), (SELECT count(*) FROM seen), (SELECT max(id) FROM seen),
               (SELECT min(created_at) FROM seen),
               (SELECT min(s.id) FROM seen s WHERE s.body_removed_at IS NULL AND NOT EXISTS (SELECT 1 FROM due WHERE due.id = s.id)),
               (SELECT max(s.id) FROM seen s WHERE s.created_at < now() - interval '1 day')
          INTO v_n, v_seen, v_last, v_oldest, v_kept, v_safe;
        -- Done at the end of the table, or once a whole batch is younger
        -- than every org's limit (ids grow with time).
        v_done := v_seen < v_limit
            OR coalesce(v_oldest >= now() - make_interval(days => (SELECT min(retain_outbound_days) FROM orgs)), true);
        IF p_org IS NULL THEN
            PERFORM tocsin_retention_mark(p_kind, v_kept, v_safe, v_done);
        END IF;
        RETURN QUERY SELECT v_n, coalesce(v_last, v_after), v_done;
    ELSIF p_kind = 'inbound_bodies' THEN
        WITH seen AS (SELECT i.id, i.org_id, i.received_at, i.intent, i.body_removed_at FROM inbound_messages i
                       WHERE i.id > v_after AND (p_org IS NULL OR i.org_id = p_org) ORDER BY i.id LIMIT v_limit),
             due AS (SELECT s.id FROM seen s JOIN orgs o ON o.id = s.org_id
                      WHERE s.body_removed_at IS NULL
                        AND s.received_at < now() - CASE WHEN tocsin_inbound_is_consent(s.intent)
                                                         THEN greatest(tocsin_consent_keep(), make_interval(days => o.retain_inbound_days))
                                                         ELSE make_interval(days => o.retain_inbound_days) END),
             u AS (UPDATE inbound_messages i SET body_chars = length(i.body), body = '', body_removed_at = now()
                     FROM due WHERE i.id = due.id RETURNING 1)
        SELECT (SELECT count(*) FROM u), (SELECT count(*) FROM seen), (SELECT max(id) FROM seen),
               (SELECT min(received_at) FROM seen),
               (SELECT min(s.id) FROM seen s WHERE s.body_removed_at IS NULL AND NOT EXISTS (SELECT 1 FROM due WHERE due.id = s.id)),
               (SELECT max(s.id) FROM seen s WHERE s.received_at < now() - interval '1 day')
          INTO v_n, v_seen, v_last, v_oldest, v_kept, v_safe;
        v_done := v_seen < v_limit
           OR coalesce(v_oldest >= now() - make_interval(days => (SELECT min(retain_inbound_days) FROM orgs)), true);
        IF p_org IS NULL THEN
            PERFORM tocsin_retention_mark(p_kind, v_kept, v_safe, v_done);
        END IF;
        IF v_done THEN
            -- The last batch: failed journal rows (few; an operator's to look at).
            WITH d AS (DELETE FROM inbound_journal_failed f USING senders s, orgs o
                        WHERE s.id = f.sender_id AND o.id = s.org_id AND (p_org IS NULL OR o.id = p_org)
                          AND f.received_at < now() - make_interval(days => o.retain_inbound_days) RETURNING 1)
            SELECT v_n + count(*) INTO v_n FROM d;
            RETURN QUERY SELECT v_n, coalesce(v_last, v_after), true;
        ELSE
            RETURN QUERY SELECT v_n, v_last, false;
        END IF;
    ELSIF p_kind = 'sessions' THEN
        WITH d AS (DELETE FROM sessions WHERE id IN (
                       SELECT s.id FROM sessions s JOIN orgs o ON o.id = s.org_id
                        WHERE (p_org IS NULL OR s.org_id = p_org)
                          AND s.expires_at < now() - make_interval(days => o.retain_session_days)
                        LIMIT v_limit) RETURNING 1)
        SELECT count(*) INTO v_n FROM d;
        RETURN QUERY SELECT v_n, v_after, v_n < v_limit;
    ELSIF p_kind = 'audit_events' THEN
        -- p_after: the org before the one to look at.
        SELECT o.id INTO v_org FROM orgs o WHERE o.id > v_after AND (p_org IS NULL OR o.id = p_org) ORDER BY o.id LIMIT 1;
        IF v_org IS NULL THEN
            RETURN QUERY SELECT 0, v_after, true;
            RETURN;
        END IF;
        v_n := tocsin_retention_audit_prefix(v_org, v_limit);
        -- A full batch may have more behind it: the same org again.
        RETURN QUERY SELECT v_n, CASE WHEN v_n = v_limit THEN v_org - 1 ELSE v_org END, false;
    ELSIF p_kind = 'consent_events' THEN
        WITH d AS (DELETE FROM consent_events WHERE id IN (
                       SELECT e.id FROM consent_events e
                        WHERE e.created_at < now() - tocsin_consent_keep() AND (p_org IS NULL OR e.org_id = p_org)
                          AND EXISTS (SELECT 1 FROM consent_events n
                                       WHERE n.org_id = e.org_id AND n.phone = e.phone
                                         AND n.list_id IS NOT DISTINCT FROM e.list_id
                                         AND (n.created_at, n.id) > (e.created_at, e.id)
                                         AND n.created_at < now() - tocsin_consent_keep())
                        ORDER BY e.created_at LIMIT v_limit) RETURNING 1)
        SELECT count(*) INTO v_n FROM d;
        RETURN QUERY SELECT v_n, v_after, v_n < v_limit;
    ELSE
        RAISE EXCEPTION 'unknown retention kind "%"', p_kind USING ERRCODE = '22023';
    END IF;
END $$;

-- What a run calls, batch after batch: the batch of p_kind (NULL: the
-- first kind) from p_after, and where the next batch starts: the same kind
-- further on, or the next kind from 0, or next_kind NULL when the run is
-- over. The kinds are tocsin_retention_kinds(), here only, so a kind added
-- there is run by the worker and tocsinctl alike.
CREATE OR REPLACE FUNCTION tocsin_retention_step(p_kind text, p_org bigint, p_after bigint, p_limit int)
RETURNS TABLE (kind text, changed int, next_kind text, next_after bigint) LANGUAGE plpgsql AS $$
DECLARE
    v_kinds text[] := tocsin_retention_kinds();
    v_kind text := coalesce(p_kind, v_kinds[1]);
    v_b record;
BEGIN
    IF array_position(v_kinds, v_kind) IS NULL THEN
        RAISE EXCEPTION 'unknown retention kind "%"', v_kind USING ERRCODE = '22023';
    END IF;
    SELECT * INTO v_b FROM tocsin_retention_batch(v_kind, p_org, coalesce(p_after, 0), p_limit);
    RETURN QUERY SELECT v_kind, v_b.changed,
        CASE WHEN v_b.done THEN v_kinds[array_position(v_kinds, v_kind) + 1] ELSE v_kind END,
        CASE WHEN v_b.done THEN 0::bigint ELSE v_b.next_after END;
END $$;

-- The next time of day hour_utc after p_now.
CREATE OR REPLACE FUNCTION tocsin_retention_next_at(p_hour int, p_now timestamptz) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN t > p_now THEN t ELSE t + interval '1 day' END
      FROM (SELECT (date_trunc('day', p_now AT TIME ZONE 'UTC') + make_interval(hours => p_hour)) AT TIME ZONE 'UTC' AS t) x $$;

-- The worker asks this now and then: true for exactly one caller once
-- next_run_at has come (the row's update is the claim), which then runs
-- every kind. A schedule never set (a fresh install, or just upgraded)
-- is set to the next hour_utc instead of running in the middle of a day.
CREATE OR REPLACE FUNCTION tocsin_retention_claim(p_worker text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    v_claimed boolean;
BEGIN
    UPDATE retention_schedule SET next_run_at = tocsin_retention_next_at(hour_utc, now())
     WHERE id = 1 AND next_run_at IS NULL;
    UPDATE retention_schedule SET next_run_at = tocsin_retention_next_at(hour_utc, now()),
           last_started_at = now(), last_by = left(p_worker, 200)
     WHERE id = 1 AND next_run_at <= now()
    RETURNING true INTO v_claimed;
    RETURN coalesce(v_claimed, false);
END $$;

-- A run ended (the worker's or tocsinctl's): what it changed, per kind.
CREATE OR REPLACE FUNCTION tocsin_retention_finished(p_by text, p_counts jsonb) RETURNS void LANGUAGE sql AS $$
    UPDATE retention_schedule SET last_finished_at = now(), last_by = left(p_by, 200), last_counts = p_counts
     WHERE id = 1 $$;
