-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 004_inbound: what happens when a member's message arrives, as one
-- function the gateway calls in one round trip, so the whole effect (the
-- message stored once, opt-out before anything else, subscription, the
-- one confirmation, the conversation) commits or fails together. The
-- gateway decides the intent (keyword engine, lib/keyword) and prepares
-- the reply with its segment count (lib/sms); the function decides, from
-- the committed state, whether that reply is sent at all.
--
-- Its functions, views and triggers now live, once each, in
-- schema/functions/ (see schema/README.md).

-- Why an outbound message exists; the worker's opt-out check lets only an
-- opt-out confirmation through to a number that just opted out.
ALTER TABLE messages ADD COLUMN purpose text NOT NULL DEFAULT 'reply'
    CHECK (purpose IN ('reply', 'confirmation', 'opt_out_confirmation', 'help', 'blast', 'outreach'));
