-- SPDX-License-Identifier: AGPL-3.0-or-later
-- opt_outs: an admin's view and undo of one number's opt-out (issue 19;
-- the dashboard's api_opt_outs.c). The import of an opt-out list is
-- lib/contacts_import's (opts->opt_outs), not SQL here.
--
-- A repeatable file: edited in place; tocsinctl migrate applies it again
-- when it changes (schema/README.md).

-- Why an admin may not undo the opt-out of p_phone, or NULL when she may:
-- no opt-out; or the number's own STOP (source keyword or carrier) is its
-- latest event — the opt-out came from the member or the carrier, or the
-- member sent a stop word after it began. Only the member can undo that,
-- by texting START.
CREATE OR REPLACE FUNCTION tocsin_opt_out_undo_refusal(p_org bigint, p_phone text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN o.phone IS NULL THEN 'this number is not opted out'
        WHEN o.source IN ('keyword', 'carrier')
        THEN 'the member opted out themselves (' || CASE o.source WHEN 'keyword' THEN 'they texted a stop word'
             ELSE 'their carrier reported it' END || '): only they can undo it, by texting START'
        WHEN EXISTS (SELECT 1 FROM inbound_messages i
                      WHERE i.org_id = p_org AND i.from_phone = p_phone AND i.intent = 'opt_out'
                        AND i.received_at >= o.opted_out_at)
        THEN 'the member texted a stop word after this opt-out: only they can undo it, by texting START'
        END
      FROM (SELECT 1) one
      LEFT JOIN opt_outs o ON o.org_id = p_org AND o.phone = p_phone
$$;

-- An admin's undo of one opt-out (p_phone already E.164, p_reason
-- checked by the caller): the opt-out goes, an opt_in consent event of
-- source 'admin' records who and why, the subscriptions that opt-out
-- ended come back (as START gives them back), and the audit event keeps
-- the reason. Serialised with the number's inbound messages (019's
-- advisory lock), so a STOP arriving at the same moment is either seen
-- here (refused) or applied after (opted out again).
CREATE OR REPLACE FUNCTION tocsin_opt_out_undo(p_org bigint, p_user bigint, p_phone text, p_reason text)
RETURNS TABLE (status int, body json) LANGUAGE plpgsql AS $$
DECLARE
    v_refusal text;
    v_source text;
    v_event bigint;
    v_lists int;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended(p_org::text || p_phone, 0));
    v_refusal := tocsin_opt_out_undo_refusal(p_org, p_phone);
    IF v_refusal IS NOT NULL THEN
        RETURN QUERY SELECT CASE WHEN v_refusal LIKE 'this number is not%' THEN 404 ELSE 409 END,
                            tocsin_api_error(CASE WHEN v_refusal LIKE 'this number is not%' THEN 404 ELSE 409 END,
                                             CASE WHEN v_refusal LIKE 'this number is not%' THEN 'not_found'
                                                  ELSE 'members_own_stop' END, v_refusal);
        RETURN;
    END IF;
    DELETE FROM opt_outs WHERE org_id = p_org AND phone = p_phone RETURNING source INTO v_source;
    SELECT max(e.id) INTO v_event FROM consent_events e
     WHERE e.org_id = p_org AND e.phone = p_phone AND e.event = 'opt_out';
    INSERT INTO consent_events (org_id, phone, event, source, evidence)
    VALUES (p_org, p_phone, 'opt_in', 'admin', 'user ' || p_user || ': ' || p_reason);
    WITH back AS (
        UPDATE subscriptions s SET unsubscribed_at = NULL, ended_by_opt_out = NULL
          FROM contacts c
         WHERE c.org_id = p_org AND c.phone = p_phone AND s.contact_id = c.id
           AND s.ended_by_opt_out = v_event AND s.unsubscribed_at IS NOT NULL
        RETURNING s.list_id)
    SELECT count(*) INTO v_lists FROM back;
    PERFORM tocsin_audit(p_org, p_user, 'opt_out.undo', 'phone', NULL,
            jsonb_build_object('phone', p_phone, 'source', v_source, 'reason', p_reason,
                               'lists_restored', v_lists));
    RETURN QUERY SELECT 200, json_build_object('phone', p_phone, 'opted_out', false,
                                               'lists_restored', v_lists);
END $$;

-- One number's opt-out as the undo screen shows it: the opt-out, whether
-- it may be undone and why not, and its last 20 consent events.
CREATE OR REPLACE FUNCTION tocsin_opt_out_show(p_org bigint, p_phone text) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'phone', p_phone,
        'opted_out', o.phone IS NOT NULL,
        'source', o.source,
        'opted_out_at', o.opted_out_at,
        'evidence', o.evidence,
        'undo_refused', CASE WHEN o.phone IS NOT NULL THEN tocsin_opt_out_undo_refusal(p_org, p_phone) END,
        'history', (SELECT coalesce(json_agg(json_build_object('event', e.event, 'source', e.source,
                                                               'at', e.created_at, 'evidence', e.evidence)
                                             ORDER BY e.created_at DESC, e.id DESC), '[]')
                      FROM (SELECT * FROM consent_events e WHERE e.org_id = p_org AND e.phone = p_phone
                             ORDER BY e.created_at DESC, e.id DESC LIMIT 20) e))
      FROM (SELECT 1) one
      LEFT JOIN opt_outs o ON o.org_id = p_org AND o.phone = p_phone
$$;
