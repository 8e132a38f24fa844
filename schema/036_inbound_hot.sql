-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 036_inbound_hot: a member's reply updates her conversation in place.
--
-- A reply to an open conversation sets last_inbound_at, unread and
-- likely_opt_out. last_inbound_at was a key of two partial indexes (003's
-- conversations_assignee and 008's conversations_org_open), so every
-- reply wrote a new version of the row into all six of the table's
-- indexes (about 500 bytes of WAL and a sixth of the reply's cost in
-- PostgreSQL, ops/bench/inbound.sh with MEMBERS). Now no index names a
-- column a reply changes, and each page keeps a fifth free for the new
-- versions: the update is HOT (one heap page, no index entry).
--
-- The lists those indexes kept in order sort instead, after the index has
-- found their rows: a volunteer's inbox (her open conversations, at most
-- her org's cap, 500) and an admin's list of the org's open ones (the 500
-- newest of them).
--
-- The inbound journal (015) is written once per reply in a burst and
-- emptied within seconds. Its foreign key to senders cost a lookup and a
-- row lock per reply; the burst function journals only replies whose
-- sender it found in the same statement (senders are never deleted:
-- 027 disables them), and tocsin_inbound_journal_apply moves a row whose
-- sender is gone to inbound_journal_failed instead of failing.

DROP INDEX conversations_assignee;
CREATE INDEX conversations_assignee ON conversations (assignee_id) WHERE state = 'open';
DROP INDEX conversations_org_open;
CREATE INDEX conversations_org_open ON conversations (org_id) WHERE state = 'open';
ALTER TABLE conversations SET (fillfactor = 80);

ALTER TABLE inbound_journal DROP CONSTRAINT inbound_journal_sender_id_fkey;
