#!/usr/bin/env bash
# tocsinctl migrate: applies everything once, is a no-op the second time,
# runs each migration in a transaction (a broken one leaves nothing), and
# refuses a migration edited after it was applied. The schema's CHECK
# constraints reject bad rows.
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

# A folder with the real migrations plus a broken one.
mkdir -p "$TMP/mig"
cp "$TOCSIN_SOURCE_DIR"/schema/*.sql "$TMP/mig/"
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

# Two concurrent runs on a fresh database: both succeed, each migration once.
fresh_db
"$CTL" migrate >"$TMP/a.log" 2>&1 & a=$!
"$CTL" migrate >"$TMP/b.log" 2>&1 & b=$!
wait $a || fail "concurrent migrate A failed: $(cat "$TMP/a.log")"
wait $b || fail "concurrent migrate B failed: $(cat "$TMP/b.log")"
assert_eq "$(sql "SELECT count(*) FROM schema_migrations")" "$n" "each migration once"

# The constraints hold the invariants.
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
