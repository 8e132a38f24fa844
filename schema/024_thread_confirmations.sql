-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 024_thread_confirmations: a conversation's thread also shows what its
-- sender sent the member outside any conversation — the JOIN or UNETE
-- confirmation, a HELP answer — which usually came before the member's
-- first reply (tocsin_dashboard_conversation, schema/functions/dashboard.sql).
--
-- Only messages with neither a conversation nor a blast are in this index:
-- a blast's million messages and every conversation message never enter
-- it, so it costs no write on the paths that make the traffic (021 measured
-- 12.6% more WAL per blast message for an index that took them all).
-- Newest first per (org, number, sender), so the thread reads at most 50.
CREATE INDEX messages_outside_conversation ON messages (org_id, to_phone, sender_id, created_at)
    WHERE conversation_id IS NULL AND blast_id IS NULL;
