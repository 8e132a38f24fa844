-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 002_contacts: contacts, consent and audiences.
--
-- Opt-outs are keyed by (org, phone), not by contact: deleting or
-- re-importing a contact can never clear an opt-out, and the worker checks
-- the number it is about to text. consent_events is the append-only
-- history (opt-ins and opt-outs, source and evidence) kept five years.

CREATE TABLE contacts (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id     bigint NOT NULL REFERENCES orgs (id),
    phone      text NOT NULL CHECK (tocsin_is_e164(phone)),
    first_name text CHECK (length(first_name) <= 100),
    last_name  text CHECK (length(last_name) <= 100),
    zip        text CHECK (zip ~ '^[0-9]{5}$'),
    timezone   text CHECK (length(timezone) <= 64),   -- IANA zone when known
    fields     jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(fields) = 'object'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, phone),
    UNIQUE (org_id, id)
);

CREATE TABLE opt_outs (
    org_id       bigint NOT NULL REFERENCES orgs (id),
    phone        text NOT NULL CHECK (tocsin_is_e164(phone)),
    opted_out_at timestamptz NOT NULL DEFAULT now(),
    source       text NOT NULL CHECK (source IN ('keyword', 'carrier', 'volunteer', 'import', 'admin')),
    evidence     text,                    -- inbound message id, carrier error, user id
    PRIMARY KEY (org_id, phone)
);

CREATE TABLE consent_events (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id     bigint NOT NULL REFERENCES orgs (id),
    phone      text NOT NULL CHECK (tocsin_is_e164(phone)),
    event      text NOT NULL CHECK (event IN ('opt_in', 'opt_out')),
    source     text NOT NULL CHECK (source IN ('keyword', 'import', 'form', 'carrier', 'volunteer', 'admin', 'api')),
    list_id    bigint,
    evidence   text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX consent_events_phone ON consent_events (org_id, phone, created_at);

CREATE TABLE lists (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id     bigint NOT NULL REFERENCES orgs (id),
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, name),
    UNIQUE (org_id, id)
);

CREATE TABLE import_batches (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id        bigint NOT NULL REFERENCES orgs (id),
    filename      text NOT NULL,
    list_id       bigint,
    created_by    bigint,                 -- users.id; NULL from the CLI
    rows_total    int NOT NULL DEFAULT 0 CHECK (rows_total >= 0),
    rows_imported int NOT NULL DEFAULT 0 CHECK (rows_imported >= 0),
    rows_updated  int NOT NULL DEFAULT 0 CHECK (rows_updated >= 0),
    rows_rejected int NOT NULL DEFAULT 0 CHECK (rows_rejected >= 0),
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, list_id) REFERENCES lists (org_id, id),
    FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id)
);

CREATE TABLE subscriptions (
    org_id              bigint NOT NULL REFERENCES orgs (id),
    list_id             bigint NOT NULL,
    contact_id          bigint NOT NULL,
    source              text NOT NULL CHECK (source IN ('keyword', 'import', 'form', 'api')),
    consented_at        timestamptz NOT NULL DEFAULT now(),
    evidence_inbound_id bigint,           -- the inbound message (keyword source)
    evidence_import_id  bigint,           -- the import batch (import source)
    unsubscribed_at     timestamptz,
    PRIMARY KEY (list_id, contact_id),
    FOREIGN KEY (org_id, list_id) REFERENCES lists (org_id, id),
    FOREIGN KEY (org_id, contact_id) REFERENCES contacts (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, evidence_import_id) REFERENCES import_batches (org_id, id),
    CHECK ((source = 'import') = (evidence_import_id IS NOT NULL))
);
CREATE INDEX subscriptions_contact ON subscriptions (contact_id);

CREATE TABLE tags (
    id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id bigint NOT NULL REFERENCES orgs (id),
    name   text NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    UNIQUE (org_id, name),
    UNIQUE (org_id, id)
);
