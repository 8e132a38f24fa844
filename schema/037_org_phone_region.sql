-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 037_org_phone_region: the region an org's numbers written without
-- +country are read in (imports and their previews, numbers typed in the
-- dashboard, tocsinctl contacts import): a national body's chapter in
-- Puerto Rico or Mexico reads its members' national numbers there. NULL:
-- the deployment's TOCSIN_DEFAULT_REGION. The constraint checks the shape
-- only; whether libphonenumber knows the code is checked in C wherever it
-- is set (dashboard/api_settings.c, tocsinctl org set), as for
-- TOCSIN_DEFAULT_REGION. Saved by tocsin_org_settings_save
-- (schema/functions/settings.sql), audited as org.settings.
ALTER TABLE orgs
    ADD COLUMN phone_region text CONSTRAINT orgs_phone_region_code CHECK (phone_region ~ '^[A-Z]{2}$');
