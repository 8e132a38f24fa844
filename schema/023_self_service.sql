-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 023_self_service: what an admin does from the dashboard instead of a
-- shell (issue 19): bring an opt-out list from Spoke or a vendor (an
-- import batch of kind 'opt_outs' is its evidence), export the org's
-- opt-outs, undo one opt-out with a reason, and manage people (invites
-- that reset a password, revoked invites, last activity).

-- What an import batch brought: contacts (lib/contacts_import) or an
-- opt-out list (the same engine, opts->opt_outs).
ALTER TABLE import_batches ADD COLUMN kind text NOT NULL DEFAULT 'contacts'
    CHECK (kind IN ('contacts', 'opt_outs'));

-- The undo rule asks whether a number sent STOP since its opt-out began
-- (a STOP from a number already opted out is kept as an inbound message
-- with intent 'opt_out' and no new consent event). Partial: only stop
-- words get an entry, so the gateway's hot path writes no more WAL for
-- every other message (a full index cost +6%, 2,339 against 2,208 bytes
-- per stored message in ops/bench/inbound.sh).
CREATE INDEX inbound_messages_opt_out_from ON inbound_messages (org_id, from_phone, received_at)
    WHERE intent = 'opt_out';

-- People: when each user was last active (her sessions' use, kept after
-- they end), and invites that reset an existing user's password instead
-- of making a new user.
ALTER TABLE users ADD COLUMN last_active_at timestamptz;
ALTER TABLE invites ADD COLUMN user_id bigint;
ALTER TABLE invites ADD FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE;
CREATE INDEX invites_org_pending ON invites (org_id, expires_at) WHERE used_at IS NULL;
UPDATE users u SET last_active_at = s.seen
  FROM (SELECT user_id, max(last_seen_at) AS seen FROM sessions GROUP BY user_id) s
 WHERE s.user_id = u.id;

-- The functions and the trigger of these tables are in
-- schema/functions/opt_outs.sql and schema/functions/people.sql.
