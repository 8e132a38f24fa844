-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 033_retention: keeping less (issue 20). How long an org keeps message
-- bodies, sessions and audit rows; which contact fields its volunteers
-- see; a body's trace once removed (its length; the segment count is
-- messages.segments already); a contact forgotten; the nightly run's
-- schedule and where it starts walking texts. Audit rows go through
-- 032's tocsin_audit_prune, which keeps the chain's anchor. The functions are schema/functions/retention.sql and
-- forget.sql; docs/security.md explains every setting.

-- Days each kind is kept (the nightly run, tocsin_retention_batch).
-- Consent events and opt-outs are not settings: five years, and an
-- opt-out in force is never removed (retention.sql).
ALTER TABLE orgs
    ADD COLUMN retain_outbound_days int NOT NULL DEFAULT 365 CHECK (retain_outbound_days BETWEEN 30 AND 3650),
    ADD COLUMN retain_inbound_days int NOT NULL DEFAULT 365 CHECK (retain_inbound_days BETWEEN 30 AND 3650),
    ADD COLUMN retain_session_days int NOT NULL DEFAULT 30 CHECK (retain_session_days BETWEEN 1 AND 365),
    ADD COLUMN retain_audit_days int NOT NULL DEFAULT 730 CHECK (retain_audit_days BETWEEN 90 AND 3650),
    -- Contact fields a volunteer sees: first_name, last_name, zip, or the
    -- name of a custom field. The number is never among them (masked).
    ADD COLUMN volunteer_fields text[] NOT NULL DEFAULT '{first_name}'
        CHECK (cardinality(volunteer_fields) <= 50);

-- A removed body is '' with its length kept; delivery facts (state,
-- segments, times, carrier ids, error codes) stay. The new check is
-- weaker than the old (every row passed that), so it is not validated:
-- no scan of messages under this migration's lock.
ALTER TABLE messages
    ADD COLUMN body_removed_at timestamptz,
    ADD COLUMN body_chars int CHECK (body_chars BETWEEN 0 AND 1600),
    DROP CONSTRAINT messages_body_check,
    ADD CONSTRAINT messages_body_check
        CHECK (length(body) <= 1600 AND (length(body) >= 1 OR body_removed_at IS NOT NULL)) NOT VALID;

ALTER TABLE inbound_messages
    ADD COLUMN body_removed_at timestamptz,
    ADD COLUMN body_chars int CHECK (body_chars BETWEEN 0 AND 10000);

-- A forgotten contact keeps its number (its subscriptions are consent
-- history, and opt-outs are by number) and nothing else.
ALTER TABLE contacts ADD COLUMN forgotten_at timestamptz;

CREATE INDEX consent_events_created ON consent_events (created_at);

-- When the worker runs retention next (one row). The worker that moves
-- next_run_at on runs it (tocsin_retention_claim); hour_utc is the hour
-- of the day it runs at (09:00 UTC: night in the Americas).
CREATE TABLE retention_schedule (
    id int PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    hour_utc smallint NOT NULL DEFAULT 9 CHECK (hour_utc BETWEEN 0 AND 23),
    next_run_at timestamptz,
    last_started_at timestamptz,
    last_finished_at timestamptz,
    last_by text,
    last_counts jsonb
);
INSERT INTO retention_schedule (id) VALUES (1);

-- Where a nightly run starts walking message texts (retention.sql): every
-- message below from_id has had its text removed already. first_kept is
-- the current run's first message that kept its text, once it has seen
-- one; the run's end makes it the next from_id.
CREATE TABLE retention_marks (
    kind text PRIMARY KEY CHECK (kind IN ('outbound_bodies', 'inbound_bodies')),
    from_id bigint NOT NULL DEFAULT 0,
    first_kept bigint
);
INSERT INTO retention_marks (kind) VALUES ('outbound_bodies'), ('inbound_bodies');
