-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 043_claim_arrays_lz4: the worker's claims (one row per claim of up to
-- 10,000 message ids) and send stamps (one row per stamp) keep their id
-- arrays compressed with lz4 instead of pglz.
--
-- A claim of 1,000 messages is an 8 kB array, over the 2 kB at which
-- PostgreSQL compresses a row's largest values. pglz cost about 11,000
-- instructions per message sent (ops/bench/outbound_db.sh --instructions:
-- 5% of the database's whole cost of a message, claim to outcome) for rows
-- that are deleted as soon as their messages' outcomes are recorded. lz4
-- compresses these runs of ids about as small for a tenth of the work. As
-- in 041, a server built without lz4 keeps pglz.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
        ALTER TABLE claims ALTER COLUMN message_ids SET COMPRESSION lz4;
        ALTER TABLE send_stamps ALTER COLUMN message_ids SET COMPRESSION lz4;
    END IF;
END $$;
