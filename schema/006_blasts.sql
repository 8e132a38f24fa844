-- SPDX-License-Identifier: AGPL-3.0-or-later
-- 006_blasts: where a number is (quiet-hours zones), SMS segment counting
-- in SQL, blast bodies with fields, the expansion of due blasts into
-- messages, their counters, and the lead's actions (create, schedule,
-- pause, resume, cancel, status, requeue of unknown messages), so the
-- CLI and the dashboard call the same functions.
--
--   phone_zones        prefix ('+1305', '+44', '+1' and '+' defaults) ->
--                      zones and quiet end hour; written by `tocsinctl
--                      zones refresh` (lib/zones.c), which migrate runs.
--   tocsin_sms_encoding / tocsin_sms_segments   lib/sms.c's rules.
--   tocsin_blasts_tick expands due blasts (one INSERT ... SELECT each),
--                      folds counter deltas, completes finished blasts.
--   blast_counter_deltas   what every UPDATE of blast messages changed,
--                      per blast and statement, appended by a statement
--                      trigger and folded into blasts by the tick: no
--                      worker ever waits on a blast's row (see below).
--
-- Its functions, views and triggers now live, once each, in
-- schema/functions/ (see schema/README.md).

-- ---------------------------------------------------------------- zones

CREATE TABLE phone_zones (
    prefix         text PRIMARY KEY CHECK (prefix ~ '^\+[0-9]{0,4}$'),
    region         text NOT NULL CHECK (length(region) BETWEEN 1 AND 100),
    zones          text[] NOT NULL CHECK (cardinality(zones) BETWEEN 1 AND 8),
    quiet_end_hour smallint NOT NULL CHECK (quiet_end_hour BETWEEN 9 AND 24),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- The zone names PostgreSQL knows, copied once (pg_timezone_names reads
-- the whole tz database on every scan): a contact's timezone is used only
-- when it is one of them. Refreshed with phone_zones.
CREATE TABLE tz_names (name text PRIMARY KEY);
INSERT INTO tz_names SELECT DISTINCT name FROM pg_timezone_names;

-- The defaults before `tocsinctl zones refresh` runs (it rewrites them
-- from lib/zones.c): a NANP area the geocoder does not place (toll free,
-- non-geographic) gets the zones from Newfoundland to Honolulu with a
-- 20:00 end (their shared window: 14:00-19:30 Eastern in summer); any
-- other number UTC 08:00-20:00.
INSERT INTO phone_zones (prefix, region, zones, quiet_end_hour) VALUES
    ('+1', 'unknown NANP area', '{America/St_Johns,America/New_York,America/Anchorage,Pacific/Honolulu}', 20),
    ('+', 'unknown country', '{UTC}', 20);

-- Every five-character number start ('+1305', '+4420', ...) -> the
-- phone_zones prefix that applies (the longest that matches), so the
-- expansion finds a number's zones with one hash join on left(phone, 5)
-- instead of one per prefix length. E.164 has at least 8 digits and no
-- leading 0, so '+1000'..'+9999' cover every number. Rebuilt with
-- phone_zones (tocsin_phone_zone_keys_rebuild).
CREATE TABLE phone_zone_keys (
    key    text PRIMARY KEY CHECK (key ~ '^\+[1-9][0-9]{3}$'),
    prefix text NOT NULL REFERENCES phone_zones ON DELETE CASCADE
);
-- Filled by tocsinctl migrate after the migrations (zones refresh).

-- -------------------------------------------------------------- blasts

ALTER TABLE blasts
    ADD COLUMN sending     int NOT NULL DEFAULT 0 CHECK (sending >= 0),
    ADD COLUMN undelivered int NOT NULL DEFAULT 0 CHECK (undelivered >= 0),
    ADD COLUMN unknown     int NOT NULL DEFAULT 0 CHECK (unknown >= 0),
    ADD COLUMN started_at   timestamptz,
    ADD COLUMN completed_at timestamptz,
    ADD CONSTRAINT blasts_filter_valid CHECK (tocsin_blast_filter_error(filter) IS NULL);

-- A number's messages of a blast: the opt-out trigger finds the blasts a
-- STOP interrupts, and requeue finds unknown messages.
CREATE INDEX messages_blast_phone ON messages (org_id, to_phone) WHERE blast_id IS NOT NULL;
CREATE INDEX messages_unknown ON messages (org_id, sender_id) WHERE state = 'unknown';

-- Counters. Each of queued, sending, sent, delivered, undelivered,
-- failed, unknown, suppressed and cancelled is the number of the blast's
-- messages in that state (they add up to recipients); opted_out counts
-- recipients who opted out while it was sending or paused.
--
-- Why deltas and not UPDATE blasts in the trigger: every claim, outcome,
-- receipt and sweep of a blast's messages would then lock the blast's one
-- row until commit, serialising all workers on it, and a cancel (blast row
-- first, then its messages) would deadlock with a claim (messages first,
-- then the blast row). Appending a row per blast and statement takes no
-- lock anyone waits on; the tick folds the deltas once a second, and
-- tocsin_blast_status adds those not folded yet, so what a lead reads is
-- exact.
CREATE TABLE blast_counter_deltas (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    blast_id    bigint NOT NULL,
    queued      int NOT NULL DEFAULT 0,
    sending     int NOT NULL DEFAULT 0,
    sent        int NOT NULL DEFAULT 0,
    delivered   int NOT NULL DEFAULT 0,
    undelivered int NOT NULL DEFAULT 0,
    failed      int NOT NULL DEFAULT 0,
    unknown     int NOT NULL DEFAULT 0,
    suppressed  int NOT NULL DEFAULT 0,
    cancelled   int NOT NULL DEFAULT 0,
    opted_out   int NOT NULL DEFAULT 0
) WITH (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000);
