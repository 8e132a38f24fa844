-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 016_burst_lookup: the burst function (015) checked each message against
-- inbound_messages with NOT EXISTS, which the planner may turn into an
-- anti-join; its generic plan, made while inbound_messages was small,
-- hashed the whole table on every call. Under a benchmark burst that
-- was a third of PostgreSQL's time, growing with the table (3,071 scans
-- reading 20 million rows in 12 seconds). A scalar subquery with LIMIT
-- stays a lookup per message in the unique index, whatever the
-- statistics said when the plan was made. Nothing else changes.
CREATE OR REPLACE FUNCTION tocsin_receive_inbound_burst(
    p_provider text[], p_message_id text[], p_sender_id bigint[], p_from text[], p_body text[],
    p_num_media int[], p_intent text[], p_keyword_id bigint[], p_likely_revocation boolean[],
    p_reply text[], p_reply_encoding text[], p_reply_segments int[])
RETURNS TABLE (inbound_id bigint, action text, conversation_id bigint, ord int)
LANGUAGE plpgsql
-- Generic plans and no JIT, as 007's; nested loops stay, for the lookups
-- into inbound_messages.
SET plan_cache_mode = force_generic_plan SET jit = off AS $$
#variable_conflict use_column
DECLARE
    n int := coalesce(cardinality(p_message_id), 0);
    v_set int[];   -- journaled
    v_one int[];   -- applied now, by 007's batch function
BEGIN
    IF n = 0 THEN
        RETURN;
    END IF;
    IF coalesce(cardinality(p_provider), 0) <> n OR coalesce(cardinality(p_sender_id), 0) <> n
       OR coalesce(cardinality(p_from), 0) <> n OR coalesce(cardinality(p_body), 0) <> n
       OR coalesce(cardinality(p_num_media), 0) <> n OR coalesce(cardinality(p_intent), 0) <> n
       OR coalesce(cardinality(p_keyword_id), 0) <> n OR coalesce(cardinality(p_likely_revocation), 0) <> n
       OR coalesce(cardinality(p_reply), 0) <> n OR coalesce(cardinality(p_reply_encoding), 0) <> n
       OR coalesce(cardinality(p_reply_segments), 0) <> n THEN
        RAISE EXCEPTION 'invalid inbound batch: the arrays differ in length';
    END IF;
    -- 007's partition: a reply from a number that appears once in the batch.
    SELECT coalesce(array_agg(x.ord ORDER BY x.ord) FILTER (WHERE x.set_based), '{}'),
           coalesce(array_agg(x.ord ORDER BY x.ord) FILTER (WHERE NOT x.set_based), '{}')
      INTO v_set, v_one
      FROM (SELECT u.ord::int AS ord,
                   coalesce(u.intent = 'reply' AND s.org_id IS NOT NULL
                            AND count(*) OVER (PARTITION BY s.org_id, u.from_phone) = 1, false) AS set_based
              FROM unnest(p_sender_id, p_from, p_intent) WITH ORDINALITY AS u(sender_id, from_phone, intent, ord)
              LEFT JOIN senders s ON s.id = u.sender_id) x;

    IF cardinality(v_set) > 0 THEN
        RETURN QUERY
        WITH j AS (
            INSERT INTO inbound_journal (provider, provider_message_id, sender_id, from_phone, body, num_media,
                                         likely_revocation)
            SELECT u.provider, u.mid, u.sender_id, u.from_phone, u.body, u.num_media, u.likely
              FROM unnest(p_provider, p_message_id, p_sender_id, p_from, p_body, p_num_media, p_likely_revocation)
                   WITH ORDINALITY AS u(provider, mid, sender_id, from_phone, body, num_media, likely, ord)
             WHERE u.ord = ANY (v_set)
               AND (SELECT 1 FROM inbound_messages i
                     WHERE i.provider = u.provider AND i.provider_message_id = u.mid
                     LIMIT 1) IS NULL -- a per-row index lookup, never a join
             ORDER BY u.ord
            ON CONFLICT (provider, provider_message_id) DO NOTHING
            RETURNING provider, provider_message_id)
        SELECT NULL::bigint, CASE WHEN j.provider IS NULL THEN 'duplicate' ELSE 'journaled' END,
               NULL::bigint, u.ord::int
          FROM unnest(p_provider, p_message_id) WITH ORDINALITY AS u(provider, mid, ord)
          LEFT JOIN j ON j.provider = u.provider AND j.provider_message_id = u.mid
         WHERE u.ord = ANY (v_set);
    END IF;

    IF cardinality(v_one) > 0 THEN
        RETURN QUERY
            SELECT r.inbound_id, r.action, r.conversation_id, v_one[r.ord]
              FROM tocsin_receive_inbound_batch(
                       ARRAY(SELECT p_provider[k] FROM unnest(v_one) k),
                       ARRAY(SELECT p_message_id[k] FROM unnest(v_one) k),
                       ARRAY(SELECT p_sender_id[k] FROM unnest(v_one) k),
                       ARRAY(SELECT p_from[k] FROM unnest(v_one) k),
                       ARRAY(SELECT p_body[k] FROM unnest(v_one) k),
                       ARRAY(SELECT p_num_media[k] FROM unnest(v_one) k),
                       ARRAY(SELECT p_intent[k] FROM unnest(v_one) k),
                       ARRAY(SELECT p_keyword_id[k] FROM unnest(v_one) k),
                       ARRAY(SELECT p_likely_revocation[k] FROM unnest(v_one) k),
                       ARRAY(SELECT p_reply[k] FROM unnest(v_one) k),
                       ARRAY(SELECT p_reply_encoding[k] FROM unnest(v_one) k),
                       ARRAY(SELECT p_reply_segments[k] FROM unnest(v_one) k)) r;
    END IF;
END $$;
