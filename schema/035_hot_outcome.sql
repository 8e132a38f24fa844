-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 035_hot_outcome: a message's outcome (state, provider_message_id,
-- sent_at...) becomes a HOT update (issue 22): no index of messages names
-- a column the outcome changes, so PostgreSQL writes the new version on the
-- same page and no index entry at all. What those indexes served moves:
--   - the carrier's id (receipts, its uniqueness): message_carrier_ids, a
--     narrow table keyed by (provider, provider_message_id);
--   - unknown outcomes (requeue, tocsinctl metrics): unknown_messages;
--   - a blast's waiting messages (the tick's feed, cancel): the outbox,
--     by blast;
--   - a number's messages (STOP, forget, the blast counters' opt-outs):
--     one full (org_id, to_phone) index instead of two partial ones.
-- The side tables follow messages through statement triggers
-- (schema/functions/message_lookups.sql), whoever writes the row.
-- docs/architecture.md ("Why HOT") explains the fillfactor.

-- (provider, provider_message_id) -> the message that has it. Unique as
-- messages_provider_id was: a carrier id given twice is refused. The id
-- comes first in the key (it tells entries apart at once: the provider is
-- compared only on a tie), and both compare bytewise (COLLATE "C": a
-- third cheaper to insert than the database's collation; equality is the
-- same, and a comparison with a messages column uses this index).
CREATE TABLE message_carrier_ids (
    provider_message_id text COLLATE "C" NOT NULL,
    provider text COLLATE "C" NOT NULL,
    message_id bigint NOT NULL,
    PRIMARY KEY (provider_message_id, provider)
);

-- The messages whose fate is unknown (sent, no answer): few, until an
-- operator requeues them or a receipt tells.
CREATE TABLE unknown_messages (
    message_id bigint PRIMARY KEY,
    org_id bigint NOT NULL,
    sender_id bigint NOT NULL,
    blast_id bigint
);
CREATE INDEX unknown_messages_sender ON unknown_messages (org_id, sender_id);

INSERT INTO message_carrier_ids (provider_message_id, provider, message_id)
SELECT provider_message_id, provider, id FROM messages WHERE provider_message_id IS NOT NULL;
INSERT INTO unknown_messages (message_id, org_id, sender_id, blast_id)
SELECT id, org_id, sender_id, blast_id FROM messages WHERE state = 'unknown';

-- A blast's messages waiting in the outbox: what the tick counts before
-- feeding more, and what a cancel takes.
CREATE INDEX outbox_blast ON outbox (blast_id) WHERE blast_id IS NOT NULL;
-- A blast's messages, whatever their state (the counts of leads' reports).
CREATE INDEX messages_blast_id ON messages (blast_id) WHERE blast_id IS NOT NULL;
-- A number's messages: cancelling what is queued for it (STOP, forget,
-- an opt-out from the dashboard or an import), the blasts it was in.
CREATE INDEX messages_contact ON messages (org_id, to_phone);

DROP INDEX messages_provider_id;
DROP INDEX messages_unknown;
DROP INDEX messages_blast;
DROP INDEX messages_contact_queued;
DROP INDEX messages_blast_phone;

-- Room on each page for the new versions of its rows: an outcome batch
-- updates most rows of a page in one transaction, and a version only
-- becomes free space once that commits (docs/architecture.md, "Why HOT").
-- Pages written before keep their old filling.
ALTER TABLE messages SET (fillfactor = 45);
