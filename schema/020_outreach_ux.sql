-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 020_outreach_ux: what the outreach pages need beyond 010. A volunteer's
-- sends are paced: one message per deliberate gesture, so a send that
-- comes implausibly soon after her previous one (a double click landing
-- on the next contact, a held key, two tabs) is refused, whatever the
-- browser did. 010's tocsin_outreach_send is called, not redefined. And a
-- new campaign starts as a draft.

-- When each volunteer last had an outreach message queued.
CREATE TABLE outreach_send_pace (
    user_id      bigint PRIMARY KEY,
    org_id       bigint NOT NULL,
    last_sent_at timestamptz NOT NULL,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);

-- tocsin_outreach_send, paced: a message that would be queued less than
-- p_min_interval_ms from the volunteer's previous queued send (either
-- side: a request that started first but waited for the lock is soon too)
-- is not queued, and the answer is (429, too_soon), audited as
-- outreach.send_refused. A send refused for another reason (not in her
-- batch, opted out, outside hours) keeps that reason. A per-volunteer
-- advisory lock serialises her sends and the pace row is read after it,
-- so two requests in parallel cannot both pass. p_min_interval_ms 0
-- turns pacing off.
CREATE FUNCTION tocsin_outreach_send_paced(p_org bigint, p_user bigint, p_campaign bigint, p_contact bigint,
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
            INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)
            VALUES (p_org, p_user, 'outreach.send_refused', 'outreach_campaign', p_campaign,
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

-- A new campaign is a draft until a lead starts it (state 'active'), so
-- volunteers never see one that has no audience yet; the list and the
-- sending view leave drafts out for them (api_outreach_routes.h).
ALTER TABLE outreach_campaigns ALTER COLUMN state SET DEFAULT 'draft';
