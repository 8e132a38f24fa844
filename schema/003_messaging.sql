-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 003_messaging: senders, keywords, blasts, conversations and messages.
--
-- Two message tables, not one. `messages` is the OUTBOUND queue: every
-- claim and status change rewrites a row, so it has aggressive per-table
-- autovacuum, a lower fillfactor (room for HOT updates) and a partial index
-- on exactly the claimable rows; measured on this kind of machine, that is
-- what keeps a 1M-row queue claimable at 70-97k rows/s. `inbound_messages`
-- is append-only and unique on the provider's message id, so a webhook the
-- carrier retries is stored once. A thread shows both through the
-- `conversation_messages` view.
--
-- Its functions, views and triggers now live, once each, in
-- schema/functions/ (see schema/README.md).

CREATE TABLE senders (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id              bigint NOT NULL REFERENCES orgs (id),
    address             text NOT NULL UNIQUE CHECK (tocsin_is_e164(address) OR address ~ '^[0-9]{5,6}$'),
    kind                text NOT NULL CHECK (kind IN ('short_code', 'long_code', 'toll_free')),
    provider            text NOT NULL CHECK (provider IN ('twilio', 'telnyx')),
    account_sid         text CHECK (account_sid ~ '^AC[0-9a-f]{32}$'),
    credentials_sealed  text NOT NULL,    -- secretbox(TOCSIN_SECRET_KEY): auth token / API key
    telnyx_public_key   text,             -- base64 Ed25519 key that signs Telnyx webhooks
    messages_per_second numeric(8, 2) NOT NULL CHECK (messages_per_second > 0),
    base_url            text CHECK (base_url ~ '^https?://'),  -- override: the carrier simulator
    created_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id),
    CHECK (provider <> 'twilio' OR account_sid IS NOT NULL),
    CHECK ((kind = 'short_code') = (address ~ '^[0-9]{5,6}$'))
);

CREATE TABLE keywords (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id     bigint NOT NULL REFERENCES orgs (id),
    sender_id  bigint,                    -- NULL: every sender of the org
    keyword    text NOT NULL CHECK (keyword ~ '^[A-Z0-9ÁÉÍÓÚÑÜ]{1,20}$'),
    pattern    text NOT NULL CHECK (length(pattern) BETWEEN 1 AND 500),  -- pcre2
    list_id    bigint NOT NULL,
    reply      text NOT NULL CHECK (length(reply) BETWEEN 1 AND 1600),   -- the confirmation
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, sender_id) REFERENCES senders (org_id, id),
    FOREIGN KEY (org_id, list_id) REFERENCES lists (org_id, id)
);
CREATE UNIQUE INDEX keywords_unique ON keywords (org_id, coalesce(sender_id, 0), keyword);

CREATE TABLE blasts (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id       bigint NOT NULL REFERENCES orgs (id),
    sender_id    bigint NOT NULL,
    list_id      bigint NOT NULL,
    filter       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(filter) = 'object'),
    body         text NOT NULL CHECK (length(body) BETWEEN 1 AND 1600),
    scheduled_at timestamptz,
    state        text NOT NULL DEFAULT 'draft'
                 CHECK (state IN ('draft', 'scheduled', 'expanding', 'sending', 'paused', 'cancelled', 'completed')),
    recipients   int NOT NULL DEFAULT 0 CHECK (recipients >= 0),
    queued       int NOT NULL DEFAULT 0 CHECK (queued >= 0),
    sent         int NOT NULL DEFAULT 0 CHECK (sent >= 0),
    delivered    int NOT NULL DEFAULT 0 CHECK (delivered >= 0),
    failed       int NOT NULL DEFAULT 0 CHECK (failed >= 0),
    suppressed   int NOT NULL DEFAULT 0 CHECK (suppressed >= 0),
    cancelled    int NOT NULL DEFAULT 0 CHECK (cancelled >= 0),
    opted_out    int NOT NULL DEFAULT 0 CHECK (opted_out >= 0),
    created_by   bigint,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, sender_id) REFERENCES senders (org_id, id),
    FOREIGN KEY (org_id, list_id) REFERENCES lists (org_id, id),
    FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id),
    CHECK (state <> 'scheduled' OR scheduled_at IS NOT NULL)
);
CREATE INDEX blasts_due ON blasts (scheduled_at) WHERE state = 'scheduled';

CREATE TABLE conversations (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id           bigint NOT NULL REFERENCES orgs (id),
    contact_id       bigint NOT NULL,
    sender_id        bigint NOT NULL,
    assignee_id      bigint,
    state            text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
    likely_opt_out   boolean NOT NULL DEFAULT false,  -- a reply that reads like a revocation
    unread           int NOT NULL DEFAULT 0 CHECK (unread >= 0),
    last_inbound_at  timestamptz,
    last_outbound_at timestamptz,
    assigned_at      timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, contact_id) REFERENCES contacts (org_id, id),
    FOREIGN KEY (org_id, sender_id) REFERENCES senders (org_id, id),
    FOREIGN KEY (org_id, assignee_id) REFERENCES users (org_id, id)
);
-- One open conversation per member and sender.
CREATE UNIQUE INDEX conversations_one_open ON conversations (contact_id, sender_id) WHERE state = 'open';
-- The pool: unassigned open conversations, oldest first.
CREATE INDEX conversations_pool ON conversations (org_id, created_at, id) WHERE state = 'open' AND assignee_id IS NULL;
CREATE INDEX conversations_assignee ON conversations (assignee_id, last_inbound_at DESC) WHERE state = 'open';

