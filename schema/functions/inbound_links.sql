-- SPDX-License-Identifier: AGPL-3.0-or-later
-- inbound_links: what the foreign keys from inbound_messages and
-- conversations to senders, contacts and conversations guaranteed, checked
-- once per statement (schema 038 says why): every row names a sender, a
-- contact and a conversation of its own org, and none of those is deleted
-- (or its key changed) while a row names it. Errors are
-- foreign_key_violation (23503), as before. The inbound functions
-- (inbound.sql) keep the locks that close the race between the two.
--
-- A repeatable file: edited in place; tocsinctl migrate applies it again
-- when it changes (schema/README.md).
--
-- The same for contacts and their org (schema 039): the orgs a statement's
-- new contacts name exist, and no org that still has contacts goes.

-- New inbound messages: one query for the statement's rows, each link a
-- lookup by key (LIMIT: a per-row index probe, whatever the plan cached
-- for the session thought of the transition table's size). A batch's rows
-- share a sender or two: each (org, sender) is looked up once.
--
-- Skipped for the one statement that sets tocsin.inbound_links_checked
-- (tocsin_receive_inbound_batch's set-based insert, which finds or makes
-- every parent it links to in the row's own org, in that same statement,
-- and sets it back after): the lookups were a tenth of a new number's
-- cost there. Every other writer is checked.
CREATE OR REPLACE FUNCTION tocsin_inbound_links_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_bad record;
BEGIN
    IF current_setting('tocsin.inbound_links_checked', true) = 'on' THEN
        RETURN NULL;
    END IF;
    SELECT b.id, b.org_id INTO v_bad FROM (
        SELECT min(n.id) AS id, n.org_id FROM new_rows n GROUP BY n.org_id, n.sender_id
        HAVING (SELECT 1 FROM senders s WHERE s.id = n.sender_id AND s.org_id = n.org_id LIMIT 1) IS NULL
        UNION ALL
        SELECT n.id, n.org_id FROM new_rows n
         WHERE (n.contact_id IS NOT NULL
                AND (SELECT 1 FROM contacts c WHERE c.id = n.contact_id AND c.org_id = n.org_id LIMIT 1) IS NULL)
            OR (n.conversation_id IS NOT NULL
                AND (SELECT 1 FROM conversations v WHERE v.id = n.conversation_id AND v.org_id = n.org_id LIMIT 1)
                    IS NULL)) b
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'inbound message % names a sender, contact or conversation that org % does not have',
                        v_bad.id, v_bad.org_id USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER inbound_messages_links_insert AFTER INSERT ON inbound_messages
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tocsin_inbound_links_insert();

-- New conversations: their sender and contact, the same way (and skipped
-- the same way).
CREATE OR REPLACE FUNCTION tocsin_conversation_links_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_bad record;
BEGIN
    IF current_setting('tocsin.inbound_links_checked', true) = 'on' THEN
        RETURN NULL;
    END IF;
    SELECT b.id, b.org_id INTO v_bad FROM (
        SELECT min(n.id) AS id, n.org_id FROM new_rows n GROUP BY n.org_id, n.sender_id
        HAVING (SELECT 1 FROM senders s WHERE s.id = n.sender_id AND s.org_id = n.org_id LIMIT 1) IS NULL
        UNION ALL
        SELECT n.id, n.org_id FROM new_rows n
         WHERE (SELECT 1 FROM contacts c WHERE c.id = n.contact_id AND c.org_id = n.org_id LIMIT 1) IS NULL) b
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'conversation % names a sender or contact that org % does not have', v_bad.id, v_bad.org_id
              USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER conversations_links_insert AFTER INSERT ON conversations
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tocsin_conversation_links_insert();

-- An update that changes a link (tocsin_receive_inbound links its message
-- after inserting it; an operator's SQL): that row, checked the same way.
-- Unlinking (NULL, as forgetting does) needs no check.
CREATE OR REPLACE FUNCTION tocsin_links_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_conv bigint;
    v_contact bigint;
BEGIN
    IF TG_TABLE_NAME = 'inbound_messages' THEN
        v_conv := NEW.conversation_id;
        v_contact := NEW.contact_id;
    ELSE
        v_contact := NEW.contact_id;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM senders s WHERE s.id = NEW.sender_id AND s.org_id = NEW.org_id)
       OR (v_contact IS NOT NULL AND NOT EXISTS (SELECT 1 FROM contacts c WHERE c.id = v_contact AND c.org_id = NEW.org_id))
       OR (v_conv IS NOT NULL AND NOT EXISTS (SELECT 1 FROM conversations v WHERE v.id = v_conv AND v.org_id = NEW.org_id))
    THEN
        RAISE EXCEPTION '% % would name a sender, contact or conversation that org % does not have',
                        CASE TG_TABLE_NAME WHEN 'inbound_messages' THEN 'inbound message' ELSE 'conversation' END,
                        NEW.id, NEW.org_id USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE TRIGGER inbound_messages_links_update BEFORE UPDATE OF org_id, sender_id, contact_id, conversation_id
    ON inbound_messages FOR EACH ROW
    WHEN (NEW.org_id IS DISTINCT FROM OLD.org_id OR NEW.sender_id IS DISTINCT FROM OLD.sender_id
          OR (NEW.contact_id IS NOT NULL AND NEW.contact_id IS DISTINCT FROM OLD.contact_id)
          OR (NEW.conversation_id IS NOT NULL AND NEW.conversation_id IS DISTINCT FROM OLD.conversation_id))
    EXECUTE FUNCTION tocsin_links_update();

CREATE OR REPLACE TRIGGER conversations_links_update BEFORE UPDATE OF org_id, sender_id, contact_id
    ON conversations FOR EACH ROW
    WHEN (NEW.org_id IS DISTINCT FROM OLD.org_id OR NEW.sender_id IS DISTINCT FROM OLD.sender_id
          OR NEW.contact_id IS DISTINCT FROM OLD.contact_id)
    EXECUTE FUNCTION tocsin_links_update();

-- A sender, contact or conversation still named by an inbound message or
-- a conversation is not deleted, nor its id or org changed (rare: senders
-- are disabled, contacts forgotten in place, conversations unlinked before
-- forgetting deletes them). A BEFORE trigger, so the row is locked first:
-- a batch linking to it (which locks a conversation by updating it and a
-- sender with FOR KEY SHARE) has committed, and is seen here. A contact is
-- serialised with its number's inbound messages by their advisory lock,
-- taken after the contact's row lock as tocsin_receive_inbound and
-- forgetting take them (the batch function never waits for a contact's
-- row lock: it only reads an existing contact).
CREATE OR REPLACE FUNCTION tocsin_links_parent_kept() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_by text;
BEGIN
    IF TG_TABLE_NAME = 'senders' THEN
        v_by := CASE WHEN EXISTS (SELECT 1 FROM conversations c WHERE c.sender_id = OLD.id) THEN 'a conversation'
                     WHEN EXISTS (SELECT 1 FROM inbound_messages i WHERE i.sender_id = OLD.id) THEN 'an inbound message'
                END;
    ELSIF TG_TABLE_NAME = 'contacts' THEN
        PERFORM pg_advisory_xact_lock(hashtextextended(OLD.org_id::text || OLD.phone, 0));
        v_by := CASE WHEN EXISTS (SELECT 1 FROM conversations c WHERE c.contact_id = OLD.id) THEN 'a conversation'
                     WHEN EXISTS (SELECT 1 FROM inbound_messages i WHERE i.contact_id = OLD.id) THEN 'an inbound message'
                END;
    ELSE
        v_by := CASE WHEN EXISTS (SELECT 1 FROM inbound_messages i WHERE i.conversation_id = OLD.id)
                     THEN 'an inbound message' END;
    END IF;
    IF v_by IS NOT NULL THEN
        RAISE EXCEPTION '% % is still named by %', left(TG_TABLE_NAME, -1), OLD.id, v_by
              USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END $$;

CREATE OR REPLACE TRIGGER senders_links_delete BEFORE DELETE ON senders
    FOR EACH ROW EXECUTE FUNCTION tocsin_links_parent_kept();
CREATE OR REPLACE TRIGGER senders_links_key BEFORE UPDATE OF id, org_id ON senders FOR EACH ROW
    WHEN (NEW.id IS DISTINCT FROM OLD.id OR NEW.org_id IS DISTINCT FROM OLD.org_id)
    EXECUTE FUNCTION tocsin_links_parent_kept();
CREATE OR REPLACE TRIGGER contacts_links_delete BEFORE DELETE ON contacts
    FOR EACH ROW EXECUTE FUNCTION tocsin_links_parent_kept();
CREATE OR REPLACE TRIGGER contacts_links_key BEFORE UPDATE OF id, org_id ON contacts FOR EACH ROW
    WHEN (NEW.id IS DISTINCT FROM OLD.id OR NEW.org_id IS DISTINCT FROM OLD.org_id)
    EXECUTE FUNCTION tocsin_links_parent_kept();
CREATE OR REPLACE TRIGGER conversations_links_delete BEFORE DELETE ON conversations
    FOR EACH ROW EXECUTE FUNCTION tocsin_links_parent_kept();
CREATE OR REPLACE TRIGGER conversations_links_key BEFORE UPDATE OF id, org_id ON conversations FOR EACH ROW
    WHEN (NEW.id IS DISTINCT FROM OLD.id OR NEW.org_id IS DISTINCT FROM OLD.org_id)
    EXECUTE FUNCTION tocsin_links_parent_kept();

-- New contacts: the orgs they name, each once per statement, exist, and
-- are key-share locked until the statement's transaction ends (as
-- contacts' foreign key to orgs locked them per row before 039), so an
-- org being deleted meanwhile either committed first (then this fails) or
-- waits for this to commit (then its guard below sees the contacts).
CREATE OR REPLACE FUNCTION tocsin_contacts_org_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_orgs bigint[];
    v_missing bigint;
BEGIN
    SELECT array_agg(DISTINCT n.org_id) INTO v_orgs FROM new_rows n;
    IF (SELECT count(*) FROM (SELECT 1 FROM orgs o WHERE o.id = ANY (v_orgs) FOR KEY SHARE) l)
       <> coalesce(cardinality(v_orgs), 0) THEN
        SELECT min(x.id) INTO v_missing FROM unnest(v_orgs) x(id)
         WHERE NOT EXISTS (SELECT 1 FROM orgs o WHERE o.id = x.id);
        RAISE EXCEPTION 'a new contact names org %, which does not exist', v_missing
              USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER contacts_org_insert AFTER INSERT ON contacts
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tocsin_contacts_org_insert();

-- A contact moved to another org (an operator's SQL: nothing in Tocsin
-- does it): that org, the same way.
CREATE OR REPLACE FUNCTION tocsin_contact_org_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM orgs o WHERE o.id = NEW.org_id FOR KEY SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'contact % would name org %, which does not exist', NEW.id, NEW.org_id
              USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE TRIGGER contacts_org_update BEFORE UPDATE OF org_id ON contacts FOR EACH ROW
    WHEN (NEW.org_id IS DISTINCT FROM OLD.org_id) EXECUTE FUNCTION tocsin_contact_org_update();

-- An org that still has contacts is not deleted, nor its id changed. A
-- BEFORE trigger, so the org's row is locked first: a statement that
-- inserted contacts for it (and key-share locked it) has committed, and
-- its contacts are seen here.
CREATE OR REPLACE FUNCTION tocsin_org_contacts_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM contacts c WHERE c.org_id = OLD.id) THEN
        RAISE EXCEPTION 'org % still has contacts', OLD.id USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END $$;

CREATE OR REPLACE TRIGGER orgs_contacts_delete BEFORE DELETE ON orgs
    FOR EACH ROW EXECUTE FUNCTION tocsin_org_contacts_kept();
CREATE OR REPLACE TRIGGER orgs_contacts_key BEFORE UPDATE OF id ON orgs FOR EACH ROW
    WHEN (NEW.id IS DISTINCT FROM OLD.id) EXECUTE FUNCTION tocsin_org_contacts_kept();
