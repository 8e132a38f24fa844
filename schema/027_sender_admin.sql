-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 027_sender_admin: what an admin's Senders screen needs (issue 19).
--
-- The public half of the credential-sealing key pair (lib/crypto.h,
-- tocsin_sealing_public_key), derived from TOCSIN_SECRET_KEY and published
-- by the processes that hold the key (tocsinctl migrate, tocsin-worker at
-- start), so the dashboard, which must never hold the key, can seal a
-- carrier secret that only they can open. One row.
CREATE TABLE sealing_key (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    public_key bytea NOT NULL CHECK (length(public_key) = 32),
    published_at timestamptz NOT NULL DEFAULT now()
);

-- A sender an admin disabled: the worker sends nothing through it (queued
-- messages wait) and leads cannot pick it; the gateway still receives on
-- it, so a member's STOP is honoured whatever the state.
ALTER TABLE senders ADD COLUMN disabled_at timestamptz;

-- "Send a test message" from the Senders screen: a message of its own
-- purpose, so it is never counted as a reply, a blast or an outreach text.
ALTER TABLE messages DROP CONSTRAINT messages_purpose_check,
    ADD CONSTRAINT messages_purpose_check
        CHECK (purpose IN ('reply', 'confirmation', 'opt_out_confirmation', 'help', 'blast', 'outreach', 'test'));
