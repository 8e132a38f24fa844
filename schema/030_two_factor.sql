-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 030_two_factor: two-factor login and the sessions a person can see
-- (issue 20; docs/accounts.md). A login whose password was right but
-- whose second step is still owed is a session of stage 'code' (type a
-- code) or 'enrol' (set up an authenticator first: the org requires it
-- for her role); such a session opens only the routes of that step, for
-- a few minutes and a few tries (dashboard/api_two_factor.c).

-- "Require two-factor login for admins and leads": on by default, for the
-- orgs there are too.
ALTER TABLE orgs ADD COLUMN require_two_factor boolean NOT NULL DEFAULT true;

ALTER TABLE sessions
    ADD COLUMN stage text NOT NULL DEFAULT 'full' CHECK (stage IN ('full', 'code', 'enrol')),
    -- codes tried in this half-logged-in session (at most 5, then it ends)
    ADD COLUMN factor_attempts smallint NOT NULL DEFAULT 0 CHECK (factor_attempts BETWEEN 0 AND 10),
    -- the browser's User-Agent, printable ASCII and cut to 256 bytes, to
    -- show the person which device a session is
    ADD COLUMN user_agent text CHECK (length(user_agent) <= 256);

-- A user's authenticator. The secret is kept as it is (the dashboard
-- holds no key to seal it with: docs/accounts.md says why that is the
-- choice) and never leaves the database after enrolment. last_step is the
-- 30-second step of the last code accepted: a code is taken only for a
-- later step, so each works once.
CREATE TABLE user_totp (
    user_id      bigint PRIMARY KEY,
    org_id       bigint NOT NULL,
    secret       bytea NOT NULL CHECK (length(secret) = 20),
    created_at   timestamptz NOT NULL DEFAULT now(),
    confirmed_at timestamptz, -- NULL: enrolment begun, no code typed yet
    last_step    bigint NOT NULL DEFAULT 0,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);

-- Ten single-use recovery codes per enrolment, kept as SHA-256 of their
-- 80 random bits (too many to guess even with the hash in hand).
CREATE TABLE recovery_codes (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id     bigint NOT NULL,
    user_id    bigint NOT NULL,
    code_hash  bytea NOT NULL CHECK (length(code_hash) = 32),
    created_at timestamptz NOT NULL DEFAULT now(),
    used_at    timestamptz,
    UNIQUE (user_id, code_hash),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);
