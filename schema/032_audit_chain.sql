-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 032_audit_chain: what happened to member data (issue 20).
--
-- A tamper-evident chain over audit_events: each row carries its place in
-- its org's chain (seq, from 1), the hash of the row before it (prev_hash;
-- 32 zero bytes before the first) and its own hash, SHA-256 over the
-- previous hash and a canonical encoding of the row (tocsin_audit_hash,
-- functions/0_audit_hash.sql, which `tocsinctl audit verify` recomputes in
-- C). The insert trigger (functions/audit.sql) assigns them under a lock
-- on the org's row of audit_chain_heads, so concurrent writers queue and
-- cannot fork the chain; the head also records the last seq and hash, so
-- rows cut from the end are noticed, and an anchor (the last seq and hash
-- removed on purpose by tocsin_audit_prune) so that retention may drop the
-- oldest rows without breaking what remains.
--
-- Also: the alerts an org's admins see (a lead's big export, a volunteer
-- claiming unusually many conversations), the thresholds that raise them,
-- and the two-person rule for big blasts (an org's audience size above
-- which a blast needs a second lead's or an admin's approval).

ALTER TABLE audit_events
    ADD COLUMN seq bigint,
    ADD COLUMN prev_hash bytea,
    ADD COLUMN hash bytea;

CREATE TABLE audit_chain_heads (
    org_id      bigint PRIMARY KEY REFERENCES orgs (id),
    last_seq    bigint NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
    last_hash   bytea NOT NULL DEFAULT '\x0000000000000000000000000000000000000000000000000000000000000000'
                CHECK (length(last_hash) = 32),
    -- Rows up to anchor_seq were removed on purpose (retention); the first
    -- row kept follows anchor_hash.
    anchor_seq  bigint NOT NULL DEFAULT 0 CHECK (anchor_seq >= 0 AND anchor_seq <= last_seq),
    anchor_hash bytea NOT NULL DEFAULT '\x0000000000000000000000000000000000000000000000000000000000000000'
                CHECK (length(anchor_hash) = 32)
);

-- The rows already there are chained in the order they were written (by
-- id), one org after another.
DO $$
DECLARE
    r record;
    v_org bigint := NULL;
    v_seq bigint;
    v_prev bytea;
    v_hash bytea;
    v_zero constant bytea := '\x0000000000000000000000000000000000000000000000000000000000000000';
BEGIN
    FOR r IN SELECT * FROM audit_events ORDER BY org_id, id LOOP
        IF v_org IS DISTINCT FROM r.org_id THEN
            IF v_org IS NOT NULL THEN
                INSERT INTO audit_chain_heads (org_id, last_seq, last_hash) VALUES (v_org, v_seq, v_prev);
            END IF;
            v_org := r.org_id;
            v_seq := 0;
            v_prev := v_zero;
        END IF;
        v_seq := v_seq + 1;
        v_hash := tocsin_audit_hash(r.id, r.org_id, v_seq, r.created_at, r.user_id, r.action, r.subject_type,
                                    r.subject_id, r.details, v_prev);
        UPDATE audit_events SET seq = v_seq, prev_hash = v_prev, hash = v_hash WHERE id = r.id;
        v_prev := v_hash;
    END LOOP;
    IF v_org IS NOT NULL THEN
        INSERT INTO audit_chain_heads (org_id, last_seq, last_hash) VALUES (v_org, v_seq, v_prev);
    END IF;
END $$;

ALTER TABLE audit_events
    ALTER COLUMN seq SET NOT NULL,
    ALTER COLUMN prev_hash SET NOT NULL,
    ALTER COLUMN hash SET NOT NULL,
    ADD CONSTRAINT audit_events_hash_length CHECK (length(prev_hash) = 32 AND length(hash) = 32),
    ADD CONSTRAINT audit_events_org_seq UNIQUE (org_id, seq);

-- The audit screen's filter by person walks this; the claims alert counts
-- a volunteer's claims of the last hour with it.
CREATE INDEX audit_events_user_time ON audit_events (org_id, user_id, created_at DESC);

-- Thresholds (NULL: off). Exports: a lead's export of more than this many
-- contacts; claims: a volunteer's claims of more than this many
-- conversations within an hour; blasts: an audience above this size needs
-- a second person's approval before it can be scheduled.
ALTER TABLE orgs
    ADD COLUMN alert_export_over int DEFAULT 1000 CHECK (alert_export_over BETWEEN 1 AND 10000000),
    ADD COLUMN alert_claims_per_hour int DEFAULT 200 CHECK (alert_claims_per_hour BETWEEN 1 AND 100000),
    ADD COLUMN blast_approval_over int CHECK (blast_approval_over BETWEEN 1 AND 100000000);

CREATE TABLE audit_alerts (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id          bigint NOT NULL REFERENCES orgs (id),
    kind            text NOT NULL CHECK (kind IN ('export', 'claims')),
    user_id         bigint NOT NULL,          -- whose action raised it
    audit_event_id  bigint NOT NULL REFERENCES audit_events (id),
    details         jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(details) = 'object'),
    created_at      timestamptz NOT NULL DEFAULT now(),
    acknowledged_by bigint,
    acknowledged_at timestamptz,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, acknowledged_by) REFERENCES users (org_id, id),
    CHECK ((acknowledged_by IS NULL) = (acknowledged_at IS NULL))
);
CREATE INDEX audit_alerts_org ON audit_alerts (org_id, id DESC);
CREATE INDEX audit_alerts_open ON audit_alerts (org_id, user_id, kind, created_at DESC)
    WHERE acknowledged_at IS NULL;

-- The second person's approval of a blast and the audience count they
-- saw; cleared when the blast's body, list, filter or sender changes
-- (functions/audit.sql).
ALTER TABLE blasts
    ADD COLUMN approved_by bigint,
    ADD COLUMN approved_at timestamptz,
    ADD COLUMN approved_count int,
    ADD CONSTRAINT blasts_approved_by_fk FOREIGN KEY (org_id, approved_by) REFERENCES users (org_id, id),
    ADD CONSTRAINT blasts_approval_whole CHECK ((approved_by IS NULL) = (approved_at IS NULL)
                                                AND (approved_at IS NULL) = (approved_count IS NULL));
