-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 031_sso: single sign-on with OpenID Connect (issue 20). An org's admin
-- names its provider (issuer, client id, client secret) and turns it on;
-- each sign-in that starts keeps its state, nonce and PKCE verifier here
-- until the provider sends the browser back (single use, ten minutes).
-- The flow is dashboard/sso_start.c and sso_callback.c; the functions
-- schema/functions/sso.sql.

-- One provider per org. The client secret is stored as given: the
-- dashboard must read it at every sign-in and holds no key that opens
-- anything (TOCSIN_SECRET_KEY stays with the gateway and worker; the
-- public sealing key seals for them). No API route ever returns it; what a
-- copy of the database reveals is in docs/security.md, "Single sign-on".
CREATE TABLE org_sso (
    org_id        bigint PRIMARY KEY REFERENCES orgs (id),
    enabled       boolean NOT NULL DEFAULT false,
    issuer        text NOT NULL CHECK (issuer ~ '^https?://[^[:space:]]+$' AND length(issuer) <= 500),
    client_id     text NOT NULL CHECK (length(client_id) BETWEEN 1 AND 255),
    client_secret text CHECK (length(client_secret) BETWEEN 1 AND 500),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    updated_by    bigint,
    FOREIGN KEY (org_id, updated_by) REFERENCES users (org_id, id)
);

-- A sign-in under way. Only hashes of the state (in the provider's
-- redirect) and of the browser's cookie (tocsin_sso) are kept: a copy of
-- this table cannot finish anyone's sign-in.
CREATE TABLE sso_logins (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id        bigint NOT NULL REFERENCES orgs (id),
    state_hash    bytea NOT NULL UNIQUE CHECK (length(state_hash) = 32),
    browser_hash  bytea NOT NULL CHECK (length(browser_hash) = 32),
    nonce         text NOT NULL CHECK (length(nonce) BETWEEN 32 AND 128),
    code_verifier text NOT NULL CHECK (code_verifier ~ '^[A-Za-z0-9._~-]{43,128}$'),
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    CHECK (expires_at > created_at)
);
CREATE INDEX sso_logins_expiry ON sso_logins (expires_at);
