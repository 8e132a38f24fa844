-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 022_blast_confirm: what the lead confirms before a blast goes out, and
-- live progress. 009's preview now also says how many subscribers are
-- left out for an opt-out, how many recipients are in their quiet hours
-- right now (their messages wait for their morning), and the longest
-- rendering across the audience (its segments, characters and encoding),
-- so the confirm states what the members will really be charged for.
-- 009's stats define a blast's opt-outs and a keyword's so that they
-- agree (opted out within the window after the blast; joined by the
-- keyword and opted out since). A
-- NOTIFY on tocsin_blasts tells the dashboard's event stream that a
-- blast's figures or state changed.

-- How many members the longest-rendering scan looks at: about 0.3 s on a
-- 2-core machine, and a preview runs on every pause in typing. Beyond it
-- the preview says how many it checked ('longest_checked').
CREATE FUNCTION tocsin_blast_longest_scan() RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT 50000 $$;

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
    -- computes each message's window (005, 013): a contact's own zone when
    -- PostgreSQL knows it, else its number's zones.
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
                              THEN coalesce(tocsin_quiet_window_start(z.zones, z.quiet_end_hour, now()), now())
                              ELSE tocsin_quiet_window_start_zone(g.tz, z.quiet_end_hour, now()) END > now()), 0)
          FROM g JOIN phone_zones z ON z.prefix = g.prefix $q$, v_where)
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

-- A blast's figures or state changed: the tick folds counters once a
-- second (006), so this fires at most about once a second per sending
-- blast, plus once per lead action. The payload carries ids only.
CREATE FUNCTION tocsin_blast_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tocsin_blasts', json_build_object('org_id', NEW.org_id, 'blast_id', NEW.id)::text);
    RETURN NULL;
END $$;

CREATE TRIGGER blasts_notify AFTER UPDATE ON blasts FOR EACH ROW
    WHEN (OLD.state IS DISTINCT FROM NEW.state OR OLD.queued <> NEW.queued OR OLD.sending <> NEW.sending
          OR OLD.sent <> NEW.sent OR OLD.delivered <> NEW.delivered OR OLD.undelivered <> NEW.undelivered
          OR OLD.failed <> NEW.failed OR OLD.unknown <> NEW.unknown OR OLD.suppressed <> NEW.suppressed
          OR OLD.cancelled <> NEW.cancelled OR OLD.opted_out <> NEW.opted_out OR OLD.unfed <> NEW.unfed)
    EXECUTE FUNCTION tocsin_blast_notify();
