-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 041_inbound_journal_storage: a journal row (040: one burst batch, its
-- replies side by side in arrays) is compressed with lz4 instead of pglz.
--
-- A batch of 50 replies is a row of about 5 kB, over the 2 kB at which
-- PostgreSQL compresses a row's largest values; pglz then cost about 8,000
-- instructions per reply (ops/bench/inbound_db.sh: 2% of a journaled
-- reply's cost, the journal's largest single item), for a row the applier
-- deletes within seconds. lz4 costs a tenth of that and writes as few
-- bytes of WAL here (1,590 per reply, new numbers: ops/bench/inbound.sh).
-- Keeping rows uncompressed up to a page (toast_tuple_target 8160) saved
-- about 1,000 instructions more but wrote 55 bytes more WAL per reply.
-- Where the server was built without lz4, pglz stays.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
        ALTER TABLE inbound_journal
            ALTER COLUMN provider SET COMPRESSION lz4,
            ALTER COLUMN provider_message_id SET COMPRESSION lz4,
            ALTER COLUMN sender_id SET COMPRESSION lz4,
            ALTER COLUMN from_phone SET COMPRESSION lz4,
            ALTER COLUMN body SET COMPRESSION lz4,
            ALTER COLUMN num_media SET COMPRESSION lz4,
            ALTER COLUMN likely_revocation SET COMPRESSION lz4;
    END IF;
END $$;
