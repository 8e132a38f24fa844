-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 008_dashboard: what the dashboard adds to conversations — volunteers'
-- notes, when the assigned volunteer last did something (auto-release),
-- and the indexes its inbox, pool and session sweeps read.
--
-- Its functions, views and triggers now live, once each, in
-- schema/functions/ (see schema/README.md).

-- Notes a volunteer or lead leaves on a conversation, never sent.
CREATE TABLE conversation_notes (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id          bigint NOT NULL,
    conversation_id bigint NOT NULL,
    user_id         bigint NOT NULL,
    body            text NOT NULL CHECK (length(body) BETWEEN 1 AND 2000),
    created_at      timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (org_id, conversation_id) REFERENCES conversations (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);
CREATE INDEX conversation_notes_conversation ON conversation_notes (conversation_id, created_at);

-- The assigned volunteer's last action on the conversation (claim, open,
-- reply, note, read). A conversation whose volunteer has done nothing for
-- TOCSIN_DASHBOARD_RELEASE_AFTER_S goes back to the pool.
ALTER TABLE conversations ADD COLUMN assignee_active_at timestamptz;
UPDATE conversations SET assignee_active_at = coalesce(assigned_at, now()) WHERE assignee_id IS NOT NULL;
CREATE INDEX conversations_assignee_idle ON conversations (assignee_active_at)
    WHERE state = 'open' AND assignee_id IS NOT NULL;

-- A lead's view of everything open in the org, newest reply first (a
-- volunteer's inbox uses conversations_assignee of 003).
CREATE INDEX conversations_org_open ON conversations (org_id, last_inbound_at DESC) WHERE state = 'open';
CREATE INDEX sessions_user ON sessions (user_id);
