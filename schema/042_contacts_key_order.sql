-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 042_contacts_key_order: the key that lets children name a contact of
-- their own org (messages, subscriptions, outreach targets: FOREIGN KEY
-- (org_id, contact_id)) is the same pair in the order (id, org_id).
--
-- A foreign key needs a unique index on its referenced columns in any
-- order. In the order (org_id, id) the index also matched "this org's
-- contacts", and a plan made while contacts was nearly empty (a new
-- install, the first minute of a burst) took it to look a member up by
-- org and number: a scan of every contact of the org with a filter on
-- the number, once per message, until ANALYZE replanned (1.5 ms per
-- message at 190,000 contacts: ops/bench/inbound.sh). Led by id, it
-- serves only lookups by id, and (org_id, phone) is the one index for a
-- number, whatever the statistics. The few reads of an org's contacts
-- (a chapter's member count, the settings page's newest 5,000) use
-- (org_id, phone) or the id keys instead.
ALTER TABLE messages DROP CONSTRAINT messages_org_id_contact_id_fkey;
ALTER TABLE outreach_targets DROP CONSTRAINT outreach_targets_org_id_contact_id_fkey;
ALTER TABLE subscriptions DROP CONSTRAINT subscriptions_org_id_contact_id_fkey;
ALTER TABLE contacts DROP CONSTRAINT contacts_org_id_id_key;
ALTER TABLE contacts ADD CONSTRAINT contacts_id_org_id_key UNIQUE (id, org_id);
ALTER TABLE messages ADD CONSTRAINT messages_org_id_contact_id_fkey
    FOREIGN KEY (org_id, contact_id) REFERENCES contacts (org_id, id);
ALTER TABLE outreach_targets ADD CONSTRAINT outreach_targets_org_id_contact_id_fkey
    FOREIGN KEY (org_id, contact_id) REFERENCES contacts (org_id, id) ON DELETE CASCADE;
ALTER TABLE subscriptions ADD CONSTRAINT subscriptions_org_id_contact_id_fkey
    FOREIGN KEY (org_id, contact_id) REFERENCES contacts (org_id, id) ON DELETE CASCADE;
