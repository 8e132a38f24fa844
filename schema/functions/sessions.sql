-- SPDX-License-Identifier: AGPL-3.0-or-later
-- sessions: sessions end with their user, and the NOTIFYs the daemons'
-- caches and open streams depend on (tocsin_sessions, tocsin_senders).
--
-- A repeatable file: edited in place; tocsinctl migrate applies it again
-- when it changes (schema/README.md).

-- When a user is disabled, her open conversations go back to the pool
-- (replies then wait there) and her unsent batches back to pending.
CREATE OR REPLACE FUNCTION tocsin_user_disabled() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE OR REPLACE TRIGGER users_disabled_release AFTER UPDATE OF disabled_at ON users
    FOR EACH ROW WHEN (OLD.disabled_at IS NULL AND NEW.disabled_at IS NOT NULL)
    EXECUTE FUNCTION tocsin_user_disabled();

CREATE OR REPLACE FUNCTION tocsin_user_sessions_end() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM sessions WHERE user_id = NEW.id;
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER users_disabled_sessions AFTER UPDATE OF disabled_at ON users
    FOR EACH ROW WHEN (OLD.disabled_at IS NULL AND NEW.disabled_at IS NOT NULL)
    EXECUTE FUNCTION tocsin_user_sessions_end();

CREATE OR REPLACE FUNCTION tocsin_notify_sessions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tocsin_sessions', '');
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER sessions_deleted_notify AFTER DELETE ON sessions
    FOR EACH STATEMENT EXECUTE FUNCTION tocsin_notify_sessions();

CREATE OR REPLACE TRIGGER users_access_notify AFTER UPDATE OF role, disabled_at ON users
    FOR EACH STATEMENT EXECUTE FUNCTION tocsin_notify_sessions();

CREATE OR REPLACE FUNCTION tocsin_notify_senders() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tocsin_senders', '');
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER senders_changed_notify AFTER INSERT OR UPDATE OR DELETE ON senders
    FOR EACH STATEMENT EXECUTE FUNCTION tocsin_notify_senders();

-- What a session may reach: its own org, user and role, or, while a
-- national admin acts in one of her org's chapters (schema 028), the
-- chapter and her acting account there. The window holds only while it
-- lasts, the acting account is enabled and hers, the chapter is still her
-- org's, and she is still an admin. The dashboard reads every session
-- through this view (dashboard/api.c on each request, events.c when it
-- rechecks open streams): one scoping rule for both. The home_* columns
-- are the session's own account, which her own sessions and two-factor
-- login belong to, acting or not.
CREATE OR REPLACE VIEW tocsin_session_scopes AS
SELECT s.id, s.token_hash, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at,
       s.org_id AS home_org_id, s.user_id AS home_user_id,
       coalesce(c.org_id, s.org_id) AS org_id, coalesce(c.id, s.user_id) AS user_id,
       coalesce(c.role, u.role) AS role, c.id IS NOT NULL AS acting,
       s.stage, -- schema 030: 'full', or the second factor still owed
       u.role AS home_role -- the session's own account's (API_OWN routes)
  FROM sessions s
  JOIN users u ON u.org_id = s.org_id AND u.id = s.user_id AND u.disabled_at IS NULL
  LEFT JOIN LATERAL (
      SELECT cu.org_id, cu.id, cu.role
        FROM users cu JOIN orgs co ON co.id = cu.org_id
       WHERE s.acting_until > now() AND u.role = 'admin'
         AND cu.org_id = s.acting_org_id AND cu.id = s.acting_user_id
         AND cu.national_user_id = s.user_id AND cu.disabled_at IS NULL
         AND co.parent_org_id = s.org_id) c ON true;

-- The dashboard's lookup of a session on every API request (dashboard/
-- api.c says what makes one good): the session as tocsin_session_scopes
-- resolves it, with its org's phone_region, its sliding expiry renewed
-- (at most every 15 s, and never for a half-logged-in one). A function so
-- that each connection plans the lookup once: sent as one statement with
-- every request, it was planned every time, and the view's joins made
-- that planning cost more than a conversation's thread did (0.25 ms of
-- PostgreSQL's CPU a request of the 1.3 ms the dashboard benchmark's
-- thread read took).
CREATE OR REPLACE FUNCTION tocsin_session_find(p_hash bytea, p_ttl_s int, p_max_age_s int)
RETURNS TABLE (id bigint, org_id bigint, user_id bigint, role text, csrf_token text, stage text,
               acting boolean, home_org_id bigint, home_user_id bigint, home_role text, phone_region text)
LANGUAGE plpgsql AS $$
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

-- Entering or leaving a chapter changes what a session's open streams may
-- see: they are rechecked (events.c) and reconnect scoped anew.
CREATE OR REPLACE TRIGGER sessions_acting_notify AFTER UPDATE OF acting_org_id, acting_until ON sessions
    FOR EACH STATEMENT EXECUTE FUNCTION tocsin_notify_sessions();

-- A session that goes back to a half-logged-in stage (its user turned
-- two-factor login off where her org requires it) closes its streams too.
CREATE OR REPLACE TRIGGER sessions_stage_notify AFTER UPDATE OF stage ON sessions
    FOR EACH STATEMENT EXECUTE FUNCTION tocsin_notify_sessions();

-- What a person calls the device of a session, from its User-Agent
-- (sessions.user_agent, schema 030): "Firefox on Android". Browsers name
-- several engines; the order picks the one they are.
CREATE OR REPLACE FUNCTION tocsin_session_device(ua text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
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
