-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 018_change_notify: the daemons hear of changes that their caches
-- and open streams depend on.
--
-- Any statement that adds, changes or removes senders notifies
-- tocsin_senders: the gateway forgets the numbers it found unknown (its
-- negative cache) and asks for its cached senders again.

CREATE FUNCTION tocsin_notify_senders() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tocsin_senders', '');
    RETURN NULL;
END $$;
CREATE TRIGGER senders_changed_notify AFTER INSERT OR UPDATE OR DELETE ON senders
    FOR EACH STATEMENT EXECUTE FUNCTION tocsin_notify_senders();
