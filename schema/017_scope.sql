-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 017_scope: what one sender's credentials and one volunteer can reach,
-- in three parts: delivery receipts scoped to their sender and the pending
-- ones bounded (here); a cap on the conversations one volunteer holds, no
-- outreach send taking over another volunteer's conversation, and {phone}
-- masked for volunteers (further down); and the lead API's answers without
-- the server's own words (at the end).
--
-- Receipts: a delivery receipt moves only a message of the sender
-- whose credentials verified it. Until now tocsin_apply_receipt (004)
-- matched on (provider, provider message id) alone, so a status callback
-- signed with one org's Twilio token (or Telnyx key), naming another org's
-- message id, could mark that message failed or delivered; and a receipt
-- for an id no message has was kept in delivery_receipts_pending for good,
-- so made-up ids grew the table without bound. Now:
--  - receipts match on (provider, provider message id, sender): the
--    gateway passes the sender it verified the callback with. A receipt
--    for another sender's message changes nothing and is not kept
--    ('foreign');
--  - pending receipts carry their sender and match only its messages (at
--    the worker's record of ids, 012, and at its sweep, 014);
--  - pending receipts are bounded: a sender holding 10000 already gets no
--    more ('dropped'), and the worker's sweep drops those older than one
--    day (a receipt waits for an id the worker records within seconds of
--    the carrier's answer; a day is far past any carrier's retries) and
--    trims each sender to its newest 10000 (two transactions inserting at
--    once can both pass the check).
-- Pending receipts stored before this migration carry no sender: nothing
-- can say whose they are, so they are deleted (they wait seconds in normal
-- operation; the rest were receipts no message would ever claim).

DELETE FROM delivery_receipts_pending;
ALTER TABLE delivery_receipts_pending
    ADD COLUMN sender_id bigint NOT NULL REFERENCES senders (id) ON DELETE CASCADE;
DROP INDEX receipts_pending_lookup;
CREATE INDEX receipts_pending_lookup ON delivery_receipts_pending (provider, provider_message_id, sender_id);
-- The cap per sender and the trim (newest first), and the age sweep.
CREATE INDEX receipts_pending_sender ON delivery_receipts_pending (sender_id, received_at);
CREATE INDEX receipts_pending_age ON delivery_receipts_pending (received_at);

-- The bounds, in one place for the functions below.
CREATE FUNCTION tocsin_receipts_pending_cap() RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT 10000 $$;
CREATE FUNCTION tocsin_receipts_pending_max_age() RETURNS interval LANGUAGE sql IMMUTABLE AS
$$ SELECT interval '1 day' $$;

DROP FUNCTION tocsin_apply_receipt_batch(text[], text[], text[], text[], jsonb[]);
DROP FUNCTION tocsin_apply_receipt(text, text, text, text, jsonb);

-- 004's function, scoped to p_sender_id. Outcomes: 'applied', 'stale' (the
-- message is already that far), 'ignored' (a status we do not track),
-- 'pending' (no message has the id yet), 'foreign' (another sender's
-- message has it: nothing done), 'dropped' (the sender has too many
-- pending receipts already).
CREATE FUNCTION tocsin_apply_receipt(p_provider text, p_message_id text, p_sender_id bigint, p_status text,
                                     p_error_code text, p_payload jsonb)
RETURNS text LANGUAGE plpgsql AS $$
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
    UPDATE messages SET state = v_state, error_code = coalesce(p_error_code, error_code), updated_at = now(),
           finalized_at = CASE WHEN tocsin_message_rank(v_state) = 3 THEN now() ELSE finalized_at END
     WHERE provider = p_provider AND provider_message_id = p_message_id AND sender_id = p_sender_id
       AND tocsin_message_rank(state) < tocsin_message_rank(v_state)
    RETURNING id INTO v_id;
    IF v_id IS NOT NULL THEN
        RETURN 'applied';
    END IF;
    SELECT sender_id INTO v_owner FROM messages WHERE provider = p_provider AND provider_message_id = p_message_id;
    IF FOUND THEN
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

-- 007's batch, with the senders.
CREATE FUNCTION tocsin_apply_receipt_batch(p_provider text[], p_message_id text[], p_sender_id bigint[],
                                           p_status text[], p_error_code text[], p_payload jsonb[])
RETURNS TABLE (outcome text, ord int)
LANGUAGE plpgsql AS $$
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

-- 014's sweep: applies pending receipts to their own sender's messages,
-- drops those that can never match (another sender's message has the id)
-- or are older than a day, and trims each sender to its newest 10000.
CREATE OR REPLACE FUNCTION tocsin_receipts_rematch() RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    v_receipt record;
    v_count int := 0;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM delivery_receipts_pending) THEN
        RETURN 0;
    END IF;
    DELETE FROM delivery_receipts_pending WHERE received_at < now() - tocsin_receipts_pending_max_age();
    DELETE FROM delivery_receipts_pending p
     USING messages m
     WHERE p.provider = m.provider AND p.provider_message_id = m.provider_message_id
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
         USING messages m
         WHERE p.provider = m.provider AND p.provider_message_id = m.provider_message_id
           AND p.sender_id = m.sender_id
        RETURNING p.*
    LOOP
        PERFORM tocsin_apply_receipt(v_receipt.provider, v_receipt.provider_message_id, v_receipt.sender_id,
                                     v_receipt.status, v_receipt.error_code, v_receipt.payload);
        v_count := v_count + 1;
    END LOOP;
    RETURN v_count;
