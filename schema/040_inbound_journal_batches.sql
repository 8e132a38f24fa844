-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 040_inbound_journal_batches: the inbound journal (015) keeps one row per
-- burst batch, its messages side by side in arrays, instead of one row
-- per message.
--
-- A journaled reply cost PostgreSQL about 105,000 instructions more than
-- one stored at once (ops/bench/inbound_db.sh): a heap row, two index
-- entries (the id, the carrier's id), a lookup of the carrier's id in the
-- journal, the row's checks; then a read through the primary key, a
-- delete, and vacuum's work on all of it. A batch row has one heap row and
-- one index entry for its 30 to 200 replies; it is read, and deleted,
-- whole.
--
-- A message is still stored once. The burst function still answers
-- 'duplicate' for a carrier id inbound_messages holds. A retry that comes
-- while its first copy still waits in the journal is journaled again (the
-- journal has no key on the carrier's id any more, which was a tenth of
-- journaling a reply); the applier threads the first copy and 007's batch
-- function finds the second a duplicate.
--
-- inbound_journal_failed keeps one row per message that failed, as before;
-- its id is the journal row's, which several failed messages may share.
-- Rows an earlier gateway left in the journal are carried over, each a
-- batch of one.
ALTER TABLE inbound_journal RENAME TO inbound_journal_015;

CREATE TABLE inbound_journal (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at         timestamptz NOT NULL DEFAULT now(),
    provider            text[] NOT NULL,
    provider_message_id text[] NOT NULL,
    sender_id           bigint[] NOT NULL,
    from_phone          text[] NOT NULL,
    body                text[] NOT NULL,
    num_media           int[] NOT NULL,
    likely_revocation   boolean[] NOT NULL,
    -- Aligned arrays, one element per message, 1 to 1000 of them; what
    -- each element holds is checked when it is threaded (inbound_messages'
    -- own checks), and a message refused then is set aside, with why, in
    -- inbound_journal_failed.
    CONSTRAINT inbound_journal_aligned CHECK (
        cardinality(provider) BETWEEN 1 AND 1000
        AND cardinality(provider_message_id) = cardinality(provider)
        AND cardinality(sender_id) = cardinality(provider)
        AND cardinality(from_phone) = cardinality(provider)
        AND cardinality(body) = cardinality(provider)
        AND cardinality(num_media) = cardinality(provider)
        AND cardinality(likely_revocation) = cardinality(provider))
);

INSERT INTO inbound_journal (received_at, provider, provider_message_id, sender_id, from_phone, body,
                             num_media, likely_revocation)
SELECT received_at, ARRAY[provider], ARRAY[provider_message_id::text], ARRAY[sender_id], ARRAY[from_phone],
       ARRAY[body], ARRAY[num_media], ARRAY[likely_revocation]
  FROM inbound_journal_015 ORDER BY id;

DROP TABLE inbound_journal_015;
