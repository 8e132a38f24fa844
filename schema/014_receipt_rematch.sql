-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 014_receipt_rematch: a delivery receipt can be left waiting for good.
-- tocsin_apply_receipt (004) keeps a receipt whose provider id no message
-- has yet in delivery_receipts_pending, and tocsin_record_outcomes matches
-- those when it records the ids. When the two run at the same time, each
-- misses the other's uncommitted row: the receipt sees no message with its
-- id, the outcomes see no pending receipt, both commit, and the receipt
-- waits forever (test_worker_receipts caught 8 of 200). Rather than a lock
-- per message on the worker's hot path, the worker sweeps: every few
-- seconds, pending receipts whose message now has the id are applied.
-- Receipts apply in any order (a state only moves forward), so a late
-- match changes nothing but the delay.
CREATE FUNCTION tocsin_receipts_rematch() RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    v_receipt record;
    v_count int := 0;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM delivery_receipts_pending) THEN
        RETURN 0;
    END IF;
    FOR v_receipt IN
        DELETE FROM delivery_receipts_pending p
         USING messages m
         WHERE p.provider = m.provider AND p.provider_message_id = m.provider_message_id
        RETURNING p.*
    LOOP
        PERFORM tocsin_apply_receipt(v_receipt.provider, v_receipt.provider_message_id, v_receipt.status,
                                     v_receipt.error_code, v_receipt.payload);
        v_count := v_count + 1;
    END LOOP;
    RETURN v_count;
END $$;
