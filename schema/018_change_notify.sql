-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 018_change_notify: sessions end with their user, and the daemons hear
-- of changes that their caches and open streams depend on.
--
-- Disabling a user deletes her sessions (re-enabling her does not bring
-- them back). Any statement that deletes sessions (logout, "log out
-- everywhere", disabling) or changes a user's role or disabled state
-- notifies tocsin_sessions: the dashboard then rechecks the session of
-- every open event stream in one query and closes those that ended or
-- whose role changed. One notification per statement, not per row; the
-- payload is empty because the recheck asks the database anyway.
--
-- Any statement that adds, changes or removes senders notifies
-- tocsin_senders: the gateway forgets the numbers it found unknown (its
-- negative cache) and asks for its cached senders again.

CREATE FUNCTION tocsin_user_sessions_end() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM sessions WHERE user_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER users_disabled_sessions AFTER UPDATE OF disabled_at ON users
    FOR EACH ROW WHEN (OLD.disabled_at IS NULL AND NEW.disabled_at IS NOT NULL)
    EXECUTE FUNCTION tocsin_user_sessions_end();

CREATE FUNCTION tocsin_notify_sessions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tocsin_sessions', '');
    RETURN NULL;
END $$;
CREATE TRIGGER sessions_deleted_notify AFTER DELETE ON sessions
    FOR EACH STATEMENT EXECUTE FUNCTION tocsin_notify_sessions();
CREATE TRIGGER users_access_notify AFTER UPDATE OF role, disabled_at ON users
    FOR EACH STATEMENT EXECUTE FUNCTION tocsin_notify_sessions();

CREATE FUNCTION tocsin_notify_senders() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tocsin_senders', '');
    RETURN NULL;
END $$;
CREATE TRIGGER senders_changed_notify AFTER INSERT OR UPDATE OR DELETE ON senders
    FOR EACH STATEMENT EXECUTE FUNCTION tocsin_notify_senders();
