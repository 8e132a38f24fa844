-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 011_implied_foreign_keys: drops the org_id -> orgs foreign keys that a
-- composite key already implies. inbound_messages, conversations and
-- messages reference senders by (org_id, sender_id), subscriptions
-- reference lists by (org_id, list_id), and senders and lists reference
-- orgs themselves, so no row can name an org that does not exist either
-- way — and deleting an org with rows is still refused. What changes is
-- the cost: every foreign key is a trigger per inserted row, and these
-- tables take the hottest inserts (a member's first message creates a
-- conversation, an inbound row and a confirmation; a blast inserts a
-- message per recipient). contacts keep theirs: it is their only link to
-- an org.
ALTER TABLE inbound_messages DROP CONSTRAINT inbound_messages_org_id_fkey;
ALTER TABLE conversations DROP CONSTRAINT conversations_org_id_fkey;
ALTER TABLE messages DROP CONSTRAINT messages_org_id_fkey;
ALTER TABLE subscriptions DROP CONSTRAINT subscriptions_org_id_fkey;
