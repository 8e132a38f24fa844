-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 015_inbound_journal: a burst of replies is stored first and threaded
-- into conversations just after.
--
-- Storing a reply the full way (007) costs PostgreSQL about 100 µs. It
-- creates or updates the contact and the conversation and inserts the
-- message: 14 index entries and 7 foreign-key checks. On two cores the
-- database alone, with nothing else running, does that for at most about
-- 15,000 new numbers a second. Under a burst (a blast's replies), the
-- carrier then waits, times out and retries, which makes the burst worse.
--
-- So when the gateway sends a big batch (it has fallen behind), the batch
-- goes through tocsin_receive_inbound_burst instead. Each reply, as 007
-- defines it (intent 'reply', its number once in the batch), is committed
-- as one narrow row of inbound_journal, about a third of the cost. The
-- carrier is answered after that commit, so it is still durable before
-- acknowledged. Everything else in the batch (STOP, START, HELP, keywords,
-- a number writing twice) is applied at once by 007's batch function, in
-- the same transaction: an opt-out never waits behind the journal.
--
-- tocsin_inbound_journal_apply then threads the journal into conversations
-- in arrival order, in batches of hundreds, through that same batch
-- function: the contacts, conversations, unread counts, revocation flags
-- and dashboard notifications are exactly 007's. The gateway calls it when
-- its queue is idle and at least once a second.
--
-- A message is stored once. Its provider id is unique in the journal. The
-- burst function does not journal an id that inbound_messages already
-- holds. Applying skips an id that reached inbound_messages another way
-- in between (a retry that came while the journal row was being applied):
-- 007's function answers 'duplicate' for it.
--
-- A journal row's received_at is when the carrier's webhook was stored;
-- the inbound_messages row it becomes is stamped when it was applied, at
-- most seconds later.
--
-- Its functions, views and triggers now live, once each, in
-- schema/functions/ (see schema/README.md).

CREATE TABLE inbound_journal (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at         timestamptz NOT NULL DEFAULT now(),
    provider            text NOT NULL CHECK (provider IN ('twilio', 'telnyx')),
    provider_message_id text NOT NULL CHECK (length(provider_message_id) BETWEEN 1 AND 100),
    sender_id           bigint NOT NULL REFERENCES senders (id),
    from_phone          text NOT NULL CHECK (tocsin_is_e164(from_phone)),
    body                text NOT NULL CHECK (length(body) <= 10000),
    num_media           int NOT NULL CHECK (num_media >= 0),
    likely_revocation   boolean NOT NULL,
    UNIQUE (provider, provider_message_id)
);

-- Journal rows that could not be applied, with why (the gateway logs
-- them): kept for an operator, out of the way of the rows after them.
CREATE TABLE inbound_journal_failed (
    LIKE inbound_journal,
    failed_at   timestamptz NOT NULL DEFAULT now(),
    apply_error text NOT NULL
);
