-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 034_outbox: the narrow queue the worker claims from (issue 22). A
-- message waiting to go has a row in outbox; the claim deletes it and
-- writes one claims row for the whole batch, so the wide messages row is
-- written once when queued and once more by its outcome. A message whose
-- state is 'queued' but which has no outbox row is in flight: claimed by
-- the worker named in a claims row, or stamped and sent. The 'sending'
-- state is no longer written (the value stays allowed: old rows, old
-- readers); the functions are schema/functions/worker.sql, and
-- docs/architecture.md ("The worker: a message's trip out") explains it.

-- Queued messages the worker may claim: what the claim filters and orders
-- on, copied from messages (not_before is the outbox's own: the claim
-- pushes a message waiting for the recipient's morning here).
CREATE TABLE outbox (
    id bigint PRIMARY KEY,
    sender_id bigint NOT NULL,
    lane text NOT NULL,
    not_before timestamptz NOT NULL,
    blast_id bigint
);
CREATE INDEX outbox_claimable ON outbox (sender_id, lane, not_before, id);

-- One row per claimed batch: which worker holds which messages, until
-- when. open counts those still in flight: an outcome counts down (the
-- array is not rewritten), a retry, a release or a suppression at the
-- stamp takes its id out; at 0 the claim is deleted. The lease sweep
-- judges what is left once the lease runs out. lo and hi bound the ids
-- (a cheap first filter), blasts says whether any is a blast's (the
-- counters then move).
CREATE TABLE claims (
    id bigserial PRIMARY KEY,
    worker text NOT NULL,
    message_ids bigint[] NOT NULL CHECK (cardinality(message_ids) BETWEEN 1 AND 10000),
    lo bigint NOT NULL,
    hi bigint NOT NULL,
    open int NOT NULL,
    blasts boolean NOT NULL,
    claimed_at timestamptz NOT NULL DEFAULT now(),
    lease_until timestamptz NOT NULL
);
CREATE INDEX claims_worker ON claims (worker);
CREATE INDEX claims_lease ON claims (lease_until);

-- Messages claimed under the old functions ('sending') stay in flight,
-- each worker's as one claim with its lease; the blast counters keep
-- counting them as sending (the state change counts them queued, the
-- delta undoes it).
INSERT INTO claims (worker, message_ids, lo, hi, open, blasts, claimed_at, lease_until)
SELECT claimed_by, array_agg(id ORDER BY id), min(id), max(id), count(*), bool_or(blast_id IS NOT NULL),
       min(updated_at), max(lease_until)
  FROM messages WHERE state = 'sending' GROUP BY claimed_by;
WITH moved AS (
    UPDATE messages SET state = 'queued' WHERE state = 'sending' RETURNING blast_id
)
INSERT INTO blast_counter_deltas (blast_id, queued, sending)
SELECT blast_id, -count(*), count(*) FROM moved WHERE blast_id IS NOT NULL GROUP BY blast_id;

-- Everything queued and not claimed goes into the outbox.
INSERT INTO outbox (id, sender_id, lane, not_before, blast_id)
SELECT m.id, m.sender_id, m.lane, m.not_before, m.blast_id
  FROM messages m
 WHERE m.state = 'queued'
   AND NOT EXISTS (SELECT 1 FROM claims c WHERE m.id = ANY (c.message_ids));

-- The claim reads the outbox, the sweep reads claims.
DROP INDEX messages_claimable;
DROP INDEX messages_leases;
