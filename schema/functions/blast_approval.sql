-- SPDX-License-Identifier: AGPL-3.0-or-later
-- blast_approval: the two-person rule for big blasts (issue 20, 032). An
-- org may set blast_approval_over; a blast whose audience is larger needs
-- a second person's approval — a lead or an admin other than whoever
-- created it — before tocsin_blast_schedule (blasts.sql) accepts it, from
-- the dashboard or from `tocsinctl blast schedule` alike, and again when
-- the worker fixes its audience (tocsin_blasts_tick, worker.sql): an
-- audience grown past what was approved (by more than a tenth) sends the
-- blast back to draft. Changing the blast's body, list, filter or sender
-- clears the approval.
--
-- A repeatable file: edited in place; tocsinctl migrate applies it again
-- when it changes (schema/README.md).

-- How many members the blast would reach now (snapshot's rule: subscribed,
-- not opted out, matching the filter).
CREATE OR REPLACE FUNCTION tocsin_blast_audience_count(p_blast bigint) RETURNS bigint LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_b blasts;
    v_count bigint;
BEGIN
    SELECT * INTO v_b FROM blasts WHERE id = p_blast;
    EXECUTE format('SELECT count(*) FROM tocsin_lead_audience($1, $2) a JOIN contacts c ON c.id = a.contact_id WHERE %s',
                   CASE WHEN v_b.filter ? 'field'
                        THEN format('lower(%s) = lower($3)', tocsin_blast_field_sql(v_b.filter->>'field'))
                        ELSE 'true' END)
       INTO v_count USING v_b.org_id, v_b.list_id, v_b.filter->>'equals';
    RETURN v_count;
END $$;

-- Raises 55000 unless a blast reaching p_count members (NULL: counted
-- now, only when the org has a threshold) may go: the org has no
-- threshold, the audience is within it, or the approval covers it.
CREATE OR REPLACE FUNCTION tocsin_blast_check_approval(p_blast bigint, p_count bigint) RETURNS void
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_b blasts;
    v_over int;
    v_count bigint := p_count;
BEGIN
    SELECT * INTO v_b FROM blasts WHERE id = p_blast;
    SELECT blast_approval_over INTO v_over FROM orgs WHERE id = v_b.org_id;
    IF v_over IS NULL THEN
        RETURN;
    END IF;
    v_count := coalesce(v_count, tocsin_blast_audience_count(p_blast));
    IF v_count <= v_over THEN
        RETURN;
    END IF;
    IF v_b.approved_at IS NULL THEN
        RAISE EXCEPTION 'blast % reaches % members, more than the % this org lets one person send: a second lead or an admin must approve it first',
            p_blast, v_count, v_over USING ERRCODE = '55000';
    END IF;
    IF v_count > v_b.approved_count + greatest(v_b.approved_count / 10, 10) THEN
        RAISE EXCEPTION 'blast % now reaches % members, more than the % it was approved for: it must be approved again',
            p_blast, v_count, v_b.approved_count USING ERRCODE = '55000';
    END IF;
END $$;

