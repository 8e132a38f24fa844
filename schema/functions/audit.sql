-- SPDX-License-Identifier: AGPL-3.0-or-later
-- audit: the one way to write an audit row (tocsin_audit), the chain every
-- row joins as it is inserted (032; the hash is 0_audit_hash.sql), the
-- alerts raised from what is written (a lead's big export, a volunteer
-- claiming unusually many conversations), the admin's audit screen and its
-- CSV export, and the protection settings. The two-person rule for blasts
-- is blast_approval.sql.
--
-- A repeatable file: edited in place; tocsinctl migrate applies it again
-- when it changes (schema/README.md).

-- Writes one audit row and returns its id. p_actor NULL: the system or
-- the CLI. Every writer should call this; an INSERT INTO audit_events
-- written by hand is chained the same way by the trigger below.
CREATE OR REPLACE FUNCTION tocsin_audit(p_org bigint, p_actor bigint, p_action text, p_subject_type text,
                                        p_subject_id bigint, p_details jsonb)
RETURNS bigint LANGUAGE sql AS $$
    INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)
    VALUES (p_org, p_actor, p_action, p_subject_type, p_subject_id, coalesce(p_details, '{}'))
    RETURNING id
$$;

-- Before each insert: the row's place in its org's chain. The first audit
-- row of a transaction locks the org's head row until the transaction
-- ends, so a second writer waits here and then reads the head the first
-- one left (READ COMMITTED: the locking read sees the newest version).
-- Later rows of the same transaction take the place after the one before
-- from a transaction-local setting instead of the head: updating the head
-- for every row would leave a chain of row versions that each later
-- lookup walks (100,000 rows in one statement took minutes). The head is
-- brought up to date once per statement (tocsin_audit_chain_head below).
-- A subtransaction rolled back takes its rows, its head update and its
-- setting with it. Whatever seq or hash the writer gave is replaced.
CREATE OR REPLACE FUNCTION tocsin_audit_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_key text := 'tocsin.audit_chain_' || NEW.org_id;
    v_cached text := nullif(current_setting(v_key, true), '');
    v_seq bigint;
    v_prev bytea;
BEGIN
    IF v_cached IS NOT NULL AND split_part(v_cached, ':', 1) = txid_current()::text THEN
        v_seq := split_part(v_cached, ':', 2)::bigint;
        v_prev := decode(split_part(v_cached, ':', 3), 'hex');
    ELSE
        SELECT last_seq, last_hash INTO v_seq, v_prev FROM audit_chain_heads WHERE org_id = NEW.org_id FOR UPDATE;
        IF NOT FOUND THEN
            INSERT INTO audit_chain_heads (org_id) VALUES (NEW.org_id) ON CONFLICT DO NOTHING;
            SELECT last_seq, last_hash INTO v_seq, v_prev FROM audit_chain_heads
             WHERE org_id = NEW.org_id FOR UPDATE;
        END IF;
    END IF;
    NEW.seq := v_seq + 1;
    NEW.prev_hash := v_prev;
    NEW.details := coalesce(NEW.details, '{}');
    NEW.hash := tocsin_audit_hash(NEW.id, NEW.org_id, NEW.seq, NEW.created_at, NEW.user_id, NEW.action,
                                  NEW.subject_type, NEW.subject_id, NEW.details, NEW.prev_hash);
    PERFORM set_config(v_key, txid_current() || ':' || NEW.seq || ':' || encode(NEW.hash, 'hex'), true);
    RETURN NEW;
END $$;

CREATE OR REPLACE TRIGGER audit_events_chain BEFORE INSERT ON audit_events
    FOR EACH ROW EXECUTE FUNCTION tocsin_audit_chain();

-- After each statement that wrote audit rows: each org's head at its last
-- row (the head row is already locked by this transaction).
CREATE OR REPLACE FUNCTION tocsin_audit_chain_head() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE audit_chain_heads h SET last_seq = x.seq, last_hash = x.hash
      FROM (SELECT DISTINCT ON (n.org_id) n.org_id, n.seq, n.hash FROM new_rows n ORDER BY n.org_id, n.seq DESC) x
     WHERE h.org_id = x.org_id;
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER audit_events_chain_head AFTER INSERT ON audit_events
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tocsin_audit_chain_head();

