-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 028_chapters: a national org and its chapters in the dashboard (issue
-- 19), and an org's texting hours held by its blasts (at the end). A
-- national org's admin lists its chapters, creates one and invites
-- its first admin, and may act in one chapter only as an explicit,
-- audited step with a reason, for a bounded time.
--
-- Acting keeps the dashboard's one scoping mechanism (every statement is
-- scoped by the session's org, user and role, $1..$3): the session points
-- at the chapter and at the national admin's account in that chapter
-- ("acting account": a user row of the chapter that can never have a
-- password), and while the window lasts the session resolves to them
-- (tocsin_session_scopes, schema/functions/sessions.sql). Everything the
-- national admin does there is scoped, written and audited as the
-- chapter's own work, by an account the chapter's admins see on their
-- People screen.

-- A national org may have chapters; a chapter has no chapters of its own.
ALTER TABLE orgs ADD COLUMN national boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT orgs_national_top CHECK (NOT national OR parent_org_id IS NULL);
UPDATE orgs SET national = true
 WHERE id IN (SELECT parent_org_id FROM orgs WHERE parent_org_id IS NOT NULL)
   AND parent_org_id IS NULL;
CREATE INDEX orgs_parent ON orgs (parent_org_id) WHERE parent_org_id IS NOT NULL;

-- The acting account: the national admin (national_user_id) acting in
-- this user's org. It never logs in (no password, ever), and it shares its
-- national admin's email, so that address stays unique among accounts
-- that can log in.
ALTER TABLE users ADD COLUMN national_user_id bigint REFERENCES users (id) ON DELETE CASCADE,
    ADD CONSTRAINT users_acting_no_password CHECK (national_user_id IS NULL OR password_hash IS NULL);
CREATE UNIQUE INDEX users_acting_once ON users (org_id, national_user_id) WHERE national_user_id IS NOT NULL;
DROP INDEX users_email_key;
CREATE UNIQUE INDEX users_email_key ON users (lower(email)) WHERE national_user_id IS NULL;

-- A session acting in a chapter: the chapter, the acting account, and the
-- end of the window (after it the session is its own org's again).
ALTER TABLE sessions ADD COLUMN acting_org_id bigint,
    ADD COLUMN acting_user_id bigint,
    ADD COLUMN acting_until timestamptz,
    ADD FOREIGN KEY (acting_org_id, acting_user_id) REFERENCES users (org_id, id) ON DELETE CASCADE,
    ADD CONSTRAINT sessions_acting_whole CHECK (
        (acting_org_id IS NULL) = (acting_user_id IS NULL) AND (acting_org_id IS NULL) = (acting_until IS NULL));
CREATE INDEX sessions_acting_user ON sessions (acting_user_id) WHERE acting_user_id IS NOT NULL;

-- The functions are in schema/functions/chapters.sql and sessions.sql.

-- ================================================ texting hours for blasts
-- An org's texting hours (025) held for new outreach campaigns only; a
-- blast went out from 08:00 to the number's end (21:00, 20:00 in Florida
-- and Oklahoma). A blast message now carries the start of its window
-- too: the org's start, and an end of the earlier of the org's and the
-- number's, both fixed when the message is fed (just ahead of the
-- sender), so the claim still reads everything from the row it locks.
-- NOT VALID: rows already there hold the default, and checking them would
-- read the whole table under the migration's lock.
ALTER TABLE messages ADD COLUMN quiet_start_hour smallint NOT NULL DEFAULT 8,
    ADD CONSTRAINT messages_quiet_start_hour_check CHECK (quiet_start_hour BETWEEN 8 AND 20) NOT VALID;
