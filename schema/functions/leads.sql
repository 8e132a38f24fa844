-- SPDX-License-Identifier: AGPL-3.0-or-later
-- leads: what the dashboard's campaign leads read and do — audiences with
-- member counts, a blast's preview, the blast actions (blasts.sql) with
-- their errors turned into API answers, and stats per blast and keyword.
-- Each function returns one row (status, body json) as the dashboard's
-- routes expect (dashboard/api_routes.c), scoped by p_org.
--
-- A repeatable file: edited in place; tocsinctl migrate applies it again
-- when it changes (schema/README.md).

-- Who a list's blast would reach: subscribed, not opted out (the
-- audience of tocsin_blast_expand, before quiet hours).
CREATE OR REPLACE FUNCTION tocsin_lead_audience(p_org bigint, p_list bigint)
RETURNS TABLE (contact_id bigint) LANGUAGE sql STABLE AS $$
    SELECT c.id FROM subscriptions s JOIN contacts c ON c.id = s.contact_id
     WHERE s.org_id = p_org AND s.list_id = p_list AND s.unsubscribed_at IS NULL
       AND NOT EXISTS (SELECT 1 FROM opt_outs o WHERE o.org_id = p_org AND o.phone = c.phone)
$$;

CREATE OR REPLACE FUNCTION tocsin_lead_lists(p_org bigint, OUT status int, OUT body json)
LANGUAGE sql STABLE AS $$
    SELECT 200, coalesce(json_agg(json_build_object(
               'id', l.id, 'name', l.name, 'created_at', l.created_at,
               'members', (SELECT count(*) FROM tocsin_lead_audience(p_org, l.id)),
               'opted_out', (SELECT count(*) FROM subscriptions s JOIN contacts c ON c.id = s.contact_id
                              JOIN opt_outs o ON o.org_id = c.org_id AND o.phone = c.phone
                             WHERE s.list_id = l.id AND s.unsubscribed_at IS NULL))
           ORDER BY l.name, l.id), '[]')
      FROM lists l WHERE l.org_id = p_org
$$;

CREATE OR REPLACE FUNCTION tocsin_lead_senders(p_org bigint, OUT status int, OUT body json)
LANGUAGE sql STABLE AS $$
    SELECT 200, coalesce(json_agg(json_build_object('id', id, 'address', address, 'kind', kind,
                                                    'messages_per_second', messages_per_second)
                                  ORDER BY id), '[]')
      FROM senders WHERE org_id = p_org AND disabled_at IS NULL
$$;

-- A positive id from the API's text, or raises 22023 naming the field.
CREATE OR REPLACE FUNCTION tocsin_lead_id(p_text text, p_field text) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF p_text IS NULL OR p_text !~ '^[1-9][0-9]{0,17}$' THEN
        RAISE EXCEPTION '% is required: pick one', p_field USING ERRCODE = '22023';
    END IF;
    RETURN p_text::bigint;
END $$;

-- The filter of the compose form: a field and a value, or none.
CREATE OR REPLACE FUNCTION tocsin_lead_filter(p_field text, p_equals text) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN coalesce(btrim(p_field), '') = '' THEN '{}'::jsonb
                ELSE jsonb_build_object('field', btrim(p_field), 'equals', coalesce(p_equals, '')) END
$$;

CREATE OR REPLACE FUNCTION tocsin_lead_blast_create(p_org bigint, p_user bigint, p_sender text, p_list text,
                                         p_field text, p_equals text, p_body text,
                                         OUT status int, OUT body json)
LANGUAGE plpgsql AS $$
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

-- A blast as the progress view reads it: 006's exact counters plus the
-- list, the sender and its rate. No row for another org's blast (404).
CREATE OR REPLACE FUNCTION tocsin_lead_blast(p_org bigint, p_blast bigint)
RETURNS TABLE (status int, body json) LANGUAGE sql STABLE AS $$
    SELECT 200, (j || jsonb_build_object('list', l.name, 'sender', s.address,
                                         'messages_per_second', s.messages_per_second,
                                         'approval', tocsin_blast_approval_json(p_blast)))::json
      FROM (SELECT tocsin_blast_status(p_org, p_blast) AS j) x
      JOIN lists l ON l.id = (x.j->>'list_id')::bigint
      JOIN senders s ON s.id = (x.j->>'sender_id')::bigint
     WHERE x.j IS NOT NULL