-- Removes an org's rows written before p_before (retention) and moves the
-- chain's anchor to the last one removed, so that what remains still
-- verifies. Returns how many rows it removed. The rows must go from the
-- start of the chain: removing any other row shows as a broken link.
CREATE OR REPLACE FUNCTION tocsin_audit_prune(p_org bigint, p_before timestamptz, p_limit int)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    v_last audit_events;
    v_count int;
BEGIN
    PERFORM 1 FROM audit_chain_heads WHERE org_id = p_org FOR UPDATE;
    SELECT * INTO v_last FROM (
        SELECT e.* FROM audit_events e WHERE e.org_id = p_org ORDER BY e.seq LIMIT greatest(p_limit, 0)) x
     WHERE x.created_at < p_before
     ORDER BY x.seq DESC LIMIT 1;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    DELETE FROM audit_alerts WHERE org_id = p_org AND audit_event_id IN (
        SELECT id FROM audit_events WHERE org_id = p_org AND seq <= v_last.seq);
    DELETE FROM audit_events WHERE org_id = p_org AND seq <= v_last.seq;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    UPDATE audit_chain_heads SET anchor_seq = v_last.seq, anchor_hash = v_last.hash WHERE org_id = p_org;
    RETURN v_count;
END $$;

-- The actions that hand member data out of Tocsin, each with its row count
-- in details.rows: a lead's export above the org's alert_export_over
-- raises an alert.
CREATE OR REPLACE FUNCTION tocsin_audit_is_export(p_action text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT p_action IN ('list.export', 'opt_outs.export', 'outreach.export_answers', 'outreach.export_opt_outs',
                        'audit.export')
$$;

-- After an audit row that may raise an alert (the trigger's WHEN: an
-- export or a claim by a person; every other row costs nothing here): an
-- export by anyone but an admin above the org's threshold; a claim by a
-- volunteer that takes her count of the last hour above the org's
-- threshold (one open alert per volunteer an hour).
CREATE OR REPLACE FUNCTION tocsin_audit_alerts() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_org orgs;
    v_role text;
    v_claimed bigint;
BEGIN
    SELECT * INTO v_org FROM orgs WHERE id = NEW.org_id;
    SELECT role INTO v_role FROM users WHERE id = NEW.user_id;
    IF tocsin_audit_is_export(NEW.action) THEN
        IF v_role <> 'admin' AND v_org.alert_export_over IS NOT NULL
           AND coalesce(NEW.details->>'rows', '') ~ '^[0-9]{1,12}$'
           AND (NEW.details->>'rows')::bigint > v_org.alert_export_over THEN
            INSERT INTO audit_alerts (org_id, kind, user_id, audit_event_id, details)
            VALUES (NEW.org_id, 'export', NEW.user_id, NEW.id,
                    jsonb_build_object('action', NEW.action, 'rows', (NEW.details->>'rows')::bigint,
                                       'limit', v_org.alert_export_over));
        END IF;
        RETURN NULL;
    END IF;
    IF v_role <> 'volunteer' OR v_org.alert_claims_per_hour IS NULL
       OR EXISTS (SELECT 1 FROM audit_alerts a
                   WHERE a.org_id = NEW.org_id AND a.user_id = NEW.user_id AND a.kind = 'claims'
                     AND a.acknowledged_at IS NULL AND a.created_at > now() - interval '1 hour') THEN
        RETURN NULL;
    END IF;
    SELECT coalesce(sum(CASE WHEN e.action = 'outreach.claim'
                             THEN coalesce((e.details->>'claimed')::int, 0) ELSE 1 END), 0)
      INTO v_claimed
      FROM audit_events e
     WHERE e.org_id = NEW.org_id AND e.user_id = NEW.user_id AND e.created_at > now() - interval '1 hour'
       AND e.action IN ('conversation.claim', 'outreach.claim');
    IF v_claimed > v_org.alert_claims_per_hour THEN
        INSERT INTO audit_alerts (org_id, kind, user_id, audit_event_id, details)
        VALUES (NEW.org_id, 'claims', NEW.user_id, NEW.id,
                jsonb_build_object('claimed_last_hour', v_claimed, 'limit', v_org.alert_claims_per_hour));
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER audit_events_alerts AFTER INSERT ON audit_events
    FOR EACH ROW
    WHEN (NEW.user_id IS NOT NULL
          AND (tocsin_audit_is_export(NEW.action) OR NEW.action IN ('conversation.claim', 'outreach.claim')))
    EXECUTE FUNCTION tocsin_audit_alerts();

-- The screen's filters, from the query string as a JSON object of text:
-- user (an id), action ("blast" matches blast.*), from and to (dates or
-- times; a date alone for "to" means the whole day), before (an id: the
-- next page), limit (1 to 200, default 50). Raises 22023 naming the one
-- that is wrong.
CREATE OR REPLACE FUNCTION tocsin_audit_filters(p_f jsonb, OUT user_id bigint, OUT action text,
                                                OUT from_at timestamptz, OUT to_at timestamptz,
                                                OUT before bigint, OUT lim int)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v text;
BEGIN
    v := nullif(btrim(coalesce(p_f->>'user', '')), '');
    IF v IS NOT NULL THEN
        IF v !~ '^[1-9][0-9]{0,17}$' THEN
            RAISE EXCEPTION 'invalid user "%": pick a person from the list', left(v, 20) USING ERRCODE = '22023';
        END IF;
        user_id := v::bigint;
    END IF;
    action := nullif(btrim(coalesce(p_f->>'action', '')), '');
    IF action IS NOT NULL AND action !~ '^[a-z_.]{1,64}$' THEN
        RAISE EXCEPTION 'invalid action "%": lower-case letters, dots and underscores', left(action, 20)
            USING ERRCODE = '22023';
    END IF;
    FOREACH v IN ARRAY ARRAY['from', 'to'] LOOP
        DECLARE
            t text := nullif(btrim(coalesce(p_f->>v, '')), '');
            at timestamptz;
        BEGIN
            CONTINUE WHEN t IS NULL;
            IF length(t) > 40 THEN
                RAISE EXCEPTION 'invalid %: give a date such as 2026-12-07', v USING ERRCODE = '22023';
            END IF;
            BEGIN
                at := t::timestamptz;
            EXCEPTION WHEN OTHERS THEN
                RAISE EXCEPTION 'invalid % "%": give a date such as 2026-12-07', v, t USING ERRCODE = '22023';
            END;
            IF v = 'from' THEN
                from_at := at;
            ELSE
                to_at := CASE WHEN t ~ '^\d{4}-\d{2}-\d{2}$' THEN at + interval '1 day' ELSE at END;
            END IF;
        END;
    END LOOP;
    v := nullif(btrim(coalesce(p_f->>'before', '')), '');
    IF v IS NOT NULL THEN
        IF v !~ '^[1-9][0-9]{0,17}$' THEN
            RAISE EXCEPTION 'invalid before "%": a row id', left(v, 20) USING ERRCODE = '22023';
        END IF;
        before := v::bigint;
    END IF;
    v := nullif(btrim(coalesce(p_f->>'limit', '')), '');
    lim := 50;
    IF v IS NOT NULL THEN
        IF v !~ '^[0-9]{1,4}$' OR v::int NOT BETWEEN 1 AND 200 THEN
            RAISE EXCEPTION 'invalid limit "%": 1 to 200', left(v, 20) USING ERRCODE = '22023';
        END IF;
        lim := v::int;
    END IF;
END $$;

-- The org's rows the filters select, newest first, at most p_limit, each
-- with the person who acted.
CREATE OR REPLACE FUNCTION tocsin_audit_rows(p_org bigint, p_f jsonb, p_limit int)
RETURNS TABLE (id bigint, created_at timestamptz, user_id bigint, person text, email text, action text,
               subject_type text, subject_id bigint, details jsonb)
LANGUAGE sql STABLE AS $$
    SELECT e.id, e.created_at, e.user_id, u.display_name, u.email, e.action, e.subject_type, e.subject_id,
           e.details
      FROM tocsin_audit_filters(p_f) f
      JOIN audit_events e ON e.org_id = p_org
      LEFT JOIN users u ON u.id = e.user_id
     WHERE (f.user_id IS NULL OR e.user_id = f.user_id)
       AND (f.action IS NULL OR e.action = f.action OR e.action LIKE f.action || '.%')
       AND (f.from_at IS NULL OR e.created_at >= f.from_at)
       AND (f.to_at IS NULL OR e.created_at < f.to_at)
       AND (f.before IS NULL OR e.id < f.before)
     ORDER BY e.id DESC
     LIMIT p_limit
$$;

-- GET /api/audit: one page, the id to ask for the next one (null: none),
-- and the actions the org's rows use (for the filter's menu).
CREATE OR REPLACE FUNCTION tocsin_audit_page(p_org bigint, p_f jsonb, OUT status int, OUT body json)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_lim int;
BEGIN
    SELECT f.lim INTO v_lim FROM tocsin_audit_filters(p_f) f;
    WITH r AS (SELECT * FROM tocsin_audit_rows(p_org, p_f, v_lim + 1))
    SELECT 200, json_build_object(
               'rows', coalesce((SELECT json_agg(json_build_object(
                                     'id', x.id, 'at', x.created_at, 'user_id', x.user_id, 'person', x.person,
                                     'email', x.email, 'action', x.action, 'subject_type', x.subject_type,
                                     'subject_id', x.subject_id, 'details', x.details) ORDER BY x.id DESC)
                                   FROM (SELECT * FROM r ORDER BY r.id DESC LIMIT v_lim) x), '[]'),
               'next_before', CASE WHEN (SELECT count(*) FROM r) > v_lim
                                   THEN (SELECT min(y.id) FROM (SELECT r.id FROM r ORDER BY r.id DESC LIMIT v_lim) y)
                              END,
               'actions', (SELECT coalesce(json_agg(a.action ORDER BY a.action), '[]') FROM (
                               SELECT DISTINCT z.action FROM (SELECT e.action FROM audit_events e
                                                               WHERE e.org_id = p_org
                                                               ORDER BY e.id DESC LIMIT 20000) z) a))
      INTO status, body;