CREATE TABLE conversation_tags (
    org_id          bigint NOT NULL,
    conversation_id bigint NOT NULL,
    tag_id          bigint NOT NULL,
    PRIMARY KEY (conversation_id, tag_id),
    FOREIGN KEY (org_id, conversation_id) REFERENCES conversations (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, tag_id) REFERENCES tags (org_id, id) ON DELETE CASCADE
);

CREATE TABLE canned_responses (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id     bigint NOT NULL REFERENCES orgs (id),
    title      text NOT NULL CHECK (length(title) BETWEEN 1 AND 100),
    body       text NOT NULL CHECK (length(body) BETWEEN 1 AND 1600),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, title)
);

CREATE TABLE inbound_messages (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id              bigint NOT NULL REFERENCES orgs (id),
    sender_id           bigint NOT NULL,
    provider            text NOT NULL CHECK (provider IN ('twilio', 'telnyx')),
    provider_message_id text NOT NULL CHECK (length(provider_message_id) BETWEEN 1 AND 100),
    from_phone          text NOT NULL CHECK (tocsin_is_e164(from_phone)),
    contact_id          bigint,
    conversation_id     bigint,
    body                text NOT NULL CHECK (length(body) <= 10000),
    num_media           int NOT NULL DEFAULT 0 CHECK (num_media >= 0),
    intent              text CHECK (intent IN ('opt_out', 'opt_in_again', 'help', 'keyword', 'reply')),
    received_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (provider, provider_message_id),
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, sender_id) REFERENCES senders (org_id, id),
    FOREIGN KEY (org_id, contact_id) REFERENCES contacts (org_id, id),
    FOREIGN KEY (org_id, conversation_id) REFERENCES conversations (org_id, id)
);
CREATE INDEX inbound_conversation ON inbound_messages (conversation_id, received_at);

ALTER TABLE subscriptions
    ADD FOREIGN KEY (org_id, evidence_inbound_id) REFERENCES inbound_messages (org_id, id);

CREATE TABLE messages (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id              bigint NOT NULL REFERENCES orgs (id),
    sender_id           bigint NOT NULL,
    provider            text NOT NULL CHECK (provider IN ('twilio', 'telnyx')),
    contact_id          bigint,
    to_phone            text NOT NULL CHECK (tocsin_is_e164(to_phone)),
    body                text NOT NULL CHECK (length(body) BETWEEN 1 AND 1600),
    encoding            text NOT NULL CHECK (encoding IN ('GSM-7', 'UCS-2')),
    segments            int NOT NULL CHECK (segments BETWEEN 1 AND 100),
    lane                text NOT NULL CHECK (lane IN ('conversational', 'bulk')),
    state               text NOT NULL DEFAULT 'queued'
                        CHECK (state IN ('queued', 'sending', 'sent', 'delivered', 'undelivered',
                                         'failed', 'unknown', 'suppressed', 'cancelled')),
    not_before          timestamptz NOT NULL DEFAULT now(),
    validity_until      timestamptz,      -- end of the recipient's quiet-hours window
    lease_until         timestamptz,      -- while 'sending': the claiming worker's lease
    claimed_by          text,
    request_sent_at     timestamptz,      -- set just before the HTTP request leaves
    attempts            int NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    provider_message_id text,
    error_code          text,
    error_message       text,
    blast_id            bigint,
    conversation_id     bigint,
    inbound_id          bigint,           -- the member message this answers (confirmations)
    sent_by_user_id     bigint,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    sent_at             timestamptz,
    finalized_at        timestamptz,
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, sender_id) REFERENCES senders (org_id, id),
    FOREIGN KEY (org_id, contact_id) REFERENCES contacts (org_id, id),
    FOREIGN KEY (org_id, blast_id) REFERENCES blasts (org_id, id),
    FOREIGN KEY (org_id, conversation_id) REFERENCES conversations (org_id, id),
    FOREIGN KEY (org_id, inbound_id) REFERENCES inbound_messages (org_id, id),
    FOREIGN KEY (org_id, sent_by_user_id) REFERENCES users (org_id, id),
    CHECK (state <> 'sending' OR (lease_until IS NOT NULL AND claimed_by IS NOT NULL)),
    CHECK (state NOT IN ('sent', 'delivered') OR provider_message_id IS NOT NULL)
) WITH (fillfactor = 80,
        autovacuum_vacuum_scale_factor = 0.01,
        autovacuum_vacuum_threshold = 1000,
        autovacuum_vacuum_cost_delay = 0,
        autovacuum_analyze_scale_factor = 0.02);

-- The claim: per sender, conversational lane first, due rows in order.
CREATE INDEX messages_claimable ON messages (sender_id, lane, not_before, id) WHERE state = 'queued';
-- The lease sweep after a worker dies.
CREATE INDEX messages_leases ON messages (lease_until) WHERE state = 'sending';
CREATE UNIQUE INDEX messages_provider_id ON messages (provider, provider_message_id)
    WHERE provider_message_id IS NOT NULL;
CREATE INDEX messages_blast ON messages (blast_id, state) WHERE blast_id IS NOT NULL;
CREATE INDEX messages_conversation ON messages (conversation_id, created_at) WHERE conversation_id IS NOT NULL;
CREATE INDEX messages_contact_queued ON messages (org_id, to_phone) WHERE state = 'queued';

-- Receipts that arrive before the worker has recorded the provider id.
CREATE TABLE delivery_receipts_pending (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider            text NOT NULL CHECK (provider IN ('twilio', 'telnyx')),
    provider_message_id text NOT NULL,
    status              text NOT NULL,
    error_code          text,
    payload             jsonb,
    received_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX receipts_pending_lookup ON delivery_receipts_pending (provider, provider_message_id);
