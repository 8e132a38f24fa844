-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 026_review: a lead's Message review (schema/functions/review.sql).
--
-- A bulk reassignment writes one audit event naming its ids, with the new
-- holder as its subject; a volunteer who lost a conversation that way
-- still learns who took it (tocsin_dashboard_handoff), found by the new
-- holder as 021's index finds a single reassignment by its conversation.
-- The list itself needs no new index: it walks conversations by
-- UNIQUE (org_id, id), and its text search is ILIKE on the last message
-- (why: schema/functions/review.sql).
CREATE INDEX audit_events_bulk_assign ON audit_events (subject_id, created_at DESC)
    WHERE action = 'conversation.bulk_assign';