EXCEPTION WHEN SQLSTATE '22023' THEN
    status := 400;
    body := tocsin_api_error(400, 'invalid', SQLERRM);
END $$;

-- GET /api/audit.csv: every row the filters select (no paging; at most
-- 100,000), written to the audit itself with its count and filters.
CREATE OR REPLACE FUNCTION tocsin_audit_export(p_org bigint, p_user bigint, p_f jsonb)
RETURNS TABLE (id bigint, at text, person text, email text, action text, subject text, details text)
LANGUAGE plpgsql AS $$
DECLARE
    v_rows int;
BEGIN
    RETURN QUERY
        SELECT r.id, to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
               coalesce(r.person, CASE WHEN r.user_id IS NULL THEN 'system' END), r.email, r.action,
               CASE WHEN r.subject_type IS NULL THEN NULL ELSE r.subject_type || coalesce(' ' || r.subject_id, '') END,
               r.details::text
          FROM tocsin_audit_rows(p_org, (p_f - 'before' - 'limit'), 100000) r;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    PERFORM tocsin_audit(p_org, p_user, 'audit.export', NULL, NULL,
                         jsonb_build_object('rows', v_rows, 'filters', p_f - 'limit' - 'before'));
END $$;

-- The org's alerts, open ones first, newest first (50), and how many are
-- open: the admin's badge.
CREATE OR REPLACE FUNCTION tocsin_audit_alerts_list(p_org bigint, OUT status int, OUT body json)
LANGUAGE sql STABLE AS $$
    SELECT 200, json_build_object(
        'open', (SELECT count(*) FROM audit_alerts WHERE org_id = p_org AND acknowledged_at IS NULL),
        'alerts', coalesce((SELECT json_agg(json_build_object(
                                'id', a.id, 'kind', a.kind, 'at', a.created_at, 'user_id', a.user_id,
                                'person', u.display_name, 'email', u.email, 'details', a.details,
                                'audit_event_id', a.audit_event_id, 'acknowledged_at', a.acknowledged_at,
                                'acknowledged_by', k.display_name)
                            ORDER BY a.acknowledged_at IS NOT NULL, a.id DESC)
                              FROM (SELECT * FROM audit_alerts WHERE org_id = p_org
                                     ORDER BY acknowledged_at IS NOT NULL, id DESC LIMIT 50) a
                              JOIN users u ON u.id = a.user_id
                              LEFT JOIN users k ON k.id = a.acknowledged_by), '[]'))
