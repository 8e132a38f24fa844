-- SPDX-License-Identifier: AGPL-3.0-or-later
-- import_uploads: a large import uploaded in chunks (schema 029; the
-- dashboard's api_import_upload.c). An upload is its uploader's: another
-- user, or another org, finds no such upload (404). The import itself is
-- lib/contacts_import's, which marks the upload imported inside its own
-- transaction (api_import_upload.c's before_commit).
--
-- A repeatable file: edited in place; tocsinctl migrate applies it again
-- when it changes (schema/README.md).

-- Starts an upload of p_size bytes (the caller caps it) after ending the
-- org's uploads abandoned for a day. At most 4 open uploads per user.
CREATE OR REPLACE FUNCTION tocsin_import_upload_create(p_org bigint, p_user bigint, p_filename text,
    p_preset text, p_mapping jsonb, p_list text, p_size bigint)
RETURNS TABLE (status int, body json) LANGUAGE plpgsql AS $$
DECLARE
    v_id bigint;
BEGIN
    WITH gone AS (
        UPDATE import_uploads SET state = 'expired', error = 'abandoned: no chunk for a day',
               updated_at = now()
         WHERE org_id = p_org AND state = 'uploading' AND updated_at < now() - interval '1 day'
        RETURNING id)
    DELETE FROM import_upload_chunks WHERE upload_id IN (SELECT id FROM gone);
    IF (SELECT count(*) FROM import_uploads
         WHERE org_id = p_org AND created_by = p_user AND state = 'uploading') >= 4 THEN
        RETURN QUERY SELECT 429, tocsin_api_error(429, 'busy',
            'you have 4 uploads under way: finish or wait for one before starting another');
        RETURN;
    END IF;
    INSERT INTO import_uploads (org_id, created_by, filename, preset, mapping, list_name, size_bytes)
    VALUES (p_org, p_user, p_filename, p_preset, p_mapping, nullif(p_list, ''), p_size)
    RETURNING id INTO v_id;
    RETURN QUERY SELECT 201, tocsin_import_upload_json(u) FROM import_uploads u WHERE u.id = v_id;
END
$$;

-- What the browser sees of an upload.
CREATE OR REPLACE FUNCTION tocsin_import_upload_json(u import_uploads) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object('id', u.id, 'state', u.state, 'filename', u.filename,
                             'preset', u.preset, 'list', u.list_name, 'size', u.size_bytes,
                             'received', u.received_bytes, 'rows_read', u.rows_read,
                             'error', u.error, 'report', u.report)
$$;

CREATE OR REPLACE FUNCTION tocsin_import_upload_show(p_org bigint, p_user bigint, p_id bigint)
RETURNS TABLE (status int, body json) LANGUAGE sql STABLE AS $$
    SELECT 200, tocsin_import_upload_json(u) FROM import_uploads u
     WHERE u.org_id = p_org AND u.created_by = p_user AND u.id = p_id
$$;

-- Appends the chunk that starts at byte p_offset. Chunks come in order:
-- one at another offset gets 409 with what was received (the browser
-- resumes from there: a chunk lost with its connection is sent again).
-- A chunk past the announced size ends the upload: 413, nothing kept.
CREATE OR REPLACE FUNCTION tocsin_import_upload_append(p_org bigint, p_user bigint, p_id bigint,
    p_offset bigint, p_data bytea)
RETURNS TABLE (status int, body json) LANGUAGE plpgsql AS $$
DECLARE
    u import_uploads;
BEGIN
    SELECT * INTO u FROM import_uploads
     WHERE org_id = p_org AND created_by = p_user AND id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 404, tocsin_api_error(404, 'not_found', 'no such upload');
        RETURN;
    END IF;
    IF u.state <> 'uploading' THEN
        RETURN QUERY SELECT 409, tocsin_api_error(409, 'upload_' || u.state,
            'this upload is ' || u.state || coalesce(': ' || u.error, '') || '; start again');
        RETURN;
    END IF;
    IF p_offset <> u.received_bytes THEN
        RETURN QUERY SELECT 409, json_build_object('error', json_build_object('status', 409,
            'code', 'wrong_offset', 'message', 'the upload goes on from byte ' || u.received_bytes,
            'received', u.received_bytes));
        RETURN;
    END IF;
    IF u.received_bytes + length(p_data) > u.size_bytes THEN
        UPDATE import_uploads SET state = 'failed', updated_at = now(),
               error = 'the file is larger than the ' || u.size_bytes || ' bytes announced'
         WHERE id = p_id;
        DELETE FROM import_upload_chunks WHERE upload_id = p_id;
        RETURN QUERY SELECT 413, tocsin_api_error(413, 'too_large',
            'the file is larger than the ' || u.size_bytes || ' bytes announced: nothing was imported');
        RETURN;
    END IF;
    INSERT INTO import_upload_chunks (upload_id, seq, data) VALUES (p_id, u.chunks, p_data);
    UPDATE import_uploads SET received_bytes = received_bytes + length(p_data), chunks = chunks + 1,
           updated_at = now()
     WHERE id = p_id RETURNING * INTO u;
    RETURN QUERY SELECT 200, tocsin_import_upload_json(u);
END
$$;

-- Takes a complete upload for its import: 'uploading' with every byte,
-- or 'importing' untouched for an hour (its dashboard died mid-import:
-- that transaction rolled back, so running it again is safe). One row
-- with what the import needs, or a row with the refusal (status <> 200).
CREATE OR REPLACE FUNCTION tocsin_import_upload_claim(p_org bigint, p_user bigint, p_id bigint)
RETURNS TABLE (status int, body json, preset text, mapping text, list_name text, filename text,
               chunks int) LANGUAGE plpgsql AS $$
DECLARE
    u import_uploads;
BEGIN
    SELECT * INTO u FROM import_uploads
     WHERE org_id = p_org AND created_by = p_user AND id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 404, tocsin_api_error(404, 'not_found', 'no such upload'),
                            NULL::text, NULL::text, NULL::text, NULL::text, NULL::int;
        RETURN;
    END IF;
    IF u.state = 'uploading' AND u.received_bytes < u.size_bytes THEN
        RETURN QUERY SELECT 409, tocsin_api_error(409, 'upload_incomplete',
            'the upload is not complete: ' || u.received_bytes || ' of ' || u.size_bytes
            || ' bytes received'), NULL::text, NULL::text, NULL::text, NULL::text, NULL::int;
        RETURN;
    END IF;
    IF NOT (u.state = 'uploading' OR (u.state = 'importing' AND u.updated_at < now() - interval '1 hour')) THEN
        RETURN QUERY SELECT 409, tocsin_api_error(409, 'upload_' || u.state,
            'this upload is ' || u.state || coalesce(': ' || u.error, '')),
            NULL::text, NULL::text, NULL::text, NULL::text, NULL::int;
        RETURN;
    END IF;
    UPDATE import_uploads SET state = 'importing', rows_read = 0, updated_at = now() WHERE id = p_id;
    RETURN QUERY SELECT 200, NULL::json, u.preset, u.mapping::text, u.list_name, u.filename, u.chunks;
END
$$;

-- While an import runs, from another connection (its own transaction is
-- not visible until it commits): how many rows it has read, and that it
-- is alive (the claim's hour counts from here).
CREATE OR REPLACE FUNCTION tocsin_import_upload_progress(p_id bigint, p_rows bigint)
RETURNS void LANGUAGE sql AS $$
    UPDATE import_uploads SET rows_read = p_rows, updated_at = now()
     WHERE id = p_id AND state = 'importing';
$$;

-- Inside the import's transaction, just before it commits.
-- True when the upload was still this import's to finish.
CREATE OR REPLACE FUNCTION tocsin_import_upload_done(p_id bigint, p_report jsonb, p_batch bigint)
RETURNS boolean LANGUAGE sql AS $$
    DELETE FROM import_upload_chunks WHERE upload_id = p_id;
    UPDATE import_uploads SET state = 'imported', report = p_report, batch_id = p_batch,
           rows_read = (p_report->>'rows')::bigint, error = NULL, updated_at = now()
     WHERE id = p_id AND state = 'importing'
    RETURNING true;
$$;

-- After an import that wrote nothing: the reason kept, the chunks gone.
CREATE OR REPLACE FUNCTION tocsin_import_upload_failed(p_id bigint, p_error text, p_report jsonb)
RETURNS void LANGUAGE sql AS $$
    DELETE FROM import_upload_chunks WHERE upload_id = p_id;
    UPDATE import_uploads SET state = 'failed', error = left(p_error, 500), report = p_report,
           updated_at = now()
     WHERE id = p_id AND state = 'importing';
$$;
