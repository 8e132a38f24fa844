-- SPDX-License-Identifier: AGPL-3.0-or-later
-- settings: an org's settings as its admin reads and saves them, and the
-- lifecycle of canned responses and tags (create, edit, retire, restore;
-- per org or per outreach campaign), each change audited. The tables are
-- 001, 003, 017, 019 and 025; the dashboard's routes are
-- dashboard/api_settings_sql.h.
--
-- A repeatable file: edited in place; tocsinctl migrate applies it again
-- when it changes (schema/README.md).

CREATE OR REPLACE FUNCTION tocsin_org_settings_json(o orgs) RETURNS json LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'name', o.name, 'help_text', o.help_text, 'help_text_es', o.help_text_es,
        'texting_hours_start', o.texting_hours_start, 'texting_hours_end', o.texting_hours_end,
        'release_after_minutes', o.release_after_minutes,
        'volunteer_max_conversations', o.volunteer_max_conversations,
        'phone_region', o.phone_region) $$;

-- What an audit event of a settings save holds: {key: {old, new}} for
-- each key of two objects whose value differs ({} when none does).
CREATE OR REPLACE FUNCTION tocsin_json_changes(p_old jsonb, p_new jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(jsonb_object_agg(n.key, jsonb_build_object('old', o.value, 'new', n.value)), '{}')
      FROM jsonb_each(p_new) n JOIN jsonb_each(p_old) o USING (key)
     WHERE n.value IS DISTINCT FROM o.value $$;

-- Saves what is given (NULL: unchanged; '' for a HELP text or the release
-- time, 'default' for the phone region: back to the default). The HELP
-- texts were checked for the CTIA parts by the caller (lib/compliance,
-- with the name being saved), and the phone region against
-- libphonenumber's regions (lib/phone); here only its shape. Returns
-- (200, settings) or (400, error naming the field); audits old and new
-- values of what changed.
DROP FUNCTION IF EXISTS tocsin_org_settings_save(bigint, bigint, text, text, text, text, text, text, text);
CREATE OR REPLACE FUNCTION tocsin_org_settings_save(p_org bigint, p_user bigint, p_name text, p_help text,
                                         p_help_es text, p_start text, p_end text, p_release text,
                                         p_cap text, p_region text)
RETURNS TABLE (status int, body json) LANGUAGE plpgsql AS $$
DECLARE
    v_old orgs;
    v_new orgs;
    v_int int;
    v_changes jsonb := '{}';
    v_key text;
BEGIN
    SELECT * INTO v_old FROM orgs WHERE id = p_org FOR UPDATE;
    v_new := v_old;
    IF p_name IS NOT NULL THEN
        IF length(btrim(p_name)) NOT BETWEEN 1 AND 200 THEN
            RETURN QUERY SELECT 400, tocsin_api_error(400, 'invalid', 'invalid name: must be 1 to 200 characters');
            RETURN;
        END IF;
        v_new.name := btrim(p_name);
    END IF;
    IF p_help IS NOT NULL THEN
        IF length(p_help) > 1600 THEN
            RETURN QUERY SELECT 400, tocsin_api_error(400, 'invalid', 'invalid help_text: at most 1600 characters');
            RETURN;
        END IF;
        v_new.help_text := nullif(p_help, '');
    END IF;
    IF p_help_es IS NOT NULL THEN
        IF length(p_help_es) > 1600 THEN
            RETURN QUERY SELECT 400, tocsin_api_error(400, 'invalid', 'invalid help_text_es: at most 1600 characters');
            RETURN;
        END IF;
        v_new.help_text_es := nullif(p_help_es, '');
    END IF;
    IF p_region IS NOT NULL THEN
        IF p_region <> 'default' AND p_region !~ '^[A-Z]{2}$' THEN
            RETURN QUERY SELECT 400, tocsin_api_error(400, 'invalid',
                format('invalid phone_region "%s": two upper-case letters, e.g. MX, or default', left(p_region, 20)));
            RETURN;
        END IF;
        v_new.phone_region := nullif(p_region, 'default');
    END IF;
    -- Whole numbers only; the bounds are the columns' own.
    FOREACH v_key IN ARRAY ARRAY['texting_hours_start', 'texting_hours_end', 'release_after_minutes',
                                 'volunteer_max_conversations'] LOOP
        DECLARE
            v_text text := CASE v_key WHEN 'texting_hours_start' THEN p_start WHEN 'texting_hours_end' THEN p_end
                                      WHEN 'release_after_minutes' THEN p_release ELSE p_cap END;
            v_lo int := CASE v_key WHEN 'texting_hours_start' THEN 8 WHEN 'texting_hours_end' THEN 9
                                   WHEN 'release_after_minutes' THEN 5 ELSE 1 END;
            v_hi int := CASE v_key WHEN 'texting_hours_start' THEN 20 WHEN 'texting_hours_end' THEN 21
                                   WHEN 'release_after_minutes' THEN 10080 ELSE 500 END;
        BEGIN
            CONTINUE WHEN v_text IS NULL;
            IF v_text = '' AND v_key = 'release_after_minutes' THEN
                v_new.release_after_minutes := NULL;
                CONTINUE;
            END IF;
            IF v_text !~ '^\s*[0-9]{1,6}\s*$' OR v_text::int NOT BETWEEN v_lo AND v_hi THEN
                RETURN QUERY SELECT 400, tocsin_api_error(400, 'invalid',
                    format('invalid %s "%s": a whole number from %s to %s', v_key, left(v_text, 20), v_lo, v_hi));
                RETURN;
            END IF;
            v_int := v_text::int;
            CASE v_key
                WHEN 'texting_hours_start' THEN v_new.texting_hours_start := v_int;
                WHEN 'texting_hours_end' THEN v_new.texting_hours_end := v_int;
                WHEN 'release_after_minutes' THEN v_new.release_after_minutes := v_int;
                ELSE v_new.volunteer_max_conversations := v_int;
            END CASE;
        END;
    END LOOP;
    IF v_new.texting_hours_end <= v_new.texting_hours_start THEN
        RETURN QUERY SELECT 400, tocsin_api_error(400, 'invalid',
            format('invalid texting_hours_end %s: must be after texting_hours_start %s',
                   v_new.texting_hours_end, v_new.texting_hours_start));
        RETURN;
    END IF;
    UPDATE orgs SET name = v_new.name, help_text = v_new.help_text, help_text_es = v_new.help_text_es,
           texting_hours_start = v_new.texting_hours_start, texting_hours_end = v_new.texting_hours_end,
           release_after_minutes = v_new.release_after_minutes,
           volunteer_max_conversations = v_new.volunteer_max_conversations,
           phone_region = v_new.phone_region
     WHERE id = p_org;
    v_changes := tocsin_json_changes(to_jsonb(tocsin_org_settings_json(v_old)),
                                     to_jsonb(tocsin_org_settings_json(v_new)));
    IF v_changes <> '{}' THEN
        PERFORM tocsin_audit(p_org, nullif(p_user, 0), 'org.settings', 'org', p_org, v_changes);
    END IF;
    RETURN QUERY SELECT 200, tocsin_org_settings_json(v_new);
END $$;

-- Creates (p_id NULL) or edits a canned response or a tag of the org or
-- of one of its campaigns; retires or restores one. p_kind: 'canned' or
-- 'tag'. Returns (201/200, row), (400, error naming the field), (409, a
-- live one of that scope has the title), or no row (not this org's: 404).
CREATE OR REPLACE FUNCTION tocsin_shared_text_json(p_kind text, p_id bigint) RETURNS json LANGUAGE sql STABLE AS $$
    SELECT CASE p_kind
        WHEN 'canned' THEN (SELECT json_build_object('id', r.id, 'title', r.title, 'body', r.body,
                                   'campaign_id', r.campaign_id, 'campaign', oc.name, 'retired_at', r.retired_at)
                              FROM canned_responses r LEFT JOIN outreach_campaigns oc ON oc.id = r.campaign_id
                             WHERE r.id = p_id)
        ELSE (SELECT json_build_object('id', t.id, 'name', t.name, 'campaign_id', t.campaign_id,
                     'campaign', oc.name, 'retired_at', t.retired_at,
                     'conversations', (SELECT count(*) FROM conversation_tags x WHERE x.tag_id = t.id))
                FROM tags t LEFT JOIN outreach_campaigns oc ON oc.id = t.campaign_id WHERE t.id = p_id)
    END $$;

CREATE OR REPLACE FUNCTION tocsin_shared_text_save(p_kind text, p_org bigint, p_user bigint, p_id bigint,
                                        p_title text, p_body text, p_campaign text)
RETURNS TABLE (status int, body json) LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_id bigint;
    v_campaign bigint;
    v_old json;
    v_title_max int := CASE p_kind WHEN 'canned' THEN 100 ELSE 64 END;
    v_field text := CASE p_kind WHEN 'canned' THEN 'title' ELSE 'name' END;
BEGIN
    IF p_id IS NOT NULL THEN
        v_old := tocsin_shared_text_json(p_kind, p_id);
        IF v_old IS NULL OR NOT EXISTS (SELECT 1 FROM canned_responses WHERE p_kind = 'canned' AND id = p_id AND org_id = p_org
                                        UNION ALL
                                        SELECT 1 FROM tags WHERE p_kind = 'tag' AND id = p_id AND org_id = p_org) THEN
            RETURN;
        END IF;
    END IF;
    IF p_title IS NULL AND p_id IS NULL OR length(btrim(p_title)) NOT BETWEEN 1 AND v_title_max THEN
        RETURN QUERY SELECT 400, tocsin_api_error(400, 'invalid',
            format('invalid %s: must be 1 to %s characters', v_field, v_title_max));
        RETURN;
    END IF;
    IF p_kind = 'canned' AND (p_body IS NULL AND p_id IS NULL OR length(btrim(p_body)) NOT BETWEEN 1 AND 1600) THEN
        RETURN QUERY SELECT 400, tocsin_api_error(400, 'invalid', 'invalid body: must be 1 to 1600 characters');
        RETURN;
    END IF;
    IF nullif(p_campaign, '') IS NOT NULL THEN
        IF p_campaign !~ '^[1-9][0-9]{0,17}$'
           OR NOT EXISTS (SELECT 1 FROM outreach_campaigns WHERE id = p_campaign::bigint AND org_id = p_org) THEN
            RETURN QUERY SELECT 400, tocsin_api_error(400, 'invalid', 'invalid campaign_id: no such campaign');
            RETURN;
        END IF;
        v_campaign := p_campaign::bigint;
    END IF;
    IF p_kind = 'canned' THEN
        IF EXISTS (SELECT 1 FROM canned_responses WHERE org_id = p_org AND retired_at IS NULL
                      AND coalesce(campaign_id, 0) = coalesce(v_campaign, 0)
                      AND lower(title) = lower(btrim(p_title)) AND id IS DISTINCT FROM p_id) THEN
            RETURN QUERY SELECT 409, tocsin_api_error(409, 'conflict',
                format('a canned response titled "%s" already exists there', btrim(p_title)));
            RETURN;
        END IF;
        IF p_id IS NULL THEN
            INSERT INTO canned_responses (org_id, title, body, campaign_id)
            VALUES (p_org, btrim(p_title), p_body, v_campaign) RETURNING id INTO v_id;
        ELSE
            UPDATE canned_responses SET title = coalesce(btrim(p_title), title), body = coalesce(p_body, body),
                   campaign_id = CASE WHEN p_campaign IS NULL THEN campaign_id ELSE v_campaign END, updated_at = now()
             WHERE id = p_id AND org_id = p_org RETURNING id INTO v_id;
        END IF;
    ELSE
        IF EXISTS (SELECT 1 FROM tags WHERE org_id = p_org AND lower(name) = lower(btrim(p_title))
                      AND id IS DISTINCT FROM p_id) THEN
            RETURN QUERY SELECT 409, tocsin_api_error(409, 'conflict',
                format('a tag named "%s" already exists (restore it if it is retired)', btrim(p_title)));
            RETURN;
        END IF;
        IF p_id IS NULL THEN
            INSERT INTO tags (org_id, name, campaign_id) VALUES (p_org, btrim(p_title), v_campaign)
            RETURNING id INTO v_id;
        ELSE
            UPDATE tags SET name = coalesce(btrim(p_title), name),
                   campaign_id = CASE WHEN p_campaign IS NULL THEN campaign_id ELSE v_campaign END
             WHERE id = p_id AND org_id = p_org RETURNING id INTO v_id;
        END IF;
    END IF;
    PERFORM tocsin_audit(p_org, nullif(p_user, 0),
            CASE p_kind WHEN 'canned' THEN 'canned_response.' ELSE 'tag.' END
                || CASE WHEN p_id IS NULL THEN 'create' ELSE 'update' END,
            CASE p_kind WHEN 'canned' THEN 'canned_response' ELSE 'tag' END, v_id,
            jsonb_strip_nulls(jsonb_build_object('old', v_old::jsonb,
                                                 'new', tocsin_shared_text_json(p_kind, v_id)::jsonb)));
    RETURN QUERY SELECT CASE WHEN p_id IS NULL THEN 201 ELSE 200 END, tocsin_shared_text_json(p_kind, v_id);
END $$;

CREATE OR REPLACE FUNCTION tocsin_shared_text_retire(p_kind text, p_org bigint, p_user bigint, p_id bigint, p_retire boolean)
RETURNS TABLE (status int, body json) LANGUAGE plpgsql AS $$
DECLARE
    v_id bigint;
    v_title text;
BEGIN
    IF p_kind = 'canned' THEN
        -- Restoring must not make two live ones of a scope share a title.
        IF NOT p_retire AND EXISTS (SELECT 1 FROM canned_responses r JOIN canned_responses o
                                        ON o.org_id = r.org_id AND o.retired_at IS NULL AND o.id <> r.id
                                       AND coalesce(o.campaign_id, 0) = coalesce(r.campaign_id, 0)
                                       AND lower(o.title) = lower(r.title)
                                     WHERE r.id = p_id AND r.org_id = p_org) THEN
            RETURN QUERY SELECT 409, tocsin_api_error(409, 'conflict',
                'a live canned response already has that title: rename one first');
            RETURN;
        END IF;
        UPDATE canned_responses SET retired_at = CASE WHEN p_retire THEN coalesce(retired_at, now()) END
         WHERE id = p_id AND org_id = p_org RETURNING id, title INTO v_id, v_title;
    ELSE
        UPDATE tags SET retired_at = CASE WHEN p_retire THEN coalesce(retired_at, now()) END
         WHERE id = p_id AND org_id = p_org RETURNING id, name INTO v_id, v_title;
    END IF;
    IF v_id IS NULL THEN
        RETURN;
    END IF;
    PERFORM tocsin_audit(p_org, nullif(p_user, 0),
            CASE p_kind WHEN 'canned' THEN 'canned_response.' ELSE 'tag.' END
                || CASE WHEN p_retire THEN 'retire' ELSE 'restore' END,
            CASE p_kind WHEN 'canned' THEN 'canned_response' ELSE 'tag' END, v_id,
            jsonb_build_object('title', v_title));
    RETURN QUERY SELECT 200, tocsin_shared_text_json(p_kind, v_id);
END $$;