$$;

-- An admin acknowledges an alert of her org (audited); again is a no-op
-- that says when and by whom. No row: not this org's (404).
CREATE OR REPLACE FUNCTION tocsin_audit_alert_ack(p_org bigint, p_user bigint, p_alert bigint)
RETURNS TABLE (status int, body json) LANGUAGE plpgsql AS $$
DECLARE
    v audit_alerts;
BEGIN
    UPDATE audit_alerts SET acknowledged_by = p_user, acknowledged_at = now()
     WHERE id = p_alert AND org_id = p_org AND acknowledged_at IS NULL
    RETURNING * INTO v;
    IF FOUND THEN
        PERFORM tocsin_audit(p_org, p_user, 'alert.acknowledge', 'alert', p_alert,
                             jsonb_build_object('kind', v.kind, 'user_id', v.user_id, 'details', v.details));
    ELSE
        SELECT * INTO v FROM audit_alerts WHERE id = p_alert AND org_id = p_org;
        IF NOT FOUND THEN
            RETURN;
        END IF;
    END IF;
    RETURN QUERY SELECT 200, json_build_object('id', v.id, 'acknowledged_at', v.acknowledged_at,
                                               'acknowledged_by', v.acknowledged_by);
END $$;

-- The protection settings (032) as the settings screen reads them.
CREATE OR REPLACE FUNCTION tocsin_protection_settings(p_org bigint, OUT status int, OUT body json)
LANGUAGE sql STABLE AS $$
    SELECT 200, json_build_object('alert_export_over', alert_export_over,
                                  'alert_claims_per_hour', alert_claims_per_hour,
                                  'blast_approval_over', blast_approval_over)
      FROM orgs WHERE id = p_org