$$;

-- schedule (p_at: ISO time, or NULL/'' for now), pause, resume, cancel:
-- 006's functions (each writes its audit event), then the blast.
CREATE OR REPLACE FUNCTION tocsin_lead_blast_action(p_org bigint, p_user bigint, p_blast bigint, p_action text,
                                         p_at text, OUT status int, OUT body json)
LANGUAGE plpgsql AS $$
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

CREATE OR REPLACE FUNCTION tocsin_lead_blasts(p_org bigint, OUT status int, OUT body json)
LANGUAGE sql STABLE AS $$
    SELECT 200, coalesce(json_agg(json_build_object(
               'id', b.id, 'state', b.state, 'body', b.body, 'list', l.name, 'recipients', b.recipients,
               'scheduled_at', b.scheduled_at, 'created_at', b.created_at, 'completed_at', b.completed_at)
           ORDER BY b.id DESC), '[]')
      FROM (SELECT * FROM blasts WHERE org_id = p_org ORDER BY id DESC LIMIT 200) b
      JOIN lists l ON l.id = b.list_id
$$;

CREATE OR REPLACE FUNCTION tocsin_lead_keywords(p_org bigint, OUT status int, OUT body json)
LANGUAGE sql STABLE AS $$
    SELECT 200, coalesce(json_agg(json_build_object(
               'id', k.id, 'keyword', k.keyword, 'pattern', k.pattern, 'reply', k.reply,
               'list_id', k.list_id, 'list', l.name, 'sender_id', k.sender_id, 'created_at', k.created_at)
           ORDER BY k.keyword, k.id), '[]')
      FROM keywords k JOIN lists l ON l.id = k.list_id WHERE k.org_id = p_org
$$;

-- ================================================ database words in answers
-- 009's answer for a refused lead request echoed SQLERRM: for a time the
-- server could not read, PostgreSQL's own words ('invalid input syntax for
-- type timestamp with time zone: "..."'). Messages our functions raise
-- (22023, P0002, 55000) are written for people and stay; a data exception
-- of the server's gets a plain sentence instead.
CREATE OR REPLACE FUNCTION tocsin_lead_error(p_state text, p_message text, OUT status int, OUT body json)
LANGUAGE sql IMMUTABLE AS $$
    SELECT s, tocsin_api_error(s, CASE s WHEN 400 THEN 'invalid' WHEN 404 THEN 'not_found' ELSE 'conflict' END,
                               CASE WHEN p_state IN ('22023', 'P0002', '55000') THEN p_message
                                    WHEN p_state IN ('22007', '22008')
                                    THEN 'invalid time: give a date and time such as 2026-12-24T18:00:00Z'
                                    ELSE 'invalid value: a field is not in the expected form' END)
      FROM (SELECT CASE WHEN p_state = 'P0002' THEN 404 WHEN p_state = '55000' THEN 409 ELSE 400 END AS s) x
$$;

CREATE OR REPLACE FUNCTION tocsin_lead_blast_preview(p_org bigint, p_sender text, p_list text, p_field text,
                                                     p_equals text, p_body text, OUT status int, OUT body json)
LANGUAGE plpgsql AS $$
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
END $$;

-- 009's stats with opt-outs defined so the two tables cannot disagree
-- about one member's STOP. Per blast, 'opted_out_after': recipients the
-- carrier took the blast's message for (sent, delivered, undelivered,
-- unknown) whose number opted out within p_days of the blast's start
-- (006's 'opted_out' counter, kept as 'opted_out_while_sending', counts
-- only those who stopped before their message went). Per keyword,
-- 'opted_out': members who joined by the keyword within p_days and whose
-- number has opted out since they joined. A member who joins by keyword,
-- gets a blast and texts STOP the next day counts 1 in both.
CREATE OR REPLACE FUNCTION tocsin_lead_stats(p_org bigint, p_days int, OUT status int, OUT body json)
LANGUAGE sql STABLE AS $$
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