END $$;

-- 012's record of outcomes, unchanged but for its last step: receipts that
-- came before the ids were recorded match on the sender too.
CREATE OR REPLACE FUNCTION tocsin_record_outcomes(p_worker text, p_ids bigint[], p_kinds text[],
                                                  p_provider_ids text[], p_codes text[], p_errors text[],
                                                  p_retry_ms int[], p_opt_outs boolean[])
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    v_changed int;
    v_receipt record;
    v_nestloop text := current_setting('enable_nestloop');
BEGIN
    PERFORM set_config('enable_nestloop', 'off', true);
    WITH o AS (
        SELECT * FROM unnest(p_ids, p_kinds, p_provider_ids, p_codes, p_errors, p_retry_ms, p_opt_outs)
                 AS t(id, kind, provider_id, code, error, retry_ms, opt_out)
    )
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
        claimed_by = CASE WHEN o.kind = 'retry' THEN NULL ELSE m.claimed_by END,
        lease_until = NULL,
        sent_at = CASE WHEN o.kind = 'sent' THEN now() ELSE m.sent_at END,
        finalized_at = CASE WHEN o.kind = 'failed' THEN now() ELSE m.finalized_at END,
        updated_at = now()
      FROM o
     WHERE m.id = ANY (p_ids) AND m.id = o.id  -- the ANY keeps it an index scan
       AND m.claimed_by = p_worker AND m.state IN ('sending', 'unknown');
    GET DIAGNOSTICS v_changed = ROW_COUNT;
    PERFORM set_config('enable_nestloop', v_nestloop, true);

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
    UPDATE messages m SET state = 'cancelled', updated_at = now(), finalized_at = now()
      FROM gone g
     WHERE m.org_id = g.org_id AND m.to_phone = g.to_phone AND m.state = 'queued';
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

-- ================================================ what a volunteer holds and sees
-- A volunteer could read the whole waiting pool: a claim took up to 50
-- conversations a time with no bound on what she held, so a few clicks
-- (or a loop) showed every member waiting, with names and messages. An
-- outreach send took over the open conversation with its contact even when
-- another volunteer was answering it. And a script's {phone} was filled in
-- with the member's full number, which the inbox and the conversation view
-- already hid from volunteers (tocsin_dashboard_phone, 008).

-- The org's cap on the open conversations one volunteer holds (claimed,
-- assigned, or opened by her outreach sends). Claims stop there; lowering
-- it takes nothing away.
ALTER TABLE orgs ADD COLUMN volunteer_max_conversations int NOT NULL DEFAULT 25
    CHECK (volunteer_max_conversations BETWEEN 1 AND 500);

-- The next conversations of the pool for the caller, oldest first, in one
-- call: up to p_count (1 to 50, default 5), and for a volunteer no more
-- than her org's cap minus what she holds. Her claims are serialised by an
-- advisory lock and each statement after it sees the claims committed
-- before it, so claims running at once cannot pass the cap together (a
-- single SQL statement would count with a snapshot taken before the
-- wait). SKIP LOCKED keeps two volunteers off the same conversation, and
-- the re-check of assignee_id under the row lock keeps a taken one taken.
CREATE FUNCTION tocsin_conversations_claim(p_org bigint, p_user bigint, p_role text, p_count int)
RETURNS json LANGUAGE plpgsql AS $$
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

-- A body with its {fields} filled in for one contact as the caller may see
-- it: a volunteer's {phone} is the masked number (tocsin_dashboard_phone),
-- like everywhere else she looks. For scripts shown in the dashboard; the
-- worker renders blasts with tocsin_blast_render_sql over contacts itself.
CREATE FUNCTION tocsin_contact_render(p_body text, p_contact bigint, p_role text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_out text;
BEGIN
    EXECUTE format('SELECT %s FROM (SELECT x.first_name, x.last_name, x.zip, x.timezone, x.fields,'
                   ' tocsin_dashboard_phone(x.phone, $2) AS phone FROM contacts x WHERE x.id = $1) c',
                   tocsin_blast_render_sql(p_body))
       INTO v_out USING p_contact, p_role;
    RETURN v_out;
END $$;

-- 010's next contact, with the caller's role: a volunteer sees the masked
-- number and a script whose {phone} is masked; leads and admins the number.
DROP FUNCTION tocsin_outreach_next(bigint, bigint, bigint, timestamptz);
CREATE FUNCTION tocsin_outreach_next(p_org bigint, p_user bigint, p_role text, p_campaign bigint,
                                     p_now timestamptz)
RETURNS TABLE (status int, body json) LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_camp outreach_campaigns;
    v_left int;
    v_b outreach_batch;
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
            'id', v_b.contact_id, 'first_name', v_b.first_name, 'last_name', v_b.last_name,
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
    INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)
    VALUES (p_org, p_user, 'outreach.answer', 'conversation', p_conv,
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
    INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)
    VALUES (p_org, p_user, 'outreach.send', 'message', v_msg,
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
