-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 023_self_service: what an admin does from the dashboard instead of a
-- shell (issue 19): bring an opt-out list from Spoke or a vendor (an
-- import batch of kind 'opt_outs' is its evidence), export the org's
-- opt-outs, undo one opt-out with a reason, and manage people (invites
-- that reset a password, revoked invites, last activity).

-- What an import batch brought: contacts (lib/contacts_import) or an
-- opt-out list (the same engine, opts->opt_outs).
ALTER TABLE import_batches ADD COLUMN kind text NOT NULL DEFAULT 'contacts'
    CHECK (kind IN ('contacts', 'opt_outs'));

-- The undo rule asks whether a number sent STOP since its opt-out began
-- (a STOP from a number already opted out is kept as an inbound message
-- with intent 'opt_out' and no new consent event).
CREATE INDEX inbound_messages_from ON inbound_messages (org_id, from_phone, received_at);

-- People: when each user was last active (her sessions' use, kept after
-- they end), and invites that reset an existing user's password instead
-- of making a new user.
ALTER TABLE users ADD COLUMN last_active_at timestamptz;
ALTER TABLE invites ADD COLUMN user_id bigint;
ALTER TABLE invites ADD FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE;
CREATE INDEX invites_org_pending ON invites (org_id, expires_at) WHERE used_at IS NULL;
UPDATE users u SET last_active_at = s.seen
  FROM (SELECT user_id, max(last_seen_at) AS seen FROM sessions GROUP BY user_id) s
 WHERE s.user_id = u.id;

-- ===================================================================
-- FUNCTIONS of 023 (to move to schema/functions/ at merge)
-- ===================================================================

-- Why an admin may not undo the opt-out of p_phone, or NULL when she may:
-- no opt-out; or the number's own STOP (source keyword or carrier) is its
-- latest event — the opt-out came from the member or the carrier, or the
-- member sent a stop word after it began. Only the member can undo that,
-- by texting START.
CREATE FUNCTION tocsin_opt_out_undo_refusal(p_org bigint, p_phone text) RETURNS text
LANGUAGE sql STABLE AS $$
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

-- An admin's undo of one opt-out (p_phone already E.164, p_reason
-- checked by the caller): the opt-out goes, an opt_in consent event of
-- source 'admin' records who and why, the subscriptions that opt-out
-- ended come back (as START gives them back), and the audit event keeps
-- the reason. Serialised with the number's inbound messages (019's
-- advisory lock), so a STOP arriving at the same moment is either seen
-- here (refused) or applied after (opted out again).
CREATE FUNCTION tocsin_opt_out_undo(p_org bigint, p_user bigint, p_phone text, p_reason text)
RETURNS TABLE (status int, body json) LANGUAGE plpgsql AS $$
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
    INSERT INTO audit_events (org_id, user_id, action, subject_type, details)
    VALUES (p_org, p_user, 'opt_out.undo', 'phone',
            jsonb_build_object('phone', p_phone, 'source', v_source, 'reason', p_reason,
                               'lists_restored', v_lists));
    RETURN QUERY SELECT 200, json_build_object('phone', p_phone, 'opted_out', false,
                                               'lists_restored', v_lists);
END $$;

-- One number's opt-out as the undo screen shows it: the opt-out, whether
-- it may be undone and why not, and its last 20 consent events.
CREATE FUNCTION tocsin_opt_out_show(p_org bigint, p_phone text) RETURNS json
LANGUAGE sql STABLE AS $$
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

-- A session's use is its user's activity: at most one users write a
-- minute per user (api.c slides a session at most every 15 seconds).
CREATE FUNCTION tocsin_user_active() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users SET last_active_at = NEW.last_seen_at
     WHERE id = NEW.user_id AND (last_active_at IS NULL OR last_active_at < NEW.last_seen_at - interval '1 minute');
    RETURN NULL;
END $$;
CREATE TRIGGER sessions_user_active AFTER INSERT OR UPDATE OF last_seen_at ON sessions
    FOR EACH ROW EXECUTE FUNCTION tocsin_user_active();

-- The People screen: the org's users (role, disabled, last activity,
-- whether a password is set) and its pending invites (a password reset
-- names its user).
CREATE FUNCTION tocsin_people(p_org bigint) RETURNS json LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'users', (SELECT coalesce(json_agg(json_build_object(
                      'id', u.id, 'email', u.email, 'display_name', u.display_name, 'role', u.role,
                      'disabled', u.disabled_at IS NOT NULL, 'password_set', u.password_hash IS NOT NULL,
                      'last_active_at', u.last_active_at, 'created_at', u.created_at)
                      ORDER BY u.disabled_at IS NOT NULL, lower(u.display_name), u.id), '[]')
                    FROM users u WHERE u.org_id = p_org),
        'invites', (SELECT coalesce(json_agg(json_build_object(
                        'id', i.id, 'email', i.email, 'role', i.role, 'user_id', i.user_id,
                        'created_at', i.created_at, 'expires_at', i.expires_at)
                        ORDER BY i.created_at DESC, i.id DESC), '[]')
                      FROM invites i WHERE i.org_id = p_org AND i.used_at IS NULL AND i.expires_at > now()))
$$;

-- An admin changes the role of a user of her org (not her own: an org
-- keeps the admin who is acting). 018's trigger ends the user's streams,
-- which reconnect scoped by the new role.
CREATE FUNCTION tocsin_user_set_role(p_org bigint, p_admin bigint, p_user bigint, p_role text)
RETURNS TABLE (status int, body json) LANGUAGE plpgsql AS $$
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
        INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)
        VALUES (p_org, p_admin, 'user.role', 'user', p_user, jsonb_build_object('from', v_old, 'to', p_role));
    END IF;
    RETURN QUERY SELECT 200, json_build_object('user_id', p_user, 'role', p_role);
END $$;

-- An admin resets the password of a user of her org (not her own, not a
-- disabled one): the old password stops working at once, her sessions
-- end, and an invite bound to her (p_token_hash, seven days) lets her
-- choose a new one. Returns the invite's id; the caller shows the link.
CREATE FUNCTION tocsin_user_reset_password(p_org bigint, p_admin bigint, p_user bigint, p_token_hash bytea)
RETURNS TABLE (status int, body json) LANGUAGE plpgsql AS $$
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
    UPDATE users SET password_hash = NULL WHERE id = p_user;
    DELETE FROM sessions WHERE user_id = p_user;
    -- One live reset link per user: an earlier one stops working.
    UPDATE invites SET expires_at = now() WHERE user_id = p_user AND used_at IS NULL AND expires_at > now();
    INSERT INTO invites (org_id, token_hash, email, role, created_by, expires_at, user_id)
    VALUES (p_org, p_token_hash, v_u.email, v_u.role, p_admin, now() + interval '7 days', p_user)
    RETURNING id INTO v_invite;
    INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)
    VALUES (p_org, p_admin, 'user.reset_password', 'user', p_user, jsonb_build_object('invite_id', v_invite));
    RETURN QUERY SELECT 201, json_build_object('user_id', p_user, 'invite_id', v_invite);
END $$;
