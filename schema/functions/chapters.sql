-- SPDX-License-Identifier: AGPL-3.0-or-later
-- chapters: a national org's admin and its chapters (schema 028; the
-- dashboard's api_chapters.c): the list, a chapter created, its first
-- admin invited, and acting in a chapter as an explicit, audited step
-- with a reason and a bounded window, and leaving it. Every change is
-- audited in both orgs: the national org's trail says which admin did what
-- to which chapter, the chapter's says what the national body did in it.
--
-- A repeatable file: edited in place; tocsinctl migrate applies it again
-- when it changes (schema/README.md).

-- The org's chapters, for its admin ($1, $2 of the dashboard); 404 when
-- the org is not a national one (a chapter's admin, or acting in one).
CREATE OR REPLACE FUNCTION tocsin_chapters(p_org bigint)
RETURNS TABLE (status int, body json) LANGUAGE sql STABLE AS $$
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

-- The chapter p_chapter of the national org p_org, locked, or NULL.
CREATE OR REPLACE FUNCTION tocsin_chapter_of(p_org bigint, p_chapter bigint) RETURNS orgs
    LANGUAGE sql AS $$
    SELECT c.* FROM orgs c JOIN orgs n ON n.id = c.parent_org_id
     WHERE c.id = p_chapter AND c.parent_org_id = p_org AND n.national FOR UPDATE OF c
$$;

-- A national admin creates a chapter: its name (1-200 characters), slug
-- (the short name tocsinctl and the carrier console use) and phone region
-- (schema 037; NULL: TOCSIN_DEFAULT_REGION; a code libphonenumber knows,
-- checked by the caller, api_chapters.c; here only its shape).
DROP FUNCTION IF EXISTS tocsin_chapter_create(bigint, bigint, text, text);
CREATE OR REPLACE FUNCTION tocsin_chapter_create(p_org bigint, p_admin bigint, p_name text, p_slug text,
                                                 p_region text)
RETURNS TABLE (status int, body json) LANGUAGE plpgsql AS $$
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
END $$;

-- A national admin invites an admin of one of its chapters: an invite of
-- the chapter (role admin, seven days, made by no user of the chapter),
-- whose link the caller shows once.
CREATE OR REPLACE FUNCTION tocsin_chapter_invite(p_org bigint, p_admin bigint, p_chapter bigint, p_email text,
                                                 p_token_hash bytea)
RETURNS TABLE (status int, body json) LANGUAGE plpgsql AS $$
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
END $$;

-- The end of a session's acting window on the record of both orgs:
-- expired when it had run out by itself, session_ended when the session
-- ended with it (logout, the user disabled: sessions_acting_ended). A row
-- whose user is being deleted with it is not written.
CREATE OR REPLACE FUNCTION tocsin_chapter_left(p_s sessions, p_session_ended boolean) RETURNS void
    LANGUAGE sql AS $$
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

-- Ends a session's acting window (if it has one), on the record. Returns
-- the chapter.
CREATE OR REPLACE FUNCTION tocsin_chapter_window_end(p_session sessions) RETURNS bigint
    LANGUAGE plpgsql AS $$
BEGIN
    IF p_session.acting_org_id IS NULL THEN
        RETURN NULL;
    END IF;
    UPDATE sessions SET acting_org_id = NULL, acting_user_id = NULL, acting_until = NULL WHERE id = p_session.id;
    PERFORM tocsin_chapter_left(p_session, false);
    RETURN p_session.acting_org_id;
END $$;

-- A session that ends while it has a window (logout, log out everywhere,
-- its user disabled or her password reset) leaves the chapter on the
-- record too.
CREATE OR REPLACE FUNCTION tocsin_session_acting_ended() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM tocsin_chapter_left(OLD, true);
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER sessions_acting_ended AFTER DELETE ON sessions
    FOR EACH ROW WHEN (OLD.acting_org_id IS NOT NULL) EXECUTE FUNCTION tocsin_session_acting_ended();

-- A national admin acts in one of its chapters: with a reason (3-500
-- characters) for p_minutes (5-240), her session p_session (the caller's
-- own: p_org and p_admin are its own org and user, so a session already
-- acting in a chapter must leave first) is scoped to the chapter through
-- her acting account there, made on first use, enabled and made an admin
-- again on every entry (the national body's authority is over the
-- chapter's; the chapter's admins see it, and both trails say why).
CREATE OR REPLACE FUNCTION tocsin_chapter_enter(p_org bigint, p_admin bigint, p_session bigint, p_chapter bigint,
                                                p_reason text, p_minutes int)
RETURNS TABLE (status int, body json) LANGUAGE plpgsql AS $$
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

-- Leaves the chapter the session acts in (a window that already ran out
-- is closed on the record too); nothing to leave is not an error.
CREATE OR REPLACE FUNCTION tocsin_chapter_leave(p_session bigint)
RETURNS TABLE (status int, body json) LANGUAGE plpgsql AS $$
DECLARE
    v_s sessions;
    v_chapter bigint;
BEGIN
    SELECT * INTO v_s FROM sessions s WHERE s.id = p_session FOR UPDATE;
    v_chapter := tocsin_chapter_window_end(v_s);
    RETURN QUERY SELECT 200, json_build_object('left', v_chapter IS NOT NULL, 'chapter_id', v_chapter);
END $$;

-- The acting account signs in nowhere: no password (schema 028's check),
-- and no session, authenticator or recovery code of its own either. The
-- dashboard never asks for one (a session acting in a chapter reaches
-- her own account's sessions and two-factor login, or is refused:
-- api.c's API_OWN and API_NOT_ACTING); this holds even for a statement
-- that reached the database with the acting account's id, e.g. a request
-- whose window ran out in flight.
CREATE OR REPLACE FUNCTION tocsin_acting_account_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM users u WHERE u.id = NEW.user_id AND u.national_user_id IS NOT NULL) THEN
        RAISE EXCEPTION 'a national admin''s acting account has no % of its own: she signs in to her own organisation',
            TG_ARGV[0] USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE TRIGGER sessions_not_acting_account BEFORE INSERT OR UPDATE OF user_id ON sessions
    FOR EACH ROW EXECUTE FUNCTION tocsin_acting_account_guard('sessions');
CREATE OR REPLACE TRIGGER user_totp_not_acting_account BEFORE INSERT OR UPDATE OF user_id ON user_totp
    FOR EACH ROW EXECUTE FUNCTION tocsin_acting_account_guard('authenticator');
CREATE OR REPLACE TRIGGER recovery_codes_not_acting_account BEFORE INSERT OR UPDATE OF user_id ON recovery_codes
    FOR EACH ROW EXECUTE FUNCTION tocsin_acting_account_guard('recovery codes');

-- A chapter's admin ends the visits of a national admin's acting account
-- p_user of her org p_org (People, "end sessions"): the windows of the
-- sessions acting as it close, on the record as every leaving is. The
-- sessions themselves are the national org's and go on there: the
-- chapter's authority ends at its own door. Returns how many ended.
CREATE OR REPLACE FUNCTION tocsin_acting_visits_end(p_org bigint, p_user bigint) RETURNS int
    LANGUAGE plpgsql AS $$
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
