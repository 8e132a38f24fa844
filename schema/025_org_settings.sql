-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 025_org_settings: what an org's admin sets in the dashboard (issue 19):
-- its texting hours and idle-release time (name, HELP texts and the
-- volunteer cap are columns of 001, 019 and 017), and the lifecycle of
-- canned responses and tags: scoped to the org or to one outreach
-- campaign, and retired rather than deleted, so a tag already on a
-- conversation stays there while volunteers' menus drop it. The functions
-- that read and change them are schema/functions/settings.sql.

-- Texting hours, local to each contact: new outreach campaigns start with
-- them (tocsin_outreach_create below). Never wider than the compliance
-- window the worker and outreach sends enforce (08:00 to 21:00, or the
-- number's earlier end: messages.quiet_end_hour, 005/006).
ALTER TABLE orgs
    ADD COLUMN texting_hours_start smallint NOT NULL DEFAULT 8 CHECK (texting_hours_start BETWEEN 8 AND 20),
    ADD COLUMN texting_hours_end smallint NOT NULL DEFAULT 21 CHECK (texting_hours_end BETWEEN 9 AND 21),
    -- Minutes a volunteer may leave an assigned conversation untouched
    -- before it goes back to the pool (dashboard/release.c); NULL: the
    -- dashboard's TOCSIN_DASHBOARD_RELEASE_AFTER_S.
    ADD COLUMN release_after_minutes int CHECK (release_after_minutes BETWEEN 5 AND 10080),
    ADD CONSTRAINT orgs_texting_hours_order CHECK (texting_hours_end > texting_hours_start);

-- Scope (NULL campaign: the whole org) and retirement. Titles and names
-- are unique among the live ones of one scope, in any case.
ALTER TABLE canned_responses
    ADD COLUMN campaign_id bigint,
    ADD COLUMN retired_at timestamptz,
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now(),
    ADD CONSTRAINT canned_responses_org_id_id_key UNIQUE (org_id, id),
    ADD CONSTRAINT canned_responses_campaign_fk FOREIGN KEY (org_id, campaign_id)
        REFERENCES outreach_campaigns (org_id, id) ON DELETE CASCADE,
    DROP CONSTRAINT canned_responses_org_id_title_key;
CREATE UNIQUE INDEX canned_responses_live_title ON canned_responses (org_id, coalesce(campaign_id, 0), lower(title))
    WHERE retired_at IS NULL;

ALTER TABLE tags
    ADD COLUMN campaign_id bigint,
    ADD COLUMN retired_at timestamptz,
    ADD CONSTRAINT tags_campaign_fk FOREIGN KEY (org_id, campaign_id)
        REFERENCES outreach_campaigns (org_id, id) ON DELETE CASCADE;
-- tocsinctl keyword and older scripts name the org-wide tag by
-- ON CONFLICT (org_id, name): that key stays (a retired name cannot be
-- reused; restore it instead).
