-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 013_blast_audience: a due blast is expanded in two steps instead of one.
--
--   1. The audience is fixed when the blast is due, in ONE statement
--      (tocsin_blast_snapshot): the list's subscribed contacts, the
--      filter, minus opted-out numbers, stored as their contact ids in
--      chunks of 1,000 (blast_audience). Who receives the blast is decided
--      here, once; blasts.recipients, queued and unfed are set from it.
--   2. The chunks become queued messages just ahead of the sender
--      (tocsin_blast_feed, from the tick): each feed turns whole chunks
--      into messages in one INSERT ... SELECT, with the body rendered, its
--      segments counted and the recipient's quiet-hours window, exactly as
--      006's single expansion did.
--
-- Why: a message row is wide and has seven indexes and three foreign
-- keys; inserting a million of them took 34-43 s on a 2-core machine, and
-- nothing went out until the last one was in. A chunk row of 1,000 ids
-- is one narrow row, so fixing a million-member audience takes about 2 s,
-- sending starts within a tick, and the messages table holds what the
-- sender can send in the next few seconds rather than the whole audience
-- (which also keeps the claim's index small). The total work of inserting
-- messages is the same; it is spread over the sending time, where the
-- sender's rate, not the database, is the limit.
--
-- Counters stay exact: queued counts unfed recipients too, so a blast
-- completes only when every chunk is fed and sent. A recipient who opts
-- out after the snapshot is fed as a 'cancelled' message and counted in
-- opted_out (the opt-out trigger of 006 counts only numbers that already
-- have a message); a recipient whose contact no longer exists is counted
-- cancelled. A cancel deletes the unfed chunks and counts them cancelled.
--
-- Its functions, views and triggers now live, once each, in
-- schema/functions/ (see schema/README.md).

CREATE TABLE blast_audience (
    blast_id    bigint NOT NULL REFERENCES blasts ON DELETE CASCADE,
    chunk       int NOT NULL CHECK (chunk >= 0),
    contact_ids bigint[] NOT NULL CHECK (cardinality(contact_ids) BETWEEN 1 AND 1000),
    PRIMARY KEY (blast_id, chunk)
) WITH (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 100);

ALTER TABLE blasts ADD COLUMN unfed int NOT NULL DEFAULT 0 CHECK (unfed >= 0);

-- 006's expansion in one statement is replaced by the two steps above.
DROP FUNCTION IF EXISTS tocsin_blast_expand(bigint, timestamptz);
