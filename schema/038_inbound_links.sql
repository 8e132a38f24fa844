-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 038_inbound_links: the links of inbound messages and conversations to
-- their org's senders, contacts and conversations are checked once per
-- statement instead of once per row.
--
-- A foreign key is a trigger per inserted row that runs its own query and
-- locks the parent row. A new number's first message paid five of them
-- (the conversation's sender and contact; the message's sender, contact
-- and conversation), a member's reply three: about a third of
-- PostgreSQL's time per message (ops/bench/inbound.sh). The rows they
-- guard are written by one statement that found or made every parent
-- itself (tocsin_receive_inbound_batch): the sender it read, the contact
-- it inserted or found by (org, number), the conversation it inserted or
-- updated. What a foreign key adds beyond that is kept, cheaper:
--
-- * every row names parents of its own org: one statement-level check per
--   insert (schema/functions/inbound_links.sql), whoever inserts (the
--   gateway, the dashboard, an operator's SQL), and a row check when an
--   update changes a link;
-- * a parent named by a row is not deleted (or its key changed): a
--   statement-level check on senders, contacts and conversations;
-- * no race between the two: a message's conversation is row-locked by
--   the statement that links to it, its contact's number is serialised by
--   the advisory lock the inbound functions, forgetting and the contacts
--   check all take, and its sender is locked once per batch.
--
-- The composite unique keys stay: messages and others still reference them.
ALTER TABLE conversations DROP CONSTRAINT conversations_org_id_contact_id_fkey;
ALTER TABLE conversations DROP CONSTRAINT conversations_org_id_sender_id_fkey;
ALTER TABLE inbound_messages DROP CONSTRAINT inbound_messages_org_id_sender_id_fkey;
ALTER TABLE inbound_messages DROP CONSTRAINT inbound_messages_org_id_contact_id_fkey;
ALTER TABLE inbound_messages DROP CONSTRAINT inbound_messages_org_id_conversation_id_fkey;
