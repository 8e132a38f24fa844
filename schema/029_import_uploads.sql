-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 029_import_uploads: a large import uploaded from the browser in chunks
-- (dashboard/api_import_upload.c, schema/functions/import_uploads.sql).
--
-- The upload is a resumable job with a clear state: 'uploading' while its
-- chunks arrive (in order, each checked against the size announced at the
-- start, which the dashboard caps at 64 MiB); 'importing' once its import
-- runs (lib/contacts_import, one transaction); 'imported' when that
-- transaction committed (the state changes in it); 'failed' (nothing
-- imported, the reason kept); 'expired' (abandoned for a day). The
-- chunks live in PostgreSQL, the only state dashboard processes share, so
-- any process may take the next chunk; they are deleted when the upload
-- ends either way.
CREATE TABLE import_uploads (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id bigint NOT NULL,
    created_by bigint NOT NULL,
    filename text NOT NULL CHECK (length(filename) BETWEEN 1 AND 200),
    preset text NOT NULL CHECK (length(preset) BETWEEN 1 AND 40),
    mapping jsonb NOT NULL CHECK (jsonb_typeof(mapping) = 'array'),
    list_name text CHECK (length(list_name) BETWEEN 1 AND 200),
    size_bytes bigint NOT NULL CHECK (size_bytes > 0),
    received_bytes bigint NOT NULL DEFAULT 0 CHECK (received_bytes BETWEEN 0 AND size_bytes),
    chunks integer NOT NULL DEFAULT 0 CHECK (chunks >= 0),
    rows_read bigint NOT NULL DEFAULT 0 CHECK (rows_read >= 0), -- while importing: how far it got
    state text NOT NULL DEFAULT 'uploading'
        CHECK (state IN ('uploading', 'importing', 'imported', 'failed', 'expired')),
    error text,
    report jsonb,
    batch_id bigint,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, batch_id) REFERENCES import_batches (org_id, id)
);
CREATE INDEX import_uploads_open ON import_uploads (updated_at)
    WHERE state IN ('uploading', 'importing');
CREATE INDEX import_uploads_by_user ON import_uploads (org_id, created_by);
CREATE INDEX import_uploads_batch ON import_uploads (org_id, batch_id) WHERE batch_id IS NOT NULL;

CREATE TABLE import_upload_chunks (
    upload_id bigint NOT NULL REFERENCES import_uploads (id) ON DELETE CASCADE,
    seq integer NOT NULL CHECK (seq >= 0),
    data bytea NOT NULL,
    PRIMARY KEY (upload_id, seq)
);
