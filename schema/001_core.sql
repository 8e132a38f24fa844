-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 001_core: organisations, people, sessions and the audit trail.
--
-- Conventions for every migration:
-- * ids are identity bigints; every table carries org_id, and tables that
--   others point at also have UNIQUE (org_id, id) so children can use a
--   composite foreign key (org_id, x_id): no row can reference another
--   org's row, whatever a query forgets.
-- * CHECK constraints hold the invariants (E.164 numbers, states, roles).
-- * Timestamps are timestamptz.
--
-- Its functions, views and triggers now live, once each, in
-- schema/functions/ (see schema/README.md).

CREATE TABLE orgs (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug          text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    parent_org_id bigint REFERENCES orgs (id),   -- national body -> chapters
    help_text     text CHECK (length(help_text) <= 1600),  -- the HELP reply
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (parent_org_id IS DISTINCT FROM id)
);

CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id        bigint NOT NULL REFERENCES orgs (id),
    email         text NOT NULL CHECK (email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' AND length(email) <= 254),
    display_name  text NOT NULL DEFAULT '' CHECK (length(display_name) <= 200),
    role          text NOT NULL CHECK (role IN ('admin', 'lead', 'volunteer')),
    password_hash text CHECK (password_hash LIKE '$argon2id$%'),  -- NULL until an invite is accepted
    disabled_at   timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id)
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- Sessions store only the SHA-256 of the cookie token.
CREATE TABLE sessions (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id       bigint NOT NULL,
    user_id      bigint NOT NULL,
    token_hash   bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    csrf_token   text NOT NULL CHECK (length(csrf_token) >= 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    remote_addr  text,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE,
    CHECK (expires_at > created_at)
);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- Invite links let a new volunteer set their own password.
CREATE TABLE invites (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id     bigint NOT NULL REFERENCES orgs (id),
    token_hash bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    email      text,
    role       text NOT NULL CHECK (role IN ('admin', 'lead', 'volunteer')),
    created_by bigint,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id)
);

-- Who did what and when: every send, assignment, opt-out and blast action.
CREATE TABLE audit_events (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id       bigint NOT NULL REFERENCES orgs (id),
    user_id      bigint,                 -- NULL: the system or the CLI
    action       text NOT NULL CHECK (action ~ '^[a-z_.]+$'),
    subject_type text,
    subject_id   bigint,
    details      jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(details) = 'object'),
    created_at   timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);
CREATE INDEX audit_events_org_time ON audit_events (org_id, created_at DESC);
