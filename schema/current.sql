--
-- PostgreSQL database dump
--




--
-- Name: tocsin_acting_account_guard(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_acting_account_guard() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM users u WHERE u.id = NEW.user_id AND u.national_user_id IS NOT NULL) THEN
        RAISE EXCEPTION 'a national admin''s acting account has no % of its own: she signs in to her own organisation',
            TG_ARGV[0] USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;


--
-- Name: tocsin_acting_visits_end(bigint, bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_acting_visits_end(p_org bigint, p_user bigint) RETURNS integer
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_s sessions;
    v_n int := 0;
BEGIN
    FOR v_s IN SELECT * FROM sessions s WHERE s.acting_org_id = p_org AND s.acting_user_id = p_user
                  FOR UPDATE
    LOOP
        PERFORM tocsin_chapter_window_end(v_s);
        v_n := v_n + 1;
    END LOOP;
    RETURN v_n;
END $$;


--
-- Name: tocsin_api_error(integer, text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_api_error(p_status integer, p_code text, p_message text) RETURNS json
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT json_build_object('error', json_build_object('status', p_status, 'code', p_code,
                                                        'message', p_message)) $$;


--
-- Name: tocsin_apply_receipt(text, text, bigint, text, text, jsonb); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_apply_receipt(p_provider text, p_message_id text, p_sender_id bigint, p_status text, p_error_code text, p_payload jsonb) RETURNS text
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: tocsin_apply_receipt_batch(text[], text[], bigint[], text[], text[], jsonb[]); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_apply_receipt_batch(p_provider text[], p_message_id text[], p_sender_id bigint[], p_status text[], p_error_code text[], p_payload jsonb[]) RETURNS TABLE(outcome text, ord integer)
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: tocsin_audit(bigint, bigint, text, text, bigint, jsonb); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_audit(p_org bigint, p_actor bigint, p_action text, p_subject_type text, p_subject_id bigint, p_details jsonb) RETURNS bigint
    LANGUAGE sql
    AS $$
    INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)
    VALUES (p_org, p_actor, p_action, p_subject_type, p_subject_id, coalesce(p_details, '{}'))
    RETURNING id
$$;


--
-- Name: tocsin_audit_alert_ack(bigint, bigint, bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_audit_alert_ack(p_org bigint, p_user bigint, p_alert bigint) RETURNS TABLE(status integer, body json)
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: tocsin_audit_alert_notify(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_audit_alert_notify() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM pg_notify('tocsin_alerts', json_build_object(
        'org_id', NEW.org_id, 'alert_id', NEW.id,
        'event', CASE WHEN TG_OP = 'INSERT' THEN 'raised' ELSE 'acknowledged' END)::text);
    RETURN NULL;
END $$;


--
-- Name: tocsin_audit_alerts(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_audit_alerts() RETURNS trigger
    LANGUAGE plpgsql
    AS $_$
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
END $_$;


--
-- Name: tocsin_audit_alerts_list(bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_audit_alerts_list(p_org bigint, OUT status integer, OUT body json) RETURNS record
    LANGUAGE sql STABLE
    AS $$
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


--
-- Name: tocsin_audit_chain(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_audit_chain() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: tocsin_audit_chain_head(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_audit_chain_head() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    UPDATE audit_chain_heads h SET last_seq = x.seq, last_hash = x.hash
      FROM (SELECT DISTINCT ON (n.org_id) n.org_id, n.seq, n.hash FROM new_rows n ORDER BY n.org_id, n.seq DESC) x
     WHERE h.org_id = x.org_id;
    RETURN NULL;
END $$;


--
-- Name: tocsin_audit_export(bigint, bigint, jsonb); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_audit_export(p_org bigint, p_user bigint, p_f jsonb) RETURNS TABLE(id bigint, at text, person text, email text, action text, subject text, details text)
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: tocsin_audit_field(text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_audit_field(p text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT CASE WHEN p IS NULL THEN 'N;' ELSE 'S' || octet_length(p) || ':' || p || ';' END $$;


--
-- Name: tocsin_audit_filters(jsonb); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_audit_filters(p_f jsonb, OUT user_id bigint, OUT action text, OUT from_at timestamp with time zone, OUT to_at timestamp with time zone, OUT before bigint, OUT lim integer) RETURNS record
    LANGUAGE plpgsql STABLE
    AS $_$
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
END $_$;


--
-- Name: tocsin_audit_hash(bigint, bigint, bigint, timestamp with time zone, bigint, text, text, bigint, jsonb, bytea); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_audit_hash(p_id bigint, p_org bigint, p_seq bigint, p_at timestamp with time zone, p_user bigint, p_action text, p_subject_type text, p_subject_id bigint, p_details jsonb, p_prev bytea) RETURNS bytea
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT sha256(p_prev || convert_to(
        'tocsin-audit-v1;' || tocsin_audit_field(p_id::text) || tocsin_audit_field(p_org::text)
        || tocsin_audit_field(p_seq::text)
        || tocsin_audit_field((extract(epoch FROM p_at) * 1000000)::bigint::text)
        || tocsin_audit_field(p_user::text) || tocsin_audit_field(p_action)
        || tocsin_audit_field(p_subject_type) || tocsin_audit_field(p_subject_id::text)
        || tocsin_audit_field(p_details::text), 'UTF8'))
$$;


--
-- Name: tocsin_audit_is_export(text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_audit_is_export(p_action text) RETURNS boolean
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT p_action IN ('list.export', 'opt_outs.export', 'outreach.export_answers', 'outreach.export_opt_outs',
                        'audit.export')
$$;


--
-- Name: tocsin_audit_page(bigint, jsonb); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_audit_page(p_org bigint, p_f jsonb, OUT status integer, OUT body json) RETURNS record
    LANGUAGE plpgsql STABLE
    AS $$
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


--
-- Name: tocsin_audit_prune(bigint, timestamp with time zone, integer); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_audit_prune(p_org bigint, p_before timestamp with time zone, p_limit integer) RETURNS integer
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: tocsin_audit_rows(bigint, jsonb, integer); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_audit_rows(p_org bigint, p_f jsonb, p_limit integer) RETURNS TABLE(id bigint, created_at timestamp with time zone, user_id bigint, person text, email text, action text, subject_type text, subject_id bigint, details jsonb)
    LANGUAGE sql STABLE
    AS $$
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


--
-- Name: tocsin_blast_approval_json(bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_blast_approval_json(p_blast bigint) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
    SELECT jsonb_build_object(
        'threshold', o.blast_approval_over,
        'audience', a.n,
        'required', o.blast_approval_over IS NOT NULL AND coalesce(a.n, b.recipients) > o.blast_approval_over,
        'created_by', b.created_by, 'created_by_name', cu.display_name,
        'approved_by', b.approved_by, 'approved_by_name', au.display_name,
        'approved_at', b.approved_at, 'approved_count', b.approved_count)
      FROM blasts b
      JOIN orgs o ON o.id = b.org_id
      LEFT JOIN users cu ON cu.id = b.created_by
      LEFT JOIN users au ON au.id = b.approved_by
      CROSS JOIN LATERAL (SELECT CASE WHEN b.state IN ('draft', 'scheduled')
                                      THEN tocsin_blast_audience_count(b.id) END AS n) a
     WHERE b.id = p_blast
$$;


--
-- Name: tocsin_blast_approval_void(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_blast_approval_void() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF OLD.approved_at IS NOT NULL AND NEW.approved_at IS NOT DISTINCT FROM OLD.approved_at THEN
        NEW.approved_by := NULL;
        NEW.approved_at := NULL;
        NEW.approved_count := NULL;
        PERFORM tocsin_audit(NEW.org_id, NULL, 'blast.approval_void', 'blast', NEW.id,
                             jsonb_build_object('approved_by', OLD.approved_by, 'reason', 'the blast was edited'));
    END IF;
    RETURN NEW;
END $$;


--
-- Name: tocsin_blast_approve(bigint, bigint, bigint, bigint, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_blast_approve(p_org bigint, p_blast bigint, p_user bigint, p_count bigint, p_source text) RETURNS void
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_b blasts;
    v_count bigint;
BEGIN
    IF p_source IS NULL OR p_source NOT IN ('dashboard', 'cli') THEN
        RAISE EXCEPTION 'invalid approval source "%": dashboard or cli', left(p_source, 40) USING ERRCODE = '22023';
    END IF;
    v_b := tocsin_blast_lock(p_org, p_blast);
    IF v_b.state NOT IN ('draft', 'scheduled') THEN
        RAISE EXCEPTION 'blast % cannot be approved: it is %', p_blast, v_b.state USING ERRCODE = '55000';
    END IF;
    IF p_user IS NULL OR NOT EXISTS (SELECT 1 FROM users WHERE id = p_user AND org_id = v_b.org_id
                                                           AND role IN ('lead', 'admin') AND disabled_at IS NULL) THEN
        RAISE EXCEPTION 'only a lead or an admin of the org can approve a blast' USING ERRCODE = '55000';
    END IF;
    IF v_b.created_by IS NOT DISTINCT FROM p_user THEN
        RAISE EXCEPTION 'you created blast %: a second lead or an admin must approve it', p_blast USING ERRCODE = '55000';
    END IF;
    v_count := tocsin_blast_audience_count(p_blast);
    IF p_count IS NULL OR p_count <> v_count THEN
        RAISE EXCEPTION 'the audience is now % members, not the % you saw: look again before approving', v_count,
            coalesce(p_count::text, 'unknown') USING ERRCODE = '55000';
    END IF;
    UPDATE blasts SET approved_by = p_user, approved_at = now(), approved_count = v_count WHERE id = p_blast;
    PERFORM tocsin_audit(v_b.org_id, p_user, 'blast.approve', 'blast', p_blast,
                         jsonb_build_object('count', v_count, 'body', v_b.body, 'list_id', v_b.list_id,
                                            'filter', v_b.filter, 'created_by', v_b.created_by,
                                            'source', p_source));
END $$;


--
-- Name: tocsin_blast_audience_count(bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_blast_audience_count(p_blast bigint) RETURNS bigint
    LANGUAGE plpgsql STABLE
    AS $_$
DECLARE
    v_b blasts;
    v_count bigint;
BEGIN
    SELECT * INTO v_b FROM blasts WHERE id = p_blast;
    EXECUTE format('SELECT count(*) FROM tocsin_lead_audience($1, $2) a JOIN contacts c ON c.id = a.contact_id WHERE %s',
                   CASE WHEN v_b.filter ? 'field'
                        THEN format('lower(%s) = lower($3)', tocsin_blast_field_sql(v_b.filter->>'field'))
                        ELSE 'true' END)
       INTO v_count USING v_b.org_id, v_b.list_id, v_b.filter->>'equals';
    RETURN v_count;
END $_$;


--
-- Name: tocsin_blast_audit(bigint, bigint, text, bigint, jsonb); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_blast_audit(p_org bigint, p_user bigint, p_action text, p_blast bigint, p_details jsonb) RETURNS void
    LANGUAGE sql
    AS $$
    SELECT FROM tocsin_audit(p_org, p_user, p_action, 'blast', p_blast, p_details)
$$;


--
-- Name: tocsin_blast_body_parts(text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_blast_body_parts(p_body text) RETURNS TABLE(n integer, literal text, field text, fallback text)
    LANGUAGE sql IMMUTABLE
    AS $$
    WITH lit AS (SELECT t.l, t.i FROM regexp_split_to_table(p_body, tocsin_blast_field_re())
                                      WITH ORDINALITY AS t(l, i)),
         ph AS (SELECT t.m[1] AS f, t.m[2] AS fb, t.i
                  FROM regexp_matches(p_body, tocsin_blast_field_re(), 'g') WITH ORDINALITY AS t(m, i))
    SELECT lit.i::int, lit.l, lower(ph.f), ph.fb FROM lit LEFT JOIN ph ON ph.i = lit.i ORDER BY lit.i
$$;


--
-- Name: tocsin_blast_cancel(bigint, bigint, bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_blast_cancel(p_org bigint, p_blast bigint, p_user bigint) RETURNS integer
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_b blasts := tocsin_blast_lock(p_org, p_blast);
    v_count int;
    v_unfed int;
BEGIN
    IF v_b.state NOT IN ('draft', 'scheduled', 'sending', 'paused') THEN
        RAISE EXCEPTION 'blast % cannot be cancelled: it is %', p_blast, v_b.state USING ERRCODE = '55000';
    END IF;
    UPDATE blasts SET state = 'cancelled', completed_at = now(), unfed = 0 WHERE id = p_blast;
    -- Its messages waiting in the outbox, by outbox_blast (those in
    -- flight go on: tocsin_unqueue).
    v_count := tocsin_unqueue(array(SELECT o.id FROM outbox o WHERE o.blast_id = p_blast),
                              'the blast was cancelled');
    WITH d AS (DELETE FROM blast_audience WHERE blast_id = p_blast RETURNING cardinality(contact_ids) AS n)
    SELECT coalesce(sum(n), 0)::int INTO v_unfed FROM d;
    IF v_unfed > 0 THEN
        INSERT INTO blast_counter_deltas (blast_id, queued, cancelled) VALUES (p_blast, -v_unfed, v_unfed);
    END IF;
    PERFORM tocsin_blast_audit(v_b.org_id, p_user, 'blast.cancel', p_blast,
                               jsonb_build_object('messages_cancelled', v_count, 'recipients_not_queued', v_unfed));
    RETURN v_count + v_unfed;
END $$;


--
-- Name: tocsin_blast_check_approval(bigint, bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_blast_check_approval(p_blast bigint, p_count bigint) RETURNS void
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    v_b blasts;
    v_over int;
    v_count bigint := p_count;
BEGIN
    SELECT * INTO v_b FROM blasts WHERE id = p_blast;
    SELECT blast_approval_over INTO v_over FROM orgs WHERE id = v_b.org_id;
    IF v_over IS NULL THEN
        RETURN;
    END IF;
    v_count := coalesce(v_count, tocsin_blast_audience_count(p_blast));
    IF v_count <= v_over THEN
        RETURN;
    END IF;
    IF v_b.approved_at IS NULL THEN
        RAISE EXCEPTION 'blast % reaches % members, more than the % this org lets one person send: a second lead or an admin must approve it first',
            p_blast, v_count, v_over USING ERRCODE = '55000';
    END IF;
    IF v_count > v_b.approved_count + greatest(v_b.approved_count / 10, 10) THEN
        RAISE EXCEPTION 'blast % now reaches % members, more than the % it was approved for: it must be approved again',
            p_blast, v_count, v_b.approved_count USING ERRCODE = '55000';
    END IF;
END $$;


--
-- Name: tocsin_blast_check_body(text, bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_blast_check_body(p_body text, p_list bigint) RETURNS void
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_rest text;
    v_field text;
    v_max int;
BEGIN
    IF p_body IS NULL OR length(p_body) = 0 OR length(p_body) > 1600 THEN
        RAISE EXCEPTION 'invalid body: must be 1 to 1600 characters' USING ERRCODE = '22023';
    END IF;
    v_rest := regexp_replace(p_body, tocsin_blast_field_re(), '', 'g');
    IF v_rest ~ '[{}]' THEN
        RAISE EXCEPTION 'invalid body: "%" is not a field; fields are {name} or {name|fallback}, and braces are for fields only',
            coalesce(substring(p_body FROM '\{[^{}]*\}?'), substring(p_body FROM '[^{}]{0,20}\}')) USING ERRCODE = '22023';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM tocsin_blast_body_parts(p_body) p
                    WHERE p.literal ~ '\S' OR coalesce(p.fallback, '') ~ '\S') THEN
        RAISE EXCEPTION 'invalid body: it has no text of its own and could render empty' USING ERRCODE = '22023';
    END IF;
    SELECT sum(length(p.literal) + CASE WHEN p.field IS NULL THEN 0 ELSE greatest(100, length(p.fallback)) END)
      INTO v_max FROM tocsin_blast_body_parts(p_body) p;
    IF v_max > 1600 THEN
        RAISE EXCEPTION 'invalid body: up to % characters once its fields are filled in (values count up to 100 each); the limit is 1600', v_max
            USING ERRCODE = '22023';
    END IF;
    FOR v_field IN SELECT DISTINCT p.field FROM tocsin_blast_body_parts(p_body) p WHERE p.field IS NOT NULL LOOP
        PERFORM tocsin_blast_check_field(v_field, p_list, 'body');
    END LOOP;
END $$;


--
-- Name: tocsin_blast_check_field(text, bigint, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_blast_check_field(p_field text, p_list bigint, p_where text) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF NOT tocsin_blast_is_column(p_field) AND NOT EXISTS (
            SELECT 1 FROM subscriptions s JOIN contacts c ON c.id = s.contact_id
             WHERE s.list_id = p_list AND c.fields ? lower(p_field)) THEN
        RAISE EXCEPTION 'unknown field "%" in %: not a contact column (first_name, last_name, zip, phone, timezone) nor a field of anyone on the list',
            p_field, p_where USING ERRCODE = '22023';
    END IF;
END $$;


--
-- Name: tocsin_blast_count_changes(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_blast_count_changes() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF current_setting('tocsin.blast_counted', true) = 'on' THEN
        RETURN NULL;
    END IF;
    INSERT INTO blast_counter_deltas (blast_id, queued, sending, sent, delivered, undelivered, failed,
                                      unknown, suppressed, cancelled)
    SELECT x.blast_id,
           coalesce(sum(x.w) FILTER (WHERE x.state = 'queued'), 0),
           coalesce(sum(x.w) FILTER (WHERE x.state = 'sending'), 0),
           coalesce(sum(x.w) FILTER (WHERE x.state = 'sent'), 0),
           coalesce(sum(x.w) FILTER (WHERE x.state = 'delivered'), 0),
           coalesce(sum(x.w) FILTER (WHERE x.state = 'undelivered'), 0),
           coalesce(sum(x.w) FILTER (WHERE x.state = 'failed'), 0),
           coalesce(sum(x.w) FILTER (WHERE x.state = 'unknown'), 0),
           coalesce(sum(x.w) FILTER (WHERE x.state = 'suppressed'), 0),
           coalesce(sum(x.w) FILTER (WHERE x.state = 'cancelled'), 0)
      FROM (SELECT n.blast_id, n.state, 1 AS w FROM new_rows n WHERE n.blast_id IS NOT NULL
            UNION ALL
            SELECT o.blast_id, o.state, -1 FROM old_rows o WHERE o.blast_id IS NOT NULL) x
     GROUP BY x.blast_id
    HAVING sum(x.w) FILTER (WHERE x.state = 'queued') <> 0 OR sum(x.w) FILTER (WHERE x.state = 'sending') <> 0
        OR sum(x.w) FILTER (WHERE x.state = 'sent') <> 0 OR sum(x.w) FILTER (WHERE x.state = 'delivered') <> 0
        OR sum(x.w) FILTER (WHERE x.state = 'undelivered') <> 0 OR sum(x.w) FILTER (WHERE x.state = 'failed') <> 0
        OR sum(x.w) FILTER (WHERE x.state = 'unknown') <> 0 OR sum(x.w) FILTER (WHERE x.state = 'suppressed') <> 0
        OR sum(x.w) FILTER (WHERE x.state = 'cancelled') <> 0;
    RETURN NULL;
END $$;


--
-- Name: tocsin_blast_count_opt_outs(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_blast_count_opt_outs() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    INSERT INTO blast_counter_deltas (blast_id, opted_out)
    SELECT b.id, count(DISTINCT n.phone)
      FROM new_rows n
      JOIN messages m ON m.org_id = n.org_id AND m.to_phone = n.phone AND m.blast_id IS NOT NULL
      JOIN blasts b ON b.id = m.blast_id AND b.state IN ('sending', 'paused')
     GROUP BY b.id;
    RETURN NULL;
END $$;


--
-- Name: tocsin_blast_create(bigint, bigint, bigint, bigint, text, jsonb); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_blast_create(p_org bigint, p_user bigint, p_sender bigint, p_list bigint, p_body text, p_filter jsonb) RETURNS bigint
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_id bigint;
    v_err text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM senders WHERE id = p_sender AND org_id = p_org) THEN
        RAISE EXCEPTION 'sender % does not exist in org %', p_sender, p_org USING ERRCODE = '22023';
    END IF;
    IF EXISTS (SELECT 1 FROM senders WHERE id = p_sender AND disabled_at IS NOT NULL) THEN
        RAISE EXCEPTION 'sender % is disabled: an admin enables it on the Senders page', p_sender
            USING ERRCODE = '22023';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM lists WHERE id = p_list AND org_id = p_org) THEN
        RAISE EXCEPTION 'list % does not exist in org %', p_list, p_org USING ERRCODE = '22023';
    END IF;
    v_err := tocsin_blast_filter_error(coalesce(p_filter, '{}'));
    IF v_err IS NOT NULL THEN
        RAISE EXCEPTION 'invalid filter %: %', p_filter, v_err USING ERRCODE = '22023';
    END IF;
    IF coalesce(p_filter, '{}') ? 'field' THEN
        PERFORM tocsin_blast_check_field(p_filter->>'field', p_list, 'filter');
    END IF;
    PERFORM tocsin_blast_check_body(p_body, p_list);
    INSERT INTO blasts (org_id, sender_id, list_id, filter, body, created_by)
    VALUES (p_org, p_sender, p_list, coalesce(p_filter, '{}'), p_body, p_user)
    RETURNING id INTO v_id;
    PERFORM tocsin_blast_audit(p_org, p_user, 'blast.create', v_id,
                               jsonb_build_object('sender_id', p_sender, 'list_id', p_list, 'filter', p_filter));
    RETURN v_id;
END $$;


--
-- Name: tocsin_blast_feed(bigint, integer, timestamp with time zone); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_blast_feed(p_blast bigint, p_chunks integer, p_now timestamp with time zone) RETURNS integer
    LANGUAGE plpgsql
    AS $_$
DECLARE
    v_b record;
    v_fed int;
    v_queued int;
    v_stopped int;
BEGIN
    -- The org's texting hours, read once per feed: each message gets its
    -- window (the org's start; the earlier of the org's and its number's
    -- end), which the claim applies in the recipient's zones.
    SELECT b.*, s.provider, o.texting_hours_start, o.texting_hours_end INTO v_b
      FROM blasts b JOIN senders s ON s.id = b.sender_id JOIN orgs o ON o.id = b.org_id
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
            SELECT z.prefix, z.zones, least(z.quiet_end_hour, $8)::smallint AS quiet_end_hour,
                   coalesce(tocsin_quiet_window_start(z.zones, least(z.quiet_end_hour, $8), $5, $7), $5) AS opens
              FROM phone_zones z
        ), ins AS (
            INSERT INTO messages (org_id, sender_id, provider, contact_id, to_phone, body, encoding, segments,
                                  lane, purpose, blast_id, recipient_zones, quiet_end_hour, quiet_start_hour,
                                  not_before, created_at, updated_at, state, error_message, finalized_at)
            SELECT $1, $2, $3, x.contact_id, x.phone, x.body,
                   CASE WHEN x.code %% 2 = 0 THEN 'GSM-7' ELSE 'UCS-2' END, x.code / 2,
                   'bulk', 'blast', $4, x.zones, x.end_hour, $7, x.opens, $5, $5,
                   CASE WHEN x.stopped THEN 'cancelled' ELSE 'queued' END,
                   CASE WHEN x.stopped THEN 'the member opted out before it was sent' END,
                   CASE WHEN x.stopped THEN $5 END
              FROM (SELECT r.*, tocsin_sms_code(r.body) AS code FROM (
                        SELECT c.id AS contact_id, c.phone, %1$s AS body,
                               CASE WHEN t.name IS NULL THEN z.zones ELSE ARRAY[t.name] END AS zones,
                               z.quiet_end_hour AS end_hour,
                               CASE WHEN t.name IS NULL THEN z.opens
                                    ELSE tocsin_quiet_window_start_zone(t.name, z.quiet_end_hour, $5, $7) END AS opens,
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
    USING v_b.org_id, v_b.sender_id, v_b.provider, v_b.id, p_now, p_chunks, v_b.texting_hours_start,
          v_b.texting_hours_end;
    UPDATE blasts SET unfed = unfed - v_fed WHERE id = p_blast;
    IF v_fed > v_queued THEN
        INSERT INTO blast_counter_deltas (blast_id, queued, cancelled, opted_out)
        VALUES (p_blast, v_queued - v_fed, v_fed - v_queued, v_stopped);
    END IF;
    RETURN v_fed;
END $_$;


--
-- Name: tocsin_blast_feed_ahead(numeric); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_blast_feed_ahead(p_mps numeric) RETURNS integer
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT greatest(2000, least(20000, ceil(p_mps * 5)))::int
$$;


--
-- Name: tocsin_blast_field_re(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_blast_field_re() RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT '\{([A-Za-z_][A-Za-z0-9_]{0,63})(?:\|([^{}|]*))?\}'
$$;


--
-- Name: tocsin_blast_field_sql(text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_blast_field_sql(p_field text) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT CASE lower(p_field)
               WHEN 'first_name' THEN 'c.first_name' WHEN 'last_name' THEN 'c.last_name'
               WHEN 'zip' THEN 'c.zip' WHEN 'phone' THEN 'c.phone' WHEN 'timezone' THEN 'c.timezone'
               ELSE format('(c.fields->>%L)', lower(p_field)) END
$$;


--
-- Name: tocsin_blast_filter_error(jsonb); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_blast_filter_error(p_filter jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $_$
    SELECT CASE
        WHEN p_filter IS NULL OR jsonb_typeof(p_filter) <> 'object' THEN 'a filter must be a JSON object'
        WHEN p_filter = '{}' THEN NULL
        WHEN EXISTS (SELECT 1 FROM jsonb_object_keys(p_filter) k WHERE k NOT IN ('field', 'equals'))
            THEN 'a filter has exactly the keys "field" and "equals"'
        WHEN jsonb_typeof(p_filter->'field') IS DISTINCT FROM 'string'
             OR NOT (p_filter->>'field') ~ '^[A-Za-z_][A-Za-z0-9_]{0,63}$'
            THEN '"field" must name a contact field (letters, digits and _)'
        WHEN jsonb_typeof(p_filter->'equals') IS DISTINCT FROM 'string' OR length(p_filter->>'equals') > 200
            THEN '"equals" must be a string of at most 200 characters'
    END
$_$;


--
-- Name: tocsin_blast_fold_counters(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_blast_fold_counters() RETURNS integer
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_count int;
BEGIN
    WITH d AS (DELETE FROM blast_counter_deltas RETURNING *),
    s AS (SELECT blast_id, sum(queued) AS queued, sum(sending) AS sending, sum(sent) AS sent,
                 sum(delivered) AS delivered, sum(undelivered) AS undelivered, sum(failed) AS failed,
                 sum(unknown) AS unknown, sum(suppressed) AS suppressed, sum(cancelled) AS cancelled,
                 sum(opted_out) AS opted_out
            FROM d GROUP BY blast_id)
    UPDATE blasts b SET queued = b.queued + s.queued, sending = b.sending + s.sending,
           sent = b.sent + s.sent, delivered = b.delivered + s.delivered,
           undelivered = b.undelivered + s.undelivered, failed = b.failed + s.failed,
           unknown = b.unknown + s.unknown, suppressed = b.suppressed + s.suppressed,
           cancelled = b.cancelled + s.cancelled, opted_out = b.opted_out + s.opted_out
      FROM s WHERE b.id = s.blast_id;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END $$;


--
-- Name: tocsin_blast_is_column(text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_blast_is_column(p_field text) RETURNS boolean
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT lower(p_field) IN ('first_name', 'last_name', 'zip', 'phone', 'timezone')
$$;



--
-- Name: blasts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.blasts (
    id bigint NOT NULL,
    org_id bigint NOT NULL,
    sender_id bigint NOT NULL,
    list_id bigint NOT NULL,
    filter jsonb DEFAULT '{}'::jsonb NOT NULL,
    body text NOT NULL,
    scheduled_at timestamp with time zone,
    state text DEFAULT 'draft'::text NOT NULL,
    recipients integer DEFAULT 0 NOT NULL,
    queued integer DEFAULT 0 NOT NULL,
    sent integer DEFAULT 0 NOT NULL,
    delivered integer DEFAULT 0 NOT NULL,
    failed integer DEFAULT 0 NOT NULL,
    suppressed integer DEFAULT 0 NOT NULL,
    cancelled integer DEFAULT 0 NOT NULL,
    opted_out integer DEFAULT 0 NOT NULL,
    created_by bigint,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    sending integer DEFAULT 0 NOT NULL,
    undelivered integer DEFAULT 0 NOT NULL,
    unknown integer DEFAULT 0 NOT NULL,
    started_at timestamp with time zone,
    completed_at timestamp with time zone,
    unfed integer DEFAULT 0 NOT NULL,
    approved_by bigint,
    approved_at timestamp with time zone,
    approved_count integer,
    CONSTRAINT blasts_approval_whole CHECK ((((approved_by IS NULL) = (approved_at IS NULL)) AND ((approved_at IS NULL) = (approved_count IS NULL)))),
    CONSTRAINT blasts_body_check CHECK (((length(body) >= 1) AND (length(body) <= 1600))),
    CONSTRAINT blasts_cancelled_check CHECK ((cancelled >= 0)),
    CONSTRAINT blasts_check CHECK (((state <> 'scheduled'::text) OR (scheduled_at IS NOT NULL))),
    CONSTRAINT blasts_delivered_check CHECK ((delivered >= 0)),
    CONSTRAINT blasts_failed_check CHECK ((failed >= 0)),
    CONSTRAINT blasts_filter_check CHECK ((jsonb_typeof(filter) = 'object'::text)),
    CONSTRAINT blasts_filter_valid CHECK ((public.tocsin_blast_filter_error(filter) IS NULL)),
    CONSTRAINT blasts_opted_out_check CHECK ((opted_out >= 0)),
    CONSTRAINT blasts_queued_check CHECK ((queued >= 0)),
    CONSTRAINT blasts_recipients_check CHECK ((recipients >= 0)),
    CONSTRAINT blasts_sending_check CHECK ((sending >= 0)),
    CONSTRAINT blasts_sent_check CHECK ((sent >= 0)),
    CONSTRAINT blasts_state_check CHECK ((state = ANY (ARRAY['draft'::text, 'scheduled'::text, 'expanding'::text, 'sending'::text, 'paused'::text, 'cancelled'::text, 'completed'::text]))),
    CONSTRAINT blasts_suppressed_check CHECK ((suppressed >= 0)),
    CONSTRAINT blasts_undelivered_check CHECK ((undelivered >= 0)),
    CONSTRAINT blasts_unfed_check CHECK ((unfed >= 0)),
    CONSTRAINT blasts_unknown_check CHECK ((unknown >= 0))
);


--
-- Name: tocsin_blast_lock(bigint, bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_blast_lock(p_org bigint, p_blast bigint) RETURNS public.blasts
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_b blasts;
BEGIN
    SELECT * INTO v_b FROM blasts WHERE id = p_blast AND (p_org IS NULL OR org_id = p_org) FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'blast % does not exist', p_blast USING ERRCODE = 'P0002';
    END IF;
    RETURN v_b;
END $$;


--
-- Name: tocsin_blast_longest_scan(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_blast_longest_scan() RETURNS integer
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT 50000 $$;


--
-- Name: tocsin_blast_notify(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_blast_notify() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM pg_notify('tocsin_blasts', json_build_object('org_id', NEW.org_id, 'blast_id', NEW.id)::text);
    RETURN NULL;
END $$;


--
-- Name: tocsin_blast_pause(bigint, bigint, bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_blast_pause(p_org bigint, p_blast bigint, p_user bigint) RETURNS void
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_b blasts := tocsin_blast_lock(p_org, p_blast);
BEGIN
    IF v_b.state <> 'sending' THEN
        RAISE EXCEPTION 'blast % cannot be paused: it is %', p_blast, v_b.state USING ERRCODE = '55000';
    END IF;
    UPDATE blasts SET state = 'paused' WHERE id = p_blast;
    PERFORM tocsin_blast_audit(v_b.org_id, p_user, 'blast.pause', p_blast, NULL);
END $$;


--
-- Name: tocsin_blast_render(text, bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_blast_render(p_body text, p_contact bigint) RETURNS text
    LANGUAGE plpgsql STABLE
    AS $_$
DECLARE
    v_out text;
BEGIN
    EXECUTE format('SELECT %s FROM contacts c WHERE c.id = $1', tocsin_blast_render_sql(p_body))
       INTO v_out USING p_contact;
    RETURN v_out;
END $_$;


--
-- Name: tocsin_blast_render_sql(text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_blast_render_sql(p_body text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE
    AS $$
DECLARE
    v_part record;
    v_pieces text[] := '{}';
BEGIN
    FOR v_part IN SELECT * FROM tocsin_blast_body_parts(p_body) LOOP
        IF v_part.literal <> '' THEN
            v_pieces := v_pieces || quote_literal(v_part.literal);
        END IF;
        IF v_part.field IS NOT NULL THEN
            v_pieces := v_pieces || format('coalesce(nullif(left(%s, 100), %L), %L)',
                                           tocsin_blast_field_sql(v_part.field), '',
                                           coalesce(v_part.fallback, ''));
        END IF;
    END LOOP;
    RETURN CASE WHEN cardinality(v_pieces) = 0 THEN '''''' ELSE array_to_string(v_pieces, ' || ') END;
END $$;


--
-- Name: tocsin_blast_resume(bigint, bigint, bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_blast_resume(p_org bigint, p_blast bigint, p_user bigint) RETURNS void
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_b blasts := tocsin_blast_lock(p_org, p_blast);
BEGIN
    IF v_b.state <> 'paused' THEN
        RAISE EXCEPTION 'blast % cannot be resumed: it is %', p_blast, v_b.state USING ERRCODE = '55000';
    END IF;
    UPDATE blasts SET state = 'sending' WHERE id = p_blast;
    PERFORM tocsin_blast_audit(v_b.org_id, p_user, 'blast.resume', p_blast, NULL);
END $$;


--
-- Name: tocsin_blast_schedule(bigint, bigint, bigint, timestamp with time zone); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_blast_schedule(p_org bigint, p_blast bigint, p_user bigint, p_at timestamp with time zone) RETURNS timestamp with time zone
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_b blasts := tocsin_blast_lock(p_org, p_blast);
BEGIN
    IF v_b.state NOT IN ('draft', 'scheduled') THEN
        RAISE EXCEPTION 'blast % cannot be scheduled: it is %', p_blast, v_b.state USING ERRCODE = '55000';
    END IF;
    -- The two-person rule (blast_approval.sql), for every caller.
    PERFORM tocsin_blast_check_approval(p_blast, NULL);
    UPDATE blasts SET state = 'scheduled', scheduled_at = coalesce(p_at, now()) WHERE id = p_blast;
    PERFORM tocsin_blast_audit(v_b.org_id, p_user, 'blast.schedule', p_blast,
                               jsonb_build_object('at', coalesce(p_at, now())));
    RETURN coalesce(p_at, now());
END $$;


--
-- Name: tocsin_blast_snapshot(bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_blast_snapshot(p_blast bigint) RETURNS integer
    LANGUAGE plpgsql
    AS $_$
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
END $_$;


--
-- Name: tocsin_blast_status(bigint, bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_blast_status(p_org bigint, p_blast bigint) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
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


--
-- Name: tocsin_blasts_tick(timestamp with time zone); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_blasts_tick(p_now timestamp with time zone) RETURNS integer
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: tocsin_chapter_create(bigint, bigint, text, text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_chapter_create(p_org bigint, p_admin bigint, p_name text, p_slug text, p_region text) RETURNS TABLE(status integer, body json)
    LANGUAGE plpgsql
    AS $_$
DECLARE
    v_national boolean;
    v_name text := btrim(coalesce(p_name, ''));
    v_slug text := lower(btrim(coalesce(p_slug, '')));
    v_id bigint;
BEGIN
    SELECT o.national INTO v_national FROM orgs o WHERE o.id = p_org;
    IF v_national IS DISTINCT FROM true THEN
        RETURN QUERY SELECT 404, tocsin_api_error(404, 'not_found', 'this organisation has no chapters');
        RETURN;
    END IF;
    IF length(v_name) NOT BETWEEN 1 AND 200 THEN
        RETURN QUERY SELECT 400, tocsin_api_error(400, 'invalid', 'give the chapter a name of at most 200 characters');
        RETURN;
    END IF;
    IF v_slug !~ '^[a-z0-9][a-z0-9-]{0,62}$' THEN
        RETURN QUERY SELECT 400, tocsin_api_error(400, 'invalid',
            'a short name is 1 to 63 lower-case letters, digits and dashes, starting with a letter or digit');
        RETURN;
    END IF;
    IF p_region !~ '^[A-Z]{2}$' THEN
        RETURN QUERY SELECT 400, tocsin_api_error(400, 'invalid',
            format('invalid phone_region "%s": two upper-case letters, e.g. MX', left(p_region, 20)));
        RETURN;
    END IF;
    IF EXISTS (SELECT 1 FROM orgs WHERE slug = v_slug) THEN
        RETURN QUERY SELECT 409, tocsin_api_error(409, 'conflict', format('the short name "%s" is taken', v_slug));
        RETURN;
    END IF;
    INSERT INTO orgs (slug, name, parent_org_id, phone_region) VALUES (v_slug, v_name, p_org, p_region)
    RETURNING id INTO v_id;
    INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)
    VALUES (p_org, p_admin, 'chapter.create', 'org', v_id,
            jsonb_build_object('name', v_name, 'slug', v_slug, 'phone_region', p_region)),
           (v_id, NULL, 'org.create', 'org', v_id,
            jsonb_build_object('national_org_id', p_org, 'national_user_id', p_admin));
    RETURN QUERY SELECT 201, json_build_object('id', v_id, 'name', v_name, 'slug', v_slug, 'phone_region', p_region);
END $_$;


--
-- Name: tocsin_chapter_enter(bigint, bigint, bigint, bigint, text, integer); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_chapter_enter(p_org bigint, p_admin bigint, p_session bigint, p_chapter bigint, p_reason text, p_minutes integer) RETURNS TABLE(status integer, body json)
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_s sessions;
    v_c orgs;
    v_me users;
    v_reason text := btrim(coalesce(p_reason, ''));
    v_minutes int := coalesce(p_minutes, 60);
    v_acting bigint;
    v_until timestamptz;
BEGIN
    SELECT * INTO v_s FROM sessions s WHERE s.id = p_session FOR UPDATE;
    IF v_s.id IS NULL OR v_s.org_id <> p_org OR v_s.user_id <> p_admin THEN
        IF v_s.acting_org_id = p_org THEN
            RETURN QUERY SELECT 409, tocsin_api_error(409, 'conflict', 'you are acting in a chapter: leave it first');
        ELSE
            RETURN QUERY SELECT 404, tocsin_api_error(404, 'not_found', 'no such chapter');
        END IF;
        RETURN;
    END IF;
    v_c := tocsin_chapter_of(p_org, p_chapter);
    IF v_c.id IS NULL THEN
        RETURN QUERY SELECT 404, tocsin_api_error(404, 'not_found', 'no such chapter');
        RETURN;
    END IF;
    IF length(v_reason) < 3 OR length(v_reason) > 500 THEN
        RETURN QUERY SELECT 400, tocsin_api_error(400, 'invalid',
            'say why you are entering the chapter (3 to 500 characters): it is recorded in both organisations');
        RETURN;
    END IF;
    IF v_minutes NOT BETWEEN 5 AND 240 THEN
        RETURN QUERY SELECT 400, tocsin_api_error(400, 'invalid', 'the window is 5 to 240 minutes');
        RETURN;
    END IF;
    -- A window that ran out by itself ends on the record before the next.
    PERFORM tocsin_chapter_window_end(v_s);
    SELECT * INTO v_me FROM users WHERE id = p_admin;
    INSERT INTO users (org_id, email, display_name, role, national_user_id)
    VALUES (v_c.id, v_me.email, left(coalesce(nullif(v_me.display_name, ''), v_me.email), 180) || ' (national)',
            'admin', p_admin)
    ON CONFLICT (org_id, national_user_id) WHERE national_user_id IS NOT NULL
    DO UPDATE SET email = EXCLUDED.email, display_name = EXCLUDED.display_name, role = 'admin', disabled_at = NULL
    RETURNING id INTO v_acting;
    v_until := now() + make_interval(mins => v_minutes);
    UPDATE sessions SET acting_org_id = v_c.id, acting_user_id = v_acting, acting_until = v_until
     WHERE id = p_session;
    INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)
    VALUES (p_org, p_admin, 'chapter.enter', 'org', v_c.id,
            jsonb_build_object('reason', v_reason, 'until', v_until, 'chapter', v_c.name)),
           (v_c.id, v_acting, 'national.enter', 'user', v_acting,
            jsonb_build_object('reason', v_reason, 'until', v_until, 'national_org_id', p_org,
                               'national_user_id', p_admin, 'email', v_me.email));
    RETURN QUERY SELECT 200, json_build_object('chapter', json_build_object('id', v_c.id, 'name', v_c.name),
                                               'until', v_until);
END $$;


--
-- Name: tocsin_chapter_invite(bigint, bigint, bigint, text, bytea); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_chapter_invite(p_org bigint, p_admin bigint, p_chapter bigint, p_email text, p_token_hash bytea) RETURNS TABLE(status integer, body json)
    LANGUAGE plpgsql
    AS $_$
DECLARE
    v_c orgs;
    v_email text := nullif(btrim(coalesce(p_email, '')), '');
    v_invite invites;
BEGIN
    v_c := tocsin_chapter_of(p_org, p_chapter);
    IF v_c.id IS NULL THEN
        RETURN QUERY SELECT 404, tocsin_api_error(404, 'not_found', 'no such chapter');
        RETURN;
    END IF;
    IF v_email IS NOT NULL AND (length(v_email) > 254 OR v_email !~ '^[^@\s]+@[^@\s]+\.[^@\s]+$') THEN
        RETURN QUERY SELECT 400, tocsin_api_error(400, 'invalid', 'that email address is not valid');
        RETURN;
    END IF;
    IF v_email IS NOT NULL AND EXISTS (SELECT 1 FROM users WHERE lower(email) = lower(v_email)
                                          AND national_user_id IS NULL) THEN
        RETURN QUERY SELECT 409, tocsin_api_error(409, 'conflict', 'someone already has an account with that email');
        RETURN;
    END IF;
    INSERT INTO invites (org_id, token_hash, email, role, created_by, expires_at)
    VALUES (v_c.id, p_token_hash, v_email, 'admin', NULL, now() + interval '7 days')
    RETURNING * INTO v_invite;
    INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)
    VALUES (p_org, p_admin, 'chapter.invite', 'org', v_c.id,
            jsonb_build_object('invite_id', v_invite.id, 'email', v_email, 'role', 'admin')),
           (v_c.id, NULL, 'invite.create', 'invite', v_invite.id,
            jsonb_build_object('role', 'admin', 'email', v_email, 'national_org_id', p_org,
                               'national_user_id', p_admin));
    RETURN QUERY SELECT 201, json_build_object('id', v_invite.id, 'chapter_id', v_c.id, 'role', 'admin',
                                               'email', v_email, 'expires_at', v_invite.expires_at);
END $_$;


--
-- Name: tocsin_chapter_leave(bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_chapter_leave(p_session bigint) RETURNS TABLE(status integer, body json)
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_s sessions;
    v_chapter bigint;
BEGIN
    SELECT * INTO v_s FROM sessions s WHERE s.id = p_session FOR UPDATE;
    v_chapter := tocsin_chapter_window_end(v_s);
    RETURN QUERY SELECT 200, json_build_object('left', v_chapter IS NOT NULL, 'chapter_id', v_chapter);
END $$;


--
-- Name: sessions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.sessions (
    id bigint NOT NULL,
    org_id bigint NOT NULL,
    user_id bigint NOT NULL,
    token_hash bytea NOT NULL,
    csrf_token text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    last_seen_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    remote_addr text,
    acting_org_id bigint,
    acting_user_id bigint,
    acting_until timestamp with time zone,
    stage text DEFAULT 'full'::text NOT NULL,
    factor_attempts smallint DEFAULT 0 NOT NULL,
    user_agent text,
    CONSTRAINT sessions_acting_whole CHECK ((((acting_org_id IS NULL) = (acting_user_id IS NULL)) AND ((acting_org_id IS NULL) = (acting_until IS NULL)))),
    CONSTRAINT sessions_check CHECK ((expires_at > created_at)),
    CONSTRAINT sessions_csrf_token_check CHECK ((length(csrf_token) >= 32)),
    CONSTRAINT sessions_factor_attempts_check CHECK (((factor_attempts >= 0) AND (factor_attempts <= 10))),
    CONSTRAINT sessions_stage_check CHECK ((stage = ANY (ARRAY['full'::text, 'code'::text, 'enrol'::text]))),
    CONSTRAINT sessions_token_hash_check CHECK ((length(token_hash) = 32)),
    CONSTRAINT sessions_user_agent_check CHECK ((length(user_agent) <= 256))
);


--
-- Name: tocsin_chapter_left(public.sessions, boolean); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_chapter_left(p_s public.sessions, p_session_ended boolean) RETURNS void
    LANGUAGE sql
    AS $$
    INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)
    SELECT p_s.org_id, p_s.user_id, 'chapter.leave', 'org', p_s.acting_org_id,
           jsonb_build_object('expired', p_s.acting_until <= now(), 'until', p_s.acting_until,
                              'session_ended', p_session_ended)
     WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = p_s.user_id)
    UNION ALL
    SELECT p_s.acting_org_id, p_s.acting_user_id, 'national.leave', 'user', p_s.acting_user_id,
           jsonb_build_object('expired', p_s.acting_until <= now(), 'until', p_s.acting_until,
                              'session_ended', p_session_ended, 'national_org_id', p_s.org_id,
                              'national_user_id', p_s.user_id)
     WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = p_s.acting_user_id)
$$;


--
-- Name: orgs; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.orgs (
    id bigint NOT NULL,
    slug text NOT NULL,
    name text NOT NULL,
    parent_org_id bigint,
    help_text text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    volunteer_max_conversations integer DEFAULT 25 NOT NULL,
    help_text_es text,
    texting_hours_start smallint DEFAULT 8 NOT NULL,
    texting_hours_end smallint DEFAULT 21 NOT NULL,
    release_after_minutes integer,
    "national" boolean DEFAULT false NOT NULL,
    require_two_factor boolean DEFAULT true NOT NULL,
    alert_export_over integer DEFAULT 1000,
    alert_claims_per_hour integer DEFAULT 200,
    blast_approval_over integer,
    retain_outbound_days integer DEFAULT 365 NOT NULL,
    retain_inbound_days integer DEFAULT 365 NOT NULL,
    retain_session_days integer DEFAULT 30 NOT NULL,
    retain_audit_days integer DEFAULT 730 NOT NULL,
    volunteer_fields text[] DEFAULT '{first_name}'::text[] NOT NULL,
    phone_region text,
    CONSTRAINT orgs_alert_claims_per_hour_check CHECK (((alert_claims_per_hour >= 1) AND (alert_claims_per_hour <= 100000))),
    CONSTRAINT orgs_alert_export_over_check CHECK (((alert_export_over >= 1) AND (alert_export_over <= 10000000))),
    CONSTRAINT orgs_blast_approval_over_check CHECK (((blast_approval_over >= 1) AND (blast_approval_over <= 100000000))),
    CONSTRAINT orgs_check CHECK ((parent_org_id IS DISTINCT FROM id)),
    CONSTRAINT orgs_help_text_check CHECK ((length(help_text) <= 1600)),
    CONSTRAINT orgs_help_text_es_check CHECK ((length(help_text_es) <= 1600)),
    CONSTRAINT orgs_name_check CHECK (((length(name) >= 1) AND (length(name) <= 200))),
    CONSTRAINT orgs_national_top CHECK (((NOT "national") OR (parent_org_id IS NULL))),
    CONSTRAINT orgs_phone_region_code CHECK ((phone_region ~ '^[A-Z]{2}$'::text)),
    CONSTRAINT orgs_release_after_minutes_check CHECK (((release_after_minutes >= 5) AND (release_after_minutes <= 10080))),
    CONSTRAINT orgs_retain_audit_days_check CHECK (((retain_audit_days >= 90) AND (retain_audit_days <= 3650))),
    CONSTRAINT orgs_retain_inbound_days_check CHECK (((retain_inbound_days >= 30) AND (retain_inbound_days <= 3650))),
    CONSTRAINT orgs_retain_outbound_days_check CHECK (((retain_outbound_days >= 30) AND (retain_outbound_days <= 3650))),
    CONSTRAINT orgs_retain_session_days_check CHECK (((retain_session_days >= 1) AND (retain_session_days <= 365))),
    CONSTRAINT orgs_slug_check CHECK ((slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'::text)),
    CONSTRAINT orgs_texting_hours_end_check CHECK (((texting_hours_end >= 9) AND (texting_hours_end <= 21))),
    CONSTRAINT orgs_texting_hours_order CHECK ((texting_hours_end > texting_hours_start)),
    CONSTRAINT orgs_texting_hours_start_check CHECK (((texting_hours_start >= 8) AND (texting_hours_start <= 20))),
    CONSTRAINT orgs_volunteer_fields_check CHECK ((cardinality(volunteer_fields) <= 50)),
    CONSTRAINT orgs_volunteer_max_conversations_check CHECK (((volunteer_max_conversations >= 1) AND (volunteer_max_conversations <= 500)))
);


--
-- Name: tocsin_chapter_of(bigint, bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_chapter_of(p_org bigint, p_chapter bigint) RETURNS public.orgs
    LANGUAGE sql
    AS $$
    SELECT c.* FROM orgs c JOIN orgs n ON n.id = c.parent_org_id
     WHERE c.id = p_chapter AND c.parent_org_id = p_org AND n.national FOR UPDATE OF c
$$;


--
-- Name: tocsin_chapter_window_end(public.sessions); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_chapter_window_end(p_session public.sessions) RETURNS bigint
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF p_session.acting_org_id IS NULL THEN
        RETURN NULL;
    END IF;
    UPDATE sessions SET acting_org_id = NULL, acting_user_id = NULL, acting_until = NULL WHERE id = p_session.id;
    PERFORM tocsin_chapter_left(p_session, false);
    RETURN p_session.acting_org_id;
END $$;


--
-- Name: tocsin_chapters(bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_chapters(p_org bigint) RETURNS TABLE(status integer, body json)
    LANGUAGE sql STABLE
    AS $$
    SELECT CASE WHEN o.national THEN 200 ELSE 404 END,
           CASE WHEN NOT o.national THEN tocsin_api_error(404, 'not_found', 'this organisation has no chapters')
           ELSE json_build_object(
               'org', json_build_object('id', o.id, 'name', o.name, 'slug', o.slug),
               'chapters', (SELECT coalesce(json_agg(json_build_object(
                   'id', c.id, 'name', c.name, 'slug', c.slug, 'created_at', c.created_at,
                   'phone_region', c.phone_region,
                   'members', (SELECT count(*) FROM contacts ct WHERE ct.org_id = c.id),
                   'senders', (SELECT count(*) FROM senders s WHERE s.org_id = c.id),
                   'people', (SELECT count(*) FROM users u WHERE u.org_id = c.id
                                AND u.national_user_id IS NULL AND u.disabled_at IS NULL),
                   'admins', (SELECT coalesce(json_agg(json_build_object(
                                  'email', u.email, 'display_name', u.display_name,
                                  'password_set', u.password_hash IS NOT NULL) ORDER BY lower(u.email)), '[]')
                                FROM users u WHERE u.org_id = c.id AND u.role = 'admin'
                                 AND u.national_user_id IS NULL AND u.disabled_at IS NULL),
                   'admin_invites', (SELECT count(*) FROM invites i WHERE i.org_id = c.id AND i.role = 'admin'
                                       AND i.used_at IS NULL AND i.expires_at > now()))
                   ORDER BY lower(c.name), c.id), '[]')
                   FROM orgs c WHERE c.parent_org_id = o.id))
           END
      FROM orgs o WHERE o.id = p_org
$$;


--
-- Name: tocsin_claim(bigint, text, integer, timestamp with time zone, integer); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_claim(p_sender bigint, p_worker text, p_limit integer, p_now timestamp with time zone, p_lease_seconds integer) RETURNS TABLE(id bigint, to_phone text, body text, segments integer, lane text, purpose text, validity_seconds integer)
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: tocsin_claims_held(text, bigint[]); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_claims_held(p_worker text, p_ids bigint[]) RETURNS TABLE(claim_id bigint, id bigint, blasts boolean)
    LANGUAGE sql STABLE
    AS $$
    SELECT c.id, x.id, c.blasts
      FROM claims c CROSS JOIN LATERAL unnest(c.message_ids) AS x(id)
     WHERE c.worker = p_worker
       AND c.lo <= (SELECT max(i) FROM unnest(p_ids) i) AND c.hi >= (SELECT min(i) FROM unnest(p_ids) i)
       AND x.id IN (SELECT i FROM unnest(p_ids) i)
$$;


--
-- Name: tocsin_claims_settle(bigint[]); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_claims_settle(p_claims bigint[]) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    WITH s AS (
        SELECT c AS claim_id, count(*) AS n FROM unnest(p_claims) c GROUP BY c
    ), upd AS (
        UPDATE claims k SET open = k.open - s.n FROM s WHERE k.id = s.claim_id AND k.open > s.n
    )
    DELETE FROM claims k USING s WHERE k.id = s.claim_id AND k.open <= s.n;
END $$;


--
-- Name: tocsin_claims_take(text, bigint[]); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_claims_take(p_worker text, p_ids bigint[]) RETURNS bigint[]
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: tocsin_consent_keep(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_consent_keep() RETURNS interval
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT interval '5 years' $$;


--
-- Name: tocsin_consent_reply(bigint, text, text, text[]); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_consent_reply(p_org bigint, p_kind text, p_lang text, p_lists text[]) RETURNS text
    LANGUAGE sql STABLE
    AS $$
    SELECT CASE
        WHEN p_lang = 'es' THEN CASE p_kind
            WHEN 'opt_out' THEN format('%s: te diste de baja y no recibirás más mensajes. Responde ALTA '
                                       'o START para volver.', o.name)
            WHEN 'opt_in' THEN CASE WHEN cardinality(p_lists) > 0
                THEN format('%s: vuelves a recibir nuestros mensajes de: %s. Mensajes recurrentes. Pueden aplicar '
                            'tarifas de mensajes y datos. Responde AYUDA para ayuda, ALTO para cancelar.',
                            o.name, array_to_string(p_lists, ', '))
                ELSE format('%s: puedes volver a recibir mensajes, pero no estás en ninguna lista. '
                            'Envía una palabra clave para unirte. Pueden aplicar tarifas de mensajes y '
                            'datos. Responde AYUDA para ayuda, ALTO para cancelar.', o.name) END
            ELSE coalesce(o.help_text_es,
                          format('%s: mensajes recurrentes, la frecuencia varía. Responde a este número '
                                 'para hablar con nosotros. Pueden aplicar tarifas de mensajes y datos. '
                                 'Responde ALTO para cancelar.', o.name)) END
        ELSE CASE p_kind
            WHEN 'opt_out' THEN format('%s: you are unsubscribed and will get no more messages. Reply '
                                       'START to resubscribe.', o.name)
            WHEN 'opt_in' THEN CASE WHEN cardinality(p_lists) > 0
                THEN format('%s: you are subscribed again to: %s. Recurring msgs. Msg&data rates may apply. '
                            'Reply HELP for help, STOP to cancel.', o.name, array_to_string(p_lists, ', '))
                ELSE format('%s: you can get our messages again, but you are on no list. Text a keyword '
                            'to join one. Msg&data rates may apply. Reply HELP for help, STOP to cancel.',
                            o.name) END
            ELSE coalesce(o.help_text,
                          format('%s: recurring msgs, frequency varies. Reply to this number to reach us. '
                                 'Msg&data rates may apply. Reply STOP to cancel.', o.name)) END
    END
      FROM orgs o WHERE o.id = p_org
$$;


--
-- Name: tocsin_contact_fields_shown(text[], jsonb); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_contact_fields_shown(p_seen text[], p_fields jsonb) RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE
    AS $$
BEGIN
    IF p_seen IS NULL THEN
        RETURN p_fields;
    END IF;
    RETURN (SELECT coalesce(jsonb_object_agg(f.key, f.value), '{}')
              FROM jsonb_each(coalesce(p_fields, '{}')) f WHERE f.key = ANY (p_seen));
END $$;


--
-- Name: tocsin_contact_forget(bigint, bigint, text, boolean); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_contact_forget(p_org bigint, p_user bigint, p_phone text, p_dry boolean) RETURNS TABLE(status integer, body json)
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_ct contacts;
    v_conv bigint[];
    v_n jsonb := '{}';
    v_kept jsonb;
    v_count bigint;
BEGIN
    SELECT * INTO v_ct FROM contacts c WHERE c.org_id = p_org AND c.phone = p_phone FOR UPDATE;
    IF v_ct.id IS NULL THEN
        RETURN QUERY SELECT 404, tocsin_api_error(404, 'not_found', 'no member of this org has that number');
        RETURN;
    END IF;
    -- Her messages being stored right now commit first and are forgotten
    -- too; any after wait for this (the inbound functions' lock on her
    -- number, taken after her contact's row as they do: inbound_links.sql).
    PERFORM pg_advisory_xact_lock(hashtextextended(p_org::text || p_phone, 0));
    SELECT coalesce(array_agg(c.id), '{}') INTO v_conv FROM conversations c WHERE c.org_id = p_org AND c.contact_id = v_ct.id;
    v_kept := jsonb_build_object(
        'opted_out', EXISTS (SELECT 1 FROM opt_outs o WHERE o.org_id = p_org AND o.phone = p_phone),
        'consent_events', (SELECT count(*) FROM consent_events e WHERE e.org_id = p_org AND e.phone = p_phone),
        'subscriptions', (SELECT count(*) FROM subscriptions s WHERE s.org_id = p_org AND s.contact_id = v_ct.id),
        'delivery_records', (SELECT count(*) FROM messages m WHERE m.org_id = p_org AND m.to_phone = p_phone),
        'consent_evidence_bodies', (SELECT count(*) FROM inbound_messages i WHERE i.org_id = p_org AND i.from_phone = p_phone
                                                                            AND tocsin_inbound_is_consent(i.intent)));
    IF p_dry THEN
        v_n := jsonb_build_object(
            'contact_details', CASE WHEN v_ct.forgotten_at IS NULL THEN 1 ELSE 0 END,
            'conversations', cardinality(v_conv),
            'notes', (SELECT count(*) FROM conversation_notes n WHERE n.conversation_id = ANY (v_conv)),
            'outbound_bodies', (SELECT count(*) FROM messages m WHERE m.org_id = p_org AND m.to_phone = p_phone
                                   AND m.body_removed_at IS NULL AND tocsin_message_shown_state(m.id, m.state) <> 'sending'),
            'inbound_bodies', (SELECT count(*) FROM inbound_messages i WHERE i.org_id = p_org AND i.from_phone = p_phone
                                  AND i.body_removed_at IS NULL AND NOT tocsin_inbound_is_consent(i.intent)),
            'outreach', (SELECT count(*) FROM outreach_targets t WHERE t.org_id = p_org AND t.contact_id = v_ct.id)
                      + (SELECT count(*) FROM outreach_answers a WHERE a.org_id = p_org AND a.contact_id = v_ct.id),
            'queued_cancelled', (SELECT count(*) FROM messages m WHERE m.org_id = p_org AND m.to_phone = p_phone
                                    AND tocsin_message_shown_state(m.id, m.state) = 'queued'),
            'subscriptions_ended', (SELECT count(*) FROM subscriptions s WHERE s.org_id = p_org AND s.contact_id = v_ct.id
                                       AND s.unsubscribed_at IS NULL));
        RETURN QUERY SELECT 200, json_build_object('dry_run', true, 'contact_id', v_ct.id,
                                                   'phone', tocsin_forget_masked(p_phone), 'removed', v_n, 'kept', v_kept);
        RETURN;
    END IF;
    -- Nothing queued for her goes out once her words are gone.
    v_count := tocsin_unqueue(array(SELECT m.id FROM messages m
                                     WHERE m.org_id = p_org AND m.to_phone = p_phone AND m.state = 'queued'),
                              'member forgotten');
    v_n := v_n || jsonb_build_object('queued_cancelled', v_count);
    -- Bodies: three disjoint parts, each found by one of messages'
    -- indexes (by conversation, by number for blasts, confirmations outside
    -- both), so no row is updated twice.
    WITH a AS (UPDATE messages m SET body_chars = length(m.body), body = '', body_removed_at = now()
                WHERE m.conversation_id = ANY (v_conv) AND m.body_removed_at IS NULL AND tocsin_message_shown_state(m.id, m.state) <> 'sending'
               RETURNING 1),
         b AS (UPDATE messages m SET body_chars = length(m.body), body = '', body_removed_at = now()
                WHERE m.org_id = p_org AND m.to_phone = p_phone AND m.blast_id IS NOT NULL
                  AND m.body_removed_at IS NULL AND tocsin_message_shown_state(m.id, m.state) <> 'sending'
                  AND (m.conversation_id IS NULL OR NOT m.conversation_id = ANY (v_conv))
               RETURNING 1),
         c AS (UPDATE messages m SET body_chars = length(m.body), body = '', body_removed_at = now()
                WHERE m.org_id = p_org AND m.to_phone = p_phone AND m.conversation_id IS NULL AND m.blast_id IS NULL
                  AND m.body_removed_at IS NULL AND tocsin_message_shown_state(m.id, m.state) <> 'sending'
               RETURNING 1)
    SELECT (SELECT count(*) FROM a) + (SELECT count(*) FROM b) + (SELECT count(*) FROM c) INTO v_count;
    v_n := v_n || jsonb_build_object('outbound_bodies', v_count);
    -- Then the links to her conversations (the bodies' first statement
    -- found its rows by them).
    UPDATE messages m SET conversation_id = NULL WHERE m.conversation_id = ANY (v_conv);
    WITH u AS (UPDATE inbound_messages i
                  SET body_chars = length(i.body), body = '', body_removed_at = now()
                WHERE i.org_id = p_org AND i.from_phone = p_phone AND i.body_removed_at IS NULL
                  AND NOT tocsin_inbound_is_consent(i.intent)
               RETURNING 1)
    SELECT count(*) INTO v_count FROM u;
    v_n := v_n || jsonb_build_object('inbound_bodies', v_count);
    UPDATE inbound_messages i SET conversation_id = NULL WHERE i.conversation_id = ANY (v_conv);
    UPDATE inbound_journal_failed f SET body = ''
      FROM senders s WHERE s.id = f.sender_id AND s.org_id = p_org AND f.from_phone = p_phone;
    WITH t AS (DELETE FROM outreach_targets WHERE org_id = p_org AND contact_id = v_ct.id RETURNING 1),
         a AS (DELETE FROM outreach_answers WHERE org_id = p_org AND contact_id = v_ct.id RETURNING 1)
    SELECT (SELECT count(*) FROM t) + (SELECT count(*) FROM a) INTO v_count;
    v_n := v_n || jsonb_build_object('outreach', v_count);
    SELECT count(*) INTO v_count FROM conversation_notes n WHERE n.conversation_id = ANY (v_conv);
    v_n := v_n || jsonb_build_object('notes', v_count);
    -- Notes and tags go with their conversation (ON DELETE CASCADE).
    DELETE FROM conversations WHERE org_id = p_org AND id = ANY (v_conv);
    v_n := v_n || jsonb_build_object('conversations', cardinality(v_conv));
    DELETE FROM blast_audience WHERE contact_ids = ARRAY[v_ct.id];
    UPDATE blast_audience SET contact_ids = array_remove(contact_ids, v_ct.id) WHERE contact_ids @> ARRAY[v_ct.id];
    -- Her subscriptions stay as consent history, ended: no more blasts.
    UPDATE subscriptions SET unsubscribed_at = now()
     WHERE org_id = p_org AND contact_id = v_ct.id AND unsubscribed_at IS NULL;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    v_n := v_n || jsonb_build_object('subscriptions_ended', v_count);
    UPDATE contacts SET first_name = NULL, last_name = NULL, zip = NULL, timezone = NULL, language = NULL,
           fields = '{}', forgotten_at = coalesce(forgotten_at, now()), updated_at = now()
     WHERE id = v_ct.id;
    v_n := v_n || jsonb_build_object('contact_details', CASE WHEN v_ct.forgotten_at IS NULL THEN 1 ELSE 0 END);
    INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)
    VALUES (p_org, nullif(p_user, 0), 'contact.forget', 'contact', v_ct.id,
            jsonb_build_object('phone', tocsin_forget_masked(p_phone), 'removed', v_n, 'kept', v_kept));
    RETURN QUERY SELECT 200, json_build_object('dry_run', false, 'contact_id', v_ct.id,
                                               'phone', tocsin_forget_masked(p_phone), 'removed', v_n, 'kept', v_kept);
END $$;


--
-- Name: tocsin_contact_org_update(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_contact_org_update() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM 1 FROM orgs o WHERE o.id = NEW.org_id FOR KEY SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'contact % would name org %, which does not exist', NEW.id, NEW.org_id
              USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END $$;


--
-- Name: tocsin_contact_render(text, bigint, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_contact_render(p_body text, p_contact bigint, p_role text) RETURNS text
    LANGUAGE plpgsql STABLE
    AS $_$
DECLARE
    v_out text;
BEGIN
    -- What the caller sees is asked once (OFFSET 0 keeps the subquery
    -- from being folded into each field's expression, one lookup each).
    EXECUTE format('SELECT %s FROM (SELECT tocsin_contact_shown(v.seen, ''first_name'', x.first_name) AS first_name,'
                   ' tocsin_contact_shown(v.seen, ''last_name'', x.last_name) AS last_name,'
                   ' tocsin_contact_shown(v.seen, ''zip'', x.zip) AS zip,'
                   ' tocsin_contact_shown(v.seen, ''timezone'', x.timezone) AS timezone,'
                   ' tocsin_contact_fields_shown(v.seen, x.fields) AS fields,'
                   ' tocsin_dashboard_phone(x.phone, $2) AS phone FROM contacts x,'
                   ' LATERAL (SELECT tocsin_contact_seen_fields(x.org_id, $2) AS seen OFFSET 0) v WHERE x.id = $1) c',
                   tocsin_blast_render_sql(p_body))
       INTO v_out USING p_contact, p_role;
    RETURN v_out;
END $_$;


--
-- Name: tocsin_contact_seen_fields(bigint, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_contact_seen_fields(p_org bigint, p_role text) RETURNS text[]
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    IF p_role IS DISTINCT FROM 'volunteer' THEN
        RETURN NULL;
    END IF;
    RETURN coalesce((SELECT o.volunteer_fields FROM orgs o WHERE o.id = p_org), '{}');
END $$;


--
-- Name: tocsin_contact_shown(text[], text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_contact_shown(p_seen text[], p_name text, p_value text) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT CASE WHEN p_name = ANY (coalesce(p_seen, ARRAY[p_name])) THEN p_value END $$;


--
-- Name: tocsin_contacts_org_insert(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_contacts_org_insert() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_orgs bigint[];
    v_missing bigint;
BEGIN
    SELECT array_agg(DISTINCT n.org_id) INTO v_orgs FROM new_rows n;
    IF (SELECT count(*) FROM (SELECT 1 FROM orgs o WHERE o.id = ANY (v_orgs) FOR KEY SHARE) l)
       <> coalesce(cardinality(v_orgs), 0) THEN
        SELECT min(x.id) INTO v_missing FROM unnest(v_orgs) x(id)
         WHERE NOT EXISTS (SELECT 1 FROM orgs o WHERE o.id = x.id);
        RAISE EXCEPTION 'a new contact names org %, which does not exist', v_missing
              USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;


--
-- Name: tocsin_conversation_links_insert(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_conversation_links_insert() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_bad record;
BEGIN
    IF current_setting('tocsin.inbound_links_checked', true) = 'on' THEN
        RETURN NULL;
    END IF;
    SELECT b.id, b.org_id INTO v_bad FROM (
        SELECT min(n.id) AS id, n.org_id FROM new_rows n GROUP BY n.org_id, n.sender_id
        HAVING (SELECT 1 FROM senders s WHERE s.id = n.sender_id AND s.org_id = n.org_id LIMIT 1) IS NULL
        UNION ALL
        SELECT n.id, n.org_id FROM new_rows n
         WHERE (SELECT 1 FROM contacts c WHERE c.id = n.contact_id AND c.org_id = n.org_id LIMIT 1) IS NULL) b
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'conversation % names a sender or contact that org % does not have', v_bad.id, v_bad.org_id
              USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;


--
-- Name: tocsin_conversation_message_event(bigint, bigint, bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_conversation_message_event(p_org bigint, p_conv bigint, p_assignee bigint) RETURNS text
    LANGUAGE sql STABLE
    AS $$
    SELECT format('{"org_id" : %s, "conversation_id" : %s, "event" : "message", "assignee_id" : %s, '
                  '"previous_assignee_id" : null}', p_org, p_conv, coalesce(p_assignee::text, 'null'))
$$;


--
-- Name: tocsin_conversation_status_event(bigint, bigint, bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_conversation_status_event(p_org bigint, p_conv bigint, p_assignee bigint) RETURNS text
    LANGUAGE sql STABLE
    AS $$
    SELECT format('{"org_id" : %s, "conversation_id" : %s, "event" : "status", "assignee_id" : %s, '
                  '"previous_assignee_id" : null}', p_org, p_conv, coalesce(p_assignee::text, 'null'))
$$;


--
-- Name: tocsin_conversation_status_notify(bigint, bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_conversation_status_notify(p_org bigint, p_conv bigint) RETURNS void
    LANGUAGE sql
    AS $$
    SELECT pg_notify('tocsin_conversations', tocsin_conversation_status_event(
        p_org, p_conv, (SELECT c.assignee_id FROM conversations c WHERE c.id = p_conv)))
$$;


--
-- Name: tocsin_conversations_claim(bigint, bigint, text, integer); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_conversations_claim(p_org bigint, p_user bigint, p_role text, p_count integer) RETURNS json
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_cap int;
    v_held int := 0;
    v_room int;
    v_ids bigint[];
BEGIN
    v_room := least(greatest(coalesce(p_count, 5), 1), 50);
    IF p_role = 'volunteer' THEN
        PERFORM pg_advisory_xact_lock(hashtextextended(format('conversation_claim %s', p_user), 0));
        SELECT o.volunteer_max_conversations INTO v_cap FROM orgs o WHERE o.id = p_org;
        SELECT count(*) INTO v_held FROM conversations c
         WHERE c.org_id = p_org AND c.assignee_id = p_user AND c.state = 'open';
        v_room := least(v_room, greatest(v_cap - v_held, 0));
    END IF;
    WITH picked AS (
        SELECT id FROM conversations
         WHERE org_id = p_org AND state = 'open' AND assignee_id IS NULL
         ORDER BY created_at, id
         LIMIT v_room FOR UPDATE SKIP LOCKED
    ), u AS (
        UPDATE conversations c SET assignee_id = p_user, assigned_at = now(), assignee_active_at = now()
          FROM picked WHERE c.id = picked.id AND c.assignee_id IS NULL
        RETURNING c.id
    )
    SELECT coalesce(array_agg(id ORDER BY id), '{}') INTO v_ids FROM u;
    INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id)
    SELECT p_org, p_user, 'conversation.claim', 'conversation', id FROM unnest(v_ids) id;
    PERFORM pg_notify('tocsin_conversations', json_build_object(
                'org_id', p_org, 'conversation_id', id, 'event', 'assigned', 'assignee_id', p_user,
                'previous_assignee_id', NULL::bigint)::text)
       FROM unnest(v_ids) id;
    RETURN json_build_object('claimed', to_json(v_ids), 'notified', cardinality(v_ids),
                             'held', v_held + cardinality(v_ids), 'cap', v_cap);
END $$;


--
-- Name: tocsin_conversations_status_notify(bigint[]); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_conversations_status_notify(p_convs bigint[]) RETURNS void
    LANGUAGE sql
    AS $$
    SELECT pg_notify('tocsin_conversations', tocsin_conversation_status_event(c.org_id, c.id, c.assignee_id))
      FROM conversations c WHERE c.id IN (SELECT unnest(p_convs))  -- a join: = ANY would compare every pair
$$;


--
-- Name: tocsin_dashboard_conversation(bigint, bigint, text, bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_dashboard_conversation(p_org bigint, p_user bigint, p_role text, p_id bigint) RETURNS json
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    v json;
    v_seen text[] := tocsin_contact_seen_fields(p_org, p_role);
BEGIN
    SELECT json_build_object(
        'id', c.id, 'state', c.state, 'unread', c.unread, 'likely_opt_out', c.likely_opt_out,
        'assigned_at', c.assigned_at,
        'assignee', (SELECT json_build_object('id', u.id, 'display_name', u.display_name)
                       FROM users u WHERE u.id = c.assignee_id),
        -- A volunteer sees the fields her org lets her (retention.sql).
        'contact', json_build_object('id', ct.id,
                                     'first_name', tocsin_contact_shown(v_seen, 'first_name', ct.first_name),
                                     'last_name', tocsin_contact_shown(v_seen, 'last_name', ct.last_name),
                                     'phone', tocsin_dashboard_phone(ct.phone, p_role),
                                     'zip', tocsin_contact_shown(v_seen, 'zip', ct.zip),
                                     'fields', tocsin_contact_fields_shown(v_seen, ct.fields),
                                     'forgotten', ct.forgotten_at IS NOT NULL,
                                     'opted_out', EXISTS (SELECT 1 FROM opt_outs o
                                                           WHERE o.org_id = ct.org_id AND o.phone = ct.phone)),
        -- Each half is read newest first through its index and cut at 50
        -- before the halves meet, so a member with years of blasts costs
        -- no more than one with a few.
        'messages', (SELECT coalesce(json_agg(json_build_object(
                                'id', t.id, 'direction', t.direction, 'body', t.body, 'state', t.state,
                                'removed', t.removed,
                                'at', t.at, 'kind', t.kind, 'source', t.source, 'sent_by', u.display_name)
                            ORDER BY t.at, t.direction, t.id), '[]')
                       FROM (SELECT a.*,
                                    CASE a.kind
                                        WHEN 'blast' THEN (SELECT l.name FROM messages m
                                                             JOIN blasts b ON b.id = m.blast_id
                                                             JOIN lists l ON l.org_id = b.org_id AND l.id = b.list_id
                                                            WHERE m.id = a.id)
                                        -- outreach_targets is found by its conversation's index
                                        WHEN 'outreach' THEN (SELECT oc.name FROM messages m
                                                                JOIN outreach_targets ot ON ot.conversation_id = m.conversation_id
                                                                                        AND ot.message_id = m.id
                                                                JOIN outreach_campaigns oc ON oc.id = ot.campaign_id
                                                               WHERE m.id = a.id LIMIT 1)
                                    END AS source
                               FROM ((SELECT 'inbound'::text AS direction, i.id, i.body, 'received'::text AS state,
                                             i.received_at AS at, 'member'::text AS kind, NULL::bigint AS sent_by_user_id,
                                             i.body_removed_at IS NOT NULL AS removed
                                        FROM inbound_messages i WHERE i.conversation_id = c.id
                                       ORDER BY i.received_at DESC LIMIT 50)
                                     UNION ALL
                                     SELECT * FROM (
                                         (SELECT 'outbound'::text, m.id, m.body, tocsin_message_shown_state(m.id, m.state), m.created_at, m.purpose,
                                                 m.sent_by_user_id, m.body_removed_at IS NOT NULL
                                            FROM messages m WHERE m.conversation_id = c.id
                                           ORDER BY m.created_at DESC LIMIT 50)
                                         UNION
                                         (SELECT 'outbound'::text, m.id, m.body, tocsin_message_shown_state(m.id, m.state), m.created_at, m.purpose,
                                                 m.sent_by_user_id, m.body_removed_at IS NOT NULL
                                            FROM messages m
                                           WHERE m.org_id = c.org_id AND m.to_phone = ct.phone
                                             AND m.blast_id IS NOT NULL AND m.sender_id = c.sender_id
                                             AND m.state NOT IN ('cancelled', 'suppressed')
                                           ORDER BY m.created_at DESC LIMIT 50)
                                         UNION
                                         -- keyword confirmations and HELP answers, sent
                                         -- before (or without) a conversation
                                         -- (messages_outside_conversation)
                                         (SELECT 'outbound'::text, m.id, m.body, tocsin_message_shown_state(m.id, m.state), m.created_at, m.purpose,
                                                 m.sent_by_user_id, m.body_removed_at IS NOT NULL
                                            FROM messages m
                                           WHERE m.org_id = c.org_id AND m.to_phone = ct.phone
                                             AND m.sender_id = c.sender_id
                                             AND m.conversation_id IS NULL AND m.blast_id IS NULL
                                             AND m.state NOT IN ('cancelled', 'suppressed')
                                           ORDER BY m.created_at DESC LIMIT 50)) o
                                    ) a
                              ORDER BY a.at DESC, a.id DESC LIMIT 50) t
                       LEFT JOIN users u ON u.id = t.sent_by_user_id),
        'tags', (SELECT coalesce(json_agg(json_build_object('id', t.id, 'name', t.name) ORDER BY t.name), '[]')
                   FROM conversation_tags x JOIN tags t ON t.id = x.tag_id WHERE x.conversation_id = c.id),
        'notes', (SELECT coalesce(json_agg(json_build_object('id', n.id, 'body', n.body, 'at', n.created_at,
                                                             'by', u.display_name)
                                           ORDER BY n.created_at, n.id), '[]')
                    FROM conversation_notes n JOIN users u ON u.id = n.user_id
                   WHERE n.conversation_id = c.id))
      INTO v
      FROM conversations c JOIN contacts ct ON ct.org_id = c.org_id AND ct.id = c.contact_id
     WHERE c.id = p_id AND c.org_id = p_org AND (p_role <> 'volunteer' OR c.assignee_id = p_user);
    RETURN v;
END $$;


--
-- Name: tocsin_dashboard_handoff(bigint, bigint, bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_dashboard_handoff(p_org bigint, p_user bigint, p_id bigint) RETURNS json
    LANGUAGE sql STABLE
    AS $$
    SELECT json_build_object('conversation_id', c.id,
                             'to', coalesce(t.display_name, t.email), 'by', coalesce(b.display_name, b.email),
                             'at', a.created_at)
      FROM conversations c
      JOIN LATERAL (SELECT * FROM (
                        (SELECT e.id, e.user_id, e.created_at, (e.details->>'to')::bigint AS to_id,
                                (e.details->>'from')::bigint AS from_id
                           FROM audit_events e
                          WHERE e.action = 'conversation.assign' AND e.subject_id = c.id
                            AND e.org_id = c.org_id AND e.subject_type = 'conversation'
                          ORDER BY e.created_at DESC, e.id DESC LIMIT 1)
                        UNION ALL
                        (SELECT e.id, e.user_id, e.created_at, e.subject_id,
                                (e.details->'from'->>c.id::text)::bigint
                           FROM audit_events e
                          WHERE e.action = 'conversation.bulk_assign' AND e.subject_id = c.assignee_id
                            AND e.org_id = c.org_id AND e.subject_type = 'user'
                            AND e.details->'from' ? c.id::text
                          ORDER BY e.created_at DESC, e.id DESC LIMIT 1)) x
                     ORDER BY x.created_at DESC, x.id DESC LIMIT 1) a ON true
      LEFT JOIN users t ON t.org_id = c.org_id AND t.id = a.to_id
      LEFT JOIN users b ON b.org_id = c.org_id AND b.id = a.user_id
     WHERE c.id = p_id AND c.org_id = p_org
       AND a.from_id = p_user
       AND c.assignee_id IS DISTINCT FROM p_user $$;


--
-- Name: tocsin_dashboard_inbox(bigint, bigint, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_dashboard_inbox(p_org bigint, p_user bigint, p_role text) RETURNS json
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    v json;
    v_seen text[] := tocsin_contact_seen_fields(p_org, p_role);
BEGIN
    SELECT coalesce(json_agg(tocsin_dashboard_row_json(r, p_role, v_seen)
                             ORDER BY r.last_inbound_at DESC NULLS LAST, r.id DESC), '[]')
      INTO v
      FROM (SELECT * FROM dashboard_conversation_rows
             WHERE assignee_id = p_user AND org_id = p_org AND state = 'open'
             ORDER BY last_inbound_at DESC NULLS LAST, id DESC LIMIT 500) r;
    RETURN v;
END $$;


--
-- Name: tocsin_dashboard_phone(text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_dashboard_phone(p_phone text, p_role text) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT CASE WHEN p_role = 'volunteer' THEN '•••' || right(p_phone, 4) ELSE p_phone END $$;


--
-- Name: tocsin_is_e164(text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_is_e164(p text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT octet_length(p) BETWEEN 9 AND 16 AND rtrim(p, '0123456789') = '+' AND substr(p, 2, 1) <> '0' $$;


--
-- Name: contacts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.contacts (
    id bigint NOT NULL,
    org_id bigint NOT NULL,
    phone text NOT NULL,
    first_name text,
    last_name text,
    zip text,
    timezone text,
    fields jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    language text,
    forgotten_at timestamp with time zone,
    CONSTRAINT contacts_fields_check CHECK ((jsonb_typeof(fields) = 'object'::text)),
    CONSTRAINT contacts_first_name_check CHECK ((length(first_name) <= 100)),
    CONSTRAINT contacts_language_check CHECK ((language = ANY (ARRAY['en'::text, 'es'::text]))),
    CONSTRAINT contacts_last_name_check CHECK ((length(last_name) <= 100)),
    CONSTRAINT contacts_phone_check CHECK (public.tocsin_is_e164(phone)),
    CONSTRAINT contacts_timezone_check CHECK ((length(timezone) <= 64)),
    CONSTRAINT contacts_zip_check CHECK ((zip ~ '^[0-9]{5}$'::text))
);


--
-- Name: conversations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.conversations (
    id bigint NOT NULL,
    org_id bigint NOT NULL,
    contact_id bigint NOT NULL,
    sender_id bigint NOT NULL,
    assignee_id bigint,
    state text DEFAULT 'open'::text NOT NULL,
    likely_opt_out boolean DEFAULT false NOT NULL,
    unread integer DEFAULT 0 NOT NULL,
    last_inbound_at timestamp with time zone,
    last_outbound_at timestamp with time zone,
    assigned_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    assignee_active_at timestamp with time zone,
    CONSTRAINT conversations_state_check CHECK ((state = ANY (ARRAY['open'::text, 'closed'::text]))),
    CONSTRAINT conversations_unread_check CHECK ((unread >= 0))
)
WITH (fillfactor='80');


--
-- Name: inbound_messages; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.inbound_messages (
    id bigint NOT NULL,
    org_id bigint NOT NULL,
    sender_id bigint NOT NULL,
    provider text NOT NULL COLLATE pg_catalog."C",
    provider_message_id text NOT NULL COLLATE pg_catalog."C",
    from_phone text NOT NULL,
    contact_id bigint,
    conversation_id bigint,
    body text NOT NULL,
    num_media integer DEFAULT 0 NOT NULL,
    intent text,
    received_at timestamp with time zone DEFAULT now() NOT NULL,
    body_removed_at timestamp with time zone,
    body_chars integer,
    CONSTRAINT inbound_messages_body_chars_check CHECK (((body_chars >= 0) AND (body_chars <= 10000))),
    CONSTRAINT inbound_messages_body_check CHECK ((length(body) <= 10000)),
    CONSTRAINT inbound_messages_from_phone_check CHECK (public.tocsin_is_e164(from_phone)),
    CONSTRAINT inbound_messages_intent_check CHECK ((intent = ANY (ARRAY['opt_out'::text, 'opt_in_again'::text, 'help'::text, 'keyword'::text, 'reply'::text]))),
    CONSTRAINT inbound_messages_num_media_check CHECK ((num_media >= 0)),
    CONSTRAINT inbound_messages_provider_check CHECK ((provider = ANY (ARRAY['twilio'::text, 'telnyx'::text]))),
    CONSTRAINT inbound_messages_provider_message_id_check CHECK (((length(provider_message_id) >= 1) AND (length(provider_message_id) <= 100)))
);


--
-- Name: messages; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.messages (
    id bigint NOT NULL,
    org_id bigint NOT NULL,
    sender_id bigint NOT NULL,
    provider text NOT NULL,
    contact_id bigint,
    to_phone text NOT NULL,
    body text NOT NULL,
    encoding text NOT NULL,
    segments integer NOT NULL,
    lane text NOT NULL,
    state text DEFAULT 'queued'::text NOT NULL,
    not_before timestamp with time zone DEFAULT now() NOT NULL,
    validity_until timestamp with time zone,
    lease_until timestamp with time zone,
    claimed_by text,
    request_sent_at timestamp with time zone,
    attempts integer DEFAULT 0 NOT NULL,
    provider_message_id text,
    error_code text,
    error_message text,
    blast_id bigint,
    conversation_id bigint,
    inbound_id bigint,
    sent_by_user_id bigint,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    sent_at timestamp with time zone,
    finalized_at timestamp with time zone,
    purpose text DEFAULT 'reply'::text NOT NULL,
    recipient_zones text[],
    quiet_end_hour smallint DEFAULT 21 NOT NULL,
    quiet_start_hour smallint DEFAULT 8 NOT NULL,
    body_removed_at timestamp with time zone,
    body_chars integer,
    CONSTRAINT messages_attempts_check CHECK ((attempts >= 0)),
    CONSTRAINT messages_body_chars_check CHECK (((body_chars >= 0) AND (body_chars <= 1600))),
    CONSTRAINT messages_check CHECK (((state <> 'sending'::text) OR ((lease_until IS NOT NULL) AND (claimed_by IS NOT NULL)))),
    CONSTRAINT messages_check1 CHECK (((state <> ALL (ARRAY['sent'::text, 'delivered'::text])) OR (provider_message_id IS NOT NULL))),
    CONSTRAINT messages_encoding_check CHECK ((encoding = ANY (ARRAY['GSM-7'::text, 'UCS-2'::text]))),
    CONSTRAINT messages_lane_check CHECK ((lane = ANY (ARRAY['conversational'::text, 'bulk'::text]))),
    CONSTRAINT messages_provider_check CHECK ((provider = ANY (ARRAY['twilio'::text, 'telnyx'::text]))),
    CONSTRAINT messages_purpose_check CHECK ((purpose = ANY (ARRAY['reply'::text, 'confirmation'::text, 'opt_out_confirmation'::text, 'help'::text, 'blast'::text, 'outreach'::text, 'test'::text]))),
    CONSTRAINT messages_quiet_end_hour_check CHECK (((quiet_end_hour >= 9) AND (quiet_end_hour <= 24))),
    CONSTRAINT messages_recipient_zones_check CHECK (((cardinality(recipient_zones) >= 1) AND (cardinality(recipient_zones) <= 8))),
    CONSTRAINT messages_segments_check CHECK (((segments >= 1) AND (segments <= 100))),
    CONSTRAINT messages_state_check CHECK ((state = ANY (ARRAY['queued'::text, 'sending'::text, 'sent'::text, 'delivered'::text, 'undelivered'::text, 'failed'::text, 'unknown'::text, 'suppressed'::text, 'cancelled'::text]))),
    CONSTRAINT messages_to_phone_check CHECK (public.tocsin_is_e164(to_phone))
)
WITH (autovacuum_vacuum_scale_factor='0.01', autovacuum_vacuum_threshold='1000', autovacuum_vacuum_cost_delay='0', autovacuum_analyze_scale_factor='0.02', fillfactor='45');


--
-- Name: users; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.users (
    id bigint NOT NULL,
    org_id bigint NOT NULL,
    email text NOT NULL,
    display_name text DEFAULT ''::text NOT NULL,
    role text NOT NULL,
    password_hash text,
    disabled_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    last_active_at timestamp with time zone,
    national_user_id bigint,
    CONSTRAINT users_acting_no_password CHECK (((national_user_id IS NULL) OR (password_hash IS NULL))),
    CONSTRAINT users_display_name_check CHECK ((length(display_name) <= 200)),
    CONSTRAINT users_email_check CHECK (((email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'::text) AND (length(email) <= 254))),
    CONSTRAINT users_password_hash_check CHECK ((password_hash ~~ '$argon2id$%'::text)),
    CONSTRAINT users_role_check CHECK ((role = ANY (ARRAY['admin'::text, 'lead'::text, 'volunteer'::text])))
);


--
-- Name: dashboard_conversation_rows; Type: VIEW; Schema: public; Owner: -
--

CREATE VIEW public.dashboard_conversation_rows AS
 SELECT c.id,
    c.org_id,
    c.assignee_id,
    c.state,
    c.unread,
    c.likely_opt_out,
    c.last_inbound_at,
    c.last_outbound_at,
    c.assigned_at,
    c.created_at,
    ct.first_name,
    ct.last_name,
    ct.phone,
        CASE
            WHEN (u.id IS NOT NULL) THEN json_build_object('id', u.id, 'display_name', u.display_name)
            ELSE NULL::json
        END AS assignee,
        CASE
            WHEN ((c.last_outbound_at > c.last_inbound_at) OR (c.last_inbound_at IS NULL)) THEN ( SELECT json_build_object('direction', 'outbound', 'body', "left"(m.body, 200), 'at', m.created_at) AS json_build_object
               FROM public.messages m
              WHERE (m.conversation_id = c.id)
              ORDER BY m.created_at DESC
             LIMIT 1)
            ELSE ( SELECT json_build_object('direction', 'inbound', 'body', "left"(i.body, 200), 'at', i.received_at) AS json_build_object
               FROM public.inbound_messages i
              WHERE (i.conversation_id = c.id)
              ORDER BY i.received_at DESC
             LIMIT 1)
        END AS last_message
   FROM ((public.conversations c
     JOIN public.contacts ct ON (((ct.org_id = c.org_id) AND (ct.id = c.contact_id))))
     LEFT JOIN public.users u ON ((u.id = c.assignee_id)));


--
-- Name: tocsin_dashboard_row_json(public.dashboard_conversation_rows, text, text[]); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_dashboard_row_json(r public.dashboard_conversation_rows, p_role text, p_seen text[]) RETURNS json
    LANGUAGE sql STABLE
    AS $$
    SELECT json_build_object('id', r.id, 'state', r.state, 'unread', r.unread,
                             'likely_opt_out', r.likely_opt_out, 'last_inbound_at', r.last_inbound_at,
                             'last_outbound_at', r.last_outbound_at, 'assigned_at', r.assigned_at,
                             'created_at', r.created_at,
                             'first_name', tocsin_contact_shown(p_seen, 'first_name', r.first_name),
                             'last_name', tocsin_contact_shown(p_seen, 'last_name', r.last_name),
                             'phone', tocsin_dashboard_phone(r.phone, p_role),
                             'assignee', r.assignee, 'last_message', r.last_message) $$;


--
-- Name: tocsin_dispatch_acquire(text, text, integer); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_dispatch_acquire(p_account text, p_worker text, p_seconds integer) RETURNS boolean
    LANGUAGE sql
    AS $$
    INSERT INTO dispatch_leases AS l (account, holder, lease_until)
    VALUES (p_account, p_worker, now() + make_interval(secs => p_seconds))
    ON CONFLICT (account) DO UPDATE
       SET holder = EXCLUDED.holder, lease_until = EXCLUDED.lease_until
     WHERE l.holder = EXCLUDED.holder OR l.lease_until < now()
    RETURNING true
$$;


--
-- Name: tocsin_dispatch_release(text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_dispatch_release(p_worker text) RETURNS void
    LANGUAGE sql
    AS $$
    DELETE FROM dispatch_leases WHERE holder = p_worker
$$;


--
-- Name: tocsin_forget_masked(text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_forget_masked(p_phone text) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT '•••' || right(p_phone, 4) $$;


--
-- Name: tocsin_import_upload_append(bigint, bigint, bigint, bigint, bytea); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_import_upload_append(p_org bigint, p_user bigint, p_id bigint, p_offset bigint, p_data bytea) RETURNS TABLE(status integer, body json)
    LANGUAGE plpgsql
    AS $$
DECLARE
    u import_uploads;
BEGIN
    SELECT * INTO u FROM import_uploads
     WHERE org_id = p_org AND created_by = p_user AND id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 404, tocsin_api_error(404, 'not_found', 'no such upload');
        RETURN;
    END IF;
    IF u.state <> 'uploading' THEN
        RETURN QUERY SELECT 409, tocsin_api_error(409, 'upload_' || u.state,
            'this upload is ' || u.state || coalesce(': ' || u.error, '') || '; start again');
        RETURN;
    END IF;
    IF p_offset <> u.received_bytes THEN
        RETURN QUERY SELECT 409, json_build_object('error', json_build_object('status', 409,
            'code', 'wrong_offset', 'message', 'the upload goes on from byte ' || u.received_bytes,
            'received', u.received_bytes));
        RETURN;
    END IF;
    IF u.received_bytes + length(p_data) > u.size_bytes THEN
        UPDATE import_uploads SET state = 'failed', updated_at = now(),
               error = 'the file is larger than the ' || u.size_bytes || ' bytes announced'
         WHERE id = p_id;
        DELETE FROM import_upload_chunks WHERE upload_id = p_id;
        RETURN QUERY SELECT 413, tocsin_api_error(413, 'too_large',
            'the file is larger than the ' || u.size_bytes || ' bytes announced: nothing was imported');
        RETURN;
    END IF;
    INSERT INTO import_upload_chunks (upload_id, seq, data) VALUES (p_id, u.chunks, p_data);
    UPDATE import_uploads SET received_bytes = received_bytes + length(p_data), chunks = chunks + 1,
           updated_at = now()
     WHERE id = p_id RETURNING * INTO u;
    RETURN QUERY SELECT 200, tocsin_import_upload_json(u);
END
$$;


--
-- Name: tocsin_import_upload_claim(bigint, bigint, bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_import_upload_claim(p_org bigint, p_user bigint, p_id bigint) RETURNS TABLE(status integer, body json, preset text, mapping text, list_name text, filename text, chunks integer)
    LANGUAGE plpgsql
    AS $$
DECLARE
    u import_uploads;
BEGIN
    SELECT * INTO u FROM import_uploads
     WHERE org_id = p_org AND created_by = p_user AND id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 404, tocsin_api_error(404, 'not_found', 'no such upload'),
                            NULL::text, NULL::text, NULL::text, NULL::text, NULL::int;
        RETURN;
    END IF;
    IF u.state = 'uploading' AND u.received_bytes < u.size_bytes THEN
        RETURN QUERY SELECT 409, tocsin_api_error(409, 'upload_incomplete',
            'the upload is not complete: ' || u.received_bytes || ' of ' || u.size_bytes
            || ' bytes received'), NULL::text, NULL::text, NULL::text, NULL::text, NULL::int;
        RETURN;
    END IF;
    IF NOT (u.state = 'uploading' OR (u.state = 'importing' AND u.updated_at < now() - interval '1 hour')) THEN
        RETURN QUERY SELECT 409, tocsin_api_error(409, 'upload_' || u.state,
            'this upload is ' || u.state || coalesce(': ' || u.error, '')),
            NULL::text, NULL::text, NULL::text, NULL::text, NULL::int;
        RETURN;
    END IF;
    UPDATE import_uploads SET state = 'importing', rows_read = 0, updated_at = now() WHERE id = p_id;
    RETURN QUERY SELECT 200, NULL::json, u.preset, u.mapping::text, u.list_name, u.filename, u.chunks;
END
$$;


--
-- Name: tocsin_import_upload_create(bigint, bigint, text, text, jsonb, text, bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_import_upload_create(p_org bigint, p_user bigint, p_filename text, p_preset text, p_mapping jsonb, p_list text, p_size bigint) RETURNS TABLE(status integer, body json)
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_id bigint;
BEGIN
    WITH gone AS (
        UPDATE import_uploads SET state = 'expired', error = 'abandoned: no chunk for a day',
               updated_at = now()
         WHERE org_id = p_org AND state = 'uploading' AND updated_at < now() - interval '1 day'
        RETURNING id)
    DELETE FROM import_upload_chunks WHERE upload_id IN (SELECT id FROM gone);
    IF (SELECT count(*) FROM import_uploads
         WHERE org_id = p_org AND created_by = p_user AND state = 'uploading') >= 4 THEN
        RETURN QUERY SELECT 429, tocsin_api_error(429, 'busy',
            'you have 4 uploads under way: finish or wait for one before starting another');
        RETURN;
    END IF;
    INSERT INTO import_uploads (org_id, created_by, filename, preset, mapping, list_name, size_bytes)
    VALUES (p_org, p_user, p_filename, p_preset, p_mapping, nullif(p_list, ''), p_size)
    RETURNING id INTO v_id;
    RETURN QUERY SELECT 201, tocsin_import_upload_json(u) FROM import_uploads u WHERE u.id = v_id;
END
$$;


--
-- Name: tocsin_import_upload_done(bigint, jsonb, bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_import_upload_done(p_id bigint, p_report jsonb, p_batch bigint) RETURNS boolean
    LANGUAGE sql
    AS $$
    DELETE FROM import_upload_chunks WHERE upload_id = p_id;
    UPDATE import_uploads SET state = 'imported', report = p_report, batch_id = p_batch,
           rows_read = (p_report->>'rows')::bigint, error = NULL, updated_at = now()
     WHERE id = p_id AND state = 'importing'
    RETURNING true;
$$;


--
-- Name: tocsin_import_upload_failed(bigint, text, jsonb); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_import_upload_failed(p_id bigint, p_error text, p_report jsonb) RETURNS void
    LANGUAGE sql
    AS $$
    DELETE FROM import_upload_chunks WHERE upload_id = p_id;
    UPDATE import_uploads SET state = 'failed', error = left(p_error, 500), report = p_report,
           updated_at = now()
     WHERE id = p_id AND state = 'importing';
$$;


--
-- Name: import_uploads; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.import_uploads (
    id bigint NOT NULL,
    org_id bigint NOT NULL,
    created_by bigint NOT NULL,
    filename text NOT NULL,
    preset text NOT NULL,
    mapping jsonb NOT NULL,
    list_name text,
    size_bytes bigint NOT NULL,
    received_bytes bigint DEFAULT 0 NOT NULL,
    chunks integer DEFAULT 0 NOT NULL,
    rows_read bigint DEFAULT 0 NOT NULL,
    state text DEFAULT 'uploading'::text NOT NULL,
    error text,
    report jsonb,
    batch_id bigint,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT import_uploads_check CHECK (((received_bytes >= 0) AND (received_bytes <= size_bytes))),
    CONSTRAINT import_uploads_chunks_check CHECK ((chunks >= 0)),
    CONSTRAINT import_uploads_filename_check CHECK (((length(filename) >= 1) AND (length(filename) <= 200))),
    CONSTRAINT import_uploads_list_name_check CHECK (((length(list_name) >= 1) AND (length(list_name) <= 200))),
    CONSTRAINT import_uploads_mapping_check CHECK ((jsonb_typeof(mapping) = 'array'::text)),
    CONSTRAINT import_uploads_preset_check CHECK (((length(preset) >= 1) AND (length(preset) <= 40))),
    CONSTRAINT import_uploads_rows_read_check CHECK ((rows_read >= 0)),
    CONSTRAINT import_uploads_size_bytes_check CHECK ((size_bytes > 0)),
    CONSTRAINT import_uploads_state_check CHECK ((state = ANY (ARRAY['uploading'::text, 'importing'::text, 'imported'::text, 'failed'::text, 'expired'::text])))
);


--
-- Name: tocsin_import_upload_json(public.import_uploads); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_import_upload_json(u public.import_uploads) RETURNS json
    LANGUAGE sql STABLE
    AS $$
    SELECT json_build_object('id', u.id, 'state', u.state, 'filename', u.filename,
                             'preset', u.preset, 'list', u.list_name, 'size', u.size_bytes,
                             'received', u.received_bytes, 'rows_read', u.rows_read,
                             'error', u.error, 'report', u.report)
$$;


--
-- Name: tocsin_import_upload_progress(bigint, bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_import_upload_progress(p_id bigint, p_rows bigint) RETURNS void
    LANGUAGE sql
    AS $$
    UPDATE import_uploads SET rows_read = p_rows, updated_at = now()
     WHERE id = p_id AND state = 'importing';
$$;


--
-- Name: tocsin_import_upload_show(bigint, bigint, bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_import_upload_show(p_org bigint, p_user bigint, p_id bigint) RETURNS TABLE(status integer, body json)
    LANGUAGE sql STABLE
    AS $$
    SELECT 200, tocsin_import_upload_json(u) FROM import_uploads u
     WHERE u.org_id = p_org AND u.created_by = p_user AND u.id = p_id
$$;


--
-- Name: tocsin_inbound_batch_size(text[], text[], bigint[], text[], text[], integer[], text[], bigint[], boolean[], text[], text[], integer[]); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_inbound_batch_size(p_provider text[], p_message_id text[], p_sender_id bigint[], p_from text[], p_body text[], p_num_media integer[], p_intent text[], p_keyword_id bigint[], p_likely_revocation boolean[], p_reply text[], p_reply_encoding text[], p_reply_segments integer[]) RETURNS integer
    LANGUAGE plpgsql IMMUTABLE
    AS $$
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


--
-- Name: tocsin_inbound_is_consent(text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_inbound_is_consent(p_intent text) RETURNS boolean
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT coalesce(p_intent IN ('keyword', 'opt_out', 'opt_in_again'), false) $$;


--
-- Name: tocsin_inbound_journal_apply(integer); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_inbound_journal_apply(p_limit integer) RETURNS TABLE(applied integer, failed integer, more boolean)
    LANGUAGE plpgsql
    SET enable_seqscan TO 'off'
    SET jit TO 'off'
    AS $$
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


--
-- Name: tocsin_inbound_links_insert(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_inbound_links_insert() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_bad record;
BEGIN
    IF current_setting('tocsin.inbound_links_checked', true) = 'on' THEN
        RETURN NULL;
    END IF;
    SELECT b.id, b.org_id INTO v_bad FROM (
        SELECT min(n.id) AS id, n.org_id FROM new_rows n GROUP BY n.org_id, n.sender_id
        HAVING (SELECT 1 FROM senders s WHERE s.id = n.sender_id AND s.org_id = n.org_id LIMIT 1) IS NULL
        UNION ALL
        SELECT n.id, n.org_id FROM new_rows n
         WHERE (n.contact_id IS NOT NULL
                AND (SELECT 1 FROM contacts c WHERE c.id = n.contact_id AND c.org_id = n.org_id LIMIT 1) IS NULL)
            OR (n.conversation_id IS NOT NULL
                AND (SELECT 1 FROM conversations v WHERE v.id = n.conversation_id AND v.org_id = n.org_id LIMIT 1)
                    IS NULL)) b
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'inbound message % names a sender, contact or conversation that org % does not have',
                        v_bad.id, v_bad.org_id USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;


--
-- Name: tocsin_json_changes(jsonb, jsonb); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_json_changes(p_old jsonb, p_new jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT coalesce(jsonb_object_agg(n.key, jsonb_build_object('old', o.value, 'new', n.value)), '{}')
      FROM jsonb_each(p_new) n JOIN jsonb_each(p_old) o USING (key)
     WHERE n.value IS DISTINCT FROM o.value $$;


--
-- Name: tocsin_keyword_language_default(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_keyword_language_default() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF NEW.language IS NULL THEN
        NEW.language := tocsin_text_language(NEW.reply);
    END IF;
    RETURN NEW;
END $$;


--
-- Name: tocsin_lead_audience(bigint, bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_lead_audience(p_org bigint, p_list bigint) RETURNS TABLE(contact_id bigint)
    LANGUAGE sql STABLE
    AS $$
    SELECT c.id FROM subscriptions s JOIN contacts c ON c.id = s.contact_id
     WHERE s.org_id = p_org AND s.list_id = p_list AND s.unsubscribed_at IS NULL
       AND NOT EXISTS (SELECT 1 FROM opt_outs o WHERE o.org_id = p_org AND o.phone = c.phone)
$$;


--
-- Name: tocsin_lead_blast(bigint, bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_lead_blast(p_org bigint, p_blast bigint) RETURNS TABLE(status integer, body json)
    LANGUAGE sql STABLE
    AS $$
    SELECT 200, (j || jsonb_build_object('list', l.name, 'sender', s.address,
                                         'messages_per_second', s.messages_per_second,
                                         'approval', tocsin_blast_approval_json(p_blast)))::json
      FROM (SELECT tocsin_blast_status(p_org, p_blast) AS j) x
      JOIN lists l ON l.id = (x.j->>'list_id')::bigint
      JOIN senders s ON s.id = (x.j->>'sender_id')::bigint
     WHERE x.j IS NOT NULL
$$;


--
-- Name: tocsin_lead_blast_action(bigint, bigint, bigint, text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_lead_blast_action(p_org bigint, p_user bigint, p_blast bigint, p_action text, p_at text, OUT status integer, OUT body json) RETURNS record
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_at timestamptz;
BEGIN
    IF p_action = 'schedule' THEN
        v_at := nullif(btrim(coalesce(p_at, '')), '')::timestamptz;
        IF v_at IS NOT NULL AND v_at < now() - interval '1 minute' THEN
            RAISE EXCEPTION 'invalid time "%": it is in the past', p_at USING ERRCODE = '22023';
        END IF;
        PERFORM tocsin_blast_schedule(p_org, p_blast, p_user, v_at);
    ELSIF p_action = 'pause' THEN
        PERFORM tocsin_blast_pause(p_org, p_blast, p_user);
    ELSIF p_action = 'resume' THEN
        PERFORM tocsin_blast_resume(p_org, p_blast, p_user);
    ELSIF p_action = 'cancel' THEN
        PERFORM tocsin_blast_cancel(p_org, p_blast, p_user);
    ELSE
        RAISE EXCEPTION 'unknown blast action "%"', p_action USING ERRCODE = '22023';
    END IF;
    SELECT b.status, b.body INTO status, body FROM tocsin_lead_blast(p_org, p_blast) b;
EXCEPTION
    WHEN SQLSTATE '22023' OR SQLSTATE '22007' OR SQLSTATE '22008' OR SQLSTATE 'P0002' OR SQLSTATE '55000' THEN
        SELECT e.status, e.body INTO status, body FROM tocsin_lead_error(SQLSTATE, SQLERRM) e;
END $$;


--
-- Name: tocsin_lead_blast_approve(bigint, bigint, bigint, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_lead_blast_approve(p_org bigint, p_user bigint, p_blast bigint, p_count text, OUT status integer, OUT body json) RETURNS record
    LANGUAGE plpgsql
    AS $_$
BEGIN
    IF p_count IS NULL OR btrim(p_count) !~ '^[0-9]{1,12}$' THEN
        RAISE EXCEPTION 'count is required: the audience count you were shown' USING ERRCODE = '22023';
    END IF;
    PERFORM tocsin_blast_approve(p_org, p_blast, p_user, btrim(p_count)::bigint, 'dashboard');
    SELECT b.status, b.body INTO status, body FROM tocsin_lead_blast(p_org, p_blast) b;
EXCEPTION WHEN SQLSTATE '22023' OR SQLSTATE 'P0002' OR SQLSTATE '55000' THEN
    SELECT e.status, e.body INTO status, body FROM tocsin_lead_error(SQLSTATE, SQLERRM) e;
END $_$;


--
-- Name: tocsin_lead_blast_create(bigint, bigint, text, text, text, text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_lead_blast_create(p_org bigint, p_user bigint, p_sender text, p_list text, p_field text, p_equals text, p_body text, OUT status integer, OUT body json) RETURNS record
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_id bigint;
BEGIN
    v_id := tocsin_blast_create(p_org, p_user, tocsin_lead_id(p_sender, 'sender_id'),
                                tocsin_lead_id(p_list, 'list_id'), p_body, tocsin_lead_filter(p_field, p_equals));
    status := 201;
    body := json_build_object('id', v_id, 'state', 'draft');
EXCEPTION WHEN SQLSTATE '22023' OR SQLSTATE '22P02' THEN
    SELECT e.status, e.body INTO status, body FROM tocsin_lead_error('22023', SQLERRM) e;
END $$;


--
-- Name: tocsin_lead_blast_preview(bigint, text, text, text, text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_lead_blast_preview(p_org bigint, p_sender text, p_list text, p_field text, p_equals text, p_body text, OUT status integer, OUT body json) RETURNS record
    LANGUAGE plpgsql
    AS $_$
DECLARE
    v_sender bigint;
    v_list bigint;
    v_filter jsonb := tocsin_lead_filter(p_field, p_equals);
    v_err text;
    v_mps numeric;
    v_count bigint;
    v_sample bigint;
    v_text text;
    v_segments int;
    v_where text;
    v_avg numeric;
    v_checked bigint;
    v_long_id bigint;
    v_long_code int;
    v_long_chars int;
    v_opted_out bigint;
    v_quiet bigint;
BEGIN
    v_sender := tocsin_lead_id(p_sender, 'sender_id');
    v_list := tocsin_lead_id(p_list, 'list_id');
    SELECT messages_per_second INTO v_mps FROM senders WHERE id = v_sender AND org_id = p_org;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'sender % does not exist', v_sender USING ERRCODE = '22023';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM lists WHERE id = v_list AND org_id = p_org) THEN
        RAISE EXCEPTION 'list % does not exist', v_list USING ERRCODE = '22023';
    END IF;
    v_err := tocsin_blast_filter_error(v_filter);
    IF v_err IS NOT NULL THEN
        RAISE EXCEPTION 'invalid filter: %', v_err USING ERRCODE = '22023';
    END IF;
    IF v_filter ? 'field' THEN
        PERFORM tocsin_blast_check_field(v_filter->>'field', v_list, 'filter');
    END IF;
    PERFORM tocsin_blast_check_body(p_body, v_list);
    v_where := CASE WHEN v_filter ? 'field'
                    THEN format('lower(%s) = lower($3)', tocsin_blast_field_sql(v_filter->>'field'))
                    ELSE 'true' END;
    EXECUTE format('SELECT count(*), min(c.id) FROM tocsin_lead_audience($1, $2) a JOIN contacts c ON c.id = a.contact_id WHERE %s', v_where)
       INTO v_count, v_sample USING p_org, v_list, v_filter->>'equals';
    -- Subscribers the filter matches who are left out for an opt-out.
    EXECUTE format('SELECT count(*) FROM subscriptions s JOIN contacts c ON c.id = s.contact_id'
                   ' WHERE s.org_id = $1 AND s.list_id = $2 AND s.unsubscribed_at IS NULL AND %s'
                   '   AND EXISTS (SELECT 1 FROM opt_outs o WHERE o.org_id = $1 AND o.phone = c.phone)', v_where)
       INTO v_opted_out USING p_org, v_list, v_filter->>'equals';
    -- Every rendering of the first tocsin_blast_longest_scan() members,
    -- counted by the SQL mirror of lib/sms.c (tocsin_sms_code): the
    -- longest in segments, then in characters, and the average for the
    -- send time. The CTE is read twice, so each body is rendered once.
    EXECUTE format('WITH x AS (SELECT r.id, r.b, tocsin_sms_code(r.b) AS code FROM ('
                   '            SELECT c.id, %s AS b FROM tocsin_lead_audience($1, $2) a'
                   '              JOIN contacts c ON c.id = a.contact_id WHERE %s ORDER BY c.id LIMIT $4 OFFSET 0) r)'
                   ' SELECT (SELECT count(*) FROM x), (SELECT avg(code / 2) FROM x), l.id, l.code, length(l.b)'
                   '   FROM (SELECT 1) one LEFT JOIN (SELECT * FROM x ORDER BY code / 2 DESC, length(b) DESC, id'
                   '                                  LIMIT 1) l ON true', tocsin_blast_render_sql(p_body), v_where)
       INTO v_checked, v_avg, v_long_id, v_long_code, v_long_chars
       USING p_org, v_list, v_filter->>'equals', tocsin_blast_longest_scan();
    -- Recipients whose quiet hours are on now, as the blast's feed
    -- computes each message's window (005, 013, 028): a contact's own zone
    -- when PostgreSQL knows it, else its number's zones; within the org's
    -- texting hours.
    -- Counted per zone and number prefix first, so the window functions
    -- run once per group, not once per member.
    EXECUTE format($q$
        WITH g AS (SELECT t.name AS tz, k.prefix, count(*) AS n
                     FROM tocsin_lead_audience($1, $2) a JOIN contacts c ON c.id = a.contact_id
                     JOIN phone_zone_keys k ON k.key = left(c.phone, 5)
                     LEFT JOIN tz_names t ON t.name = c.timezone
                    WHERE %s GROUP BY 1, 2)
        SELECT coalesce(sum(g.n) FILTER (
                   WHERE CASE WHEN g.tz IS NULL
                              THEN coalesce(tocsin_quiet_window_start(z.zones, least(z.quiet_end_hour, o.texting_hours_end),
                                                                      now(), o.texting_hours_start), now())
                              ELSE tocsin_quiet_window_start_zone(g.tz, least(z.quiet_end_hour, o.texting_hours_end),
                                                                  now(), o.texting_hours_start) END > now()), 0)
          FROM g JOIN phone_zones z ON z.prefix = g.prefix JOIN orgs o ON o.id = $1 $q$, v_where)
       INTO v_quiet USING p_org, v_list, v_filter->>'equals';
    v_text := CASE WHEN v_sample IS NULL THEN NULL ELSE tocsin_blast_render(p_body, v_sample) END;
    v_segments := tocsin_sms_segments(coalesce(v_text, p_body));
    status := 200;
    body := json_build_object(
        'recipients', v_count,
        'opted_out', v_opted_out,
        'quiet_now', v_quiet,
        'sample', (SELECT json_build_object('contact_id', c.id, 'first_name', c.first_name,
                                            'last_name', c.last_name, 'body', v_text)
                     FROM contacts c WHERE c.id = v_sample),
        'encoding', tocsin_sms_encoding(coalesce(v_text, p_body)),
        'segments', v_segments,
        'segments_max', coalesce(v_long_code / 2, v_segments),
        'longest', CASE WHEN v_long_id IS NULL THEN NULL ELSE json_build_object(
                       'contact_id', v_long_id, 'segments', v_long_code / 2, 'characters', v_long_chars,
                       'encoding', CASE WHEN v_long_code % 2 = 0 THEN 'GSM-7' ELSE 'UCS-2' END) END,
        'longest_checked', v_checked,
        'messages_per_second', v_mps,
        'estimated_seconds', ceil(v_count * coalesce(v_avg, v_segments) / v_mps));
EXCEPTION WHEN SQLSTATE '22023' OR SQLSTATE '22P02' THEN
    SELECT e.status, e.body INTO status, body FROM tocsin_lead_error('22023', SQLERRM) e;
END $_$;


--
-- Name: tocsin_lead_blasts(bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_lead_blasts(p_org bigint, OUT status integer, OUT body json) RETURNS record
    LANGUAGE sql STABLE
    AS $$
    SELECT 200, coalesce(json_agg(json_build_object(
               'id', b.id, 'state', b.state, 'body', b.body, 'list', l.name, 'recipients', b.recipients,
               'scheduled_at', b.scheduled_at, 'created_at', b.created_at, 'completed_at', b.completed_at)
           ORDER BY b.id DESC), '[]')
      FROM (SELECT * FROM blasts WHERE org_id = p_org ORDER BY id DESC LIMIT 200) b
      JOIN lists l ON l.id = b.list_id
$$;


--
-- Name: tocsin_lead_error(text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_lead_error(p_state text, p_message text, OUT status integer, OUT body json) RETURNS record
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT s, tocsin_api_error(s, CASE s WHEN 400 THEN 'invalid' WHEN 404 THEN 'not_found' ELSE 'conflict' END,
                               CASE WHEN p_state IN ('22023', 'P0002', '55000') THEN p_message
                                    WHEN p_state IN ('22007', '22008')
                                    THEN 'invalid time: give a date and time such as 2026-12-24T18:00:00Z'
                                    ELSE 'invalid value: a field is not in the expected form' END)
      FROM (SELECT CASE WHEN p_state = 'P0002' THEN 404 WHEN p_state = '55000' THEN 409 ELSE 400 END AS s) x
$$;


--
-- Name: tocsin_lead_filter(text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_lead_filter(p_field text, p_equals text) RETURNS jsonb
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT CASE WHEN coalesce(btrim(p_field), '') = '' THEN '{}'::jsonb
                ELSE jsonb_build_object('field', btrim(p_field), 'equals', coalesce(p_equals, '')) END
$$;


--
-- Name: tocsin_lead_id(text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_lead_id(p_text text, p_field text) RETURNS bigint
    LANGUAGE plpgsql IMMUTABLE
    AS $_$
BEGIN
    IF p_text IS NULL OR p_text !~ '^[1-9][0-9]{0,17}$' THEN
        RAISE EXCEPTION '% is required: pick one', p_field USING ERRCODE = '22023';
    END IF;
    RETURN p_text::bigint;
END $_$;


--
-- Name: tocsin_lead_keywords(bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_lead_keywords(p_org bigint, OUT status integer, OUT body json) RETURNS record
    LANGUAGE sql STABLE
    AS $$
    SELECT 200, coalesce(json_agg(json_build_object(
               'id', k.id, 'keyword', k.keyword, 'pattern', k.pattern, 'reply', k.reply,
               'list_id', k.list_id, 'list', l.name, 'sender_id', k.sender_id, 'created_at', k.created_at)
           ORDER BY k.keyword, k.id), '[]')
      FROM keywords k JOIN lists l ON l.id = k.list_id WHERE k.org_id = p_org
$$;


--
-- Name: tocsin_lead_lists(bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_lead_lists(p_org bigint, OUT status integer, OUT body json) RETURNS record
    LANGUAGE sql STABLE
    AS $$
    SELECT 200, coalesce(json_agg(json_build_object(
               'id', l.id, 'name', l.name, 'created_at', l.created_at,
               'members', (SELECT count(*) FROM tocsin_lead_audience(p_org, l.id)),
               'opted_out', (SELECT count(*) FROM subscriptions s JOIN contacts c ON c.id = s.contact_id
                              JOIN opt_outs o ON o.org_id = c.org_id AND o.phone = c.phone
                             WHERE s.list_id = l.id AND s.unsubscribed_at IS NULL))
           ORDER BY l.name, l.id), '[]')
      FROM lists l WHERE l.org_id = p_org
$$;


--
-- Name: tocsin_lead_senders(bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_lead_senders(p_org bigint, OUT status integer, OUT body json) RETURNS record
    LANGUAGE sql STABLE
    AS $$
    SELECT 200, coalesce(json_agg(json_build_object('id', id, 'address', address, 'kind', kind,
                                                    'messages_per_second', messages_per_second)
                                  ORDER BY id), '[]')
      FROM senders WHERE org_id = p_org AND disabled_at IS NULL
$$;


--
-- Name: tocsin_lead_stats(bigint, integer); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_lead_stats(p_org bigint, p_days integer, OUT status integer, OUT body json) RETURNS record
    LANGUAGE sql STABLE
    AS $$
    WITH d AS (SELECT make_interval(days => least(greatest(coalesce(p_days, 7), 1), 90)) AS span),
    bl AS (
        SELECT b.id, b.state, b.body, b.started_at, l.name AS list,
               (tocsin_blast_status(p_org, b.id)) AS s
          FROM blasts b JOIN lists l ON l.id = b.list_id
         WHERE b.org_id = p_org AND b.started_at IS NOT NULL
         ORDER BY b.started_at DESC LIMIT 100
    ),
    kw AS (
        SELECT k.id, k.keyword, l.name AS list, x.*
          FROM keywords k JOIN lists l ON l.id = k.list_id,
          LATERAL (
            SELECT count(*) AS gained,
                   count(*) FILTER (WHERE EXISTS (SELECT 1 FROM opt_outs o WHERE o.org_id = p_org
                                                    AND o.phone = c.phone AND o.opted_out_at >= s.consented_at)) AS opted_out,
                   count(*) FILTER (WHERE EXISTS (SELECT 1 FROM inbound_messages r WHERE r.org_id = p_org
                                                    AND r.from_phone = c.phone AND r.intent = 'reply'
                                                    AND r.received_at > s.consented_at)) AS replied
              FROM subscriptions s JOIN contacts c ON c.id = s.contact_id
              JOIN inbound_messages im ON im.id = s.evidence_inbound_id
             WHERE s.org_id = p_org AND s.list_id = k.list_id AND s.source = 'keyword'
               AND s.consented_at > now() - (SELECT span FROM d)
               AND upper(btrim(im.body)) LIKE k.keyword || '%'
               AND (k.sender_id IS NULL OR im.sender_id = k.sender_id)) x
         WHERE k.org_id = p_org
    )
    SELECT 200, json_build_object(
        'days', extract(day FROM (SELECT span FROM d))::int,
        'blasts', (SELECT coalesce(json_agg(json_build_object(
                       'id', bl.id, 'state', bl.state, 'body', bl.body, 'list', bl.list, 'started_at', bl.started_at,
                       'recipients', (bl.s->>'recipients')::int, 'delivered', (bl.s->>'delivered')::int,
                       'delivered_rate', CASE WHEN h.handed = 0 THEN NULL
                                              ELSE round((bl.s->>'delivered')::numeric / h.handed, 4) END,
                       'opted_out_while_sending', (bl.s->>'opted_out')::int,
                       'opted_out_after', (SELECT count(DISTINCT m.to_phone) FROM messages m
                                            WHERE m.blast_id = bl.id
                                              AND m.state IN ('sent', 'delivered', 'undelivered', 'unknown')
                                              AND EXISTS (SELECT 1 FROM opt_outs o WHERE o.org_id = p_org
                                                             AND o.phone = m.to_phone
                                                             AND o.opted_out_at BETWEEN bl.started_at
                                                                 AND bl.started_at + (SELECT span FROM d))),
                       'replies', (SELECT count(DISTINCT r.from_phone) FROM inbound_messages r
                                    WHERE r.org_id = p_org AND r.intent = 'reply'
                                      AND r.received_at BETWEEN bl.started_at AND bl.started_at + (SELECT span FROM d)
                                      AND r.from_phone IN (SELECT m.to_phone FROM messages m WHERE m.blast_id = bl.id)))
                   ORDER BY bl.started_at DESC), '[]')
                     FROM bl, LATERAL (SELECT (bl.s->>'sent')::int + (bl.s->>'delivered')::int
                                              + (bl.s->>'undelivered')::int + (bl.s->>'failed')::int
                                              + (bl.s->>'unknown')::int AS handed) h),
        'keywords', (SELECT coalesce(json_agg(json_build_object(
                         'id', kw.id, 'keyword', kw.keyword, 'list', kw.list, 'gained', kw.gained,
                         'opted_out', kw.opted_out,
                         'reply_rate', CASE WHEN kw.gained = 0 THEN NULL ELSE round(kw.replied::numeric / kw.gained, 4) END)
                     ORDER BY kw.keyword), '[]') FROM kw))
$$;


--
-- Name: tocsin_links_parent_kept(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_links_parent_kept() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_by text;
BEGIN
    IF TG_TABLE_NAME = 'senders' THEN
        v_by := CASE WHEN EXISTS (SELECT 1 FROM conversations c WHERE c.sender_id = OLD.id) THEN 'a conversation'
                     WHEN EXISTS (SELECT 1 FROM inbound_messages i WHERE i.sender_id = OLD.id) THEN 'an inbound message'
                END;
    ELSIF TG_TABLE_NAME = 'contacts' THEN
        PERFORM pg_advisory_xact_lock(hashtextextended(OLD.org_id::text || OLD.phone, 0));
        v_by := CASE WHEN EXISTS (SELECT 1 FROM conversations c WHERE c.contact_id = OLD.id) THEN 'a conversation'
                     WHEN EXISTS (SELECT 1 FROM inbound_messages i WHERE i.contact_id = OLD.id) THEN 'an inbound message'
                END;
    ELSE
        v_by := CASE WHEN EXISTS (SELECT 1 FROM inbound_messages i WHERE i.conversation_id = OLD.id)
                     THEN 'an inbound message' END;
    END IF;
    IF v_by IS NOT NULL THEN
        RAISE EXCEPTION '% % is still named by %', left(TG_TABLE_NAME, -1), OLD.id, v_by
              USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END $$;


--
-- Name: tocsin_links_update(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_links_update() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_conv bigint;
    v_contact bigint;
BEGIN
    IF TG_TABLE_NAME = 'inbound_messages' THEN
        v_conv := NEW.conversation_id;
        v_contact := NEW.contact_id;
    ELSE
        v_contact := NEW.contact_id;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM senders s WHERE s.id = NEW.sender_id AND s.org_id = NEW.org_id)
       OR (v_contact IS NOT NULL AND NOT EXISTS (SELECT 1 FROM contacts c WHERE c.id = v_contact AND c.org_id = NEW.org_id))
       OR (v_conv IS NOT NULL AND NOT EXISTS (SELECT 1 FROM conversations v WHERE v.id = v_conv AND v.org_id = NEW.org_id))
    THEN
        RAISE EXCEPTION '% % would name a sender, contact or conversation that org % does not have',
                        CASE TG_TABLE_NAME WHEN 'inbound_messages' THEN 'inbound message' ELSE 'conversation' END,
                        NEW.id, NEW.org_id USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END $$;


--
-- Name: tocsin_mark_going(bigint[], text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_mark_going(p_ids bigint[], p_worker text) RETURNS SETOF bigint
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: tocsin_member_data_columns(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_member_data_columns() RETURNS TABLE(table_name text, column_name text, handling text, reason text)
    LANGUAGE sql IMMUTABLE
    AS $$
    VALUES
        ('contacts', 'first_name', 'cleared', NULL),
        ('contacts', 'last_name', 'cleared', NULL),
        ('contacts', 'zip', 'cleared', NULL),
        ('contacts', 'timezone', 'cleared', NULL),
        ('contacts', 'language', 'cleared', NULL),
        ('contacts', 'fields', 'cleared', NULL),
        ('contacts', 'phone', 'kept', 'subscriptions (consent history) and opt-outs are by number'),
        ('conversations', 'contact_id', 'deleted', NULL),
        ('conversation_notes', 'body', 'deleted', NULL),
        ('conversation_tags', 'conversation_id', 'deleted', NULL),
        ('messages', 'body', 'cleared', NULL),
        ('messages', 'to_phone', 'kept', 'delivery facts: what was sent to which number, when, at what cost'),
        ('messages', 'contact_id', 'kept', 'delivery facts'),
        ('messages', 'conversation_id', 'unlinked', NULL),
        ('inbound_messages', 'body', 'cleared', 'except a keyword, STOP or START: consent evidence'),
        ('inbound_messages', 'from_phone', 'kept', 'consent evidence and receipt of what the member sent'),
        ('inbound_messages', 'contact_id', 'kept', 'consent evidence'),
        ('inbound_messages', 'conversation_id', 'unlinked', NULL),
        ('inbound_journal', 'body', 'kept', 'threaded into inbound_messages within a second, then deleted'),
        ('inbound_journal', 'from_phone', 'kept', 'threaded into inbound_messages within a second, then deleted'),
        ('inbound_journal_failed', 'body', 'cleared', NULL),
        ('inbound_journal_failed', 'from_phone', 'kept', 'the operator must see which message failed'),
        ('outreach_targets', 'contact_id', 'deleted', NULL),
        ('outreach_answers', 'contact_id', 'deleted', NULL),
        ('blast_audience', 'contact_ids', 'cleared', NULL),
        ('subscriptions', 'contact_id', 'kept', 'consent history (ended, not deleted)'),
        ('consent_events', 'phone', 'kept', 'consent history: kept five years'),
        ('consent_events', 'evidence', 'kept', 'consent history: the inbound message id or import batch'),
        ('opt_outs', 'evidence', 'kept', 'what the opt-out rests on'),
        ('opt_outs', 'phone', 'kept', 'an opt-out is never forgotten while it is in force'),
        ('blasts', 'body', 'kept', 'a lead''s template, not a member''s data'),
        ('canned_responses', 'body', 'kept', 'a shared text, not a member''s data'),
        ('outreach_campaigns', 'script', 'kept', 'a lead''s template, not a member''s data'),
        ('outreach_choices', 'next_script', 'kept', 'a lead''s template, not a member''s data'),
        ('audit_events', 'details', 'kept', 'the audit log is append-only (and chained); it names contacts by id'),
        ('audit_alerts', 'details', 'kept', 'an alert''s counts (rows exported, claims in an hour), no member''s data'),
        ('orgs', 'phone_region', 'kept', 'an org''s setting (a country code), not a member''s data') $$;


--
-- Name: tocsin_message_blocked(bigint, text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_message_blocked(p_org bigint, p_phone text, p_purpose text) RETURNS boolean
    LANGUAGE sql STABLE
    AS $$
    SELECT p_purpose <> 'opt_out_confirmation'
       AND EXISTS (SELECT 1 FROM opt_outs o WHERE o.org_id = p_org AND o.phone = p_phone)
$$;


--
-- Name: tocsin_message_by_carrier_id(text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_message_by_carrier_id(p_provider text, p_message_id text) RETURNS bigint
    LANGUAGE sql STABLE
    AS $$
    SELECT c.message_id FROM message_carrier_ids c JOIN messages m ON m.id = c.message_id
     WHERE c.provider = p_provider AND c.provider_message_id = p_message_id
       AND m.provider = p_provider AND m.provider_message_id = p_message_id
$$;


--
-- Name: tocsin_message_lookups_delete(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_message_lookups_delete() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    WITH c AS (
        DELETE FROM message_carrier_ids c USING old_rows o
         WHERE o.provider_message_id IS NOT NULL
           AND c.provider_message_id = o.provider_message_id AND c.provider = o.provider AND c.message_id = o.id)
    DELETE FROM unknown_messages u USING old_rows o WHERE o.state = 'unknown' AND u.message_id = o.id;
    RETURN NULL;
END $$;


--
-- Name: tocsin_message_lookups_insert(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_message_lookups_insert() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    WITH c AS (
        INSERT INTO message_carrier_ids (provider_message_id, provider, message_id)
        SELECT n.provider_message_id, n.provider, n.id FROM new_rows n WHERE n.provider_message_id IS NOT NULL)
    INSERT INTO unknown_messages (message_id, org_id, sender_id, blast_id)
    SELECT n.id, n.org_id, n.sender_id, n.blast_id FROM new_rows n WHERE n.state = 'unknown';
    RETURN NULL;
END $$;


--
-- Name: tocsin_message_lookups_update(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_message_lookups_update() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_had_ids boolean;
    v_had_unknown boolean;
    v_given int;
    v_new int;
    v_held record;
BEGIN
    SELECT coalesce(bool_or(o.provider_message_id IS NOT NULL), false), coalesce(bool_or(o.state = 'unknown'), false)
      INTO v_had_ids, v_had_unknown FROM old_rows o;
    IF NOT v_had_ids THEN
        WITH ins AS (
            INSERT INTO message_carrier_ids (provider_message_id, provider, message_id)
            SELECT n.provider_message_id, n.provider, n.id FROM new_rows n WHERE n.provider_message_id IS NOT NULL)
        INSERT INTO unknown_messages (message_id, org_id, sender_id, blast_id)
        SELECT n.id, n.org_id, n.sender_id, n.blast_id FROM new_rows n WHERE n.state = 'unknown'
        ON CONFLICT (message_id) DO NOTHING;
    ELSE
        -- An id the message no longer has (changed, cleared) leaves.
        DELETE FROM message_carrier_ids c USING old_rows o
         WHERE o.provider_message_id IS NOT NULL
           AND c.provider_message_id = o.provider_message_id AND c.provider = o.provider AND c.message_id = o.id
           AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = o.id AND m.provider = o.provider
                                                      AND m.provider_message_id = o.provider_message_id);
        WITH c AS (
            SELECT n.provider_message_id, n.provider, n.id FROM new_rows n WHERE n.provider_message_id IS NOT NULL),
        ins AS (
            INSERT INTO message_carrier_ids (provider_message_id, provider, message_id)
            SELECT c.provider_message_id, c.provider, c.id FROM c
            ON CONFLICT (provider_message_id, provider) DO NOTHING
            RETURNING 1),
        unk AS (
            INSERT INTO unknown_messages (message_id, org_id, sender_id, blast_id)
            SELECT n.id, n.org_id, n.sender_id, n.blast_id FROM new_rows n WHERE n.state = 'unknown'
            ON CONFLICT (message_id) DO NOTHING)
        SELECT count(*), (SELECT count(*) FROM ins) INTO v_given, v_new FROM c;
        IF v_new < v_given THEN
            SELECT n.provider, n.provider_message_id INTO v_held
              FROM new_rows n JOIN message_carrier_ids k
                   ON k.provider_message_id = n.provider_message_id AND k.provider = n.provider
             WHERE k.message_id <> n.id
             LIMIT 1;
            IF FOUND THEN
                RAISE EXCEPTION 'duplicate key value violates unique constraint "message_carrier_ids_pkey"'
                    USING ERRCODE = 'unique_violation', CONSTRAINT = 'message_carrier_ids_pkey',
                          TABLE = 'message_carrier_ids',
                          DETAIL = format('Key (provider_message_id, provider)=(%s, %s) already exists.',
                                          v_held.provider_message_id, v_held.provider);
            END IF;
        END IF;
    END IF;
    IF v_had_unknown THEN
        DELETE FROM unknown_messages u USING new_rows n WHERE u.message_id = n.id AND n.state <> 'unknown';
    END IF;
    RETURN NULL;
END $$;


--
-- Name: tocsin_message_rank(text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_message_rank(state text) RETURNS integer
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT CASE state WHEN 'queued' THEN 0 WHEN 'sending' THEN 1 WHEN 'unknown' THEN 1 WHEN 'sent' THEN 2
                      WHEN 'delivered' THEN 3 WHEN 'undelivered' THEN 3 WHEN 'failed' THEN 3 ELSE 4 END $$;


--
-- Name: tocsin_message_shown_state(bigint, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_message_shown_state(p_id bigint, p_state text) RETURNS text
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    IF p_state IS DISTINCT FROM 'queued' THEN  -- a simple expression: no executor
        RETURN p_state;
    END IF;
    IF EXISTS (SELECT 1 FROM outbox o WHERE o.id = p_id) THEN
        RETURN 'queued';
    END IF;
    RETURN 'sending';
END $$;


--
-- Name: tocsin_message_state_notify(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_message_state_notify() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM tocsin_conversation_status_notify(NEW.org_id, NEW.conversation_id);
    RETURN NULL;
END $$;


--
-- Name: tocsin_messages_requeue(bigint, bigint, bigint, bigint, boolean); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_messages_requeue(p_org bigint, p_user bigint, p_sender bigint, p_blast bigint, p_dry_run boolean) RETURNS integer
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_count int;
    v_ids bigint[];
BEGIN
    -- unknown_messages lists them (schema 035: no index on messages names
    -- state).
    IF p_dry_run THEN
        SELECT count(*) INTO v_count FROM unknown_messages m
         WHERE (p_org IS NULL OR m.org_id = p_org)
           AND (p_sender IS NULL OR m.sender_id = p_sender) AND (p_blast IS NULL OR m.blast_id = p_blast)
           AND NOT EXISTS (SELECT 1 FROM blasts b WHERE b.id = m.blast_id AND b.state = 'cancelled');
        RETURN v_count;
    END IF;
    WITH u AS (
        UPDATE messages m SET state = 'queued', request_sent_at = NULL, claimed_by = NULL, lease_until = NULL,
               error_code = NULL, error_message = NULL, not_before = now(), updated_at = now()
         WHERE m.id IN (SELECT k.message_id FROM unknown_messages k
                         WHERE (p_org IS NULL OR k.org_id = p_org) AND (p_sender IS NULL OR k.sender_id = p_sender)
                           AND (p_blast IS NULL OR k.blast_id = p_blast))
           AND m.state = 'unknown'
           AND NOT EXISTS (SELECT 1 FROM blasts b WHERE b.id = m.blast_id AND b.state = 'cancelled')
        RETURNING m.id, m.org_id, m.blast_id
    ), again AS (
        UPDATE blasts b SET state = 'sending', completed_at = NULL
         WHERE b.state = 'completed' AND b.id IN (SELECT blast_id FROM u)
    ), audit AS (
        INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)
        SELECT u.org_id, p_user, 'messages.requeue', CASE WHEN p_blast IS NULL THEN NULL ELSE 'blast' END,
               p_blast, jsonb_build_object('state', 'unknown', 'count', count(*), 'sender_id', p_sender)
          FROM u GROUP BY u.org_id
    )
    SELECT count(*), array_agg(u.id) INTO v_count, v_ids FROM u;
    PERFORM tocsin_outbox_put_back(v_ids);
    RETURN v_count;
END $$;


--
-- Name: tocsin_notify_senders(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_notify_senders() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM pg_notify('tocsin_senders', '');
    RETURN NULL;
END $$;


--
-- Name: tocsin_notify_sessions(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_notify_sessions() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM pg_notify('tocsin_sessions', '');
    RETURN NULL;
END $$;


--
-- Name: tocsin_opt_out_show(bigint, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_opt_out_show(p_org bigint, p_phone text) RETURNS json
    LANGUAGE sql STABLE
    AS $$
    SELECT json_build_object(
        'phone', p_phone,
        'opted_out', o.phone IS NOT NULL,
        'source', o.source,
        'opted_out_at', o.opted_out_at,
        'evidence', o.evidence,
        'undo_refused', CASE WHEN o.phone IS NOT NULL THEN tocsin_opt_out_undo_refusal(p_org, p_phone) END,
        'history', (SELECT coalesce(json_agg(json_build_object('event', e.event, 'source', e.source,
                                                               'at', e.created_at, 'evidence', e.evidence)
                                             ORDER BY e.created_at DESC, e.id DESC), '[]')
                      FROM (SELECT * FROM consent_events e WHERE e.org_id = p_org AND e.phone = p_phone
                             ORDER BY e.created_at DESC, e.id DESC LIMIT 20) e))
      FROM (SELECT 1) one
      LEFT JOIN opt_outs o ON o.org_id = p_org AND o.phone = p_phone
$$;


--
-- Name: tocsin_opt_out_undo(bigint, bigint, text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_opt_out_undo(p_org bigint, p_user bigint, p_phone text, p_reason text) RETURNS TABLE(status integer, body json)
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_refusal text;
    v_source text;
    v_event bigint;
    v_lists int;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended(p_org::text || p_phone, 0));
    v_refusal := tocsin_opt_out_undo_refusal(p_org, p_phone);
    IF v_refusal IS NOT NULL THEN
        RETURN QUERY SELECT CASE WHEN v_refusal LIKE 'this number is not%' THEN 404 ELSE 409 END,
                            tocsin_api_error(CASE WHEN v_refusal LIKE 'this number is not%' THEN 404 ELSE 409 END,
                                             CASE WHEN v_refusal LIKE 'this number is not%' THEN 'not_found'
                                                  ELSE 'members_own_stop' END, v_refusal);
        RETURN;
    END IF;
    DELETE FROM opt_outs WHERE org_id = p_org AND phone = p_phone RETURNING source INTO v_source;
    SELECT max(e.id) INTO v_event FROM consent_events e
     WHERE e.org_id = p_org AND e.phone = p_phone AND e.event = 'opt_out';
    INSERT INTO consent_events (org_id, phone, event, source, evidence)
    VALUES (p_org, p_phone, 'opt_in', 'admin', 'user ' || p_user || ': ' || p_reason);
    WITH back AS (
        UPDATE subscriptions s SET unsubscribed_at = NULL, ended_by_opt_out = NULL
          FROM contacts c
         WHERE c.org_id = p_org AND c.phone = p_phone AND s.contact_id = c.id
           AND s.ended_by_opt_out = v_event AND s.unsubscribed_at IS NOT NULL
        RETURNING s.list_id)
    SELECT count(*) INTO v_lists FROM back;
    PERFORM tocsin_audit(p_org, p_user, 'opt_out.undo', 'phone', NULL,
            jsonb_build_object('phone', p_phone, 'source', v_source, 'reason', p_reason,
                               'lists_restored', v_lists));
    RETURN QUERY SELECT 200, json_build_object('phone', p_phone, 'opted_out', false,
                                               'lists_restored', v_lists);
END $$;


--
-- Name: tocsin_opt_out_undo_refusal(bigint, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_opt_out_undo_refusal(p_org bigint, p_phone text) RETURNS text
    LANGUAGE sql STABLE
    AS $$
    SELECT CASE
        WHEN o.phone IS NULL THEN 'this number is not opted out'
        WHEN o.source IN ('keyword', 'carrier')
        THEN 'the member opted out themselves (' || CASE o.source WHEN 'keyword' THEN 'they texted a stop word'
             ELSE 'their carrier reported it' END || '): only they can undo it, by texting START'
        WHEN EXISTS (SELECT 1 FROM inbound_messages i
                      WHERE i.org_id = p_org AND i.from_phone = p_phone AND i.intent = 'opt_out'
                        AND i.received_at >= o.opted_out_at)
        THEN 'the member texted a stop word after this opt-out: only they can undo it, by texting START'
        END
      FROM (SELECT 1) one
      LEFT JOIN opt_outs o ON o.org_id = p_org AND o.phone = p_phone
$$;


--
-- Name: tocsin_org_contacts_kept(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_org_contacts_kept() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM contacts c WHERE c.org_id = OLD.id) THEN
        RAISE EXCEPTION 'org % still has contacts', OLD.id USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END $$;


--
-- Name: tocsin_org_known_fields(bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_org_known_fields(p_org bigint) RETURNS json
    LANGUAGE sql STABLE
    AS $$
    SELECT coalesce(json_agg(k ORDER BY k), '[]')
      FROM (SELECT DISTINCT jsonb_object_keys(c.fields) AS k
              FROM (SELECT fields FROM contacts WHERE org_id = p_org ORDER BY id DESC LIMIT 5000) c
             LIMIT 100) x $$;


--
-- Name: tocsin_org_privacy_json(public.orgs); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_org_privacy_json(o public.orgs) RETURNS json
    LANGUAGE sql STABLE
    AS $$
    SELECT json_build_object(
        'retain_outbound_days', o.retain_outbound_days, 'retain_inbound_days', o.retain_inbound_days,
        'retain_session_days', o.retain_session_days, 'retain_audit_days', o.retain_audit_days,
        'volunteer_fields', to_json(o.volunteer_fields), 'consent_years', 5) $$;


--
-- Name: tocsin_org_privacy_save(bigint, bigint, text, text, text, text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_org_privacy_save(p_org bigint, p_user bigint, p_out text, p_in text, p_sessions text, p_audit text, p_fields text) RETURNS TABLE(status integer, body json)
    LANGUAGE plpgsql
    AS $_$
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
END $_$;


--
-- Name: tocsin_org_settings_json(public.orgs); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_org_settings_json(o public.orgs) RETURNS json
    LANGUAGE sql STABLE
    AS $$
    SELECT json_build_object(
        'name', o.name, 'help_text', o.help_text, 'help_text_es', o.help_text_es,
        'texting_hours_start', o.texting_hours_start, 'texting_hours_end', o.texting_hours_end,
        'release_after_minutes', o.release_after_minutes,
        'volunteer_max_conversations', o.volunteer_max_conversations,
        'phone_region', o.phone_region) $$;


--
-- Name: tocsin_org_settings_save(bigint, bigint, text, text, text, text, text, text, text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_org_settings_save(p_org bigint, p_user bigint, p_name text, p_help text, p_help_es text, p_start text, p_end text, p_release text, p_cap text, p_region text) RETURNS TABLE(status integer, body json)
    LANGUAGE plpgsql
    AS $_$
DECLARE
    v_old orgs;
    v_new orgs;
    v_int int;
    v_changes jsonb := '{}';
    v_key text;
BEGIN
    SELECT * INTO v_old FROM orgs WHERE id = p_org FOR UPDATE;
    v_new := v_old;
    IF p_name IS NOT NULL THEN
        IF length(btrim(p_name)) NOT BETWEEN 1 AND 200 THEN
            RETURN QUERY SELECT 400, tocsin_api_error(400, 'invalid', 'invalid name: must be 1 to 200 characters');
            RETURN;
        END IF;
        v_new.name := btrim(p_name);
    END IF;
    IF p_help IS NOT NULL THEN
        IF length(p_help) > 1600 THEN
            RETURN QUERY SELECT 400, tocsin_api_error(400, 'invalid', 'invalid help_text: at most 1600 characters');
            RETURN;
        END IF;
        v_new.help_text := nullif(p_help, '');
    END IF;
    IF p_help_es IS NOT NULL THEN
        IF length(p_help_es) > 1600 THEN
            RETURN QUERY SELECT 400, tocsin_api_error(400, 'invalid', 'invalid help_text_es: at most 1600 characters');
            RETURN;
        END IF;
        v_new.help_text_es := nullif(p_help_es, '');
    END IF;
    IF p_region IS NOT NULL THEN
        IF p_region <> 'default' AND p_region !~ '^[A-Z]{2}$' THEN
            RETURN QUERY SELECT 400, tocsin_api_error(400, 'invalid',
                format('invalid phone_region "%s": two upper-case letters, e.g. MX, or default', left(p_region, 20)));
            RETURN;
        END IF;
        v_new.phone_region := nullif(p_region, 'default');
    END IF;
    -- Whole numbers only; the bounds are the columns' own.
    FOREACH v_key IN ARRAY ARRAY['texting_hours_start', 'texting_hours_end', 'release_after_minutes',
                                 'volunteer_max_conversations'] LOOP
        DECLARE
            v_text text := CASE v_key WHEN 'texting_hours_start' THEN p_start WHEN 'texting_hours_end' THEN p_end
                                      WHEN 'release_after_minutes' THEN p_release ELSE p_cap END;
            v_lo int := CASE v_key WHEN 'texting_hours_start' THEN 8 WHEN 'texting_hours_end' THEN 9
                                   WHEN 'release_after_minutes' THEN 5 ELSE 1 END;
            v_hi int := CASE v_key WHEN 'texting_hours_start' THEN 20 WHEN 'texting_hours_end' THEN 21
                                   WHEN 'release_after_minutes' THEN 10080 ELSE 500 END;
        BEGIN
            CONTINUE WHEN v_text IS NULL;
            IF v_text = '' AND v_key = 'release_after_minutes' THEN
                v_new.release_after_minutes := NULL;
                CONTINUE;
            END IF;
            IF v_text !~ '^\s*[0-9]{1,6}\s*$' OR v_text::int NOT BETWEEN v_lo AND v_hi THEN
                RETURN QUERY SELECT 400, tocsin_api_error(400, 'invalid',
                    format('invalid %s "%s": a whole number from %s to %s', v_key, left(v_text, 20), v_lo, v_hi));
                RETURN;
            END IF;
            v_int := v_text::int;
            CASE v_key
                WHEN 'texting_hours_start' THEN v_new.texting_hours_start := v_int;
                WHEN 'texting_hours_end' THEN v_new.texting_hours_end := v_int;
                WHEN 'release_after_minutes' THEN v_new.release_after_minutes := v_int;
                ELSE v_new.volunteer_max_conversations := v_int;
            END CASE;
        END;
    END LOOP;
    IF v_new.texting_hours_end <= v_new.texting_hours_start THEN
        RETURN QUERY SELECT 400, tocsin_api_error(400, 'invalid',
            format('invalid texting_hours_end %s: must be after texting_hours_start %s',
                   v_new.texting_hours_end, v_new.texting_hours_start));
        RETURN;
    END IF;
    UPDATE orgs SET name = v_new.name, help_text = v_new.help_text, help_text_es = v_new.help_text_es,
           texting_hours_start = v_new.texting_hours_start, texting_hours_end = v_new.texting_hours_end,
           release_after_minutes = v_new.release_after_minutes,
           volunteer_max_conversations = v_new.volunteer_max_conversations,
           phone_region = v_new.phone_region
     WHERE id = p_org;
    v_changes := tocsin_json_changes(to_jsonb(tocsin_org_settings_json(v_old)),
                                     to_jsonb(tocsin_org_settings_json(v_new)));
    IF v_changes <> '{}' THEN
        PERFORM tocsin_audit(p_org, nullif(p_user, 0), 'org.settings', 'org', p_org, v_changes);
    END IF;
    RETURN QUERY SELECT 200, tocsin_org_settings_json(v_new);
END $_$;


--
-- Name: tocsin_outbox_count_flight(bigint[], integer); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_outbox_count_flight(p_ids bigint[], p_sign integer) RETURNS void
    LANGUAGE sql
    AS $$
    INSERT INTO blast_counter_deltas (blast_id, queued, sending)
    SELECT m.blast_id, -p_sign * count(*), p_sign * count(*)
      FROM unnest(p_ids) AS i(id)
      JOIN messages m ON m.id = i.id  -- by key: the index on (blast_id, state) would read every queued one
     WHERE m.blast_id IS NOT NULL AND m.state = 'queued'
     GROUP BY m.blast_id
$$;


--
-- Name: tocsin_outbox_fill(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_outbox_fill() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    INSERT INTO outbox (id, sender_id, lane, not_before, blast_id)
    SELECT n.id, n.sender_id, n.lane, n.not_before, n.blast_id FROM new_rows n WHERE n.state = 'queued';
    RETURN NULL;
END $$;


--
-- Name: tocsin_outbox_forget(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_outbox_forget() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    DELETE FROM outbox o USING old_rows d WHERE o.id = d.id AND d.state = 'queued';
    RETURN NULL;
END $$;


--
-- Name: tocsin_outbox_notify(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_outbox_notify() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM pg_notify('tocsin_outbox', s.sender_id::text)
       FROM (SELECT DISTINCT sender_id FROM new_rows WHERE state = 'queued') s;
    RETURN NULL;
END $$;


--
-- Name: tocsin_outbox_put_back(bigint[]); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_outbox_put_back(p_ids bigint[]) RETURNS integer
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: tocsin_outreach_answer(bigint, bigint, text, bigint, bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_outreach_answer(p_org bigint, p_user bigint, p_role text, p_conv bigint, p_choice bigint) RETURNS TABLE(status integer, body json)
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_t outreach_targets;
    v_step bigint;
    v_next text;
BEGIN
    SELECT t.* INTO v_t FROM conversations cv JOIN outreach_targets t ON t.conversation_id = cv.id
     WHERE cv.id = p_conv AND cv.org_id = p_org AND (p_role <> 'volunteer' OR cv.assignee_id = p_user)
     ORDER BY t.texted_at DESC LIMIT 1;
    IF v_t.contact_id IS NULL THEN
        RETURN;
    END IF;
    SELECT ch.step_id, ch.next_script INTO v_step, v_next FROM outreach_choices ch
      JOIN outreach_steps s ON s.id = ch.step_id
     WHERE ch.id = p_choice AND s.campaign_id = v_t.campaign_id;
    IF v_step IS NULL THEN
        RETURN QUERY SELECT 422, tocsin_api_error(422, 'invalid', 'that answer is not one of this campaign''s');
        RETURN;
    END IF;
    INSERT INTO outreach_answers (org_id, campaign_id, contact_id, step_id, choice_id, conversation_id, recorded_by)
    VALUES (p_org, v_t.campaign_id, v_t.contact_id, v_step, p_choice, p_conv, p_user)
    ON CONFLICT (campaign_id, contact_id, step_id) DO UPDATE
       SET choice_id = EXCLUDED.choice_id, recorded_by = EXCLUDED.recorded_by, recorded_at = now(),
           conversation_id = EXCLUDED.conversation_id;
    UPDATE conversations SET assignee_active_at = now() WHERE id = p_conv AND assignee_id = p_user;
    PERFORM tocsin_audit(p_org, p_user, 'outreach.answer', 'conversation', p_conv,
            jsonb_build_object('campaign_id', v_t.campaign_id, 'step_id', v_step, 'choice_id', p_choice));
    RETURN QUERY SELECT 200, json_build_object(
        'step_id', v_step, 'choice_id', p_choice,
        'next_script', CASE WHEN v_next IS NOT NULL THEN tocsin_contact_render(v_next, v_t.contact_id, p_role) END);
END $$;


--
-- Name: outreach_campaigns; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.outreach_campaigns (
    id bigint NOT NULL,
    org_id bigint NOT NULL,
    name text NOT NULL,
    sender_id bigint NOT NULL,
    script text NOT NULL,
    batch_size integer DEFAULT 25 NOT NULL,
    hours_start smallint DEFAULT 8 NOT NULL,
    hours_end smallint DEFAULT 21 NOT NULL,
    state text DEFAULT 'draft'::text NOT NULL,
    created_by bigint,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT outreach_campaigns_batch_size_check CHECK (((batch_size >= 1) AND (batch_size <= 500))),
    CONSTRAINT outreach_campaigns_check CHECK ((hours_end > hours_start)),
    CONSTRAINT outreach_campaigns_hours_end_check CHECK (((hours_end >= 9) AND (hours_end <= 21))),
    CONSTRAINT outreach_campaigns_hours_start_check CHECK (((hours_start >= 8) AND (hours_start <= 20))),
    CONSTRAINT outreach_campaigns_name_check CHECK (((length(name) >= 1) AND (length(name) <= 200))),
    CONSTRAINT outreach_campaigns_script_check CHECK (((length(script) >= 1) AND (length(script) <= 1600))),
    CONSTRAINT outreach_campaigns_state_check CHECK ((state = ANY (ARRAY['draft'::text, 'active'::text, 'paused'::text, 'closed'::text])))
);


--
-- Name: tocsin_outreach_campaign_json(public.outreach_campaigns); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_outreach_campaign_json(c public.outreach_campaigns) RETURNS json
    LANGUAGE sql STABLE
    AS $$
    SELECT json_build_object(
        'id', c.id, 'name', c.name, 'sender_id', c.sender_id, 'script', c.script,
        'batch_size', c.batch_size, 'hours_start', c.hours_start, 'hours_end', c.hours_end,
        'state', c.state, 'created_at', c.created_at,
        'steps', (SELECT coalesce(json_agg(json_build_object(
                      'id', s.id, 'position', s.position, 'question', s.question,
                      'choices', (SELECT coalesce(json_agg(json_build_object('id', ch.id, 'label', ch.label,
                                                                             'next_script', ch.next_script)
                                                           ORDER BY ch.position), '[]')
                                    FROM outreach_choices ch WHERE ch.step_id = s.id))
                      ORDER BY s.position), '[]')
                    FROM outreach_steps s WHERE s.campaign_id = c.id)) $$;


--
-- Name: tocsin_outreach_claim(bigint, bigint, bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_outreach_claim(p_org bigint, p_user bigint, p_campaign bigint) RETURNS TABLE(status integer, body json)
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_camp outreach_campaigns;
    v_held int;
    v_n int;
BEGIN
    SELECT * INTO v_camp FROM outreach_campaigns WHERE id = p_campaign AND org_id = p_org;
    IF v_camp.id IS NULL THEN
        RETURN;
    END IF;
    IF v_camp.state <> 'active' THEN
        RETURN QUERY SELECT 409, tocsin_api_error(409, 'inactive', 'this campaign is not active');
        RETURN;
    END IF;
    -- One volunteer's claims in a row (two tabs): each counts what she
    -- already holds after the other committed, so a batch never overfills.
    PERFORM pg_advisory_xact_lock(hashtextextended(format('outreach_claim %s %s', p_campaign, p_user), 0));
    SELECT count(*) INTO v_held FROM outreach_batch b
     WHERE b.claimed_by = p_user AND b.campaign_id = p_campaign;
    WITH picked AS (
        SELECT t.contact_id FROM outreach_targets t JOIN contacts c ON c.id = t.contact_id
         WHERE t.campaign_id = p_campaign AND t.state = 'pending'
           AND NOT EXISTS (SELECT 1 FROM opt_outs o WHERE o.org_id = c.org_id AND o.phone = c.phone)
         ORDER BY t.contact_id
         LIMIT greatest(v_camp.batch_size - v_held, 0)
           FOR UPDATE OF t SKIP LOCKED)
    UPDATE outreach_targets t SET state = 'claimed', claimed_by = p_user, claimed_at = now(), skipped_at = NULL
      FROM picked WHERE t.campaign_id = p_campaign AND t.contact_id = picked.contact_id AND t.state = 'pending';
    GET DIAGNOSTICS v_n = ROW_COUNT;
    IF v_n > 0 THEN
        PERFORM tocsin_audit(p_org, p_user, 'outreach.claim', 'outreach_campaign', p_campaign, jsonb_build_object('claimed', v_n));
    END IF;
    RETURN QUERY SELECT 200, json_build_object('claimed', v_n, 'in_batch', v_held + v_n);
END $$;


--
-- Name: tocsin_outreach_create(bigint, bigint, text, bigint, text, integer, integer, integer); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_outreach_create(p_org bigint, p_user bigint, p_name text, p_sender bigint, p_script text, p_batch_size integer, p_hours_start integer, p_hours_end integer) RETURNS TABLE(status integer, body json)
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_err text := tocsin_outreach_script_error(p_script);
    v outreach_campaigns;
    v_org orgs;
BEGIN
    IF v_err IS NOT NULL THEN
        RETURN QUERY SELECT 422, tocsin_api_error(422, 'invalid', 'invalid script: ' || v_err);
        RETURN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM senders WHERE id = p_sender AND org_id = p_org) THEN
        RETURN QUERY SELECT 422, tocsin_api_error(422, 'invalid', format('sender %s does not exist', p_sender));
        RETURN;
    END IF;
    IF EXISTS (SELECT 1 FROM senders WHERE id = p_sender AND disabled_at IS NOT NULL) THEN
        RETURN QUERY SELECT 422, tocsin_api_error(422, 'invalid',
            format('sender %s is disabled: an admin enables it on the Senders page', p_sender));
        RETURN;
    END IF;
    SELECT * INTO v_org FROM orgs WHERE id = p_org;
    INSERT INTO outreach_campaigns (org_id, name, sender_id, script, batch_size, hours_start, hours_end,
                                    created_by)
    VALUES (p_org, p_name, p_sender, p_script, coalesce(p_batch_size, 25),
            coalesce(p_hours_start, v_org.texting_hours_start, 8),
            coalesce(p_hours_end, v_org.texting_hours_end, 21), nullif(p_user, 0))
    RETURNING * INTO v;
    PERFORM tocsin_audit(p_org, nullif(p_user, 0), 'outreach.create', 'outreach_campaign', v.id,
            jsonb_build_object('name', p_name, 'sender_id', p_sender));
    RETURN QUERY SELECT 201, tocsin_outreach_campaign_json(v);
END $$;


--
-- Name: tocsin_outreach_for_conversation(bigint, bigint, text, bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_outreach_for_conversation(p_org bigint, p_user bigint, p_role text, p_conv bigint) RETURNS json
    LANGUAGE sql STABLE
    AS $$
    SELECT json_build_object(
        'campaign', tocsin_outreach_campaign_json(oc), 'contact_id', t.contact_id,
        'answers', (SELECT coalesce(json_object_agg(a.step_id, a.choice_id), '{}')
                      FROM outreach_answers a WHERE a.campaign_id = t.campaign_id AND a.contact_id = t.contact_id))
      FROM conversations cv
      JOIN outreach_targets t ON t.conversation_id = cv.id
      JOIN outreach_campaigns oc ON oc.id = t.campaign_id
     WHERE cv.id = p_conv AND cv.org_id = p_org AND (p_role <> 'volunteer' OR cv.assignee_id = p_user)
     ORDER BY t.texted_at DESC LIMIT 1 $$;


--
-- Name: tocsin_outreach_hours_end(text, text, integer, timestamp with time zone); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_outreach_hours_end(p_phone text, p_timezone text, p_end integer, p_at timestamp with time zone) RETURNS timestamp with time zone
    LANGUAGE sql STABLE
    AS $$
    SELECT min((date_trunc('day', p_at AT TIME ZONE z) + make_interval(hours => least(p_end, r.quiet_end_hour)))
               AT TIME ZONE z)
      FROM tocsin_recipient_zones(p_phone, p_timezone) r, unnest(r.zones) z $$;


--
-- Name: tocsin_outreach_import_check(bigint, bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_outreach_import_check(p_org bigint, p_campaign bigint) RETURNS bigint
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM outreach_campaigns WHERE id = p_campaign AND org_id = p_org) THEN
        RAISE EXCEPTION 'outreach campaign % does not exist', p_campaign USING ERRCODE = '22023';
    END IF;
    RETURN p_campaign;
END $$;


--
-- Name: tocsin_outreach_in_hours(text, text, integer, integer, timestamp with time zone); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_outreach_in_hours(p_phone text, p_timezone text, p_start integer, p_end integer, p_at timestamp with time zone) RETURNS boolean
    LANGUAGE sql STABLE
    AS $$
    SELECT coalesce(bool_and(extract(hour FROM p_at AT TIME ZONE z) >= p_start
                             AND extract(hour FROM p_at AT TIME ZONE z) < least(p_end, r.quiet_end_hour)), false)
      FROM tocsin_recipient_zones(p_phone, p_timezone) r, unnest(r.zones) z $$;


--
-- Name: tocsin_outreach_next(bigint, bigint, text, bigint, timestamp with time zone); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_outreach_next(p_org bigint, p_user bigint, p_role text, p_campaign bigint, p_now timestamp with time zone) RETURNS TABLE(status integer, body json)
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    v_camp outreach_campaigns;
    v_left int;
    v_b outreach_batch;
    v_seen text[] := tocsin_contact_seen_fields(p_org, p_role);
BEGIN
    SELECT * INTO v_camp FROM outreach_campaigns WHERE id = p_campaign AND org_id = p_org;
    IF v_camp.id IS NULL THEN
        RETURN;
    END IF;
    SELECT count(*) INTO v_left FROM outreach_batch b WHERE b.claimed_by = p_user AND b.campaign_id = p_campaign;
    SELECT * INTO v_b FROM outreach_batch b WHERE b.claimed_by = p_user AND b.campaign_id = p_campaign
     ORDER BY b.skipped_at NULLS FIRST, b.claimed_at, b.contact_id LIMIT 1;
    RETURN QUERY SELECT 200, json_build_object(
        'campaign', json_build_object('id', v_camp.id, 'name', v_camp.name, 'state', v_camp.state),
        'left', v_left,
        'pending', (SELECT count(*) FROM outreach_targets WHERE campaign_id = p_campaign AND state = 'pending'),
        'contact', CASE WHEN v_b.contact_id IS NOT NULL THEN json_build_object(
            'id', v_b.contact_id, 'first_name', tocsin_contact_shown(v_seen, 'first_name', v_b.first_name),
            'last_name', tocsin_contact_shown(v_seen, 'last_name', v_b.last_name),
            'phone', tocsin_dashboard_phone(v_b.phone, p_role),
            'in_hours', tocsin_outreach_in_hours(v_b.phone, v_b.timezone, v_camp.hours_start, v_camp.hours_end, p_now),
            'script', tocsin_contact_render(v_camp.script, v_b.contact_id, p_role)) END);
END $$;


--
-- Name: tocsin_outreach_opted_out(bigint, bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_outreach_opted_out(p_org bigint, p_contact bigint) RETURNS boolean
    LANGUAGE sql STABLE
    AS $$
    SELECT EXISTS (SELECT 1 FROM contacts c JOIN opt_outs o ON o.org_id = c.org_id AND o.phone = c.phone
                    WHERE c.id = p_contact AND c.org_id = p_org) $$;


--
-- Name: tocsin_outreach_progress(bigint, bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_outreach_progress(p_org bigint, p_campaign bigint) RETURNS json
    LANGUAGE sql STABLE
    AS $$
    SELECT json_build_object(
        'campaign_id', p_campaign,
        'total', count(*),
        'pending', count(*) FILTER (WHERE t.state = 'pending' AND NOT t.opted_out),
        'claimed', count(*) FILTER (WHERE t.state = 'claimed' AND NOT t.opted_out),
        'texted', count(*) FILTER (WHERE t.state = 'texted'),
        'replied', count(*) FILTER (WHERE t.state = 'texted' AND t.replied),
        'opted_out', count(*) FILTER (WHERE t.opted_out),
        'answers', (SELECT coalesce(json_agg(json_build_object(
                        'step_id', s.id, 'question', s.question,
                        'choices', (SELECT json_agg(json_build_object('id', ch.id, 'label', ch.label,
                                        'count', (SELECT count(*) FROM outreach_answers a WHERE a.choice_id = ch.id))
                                        ORDER BY ch.position)
                                      FROM outreach_choices ch WHERE ch.step_id = s.id))
                        ORDER BY s.position), '[]')
                      FROM outreach_steps s WHERE s.campaign_id = p_campaign))
      FROM (SELECT t.state,
                   EXISTS (SELECT 1 FROM opt_outs o WHERE o.org_id = c.org_id AND o.phone = c.phone) AS opted_out,
                   EXISTS (SELECT 1 FROM inbound_messages i WHERE i.conversation_id = t.conversation_id
                              AND i.received_at >= t.texted_at) AS replied
              FROM outreach_targets t JOIN contacts c ON c.id = t.contact_id
             WHERE t.campaign_id = p_campaign AND t.org_id = p_org) t
     WHERE EXISTS (SELECT 1 FROM outreach_campaigns WHERE id = p_campaign AND org_id = p_org) $$;


--
-- Name: tocsin_outreach_release(bigint, bigint, bigint, bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_outreach_release(p_org bigint, p_user bigint, p_campaign bigint, p_volunteer bigint) RETURNS TABLE(status integer, body json)
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_n int;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM outreach_campaigns WHERE id = p_campaign AND org_id = p_org) THEN
        RETURN;
    END IF;
    UPDATE outreach_targets SET state = 'pending', claimed_by = NULL, claimed_at = NULL, skipped_at = NULL
     WHERE campaign_id = p_campaign AND org_id = p_org AND state = 'claimed'
       AND (p_volunteer IS NULL OR claimed_by = p_volunteer);
    GET DIAGNOSTICS v_n = ROW_COUNT;
    PERFORM tocsin_audit(p_org, nullif(p_user, 0), 'outreach.release', 'outreach_campaign', p_campaign,
            jsonb_build_object('released', v_n, 'volunteer', p_volunteer));
    RETURN QUERY SELECT 200, json_build_object('released', v_n);
END $$;


--
-- Name: tocsin_outreach_script_error(text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_outreach_script_error(p_script text) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT CASE WHEN p_script IS NULL OR length(p_script) = 0 OR length(p_script) > 1600
                THEN 'must be 1 to 1600 characters'
                WHEN regexp_replace(p_script, tocsin_blast_field_re(), '', 'g') ~ '[{}]'
                THEN 'braces are for fields only: {name} or {name|fallback}'
           END $$;


--
-- Name: tocsin_outreach_send(bigint, bigint, bigint, bigint, text, text, integer, timestamp with time zone); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_outreach_send(p_org bigint, p_user bigint, p_campaign bigint, p_contact bigint, p_body text, p_encoding text, p_segments integer, p_now timestamp with time zone) RETURNS TABLE(status integer, body json)
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_camp outreach_campaigns;
    v_t outreach_targets;
    v_c contacts;
    v_provider text;
    v_conv bigint;
    v_prev bigint;
    v_msg bigint;
BEGIN
    SELECT * INTO v_camp FROM outreach_campaigns WHERE id = p_campaign AND org_id = p_org;
    IF v_camp.id IS NULL THEN
        RETURN;
    END IF;
    IF v_camp.state <> 'active' THEN
        RETURN QUERY SELECT 409, tocsin_api_error(409, 'inactive', 'this campaign is not active');
        RETURN;
    END IF;
    SELECT * INTO v_t FROM outreach_targets
     WHERE campaign_id = p_campaign AND contact_id = p_contact AND org_id = p_org FOR UPDATE;
    IF v_t.contact_id IS NULL OR v_t.state <> 'claimed' OR v_t.claimed_by <> p_user THEN
        RETURN QUERY SELECT 409, tocsin_api_error(409, 'not_claimed',
            CASE WHEN v_t.state = 'texted' THEN 'this contact was already texted'
                 ELSE 'this contact is not in your batch' END);
        RETURN;
    END IF;
    SELECT * INTO v_c FROM contacts WHERE id = p_contact AND org_id = p_org;
    IF EXISTS (SELECT 1 FROM opt_outs o WHERE o.org_id = p_org AND o.phone = v_c.phone) THEN
        RETURN QUERY SELECT 409, tocsin_api_error(409, 'opted_out', 'this contact has opted out: nothing can be sent');
        RETURN;
    END IF;
    IF NOT tocsin_outreach_in_hours(v_c.phone, v_c.timezone, v_camp.hours_start, v_camp.hours_end, p_now) THEN
        UPDATE outreach_targets SET skipped_at = p_now WHERE campaign_id = p_campaign AND contact_id = p_contact;
        RETURN QUERY SELECT 409, tocsin_api_error(409, 'outside_hours', format(
            'outside this contact''s texting hours (%s:00 to %s:00 their time): they stay in your batch for later',
            v_camp.hours_start, v_camp.hours_end));
        RETURN;
    END IF;
    SELECT provider INTO v_provider FROM senders WHERE id = v_camp.sender_id;
    SELECT c.assignee_id INTO v_prev FROM conversations c
     WHERE c.contact_id = p_contact AND c.sender_id = v_camp.sender_id AND c.state = 'open';
    -- ON CONFLICT: a reply the gateway stores meanwhile opens the same one.
    -- The WHERE is evaluated on the row as locked, so a claim committed
    -- since the read above is seen: another volunteer's conversation is
    -- never taken over (nothing is returned, and nothing was written).
    INSERT INTO conversations AS cv (org_id, contact_id, sender_id, assignee_id, assigned_at, assignee_active_at,
                                     last_outbound_at)
    VALUES (p_org, p_contact, v_camp.sender_id, p_user, now(), now(), now())
    ON CONFLICT (contact_id, sender_id) WHERE state = 'open' DO UPDATE
       SET assignee_id = p_user, last_outbound_at = now(), assignee_active_at = now(),
           assigned_at = CASE WHEN cv.assignee_id IS DISTINCT FROM p_user THEN now() ELSE cv.assigned_at END
     WHERE cv.assignee_id IS NULL OR cv.assignee_id = p_user
    RETURNING cv.id INTO v_conv;
    IF v_conv IS NULL THEN
        RETURN QUERY SELECT 409, tocsin_api_error(409, 'assigned_elsewhere',
            'another volunteer is already in a conversation with this contact: skip them, or ask a lead');
        RETURN;
    END IF;
    INSERT INTO messages (org_id, sender_id, provider, contact_id, to_phone, body, encoding, segments, lane,
                          purpose, conversation_id, sent_by_user_id, validity_until)
    VALUES (p_org, v_camp.sender_id, v_provider, p_contact, v_c.phone, p_body, p_encoding, p_segments,
            'conversational', 'outreach', v_conv, p_user,
            tocsin_outreach_hours_end(v_c.phone, v_c.timezone, v_camp.hours_end, p_now))
    RETURNING id INTO v_msg;
    UPDATE outreach_targets SET state = 'texted', claimed_by = NULL, texted_by = p_user, texted_at = now(),
           message_id = v_msg, conversation_id = v_conv
     WHERE campaign_id = p_campaign AND contact_id = p_contact;
    PERFORM tocsin_audit(p_org, p_user, 'outreach.send', 'message', v_msg,
            jsonb_build_object('campaign_id', p_campaign, 'contact_id', p_contact, 'conversation_id', v_conv,
                               'segments', p_segments));
    PERFORM pg_notify('tocsin_conversations', json_build_object(
        'org_id', p_org, 'conversation_id', v_conv, 'event', 'assigned', 'assignee_id', p_user,
        'previous_assignee_id', v_prev)::text);
    RETURN QUERY SELECT 201, json_build_object(
        'message_id', v_msg, 'conversation_id', v_conv, 'contact_id', p_contact,
        'encoding', p_encoding, 'segments', p_segments,
        'left', (SELECT count(*) FROM outreach_batch b WHERE b.claimed_by = p_user AND b.campaign_id = p_campaign));
END $$;


--
-- Name: tocsin_outreach_send_paced(bigint, bigint, bigint, bigint, text, text, integer, timestamp with time zone, integer); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_outreach_send_paced(p_org bigint, p_user bigint, p_campaign bigint, p_contact bigint, p_body text, p_encoding text, p_segments integer, p_now timestamp with time zone, p_min_interval_ms integer) RETURNS TABLE(status integer, body json)
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_last timestamptz;
    v_gap_ms int;
    v_status int;
    v_body json;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended(format('outreach_send %s', p_user), 0));
    -- A statement after the lock takes a new snapshot: a send that
    -- committed while this one waited is seen.
    SELECT last_sent_at INTO v_last FROM outreach_send_pace WHERE user_id = p_user;
    v_gap_ms := round(abs(extract(epoch FROM p_now - v_last)) * 1000);
    IF coalesce(p_min_interval_ms, 0) > 0 AND v_gap_ms < p_min_interval_ms THEN
        -- Too soon: run the send in a subtransaction and undo it (its
        -- message, conversation and NOTIFY) if it went through.
        BEGIN
            SELECT s.status, s.body INTO v_status, v_body
              FROM tocsin_outreach_send(p_org, p_user, p_campaign, p_contact, p_body, p_encoding, p_segments,
                                        p_now) s;
            IF v_status = 201 THEN
                RAISE EXCEPTION 'outreach send too soon' USING ERRCODE = 'TS429';
            END IF;
        EXCEPTION WHEN SQLSTATE 'TS429' THEN
            PERFORM tocsin_audit(p_org, p_user, 'outreach.send_refused', 'outreach_campaign', p_campaign,
                    jsonb_build_object('reason', 'too_soon', 'contact_id', p_contact, 'gap_ms', v_gap_ms,
                                       'min_interval_ms', p_min_interval_ms));
            RETURN QUERY SELECT 429, tocsin_api_error(429, 'too_soon', format(
                'not sent: this came %s ms after your last message, and each message needs its own click '
                '(at least %s ms apart). Check who is next, then send again.', v_gap_ms, p_min_interval_ms));
            RETURN;
        END;
    ELSE
        SELECT s.status, s.body INTO v_status, v_body
          FROM tocsin_outreach_send(p_org, p_user, p_campaign, p_contact, p_body, p_encoding, p_segments, p_now) s;
    END IF;
    IF v_status IS NULL THEN
        RETURN;
    END IF;
    IF v_status = 201 THEN
        INSERT INTO outreach_send_pace AS p (user_id, org_id, last_sent_at) VALUES (p_user, p_org, p_now)
        ON CONFLICT (user_id) DO UPDATE SET last_sent_at = greatest(p.last_sent_at, EXCLUDED.last_sent_at);
    END IF;
    RETURN QUERY SELECT v_status, v_body;
END $$;


--
-- Name: tocsin_outreach_skip(bigint, bigint, bigint, bigint, timestamp with time zone); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_outreach_skip(p_org bigint, p_user bigint, p_campaign bigint, p_contact bigint, p_now timestamp with time zone) RETURNS TABLE(status integer, body json)
    LANGUAGE sql
    AS $$
    UPDATE outreach_targets SET skipped_at = p_now
     WHERE campaign_id = p_campaign AND contact_id = p_contact AND org_id = p_org
       AND claimed_by = p_user AND state = 'claimed'
    RETURNING 200, json_build_object('skipped', contact_id) $$;


--
-- Name: tocsin_outreach_step_add(bigint, bigint, text, jsonb); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_outreach_step_add(p_org bigint, p_campaign bigint, p_question text, p_choices jsonb) RETURNS TABLE(status integer, body json)
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_step bigint;
    v_bad text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM outreach_campaigns WHERE id = p_campaign AND org_id = p_org) THEN
        RETURN;
    END IF;
    IF jsonb_typeof(p_choices) IS DISTINCT FROM 'array' OR jsonb_array_length(p_choices) NOT BETWEEN 1 AND 10 THEN
        RETURN QUERY SELECT 422, tocsin_api_error(422, 'invalid', 'a step needs 1 to 10 answers');
        RETURN;
    END IF;
    SELECT coalesce(e->>'label', '?') INTO v_bad FROM jsonb_array_elements(p_choices) e
     WHERE jsonb_typeof(e) <> 'object' OR coalesce(e->>'label', '') = ''
        OR tocsin_outreach_script_error(nullif(e->>'next_script', '')) IS NOT NULL AND coalesce(e->>'next_script', '') <> ''
     LIMIT 1;
    IF FOUND THEN
        RETURN QUERY SELECT 422, tocsin_api_error(422, 'invalid',
            format('invalid answer "%s": a label, and a next script whose braces are fields', v_bad));
        RETURN;
    END IF;
    INSERT INTO outreach_steps (org_id, campaign_id, position, question)
    SELECT p_org, p_campaign, coalesce(max(position), 0) + 1, p_question FROM outreach_steps
     WHERE campaign_id = p_campaign
    RETURNING id INTO v_step;
    INSERT INTO outreach_choices (org_id, step_id, position, label, next_script)
    SELECT p_org, v_step, e.i, e.v->>'label', nullif(e.v->>'next_script', '')
      FROM jsonb_array_elements(p_choices) WITH ORDINALITY AS e(v, i);
    RETURN QUERY SELECT 201, tocsin_outreach_campaign_json(c) FROM outreach_campaigns c WHERE c.id = p_campaign;
END $$;


--
-- Name: tocsin_outreach_update(bigint, bigint, bigint, text, text, integer, integer, integer, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_outreach_update(p_org bigint, p_user bigint, p_campaign bigint, p_name text, p_script text, p_batch_size integer, p_hours_start integer, p_hours_end integer, p_state text) RETURNS TABLE(status integer, body json)
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_err text := CASE WHEN p_script IS NOT NULL THEN tocsin_outreach_script_error(p_script) END;
    v outreach_campaigns;
BEGIN
    IF v_err IS NOT NULL THEN
        RETURN QUERY SELECT 422, tocsin_api_error(422, 'invalid', 'invalid script: ' || v_err);
        RETURN;
    END IF;
    UPDATE outreach_campaigns c SET name = coalesce(p_name, c.name), script = coalesce(p_script, c.script),
           batch_size = coalesce(p_batch_size, c.batch_size), hours_start = coalesce(p_hours_start, c.hours_start),
           hours_end = coalesce(p_hours_end, c.hours_end), state = coalesce(p_state, c.state)
     WHERE c.id = p_campaign AND c.org_id = p_org
    RETURNING * INTO v;
    IF v.id IS NULL THEN
        RETURN;
    END IF;
    PERFORM tocsin_audit(p_org, nullif(p_user, 0), 'outreach.update', 'outreach_campaign', v.id,
            jsonb_strip_nulls(jsonb_build_object('name', p_name, 'script', p_script, 'state', p_state,
                                                 'batch_size', p_batch_size, 'hours_start', p_hours_start,
                                                 'hours_end', p_hours_end)));
    RETURN QUERY SELECT 200, tocsin_outreach_campaign_json(v);
END $$;


--
-- Name: tocsin_people(bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_people(p_org bigint) RETURNS json
    LANGUAGE sql STABLE
    AS $$
    SELECT json_build_object(
        'users', (SELECT coalesce(json_agg(json_build_object(
                      'id', u.id, 'email', u.email, 'display_name', u.display_name, 'role', u.role,
                      'disabled', u.disabled_at IS NOT NULL, 'password_set', u.password_hash IS NOT NULL,
                      'last_active_at', u.last_active_at, 'created_at', u.created_at,
                      'national', u.national_user_id IS NOT NULL,
                      -- schema 030: her authenticator, and her sessions open now
                      'two_factor', EXISTS (SELECT 1 FROM user_totp t
                                             WHERE t.user_id = u.id AND t.confirmed_at IS NOT NULL),
                      'sessions', (SELECT count(*) FROM sessions s
                                    WHERE s.user_id = u.id AND s.expires_at > now()),
                      -- an acting account's: national admins' sessions in it now
                      'visits', (SELECT count(*) FROM sessions s
                                  WHERE s.acting_user_id = u.id AND s.acting_org_id = u.org_id
                                    AND s.acting_until > now() AND s.expires_at > now()))
                      ORDER BY u.disabled_at IS NOT NULL, lower(u.display_name), u.id), '[]')
                    FROM users u WHERE u.org_id = p_org),
        'invites', (SELECT coalesce(json_agg(json_build_object(
                        'id', i.id, 'email', i.email, 'role', i.role, 'user_id', i.user_id,
                        'created_at', i.created_at, 'expires_at', i.expires_at)
                        ORDER BY i.created_at DESC, i.id DESC), '[]')
                      FROM invites i WHERE i.org_id = p_org AND i.used_at IS NULL AND i.expires_at > now()))
$$;


--
-- Name: tocsin_phone_zone_keys_rebuild(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_phone_zone_keys_rebuild() RETURNS void
    LANGUAGE sql
    AS $$
    DELETE FROM phone_zone_keys;
    INSERT INTO phone_zone_keys (key, prefix)
    SELECT k.key, (SELECT z.prefix FROM phone_zones z
                    WHERE z.prefix IN (k.key, left(k.key, 4), left(k.key, 3), left(k.key, 2), '+')
                    ORDER BY length(z.prefix) DESC LIMIT 1)
      FROM (SELECT '+' || n AS key FROM generate_series(1000, 9999) n) k;
$$;


--
-- Name: tocsin_protection_settings(bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_protection_settings(p_org bigint, OUT status integer, OUT body json) RETURNS record
    LANGUAGE sql STABLE
    AS $$
    SELECT 200, json_build_object('alert_export_over', alert_export_over,
                                  'alert_claims_per_hour', alert_claims_per_hour,
                                  'blast_approval_over', blast_approval_over)
      FROM orgs WHERE id = p_org
$$;


--
-- Name: tocsin_protection_settings_save(bigint, bigint, text, text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_protection_settings_save(p_org bigint, p_user bigint, p_export text, p_claims text, p_approval text) RETURNS TABLE(status integer, body json)
    LANGUAGE plpgsql
    AS $_$
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
END $_$;


--
-- Name: tocsin_quiet_window_start(text[], integer, timestamp with time zone, integer); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_quiet_window_start(p_zones text[], p_end_hour integer, p_at timestamp with time zone, p_start_hour integer DEFAULT 8) RETURNS timestamp with time zone
    LANGUAGE plpgsql STABLE
    AS $$
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


--
-- Name: tocsin_quiet_window_start_zone(text, integer, timestamp with time zone, integer); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_quiet_window_start_zone(p_zone text, p_end_hour integer, p_at timestamp with time zone, p_start_hour integer DEFAULT 8) RETURNS timestamp with time zone
    LANGUAGE sql STABLE
    AS $$
    SELECT CASE WHEN extract(hour FROM p_at AT TIME ZONE p_zone) < p_start_hour
                THEN (date_trunc('day', p_at AT TIME ZONE p_zone) + make_interval(hours => p_start_hour))
                     AT TIME ZONE p_zone
                WHEN extract(hour FROM p_at AT TIME ZONE p_zone) >= p_end_hour
                THEN (date_trunc('day', p_at AT TIME ZONE p_zone) + interval '1 day'
                      + make_interval(hours => p_start_hour)) AT TIME ZONE p_zone
                ELSE p_at END
$$;


--
-- Name: tocsin_receipts_pending_cap(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_receipts_pending_cap() RETURNS integer
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT 10000 $$;


--
-- Name: tocsin_receipts_pending_max_age(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_receipts_pending_max_age() RETURNS interval
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT interval '1 day' $$;


--
-- Name: tocsin_receipts_rematch(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_receipts_rematch() RETURNS integer
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: tocsin_receive_inbound(text, text, bigint, text, text, integer, text, bigint, boolean, text, text, integer, timestamp with time zone); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_receive_inbound(p_provider text, p_message_id text, p_sender_id bigint, p_from text, p_body text, p_num_media integer, p_intent text, p_keyword_id bigint, p_likely_revocation boolean, p_reply text, p_reply_encoding text, p_reply_segments integer, p_received_at timestamp with time zone DEFAULT NULL::timestamp with time zone) RETURNS TABLE(inbound_id bigint, action text, conversation_id bigint)
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: tocsin_receive_inbound_batch(text[], text[], bigint[], text[], text[], integer[], text[], bigint[], boolean[], text[], text[], integer[], timestamp with time zone[]); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_receive_inbound_batch(p_provider text[], p_message_id text[], p_sender_id bigint[], p_from text[], p_body text[], p_num_media integer[], p_intent text[], p_keyword_id bigint[], p_likely_revocation boolean[], p_reply text[], p_reply_encoding text[], p_reply_segments integer[], p_received_at timestamp with time zone[] DEFAULT NULL::timestamp with time zone[]) RETURNS TABLE(inbound_id bigint, action text, conversation_id bigint, ord integer)
    LANGUAGE plpgsql
    SET plan_cache_mode TO 'force_generic_plan'
    SET enable_nestloop TO 'off'
    SET enable_seqscan TO 'off'
    SET jit TO 'off'
    AS $$
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


--
-- Name: tocsin_receive_inbound_burst(text[], text[], bigint[], text[], text[], integer[], text[], bigint[], boolean[], text[], text[], integer[]); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_receive_inbound_burst(p_provider text[], p_message_id text[], p_sender_id bigint[], p_from text[], p_body text[], p_num_media integer[], p_intent text[], p_keyword_id bigint[], p_likely_revocation boolean[], p_reply text[], p_reply_encoding text[], p_reply_segments integer[]) RETURNS TABLE(inbound_id bigint, action text, conversation_id bigint, ord integer)
    LANGUAGE plpgsql
    SET plan_cache_mode TO 'force_generic_plan'
    SET enable_seqscan TO 'off'
    SET jit TO 'off'
    AS $$
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


--
-- Name: tocsin_recipient_zones(text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_recipient_zones(p_phone text, p_timezone text, OUT zones text[], OUT quiet_end_hour smallint) RETURNS record
    LANGUAGE sql STABLE
    AS $$
    SELECT CASE WHEN EXISTS (SELECT 1 FROM tz_names t WHERE t.name = p_timezone)
                THEN ARRAY[p_timezone] ELSE z.zones END, z.quiet_end_hour
      FROM phone_zones z
     WHERE z.prefix IN (left(p_phone, 5), left(p_phone, 4), left(p_phone, 3), left(p_phone, 2), '+')
     ORDER BY length(z.prefix) DESC LIMIT 1
$$;


--
-- Name: tocsin_record_outcomes(text, bigint[], text[], text[], text[], text[], integer[], boolean[]); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_record_outcomes(p_worker text, p_ids bigint[], p_kinds text[], p_provider_ids text[], p_codes text[], p_errors text[], p_retry_ms integer[], p_opt_outs boolean[]) RETURNS integer
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: tocsin_release_claims(bigint[], text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_release_claims(p_ids bigint[], p_worker text) RETURNS integer
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: tocsin_retention_audit_due(bigint, integer); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_retention_audit_due(p_org bigint, p_limit integer) RETURNS integer
    LANGUAGE sql STABLE
    AS $$
    WITH cut AS (SELECT now() - make_interval(days => o.retain_audit_days) AS at FROM orgs o WHERE o.id = p_org),
         head AS (SELECT e.seq, e.created_at < cut.at AS due
                    FROM cut, LATERAL (SELECT seq, created_at FROM audit_events
                                        WHERE org_id = p_org ORDER BY seq LIMIT p_limit) e),
         stop AS (SELECT min(seq) AS seq FROM head WHERE NOT due)
    SELECT count(*)::int FROM head h, stop WHERE h.due AND (stop.seq IS NULL OR h.seq < stop.seq) $$;


--
-- Name: tocsin_retention_audit_prefix(bigint, integer); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_retention_audit_prefix(p_org bigint, p_limit integer) RETURNS integer
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_n int := tocsin_retention_audit_due(p_org, p_limit);
BEGIN
    IF v_n = 0 THEN
        RETURN 0;
    END IF;
    RETURN tocsin_audit_prune(p_org, now() - make_interval(days => (SELECT retain_audit_days FROM orgs WHERE id = p_org)),
                              v_n);
END $$;


--
-- Name: tocsin_retention_batch(text, bigint, bigint, integer); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_retention_batch(p_kind text, p_org bigint, p_after bigint, p_limit integer) RETURNS TABLE(changed integer, next_after bigint, done boolean)
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: tocsin_retention_claim(text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_retention_claim(p_worker text) RETURNS boolean
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: tocsin_retention_due(bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_retention_due(p_org bigint) RETURNS TABLE(org_id bigint, kind text, due bigint)
    LANGUAGE sql STABLE
    AS $$
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


--
-- Name: tocsin_retention_finished(text, jsonb); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_retention_finished(p_by text, p_counts jsonb) RETURNS void
    LANGUAGE sql
    AS $$
    UPDATE retention_schedule SET last_finished_at = now(), last_by = left(p_by, 200), last_counts = p_counts
     WHERE id = 1 $$;


--
-- Name: tocsin_retention_kinds(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_retention_kinds() RETURNS text[]
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT ARRAY['outbound_bodies', 'inbound_bodies', 'sessions', 'audit_events', 'consent_events'] $$;


--
-- Name: tocsin_retention_mark(text, bigint, bigint, boolean); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_retention_mark(p_kind text, p_kept bigint, p_safe bigint, p_done boolean) RETURNS void
    LANGUAGE sql
    AS $$
    UPDATE retention_marks SET first_kept = coalesce(first_kept, p_kept) WHERE kind = p_kind;
    UPDATE retention_marks SET from_id = greatest(from_id, coalesce(first_kept - 1, p_safe, from_id)), first_kept = NULL
     WHERE kind = p_kind AND p_done;
$$;


--
-- Name: tocsin_retention_next_at(integer, timestamp with time zone); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_retention_next_at(p_hour integer, p_now timestamp with time zone) RETURNS timestamp with time zone
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT CASE WHEN t > p_now THEN t ELSE t + interval '1 day' END
      FROM (SELECT (date_trunc('day', p_now AT TIME ZONE 'UTC') + make_interval(hours => p_hour)) AT TIME ZONE 'UTC' AS t) x $$;


--
-- Name: tocsin_retention_step(text, bigint, bigint, integer); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_retention_step(p_kind text, p_org bigint, p_after bigint, p_limit integer) RETURNS TABLE(kind text, changed integer, next_kind text, next_after bigint)
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: tocsin_review_answer(bigint, bigint, bigint, text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_review_answer(p_org bigint, p_user bigint, p_conv bigint, p_step text, p_choice text) RETURNS TABLE(status integer, body json)
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_t outreach_targets;
    v_step bigint;
    v_choice bigint;
    v_old outreach_answers;
BEGIN
    SELECT t.* INTO v_t FROM conversations cv JOIN outreach_targets t ON t.conversation_id = cv.id
     WHERE cv.id = p_conv AND cv.org_id = p_org
     ORDER BY t.texted_at DESC LIMIT 1;
    IF v_t.contact_id IS NULL THEN
        RETURN;
    END IF;
    v_step := tocsin_review_id(p_step, 'step_id');
    IF v_step IS NULL OR NOT EXISTS (SELECT 1 FROM outreach_steps s
                                      WHERE s.id = v_step AND s.campaign_id = v_t.campaign_id) THEN
        RAISE EXCEPTION 'invalid step_id: pick a question of this conversation''s campaign' USING ERRCODE = '22023';
    END IF;
    v_choice := tocsin_review_id(p_choice, 'choice_id');
    IF v_choice IS NOT NULL AND NOT EXISTS (SELECT 1 FROM outreach_choices ch
                                             WHERE ch.id = v_choice AND ch.step_id = v_step) THEN
        RAISE EXCEPTION 'invalid choice_id: not an answer to that question' USING ERRCODE = '22023';
    END IF;
    SELECT * INTO v_old FROM outreach_answers a
     WHERE a.campaign_id = v_t.campaign_id AND a.contact_id = v_t.contact_id AND a.step_id = v_step FOR UPDATE;
    IF v_old.choice_id IS NOT DISTINCT FROM v_choice THEN
        RETURN QUERY SELECT 200, json_build_object('step_id', v_step, 'choice_id', v_choice, 'changed', false);
        RETURN;
    END IF;
    IF v_choice IS NULL THEN
        DELETE FROM outreach_answers a
         WHERE a.campaign_id = v_t.campaign_id AND a.contact_id = v_t.contact_id AND a.step_id = v_step;
    ELSE
        INSERT INTO outreach_answers (org_id, campaign_id, contact_id, step_id, choice_id, conversation_id, recorded_by)
        VALUES (p_org, v_t.campaign_id, v_t.contact_id, v_step, v_choice, p_conv, p_user)
        ON CONFLICT (campaign_id, contact_id, step_id) DO UPDATE
           SET choice_id = EXCLUDED.choice_id, recorded_by = EXCLUDED.recorded_by, recorded_at = now(),
               conversation_id = EXCLUDED.conversation_id;
    END IF;
    PERFORM tocsin_audit(p_org, p_user, 'outreach.answer_correct', 'conversation', p_conv,
            jsonb_build_object('campaign_id', v_t.campaign_id, 'step_id', v_step,
                               'old_choice_id', v_old.choice_id, 'new_choice_id', v_choice,
                               'old_label', (SELECT label FROM outreach_choices WHERE id = v_old.choice_id),
                               'new_label', (SELECT label FROM outreach_choices WHERE id = v_choice)));
    RETURN QUERY SELECT 200, json_build_object('step_id', v_step, 'choice_id', v_choice, 'changed', true,
                                               'old_choice_id', v_old.choice_id);
EXCEPTION WHEN SQLSTATE '22023' THEN
    RETURN QUERY SELECT 400, tocsin_api_error(400, 'invalid', SQLERRM);
END $$;


--
-- Name: tocsin_review_close(bigint, bigint, bigint[]); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_review_close(p_org bigint, p_user bigint, p_ids bigint[], OUT status integer, OUT body json) RETURNS record
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_rows conversations[];
    v_closed bigint[];
BEGIN
    SELECT coalesce(array_agg(r ORDER BY r.id), '{}') INTO v_rows FROM tocsin_review_lock(p_org, p_ids) r;
    WITH u AS (
        UPDATE conversations c SET state = 'closed', unread = 0
          FROM unnest(v_rows) old
         WHERE c.id = old.id AND old.state = 'open'
        RETURNING c.id, old.assignee_id AS previous
    ), n AS (
        SELECT u.id, pg_notify('tocsin_conversations', json_build_object(
                   'org_id', p_org, 'conversation_id', u.id, 'event', 'closed', 'assignee_id', NULL::bigint,
                   'previous_assignee_id', u.previous)::text) FROM u
    )
    SELECT coalesce(array_agg(n.id ORDER BY n.id), '{}') INTO v_closed FROM n;
    PERFORM tocsin_audit(p_org, p_user, 'conversation.bulk_close', 'conversation', NULL,
            jsonb_build_object('ids', (SELECT jsonb_agg(r.id ORDER BY r.id) FROM unnest(v_rows) r),
                               'closed', to_jsonb(v_closed)));
    status := 200;
    body := json_build_object('ids', (SELECT json_agg(r.id ORDER BY r.id) FROM unnest(v_rows) r),
                              'closed', cardinality(v_closed),
                              'already_closed', cardinality(v_rows) - cardinality(v_closed));
EXCEPTION WHEN SQLSTATE 'P0002' THEN
    status := 404;
    body := tocsin_api_error(404, 'not_found', SQLERRM);
END $$;


--
-- Name: tocsin_review_date(text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_review_date(p_text text, p_field text) RETURNS date
    LANGUAGE plpgsql IMMUTABLE
    AS $_$
BEGIN
    IF p_text IS NULL OR p_text = '' THEN
        RETURN NULL;
    END IF;
    IF p_text !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN
        RAISE EXCEPTION 'invalid %: "%" is not a date such as 2026-12-24', p_field, left(p_text, 20)
            USING ERRCODE = '22023';
    END IF;
    RETURN p_text::date;
EXCEPTION WHEN SQLSTATE '22008' OR SQLSTATE '22007' THEN
    RAISE EXCEPTION 'invalid %: "%" is not a date such as 2026-12-24', p_field, p_text USING ERRCODE = '22023';
END $_$;


--
-- Name: tocsin_review_id(text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_review_id(p_text text, p_field text) RETURNS bigint
    LANGUAGE plpgsql IMMUTABLE
    AS $_$
BEGIN
    IF p_text IS NULL OR p_text = '' THEN
        RETURN NULL;
    END IF;
    IF p_text !~ '^[1-9][0-9]{0,17}$' THEN
        RAISE EXCEPTION 'invalid %: "%" is not an id', p_field, left(p_text, 20) USING ERRCODE = '22023';
    END IF;
    RETURN p_text::bigint;
END $_$;


--
-- Name: tocsin_review_last_body(bigint, timestamp with time zone, timestamp with time zone); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_review_last_body(p_id bigint, p_in timestamp with time zone, p_out timestamp with time zone) RETURNS text
    LANGUAGE sql STABLE
    AS $$
    SELECT CASE WHEN p_out > p_in OR p_in IS NULL
                THEN (SELECT m.body FROM messages m WHERE m.conversation_id = p_id
                       ORDER BY m.created_at DESC LIMIT 1)
                ELSE (SELECT i.body FROM inbound_messages i WHERE i.conversation_id = p_id
                       ORDER BY i.received_at DESC LIMIT 1) END $$;


--
-- Name: tocsin_review_list(bigint, jsonb); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_review_list(p_org bigint, p_f jsonb, OUT status integer, OUT body json) RETURNS record
    LANGUAGE plpgsql STABLE
    AS $_$
DECLARE
    v_campaign bigint;
    v_tag bigint;
    v_vol bigint;
    v_unassigned boolean := false;
    v_state text := nullif(p_f->>'state', '');
    v_flagged boolean;
    v_from timestamptz;
    v_to timestamptz;
    v_q text := nullif(p_f->>'q', '');
    v_pattern text;
    v_before bigint;
    v_limit int := 50;
    v_ids bigint[];
    v_next bigint;
    v_seen text[] := tocsin_contact_seen_fields(p_org, 'lead'); -- review is for leads
BEGIN
    v_campaign := tocsin_review_id(p_f->>'campaign', 'campaign');
    IF v_campaign IS NOT NULL AND NOT EXISTS (SELECT 1 FROM outreach_campaigns
                                               WHERE id = v_campaign AND org_id = p_org) THEN
        RAISE EXCEPTION 'invalid campaign: no campaign %', v_campaign USING ERRCODE = '22023';
    END IF;
    v_tag := tocsin_review_id(p_f->>'tag', 'tag');
    IF v_tag IS NOT NULL AND NOT EXISTS (SELECT 1 FROM tags WHERE id = v_tag AND org_id = p_org) THEN
        RAISE EXCEPTION 'invalid tag: no tag %', v_tag USING ERRCODE = '22023';
    END IF;
    IF p_f->>'volunteer' = 'none' THEN
        v_unassigned := true;
    ELSE
        v_vol := tocsin_review_id(p_f->>'volunteer', 'volunteer');
        IF v_vol IS NOT NULL AND NOT EXISTS (SELECT 1 FROM users WHERE id = v_vol AND org_id = p_org) THEN
            RAISE EXCEPTION 'invalid volunteer: no user %', v_vol USING ERRCODE = '22023';
        END IF;
    END IF;
    IF v_state IS NOT NULL AND v_state NOT IN ('open', 'closed') THEN
        RAISE EXCEPTION 'invalid state: "%" is neither open nor closed', left(v_state, 20) USING ERRCODE = '22023';
    END IF;
    IF nullif(p_f->>'flagged', '') IS NOT NULL THEN
        IF p_f->>'flagged' NOT IN ('true', 'false') THEN
            RAISE EXCEPTION 'invalid flagged: "%" is neither true nor false', left(p_f->>'flagged', 20)
                USING ERRCODE = '22023';
        END IF;
        v_flagged := (p_f->>'flagged')::boolean;
    END IF;
    v_from := tocsin_review_date(p_f->>'from', 'from')::timestamp AT TIME ZONE 'UTC';
    v_to := (tocsin_review_date(p_f->>'to', 'to') + 1)::timestamp AT TIME ZONE 'UTC';
    IF v_from >= v_to THEN
        RAISE EXCEPTION 'invalid to: the range ends before it starts' USING ERRCODE = '22023';
    END IF;
    IF length(v_q) > 100 THEN
        RAISE EXCEPTION 'invalid q: at most 100 characters' USING ERRCODE = '22023';
    END IF;
    IF v_q IS NOT NULL THEN
        v_pattern := '%' || replace(replace(replace(v_q, '\', '\\'), '%', '\%'), '_', '\_') || '%';
    END IF;
    v_before := tocsin_review_id(p_f->>'before', 'before');
    IF nullif(p_f->>'limit', '') IS NOT NULL THEN
        IF p_f->>'limit' !~ '^[0-9]{1,3}$' OR (p_f->>'limit')::int NOT BETWEEN 1 AND 100 THEN
            RAISE EXCEPTION 'invalid limit: 1 to 100' USING ERRCODE = '22023';
        END IF;
        v_limit := (p_f->>'limit')::int;
    END IF;

    SELECT array_agg(x.id ORDER BY x.id DESC) INTO v_ids FROM (
        SELECT c.id FROM conversations c
         WHERE c.org_id = p_org
           AND (v_before IS NULL OR c.id < v_before)
           AND (v_state IS NULL OR c.state = v_state)
           AND (v_flagged IS NULL OR c.likely_opt_out = v_flagged)
           AND (v_vol IS NULL OR c.assignee_id = v_vol)
           AND (NOT v_unassigned OR c.assignee_id IS NULL)
           AND (v_campaign IS NULL OR EXISTS (SELECT 1 FROM outreach_targets t
                                               WHERE t.conversation_id = c.id AND t.campaign_id = v_campaign))
           AND (v_tag IS NULL OR EXISTS (SELECT 1 FROM conversation_tags x
                                          WHERE x.conversation_id = c.id AND x.tag_id = v_tag))
           AND (v_from IS NULL OR greatest(c.last_inbound_at, c.last_outbound_at, c.created_at) >= v_from)
           AND (v_to IS NULL OR greatest(c.last_inbound_at, c.last_outbound_at, c.created_at) < v_to)
           AND (v_pattern IS NULL
                OR tocsin_review_last_body(c.id, c.last_inbound_at, c.last_outbound_at) ILIKE v_pattern ESCAPE '\')
         ORDER BY c.id DESC LIMIT v_limit + 1) x;
    IF cardinality(v_ids) > v_limit THEN
        v_ids := v_ids[1:v_limit];
        v_next := v_ids[v_limit];
    END IF;
    status := 200;
    body := json_build_object(
        'conversations', (SELECT coalesce(json_agg((tocsin_dashboard_row_json(r, 'lead', v_seen)::jsonb || jsonb_build_object(
                              'campaign', (SELECT json_build_object('id', oc.id, 'name', oc.name)
                                             FROM outreach_targets t JOIN outreach_campaigns oc ON oc.id = t.campaign_id
                                            WHERE t.conversation_id = r.id ORDER BY t.texted_at DESC LIMIT 1),
                              'tags', (SELECT coalesce(json_agg(json_build_object('id', t.id, 'name', t.name)
                                                                ORDER BY t.name), '[]')
                                         FROM conversation_tags x JOIN tags t ON t.id = x.tag_id
                                        WHERE x.conversation_id = r.id)))::json
                                                    ORDER BY r.id DESC), '[]')
                            FROM dashboard_conversation_rows r WHERE r.id = ANY (v_ids) AND r.org_id = p_org),
        'next', v_next,
        'limit', v_limit);
EXCEPTION WHEN SQLSTATE '22023' THEN
    status := 400;
    body := tocsin_api_error(400, 'invalid', SQLERRM);
END $_$;


--
-- Name: tocsin_review_lock(bigint, bigint[]); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_review_lock(p_org bigint, p_ids bigint[]) RETURNS SETOF public.conversations
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_want int := (SELECT count(DISTINCT i) FROM unnest(p_ids) i);
    v_rows conversations[];
BEGIN
    PERFORM 1 FROM conversations c WHERE c.org_id = p_org AND c.id = ANY (p_ids) ORDER BY c.id FOR UPDATE;
    SELECT coalesce(array_agg(c ORDER BY c.id), '{}') INTO v_rows
      FROM conversations c WHERE c.org_id = p_org AND c.id = ANY (p_ids);
    IF cardinality(v_rows) <> v_want THEN
        RAISE EXCEPTION '% of the % conversations do not exist; nothing was changed',
            v_want - cardinality(v_rows), v_want USING ERRCODE = 'P0002';
    END IF;
    RETURN QUERY SELECT * FROM unnest(v_rows);
END $$;


--
-- Name: tocsin_review_reassign(bigint, bigint, bigint[], text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_review_reassign(p_org bigint, p_user bigint, p_ids bigint[], p_to text, OUT status integer, OUT body json) RETURNS record
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_to users;
    v_cap int;
    v_held int;
    v_rows conversations[];
    v_closed bigint[];
    v_moved jsonb;
BEGIN
    IF p_to IS NULL OR p_to = '' THEN
        RAISE EXCEPTION 'invalid user_id: pick who takes the conversations' USING ERRCODE = '22023';
    END IF;
    SELECT * INTO v_to FROM users
     WHERE id = tocsin_review_id(p_to, 'user_id') AND org_id = p_org AND disabled_at IS NULL;
    IF v_to.id IS NULL THEN
        RAISE EXCEPTION 'invalid user_id: not an enabled member of this org' USING ERRCODE = '22023';
    END IF;
    SELECT coalesce(array_agg(r ORDER BY r.id), '{}') INTO v_rows FROM tocsin_review_lock(p_org, p_ids) r;
    SELECT array_agg(r.id ORDER BY r.id) INTO v_closed FROM unnest(v_rows) r WHERE r.state <> 'open';
    IF v_closed IS NOT NULL THEN
        status := 409;
        body := tocsin_api_error(409, 'conflict', format('%s of the conversations are closed (%s); nothing was changed',
                                                         cardinality(v_closed), array_to_string(v_closed[1:10], ', ')));
        RETURN;
    END IF;
    IF v_to.role = 'volunteer' THEN
        PERFORM pg_advisory_xact_lock(hashtextextended(format('conversation_claim %s', v_to.id), 0));
        SELECT o.volunteer_max_conversations INTO v_cap FROM orgs o WHERE o.id = p_org;
        SELECT count(*) INTO v_held FROM conversations c
         WHERE c.org_id = p_org AND c.assignee_id = v_to.id AND c.state = 'open';
        IF v_held + (SELECT count(*) FROM unnest(v_rows) r WHERE r.assignee_id IS DISTINCT FROM v_to.id) > v_cap THEN
            status := 409;
            body := tocsin_api_error(409, 'over_cap', format(
                '%s holds %s of at most %s conversations: %s more would pass the cap; nothing was changed',
                coalesce(v_to.display_name, v_to.email), v_held, v_cap,
                (SELECT count(*) FROM unnest(v_rows) r WHERE r.assignee_id IS DISTINCT FROM v_to.id)));
            RETURN;
        END IF;
    END IF;
    WITH u AS (
        UPDATE conversations c SET assignee_id = v_to.id, assigned_at = now(), assignee_active_at = now()
          FROM unnest(v_rows) old
         WHERE c.id = old.id AND old.assignee_id IS DISTINCT FROM v_to.id
        RETURNING c.id, old.assignee_id AS previous
    ), n AS (
        SELECT u.*, pg_notify('tocsin_conversations', json_build_object(
                   'org_id', p_org, 'conversation_id', u.id, 'event', 'assigned', 'assignee_id', v_to.id,
                   'previous_assignee_id', u.previous)::text) FROM u
    )
    SELECT coalesce(jsonb_object_agg(n.id, n.previous), '{}') INTO v_moved FROM n;
    PERFORM tocsin_audit(p_org, p_user, 'conversation.bulk_assign', 'user', v_to.id,
            jsonb_build_object('ids', (SELECT jsonb_agg(r.id ORDER BY r.id) FROM unnest(v_rows) r),
                               'to', v_to.id, 'from', v_moved));
    status := 200;
    body := json_build_object('assignee_id', v_to.id,
                              'ids', (SELECT json_agg(r.id ORDER BY r.id) FROM unnest(v_rows) r),
                              'moved', (SELECT count(*) FROM jsonb_object_keys(v_moved)));
EXCEPTION
    WHEN SQLSTATE '22023' THEN
        status := 400;
        body := tocsin_api_error(400, 'invalid', SQLERRM);
    WHEN SQLSTATE 'P0002' THEN
        status := 404;
        body := tocsin_api_error(404, 'not_found', SQLERRM);
END $$;


--
-- Name: tocsin_sender_account(text, text, bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_sender_account(p_provider text, p_account_sid text, p_sender bigint) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT CASE WHEN p_account_sid IS NOT NULL THEN p_provider || ':' || p_account_sid
                ELSE p_provider || ':sender:' || p_sender END
$$;


--
-- Name: tocsin_sender_account_limit_set(bigint, bigint, bigint, text, text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_sender_account_limit_set(p_org bigint, p_user bigint, p_sender bigint, p_provider text, p_account_sid text, p_limit text) RETURNS json
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_old numeric;
BEGIN
    IF coalesce(p_limit, '') = '' THEN
        RETURN NULL;
    END IF;
    IF p_account_sid IS NULL THEN
        RETURN tocsin_api_error(400, 'invalid',
            'an account limit needs a carrier account: only a Twilio sender (its account SID) has one');
    END IF;
    IF EXISTS (SELECT 1 FROM senders WHERE provider = p_provider AND account_sid = p_account_sid
                                        AND org_id <> p_org) THEN
        RETURN tocsin_api_error(409, 'shared_account',
            'this carrier account also sends for another organisation: its limit is set by the operator (tocsinctl sender limit)');
    END IF;
    SELECT messages_per_second INTO v_old FROM provider_account_limits
     WHERE provider = p_provider AND account = p_account_sid;
    IF p_limit::numeric = 0 THEN
        DELETE FROM provider_account_limits WHERE provider = p_provider AND account = p_account_sid;
    ELSE
        INSERT INTO provider_account_limits (provider, account, messages_per_second)
        VALUES (p_provider, p_account_sid, p_limit::numeric)
        ON CONFLICT (provider, account) DO UPDATE SET messages_per_second = EXCLUDED.messages_per_second;
    END IF;
    IF v_old IS DISTINCT FROM nullif(p_limit::numeric, 0) THEN
        INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)
        VALUES (p_org, p_user, 'sender.account_limit', 'sender', p_sender,
                jsonb_build_object('account', p_provider || ':' || p_account_sid,
                                   'old', v_old, 'new', nullif(p_limit::numeric, 0)));
    END IF;
    RETURN NULL;
END $$;


--
-- Name: tocsin_sender_add(bigint, bigint, bigint, text, text, text, text, text, text, text, text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_sender_add(p_org bigint, p_user bigint, p_id bigint, p_address text, p_kind text, p_provider text, p_account_sid text, p_sealed text, p_public_key text, p_mps text, p_base_url text, p_account_limit text) RETURNS TABLE(status integer, body json)
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_err json;
BEGIN
    IF EXISTS (SELECT 1 FROM senders WHERE address = p_address) THEN
        RETURN QUERY SELECT 409, tocsin_api_error(409, 'taken',
            format('%s is already a sender (here or in another organisation)', p_address));
        RETURN;
    END IF;
    v_err := tocsin_sender_account_limit_set(p_org, p_user, p_id, p_provider, p_account_sid,
                                             p_account_limit);
    IF v_err IS NOT NULL THEN
        RETURN QUERY SELECT (v_err->'error'->>'status')::int, v_err;
        RETURN;
    END IF;
    INSERT INTO senders (id, org_id, address, kind, provider, account_sid, credentials_sealed,
                         telnyx_public_key, messages_per_second, base_url)
    OVERRIDING SYSTEM VALUE
    VALUES (p_id, p_org, p_address, p_kind, p_provider, p_account_sid, p_sealed, p_public_key,
            p_mps::numeric, p_base_url);
    INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)
    VALUES (p_org, p_user, 'sender.add', 'sender', p_id,
            jsonb_build_object('address', p_address, 'kind', p_kind, 'provider', p_provider,
                               'account_sid', p_account_sid, 'messages_per_second', p_mps::numeric,
                               'base_url', p_base_url, 'telnyx_public_key', p_public_key));
    RETURN QUERY SELECT 201, tocsin_sender_admin_json(p_id);
END $$;


--
-- Name: tocsin_sender_admin_json(bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_sender_admin_json(p_id bigint) RETURNS json
    LANGUAGE sql STABLE
    AS $$
    SELECT json_build_object(
        'id', s.id, 'address', s.address, 'kind', s.kind, 'provider', s.provider,
        'account_sid', s.account_sid, 'telnyx_public_key', s.telnyx_public_key,
        'messages_per_second', s.messages_per_second,
        'account_limit', l.messages_per_second,
        'base_url', s.base_url,
        'state', CASE WHEN s.disabled_at IS NULL THEN 'enabled' ELSE 'disabled' END,
        'disabled_at', s.disabled_at, 'created_at', s.created_at,
        'credentials_format', split_part(s.credentials_sealed, '.', 1))
      FROM senders s
      LEFT JOIN provider_account_limits l ON l.provider = s.provider AND l.account = s.account_sid
     WHERE s.id = p_id $$;


--
-- Name: tocsin_sender_credentials_replace(bigint, bigint, bigint, text, text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_sender_credentials_replace(p_org bigint, p_user bigint, p_id bigint, p_provider text, p_sealed text, p_public_key text) RETURNS TABLE(status integer, body json)
    LANGUAGE plpgsql
    AS $$
BEGIN
    UPDATE senders SET credentials_sealed = p_sealed,
                       telnyx_public_key = coalesce(p_public_key, telnyx_public_key)
     WHERE id = p_id AND org_id = p_org AND provider = p_provider;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)
    VALUES (p_org, p_user, 'sender.credentials', 'sender', p_id,
            jsonb_build_object('public_key_replaced', p_public_key IS NOT NULL));
    RETURN QUERY SELECT 200, tocsin_sender_admin_json(p_id);
END $$;


--
-- Name: tocsin_sender_opt_out_handling(text, text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_sender_opt_out_handling(p_kind text, p_provider text, p_set text) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT coalesce(p_set, CASE WHEN p_provider = 'twilio' AND p_kind IN ('long_code', 'toll_free')
                                THEN 'carrier' ELSE 'program' END)
$$;


--
-- Name: tocsin_sender_set_disabled(bigint, bigint, bigint, boolean); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_sender_set_disabled(p_org bigint, p_user bigint, p_id bigint, p_disabled boolean) RETURNS TABLE(status integer, body json)
    LANGUAGE plpgsql
    AS $$
BEGIN
    UPDATE senders SET disabled_at = CASE WHEN p_disabled THEN coalesce(disabled_at, now()) END
     WHERE id = p_id AND org_id = p_org;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)
    VALUES (p_org, p_user, CASE WHEN p_disabled THEN 'sender.disable' ELSE 'sender.enable' END,
            'sender', p_id, '{}');
    RETURN QUERY SELECT 200, tocsin_sender_admin_json(p_id);
END $$;


--
-- Name: tocsin_sender_test(bigint, bigint, bigint, text, text, text, integer); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_sender_test(p_org bigint, p_user bigint, p_id bigint, p_phone text, p_body text, p_encoding text, p_segments integer) RETURNS TABLE(status integer, body json)
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_s senders;
    v_msg bigint;
BEGIN
    SELECT * INTO v_s FROM senders WHERE id = p_id AND org_id = p_org;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF v_s.disabled_at IS NOT NULL THEN
        RETURN QUERY SELECT 409, tocsin_api_error(409, 'disabled',
            'this sender is disabled: enable it to send a test message');
        RETURN;
    END IF;
    IF EXISTS (SELECT 1 FROM opt_outs WHERE org_id = p_org AND phone = p_phone) THEN
        RETURN QUERY SELECT 409, tocsin_api_error(409, 'opted_out',
            format('%s has opted out of this organisation''s texts: nothing can be sent to it (it must text START to the sender first)', p_phone));
        RETURN;
    END IF;
    INSERT INTO messages (org_id, sender_id, provider, to_phone, body, encoding, segments, lane,
                          purpose, sent_by_user_id)
    VALUES (p_org, p_id, v_s.provider, p_phone, p_body, p_encoding, p_segments, 'conversational',
            'test', p_user)
    RETURNING id INTO v_msg;
    INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)
    VALUES (p_org, p_user, 'sender.test', 'sender', p_id,
            jsonb_build_object('message_id', v_msg, 'to', p_phone));
    RETURN QUERY SELECT 201, tocsin_sender_test_json(p_org, p_id, v_msg);
END $$;


--
-- Name: tocsin_sender_test_json(bigint, bigint, bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_sender_test_json(p_org bigint, p_sender bigint, p_msg bigint) RETURNS json
    LANGUAGE sql STABLE
    AS $$
    SELECT json_build_object('id', m.id, 'to', m.to_phone, 'state', tocsin_message_shown_state(m.id, m.state),
                             'final', m.state IN ('delivered', 'failed', 'undelivered', 'suppressed', 'cancelled'),
                             'error_code', m.error_code, 'error_message', m.error_message,
                             'created_at', m.created_at, 'updated_at', m.updated_at)
      FROM messages m
     WHERE m.id = p_msg AND m.org_id = p_org AND m.sender_id = p_sender AND m.purpose = 'test' $$;


--
-- Name: tocsin_sender_update(bigint, bigint, bigint, text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_sender_update(p_org bigint, p_user bigint, p_id bigint, p_mps text, p_account_limit text) RETURNS TABLE(status integer, body json)
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_s senders;
    v_old numeric;
    v_err json;
BEGIN
    SELECT * INTO v_s FROM senders WHERE id = p_id AND org_id = p_org FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    v_old := v_s.messages_per_second;
    v_err := tocsin_sender_account_limit_set(p_org, p_user, p_id, v_s.provider, v_s.account_sid,
                                             p_account_limit);
    IF v_err IS NOT NULL THEN
        RETURN QUERY SELECT (v_err->'error'->>'status')::int, v_err;
        RETURN;
    END IF;
    IF coalesce(p_mps, '') <> '' AND p_mps::numeric <> v_old THEN
        UPDATE senders SET messages_per_second = p_mps::numeric WHERE id = p_id;
        INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)
        VALUES (p_org, p_user, 'sender.rate', 'sender', p_id,
                jsonb_build_object('old', v_old, 'new', p_mps::numeric));
    END IF;
    RETURN QUERY SELECT 200, tocsin_sender_admin_json(p_id);
END $$;


--
-- Name: tocsin_senders_admin(bigint, text, text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_senders_admin(p_org bigint, p_twilio_inbound text, p_twilio_status text, p_telnyx text, OUT status integer, OUT body json) RETURNS record
    LANGUAGE sql STABLE
    AS $$
    SELECT 200, json_build_object(
        'sealing_key_ready', EXISTS (SELECT 1 FROM sealing_key),
        'webhooks', json_build_object(
            'twilio', json_build_object('inbound', p_twilio_inbound, 'status', p_twilio_status),
            'telnyx', json_build_object('webhook', p_telnyx)),
        'senders', coalesce((SELECT json_agg(tocsin_sender_admin_json(s.id) ORDER BY s.id)
                               FROM senders s WHERE s.org_id = p_org), '[]'))
$$;


--
-- Name: tocsin_session_acting_ended(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_session_acting_ended() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM tocsin_chapter_left(OLD, true);
    RETURN NULL;
END $$;


--
-- Name: tocsin_session_device(text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_session_device(ua text) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT CASE WHEN coalesce(ua, '') = '' THEN 'Unknown device' ELSE concat_ws(' on ',
        CASE WHEN ua ~ 'Edg(e|A|iOS)?/' THEN 'Edge'
             WHEN ua ~ 'OPR/|Opera' THEN 'Opera'
             WHEN ua ~ 'Firefox/|FxiOS/' THEN 'Firefox'
             WHEN ua ~ 'HeadlessChrome/' THEN 'Headless Chrome'
             WHEN ua ~ 'Chrome/|Chromium/|CriOS/' THEN 'Chrome'
             WHEN ua ~ 'Safari/' THEN 'Safari'
             WHEN ua ~ '^curl/' THEN 'curl'
             ELSE 'A browser' END,
        CASE WHEN ua ~ 'iPhone|iPad|iPod' THEN 'iOS'
             WHEN ua ~ 'Android' THEN 'Android'
             WHEN ua ~ 'Windows' THEN 'Windows'
             WHEN ua ~ 'CrOS' THEN 'ChromeOS'
             WHEN ua ~ 'Mac OS X|Macintosh' THEN 'macOS'
             WHEN ua ~ 'Linux' THEN 'Linux' END) END
$$;


--
-- Name: tocsin_session_find(bytea, integer, integer); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_session_find(p_hash bytea, p_ttl_s integer, p_max_age_s integer) RETURNS TABLE(id bigint, org_id bigint, user_id bigint, role text, csrf_token text, stage text, acting boolean, home_org_id bigint, home_user_id bigint, home_role text, phone_region text)
    LANGUAGE plpgsql
    AS $$
DECLARE
    v tocsin_session_scopes;
BEGIN
    SELECT * INTO v FROM tocsin_session_scopes x
     WHERE x.token_hash = p_hash AND x.expires_at > now()
       AND x.created_at > now() - make_interval(secs => p_max_age_s);
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF v.stage = 'full' AND v.last_seen_at < now() - interval '15 seconds' THEN
        UPDATE sessions x SET last_seen_at = now(),
               expires_at = least(now() + make_interval(secs => p_ttl_s),
                                  x.created_at + make_interval(secs => p_max_age_s))
         WHERE x.id = v.id AND x.last_seen_at < now() - interval '15 seconds' AND x.stage = 'full';
    END IF;
    RETURN QUERY SELECT v.id, v.org_id, v.user_id, v.role, v.csrf_token, v.stage, v.acting, v.home_org_id,
                        v.home_user_id, v.home_role,
                        (SELECT coalesce(o.phone_region, '') FROM orgs o WHERE o.id = v.org_id);
END $$;


--
-- Name: tocsin_shared_text_json(text, bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_shared_text_json(p_kind text, p_id bigint) RETURNS json
    LANGUAGE sql STABLE
    AS $$
    SELECT CASE p_kind
        WHEN 'canned' THEN (SELECT json_build_object('id', r.id, 'title', r.title, 'body', r.body,
                                   'campaign_id', r.campaign_id, 'campaign', oc.name, 'retired_at', r.retired_at)
                              FROM canned_responses r LEFT JOIN outreach_campaigns oc ON oc.id = r.campaign_id
                             WHERE r.id = p_id)
        ELSE (SELECT json_build_object('id', t.id, 'name', t.name, 'campaign_id', t.campaign_id,
                     'campaign', oc.name, 'retired_at', t.retired_at,
                     'conversations', (SELECT count(*) FROM conversation_tags x WHERE x.tag_id = t.id))
                FROM tags t LEFT JOIN outreach_campaigns oc ON oc.id = t.campaign_id WHERE t.id = p_id)
    END $$;


--
-- Name: tocsin_shared_text_retire(text, bigint, bigint, bigint, boolean); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_shared_text_retire(p_kind text, p_org bigint, p_user bigint, p_id bigint, p_retire boolean) RETURNS TABLE(status integer, body json)
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_id bigint;
    v_title text;
BEGIN
    IF p_kind = 'canned' THEN
        -- Restoring must not make two live ones of a scope share a title.
        IF NOT p_retire AND EXISTS (SELECT 1 FROM canned_responses r JOIN canned_responses o
                                        ON o.org_id = r.org_id AND o.retired_at IS NULL AND o.id <> r.id
                                       AND coalesce(o.campaign_id, 0) = coalesce(r.campaign_id, 0)
                                       AND lower(o.title) = lower(r.title)
                                     WHERE r.id = p_id AND r.org_id = p_org) THEN
            RETURN QUERY SELECT 409, tocsin_api_error(409, 'conflict',
                'a live canned response already has that title: rename one first');
            RETURN;
        END IF;
        UPDATE canned_responses SET retired_at = CASE WHEN p_retire THEN coalesce(retired_at, now()) END
         WHERE id = p_id AND org_id = p_org RETURNING id, title INTO v_id, v_title;
    ELSE
        UPDATE tags SET retired_at = CASE WHEN p_retire THEN coalesce(retired_at, now()) END
         WHERE id = p_id AND org_id = p_org RETURNING id, name INTO v_id, v_title;
    END IF;
    IF v_id IS NULL THEN
        RETURN;
    END IF;
    PERFORM tocsin_audit(p_org, nullif(p_user, 0),
            CASE p_kind WHEN 'canned' THEN 'canned_response.' ELSE 'tag.' END
                || CASE WHEN p_retire THEN 'retire' ELSE 'restore' END,
            CASE p_kind WHEN 'canned' THEN 'canned_response' ELSE 'tag' END, v_id,
            jsonb_build_object('title', v_title));
    RETURN QUERY SELECT 200, tocsin_shared_text_json(p_kind, v_id);
END $$;


--
-- Name: tocsin_shared_text_save(text, bigint, bigint, bigint, text, text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_shared_text_save(p_kind text, p_org bigint, p_user bigint, p_id bigint, p_title text, p_body text, p_campaign text) RETURNS TABLE(status integer, body json)
    LANGUAGE plpgsql
    AS $_$
#variable_conflict use_column
DECLARE
    v_id bigint;
    v_campaign bigint;
    v_old json;
    v_title_max int := CASE p_kind WHEN 'canned' THEN 100 ELSE 64 END;
    v_field text := CASE p_kind WHEN 'canned' THEN 'title' ELSE 'name' END;
BEGIN
    IF p_id IS NOT NULL THEN
        v_old := tocsin_shared_text_json(p_kind, p_id);
        IF v_old IS NULL OR NOT EXISTS (SELECT 1 FROM canned_responses WHERE p_kind = 'canned' AND id = p_id AND org_id = p_org
                                        UNION ALL
                                        SELECT 1 FROM tags WHERE p_kind = 'tag' AND id = p_id AND org_id = p_org) THEN
            RETURN;
        END IF;
    END IF;
    IF p_title IS NULL AND p_id IS NULL OR length(btrim(p_title)) NOT BETWEEN 1 AND v_title_max THEN
        RETURN QUERY SELECT 400, tocsin_api_error(400, 'invalid',
            format('invalid %s: must be 1 to %s characters', v_field, v_title_max));
        RETURN;
    END IF;
    IF p_kind = 'canned' AND (p_body IS NULL AND p_id IS NULL OR length(btrim(p_body)) NOT BETWEEN 1 AND 1600) THEN
        RETURN QUERY SELECT 400, tocsin_api_error(400, 'invalid', 'invalid body: must be 1 to 1600 characters');
        RETURN;
    END IF;
    IF nullif(p_campaign, '') IS NOT NULL THEN
        IF p_campaign !~ '^[1-9][0-9]{0,17}$'
           OR NOT EXISTS (SELECT 1 FROM outreach_campaigns WHERE id = p_campaign::bigint AND org_id = p_org) THEN
            RETURN QUERY SELECT 400, tocsin_api_error(400, 'invalid', 'invalid campaign_id: no such campaign');
            RETURN;
        END IF;
        v_campaign := p_campaign::bigint;
    END IF;
    IF p_kind = 'canned' THEN
        IF EXISTS (SELECT 1 FROM canned_responses WHERE org_id = p_org AND retired_at IS NULL
                      AND coalesce(campaign_id, 0) = coalesce(v_campaign, 0)
                      AND lower(title) = lower(btrim(p_title)) AND id IS DISTINCT FROM p_id) THEN
            RETURN QUERY SELECT 409, tocsin_api_error(409, 'conflict',
                format('a canned response titled "%s" already exists there', btrim(p_title)));
            RETURN;
        END IF;
        IF p_id IS NULL THEN
            INSERT INTO canned_responses (org_id, title, body, campaign_id)
            VALUES (p_org, btrim(p_title), p_body, v_campaign) RETURNING id INTO v_id;
        ELSE
            UPDATE canned_responses SET title = coalesce(btrim(p_title), title), body = coalesce(p_body, body),
                   campaign_id = CASE WHEN p_campaign IS NULL THEN campaign_id ELSE v_campaign END, updated_at = now()
             WHERE id = p_id AND org_id = p_org RETURNING id INTO v_id;
        END IF;
    ELSE
        IF EXISTS (SELECT 1 FROM tags WHERE org_id = p_org AND lower(name) = lower(btrim(p_title))
                      AND id IS DISTINCT FROM p_id) THEN
            RETURN QUERY SELECT 409, tocsin_api_error(409, 'conflict',
                format('a tag named "%s" already exists (restore it if it is retired)', btrim(p_title)));
            RETURN;
        END IF;
        IF p_id IS NULL THEN
            INSERT INTO tags (org_id, name, campaign_id) VALUES (p_org, btrim(p_title), v_campaign)
            RETURNING id INTO v_id;
        ELSE
            UPDATE tags SET name = coalesce(btrim(p_title), name),
                   campaign_id = CASE WHEN p_campaign IS NULL THEN campaign_id ELSE v_campaign END
             WHERE id = p_id AND org_id = p_org RETURNING id INTO v_id;
        END IF;
    END IF;
    PERFORM tocsin_audit(p_org, nullif(p_user, 0),
            CASE p_kind WHEN 'canned' THEN 'canned_response.' ELSE 'tag.' END
                || CASE WHEN p_id IS NULL THEN 'create' ELSE 'update' END,
            CASE p_kind WHEN 'canned' THEN 'canned_response' ELSE 'tag' END, v_id,
            jsonb_strip_nulls(jsonb_build_object('old', v_old::jsonb,
                                                 'new', tocsin_shared_text_json(p_kind, v_id)::jsonb)));
    RETURN QUERY SELECT CASE WHEN p_id IS NULL THEN 201 ELSE 200 END, tocsin_shared_text_json(p_kind, v_id);
END $_$;


--
-- Name: tocsin_sms_code(text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_sms_code(p_body text) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $_$
    SELECT CASE
        WHEN p_body = '' THEN 0
        -- basic GSM-7 characters only: septets = characters
        WHEN p_body ~ '^[\n\r -Z_a-z¡£¤¥§¿ÄÅÆÇÉÑÖØÜßàäåæèéìñòöøùüΓΔΘΛΞΠΣΦΨΩ]*$'
        THEN 2 * CASE WHEN length(p_body) <= 160 THEN 1 ELSE (length(p_body) + 152) / 153 END
        -- GSM-7 with extension characters (two septets each)
        WHEN p_body ~ '^[\n\f\r -_a-~¡£¤¥§¿ÄÅÆÇÉÑÖØÜßàäåæèéìñòöøùüΓΔΘΛΞΠΣΦΨΩ€]*$'
        THEN 2 * CASE WHEN length(p_body) <= 80 THEN 1 ELSE tocsin_sms_segments_padded(p_body, true) END
        -- UCS-2 within the BMP: units = characters
        WHEN p_body !~ '[\U00010000-\U0010FFFF]'
        THEN 1 + 2 * CASE WHEN length(p_body) <= 70 THEN 1 ELSE (length(p_body) + 66) / 67 END
        ELSE 1 + 2 * CASE WHEN length(p_body) <= 35 THEN 1 ELSE tocsin_sms_segments_padded(p_body, false) END
    END
$_$;


--
-- Name: tocsin_sms_encoding(text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_sms_encoding(p_body text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT CASE WHEN tocsin_sms_code(p_body) % 2 = 0 THEN 'GSM-7' ELSE 'UCS-2' END
$$;


--
-- Name: tocsin_sms_segments(text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_sms_segments(p_body text) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT tocsin_sms_code(p_body) / 2
$$;


--
-- Name: tocsin_sms_segments_padded(text, boolean); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_sms_segments_padded(p_body text, p_gsm boolean) RETURNS integer
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$
DECLARE
    v_units int := 0;
    v_pad int := 0;
    v_ch text;
    v_single int := CASE WHEN p_gsm THEN 160 ELSE 70 END;
    v_multi int := CASE WHEN p_gsm THEN 153 ELSE 67 END;
BEGIN
    FOREACH v_ch IN ARRAY regexp_split_to_array(p_body, '') LOOP
        IF (p_gsm AND strpos(E'\f[\\]^{|}~€', v_ch) > 0) OR (NOT p_gsm AND ascii(v_ch) >= 65536) THEN
            IF (v_units + v_pad) % v_multi = v_multi - 1 THEN
                v_pad := v_pad + 1; -- the pair moves whole to the next segment
            END IF;
            v_units := v_units + 2;
        ELSE
            v_units := v_units + 1;
        END IF;
    END LOOP;
    IF v_units = 0 THEN
        RETURN 0;
    ELSIF v_units <= v_single THEN
        RETURN 1;
    END IF;
    RETURN (v_units + v_pad + v_multi - 1) / v_multi;
END $$;


--
-- Name: tocsin_sso_finish(bytea, bytea); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_sso_finish(p_state_hash bytea, p_browser_hash bytea) RETURNS TABLE(org_id bigint, outcome text, nonce text, code_verifier text, issuer text, client_id text, client_secret text)
    LANGUAGE plpgsql
    AS $$
DECLARE
    l sso_logins;
BEGIN
    DELETE FROM sso_logins s WHERE s.state_hash = p_state_hash RETURNING s.* INTO l;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    org_id := l.org_id;
    SELECT o.issuer, o.client_id, o.client_secret, CASE
             WHEN l.browser_hash <> p_browser_hash THEN 'other_browser'
             WHEN l.expires_at <= now() THEN 'expired'
             WHEN NOT o.enabled THEN 'disabled'
             ELSE 'ok' END
      INTO issuer, client_id, client_secret, outcome
      FROM org_sso o WHERE o.org_id = l.org_id;
    outcome := coalesce(outcome, 'disabled');
    IF outcome <> 'ok' THEN
        PERFORM tocsin_sso_refuse(l.org_id, outcome, NULL);
        issuer := NULL; client_id := NULL; client_secret := NULL;
    ELSE
        nonce := l.nonce;
        code_verifier := l.code_verifier;
    END IF;
    RETURN NEXT;
END $$;


--
-- Name: tocsin_sso_login(bigint, text, text, text, bytea, text, integer, text, text, boolean, integer); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_sso_login(p_org bigint, p_email text, p_issuer text, p_subject text, p_token_hash bytea, p_csrf text, p_ttl_s integer, p_addr text, p_user_agent text, p_multi_factor boolean, p_half_s integer) RETURNS TABLE(outcome text, user_id bigint, csrf_token text)
    LANGUAGE plpgsql
    AS $$
DECLARE
    u users;
    inv invites;
    v_stage text;
BEGIN
    -- Never a national admin's acting account (schema 028): it shares her
    -- email but signs in nowhere, and the chapter's provider vouching for
    -- that address must not open it.
    SELECT * INTO u FROM users WHERE users.org_id = p_org AND lower(email) = lower(p_email)
                                 AND national_user_id IS NULL;
    IF NOT FOUND AND NOT EXISTS (SELECT 1 FROM users WHERE lower(email) = lower(p_email)) THEN
        UPDATE invites i SET used_at = now()
         WHERE i.id = (SELECT id FROM invites
                        WHERE invites.org_id = p_org AND lower(email) = lower(p_email)
                          AND invites.user_id IS NULL AND used_at IS NULL AND expires_at > now()
                        ORDER BY id DESC LIMIT 1)
           AND i.used_at IS NULL  -- a concurrent sign-in took it first: not twice
        RETURNING i.* INTO inv;
        IF FOUND THEN
            INSERT INTO users (org_id, email, display_name, role)
            VALUES (p_org, inv.email, '', inv.role) RETURNING * INTO u;
            INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)
            VALUES (p_org, u.id, 'invite.accept', 'user', u.id, jsonb_build_object('method', 'sso'));
        END IF;
    END IF;
    IF u.id IS NULL THEN
        PERFORM tocsin_sso_refuse(p_org, 'no_account', p_email);
        outcome := 'no_account';
        RETURN NEXT;
        RETURN;
    END IF;
    IF u.disabled_at IS NOT NULL THEN
        INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)
        VALUES (p_org, NULL, 'sso.refused', 'user', u.id,
                jsonb_build_object('reason', 'account_disabled'));
        outcome := 'account_disabled';
        RETURN NEXT;
        RETURN;
    END IF;
    -- The stage owed, as after a password (dashboard/api_auth.c): a
    -- provider that says it checked several factors (amr "mfa") is
    -- trusted for the second; otherwise her authenticator's code, or
    -- enrolment where the org requires one for her role.
    v_stage := CASE WHEN p_multi_factor THEN 'full'
                    WHEN EXISTS (SELECT 1 FROM user_totp t
                                  WHERE t.user_id = u.id AND t.confirmed_at IS NOT NULL) THEN 'code'
                    WHEN u.role IN ('admin', 'lead')
                         AND (SELECT o.require_two_factor FROM orgs o WHERE o.id = p_org) THEN 'enrol'
                    ELSE 'full' END;
    INSERT INTO sessions (org_id, user_id, token_hash, csrf_token, expires_at, remote_addr,
                          user_agent, stage)
    VALUES (p_org, u.id, p_token_hash, p_csrf,
            now() + make_interval(secs => CASE v_stage WHEN 'full' THEN p_ttl_s
                                                       ELSE least(p_ttl_s, p_half_s) END),
            p_addr, p_user_agent, v_stage);
    INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)
    VALUES (p_org, u.id, CASE v_stage WHEN 'full' THEN 'session.login' ELSE 'session.sso_ok' END,
            'user', u.id,
            jsonb_build_object('method', 'sso', 'issuer', p_issuer, 'subject', left(p_subject, 255),
                               'stage', v_stage, 'provider_mfa', p_multi_factor));
    outcome := 'ok';
    user_id := u.id;
    csrf_token := p_csrf;
    RETURN NEXT;
END $$;


--
-- Name: tocsin_sso_refuse(bigint, text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_sso_refuse(p_org bigint, p_reason text, p_detail text) RETURNS void
    LANGUAGE sql
    AS $$
    INSERT INTO audit_events (org_id, action, details)
    VALUES (p_org, 'sso.refused',
            jsonb_strip_nulls(jsonb_build_object('reason', p_reason, 'detail', left(p_detail, 300))));
$$;


--
-- Name: tocsin_sweep_leases(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_sweep_leases() RETURNS integer
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: tocsin_text_language(text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_text_language(p_text text) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT CASE WHEN p_text ~* '\m(ayuda|alto|tarifas|responde|mensajes)\M' THEN 'es' ELSE 'en' END
$$;


--
-- Name: tocsin_unqueue(bigint[], text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_unqueue(p_ids bigint[], p_error text) RETURNS integer
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: tocsin_user_active(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_user_active() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    UPDATE users SET last_active_at = NEW.last_seen_at
     WHERE id = NEW.user_id AND (last_active_at IS NULL OR last_active_at < NEW.last_seen_at - interval '1 minute');
    RETURN NULL;
END $$;


--
-- Name: tocsin_user_disabled(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_user_disabled() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_conv bigint;
BEGIN
    FOR v_conv IN
        UPDATE conversations SET assignee_id = NULL, assigned_at = NULL, assignee_active_at = NULL
         WHERE assignee_id = NEW.id AND state = 'open' RETURNING id
    LOOP
        PERFORM pg_notify('tocsin_conversations', json_build_object(
            'org_id', NEW.org_id, 'conversation_id', v_conv, 'event', 'released', 'assignee_id', NULL,
            'previous_assignee_id', NEW.id)::text);
    END LOOP;
    UPDATE outreach_targets SET state = 'pending', claimed_by = NULL, claimed_at = NULL, skipped_at = NULL
     WHERE claimed_by = NEW.id AND state = 'claimed';
    RETURN NULL;
END $$;


--
-- Name: tocsin_user_reset_password(bigint, bigint, bigint, bytea); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_user_reset_password(p_org bigint, p_admin bigint, p_user bigint, p_token_hash bytea) RETURNS TABLE(status integer, body json)
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_u users;
    v_invite bigint;
BEGIN
    SELECT * INTO v_u FROM users u WHERE u.id = p_user AND u.org_id = p_org FOR UPDATE;
    IF v_u.id IS NULL THEN
        RETURN QUERY SELECT 404, tocsin_api_error(404, 'not_found', 'no such user');
        RETURN;
    END IF;
    IF p_user = p_admin THEN
        RETURN QUERY SELECT 409, tocsin_api_error(409, 'conflict',
                                                  'change your own password by logging out and using a reset link from another admin');
        RETURN;
    END IF;
    IF v_u.disabled_at IS NOT NULL THEN
        RETURN QUERY SELECT 409, tocsin_api_error(409, 'conflict', 'this user is disabled: enable them first');
        RETURN;
    END IF;
    IF v_u.national_user_id IS NOT NULL THEN
        RETURN QUERY SELECT 409, tocsin_api_error(409, 'conflict',
                                                  'this is a national admin acting in your chapter: it has no password');
        RETURN;
    END IF;
    UPDATE users SET password_hash = NULL WHERE id = p_user;
    DELETE FROM sessions WHERE user_id = p_user;
    -- One live reset link per user: an earlier one stops working.
    UPDATE invites SET expires_at = now() WHERE user_id = p_user AND used_at IS NULL AND expires_at > now();
    INSERT INTO invites (org_id, token_hash, email, role, created_by, expires_at, user_id)
    VALUES (p_org, p_token_hash, v_u.email, v_u.role, p_admin, now() + interval '7 days', p_user)
    RETURNING id INTO v_invite;
    PERFORM tocsin_audit(p_org, p_admin, 'user.reset_password', 'user', p_user, jsonb_build_object('invite_id', v_invite));
    RETURN QUERY SELECT 201, json_build_object('user_id', p_user, 'invite_id', v_invite);
END $$;


--
-- Name: tocsin_user_sessions_end(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_user_sessions_end() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    DELETE FROM sessions WHERE user_id = NEW.id;
    RETURN NULL;
END $$;


--
-- Name: tocsin_user_set_role(bigint, bigint, bigint, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.tocsin_user_set_role(p_org bigint, p_admin bigint, p_user bigint, p_role text) RETURNS TABLE(status integer, body json)
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_old text;
BEGIN
    IF p_role IS NULL OR p_role NOT IN ('admin', 'lead', 'volunteer') THEN
        RETURN QUERY SELECT 400, tocsin_api_error(400, 'invalid', 'a role is admin, lead or volunteer');
        RETURN;
    END IF;
    SELECT u.role INTO v_old FROM users u WHERE u.id = p_user AND u.org_id = p_org FOR UPDATE;
    IF v_old IS NULL THEN
        RETURN QUERY SELECT 404, tocsin_api_error(404, 'not_found', 'no such user');
        RETURN;
    END IF;
    IF p_user = p_admin THEN
        RETURN QUERY SELECT 409, tocsin_api_error(409, 'conflict', 'you cannot change your own role');
        RETURN;
    END IF;
    IF v_old <> p_role THEN
        UPDATE users SET role = p_role WHERE id = p_user;
        PERFORM tocsin_audit(p_org, p_admin, 'user.role', 'user', p_user, jsonb_build_object('from', v_old, 'to', p_role));
    END IF;
    RETURN QUERY SELECT 200, json_build_object('user_id', p_user, 'role', p_role);
END $$;


--
-- Name: audit_alerts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.audit_alerts (
    id bigint NOT NULL,
    org_id bigint NOT NULL,
    kind text NOT NULL,
    user_id bigint NOT NULL,
    audit_event_id bigint NOT NULL,
    details jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    acknowledged_by bigint,
    acknowledged_at timestamp with time zone,
    CONSTRAINT audit_alerts_check CHECK (((acknowledged_by IS NULL) = (acknowledged_at IS NULL))),
    CONSTRAINT audit_alerts_details_check CHECK ((jsonb_typeof(details) = 'object'::text)),
    CONSTRAINT audit_alerts_kind_check CHECK ((kind = ANY (ARRAY['export'::text, 'claims'::text])))
);


--
-- Name: audit_alerts_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.audit_alerts ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.audit_alerts_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: audit_chain_heads; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.audit_chain_heads (
    org_id bigint NOT NULL,
    last_seq bigint DEFAULT 0 NOT NULL,
    last_hash bytea DEFAULT '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea NOT NULL,
    anchor_seq bigint DEFAULT 0 NOT NULL,
    anchor_hash bytea DEFAULT '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea NOT NULL,
    CONSTRAINT audit_chain_heads_anchor_hash_check CHECK ((length(anchor_hash) = 32)),
    CONSTRAINT audit_chain_heads_check CHECK (((anchor_seq >= 0) AND (anchor_seq <= last_seq))),
    CONSTRAINT audit_chain_heads_last_hash_check CHECK ((length(last_hash) = 32)),
    CONSTRAINT audit_chain_heads_last_seq_check CHECK ((last_seq >= 0))
);


--
-- Name: audit_events; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.audit_events (
    id bigint NOT NULL,
    org_id bigint NOT NULL,
    user_id bigint,
    action text NOT NULL,
    subject_type text,
    subject_id bigint,
    details jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    seq bigint NOT NULL,
    prev_hash bytea NOT NULL,
    hash bytea NOT NULL,
    CONSTRAINT audit_events_action_check CHECK ((action ~ '^[a-z_.]+$'::text)),
    CONSTRAINT audit_events_details_check CHECK ((jsonb_typeof(details) = 'object'::text)),
    CONSTRAINT audit_events_hash_length CHECK (((length(prev_hash) = 32) AND (length(hash) = 32)))
);


--
-- Name: audit_events_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.audit_events ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.audit_events_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: blast_audience; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.blast_audience (
    blast_id bigint NOT NULL,
    chunk integer NOT NULL,
    contact_ids bigint[] NOT NULL,
    CONSTRAINT blast_audience_chunk_check CHECK ((chunk >= 0)),
    CONSTRAINT blast_audience_contact_ids_check CHECK (((cardinality(contact_ids) >= 1) AND (cardinality(contact_ids) <= 1000)))
)
WITH (autovacuum_vacuum_scale_factor='0.01', autovacuum_vacuum_threshold='100');


--
-- Name: blast_counter_deltas; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.blast_counter_deltas (
    id bigint NOT NULL,
    blast_id bigint NOT NULL,
    queued integer DEFAULT 0 NOT NULL,
    sending integer DEFAULT 0 NOT NULL,
    sent integer DEFAULT 0 NOT NULL,
    delivered integer DEFAULT 0 NOT NULL,
    undelivered integer DEFAULT 0 NOT NULL,
    failed integer DEFAULT 0 NOT NULL,
    unknown integer DEFAULT 0 NOT NULL,
    suppressed integer DEFAULT 0 NOT NULL,
    cancelled integer DEFAULT 0 NOT NULL,
    opted_out integer DEFAULT 0 NOT NULL
)
WITH (autovacuum_vacuum_scale_factor='0.01', autovacuum_vacuum_threshold='1000');


--
-- Name: blast_counter_deltas_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.blast_counter_deltas ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.blast_counter_deltas_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: blasts_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.blasts ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.blasts_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: canned_responses; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.canned_responses (
    id bigint NOT NULL,
    org_id bigint NOT NULL,
    title text NOT NULL,
    body text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    campaign_id bigint,
    retired_at timestamp with time zone,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT canned_responses_body_check CHECK (((length(body) >= 1) AND (length(body) <= 1600))),
    CONSTRAINT canned_responses_title_check CHECK (((length(title) >= 1) AND (length(title) <= 100)))
);


--
-- Name: canned_responses_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.canned_responses ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.canned_responses_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: claims; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.claims (
    id bigint NOT NULL,
    worker text NOT NULL,
    message_ids bigint[] NOT NULL,
    lo bigint NOT NULL,
    hi bigint NOT NULL,
    open integer NOT NULL,
    blasts boolean NOT NULL,
    claimed_at timestamp with time zone DEFAULT now() NOT NULL,
    lease_until timestamp with time zone NOT NULL,
    CONSTRAINT claims_message_ids_check CHECK (((cardinality(message_ids) >= 1) AND (cardinality(message_ids) <= 10000)))
);
ALTER TABLE ONLY public.claims ALTER COLUMN message_ids SET COMPRESSION lz4;


--
-- Name: claims_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.claims_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: claims_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.claims_id_seq OWNED BY public.claims.id;


--
-- Name: consent_events; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.consent_events (
    id bigint NOT NULL,
    org_id bigint NOT NULL,
    phone text NOT NULL,
    event text NOT NULL,
    source text NOT NULL,
    list_id bigint,
    evidence text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT consent_events_event_check CHECK ((event = ANY (ARRAY['opt_in'::text, 'opt_out'::text]))),
    CONSTRAINT consent_events_phone_check CHECK (public.tocsin_is_e164(phone)),
    CONSTRAINT consent_events_source_check CHECK ((source = ANY (ARRAY['keyword'::text, 'import'::text, 'form'::text, 'carrier'::text, 'volunteer'::text, 'admin'::text, 'api'::text])))
);


--
-- Name: consent_events_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.consent_events ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.consent_events_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: contacts_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.contacts ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.contacts_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: conversation_messages; Type: VIEW; Schema: public; Owner: -
--

CREATE VIEW public.conversation_messages AS
 SELECT inbound_messages.org_id,
    inbound_messages.conversation_id,
    'inbound'::text AS direction,
    inbound_messages.id,
    inbound_messages.body,
    'received'::text AS state,
    inbound_messages.received_at AS at,
    NULL::bigint AS sent_by_user_id
   FROM public.inbound_messages
  WHERE (inbound_messages.conversation_id IS NOT NULL)
UNION ALL
 SELECT messages.org_id,
    messages.conversation_id,
    'outbound'::text AS direction,
    messages.id,
    messages.body,
    public.tocsin_message_shown_state(messages.id, messages.state) AS state,
    messages.created_at AS at,
    messages.sent_by_user_id
   FROM public.messages
  WHERE (messages.conversation_id IS NOT NULL);


--
-- Name: conversation_notes; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.conversation_notes (
    id bigint NOT NULL,
    org_id bigint NOT NULL,
    conversation_id bigint NOT NULL,
    user_id bigint NOT NULL,
    body text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT conversation_notes_body_check CHECK (((length(body) >= 1) AND (length(body) <= 2000)))
);


--
-- Name: conversation_notes_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.conversation_notes ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.conversation_notes_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: conversation_tags; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.conversation_tags (
    org_id bigint NOT NULL,
    conversation_id bigint NOT NULL,
    tag_id bigint NOT NULL
);


--
-- Name: conversations_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.conversations ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.conversations_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: delivery_receipts_pending; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.delivery_receipts_pending (
    id bigint NOT NULL,
    provider text NOT NULL,
    provider_message_id text NOT NULL,
    status text NOT NULL,
    error_code text,
    payload jsonb,
    received_at timestamp with time zone DEFAULT now() NOT NULL,
    sender_id bigint NOT NULL,
    CONSTRAINT delivery_receipts_pending_provider_check CHECK ((provider = ANY (ARRAY['twilio'::text, 'telnyx'::text])))
);


--
-- Name: delivery_receipts_pending_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.delivery_receipts_pending ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.delivery_receipts_pending_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: dispatch_leases; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.dispatch_leases (
    account text NOT NULL,
    holder text NOT NULL,
    lease_until timestamp with time zone NOT NULL
);


--
-- Name: import_batches; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.import_batches (
    id bigint NOT NULL,
    org_id bigint NOT NULL,
    filename text NOT NULL,
    list_id bigint,
    created_by bigint,
    rows_total integer DEFAULT 0 NOT NULL,
    rows_imported integer DEFAULT 0 NOT NULL,
    rows_updated integer DEFAULT 0 NOT NULL,
    rows_rejected integer DEFAULT 0 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    kind text DEFAULT 'contacts'::text NOT NULL,
    CONSTRAINT import_batches_kind_check CHECK ((kind = ANY (ARRAY['contacts'::text, 'opt_outs'::text]))),
    CONSTRAINT import_batches_rows_imported_check CHECK ((rows_imported >= 0)),
    CONSTRAINT import_batches_rows_rejected_check CHECK ((rows_rejected >= 0)),
    CONSTRAINT import_batches_rows_total_check CHECK ((rows_total >= 0)),
    CONSTRAINT import_batches_rows_updated_check CHECK ((rows_updated >= 0))
);


--
-- Name: import_batches_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.import_batches ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.import_batches_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: import_upload_chunks; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.import_upload_chunks (
    upload_id bigint NOT NULL,
    seq integer NOT NULL,
    data bytea NOT NULL,
    CONSTRAINT import_upload_chunks_seq_check CHECK ((seq >= 0))
);


--
-- Name: import_uploads_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.import_uploads ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.import_uploads_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: inbound_journal; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.inbound_journal (
    id bigint NOT NULL,
    received_at timestamp with time zone DEFAULT now() NOT NULL,
    provider text[] NOT NULL,
    provider_message_id text[] NOT NULL,
    sender_id bigint[] NOT NULL,
    from_phone text[] NOT NULL,
    body text[] NOT NULL,
    num_media integer[] NOT NULL,
    likely_revocation boolean[] NOT NULL,
    CONSTRAINT inbound_journal_aligned CHECK ((((cardinality(provider) >= 1) AND (cardinality(provider) <= 1000)) AND (cardinality(provider_message_id) = cardinality(provider)) AND (cardinality(sender_id) = cardinality(provider)) AND (cardinality(from_phone) = cardinality(provider)) AND (cardinality(body) = cardinality(provider)) AND (cardinality(num_media) = cardinality(provider)) AND (cardinality(likely_revocation) = cardinality(provider))))
);
ALTER TABLE ONLY public.inbound_journal ALTER COLUMN provider SET COMPRESSION lz4;
ALTER TABLE ONLY public.inbound_journal ALTER COLUMN provider_message_id SET COMPRESSION lz4;
ALTER TABLE ONLY public.inbound_journal ALTER COLUMN sender_id SET COMPRESSION lz4;
ALTER TABLE ONLY public.inbound_journal ALTER COLUMN from_phone SET COMPRESSION lz4;
ALTER TABLE ONLY public.inbound_journal ALTER COLUMN body SET COMPRESSION lz4;
ALTER TABLE ONLY public.inbound_journal ALTER COLUMN num_media SET COMPRESSION lz4;
ALTER TABLE ONLY public.inbound_journal ALTER COLUMN likely_revocation SET COMPRESSION lz4;


--
-- Name: inbound_journal_failed; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.inbound_journal_failed (
    id bigint NOT NULL,
    received_at timestamp with time zone NOT NULL,
    provider text NOT NULL,
    provider_message_id text NOT NULL,
    sender_id bigint NOT NULL,
    from_phone text NOT NULL,
    body text NOT NULL,
    num_media integer NOT NULL,
    likely_revocation boolean NOT NULL,
    failed_at timestamp with time zone DEFAULT now() NOT NULL,
    apply_error text NOT NULL
);


--
-- Name: inbound_journal_id_seq1; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.inbound_journal ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.inbound_journal_id_seq1
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: inbound_messages_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.inbound_messages ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.inbound_messages_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: invites; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.invites (
    id bigint NOT NULL,
    org_id bigint NOT NULL,
    token_hash bytea NOT NULL,
    email text,
    role text NOT NULL,
    created_by bigint,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    used_at timestamp with time zone,
    user_id bigint,
    CONSTRAINT invites_role_check CHECK ((role = ANY (ARRAY['admin'::text, 'lead'::text, 'volunteer'::text]))),
    CONSTRAINT invites_token_hash_check CHECK ((length(token_hash) = 32))
);


--
-- Name: invites_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.invites ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.invites_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: keywords; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.keywords (
    id bigint NOT NULL,
    org_id bigint NOT NULL,
    sender_id bigint,
    keyword text NOT NULL,
    pattern text NOT NULL,
    list_id bigint NOT NULL,
    reply text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    language text NOT NULL,
    CONSTRAINT keywords_keyword_check CHECK ((keyword ~ '^[A-Z0-9ÁÉÍÓÚÑÜ]{1,20}$'::text)),
    CONSTRAINT keywords_language_check CHECK ((language = ANY (ARRAY['en'::text, 'es'::text]))),
    CONSTRAINT keywords_pattern_check CHECK (((length(pattern) >= 1) AND (length(pattern) <= 500))),
    CONSTRAINT keywords_reply_check CHECK (((length(reply) >= 1) AND (length(reply) <= 1600)))
);


--
-- Name: keywords_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.keywords ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.keywords_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: lists; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.lists (
    id bigint NOT NULL,
    org_id bigint NOT NULL,
    name text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT lists_name_check CHECK (((length(name) >= 1) AND (length(name) <= 200)))
);


--
-- Name: lists_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.lists ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.lists_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: message_carrier_ids; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.message_carrier_ids (
    provider_message_id text NOT NULL COLLATE pg_catalog."C",
    provider text NOT NULL COLLATE pg_catalog."C",
    message_id bigint NOT NULL
);


--
-- Name: messages_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.messages ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.messages_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: opt_outs; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.opt_outs (
    org_id bigint NOT NULL,
    phone text NOT NULL,
    opted_out_at timestamp with time zone DEFAULT now() NOT NULL,
    source text NOT NULL,
    evidence text,
    CONSTRAINT opt_outs_phone_check CHECK (public.tocsin_is_e164(phone)),
    CONSTRAINT opt_outs_source_check CHECK ((source = ANY (ARRAY['keyword'::text, 'carrier'::text, 'volunteer'::text, 'import'::text, 'admin'::text])))
);


--
-- Name: org_sso; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.org_sso (
    org_id bigint NOT NULL,
    enabled boolean DEFAULT false NOT NULL,
    issuer text NOT NULL,
    client_id text NOT NULL,
    client_secret text,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_by bigint,
    CONSTRAINT org_sso_client_id_check CHECK (((length(client_id) >= 1) AND (length(client_id) <= 255))),
    CONSTRAINT org_sso_client_secret_check CHECK (((length(client_secret) >= 1) AND (length(client_secret) <= 500))),
    CONSTRAINT org_sso_issuer_check CHECK (((issuer ~ '^https?://[^[:space:]]+$'::text) AND (length(issuer) <= 500)))
);


--
-- Name: orgs_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.orgs ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.orgs_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: outbox; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.outbox (
    id bigint NOT NULL,
    sender_id bigint NOT NULL,
    lane text NOT NULL,
    not_before timestamp with time zone NOT NULL,
    blast_id bigint
);


--
-- Name: outreach_answers; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.outreach_answers (
    org_id bigint NOT NULL,
    campaign_id bigint NOT NULL,
    contact_id bigint NOT NULL,
    step_id bigint NOT NULL,
    choice_id bigint NOT NULL,
    conversation_id bigint,
    recorded_by bigint NOT NULL,
    recorded_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: outreach_targets; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.outreach_targets (
    org_id bigint NOT NULL,
    campaign_id bigint NOT NULL,
    contact_id bigint NOT NULL,
    state text DEFAULT 'pending'::text NOT NULL,
    claimed_by bigint,
    claimed_at timestamp with time zone,
    skipped_at timestamp with time zone,
    texted_by bigint,
    texted_at timestamp with time zone,
    message_id bigint,
    conversation_id bigint,
    import_batch_id bigint,
    CONSTRAINT outreach_targets_check CHECK (((state = 'claimed'::text) = (claimed_by IS NOT NULL))),
    CONSTRAINT outreach_targets_check1 CHECK (((state = 'texted'::text) = ((message_id IS NOT NULL) AND (texted_by IS NOT NULL)))),
    CONSTRAINT outreach_targets_state_check CHECK ((state = ANY (ARRAY['pending'::text, 'claimed'::text, 'texted'::text])))
);


--
-- Name: outreach_batch; Type: VIEW; Schema: public; Owner: -
--

CREATE VIEW public.outreach_batch AS
 SELECT t.org_id,
    t.campaign_id,
    t.contact_id,
    t.claimed_by,
    t.claimed_at,
    t.skipped_at,
    c.phone,
    c.first_name,
    c.last_name,
    c.timezone
   FROM (public.outreach_targets t
     JOIN public.contacts c ON ((c.id = t.contact_id)))
  WHERE ((t.state = 'claimed'::text) AND (NOT (EXISTS ( SELECT 1
           FROM public.opt_outs o
          WHERE ((o.org_id = c.org_id) AND (o.phone = c.phone))))));


--
-- Name: outreach_campaigns_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.outreach_campaigns ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.outreach_campaigns_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: outreach_choices; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.outreach_choices (
    id bigint NOT NULL,
    org_id bigint NOT NULL,
    step_id bigint NOT NULL,
    "position" integer NOT NULL,
    label text NOT NULL,
    next_script text,
    CONSTRAINT outreach_choices_label_check CHECK (((length(label) >= 1) AND (length(label) <= 100))),
    CONSTRAINT outreach_choices_next_script_check CHECK (((length(next_script) >= 1) AND (length(next_script) <= 1600))),
    CONSTRAINT outreach_choices_position_check CHECK (("position" >= 1))
);


--
-- Name: outreach_choices_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.outreach_choices ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.outreach_choices_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: outreach_send_pace; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.outreach_send_pace (
    user_id bigint NOT NULL,
    org_id bigint NOT NULL,
    last_sent_at timestamp with time zone NOT NULL
);


--
-- Name: outreach_steps; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.outreach_steps (
    id bigint NOT NULL,
    org_id bigint NOT NULL,
    campaign_id bigint NOT NULL,
    "position" integer NOT NULL,
    question text NOT NULL,
    CONSTRAINT outreach_steps_position_check CHECK (("position" >= 1)),
    CONSTRAINT outreach_steps_question_check CHECK (((length(question) >= 1) AND (length(question) <= 500)))
);


--
-- Name: outreach_steps_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.outreach_steps ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.outreach_steps_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: phone_zone_keys; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.phone_zone_keys (
    key text NOT NULL,
    prefix text NOT NULL,
    CONSTRAINT phone_zone_keys_key_check CHECK ((key ~ '^\+[1-9][0-9]{3}$'::text))
);


--
-- Name: phone_zones; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.phone_zones (
    prefix text NOT NULL,
    region text NOT NULL,
    zones text[] NOT NULL,
    quiet_end_hour smallint NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT phone_zones_prefix_check CHECK ((prefix ~ '^\+[0-9]{0,4}$'::text)),
    CONSTRAINT phone_zones_quiet_end_hour_check CHECK (((quiet_end_hour >= 9) AND (quiet_end_hour <= 24))),
    CONSTRAINT phone_zones_region_check CHECK (((length(region) >= 1) AND (length(region) <= 100))),
    CONSTRAINT phone_zones_zones_check CHECK (((cardinality(zones) >= 1) AND (cardinality(zones) <= 8)))
);


--
-- Name: provider_account_limits; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.provider_account_limits (
    provider text NOT NULL,
    account text NOT NULL,
    messages_per_second numeric(8,2) NOT NULL,
    CONSTRAINT provider_account_limits_account_check CHECK (((length(account) >= 1) AND (length(account) <= 100))),
    CONSTRAINT provider_account_limits_messages_per_second_check CHECK ((messages_per_second > (0)::numeric)),
    CONSTRAINT provider_account_limits_provider_check CHECK ((provider = ANY (ARRAY['twilio'::text, 'telnyx'::text])))
);


--
-- Name: recovery_codes; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.recovery_codes (
    id bigint NOT NULL,
    org_id bigint NOT NULL,
    user_id bigint NOT NULL,
    code_hash bytea NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    used_at timestamp with time zone,
    CONSTRAINT recovery_codes_code_hash_check CHECK ((length(code_hash) = 32))
);


--
-- Name: recovery_codes_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.recovery_codes ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.recovery_codes_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: retention_marks; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.retention_marks (
    kind text NOT NULL,
    from_id bigint DEFAULT 0 NOT NULL,
    first_kept bigint,
    CONSTRAINT retention_marks_kind_check CHECK ((kind = ANY (ARRAY['outbound_bodies'::text, 'inbound_bodies'::text])))
);


--
-- Name: retention_schedule; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.retention_schedule (
    id integer DEFAULT 1 NOT NULL,
    hour_utc smallint DEFAULT 9 NOT NULL,
    next_run_at timestamp with time zone,
    last_started_at timestamp with time zone,
    last_finished_at timestamp with time zone,
    last_by text,
    last_counts jsonb,
    CONSTRAINT retention_schedule_hour_utc_check CHECK (((hour_utc >= 0) AND (hour_utc <= 23))),
    CONSTRAINT retention_schedule_id_check CHECK ((id = 1))
);


--
-- Name: schema_migrations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.schema_migrations (
    version integer NOT NULL,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: schema_repeatables; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.schema_repeatables (
    name text NOT NULL,
    checksum text NOT NULL,
    objects text[] DEFAULT '{}'::text[] NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: sealing_key; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.sealing_key (
    one boolean DEFAULT true NOT NULL,
    public_key bytea NOT NULL,
    published_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT sealing_key_one_check CHECK (one),
    CONSTRAINT sealing_key_public_key_check CHECK ((length(public_key) = 32))
);


--
-- Name: send_stamps; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.send_stamps (
    id bigint NOT NULL,
    worker text NOT NULL,
    message_ids bigint[] NOT NULL,
    stamped_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT send_stamps_message_ids_check CHECK (((cardinality(message_ids) >= 1) AND (cardinality(message_ids) <= 10000)))
);
ALTER TABLE ONLY public.send_stamps ALTER COLUMN message_ids SET COMPRESSION lz4;


--
-- Name: send_stamps_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.send_stamps ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.send_stamps_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: senders; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.senders (
    id bigint NOT NULL,
    org_id bigint NOT NULL,
    address text NOT NULL,
    kind text NOT NULL,
    provider text NOT NULL,
    account_sid text,
    credentials_sealed text NOT NULL,
    telnyx_public_key text,
    messages_per_second numeric(8,2) NOT NULL,
    base_url text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    opt_out_handling text,
    disabled_at timestamp with time zone,
    CONSTRAINT senders_account_sid_check CHECK ((account_sid ~ '^AC[0-9a-f]{32}$'::text)),
    CONSTRAINT senders_address_check CHECK ((public.tocsin_is_e164(address) OR (address ~ '^[0-9]{5,6}$'::text))),
    CONSTRAINT senders_base_url_check CHECK ((base_url ~ '^https?://'::text)),
    CONSTRAINT senders_check CHECK (((provider <> 'twilio'::text) OR (account_sid IS NOT NULL))),
    CONSTRAINT senders_check1 CHECK (((kind = 'short_code'::text) = (address ~ '^[0-9]{5,6}$'::text))),
    CONSTRAINT senders_kind_check CHECK ((kind = ANY (ARRAY['short_code'::text, 'long_code'::text, 'toll_free'::text]))),
    CONSTRAINT senders_messages_per_second_check CHECK ((messages_per_second > (0)::numeric)),
    CONSTRAINT senders_opt_out_handling_check CHECK ((opt_out_handling = ANY (ARRAY['carrier'::text, 'program'::text]))),
    CONSTRAINT senders_provider_check CHECK ((provider = ANY (ARRAY['twilio'::text, 'telnyx'::text])))
);


--
-- Name: senders_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.senders ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.senders_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: sessions_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.sessions ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.sessions_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: sso_logins; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.sso_logins (
    id bigint NOT NULL,
    org_id bigint NOT NULL,
    state_hash bytea NOT NULL,
    browser_hash bytea NOT NULL,
    nonce text NOT NULL,
    code_verifier text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    CONSTRAINT sso_logins_browser_hash_check CHECK ((length(browser_hash) = 32)),
    CONSTRAINT sso_logins_check CHECK ((expires_at > created_at)),
    CONSTRAINT sso_logins_code_verifier_check CHECK ((code_verifier ~ '^[A-Za-z0-9._~-]{43,128}$'::text)),
    CONSTRAINT sso_logins_nonce_check CHECK (((length(nonce) >= 32) AND (length(nonce) <= 128))),
    CONSTRAINT sso_logins_state_hash_check CHECK ((length(state_hash) = 32))
);


--
-- Name: sso_logins_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.sso_logins ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.sso_logins_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: subscriptions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.subscriptions (
    org_id bigint NOT NULL,
    list_id bigint NOT NULL,
    contact_id bigint NOT NULL,
    source text NOT NULL,
    consented_at timestamp with time zone DEFAULT now() NOT NULL,
    evidence_inbound_id bigint,
    evidence_import_id bigint,
    unsubscribed_at timestamp with time zone,
    ended_by_opt_out bigint,
    CONSTRAINT subscriptions_check CHECK (((source = 'import'::text) = (evidence_import_id IS NOT NULL))),
    CONSTRAINT subscriptions_source_check CHECK ((source = ANY (ARRAY['keyword'::text, 'import'::text, 'form'::text, 'api'::text])))
);


--
-- Name: tags; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.tags (
    id bigint NOT NULL,
    org_id bigint NOT NULL,
    name text NOT NULL,
    campaign_id bigint,
    retired_at timestamp with time zone,
    CONSTRAINT tags_name_check CHECK (((length(name) >= 1) AND (length(name) <= 64)))
);


--
-- Name: tags_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.tags ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.tags_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: tocsin_session_scopes; Type: VIEW; Schema: public; Owner: -
--

CREATE VIEW public.tocsin_session_scopes AS
 SELECT s.id,
    s.token_hash,
    s.csrf_token,
    s.created_at,
    s.last_seen_at,
    s.expires_at,
    s.org_id AS home_org_id,
    s.user_id AS home_user_id,
    COALESCE(c.org_id, s.org_id) AS org_id,
    COALESCE(c.id, s.user_id) AS user_id,
    COALESCE(c.role, u.role) AS role,
    (c.id IS NOT NULL) AS acting,
    s.stage,
    u.role AS home_role
   FROM ((public.sessions s
     JOIN public.users u ON (((u.org_id = s.org_id) AND (u.id = s.user_id) AND (u.disabled_at IS NULL))))
     LEFT JOIN LATERAL ( SELECT cu.org_id,
            cu.id,
            cu.role
           FROM (public.users cu
             JOIN public.orgs co ON ((co.id = cu.org_id)))
          WHERE ((s.acting_until > now()) AND (u.role = 'admin'::text) AND (cu.org_id = s.acting_org_id) AND (cu.id = s.acting_user_id) AND (cu.national_user_id = s.user_id) AND (cu.disabled_at IS NULL) AND (co.parent_org_id = s.org_id))) c ON (true));


--
-- Name: tz_names; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.tz_names (
    name text NOT NULL
);


--
-- Name: unknown_messages; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.unknown_messages (
    message_id bigint NOT NULL,
    org_id bigint NOT NULL,
    sender_id bigint NOT NULL,
    blast_id bigint
);


--
-- Name: user_totp; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.user_totp (
    user_id bigint NOT NULL,
    org_id bigint NOT NULL,
    secret bytea NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    confirmed_at timestamp with time zone,
    last_step bigint DEFAULT 0 NOT NULL,
    CONSTRAINT user_totp_secret_check CHECK ((length(secret) = 20))
);


--
-- Name: users_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.users ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.users_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: claims id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.claims ALTER COLUMN id SET DEFAULT nextval('public.claims_id_seq'::regclass);


--
-- Name: audit_alerts audit_alerts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_alerts
    ADD CONSTRAINT audit_alerts_pkey PRIMARY KEY (id);


--
-- Name: audit_chain_heads audit_chain_heads_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_chain_heads
    ADD CONSTRAINT audit_chain_heads_pkey PRIMARY KEY (org_id);


--
-- Name: audit_events audit_events_org_seq; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_events
    ADD CONSTRAINT audit_events_org_seq UNIQUE (org_id, seq);


--
-- Name: audit_events audit_events_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_events
    ADD CONSTRAINT audit_events_pkey PRIMARY KEY (id);


--
-- Name: blast_audience blast_audience_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.blast_audience
    ADD CONSTRAINT blast_audience_pkey PRIMARY KEY (blast_id, chunk);


--
-- Name: blast_counter_deltas blast_counter_deltas_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.blast_counter_deltas
    ADD CONSTRAINT blast_counter_deltas_pkey PRIMARY KEY (id);


--
-- Name: blasts blasts_org_id_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.blasts
    ADD CONSTRAINT blasts_org_id_id_key UNIQUE (org_id, id);


--
-- Name: blasts blasts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.blasts
    ADD CONSTRAINT blasts_pkey PRIMARY KEY (id);


--
-- Name: canned_responses canned_responses_org_id_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.canned_responses
    ADD CONSTRAINT canned_responses_org_id_id_key UNIQUE (org_id, id);


--
-- Name: canned_responses canned_responses_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.canned_responses
    ADD CONSTRAINT canned_responses_pkey PRIMARY KEY (id);


--
-- Name: claims claims_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.claims
    ADD CONSTRAINT claims_pkey PRIMARY KEY (id);


--
-- Name: consent_events consent_events_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.consent_events
    ADD CONSTRAINT consent_events_pkey PRIMARY KEY (id);


--
-- Name: contacts contacts_id_org_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.contacts
    ADD CONSTRAINT contacts_id_org_id_key UNIQUE (id, org_id);


--
-- Name: contacts contacts_org_id_phone_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.contacts
    ADD CONSTRAINT contacts_org_id_phone_key UNIQUE (org_id, phone);


--
-- Name: contacts contacts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.contacts
    ADD CONSTRAINT contacts_pkey PRIMARY KEY (id);


--
-- Name: conversation_notes conversation_notes_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.conversation_notes
    ADD CONSTRAINT conversation_notes_pkey PRIMARY KEY (id);


--
-- Name: conversation_tags conversation_tags_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.conversation_tags
    ADD CONSTRAINT conversation_tags_pkey PRIMARY KEY (conversation_id, tag_id);


--
-- Name: conversations conversations_org_id_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.conversations
    ADD CONSTRAINT conversations_org_id_id_key UNIQUE (org_id, id);


--
-- Name: conversations conversations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.conversations
    ADD CONSTRAINT conversations_pkey PRIMARY KEY (id);


--
-- Name: delivery_receipts_pending delivery_receipts_pending_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.delivery_receipts_pending
    ADD CONSTRAINT delivery_receipts_pending_pkey PRIMARY KEY (id);


--
-- Name: dispatch_leases dispatch_leases_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.dispatch_leases
    ADD CONSTRAINT dispatch_leases_pkey PRIMARY KEY (account);


--
-- Name: import_batches import_batches_org_id_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.import_batches
    ADD CONSTRAINT import_batches_org_id_id_key UNIQUE (org_id, id);


--
-- Name: import_batches import_batches_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.import_batches
    ADD CONSTRAINT import_batches_pkey PRIMARY KEY (id);


--
-- Name: import_upload_chunks import_upload_chunks_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.import_upload_chunks
    ADD CONSTRAINT import_upload_chunks_pkey PRIMARY KEY (upload_id, seq);


--
-- Name: import_uploads import_uploads_org_id_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.import_uploads
    ADD CONSTRAINT import_uploads_org_id_id_key UNIQUE (org_id, id);


--
-- Name: import_uploads import_uploads_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.import_uploads
    ADD CONSTRAINT import_uploads_pkey PRIMARY KEY (id);


--
-- Name: inbound_journal inbound_journal_pkey1; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.inbound_journal
    ADD CONSTRAINT inbound_journal_pkey1 PRIMARY KEY (id);


--
-- Name: inbound_messages inbound_messages_org_id_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.inbound_messages
    ADD CONSTRAINT inbound_messages_org_id_id_key UNIQUE (org_id, id);


--
-- Name: inbound_messages inbound_messages_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.inbound_messages
    ADD CONSTRAINT inbound_messages_pkey PRIMARY KEY (id);


--
-- Name: inbound_messages inbound_messages_provider_message_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.inbound_messages
    ADD CONSTRAINT inbound_messages_provider_message_id_key UNIQUE (provider_message_id, provider);


--
-- Name: invites invites_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.invites
    ADD CONSTRAINT invites_pkey PRIMARY KEY (id);


--
-- Name: invites invites_token_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.invites
    ADD CONSTRAINT invites_token_hash_key UNIQUE (token_hash);


--
-- Name: keywords keywords_org_id_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.keywords
    ADD CONSTRAINT keywords_org_id_id_key UNIQUE (org_id, id);


--
-- Name: keywords keywords_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.keywords
    ADD CONSTRAINT keywords_pkey PRIMARY KEY (id);


--
-- Name: lists lists_org_id_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.lists
    ADD CONSTRAINT lists_org_id_id_key UNIQUE (org_id, id);


--
-- Name: lists lists_org_id_name_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.lists
    ADD CONSTRAINT lists_org_id_name_key UNIQUE (org_id, name);


--
-- Name: lists lists_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.lists
    ADD CONSTRAINT lists_pkey PRIMARY KEY (id);


--
-- Name: message_carrier_ids message_carrier_ids_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.message_carrier_ids
    ADD CONSTRAINT message_carrier_ids_pkey PRIMARY KEY (provider_message_id, provider);


--
-- Name: messages messages_body_check; Type: CHECK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE public.messages
    ADD CONSTRAINT messages_body_check CHECK (((length(body) <= 1600) AND ((length(body) >= 1) OR (body_removed_at IS NOT NULL)))) NOT VALID;


--
-- Name: messages messages_org_id_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.messages
    ADD CONSTRAINT messages_org_id_id_key UNIQUE (org_id, id);


--
-- Name: messages messages_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.messages
    ADD CONSTRAINT messages_pkey PRIMARY KEY (id);


--
-- Name: messages messages_quiet_start_hour_check; Type: CHECK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE public.messages
    ADD CONSTRAINT messages_quiet_start_hour_check CHECK (((quiet_start_hour >= 8) AND (quiet_start_hour <= 20))) NOT VALID;


--
-- Name: opt_outs opt_outs_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.opt_outs
    ADD CONSTRAINT opt_outs_pkey PRIMARY KEY (org_id, phone);


--
-- Name: org_sso org_sso_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.org_sso
    ADD CONSTRAINT org_sso_pkey PRIMARY KEY (org_id);


--
-- Name: orgs orgs_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.orgs
    ADD CONSTRAINT orgs_pkey PRIMARY KEY (id);


--
-- Name: orgs orgs_slug_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.orgs
    ADD CONSTRAINT orgs_slug_key UNIQUE (slug);


--
-- Name: outbox outbox_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outbox
    ADD CONSTRAINT outbox_pkey PRIMARY KEY (id);


--
-- Name: outreach_answers outreach_answers_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outreach_answers
    ADD CONSTRAINT outreach_answers_pkey PRIMARY KEY (campaign_id, contact_id, step_id);


--
-- Name: outreach_campaigns outreach_campaigns_org_id_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outreach_campaigns
    ADD CONSTRAINT outreach_campaigns_org_id_id_key UNIQUE (org_id, id);


--
-- Name: outreach_campaigns outreach_campaigns_org_id_name_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outreach_campaigns
    ADD CONSTRAINT outreach_campaigns_org_id_name_key UNIQUE (org_id, name);


--
-- Name: outreach_campaigns outreach_campaigns_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outreach_campaigns
    ADD CONSTRAINT outreach_campaigns_pkey PRIMARY KEY (id);


--
-- Name: outreach_choices outreach_choices_org_id_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outreach_choices
    ADD CONSTRAINT outreach_choices_org_id_id_key UNIQUE (org_id, id);


--
-- Name: outreach_choices outreach_choices_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outreach_choices
    ADD CONSTRAINT outreach_choices_pkey PRIMARY KEY (id);


--
-- Name: outreach_choices outreach_choices_step_id_position_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outreach_choices
    ADD CONSTRAINT outreach_choices_step_id_position_key UNIQUE (step_id, "position");


--
-- Name: outreach_send_pace outreach_send_pace_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outreach_send_pace
    ADD CONSTRAINT outreach_send_pace_pkey PRIMARY KEY (user_id);


--
-- Name: outreach_steps outreach_steps_campaign_id_position_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outreach_steps
    ADD CONSTRAINT outreach_steps_campaign_id_position_key UNIQUE (campaign_id, "position");


--
-- Name: outreach_steps outreach_steps_org_id_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outreach_steps
    ADD CONSTRAINT outreach_steps_org_id_id_key UNIQUE (org_id, id);


--
-- Name: outreach_steps outreach_steps_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outreach_steps
    ADD CONSTRAINT outreach_steps_pkey PRIMARY KEY (id);


--
-- Name: outreach_targets outreach_targets_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outreach_targets
    ADD CONSTRAINT outreach_targets_pkey PRIMARY KEY (campaign_id, contact_id);


--
-- Name: phone_zone_keys phone_zone_keys_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.phone_zone_keys
    ADD CONSTRAINT phone_zone_keys_pkey PRIMARY KEY (key);


--
-- Name: phone_zones phone_zones_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.phone_zones
    ADD CONSTRAINT phone_zones_pkey PRIMARY KEY (prefix);


--
-- Name: provider_account_limits provider_account_limits_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.provider_account_limits
    ADD CONSTRAINT provider_account_limits_pkey PRIMARY KEY (provider, account);


--
-- Name: recovery_codes recovery_codes_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.recovery_codes
    ADD CONSTRAINT recovery_codes_pkey PRIMARY KEY (id);


--
-- Name: recovery_codes recovery_codes_user_id_code_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.recovery_codes
    ADD CONSTRAINT recovery_codes_user_id_code_hash_key UNIQUE (user_id, code_hash);


--
-- Name: retention_marks retention_marks_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.retention_marks
    ADD CONSTRAINT retention_marks_pkey PRIMARY KEY (kind);


--
-- Name: retention_schedule retention_schedule_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.retention_schedule
    ADD CONSTRAINT retention_schedule_pkey PRIMARY KEY (id);


--
-- Name: schema_migrations schema_migrations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);


--
-- Name: schema_repeatables schema_repeatables_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.schema_repeatables
    ADD CONSTRAINT schema_repeatables_pkey PRIMARY KEY (name);


--
-- Name: sealing_key sealing_key_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sealing_key
    ADD CONSTRAINT sealing_key_pkey PRIMARY KEY (one);


--
-- Name: send_stamps send_stamps_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.send_stamps
    ADD CONSTRAINT send_stamps_pkey PRIMARY KEY (id);


--
-- Name: senders senders_address_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.senders
    ADD CONSTRAINT senders_address_key UNIQUE (address);


--
-- Name: senders senders_org_id_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.senders
    ADD CONSTRAINT senders_org_id_id_key UNIQUE (org_id, id);


--
-- Name: senders senders_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.senders
    ADD CONSTRAINT senders_pkey PRIMARY KEY (id);


--
-- Name: sessions sessions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sessions
    ADD CONSTRAINT sessions_pkey PRIMARY KEY (id);


--
-- Name: sessions sessions_token_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sessions
    ADD CONSTRAINT sessions_token_hash_key UNIQUE (token_hash);


--
-- Name: sso_logins sso_logins_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sso_logins
    ADD CONSTRAINT sso_logins_pkey PRIMARY KEY (id);


--
-- Name: sso_logins sso_logins_state_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sso_logins
    ADD CONSTRAINT sso_logins_state_hash_key UNIQUE (state_hash);


--
-- Name: subscriptions subscriptions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.subscriptions
    ADD CONSTRAINT subscriptions_pkey PRIMARY KEY (list_id, contact_id);


--
-- Name: tags tags_org_id_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tags
    ADD CONSTRAINT tags_org_id_id_key UNIQUE (org_id, id);


--
-- Name: tags tags_org_id_name_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tags
    ADD CONSTRAINT tags_org_id_name_key UNIQUE (org_id, name);


--
-- Name: tags tags_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tags
    ADD CONSTRAINT tags_pkey PRIMARY KEY (id);


--
-- Name: tz_names tz_names_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tz_names
    ADD CONSTRAINT tz_names_pkey PRIMARY KEY (name);


--
-- Name: unknown_messages unknown_messages_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.unknown_messages
    ADD CONSTRAINT unknown_messages_pkey PRIMARY KEY (message_id);


--
-- Name: user_totp user_totp_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.user_totp
    ADD CONSTRAINT user_totp_pkey PRIMARY KEY (user_id);


--
-- Name: users users_org_id_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_org_id_id_key UNIQUE (org_id, id);


--
-- Name: users users_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);


--
-- Name: audit_alerts_open; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX audit_alerts_open ON public.audit_alerts USING btree (org_id, user_id, kind, created_at DESC) WHERE (acknowledged_at IS NULL);


--
-- Name: audit_alerts_org; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX audit_alerts_org ON public.audit_alerts USING btree (org_id, id DESC);


--
-- Name: audit_events_assign; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX audit_events_assign ON public.audit_events USING btree (subject_id, created_at DESC) WHERE (action = 'conversation.assign'::text);


--
-- Name: audit_events_bulk_assign; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX audit_events_bulk_assign ON public.audit_events USING btree (subject_id, created_at DESC) WHERE (action = 'conversation.bulk_assign'::text);


--
-- Name: audit_events_org_time; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX audit_events_org_time ON public.audit_events USING btree (org_id, created_at DESC);


--
-- Name: audit_events_user_time; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX audit_events_user_time ON public.audit_events USING btree (org_id, user_id, created_at DESC);


--
-- Name: blasts_due; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX blasts_due ON public.blasts USING btree (scheduled_at) WHERE (state = 'scheduled'::text);


--
-- Name: canned_responses_live_title; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX canned_responses_live_title ON public.canned_responses USING btree (org_id, COALESCE(campaign_id, (0)::bigint), lower(title)) WHERE (retired_at IS NULL);


--
-- Name: claims_lease; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX claims_lease ON public.claims USING btree (lease_until);


--
-- Name: claims_worker; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX claims_worker ON public.claims USING btree (worker);


--
-- Name: consent_events_created; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX consent_events_created ON public.consent_events USING btree (created_at);


--
-- Name: consent_events_phone; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX consent_events_phone ON public.consent_events USING btree (org_id, phone, created_at);


--
-- Name: conversation_notes_conversation; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX conversation_notes_conversation ON public.conversation_notes USING btree (conversation_id, created_at);


--
-- Name: conversations_assignee; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX conversations_assignee ON public.conversations USING btree (assignee_id) WHERE ((state = 'open'::text) AND (assignee_id IS NOT NULL));


--
-- Name: conversations_assignee_idle; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX conversations_assignee_idle ON public.conversations USING btree (assignee_active_at) WHERE ((state = 'open'::text) AND (assignee_id IS NOT NULL));


--
-- Name: conversations_one_open; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX conversations_one_open ON public.conversations USING btree (contact_id, sender_id) WHERE (state = 'open'::text);


--
-- Name: conversations_org_open; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX conversations_org_open ON public.conversations USING btree (org_id) WHERE (state = 'open'::text);


--
-- Name: conversations_pool; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX conversations_pool ON public.conversations USING btree (org_id, created_at, id) WHERE ((state = 'open'::text) AND (assignee_id IS NULL));


--
-- Name: import_uploads_batch; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX import_uploads_batch ON public.import_uploads USING btree (org_id, batch_id) WHERE (batch_id IS NOT NULL);


--
-- Name: import_uploads_by_user; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX import_uploads_by_user ON public.import_uploads USING btree (org_id, created_by);


--
-- Name: import_uploads_open; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX import_uploads_open ON public.import_uploads USING btree (updated_at) WHERE (state = ANY (ARRAY['uploading'::text, 'importing'::text]));


--
-- Name: inbound_conversation; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX inbound_conversation ON public.inbound_messages USING btree (conversation_id, received_at);


--
-- Name: inbound_messages_opt_out_from; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX inbound_messages_opt_out_from ON public.inbound_messages USING btree (org_id, from_phone, received_at) WHERE (intent = 'opt_out'::text);


--
-- Name: invites_org_pending; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX invites_org_pending ON public.invites USING btree (org_id, expires_at) WHERE (used_at IS NULL);


--
-- Name: keywords_unique; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX keywords_unique ON public.keywords USING btree (org_id, COALESCE(sender_id, (0)::bigint), keyword);


--
-- Name: messages_blast_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX messages_blast_id ON public.messages USING btree (blast_id) WHERE (blast_id IS NOT NULL);


--
-- Name: messages_contact; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX messages_contact ON public.messages USING btree (org_id, to_phone);


--
-- Name: messages_conversation; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX messages_conversation ON public.messages USING btree (conversation_id, created_at) WHERE (conversation_id IS NOT NULL);


--
-- Name: messages_outside_conversation; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX messages_outside_conversation ON public.messages USING btree (org_id, to_phone, sender_id, created_at) WHERE ((conversation_id IS NULL) AND (blast_id IS NULL));


--
-- Name: orgs_parent; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX orgs_parent ON public.orgs USING btree (parent_org_id) WHERE (parent_org_id IS NOT NULL);


--
-- Name: outbox_blast; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX outbox_blast ON public.outbox USING btree (blast_id) WHERE (blast_id IS NOT NULL);


--
-- Name: outbox_claimable; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX outbox_claimable ON public.outbox USING btree (sender_id, lane, not_before, id);


--
-- Name: outreach_targets_claimed; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX outreach_targets_claimed ON public.outreach_targets USING btree (claimed_by, campaign_id) WHERE (state = 'claimed'::text);


--
-- Name: outreach_targets_conversation; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX outreach_targets_conversation ON public.outreach_targets USING btree (conversation_id) WHERE (conversation_id IS NOT NULL);


--
-- Name: outreach_targets_pending; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX outreach_targets_pending ON public.outreach_targets USING btree (campaign_id, contact_id) WHERE (state = 'pending'::text);


--
-- Name: receipts_pending_age; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX receipts_pending_age ON public.delivery_receipts_pending USING btree (received_at);


--
-- Name: receipts_pending_lookup; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX receipts_pending_lookup ON public.delivery_receipts_pending USING btree (provider, provider_message_id, sender_id);


--
-- Name: receipts_pending_sender; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX receipts_pending_sender ON public.delivery_receipts_pending USING btree (sender_id, received_at);


--
-- Name: send_stamps_worker; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX send_stamps_worker ON public.send_stamps USING btree (worker, stamped_at);


--
-- Name: sessions_acting_user; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX sessions_acting_user ON public.sessions USING btree (acting_user_id) WHERE (acting_user_id IS NOT NULL);


--
-- Name: sessions_expiry; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX sessions_expiry ON public.sessions USING btree (expires_at);


--
-- Name: sessions_user; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX sessions_user ON public.sessions USING btree (user_id);


--
-- Name: sso_logins_expiry; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX sso_logins_expiry ON public.sso_logins USING btree (expires_at);


--
-- Name: subscriptions_contact; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX subscriptions_contact ON public.subscriptions USING btree (contact_id);


--
-- Name: unknown_messages_sender; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX unknown_messages_sender ON public.unknown_messages USING btree (org_id, sender_id);


--
-- Name: users_acting_once; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX users_acting_once ON public.users USING btree (org_id, national_user_id) WHERE (national_user_id IS NOT NULL);


--
-- Name: users_email_key; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX users_email_key ON public.users USING btree (lower(email)) WHERE (national_user_id IS NULL);


--
-- Name: audit_alerts audit_alerts_notify; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER audit_alerts_notify AFTER INSERT OR UPDATE OF acknowledged_at ON public.audit_alerts FOR EACH ROW EXECUTE FUNCTION public.tocsin_audit_alert_notify();


--
-- Name: audit_events audit_events_alerts; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER audit_events_alerts AFTER INSERT ON public.audit_events FOR EACH ROW WHEN (((new.user_id IS NOT NULL) AND (public.tocsin_audit_is_export(new.action) OR (new.action = ANY (ARRAY['conversation.claim'::text, 'outreach.claim'::text]))))) EXECUTE FUNCTION public.tocsin_audit_alerts();


--
-- Name: audit_events audit_events_chain; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER audit_events_chain BEFORE INSERT ON public.audit_events FOR EACH ROW EXECUTE FUNCTION public.tocsin_audit_chain();


--
-- Name: audit_events audit_events_chain_head; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER audit_events_chain_head AFTER INSERT ON public.audit_events REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.tocsin_audit_chain_head();


--
-- Name: blasts blasts_approval_void; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER blasts_approval_void BEFORE UPDATE OF body, list_id, filter, sender_id ON public.blasts FOR EACH ROW WHEN (((old.body IS DISTINCT FROM new.body) OR (old.list_id IS DISTINCT FROM new.list_id) OR (old.filter IS DISTINCT FROM new.filter) OR (old.sender_id IS DISTINCT FROM new.sender_id))) EXECUTE FUNCTION public.tocsin_blast_approval_void();


--
-- Name: blasts blasts_notify; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER blasts_notify AFTER UPDATE ON public.blasts FOR EACH ROW WHEN (((old.state IS DISTINCT FROM new.state) OR (old.queued <> new.queued) OR (old.sending <> new.sending) OR (old.sent <> new.sent) OR (old.delivered <> new.delivered) OR (old.undelivered <> new.undelivered) OR (old.failed <> new.failed) OR (old.unknown <> new.unknown) OR (old.suppressed <> new.suppressed) OR (old.cancelled <> new.cancelled) OR (old.opted_out <> new.opted_out) OR (old.unfed <> new.unfed))) EXECUTE FUNCTION public.tocsin_blast_notify();


--
-- Name: contacts contacts_links_delete; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER contacts_links_delete BEFORE DELETE ON public.contacts FOR EACH ROW EXECUTE FUNCTION public.tocsin_links_parent_kept();


--
-- Name: contacts contacts_links_key; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER contacts_links_key BEFORE UPDATE OF id, org_id ON public.contacts FOR EACH ROW WHEN (((new.id IS DISTINCT FROM old.id) OR (new.org_id IS DISTINCT FROM old.org_id))) EXECUTE FUNCTION public.tocsin_links_parent_kept();


--
-- Name: contacts contacts_org_insert; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER contacts_org_insert AFTER INSERT ON public.contacts REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.tocsin_contacts_org_insert();


--
-- Name: contacts contacts_org_update; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER contacts_org_update BEFORE UPDATE OF org_id ON public.contacts FOR EACH ROW WHEN ((new.org_id IS DISTINCT FROM old.org_id)) EXECUTE FUNCTION public.tocsin_contact_org_update();


--
-- Name: conversations conversations_links_delete; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER conversations_links_delete BEFORE DELETE ON public.conversations FOR EACH ROW EXECUTE FUNCTION public.tocsin_links_parent_kept();


--
-- Name: conversations conversations_links_insert; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER conversations_links_insert AFTER INSERT ON public.conversations REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.tocsin_conversation_links_insert();


--
-- Name: conversations conversations_links_key; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER conversations_links_key BEFORE UPDATE OF id, org_id ON public.conversations FOR EACH ROW WHEN (((new.id IS DISTINCT FROM old.id) OR (new.org_id IS DISTINCT FROM old.org_id))) EXECUTE FUNCTION public.tocsin_links_parent_kept();


--
-- Name: conversations conversations_links_update; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER conversations_links_update BEFORE UPDATE OF org_id, sender_id, contact_id ON public.conversations FOR EACH ROW WHEN (((new.org_id IS DISTINCT FROM old.org_id) OR (new.sender_id IS DISTINCT FROM old.sender_id) OR (new.contact_id IS DISTINCT FROM old.contact_id))) EXECUTE FUNCTION public.tocsin_links_update();


--
-- Name: inbound_messages inbound_messages_links_insert; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER inbound_messages_links_insert AFTER INSERT ON public.inbound_messages REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.tocsin_inbound_links_insert();


--
-- Name: inbound_messages inbound_messages_links_update; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER inbound_messages_links_update BEFORE UPDATE OF org_id, sender_id, contact_id, conversation_id ON public.inbound_messages FOR EACH ROW WHEN (((new.org_id IS DISTINCT FROM old.org_id) OR (new.sender_id IS DISTINCT FROM old.sender_id) OR ((new.contact_id IS NOT NULL) AND (new.contact_id IS DISTINCT FROM old.contact_id)) OR ((new.conversation_id IS NOT NULL) AND (new.conversation_id IS DISTINCT FROM old.conversation_id)))) EXECUTE FUNCTION public.tocsin_links_update();


--
-- Name: keywords keywords_language; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER keywords_language BEFORE INSERT OR UPDATE ON public.keywords FOR EACH ROW EXECUTE FUNCTION public.tocsin_keyword_language_default();


--
-- Name: messages messages_blast_counters; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER messages_blast_counters AFTER UPDATE ON public.messages REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.tocsin_blast_count_changes();


--
-- Name: messages messages_lookups_delete; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER messages_lookups_delete AFTER DELETE ON public.messages REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION public.tocsin_message_lookups_delete();


--
-- Name: messages messages_lookups_insert; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER messages_lookups_insert AFTER INSERT ON public.messages REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.tocsin_message_lookups_insert();


--
-- Name: messages messages_lookups_update; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER messages_lookups_update AFTER UPDATE ON public.messages REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.tocsin_message_lookups_update();


--
-- Name: messages messages_outbox_fill; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER messages_outbox_fill AFTER INSERT ON public.messages REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.tocsin_outbox_fill();


--
-- Name: messages messages_outbox_forget; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER messages_outbox_forget AFTER DELETE ON public.messages REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION public.tocsin_outbox_forget();


--
-- Name: messages messages_outbox_notify; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER messages_outbox_notify AFTER INSERT ON public.messages REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.tocsin_outbox_notify();


--
-- Name: messages messages_state_notify; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER messages_state_notify AFTER UPDATE OF state ON public.messages FOR EACH ROW WHEN (((new.conversation_id IS NOT NULL) AND (old.state IS DISTINCT FROM new.state) AND (new.state <> 'queued'::text))) EXECUTE FUNCTION public.tocsin_message_state_notify();


--
-- Name: opt_outs opt_outs_blast_counters; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER opt_outs_blast_counters AFTER INSERT ON public.opt_outs REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.tocsin_blast_count_opt_outs();


--
-- Name: orgs orgs_contacts_delete; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER orgs_contacts_delete BEFORE DELETE ON public.orgs FOR EACH ROW EXECUTE FUNCTION public.tocsin_org_contacts_kept();


--
-- Name: orgs orgs_contacts_key; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER orgs_contacts_key BEFORE UPDATE OF id ON public.orgs FOR EACH ROW WHEN ((new.id IS DISTINCT FROM old.id)) EXECUTE FUNCTION public.tocsin_org_contacts_kept();


--
-- Name: recovery_codes recovery_codes_not_acting_account; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER recovery_codes_not_acting_account BEFORE INSERT OR UPDATE OF user_id ON public.recovery_codes FOR EACH ROW EXECUTE FUNCTION public.tocsin_acting_account_guard('recovery codes');


--
-- Name: senders senders_changed_notify; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER senders_changed_notify AFTER INSERT OR DELETE OR UPDATE ON public.senders FOR EACH STATEMENT EXECUTE FUNCTION public.tocsin_notify_senders();


--
-- Name: senders senders_links_delete; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER senders_links_delete BEFORE DELETE ON public.senders FOR EACH ROW EXECUTE FUNCTION public.tocsin_links_parent_kept();


--
-- Name: senders senders_links_key; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER senders_links_key BEFORE UPDATE OF id, org_id ON public.senders FOR EACH ROW WHEN (((new.id IS DISTINCT FROM old.id) OR (new.org_id IS DISTINCT FROM old.org_id))) EXECUTE FUNCTION public.tocsin_links_parent_kept();


--
-- Name: sessions sessions_acting_ended; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER sessions_acting_ended AFTER DELETE ON public.sessions FOR EACH ROW WHEN ((old.acting_org_id IS NOT NULL)) EXECUTE FUNCTION public.tocsin_session_acting_ended();


--
-- Name: sessions sessions_acting_notify; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER sessions_acting_notify AFTER UPDATE OF acting_org_id, acting_until ON public.sessions FOR EACH STATEMENT EXECUTE FUNCTION public.tocsin_notify_sessions();


--
-- Name: sessions sessions_deleted_notify; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER sessions_deleted_notify AFTER DELETE ON public.sessions FOR EACH STATEMENT EXECUTE FUNCTION public.tocsin_notify_sessions();


--
-- Name: sessions sessions_not_acting_account; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER sessions_not_acting_account BEFORE INSERT OR UPDATE OF user_id ON public.sessions FOR EACH ROW EXECUTE FUNCTION public.tocsin_acting_account_guard('sessions');


--
-- Name: sessions sessions_stage_notify; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER sessions_stage_notify AFTER UPDATE OF stage ON public.sessions FOR EACH STATEMENT EXECUTE FUNCTION public.tocsin_notify_sessions();


--
-- Name: sessions sessions_user_active; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER sessions_user_active AFTER INSERT OR UPDATE OF last_seen_at ON public.sessions FOR EACH ROW EXECUTE FUNCTION public.tocsin_user_active();


--
-- Name: user_totp user_totp_not_acting_account; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER user_totp_not_acting_account BEFORE INSERT OR UPDATE OF user_id ON public.user_totp FOR EACH ROW EXECUTE FUNCTION public.tocsin_acting_account_guard('authenticator');


--
-- Name: users users_access_notify; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER users_access_notify AFTER UPDATE OF role, disabled_at ON public.users FOR EACH STATEMENT EXECUTE FUNCTION public.tocsin_notify_sessions();


--
-- Name: users users_disabled_release; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER users_disabled_release AFTER UPDATE OF disabled_at ON public.users FOR EACH ROW WHEN (((old.disabled_at IS NULL) AND (new.disabled_at IS NOT NULL))) EXECUTE FUNCTION public.tocsin_user_disabled();


--
-- Name: users users_disabled_sessions; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER users_disabled_sessions AFTER UPDATE OF disabled_at ON public.users FOR EACH ROW WHEN (((old.disabled_at IS NULL) AND (new.disabled_at IS NOT NULL))) EXECUTE FUNCTION public.tocsin_user_sessions_end();


--
-- Name: audit_alerts audit_alerts_audit_event_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_alerts
    ADD CONSTRAINT audit_alerts_audit_event_id_fkey FOREIGN KEY (audit_event_id) REFERENCES public.audit_events(id);


--
-- Name: audit_alerts audit_alerts_org_id_acknowledged_by_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_alerts
    ADD CONSTRAINT audit_alerts_org_id_acknowledged_by_fkey FOREIGN KEY (org_id, acknowledged_by) REFERENCES public.users(org_id, id);


--
-- Name: audit_alerts audit_alerts_org_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_alerts
    ADD CONSTRAINT audit_alerts_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.orgs(id);


--
-- Name: audit_alerts audit_alerts_org_id_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_alerts
    ADD CONSTRAINT audit_alerts_org_id_user_id_fkey FOREIGN KEY (org_id, user_id) REFERENCES public.users(org_id, id);


--
-- Name: audit_chain_heads audit_chain_heads_org_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_chain_heads
    ADD CONSTRAINT audit_chain_heads_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.orgs(id);


--
-- Name: audit_events audit_events_org_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_events
    ADD CONSTRAINT audit_events_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.orgs(id);


--
-- Name: audit_events audit_events_org_id_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_events
    ADD CONSTRAINT audit_events_org_id_user_id_fkey FOREIGN KEY (org_id, user_id) REFERENCES public.users(org_id, id);


--
-- Name: blast_audience blast_audience_blast_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.blast_audience
    ADD CONSTRAINT blast_audience_blast_id_fkey FOREIGN KEY (blast_id) REFERENCES public.blasts(id) ON DELETE CASCADE;


--
-- Name: blasts blasts_approved_by_fk; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.blasts
    ADD CONSTRAINT blasts_approved_by_fk FOREIGN KEY (org_id, approved_by) REFERENCES public.users(org_id, id);


--
-- Name: blasts blasts_org_id_created_by_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.blasts
    ADD CONSTRAINT blasts_org_id_created_by_fkey FOREIGN KEY (org_id, created_by) REFERENCES public.users(org_id, id);


--
-- Name: blasts blasts_org_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.blasts
    ADD CONSTRAINT blasts_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.orgs(id);


--
-- Name: blasts blasts_org_id_list_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.blasts
    ADD CONSTRAINT blasts_org_id_list_id_fkey FOREIGN KEY (org_id, list_id) REFERENCES public.lists(org_id, id);


--
-- Name: blasts blasts_org_id_sender_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.blasts
    ADD CONSTRAINT blasts_org_id_sender_id_fkey FOREIGN KEY (org_id, sender_id) REFERENCES public.senders(org_id, id);


--
-- Name: canned_responses canned_responses_campaign_fk; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.canned_responses
    ADD CONSTRAINT canned_responses_campaign_fk FOREIGN KEY (org_id, campaign_id) REFERENCES public.outreach_campaigns(org_id, id) ON DELETE CASCADE;


--
-- Name: canned_responses canned_responses_org_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.canned_responses
    ADD CONSTRAINT canned_responses_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.orgs(id);


--
-- Name: consent_events consent_events_org_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.consent_events
    ADD CONSTRAINT consent_events_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.orgs(id);


--
-- Name: conversation_notes conversation_notes_org_id_conversation_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.conversation_notes
    ADD CONSTRAINT conversation_notes_org_id_conversation_id_fkey FOREIGN KEY (org_id, conversation_id) REFERENCES public.conversations(org_id, id) ON DELETE CASCADE;


--
-- Name: conversation_notes conversation_notes_org_id_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.conversation_notes
    ADD CONSTRAINT conversation_notes_org_id_user_id_fkey FOREIGN KEY (org_id, user_id) REFERENCES public.users(org_id, id);


--
-- Name: conversation_tags conversation_tags_org_id_conversation_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.conversation_tags
    ADD CONSTRAINT conversation_tags_org_id_conversation_id_fkey FOREIGN KEY (org_id, conversation_id) REFERENCES public.conversations(org_id, id) ON DELETE CASCADE;


--
-- Name: conversation_tags conversation_tags_org_id_tag_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.conversation_tags
    ADD CONSTRAINT conversation_tags_org_id_tag_id_fkey FOREIGN KEY (org_id, tag_id) REFERENCES public.tags(org_id, id) ON DELETE CASCADE;


--
-- Name: conversations conversations_org_id_assignee_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.conversations
    ADD CONSTRAINT conversations_org_id_assignee_id_fkey FOREIGN KEY (org_id, assignee_id) REFERENCES public.users(org_id, id);


--
-- Name: delivery_receipts_pending delivery_receipts_pending_sender_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.delivery_receipts_pending
    ADD CONSTRAINT delivery_receipts_pending_sender_id_fkey FOREIGN KEY (sender_id) REFERENCES public.senders(id) ON DELETE CASCADE;


--
-- Name: import_batches import_batches_org_id_created_by_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.import_batches
    ADD CONSTRAINT import_batches_org_id_created_by_fkey FOREIGN KEY (org_id, created_by) REFERENCES public.users(org_id, id);


--
-- Name: import_batches import_batches_org_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.import_batches
    ADD CONSTRAINT import_batches_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.orgs(id);


--
-- Name: import_batches import_batches_org_id_list_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.import_batches
    ADD CONSTRAINT import_batches_org_id_list_id_fkey FOREIGN KEY (org_id, list_id) REFERENCES public.lists(org_id, id);


--
-- Name: import_upload_chunks import_upload_chunks_upload_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.import_upload_chunks
    ADD CONSTRAINT import_upload_chunks_upload_id_fkey FOREIGN KEY (upload_id) REFERENCES public.import_uploads(id) ON DELETE CASCADE;


--
-- Name: import_uploads import_uploads_org_id_batch_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.import_uploads
    ADD CONSTRAINT import_uploads_org_id_batch_id_fkey FOREIGN KEY (org_id, batch_id) REFERENCES public.import_batches(org_id, id);


--
-- Name: import_uploads import_uploads_org_id_created_by_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.import_uploads
    ADD CONSTRAINT import_uploads_org_id_created_by_fkey FOREIGN KEY (org_id, created_by) REFERENCES public.users(org_id, id);


--
-- Name: invites invites_org_id_created_by_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.invites
    ADD CONSTRAINT invites_org_id_created_by_fkey FOREIGN KEY (org_id, created_by) REFERENCES public.users(org_id, id);


--
-- Name: invites invites_org_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.invites
    ADD CONSTRAINT invites_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.orgs(id);


--
-- Name: invites invites_org_id_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.invites
    ADD CONSTRAINT invites_org_id_user_id_fkey FOREIGN KEY (org_id, user_id) REFERENCES public.users(org_id, id) ON DELETE CASCADE;


--
-- Name: keywords keywords_org_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.keywords
    ADD CONSTRAINT keywords_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.orgs(id);


--
-- Name: keywords keywords_org_id_list_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.keywords
    ADD CONSTRAINT keywords_org_id_list_id_fkey FOREIGN KEY (org_id, list_id) REFERENCES public.lists(org_id, id);


--
-- Name: keywords keywords_org_id_sender_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.keywords
    ADD CONSTRAINT keywords_org_id_sender_id_fkey FOREIGN KEY (org_id, sender_id) REFERENCES public.senders(org_id, id);


--
-- Name: lists lists_org_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.lists
    ADD CONSTRAINT lists_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.orgs(id);


--
-- Name: messages messages_org_id_blast_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.messages
    ADD CONSTRAINT messages_org_id_blast_id_fkey FOREIGN KEY (org_id, blast_id) REFERENCES public.blasts(org_id, id);


--
-- Name: messages messages_org_id_contact_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.messages
    ADD CONSTRAINT messages_org_id_contact_id_fkey FOREIGN KEY (org_id, contact_id) REFERENCES public.contacts(org_id, id);


--
-- Name: messages messages_org_id_conversation_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.messages
    ADD CONSTRAINT messages_org_id_conversation_id_fkey FOREIGN KEY (org_id, conversation_id) REFERENCES public.conversations(org_id, id);


--
-- Name: messages messages_org_id_inbound_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.messages
    ADD CONSTRAINT messages_org_id_inbound_id_fkey FOREIGN KEY (org_id, inbound_id) REFERENCES public.inbound_messages(org_id, id);


--
-- Name: messages messages_org_id_sender_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.messages
    ADD CONSTRAINT messages_org_id_sender_id_fkey FOREIGN KEY (org_id, sender_id) REFERENCES public.senders(org_id, id);


--
-- Name: messages messages_org_id_sent_by_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.messages
    ADD CONSTRAINT messages_org_id_sent_by_user_id_fkey FOREIGN KEY (org_id, sent_by_user_id) REFERENCES public.users(org_id, id);


--
-- Name: opt_outs opt_outs_org_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.opt_outs
    ADD CONSTRAINT opt_outs_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.orgs(id);


--
-- Name: org_sso org_sso_org_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.org_sso
    ADD CONSTRAINT org_sso_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.orgs(id);


--
-- Name: org_sso org_sso_org_id_updated_by_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.org_sso
    ADD CONSTRAINT org_sso_org_id_updated_by_fkey FOREIGN KEY (org_id, updated_by) REFERENCES public.users(org_id, id);


--
-- Name: orgs orgs_parent_org_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.orgs
    ADD CONSTRAINT orgs_parent_org_id_fkey FOREIGN KEY (parent_org_id) REFERENCES public.orgs(id);


--
-- Name: outreach_answers outreach_answers_campaign_id_contact_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outreach_answers
    ADD CONSTRAINT outreach_answers_campaign_id_contact_id_fkey FOREIGN KEY (campaign_id, contact_id) REFERENCES public.outreach_targets(campaign_id, contact_id) ON DELETE CASCADE;


--
-- Name: outreach_answers outreach_answers_org_id_choice_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outreach_answers
    ADD CONSTRAINT outreach_answers_org_id_choice_id_fkey FOREIGN KEY (org_id, choice_id) REFERENCES public.outreach_choices(org_id, id) ON DELETE CASCADE;


--
-- Name: outreach_answers outreach_answers_org_id_recorded_by_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outreach_answers
    ADD CONSTRAINT outreach_answers_org_id_recorded_by_fkey FOREIGN KEY (org_id, recorded_by) REFERENCES public.users(org_id, id);


--
-- Name: outreach_answers outreach_answers_org_id_step_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outreach_answers
    ADD CONSTRAINT outreach_answers_org_id_step_id_fkey FOREIGN KEY (org_id, step_id) REFERENCES public.outreach_steps(org_id, id) ON DELETE CASCADE;


--
-- Name: outreach_campaigns outreach_campaigns_org_id_created_by_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outreach_campaigns
    ADD CONSTRAINT outreach_campaigns_org_id_created_by_fkey FOREIGN KEY (org_id, created_by) REFERENCES public.users(org_id, id);


--
-- Name: outreach_campaigns outreach_campaigns_org_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outreach_campaigns
    ADD CONSTRAINT outreach_campaigns_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.orgs(id);


--
-- Name: outreach_campaigns outreach_campaigns_org_id_sender_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outreach_campaigns
    ADD CONSTRAINT outreach_campaigns_org_id_sender_id_fkey FOREIGN KEY (org_id, sender_id) REFERENCES public.senders(org_id, id);


--
-- Name: outreach_choices outreach_choices_org_id_step_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outreach_choices
    ADD CONSTRAINT outreach_choices_org_id_step_id_fkey FOREIGN KEY (org_id, step_id) REFERENCES public.outreach_steps(org_id, id) ON DELETE CASCADE;


--
-- Name: outreach_send_pace outreach_send_pace_org_id_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outreach_send_pace
    ADD CONSTRAINT outreach_send_pace_org_id_user_id_fkey FOREIGN KEY (org_id, user_id) REFERENCES public.users(org_id, id) ON DELETE CASCADE;


--
-- Name: outreach_steps outreach_steps_org_id_campaign_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outreach_steps
    ADD CONSTRAINT outreach_steps_org_id_campaign_id_fkey FOREIGN KEY (org_id, campaign_id) REFERENCES public.outreach_campaigns(org_id, id) ON DELETE CASCADE;


--
-- Name: outreach_targets outreach_targets_org_id_campaign_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outreach_targets
    ADD CONSTRAINT outreach_targets_org_id_campaign_id_fkey FOREIGN KEY (org_id, campaign_id) REFERENCES public.outreach_campaigns(org_id, id) ON DELETE CASCADE;


--
-- Name: outreach_targets outreach_targets_org_id_claimed_by_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outreach_targets
    ADD CONSTRAINT outreach_targets_org_id_claimed_by_fkey FOREIGN KEY (org_id, claimed_by) REFERENCES public.users(org_id, id);


--
-- Name: outreach_targets outreach_targets_org_id_contact_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outreach_targets
    ADD CONSTRAINT outreach_targets_org_id_contact_id_fkey FOREIGN KEY (org_id, contact_id) REFERENCES public.contacts(org_id, id) ON DELETE CASCADE;


--
-- Name: outreach_targets outreach_targets_org_id_conversation_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outreach_targets
    ADD CONSTRAINT outreach_targets_org_id_conversation_id_fkey FOREIGN KEY (org_id, conversation_id) REFERENCES public.conversations(org_id, id);


--
-- Name: outreach_targets outreach_targets_org_id_import_batch_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outreach_targets
    ADD CONSTRAINT outreach_targets_org_id_import_batch_id_fkey FOREIGN KEY (org_id, import_batch_id) REFERENCES public.import_batches(org_id, id);


--
-- Name: outreach_targets outreach_targets_org_id_message_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outreach_targets
    ADD CONSTRAINT outreach_targets_org_id_message_id_fkey FOREIGN KEY (org_id, message_id) REFERENCES public.messages(org_id, id);


--
-- Name: outreach_targets outreach_targets_org_id_texted_by_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outreach_targets
    ADD CONSTRAINT outreach_targets_org_id_texted_by_fkey FOREIGN KEY (org_id, texted_by) REFERENCES public.users(org_id, id);


--
-- Name: phone_zone_keys phone_zone_keys_prefix_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.phone_zone_keys
    ADD CONSTRAINT phone_zone_keys_prefix_fkey FOREIGN KEY (prefix) REFERENCES public.phone_zones(prefix) ON DELETE CASCADE;


--
-- Name: recovery_codes recovery_codes_org_id_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.recovery_codes
    ADD CONSTRAINT recovery_codes_org_id_user_id_fkey FOREIGN KEY (org_id, user_id) REFERENCES public.users(org_id, id) ON DELETE CASCADE;


--
-- Name: senders senders_org_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.senders
    ADD CONSTRAINT senders_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.orgs(id);


--
-- Name: sessions sessions_acting_org_id_acting_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sessions
    ADD CONSTRAINT sessions_acting_org_id_acting_user_id_fkey FOREIGN KEY (acting_org_id, acting_user_id) REFERENCES public.users(org_id, id) ON DELETE CASCADE;


--
-- Name: sessions sessions_org_id_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sessions
    ADD CONSTRAINT sessions_org_id_user_id_fkey FOREIGN KEY (org_id, user_id) REFERENCES public.users(org_id, id) ON DELETE CASCADE;


--
-- Name: sso_logins sso_logins_org_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sso_logins
    ADD CONSTRAINT sso_logins_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.orgs(id);


--
-- Name: subscriptions subscriptions_ended_by_opt_out_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.subscriptions
    ADD CONSTRAINT subscriptions_ended_by_opt_out_fkey FOREIGN KEY (ended_by_opt_out) REFERENCES public.consent_events(id) ON DELETE SET NULL;


--
-- Name: subscriptions subscriptions_org_id_contact_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.subscriptions
    ADD CONSTRAINT subscriptions_org_id_contact_id_fkey FOREIGN KEY (org_id, contact_id) REFERENCES public.contacts(org_id, id) ON DELETE CASCADE;


--
-- Name: subscriptions subscriptions_org_id_evidence_import_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.subscriptions
    ADD CONSTRAINT subscriptions_org_id_evidence_import_id_fkey FOREIGN KEY (org_id, evidence_import_id) REFERENCES public.import_batches(org_id, id);


--
-- Name: subscriptions subscriptions_org_id_evidence_inbound_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.subscriptions
    ADD CONSTRAINT subscriptions_org_id_evidence_inbound_id_fkey FOREIGN KEY (org_id, evidence_inbound_id) REFERENCES public.inbound_messages(org_id, id);


--
-- Name: subscriptions subscriptions_org_id_list_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.subscriptions
    ADD CONSTRAINT subscriptions_org_id_list_id_fkey FOREIGN KEY (org_id, list_id) REFERENCES public.lists(org_id, id);


--
-- Name: tags tags_campaign_fk; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tags
    ADD CONSTRAINT tags_campaign_fk FOREIGN KEY (org_id, campaign_id) REFERENCES public.outreach_campaigns(org_id, id) ON DELETE CASCADE;


--
-- Name: tags tags_org_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tags
    ADD CONSTRAINT tags_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.orgs(id);


--
-- Name: user_totp user_totp_org_id_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.user_totp
    ADD CONSTRAINT user_totp_org_id_user_id_fkey FOREIGN KEY (org_id, user_id) REFERENCES public.users(org_id, id) ON DELETE CASCADE;


--
-- Name: users users_national_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_national_user_id_fkey FOREIGN KEY (national_user_id) REFERENCES public.users(id) ON DELETE CASCADE;


--
-- Name: users users_org_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.orgs(id);


--
-- PostgreSQL database dump complete
--


