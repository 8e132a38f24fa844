-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 017_scope: what one sender's credentials and one volunteer can reach,
-- in three parts: delivery receipts scoped to their sender and the pending
-- ones bounded (here); a cap on the conversations one volunteer holds, no
-- outreach send taking over another volunteer's conversation, and {phone}
-- masked for volunteers (further down); and the lead API's answers without
-- the server's own words (at the end).
--
-- Receipts: a delivery receipt moves only a message of the sender
-- whose credentials verified it. Until now tocsin_apply_receipt (004)
-- matched on (provider, provider message id) alone, so a status callback
-- signed with one org's Twilio token (or Telnyx key), naming another org's
-- message id, could mark that message failed or delivered; and a receipt
-- for an id no message has was kept in delivery_receipts_pending for good,
-- so made-up ids grew the table without bound. Now:
--  - receipts match on (provider, provider message id, sender): the
--    gateway passes the sender it verified the callback with. A receipt
--    for another sender's message changes nothing and is not kept
--    ('foreign');
--  - pending receipts carry their sender and match only its messages (at
--    the worker's record of ids, 012, and at its sweep, 014);
--  - pending receipts are bounded: a sender holding 10000 already gets no
--    more ('dropped'), and the worker's sweep drops those older than one
--    day (a receipt waits for an id the worker records within seconds of
--    the carrier's answer; a day is far past any carrier's retries) and
--    trims each sender to its newest 10000 (two transactions inserting at
--    once can both pass the check).
-- Pending receipts stored before this migration carry no sender: nothing
-- can say whose they are, so they are deleted (they wait seconds in normal
-- operation; the rest were receipts no message would ever claim).
--
-- Its functions, views and triggers now live, once each, in
-- schema/functions/ (see schema/README.md).

DELETE FROM delivery_receipts_pending;
ALTER TABLE delivery_receipts_pending
    ADD COLUMN sender_id bigint NOT NULL REFERENCES senders (id) ON DELETE CASCADE;
DROP INDEX receipts_pending_lookup;
CREATE INDEX receipts_pending_lookup ON delivery_receipts_pending (provider, provider_message_id, sender_id);
-- The cap per sender and the trim (newest first), and the age sweep.
CREATE INDEX receipts_pending_sender ON delivery_receipts_pending (sender_id, received_at);
CREATE INDEX receipts_pending_age ON delivery_receipts_pending (received_at);

DROP FUNCTION IF EXISTS tocsin_apply_receipt_batch(text[], text[], text[], text[], jsonb[]);
DROP FUNCTION IF EXISTS tocsin_apply_receipt(text, text, text, text, jsonb);

-- ================================================ what a volunteer holds and sees
-- A volunteer could read the whole waiting pool: a claim took up to 50
-- conversations a time with no bound on what she held, so a few clicks
-- (or a loop) showed every member waiting, with names and messages. An
-- outreach send took over the open conversation with its contact even when
-- another volunteer was answering it. And a script's {phone} was filled in
-- with the member's full number, which the inbox and the conversation view
-- already hid from volunteers (tocsin_dashboard_phone, 008).

-- The org's cap on the open conversations one volunteer holds (claimed,
-- assigned, or opened by her outreach sends). Claims stop there; lowering
-- it takes nothing away.
ALTER TABLE orgs ADD COLUMN volunteer_max_conversations int NOT NULL DEFAULT 25
    CHECK (volunteer_max_conversations BETWEEN 1 AND 500);

-- 010's next contact, with the caller's role: a volunteer sees the masked
-- number and a script whose {phone} is masked; leads and admins the number.
DROP FUNCTION IF EXISTS tocsin_outreach_next(bigint, bigint, bigint, timestamptz);
