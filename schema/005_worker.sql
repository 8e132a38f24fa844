-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 005_worker: what tocsin-worker asks of the database, one function per
-- step of a message's trip out, so each step is one round trip and the
-- rules (opt-outs, quiet hours, paused blasts, leases) live next to the
-- data they read:
--
--   tocsin_claim         queued -> sending, for one sender, conversational
--                        lane first; opted-out numbers -> suppressed; bulk
--                        messages outside quiet hours wait (not_before).
--   tocsin_mark_going    records one send_stamps row just before a group
--                        of requests leaves (re-checking opt-outs): from
--                        then on a lost worker means 'unknown', never a
--                        resend.
--   tocsin_record_outcomes   sent / retry / failed / unknown, in one call
--                        per batch, with request_sent_at and the attempt,
--                        matching receipts that came early.
--   tocsin_sweep_leases  a dead worker's rows: back to queued when provably
--                        never sent, else unknown.
--   tocsin_dispatch_acquire  a renewable lease that makes one worker the
--                        dispatcher of a carrier account, so the rate limit
--                        is kept by one process without a round trip per
--                        message (docs/architecture.md explains why).
--
-- Its functions, views and triggers now live, once each, in
-- schema/functions/ (see schema/README.md).

-- Quiet hours. A bulk message carries the zones its recipient may be in (a
-- known contact timezone, or every zone of the number's area) and the hour
-- its window ends (21, or 20 for Florida and Oklahoma). NULL zones: no
-- quiet hours (conversational messages, unknown places are resolved when
-- the message is queued).
ALTER TABLE messages
    ADD COLUMN recipient_zones text[] CHECK (cardinality(recipient_zones) BETWEEN 1 AND 8),
    ADD COLUMN quiet_end_hour smallint NOT NULL DEFAULT 21 CHECK (quiet_end_hour BETWEEN 9 AND 24);

-- Optional per-account limits (Twilio account SID), on top of each
-- sender's messages_per_second.
CREATE TABLE provider_account_limits (
    provider            text NOT NULL CHECK (provider IN ('twilio', 'telnyx')),
    account             text NOT NULL CHECK (length(account) BETWEEN 1 AND 100),
    messages_per_second numeric(8, 2) NOT NULL CHECK (messages_per_second > 0),
    PRIMARY KEY (provider, account)
);

-- Who dispatches which carrier account, until when.
CREATE TABLE dispatch_leases (
    account     text PRIMARY KEY,
    holder      text NOT NULL,
    lease_until timestamptz NOT NULL
);

-- The stamp: one row per group of messages a worker is about to hand to a
-- carrier — which, who, when — instead of a write to every message (that
-- was a third row version per message, with its index updates, and cost
-- a quarter of the database's work per message). The lease sweep reads
-- the stamps to decide 'queued' (provably never handed over) or
-- 'unknown'. A stamp counts only if it is newer than the claim
-- (messages.updated_at of a 'sending' row is its claim time: nothing else
-- writes a claimed row), so a message released or retried and claimed
-- again is not judged by an old stamp.
CREATE TABLE send_stamps (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    worker      text NOT NULL,
    message_ids bigint[] NOT NULL CHECK (cardinality(message_ids) BETWEEN 1 AND 10000),
    stamped_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX send_stamps_worker ON send_stamps (worker, stamped_at);
