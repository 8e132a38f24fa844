-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 039_inbound_lean: what each inbound message paid for per row that a
-- statement, or nothing, can do instead.
--
-- * contacts' foreign key to orgs ran a query of its own per new contact
--   (about a tenth of a new number's instructions in PostgreSQL, counted
--   with callgrind). Its guarantee is kept, checked once per statement
--   (schema/functions/inbound_links.sql): the orgs a statement's new
--   contacts name exist and are key-share locked until it commits, as the
--   foreign key locked them; an update that moves a contact to another org
--   checks that org; an org that still has contacts is not deleted, nor
--   its id changed. Errors stay foreign_key_violation (23503). Imports,
--   which insert contacts by the thousand, check each org once too.
--
-- * conversations_assignee (036) kept every open conversation by assignee,
--   the unassigned ones too, under NULL: each conversation a new number's
--   first message opens wrote an entry there. Its readers look
--   conversations up by a volunteer's id (her inbox, her count, handing
--   hers to another), which implies NOT NULL, so the planner still uses
--   it; the unassigned ones are found through conversations_pool (003).
--   Now a conversation enters it when it is assigned, as in
--   conversations_assignee_idle.
ALTER TABLE contacts DROP CONSTRAINT contacts_org_id_fkey;

DROP INDEX conversations_assignee;
CREATE INDEX conversations_assignee ON conversations (assignee_id) WHERE state = 'open' AND assignee_id IS NOT NULL;

-- * A carrier's message id is looked up per message three or four times
--   (is it in inbound_messages? in the journal? then inserted into each)
--   in two-column keys that began with the provider, the same word on
--   every row, and compared both columns by the database's collation
--   (strcoll, unless the database is plain C): text comparison was about
--   a tenth of journaling a reply. Both keys now begin with the id, which
--   nearly always decides, and both columns compare bytewise (COLLATE "C",
--   as message_carrier_ids since 035: an id is an opaque token; what is
--   equal is unchanged). Rebuilding the two indexes takes a while on a
--   big inbound_messages.
ALTER TABLE inbound_messages DROP CONSTRAINT inbound_messages_provider_provider_message_id_key;
ALTER TABLE inbound_messages ALTER COLUMN provider TYPE text COLLATE "C",
                             ALTER COLUMN provider_message_id TYPE text COLLATE "C";
ALTER TABLE inbound_messages ADD CONSTRAINT inbound_messages_provider_message_id_key
    UNIQUE (provider_message_id, provider);
ALTER TABLE inbound_journal DROP CONSTRAINT inbound_journal_provider_provider_message_id_key;
ALTER TABLE inbound_journal ALTER COLUMN provider TYPE text COLLATE "C",
                            ALTER COLUMN provider_message_id TYPE text COLLATE "C";
ALTER TABLE inbound_journal ADD CONSTRAINT inbound_journal_provider_message_id_key
    UNIQUE (provider_message_id, provider);
