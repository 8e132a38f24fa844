-- SPDX-License-Identifier: AGPL-3.0-or-later
-- message_lookups: the narrow tables that stand in for indexes on the
-- columns a message's outcome changes (schema 035) — message_carrier_ids
-- (receipts find their message by the carrier's id) and unknown_messages
-- (the outcomes an operator has to check) — kept equal to messages by
-- statement triggers, whoever writes the rows (the worker, a receipt, an
-- operator's SQL). The readers are in worker.sql, inbound.sql, blasts.sql.
--
-- A repeatable file: edited in place; tocsinctl migrate applies it again
-- when it changes (schema/README.md).

-- A carrier id already held by another message fails the statement that
-- gives it (unique_violation), as the unique index on messages did.
CREATE OR REPLACE FUNCTION tocsin_message_lookups_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH c AS (
        INSERT INTO message_carrier_ids (provider_message_id, provider, message_id)
        SELECT n.provider_message_id, n.provider, n.id FROM new_rows n WHERE n.provider_message_id IS NOT NULL)
    INSERT INTO unknown_messages (message_id, org_id, sender_id, blast_id)
    SELECT n.id, n.org_id, n.sender_id, n.blast_id FROM new_rows n WHERE n.state = 'unknown';
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER messages_lookups_insert AFTER INSERT ON messages
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tocsin_message_lookups_insert();

-- No statement here joins old_rows to new_rows: the plan of a trigger's
-- statement is made once per session, with the size of the first call's
-- transition tables (often none: an UPDATE that matched no row), and a
-- nested loop between two transition tables cost more than the rest of an
-- outcome. One scan of old_rows tells what else to do. When no old row had
-- a carrier id (an outcome batch), the new ones are simply inserted: one
-- already held fails the statement, as the unique index on messages did.
-- Otherwise (a receipt, a body removed, an id changed by hand) the ids the
-- messages no longer have leave (probing messages by key, which shows
-- this statement's new rows), one already there is skipped, and only when
-- one was is it checked that it is this message's.
CREATE OR REPLACE FUNCTION tocsin_message_lookups_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_had_ids boolean;
    v_had_unknown boolean;
    v_given int;
    v_new int;
    v_held record;
BEGIN
    SELECT coalesce(bool_or(o.provider_message_id IS NOT NULL), false), coalesce(bool_or(o.state = 'unknown'), false)
      INTO v_had_ids, v_had_unknown FROM old_rows o;
    IF NOT v_had_ids THEN
        WITH ins AS (
            INSERT INTO message_carrier_ids (provider_message_id, provider, message_id)
            SELECT n.provider_message_id, n.provider, n.id FROM new_rows n WHERE n.provider_message_id IS NOT NULL)
        INSERT INTO unknown_messages (message_id, org_id, sender_id, blast_id)
        SELECT n.id, n.org_id, n.sender_id, n.blast_id FROM new_rows n WHERE n.state = 'unknown'
        ON CONFLICT (message_id) DO NOTHING;
    ELSE
        -- An id the message no longer has (changed, cleared) leaves.
        DELETE FROM message_carrier_ids c USING old_rows o
         WHERE o.provider_message_id IS NOT NULL
           AND c.provider_message_id = o.provider_message_id AND c.provider = o.provider AND c.message_id = o.id
           AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = o.id AND m.provider = o.provider
                                                      AND m.provider_message_id = o.provider_message_id);
        WITH c AS (
            SELECT n.provider_message_id, n.provider, n.id FROM new_rows n WHERE n.provider_message_id IS NOT NULL),
        ins AS (
            INSERT INTO message_carrier_ids (provider_message_id, provider, message_id)
            SELECT c.provider_message_id, c.provider, c.id FROM c
            ON CONFLICT (provider_message_id, provider) DO NOTHING
            RETURNING 1),
        unk AS (
            INSERT INTO unknown_messages (message_id, org_id, sender_id, blast_id)
            SELECT n.id, n.org_id, n.sender_id, n.blast_id FROM new_rows n WHERE n.state = 'unknown'
            ON CONFLICT (message_id) DO NOTHING)
        SELECT count(*), (SELECT count(*) FROM ins) INTO v_given, v_new FROM c;
        IF v_new < v_given THEN
            SELECT n.provider, n.provider_message_id INTO v_held
              FROM new_rows n JOIN message_carrier_ids k
                   ON k.provider_message_id = n.provider_message_id AND k.provider = n.provider
             WHERE k.message_id <> n.id
             LIMIT 1;
            IF FOUND THEN
                RAISE EXCEPTION 'duplicate key value violates unique constraint "message_carrier_ids_pkey"'
                    USING ERRCODE = 'unique_violation', CONSTRAINT = 'message_carrier_ids_pkey',
                          TABLE = 'message_carrier_ids',
                          DETAIL = format('Key (provider_message_id, provider)=(%s, %s) already exists.',
                                          v_held.provider_message_id, v_held.provider);
            END IF;
        END IF;
    END IF;
    IF v_had_unknown THEN
        DELETE FROM unknown_messages u USING new_rows n WHERE u.message_id = n.id AND n.state <> 'unknown';
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER messages_lookups_update AFTER UPDATE ON messages
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tocsin_message_lookups_update();

CREATE OR REPLACE FUNCTION tocsin_message_lookups_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH c AS (
        DELETE FROM message_carrier_ids c USING old_rows o
         WHERE o.provider_message_id IS NOT NULL
           AND c.provider_message_id = o.provider_message_id AND c.provider = o.provider AND c.message_id = o.id)
    DELETE FROM unknown_messages u USING old_rows o WHERE o.state = 'unknown' AND u.message_id = o.id;
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER messages_lookups_delete AFTER DELETE ON messages
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION tocsin_message_lookups_delete();

-- The message that has carrier id p_message_id of p_provider, if any
-- (checked against the message itself too: its row is read anyway).
CREATE OR REPLACE FUNCTION tocsin_message_by_carrier_id(p_provider text, p_message_id text) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT c.message_id FROM message_carrier_ids c JOIN messages m ON m.id = c.message_id
     WHERE c.provider = p_provider AND c.provider_message_id = p_message_id
       AND m.provider = p_provider AND m.provider_message_id = p_message_id
$$;
