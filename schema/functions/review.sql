-- SPDX-License-Identifier: AGPL-3.0-or-later
-- review: a lead's Message review — every conversation of the org, open
-- and closed, filtered and paged by id (keyset: newest first, `before` the
-- last id seen, so rows added meanwhile never shift a page), bulk reassign
-- and bulk close of a bounded list of ids (all or nothing, one audit event
-- naming them, the usual NOTIFY per conversation), and the correction of
-- an outreach answer recorded by mistake. Each answers (status, body) as
-- the dashboard's routes do; the single-conversation actions stay in
-- dashboard/api_sql.h.
--
-- A repeatable file: edited in place; tocsinctl migrate applies it again
-- when it changes (schema/README.md).

-- A filter's id: NULL when absent or empty, else a positive integer or
-- 22023 naming the field.
CREATE OR REPLACE FUNCTION tocsin_review_id(p_text text, p_field text) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF p_text IS NULL OR p_text = '' THEN
        RETURN NULL;
    END IF;
    IF p_text !~ '^[1-9][0-9]{0,17}$' THEN
        RAISE EXCEPTION 'invalid %: "%" is not an id', p_field, left(p_text, 20) USING ERRCODE = '22023';
    END IF;
    RETURN p_text::bigint;
END $$;

-- A filter's date (YYYY-MM-DD, a UTC day), or NULL when absent.
CREATE OR REPLACE FUNCTION tocsin_review_date(p_text text, p_field text) RETURNS date
LANGUAGE plpgsql IMMUTABLE AS $$
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
END $$;

-- The body of a conversation's newest message, from the side that has it
-- (as dashboard_conversation_rows picks its last_message, but whole).
CREATE OR REPLACE FUNCTION tocsin_review_last_body(p_id bigint, p_in timestamptz, p_out timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN p_out > p_in OR p_in IS NULL
                THEN (SELECT m.body FROM messages m WHERE m.conversation_id = p_id
                       ORDER BY m.created_at DESC LIMIT 1)
                ELSE (SELECT i.body FROM inbound_messages i WHERE i.conversation_id = p_id
                       ORDER BY i.received_at DESC LIMIT 1) END $$;

-- The page of the org's conversations that p_f (a JSON object of text
-- values: campaign, tag, volunteer (an id or "none"), state (open,
-- closed), flagged (true, false), from, to (UTC days, both included), q
-- (at most 100 characters, matched anywhere in the last message, case
-- ignored, % and _ literal), before (the `next` of the previous page),
-- limit (1 to 100, default 50)) selects, newest first. The text search is
-- ILIKE on the last message read per candidate row: that body is not
-- stored on the conversation, so a trigram index would need a copy of it
-- kept by trigger; the scan walks the org's conversations by
-- (org_id, id) and stops at limit + 1 matches.
CREATE OR REPLACE FUNCTION tocsin_review_list(p_org bigint, p_f jsonb, OUT status int, OUT body json)
LANGUAGE plpgsql STABLE AS $$
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
END $$;

-- The conversations of p_ids (deduplicated) of the org, locked in id
-- order; raises P0002 naming how many are not the org's (another org's id
-- reads as one that does not exist).
CREATE OR REPLACE FUNCTION tocsin_review_lock(p_org bigint, p_ids bigint[]) RETURNS SETOF conversations
LANGUAGE plpgsql AS $$
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

-- Bulk reassign: every id must be an open conversation of the org (404
-- for any missing, 409 for any closed: nothing moves), p_to an enabled
-- user of the org (400), and a volunteer's cap (orgs.volunteer_max_conversations)
-- must hold with the ones she does not have yet added; her claims and
-- this move are serialised by the claim's advisory lock (dashboard.sql).
CREATE OR REPLACE FUNCTION tocsin_review_reassign(p_org bigint, p_user bigint, p_ids bigint[], p_to text,
                                                  OUT status int, OUT body json)
LANGUAGE plpgsql AS $$
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

-- Bulk close: every id must be a conversation of the org (404 for any
-- missing: nothing closes); the open ones close, each holder's stream
-- hears it, and one audit event names them all.
CREATE OR REPLACE FUNCTION tocsin_review_close(p_org bigint, p_user bigint, p_ids bigint[],
                                               OUT status int, OUT body json)
LANGUAGE plpgsql AS $$
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

-- A lead corrects the answer recorded at one step for the contact of a
-- conversation's outreach campaign: p_choice a choice of that step, or
-- NULL/'' to clear it. No row (404) when the conversation is not the
-- org's or came from no campaign; audited with the old and new choice.
CREATE OR REPLACE FUNCTION tocsin_review_answer(p_org bigint, p_user bigint, p_conv bigint, p_step text,
                                                p_choice text)
RETURNS TABLE (status int, body json) LANGUAGE plpgsql AS $$
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
