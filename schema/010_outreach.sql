-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 010_outreach: peer-to-peer outreach campaigns. A lead's campaign texts an
-- imported audience that never opted in, so a person sends each initial
-- message: volunteers claim batches of targets, each send is one message for
-- one contact inside the contact's texting hours, and replies land in the
-- sending volunteer's conversation. Targets are never subscribed to a list,
-- so no blast reaches them. Functions answer the dashboard as (status, body).
--
-- Its functions, views and triggers now live, once each, in
-- schema/functions/ (see schema/README.md).

CREATE TABLE outreach_campaigns (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      bigint NOT NULL REFERENCES orgs (id),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    sender_id   bigint NOT NULL,
    script      text NOT NULL CHECK (length(script) BETWEEN 1 AND 1600),
    batch_size  int NOT NULL DEFAULT 25 CHECK (batch_size BETWEEN 1 AND 500),
    -- Texting hours in the contact's local time: the compliance window
    -- (08:00 to 21:00, or the number's earlier end) unless narrowed.
    hours_start smallint NOT NULL DEFAULT 8 CHECK (hours_start BETWEEN 8 AND 20),
    hours_end   smallint NOT NULL DEFAULT 21 CHECK (hours_end BETWEEN 9 AND 21),
    state       text NOT NULL DEFAULT 'active' CHECK (state IN ('draft', 'active', 'paused', 'closed')),
    created_by  bigint,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id),
    UNIQUE (org_id, name),
    FOREIGN KEY (org_id, sender_id) REFERENCES senders (org_id, id),
    FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id),
    CHECK (hours_end > hours_start)
);

-- Follow-up steps: a question, in order.
CREATE TABLE outreach_steps (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      bigint NOT NULL,
    campaign_id bigint NOT NULL,
    position    int NOT NULL CHECK (position >= 1),
    question    text NOT NULL CHECK (length(question) BETWEEN 1 AND 500),
    UNIQUE (org_id, id),
    UNIQUE (campaign_id, position),
    FOREIGN KEY (org_id, campaign_id) REFERENCES outreach_campaigns (org_id, id) ON DELETE CASCADE
);

-- A step's possible answers; each suggests the script to send next.
CREATE TABLE outreach_choices (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      bigint NOT NULL,
    step_id     bigint NOT NULL,
    position    int NOT NULL CHECK (position >= 1),
    label       text NOT NULL CHECK (length(label) BETWEEN 1 AND 100),
    next_script text CHECK (length(next_script) BETWEEN 1 AND 1600),
    UNIQUE (org_id, id),
    UNIQUE (step_id, position),
    FOREIGN KEY (org_id, step_id) REFERENCES outreach_steps (org_id, id) ON DELETE CASCADE
);

-- One contact of a campaign's audience: pending, claimed by a volunteer
-- (in her batch), or texted (by whom, when, which message).
CREATE TABLE outreach_targets (
    org_id          bigint NOT NULL,
    campaign_id     bigint NOT NULL,
    contact_id      bigint NOT NULL,
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'claimed', 'texted')),
    claimed_by      bigint,
    claimed_at      timestamptz,
    skipped_at      timestamptz,   -- put back at the end of the batch
    texted_by       bigint,
    texted_at       timestamptz,
    message_id      bigint,
    conversation_id bigint,
    import_batch_id bigint,
    PRIMARY KEY (campaign_id, contact_id),
    FOREIGN KEY (org_id, campaign_id) REFERENCES outreach_campaigns (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, contact_id) REFERENCES contacts (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, claimed_by) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, texted_by) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, message_id) REFERENCES messages (org_id, id),
    FOREIGN KEY (org_id, conversation_id) REFERENCES conversations (org_id, id),
    FOREIGN KEY (org_id, import_batch_id) REFERENCES import_batches (org_id, id),
    CHECK ((state = 'claimed') = (claimed_by IS NOT NULL)),
    CHECK ((state = 'texted') = (message_id IS NOT NULL AND texted_by IS NOT NULL))
);
CREATE INDEX outreach_targets_pending ON outreach_targets (campaign_id, contact_id) WHERE state = 'pending';
CREATE INDEX outreach_targets_claimed ON outreach_targets (claimed_by, campaign_id) WHERE state = 'claimed';
CREATE INDEX outreach_targets_conversation ON outreach_targets (conversation_id) WHERE conversation_id IS NOT NULL;

-- The answer a volunteer recorded for a contact at a step (the latest wins).
CREATE TABLE outreach_answers (
    org_id          bigint NOT NULL,
    campaign_id     bigint NOT NULL,
    contact_id      bigint NOT NULL,
    step_id         bigint NOT NULL,
    choice_id       bigint NOT NULL,
    conversation_id bigint,
    recorded_by     bigint NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (campaign_id, contact_id, step_id),
    FOREIGN KEY (campaign_id, contact_id) REFERENCES outreach_targets (campaign_id, contact_id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, step_id) REFERENCES outreach_steps (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, choice_id) REFERENCES outreach_choices (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, recorded_by) REFERENCES users (org_id, id)
);
