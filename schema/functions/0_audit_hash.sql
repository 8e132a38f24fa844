-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 0_audit_hash: the hash of one row of audit_events' chain (032): SHA-256
-- over the previous row's hash (32 bytes) followed by the row's canonical
-- encoding, in UTF-8:
--
--   "tocsin-audit-v1;" then, for each of id, org_id, seq, created_at (whole
--   microseconds since 1970-01-01 UTC), user_id, action, subject_type,
--   subject_id and details (jsonb's own text form, keys sorted), either
--   "N;" for NULL or "S" <byte length> ":" <text> ";".
--
-- Lengths make it unambiguous whatever the text holds. `tocsinctl audit
-- verify` (ops/tocsinctl/audit.c) builds the same bytes in C and hashes
-- them itself. Applied before the numbered migrations, since 032 chains the
-- existing rows with it: it names no table.
--
-- A repeatable file: edited in place; tocsinctl migrate applies it again
-- when it changes (schema/README.md). Changing the encoding breaks every
-- chain: add a v2 beside it instead.

CREATE OR REPLACE FUNCTION tocsin_audit_field(p text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT CASE WHEN p IS NULL THEN 'N;' ELSE 'S' || octet_length(p) || ':' || p || ';' END $$;

CREATE OR REPLACE FUNCTION tocsin_audit_hash(p_id bigint, p_org bigint, p_seq bigint, p_at timestamptz,
                                             p_user bigint, p_action text, p_subject_type text,
                                             p_subject_id bigint, p_details jsonb, p_prev bytea)
RETURNS bytea LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT sha256(p_prev || convert_to(
        'tocsin-audit-v1;' || tocsin_audit_field(p_id::text) || tocsin_audit_field(p_org::text)
        || tocsin_audit_field(p_seq::text)
        || tocsin_audit_field((extract(epoch FROM p_at) * 1000000)::bigint::text)
        || tocsin_audit_field(p_user::text) || tocsin_audit_field(p_action)
        || tocsin_audit_field(p_subject_type) || tocsin_audit_field(p_subject_id::text)
        || tocsin_audit_field(p_details::text), 'UTF8'))
$$;
