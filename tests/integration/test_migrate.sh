#!/usr/bin/env bash
# tocsinctl migrate: applies everything once, is a no-op the second time,
# runs in one transaction (a broken migration leaves nothing), and refuses a
# migration edited after it was applied. Repeatable files (schema/functions/)
# are applied again once when edited, not when unchanged, and what a file no
# longer defines is dropped. The schema built from empty, and the one a
# database built by the 022-era migrations upgrades to, are both
# schema/current.sql. The schema's CHECK constraints reject bad rows.
source "$(dirname "$0")/lib.sh"
fresh_db
CTL="$BIN/ops/tocsinctl"

# --status on an empty database lists everything as pending and creates nothing.
out=$("$CTL" migrate --status)
assert_contains "$out" "001_core.sql                     pending" "status before migrate"
assert_eq "$(sql "SELECT to_regclass('public.schema_migrations') IS NULL")" t "status changed nothing"

out=$("$CTL" migrate)
assert_contains "$out" "applied 001_core.sql" "first run applies"
n=$(sql "SELECT count(*) FROM schema_migrations")
[ "$n" -ge 3 ] || fail "expected at least 3 migrations recorded, got $n"
for t in orgs users sessions senders contacts opt_outs consent_events lists subscriptions \
         keywords blasts messages inbound_messages conversations canned_responses tags audit_events; do
  assert_eq "$(sql "SELECT to_regclass('public.$t') IS NOT NULL")" t "table $t exists"
done
out=$("$CTL" migrate)
assert_contains "$out" "database is up to date" "second run is a no-op"
assert_eq "$(sql "SELECT count(*) FROM schema_migrations")" "$n" "nothing recorded twice"

# The schema is schema/current.sql (ops/schema-dump regenerates it).
"$TOCSIN_SOURCE_DIR/ops/schema-dump" --database-url "$TOCSIN_DATABASE_URL" > "$TMP/fresh.sql"
diff -u "$TOCSIN_SOURCE_DIR/schema/current.sql" "$TMP/fresh.sql" >&2 ||
  fail "the schema built from empty differs from schema/current.sql (regenerate it with ops/schema-dump)"
# Every function, view and trigger is recorded as one repeatable file's.
assert_eq "$(sql "SELECT (SELECT count(*) FROM pg_proc WHERE pronamespace = 'public'::regnamespace)
                       + (SELECT count(*) FROM pg_views WHERE schemaname = 'public')
                       + (SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal)
                       - (SELECT count(DISTINCT o) FROM schema_repeatables, unnest(objects) o)")" 0 \
  "every function, view and trigger belongs to a repeatable file"

# A folder with the real migrations plus a broken one.
mkdir -p "$TMP/mig"
cp -r "$TOCSIN_SOURCE_DIR"/schema/. "$TMP/mig/"
cat > "$TMP/mig/900_broken.sql" <<'SQL'
CREATE TABLE half_done (id int);
INSERT INTO half_done VALUES (1);
SELECT this_is_not_a_function();
SQL
rc=0; out=$("$CTL" migrate --dir "$TMP/mig" 2>&1) || rc=$?
assert_eq "$rc" 1 "a broken migration fails"
assert_contains "$out" "migration 900_broken.sql failed" "names the broken migration"
assert_eq "$(sql "SELECT to_regclass('public.half_done') IS NULL")" t "nothing of it remains"
assert_eq "$(sql "SELECT count(*) FROM schema_migrations WHERE version = 900")" 0 "not recorded"

# Editing an applied migration is refused.
rm "$TMP/mig/900_broken.sql"
echo "-- edited" >> "$TMP/mig/001_core.sql"
rc=0; out=$("$CTL" migrate --dir "$TMP/mig" 2>&1) || rc=$?
assert_eq "$rc" 1 "edited migration refused"
assert_contains "$out" "001_core.sql was changed after it was applied" "explains why"

# --status lists without changing anything.
out=$("$CTL" migrate --status)
assert_contains "$out" "003_messaging.sql                applied" "status lists migrations"
assert_contains "$out" "functions/blasts.sql             applied" "status lists repeatable files"

