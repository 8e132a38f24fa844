-- SPDX-License-Identifier: AGPL-3.0-or-later
-- outreach: peer-to-peer campaigns — scripts, the volunteer's next
-- contact, answers, paced sends, releases when a volunteer leaves, and
-- the import check.
--
-- A repeatable file: edited in place; tocsinctl migrate applies it again
-- when it changes (schema/README.md).

CREATE OR REPLACE FUNCTION tocsin_outreach_opted_out(p_org bigint, p_contact bigint) RETURNS boolean
    LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM contacts c JOIN opt_outs o ON o.org_id = c.org_id AND o.phone = c.phone
                    WHERE c.id = p_contact AND c.org_id = p_org) $$;

-- Why a script is invalid, or NULL: 1 to 1600 characters, braces only as
-- {field} or {field|fallback} (the blasts' rendering, 006).
CREATE OR REPLACE FUNCTION tocsin_outreach_script_error(p_script text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_script IS NULL OR length(p_script) = 0 OR length(p_script) > 1600
                THEN 'must be 1 to 1600 characters'
                WHEN regexp_replace(p_script, tocsin_blast_field_re(), '', 'g') ~ '[{}]'
                THEN 'braces are for fields only: {name} or {name|fallback}'
           END $$;

-- True when p_at is inside the texting hours of every zone the number may
-- be in: [p_start:00, p_end:00) local, the end no later than the number's
-- own quiet-hours end (20 in Florida and Oklahoma).
CREATE OR REPLACE FUNCTION tocsin_outreach_in_hours(p_phone text, p_timezone text, p_start int, p_end int,
                                         p_at timestamptz) RETURNS boolean
    LANGUAGE sql STABLE AS $$
    SELECT coalesce(bool_and(extract(hour FROM p_at AT TIME ZONE z) >= p_start
                             AND extract(hour FROM p_at AT TIME ZONE z) < least(p_end, r.quiet_end_hour)), false)
      FROM tocsin_recipient_zones(p_phone, p_timezone) r, unnest(r.zones) z $$;

-- The end of the contact's window today, earliest over its zones (the
-- message's validity: still queued at the carrier by then, it expires).
CREATE OR REPLACE FUNCTION tocsin_outreach_hours_end(p_phone text, p_timezone text, p_end int, p_at timestamptz)
    RETURNS timestamptz LANGUAGE sql STABLE AS $$
    SELECT min((date_trunc('day', p_at AT TIME ZONE z) + make_interval(hours => least(p_end, r.quiet_end_hour)))
               AT TIME ZONE z)
      FROM tocsin_recipient_zones(p_phone, p_timezone) r, unnest(r.zones) z $$;

CREATE OR REPLACE FUNCTION tocsin_outreach_campaign_json(c outreach_campaigns) RETURNS json LANGUAGE sql STABLE AS $$
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

-- A campaign, in the org's texting hours unless given its own. Returns
-- (201, campaign) or (422, error).
CREATE OR REPLACE FUNCTION tocsin_outreach_create(p_org bigint, p_user bigint, p_name text, p_sender bigint,
                                                  p_script text, p_batch_size int, p_hours_start int, p_hours_end int)
RETURNS TABLE (status int, body json) LANGUAGE plpgsql AS $$
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

-- Edits what is given (NULL: unchanged). Returns (200, campaign).
CREATE OR REPLACE FUNCTION tocsin_outreach_update(p_org bigint, p_user bigint, p_campaign bigint, p_name text,
                                       p_script text, p_batch_size int, p_hours_start int, p_hours_end int,
                                       p_state text)
RETURNS TABLE (status int, body json) LANGUAGE plpgsql AS $$
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

-- Appends a step: a question and its choices, a JSON array of
-- {"label": ..., "next_script": ...}. Returns (201, campaign).
CREATE OR REPLACE FUNCTION tocsin_outreach_step_add(p_org bigint, p_campaign bigint, p_question text, p_choices jsonb)
RETURNS TABLE (status int, body json) LANGUAGE plpgsql AS $$
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

-- Progress of a campaign: not yet texted (pending, in batches), texted,
-- replied, opted out, and the answers counted per question.
CREATE OR REPLACE FUNCTION tocsin_outreach_progress(p_org bigint, p_campaign bigint) RETURNS json
    LANGUAGE sql STABLE AS $$
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

-- A lead gives unsent batches back: every claimed target of the campaign
-- (or only p_volunteer's) is pending again. Returns (200, {released}).
CREATE OR REPLACE FUNCTION tocsin_outreach_release(p_org bigint, p_user bigint, p_campaign bigint, p_volunteer bigint)
RETURNS TABLE (status int, body json) LANGUAGE plpgsql AS $$
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

-- Tops the volunteer's batch up to the campaign's batch size in ONE
-- statement: SKIP LOCKED makes two volunteers claiming at once take
-- different contacts, the state re-check under the row lock keeps a
-- contact taken meanwhile from being taken again, and opted-out numbers
-- are never claimed (nor counted in the batch). Returns (200, {claimed,
-- in_batch}).
CREATE OR REPLACE FUNCTION tocsin_outreach_claim(p_org bigint, p_user bigint, p_campaign bigint)
RETURNS TABLE (status int, body json) LANGUAGE plpgsql AS $$
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

-- The volunteer's contacts still to text in a campaign, in batch order
-- (skipped ones last), opted-out numbers left out.
CREATE OR REPLACE VIEW outreach_batch AS
SELECT t.org_id, t.campaign_id, t.contact_id, t.claimed_by, t.claimed_at, t.skipped_at,
       c.phone, c.first_name, c.last_name, c.timezone
  FROM outreach_targets t JOIN contacts c ON c.id = t.contact_id
 WHERE t.state = 'claimed'
   AND NOT EXISTS (SELECT 1 FROM opt_outs o WHERE o.org_id = c.org_id AND o.phone = c.phone);

-- Puts a contact at the end of the volunteer's batch. (200, {skipped}).
CREATE OR REPLACE FUNCTION tocsin_outreach_skip(p_org bigint, p_user bigint, p_campaign bigint, p_contact bigint,
                                     p_now timestamptz)
RETURNS TABLE (status int, body json) LANGUAGE sql AS $$
    UPDATE outreach_targets SET skipped_at = p_now
     WHERE campaign_id = p_campaign AND contact_id = p_contact AND org_id = p_org
       AND claimed_by = p_user AND state = 'claimed'
    RETURNING 200, json_build_object('skipped', contact_id) $$;

-- The campaign a conversation came from, with its steps, the answers
-- recorded so far, or NULL when none (or the caller may not see it).
CREATE OR REPLACE FUNCTION tocsin_outreach_for_conversation(p_org bigint, p_user bigint, p_role text, p_conv bigint)
RETURNS json LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'campaign', tocsin_outreach_campaign_json(oc), 'contact_id', t.contact_id,
        'answers', (SELECT coalesce(json_object_agg(a.step_id, a.choice_id), '{}')
                      FROM outreach_answers a WHERE a.campaign_id = t.campaign_id AND a.contact_id = t.contact_id))
      FROM conversations cv
      JOIN outreach_targets t ON t.conversation_id = cv.id
      JOIN outreach_campaigns oc ON oc.id = t.campaign_id
     WHERE cv.id = p_conv AND cv.org_id = p_org AND (p_role <> 'volunteer' OR cv.assignee_id = p_user)
     ORDER BY t.texted_at DESC LIMIT 1 $$;

-- lib/contacts_import adds the imported contacts as pending targets of a
-- campaign in its own transaction (no subscription, no consent event):
-- opted-out numbers are added too (the claim skips them, progress counts
-- them). This is its check that the campaign is the org's.
CREATE OR REPLACE FUNCTION tocsin_outreach_import_check(p_org bigint, p_campaign bigint) RETURNS bigint
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM outreach_campaigns WHERE id = p_campaign AND org_id = p_org) THEN
        RAISE EXCEPTION 'outreach campaign % does not exist', p_campaign USING ERRCODE = '22023';
    END IF;
    RETURN p_campaign;
END $$;

CREATE OR REPLACE FUNCTION tocsin_outreach_next(p_org bigint, p_user bigint, p_role text, p_campaign bigint,
                                     p_now timestamptz)
RETURNS TABLE (status int, body json) LANGUAGE plpgsql STABLE AS $$
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

-- 010's answer: the next script filled in as the caller may see it.
CREATE OR REPLACE FUNCTION tocsin_outreach_answer(p_org bigint, p_user bigint, p_role text, p_conv bigint, p_choice bigint)
RETURNS TABLE (status int, body json) LANGUAGE plpgsql AS $$
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

-- 010's send: never takes over a conversation another volunteer holds
-- (409 assigned_elsewhere; the contact stays in the sender's batch).
CREATE OR REPLACE FUNCTION tocsin_outreach_send(p_org bigint, p_user bigint, p_campaign bigint, p_contact bigint,
                                     p_body text, p_encoding text, p_segments int, p_now timestamptz)
RETURNS TABLE (status int, body json) LANGUAGE plpgsql AS $$
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

-- tocsin_outreach_send, paced: a message that would be queued less than
-- p_min_interval_ms from the volunteer's previous queued send (either
-- side: a request that started first but waited for the lock is soon too)
-- is not queued, and the answer is (429, too_soon), audited as
-- outreach.send_refused. A send refused for another reason (not in her
-- batch, opted out, outside hours) keeps that reason. A per-volunteer
-- advisory lock serialises her sends and the pace row is read after it,
-- so two requests in parallel cannot both pass. p_min_interval_ms 0
-- turns pacing off.
CREATE OR REPLACE FUNCTION tocsin_outreach_send_paced(p_org bigint, p_user bigint, p_campaign bigint, p_contact bigint,
                                           p_body text, p_encoding text, p_segments int, p_now timestamptz,
                                           p_min_interval_ms int)
RETURNS TABLE (status int, body json) LANGUAGE plpgsql AS $$
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
