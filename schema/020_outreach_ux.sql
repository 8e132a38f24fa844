-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 020_outreach_ux: what the outreach pages need beyond 010. A volunteer's
-- sends are paced: one message per deliberate gesture, so a send that
-- comes implausibly soon after her previous one (a double click landing
-- on the next contact, a held key, two tabs) is refused, whatever the
-- browser did. 010's tocsin_outreach_send is called, not redefined. And a
-- new campaign starts as a draft.
--
-- Its functions, views and triggers now live, once each, in
-- schema/functions/ (see schema/README.md).

-- When each volunteer last had an outreach message queued.
CREATE TABLE outreach_send_pace (
    user_id      bigint PRIMARY KEY,
    org_id       bigint NOT NULL,
    last_sent_at timestamptz NOT NULL,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);

-- A new campaign is a draft until a lead starts it (state 'active'), so
-- volunteers never see one that has no audience yet; the list and the
-- sending view leave drafts out for them (api_outreach_routes.h).
ALTER TABLE outreach_campaigns ALTER COLUMN state SET DEFAULT 'draft';