# A repeatable file edited is applied again, once; unchanged, never.
cp "$TOCSIN_SOURCE_DIR/schema/001_core.sql" "$TMP/mig/001_core.sql"
cat >> "$TMP/mig/functions/core_test.sql" <<'SQL'
CREATE OR REPLACE FUNCTION tocsin_test_twice(p int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT p * 2 $$;
CREATE OR REPLACE FUNCTION tocsin_test_gone() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;
CREATE OR REPLACE VIEW test_orgs AS SELECT id FROM orgs;
SQL
out=$("$CTL" migrate --dir "$TMP/mig")
assert_eq "$(grep -c '^applied' <<<"$out")" 1 "only the new repeatable file is applied: $out"
assert_contains "$out" "applied functions/core_test.sql" "the new file is applied"
assert_contains "$("$CTL" migrate --dir "$TMP/mig" --status)" "functions/core_test.sql          applied" "status after"
out=$("$CTL" migrate --dir "$TMP/mig")
assert_contains "$out" "database is up to date" "an unchanged repeatable file is not applied again"
stamp=$(sql "SELECT applied_at FROM schema_repeatables WHERE name = 'functions/blasts.sql'")
# Edited: a changed body, a new argument list, a function and a view removed.
cat > "$TMP/mig/functions/core_test.sql" <<'SQL'
CREATE OR REPLACE FUNCTION tocsin_test_twice(p bigint) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$ SELECT p * 3 $$;
SQL
out=$("$CTL" migrate --status --dir "$TMP/mig")
assert_contains "$out" "functions/core_test.sql          changed" "status shows the edit"
out=$("$CTL" migrate --dir "$TMP/mig")
assert_eq "$(grep -c '^applied' <<<"$out")" 1 "the edited file alone is applied again: $out"
assert_contains "$out" "dropped FUNCTION tocsin_test_gone()" "a function the file no longer defines is dropped"
assert_contains "$out" "dropped VIEW test_orgs" "a view the file no longer defines is dropped"
assert_eq "$(sql "SELECT string_agg(p.oid::regprocedure::text, ',') FROM pg_proc p WHERE proname LIKE 'tocsin_test_%'")" \
  "tocsin_test_twice(bigint)" "the old argument list is dropped, the new one defined"
assert_eq "$(sql "SELECT tocsin_test_twice(5)")" 15 "the new body is live"
assert_eq "$(sql "SELECT to_regclass('test_orgs') IS NULL")" t "the view is gone"
assert_eq "$(sql "SELECT applied_at FROM schema_repeatables WHERE name = 'functions/blasts.sql'")" "$stamp" \
  "an unchanged file is not applied again"
assert_contains "$("$CTL" migrate --dir "$TMP/mig")" "database is up to date" "applied once"
# A broken repeatable file leaves nothing of its run, like a broken migration.
echo "CREATE FUNCTION tocsin_test_broken() RETURNS int LANGUAGE plpgsql AS \$\$ BEGIN RETURN 1; END \$\$;
SELECT this_is_not_a_function();" > "$TMP/mig/functions/core_test.sql"
rc=0; out=$("$CTL" migrate --dir "$TMP/mig" 2>&1) || rc=$?
assert_eq "$rc" 1 "a broken repeatable file fails"
assert_contains "$out" "functions/core_test.sql failed" "names the broken file"
assert_eq "$(sql "SELECT to_regprocedure('tocsin_test_broken()') IS NULL AND to_regprocedure('tocsin_test_twice(bigint)') IS NOT NULL")" \
  t "nothing of the failed run remains"
# Bodies are created unchecked (a function may call one defined later) and
# checked once all files ran: a typo fails the migrate, not the first call.
echo 'CREATE OR REPLACE FUNCTION tocsin_test_typo() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETRUN 1; END $$;' \
  > "$TMP/mig/functions/core_test.sql"
rc=0; out=$("$CTL" migrate --dir "$TMP/mig" 2>&1) || rc=$?
assert_eq "$rc" 1 "a function that does not compile fails the migrate"
assert_contains "$out" "tocsin_test_typo(): syntax error" "names the function and the error"
echo "CREATE OR REPLACE FUNCTION tocsin_test_col() RETURNS int LANGUAGE sql AS 'SELECT no_such_column FROM orgs';" \
  > "$TMP/mig/functions/core_test.sql"
rc=0; out=$("$CTL" migrate --dir "$TMP/mig" 2>&1) || rc=$?
assert_eq "$rc" 1 "an SQL body naming a missing column fails the migrate"
assert_contains "$out" "tocsin_test_col()" "names that function"
assert_eq "$(sql "SELECT to_regprocedure('tocsin_test_typo()') IS NULL AND to_regprocedure('tocsin_test_col()') IS NULL")" \
  t "neither remains"
# After a numbered migration every repeatable file is applied again; a
# function the migration created belongs to none of them and stays when
# one is edited later.
echo "CREATE OR REPLACE FUNCTION tocsin_test_twice(p bigint) RETURNS bigint LANGUAGE sql AS 'SELECT p * 3';" \
  > "$TMP/mig/functions/core_test.sql"
echo "CREATE TABLE test_later (id int); CREATE FUNCTION test_numbered() RETURNS int LANGUAGE sql AS 'SELECT 7';" \
  > "$TMP/mig/950_later.sql"
out=$("$CTL" migrate --dir "$TMP/mig")
assert_contains "$out" "applied 950_later.sql" "the new migration is applied"
assert_eq "$(grep -c '^applied functions/' <<<"$out")" "$(ls "$TMP/mig/functions" | wc -l)" \
  "every repeatable file is applied again after a numbered migration"
[[ "$out" != *dropped* ]] || fail "nothing is dropped when files define what they did: $out"
echo "-- edited" >> "$TMP/mig/functions/blasts.sql"
out=$("$CTL" migrate --dir "$TMP/mig")
assert_eq "$out" "applied functions/blasts.sql" "the edited file alone"
assert_eq "$(sql "SELECT test_numbered()")" 7 "a migration's function is not taken for a file's"

# Two concurrent runs on a fresh database: both succeed, each migration once.
fresh_db
"$CTL" migrate >"$TMP/a.log" 2>&1 & a=$!
"$CTL" migrate >"$TMP/b.log" 2>&1 & b=$!
wait $a || fail "concurrent migrate A failed: $(cat "$TMP/a.log")"
wait $b || fail "concurrent migrate B failed: $(cat "$TMP/b.log")"
assert_eq "$(sql "SELECT count(*) FROM schema_migrations")" "$n" "each migration once"

schema_at() { # schema_at COMMIT ERA DIR: DIR/schema as it was at COMMIT (main at migration ERA)
  rm -rf "$3" && mkdir -p "$3"
  git -C "$TOCSIN_SOURCE_DIR" archive "$1" schema | tar -x -C "$3" ||
    fail "the $2-era schema (commit ${1:0:7}) is not in this checkout's git history"
}

# Upgrade: a database built by the migrations of main at 022 (before the
# functions moved out of them), with a row in it, migrates to the same
# schema; its rows stay, its migrations' old checksums are accepted once.
fresh_db
schema_at 83b5169 022 "$TMP/old"
[ ! -d "$TMP/old/schema/functions" ] && [ -f "$TMP/old/schema/022_blast_confirm.sql" ] || fail "not the 022-era schema"
"$CTL" migrate --dir "$TMP/old/schema" >/dev/null
sql "INSERT INTO orgs (slug, name) VALUES ('kept', 'Kept')" >/dev/null
out=$("$CTL" migrate)
assert_contains "$out" "applied functions/blasts.sql" "the upgrade applies the repeatable files"
! grep -qE '^applied 0([01][0-9]|2[0-2])_' <<<"$out" || fail "the upgrade applied a 022-era migration again: $out"
[[ "$out" != *dropped* ]] || fail "the upgrade dropped something: $out"
"$TOCSIN_SOURCE_DIR/ops/schema-dump" --database-url "$TOCSIN_DATABASE_URL" > "$TMP/upgraded.sql"
diff -u "$TOCSIN_SOURCE_DIR/schema/current.sql" "$TMP/upgraded.sql" >&2 ||
  fail "the schema upgraded from 022 differs from schema/current.sql"
assert_eq "$(sql "SELECT count(*) FROM orgs WHERE slug = 'kept'")" 1 "rows survive the upgrade"
out=$("$CTL" migrate --status) || fail "status after the upgrade: $out"
[[ "$out" != *changed* && "$out" != *pending* ]] || fail "after the upgrade everything is applied: $out"
assert_contains "$("$CTL" migrate)" "database is up to date" "the upgrade happens once"
# Only the exact old text of a migration is accepted, not any other.
sql "UPDATE schema_migrations SET checksum = repeat('0', 64) WHERE version = 5" >/dev/null
rc=0; out=$("$CTL" migrate 2>&1) || rc=$?
assert_eq "$rc" 1 "an unknown checksum is refused"
assert_contains "$out" "005_worker.sql was changed after it was applied" "explains why"

# Upgrade to the outbox (034): a database at 033 with messages queued,
# one claimed ('sending') and one sent. The queued ones go into the outbox,
# the claimed one stays in flight as its worker's claim (not in the outbox,
# so not sent twice), the sent one stays out; once that lease has run out,
# the sweep puts the claimed one back (it was never stamped).
fresh_db
schema_at b3a4bf5c066ba9c1acc0f75f80af1ac9f8465910 033 "$TMP/at033"
[ ! -f "$TMP/at033/schema/034_outbox.sql" ] || fail "not the 033-era schema"
"$CTL" migrate --dir "$TMP/at033/schema" >/dev/null
sql "INSERT INTO orgs (slug, name) VALUES ('up', 'Up');
     INSERT INTO senders (org_id, address, kind, provider, account_sid, credentials_sealed, messages_per_second)
     SELECT id, '54321', 'short_code', 'twilio', 'AC' || repeat('1', 32), 'sealed', 1 FROM orgs WHERE slug = 'up';
     INSERT INTO messages (org_id, sender_id, provider, to_phone, body, encoding, segments, lane, state,
                           claimed_by, lease_until, provider_message_id)
     SELECT s.org_id, s.id, 'twilio', '+1415555260' || g, 'up ' || g, 'GSM-7', 1, 'bulk',
            (ARRAY['queued', 'queued', 'sending', 'sent', 'unknown'])[g],
            CASE WHEN g IN (3, 5) THEN 'old-worker' END, CASE WHEN g = 3 THEN now() + interval '1 hour' END,
            CASE WHEN g = 4 THEN 'SMup4' END
       FROM senders s, generate_series(1, 5) g WHERE s.address = '54321'" >/dev/null
out=$("$CTL" migrate)
assert_contains "$out" "applied 034_outbox.sql" "the upgrade applies 034"
# 035 copies the carrier ids and the unknown outcomes into their tables.
assert_contains "$out" "applied 035_hot_outcome.sql" "the upgrade applies 035"
assert_eq "$(sql "SELECT c.provider || ' ' || c.provider_message_id || ' ' || m.body FROM message_carrier_ids c
                   JOIN messages m ON m.id = c.message_id")" "twilio SMup4 up 4" "the carrier id is copied"
assert_eq "$(sql "SELECT m.body FROM unknown_messages u JOIN messages m ON m.id = u.message_id")" "up 5" \
  "the unknown outcome is listed"
assert_eq "$(sql "SELECT tocsin_apply_receipt('twilio', 'SMup4', s.id, 'delivered', NULL, '{}') FROM senders s
                   WHERE s.address = '54321'")" applied "a receipt finds the message sent before 035"
assert_eq "$(sql "SELECT string_agg(m.body, ',' ORDER BY m.body) FROM outbox o JOIN messages m ON m.id = o.id")" \
  "up 1,up 2" "the queued messages are in the outbox"
assert_eq "$(sql "SELECT c.worker || ' ' || m.body || ' ' || m.state FROM claims c JOIN messages m ON m.id = ANY (c.message_ids)")" \
  "old-worker up 3 queued" "the claimed one is its worker's claim, in flight"
assert_eq "$(sql "SELECT count(*) FROM messages WHERE state = 'sending'")" 0 "nothing is left 'sending'"
assert_eq "$(sql "SELECT tocsin_message_shown_state(id, state) FROM messages WHERE body = 'up 3'")" sending \
  "and it shows as sending"
assert_eq "$(sql "SELECT tocsin_sweep_leases()")" 0 "its lease still runs"
sql "UPDATE claims SET lease_until = now() - interval '1 second'" >/dev/null
assert_eq "$(sql "SELECT tocsin_sweep_leases()")" 1 "the sweep takes the expired claim"
assert_eq "$(sql "SELECT count(*) FROM outbox o JOIN messages m ON m.id = o.id WHERE m.body = 'up 3'")" 1 \
  "never stamped: back in the outbox"
assert_eq "$(sql "SELECT count(*) FROM claims")" 0 "the claim is gone"

# Upgrade to the batch journal (040): replies an older gateway left in
# the one-row-per-message journal are carried over, oldest first, and
# threaded by the new function.
fresh_db
schema_at 9a13774b91075965fdc6f5da552949fcb90a3e49 039 "$TMP/at039"
[ ! -f "$TMP/at039/schema/040_inbound_journal_batches.sql" ] || fail "not the 039-era schema"
"$CTL" migrate --dir "$TMP/at039/schema" >/dev/null
sql "INSERT INTO orgs (slug, name) VALUES ('j', 'J');
     INSERT INTO senders (org_id, address, kind, provider, account_sid, credentials_sealed, messages_per_second)
     SELECT id, '54329', 'short_code', 'twilio', 'AC' || repeat('2', 32), 'sealed', 1 FROM orgs WHERE slug = 'j';
     INSERT INTO inbound_journal (provider, provider_message_id, sender_id, from_phone, body, num_media, likely_revocation)
     SELECT 'twilio', 'SMold' || g, s.id, '+1415555270' || g, 'left ' || g, 0, g = 2
       FROM senders s, generate_series(1, 3) g WHERE s.address = '54329'" >/dev/null
assert_contains "$("$CTL" migrate)" "applied 040_inbound_journal_batches.sql" "the upgrade applies 040"
assert_eq "$(sql "SELECT string_agg(provider_message_id[1] || ':' || likely_revocation[1], ',' ORDER BY id) FROM inbound_journal")" \
  "SMold1:false,SMold2:true,SMold3:false" "each old row a batch of one, in order"
assert_eq "$(sql "SELECT applied || ',' || failed || ',' || more FROM tocsin_inbound_journal_apply(200)")" "3,0,false" \
  "threaded by the new function"
assert_eq "$(sql "SELECT string_agg(body, ',' ORDER BY body) FROM inbound_messages WHERE conversation_id IS NOT NULL")" \
  "left 1,left 2,left 3" "all three in their conversations"

# The constraints hold the invariants.
fresh_db
"$CTL" migrate >/dev/null
org() { echo "(SELECT id FROM orgs WHERE slug = '$1')"; }
sql "INSERT INTO orgs (slug, name) VALUES ('o', 'Org')" >/dev/null
! sql "INSERT INTO contacts (org_id, phone) VALUES ($(org o), '555-1234')" 2>/dev/null || fail "non-E.164 phone accepted"
! sql "INSERT INTO users (org_id, email, role) VALUES ($(org o), 'a@b.org', 'boss')" 2>/dev/null || fail "bad role accepted"
! sql "INSERT INTO orgs (slug, name) VALUES ('Bad Slug', 'x')" 2>/dev/null || fail "bad slug accepted"
sql "INSERT INTO orgs (slug, name) VALUES ('other', 'Other')" >/dev/null
sql "INSERT INTO lists (org_id, name) VALUES ($(org o), 'l1')" >/dev/null
sql "INSERT INTO contacts (org_id, phone) VALUES ($(org other), '+14155552671')" >/dev/null
sql "INSERT INTO contacts (org_id, phone) VALUES ($(org o), '+14155552671')" >/dev/null
# The right org works; pointing org o's list at org other's contact does not.
sql "INSERT INTO subscriptions (org_id, list_id, contact_id, source)
     SELECT $(org o), l.id, c.id, 'form' FROM lists l, contacts c WHERE c.org_id = $(org o)" >/dev/null
! sql "INSERT INTO subscriptions (org_id, list_id, contact_id, source)
       SELECT $(org o), l.id, c.id, 'form' FROM lists l, contacts c WHERE c.org_id = $(org other)" 2>/dev/null ||
  fail "a subscription across orgs was accepted"
# Messages: a known state, an E.164 recipient, at least one segment.
sql "INSERT INTO senders (org_id, address, kind, provider, account_sid, credentials_sealed, messages_per_second)
     VALUES ($(org o), '12345', 'short_code', 'twilio', 'AC' || repeat('0', 32), 'sealed', 1)" >/dev/null
msg() { # STATE PHONE SEGMENTS
  sql "INSERT INTO messages (org_id, sender_id, provider, to_phone, body, encoding, segments, lane, state)
       SELECT org_id, id, 'twilio', '$2', 'hi', 'GSM-7', $3, 'bulk', '$1' FROM senders WHERE address = '12345'"
}
msg queued +14155552671 1 >/dev/null || fail "a valid queued message was refused"
! msg bogus +14155552671 1 2>/dev/null || fail "unknown message state accepted"
! msg queued 4155552671 1 2>/dev/null || fail "non-E.164 recipient accepted"
! msg queued +14155552671 0 2>/dev/null || fail "zero segments accepted"
! msg sent +14155552671 1 2>/dev/null || fail "sent without a provider message id accepted"
assert_eq "$(sql "SELECT count(*) FROM messages")" 1 "only the valid message stored"
echo "test_migrate: ok"