-- A second person approves a draft or scheduled blast of the org, having
-- seen its body, audience and count (p_count: the count shown to them;
-- it must still be the count now, so that what was approved is what was
-- seen). p_source says where she approved it, 'dashboard' (the route) or
-- 'cli' (tocsinctl blast approve), for the audit row. Raises 55000 for
-- one's own blast, 'P0002' for another org's, 22023 for another source.
DROP FUNCTION IF EXISTS tocsin_blast_approve(bigint, bigint, bigint, bigint);
CREATE OR REPLACE FUNCTION tocsin_blast_approve(p_org bigint, p_blast bigint, p_user bigint, p_count bigint,
                                                p_source text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_b blasts;
    v_count bigint;
BEGIN
    IF p_source IS NULL OR p_source NOT IN ('dashboard', 'cli') THEN
        RAISE EXCEPTION 'invalid approval source "%": dashboard or cli', left(p_source, 40) USING ERRCODE = '22023';
    END IF;
    v_b := tocsin_blast_lock(p_org, p_blast);
    IF v_b.state NOT IN ('draft', 'scheduled') THEN
        RAISE EXCEPTION 'blast % cannot be approved: it is %', p_blast, v_b.state USING ERRCODE = '55000';
    END IF;
    IF p_user IS NULL OR NOT EXISTS (SELECT 1 FROM users WHERE id = p_user AND org_id = v_b.org_id
                                                           AND role IN ('lead', 'admin') AND disabled_at IS NULL) THEN
        RAISE EXCEPTION 'only a lead or an admin of the org can approve a blast' USING ERRCODE = '55000';
    END IF;
    IF v_b.created_by IS NOT DISTINCT FROM p_user THEN
        RAISE EXCEPTION 'you created blast %: a second lead or an admin must approve it', p_blast USING ERRCODE = '55000';
    END IF;
    v_count := tocsin_blast_audience_count(p_blast);
    IF p_count IS NULL OR p_count <> v_count THEN
        RAISE EXCEPTION 'the audience is now % members, not the % you saw: look again before approving', v_count,
            coalesce(p_count::text, 'unknown') USING ERRCODE = '55000';
    END IF;
    UPDATE blasts SET approved_by = p_user, approved_at = now(), approved_count = v_count WHERE id = p_blast;
    PERFORM tocsin_audit(v_b.org_id, p_user, 'blast.approve', 'blast', p_blast,
                         jsonb_build_object('count', v_count, 'body', v_b.body, 'list_id', v_b.list_id,
                                            'filter', v_b.filter, 'created_by', v_b.created_by,
                                            'source', p_source));
END $$;

-- What the blast page shows about the rule: whether it applies, the
-- audience now (draft and scheduled blasts only), who created and who
-- approved.
CREATE OR REPLACE FUNCTION tocsin_blast_approval_json(p_blast bigint) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'threshold', o.blast_approval_over,
        'audience', a.n,
        'required', o.blast_approval_over IS NOT NULL AND coalesce(a.n, b.recipients) > o.blast_approval_over,
        'created_by', b.created_by, 'created_by_name', cu.display_name,
        'approved_by', b.approved_by, 'approved_by_name', au.display_name,
        'approved_at', b.approved_at, 'approved_count', b.approved_count)
      FROM blasts b
      JOIN orgs o ON o.id = b.org_id
      LEFT JOIN users cu ON cu.id = b.created_by
      LEFT JOIN users au ON au.id = b.approved_by
      CROSS JOIN LATERAL (SELECT CASE WHEN b.state IN ('draft', 'scheduled')
                                      THEN tocsin_blast_audience_count(b.id) END AS n) a
     WHERE b.id = p_blast
$$;

-- POST /api/blasts/:id/approve {count}: the blast, or the refusal.
CREATE OR REPLACE FUNCTION tocsin_lead_blast_approve(p_org bigint, p_user bigint, p_blast bigint, p_count text,
                                                     OUT status int, OUT body json)
LANGUAGE plpgsql AS $$
BEGIN
    IF p_count IS NULL OR btrim(p_count) !~ '^[0-9]{1,12}$' THEN
        RAISE EXCEPTION 'count is required: the audience count you were shown' USING ERRCODE = '22023';
    END IF;
    PERFORM tocsin_blast_approve(p_org, p_blast, p_user, btrim(p_count)::bigint, 'dashboard');
    SELECT b.status, b.body INTO status, body FROM tocsin_lead_blast(p_org, p_blast) b;
EXCEPTION WHEN SQLSTATE '22023' OR SQLSTATE 'P0002' OR SQLSTATE '55000' THEN
    SELECT e.status, e.body INTO status, body FROM tocsin_lead_error(SQLSTATE, SQLERRM) e;
END $$;

-- An edit of what a blast sends, or to whom, voids its approval.
CREATE OR REPLACE FUNCTION tocsin_blast_approval_void() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.approved_at IS NOT NULL AND NEW.approved_at IS NOT DISTINCT FROM OLD.approved_at THEN
        NEW.approved_by := NULL;
        NEW.approved_at := NULL;
        NEW.approved_count := NULL;
        PERFORM tocsin_audit(NEW.org_id, NULL, 'blast.approval_void', 'blast', NEW.id,
                             jsonb_build_object('approved_by', OLD.approved_by, 'reason', 'the blast was edited'));
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE TRIGGER blasts_approval_void BEFORE UPDATE OF body, list_id, filter, sender_id ON blasts
    FOR EACH ROW
    WHEN (OLD.body IS DISTINCT FROM NEW.body OR OLD.list_id IS DISTINCT FROM NEW.list_id
          OR OLD.filter IS DISTINCT FROM NEW.filter OR OLD.sender_id IS DISTINCT FROM NEW.sender_id)
    EXECUTE FUNCTION tocsin_blast_approval_void();