$$;

-- Saves them: each given as text, '' turns it off, absent (NULL) leaves
-- it. Audits old and new values of what changed.
CREATE OR REPLACE FUNCTION tocsin_protection_settings_save(p_org bigint, p_user bigint, p_export text,
                                                           p_claims text, p_approval text)
RETURNS TABLE (status int, body json) LANGUAGE plpgsql AS $$
DECLARE
    v_old orgs;
    v_vals int[] := ARRAY[NULL, NULL, NULL];
    v_names text[] := ARRAY['alert_export_over', 'alert_claims_per_hour', 'blast_approval_over'];
    v_his int[] := ARRAY[10000000, 100000, 100000000];
    v_texts text[] := ARRAY[p_export, p_claims, p_approval];
    v_changes jsonb := '{}';
    i int;
BEGIN
    SELECT * INTO v_old FROM orgs WHERE id = p_org FOR UPDATE;
    v_vals := ARRAY[v_old.alert_export_over, v_old.alert_claims_per_hour, v_old.blast_approval_over];
    FOR i IN 1..3 LOOP
        CONTINUE WHEN v_texts[i] IS NULL;
        IF btrim(v_texts[i]) = '' THEN
            v_vals[i] := NULL;
        ELSIF btrim(v_texts[i]) !~ '^[0-9]{1,9}$' OR btrim(v_texts[i])::int NOT BETWEEN 1 AND v_his[i] THEN
            RETURN QUERY SELECT 400, tocsin_api_error(400, 'invalid',
                format('invalid %s "%s": a whole number from 1 to %s, or empty for off', v_names[i],
                       left(v_texts[i], 20), v_his[i]));
            RETURN;
        ELSE
            v_vals[i] := btrim(v_texts[i])::int;
        END IF;
        IF v_vals[i] IS DISTINCT FROM (ARRAY[v_old.alert_export_over, v_old.alert_claims_per_hour,
                                             v_old.blast_approval_over])[i] THEN
            v_changes := v_changes || jsonb_build_object(v_names[i], jsonb_build_object(
                'old', (ARRAY[v_old.alert_export_over, v_old.alert_claims_per_hour, v_old.blast_approval_over])[i],
                'new', v_vals[i]));
        END IF;
    END LOOP;
    UPDATE orgs SET alert_export_over = v_vals[1], alert_claims_per_hour = v_vals[2], blast_approval_over = v_vals[3]
     WHERE id = p_org;
    IF v_changes <> '{}' THEN
        PERFORM tocsin_audit(p_org, p_user, 'org.protection', 'org', p_org, v_changes);
    END IF;
    RETURN QUERY SELECT s.status, s.body FROM tocsin_protection_settings(p_org) s;
END $$;

-- An alert raised or acknowledged is announced (NOTIFY tocsin_alerts, at
-- commit) with its org and id only: each dashboard passes it to that
-- org's admins' open streams (dashboard/events_alerts.c), never to leads,
-- volunteers or another org, and the page reads the alert through the
-- API, which scopes it again.
CREATE OR REPLACE FUNCTION tocsin_audit_alert_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tocsin_alerts', json_build_object(
        'org_id', NEW.org_id, 'alert_id', NEW.id,
        'event', CASE WHEN TG_OP = 'INSERT' THEN 'raised' ELSE 'acknowledged' END)::text);
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER audit_alerts_notify AFTER INSERT OR UPDATE OF acknowledged_at ON audit_alerts
    FOR EACH ROW EXECUTE FUNCTION tocsin_audit_alert_notify();
