-- SPDX-License-Identifier: AGPL-3.0-or-later
-- people: the People screen's rules (issue 19; the dashboard's
-- api_people_sql.h and api_people.c): users' last activity, the org's
-- people and pending invites, a role changed, a password reset.
--
-- A repeatable file: edited in place; tocsinctl migrate applies it again
-- when it changes (schema/README.md).

-- A session's use is its user's activity: at most one users write a
-- minute per user (api.c slides a session at most every 15 seconds).
CREATE OR REPLACE FUNCTION tocsin_user_active() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users SET last_active_at = NEW.last_seen_at
     WHERE id = NEW.user_id AND (last_active_at IS NULL OR last_active_at < NEW.last_seen_at - interval '1 minute');
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER sessions_user_active AFTER INSERT OR UPDATE OF last_seen_at ON sessions
    FOR EACH ROW EXECUTE FUNCTION tocsin_user_active();

-- The People screen: the org's users (role, disabled, last activity,
-- whether a password is set, two-factor login, open sessions, national:
-- a national admin's acting account, schema 028, and visits: her sessions
-- acting through it now) and its pending invites
-- (a password reset names its user).
CREATE OR REPLACE FUNCTION tocsin_people(p_org bigint) RETURNS json LANGUAGE sql STABLE AS $$
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

-- An admin changes the role of a user of her org (not her own: an org
-- keeps the admin who is acting). 018's trigger ends the user's streams,
-- which reconnect scoped by the new role.
CREATE OR REPLACE FUNCTION tocsin_user_set_role(p_org bigint, p_admin bigint, p_user bigint, p_role text)
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
        PERFORM tocsin_audit(p_org, p_admin, 'user.role', 'user', p_user, jsonb_build_object('from', v_old, 'to', p_role));
    END IF;
    RETURN QUERY SELECT 200, json_build_object('user_id', p_user, 'role', p_role);
END $$;

-- An admin resets the password of a user of her org (not her own, not a
-- disabled one): the old password stops working at once, her sessions
-- end, and an invite bound to her (p_token_hash, seven days) lets her
-- choose a new one. Returns the invite's id; the caller shows the link.
CREATE OR REPLACE FUNCTION tocsin_user_reset_password(p_org bigint, p_admin bigint, p_user bigint, p_token_hash bytea)
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
