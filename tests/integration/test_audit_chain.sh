#!/usr/bin/env bash
# The audit chain (schema 032) and `tocsinctl audit verify`: rows written
# before 032 are chained by the migration in the order they were written;
# parallel writers of one org leave one unbroken chain; each kind of
# tampering (a row's details edited, a row deleted, two rows swapped, the
# last row cut, a row's hash recomputed by someone without the rows after
# it) is reported at the right row with exit 1; retention's prune keeps the
# rest verifiable.
source "$(dirname "$0")/lib.sh"
fresh_db
CTL="$BIN/ops/tocsinctl"

# An installation from before 032 (main when the chain was added), with
# audit rows of two orgs interleaved.
mkdir -p "$TMP/old"
git -C "$TOCSIN_SOURCE_DIR" archive be6efe4 schema | tar -x -C "$TMP/old" ||
  fail "the pre-032 migrations (commit be6efe4) are not in this checkout's git history"
"$CTL" migrate --dir "$TMP/old/schema" >/dev/null
# (SQL, not tocsinctl org create: today's tocsinctl knows today's schema)
sql "INSERT INTO orgs (slug, name) VALUES ('north', 'North'), ('south', 'South')" >/dev/null
N=$(sql "SELECT id FROM orgs WHERE slug = 'north'")
S=$(sql "SELECT id FROM orgs WHERE slug = 'south'")
sql "INSERT INTO audit_events (org_id, action, details)
     SELECT CASE WHEN i % 3 = 0 THEN $S ELSE $N END, 'test.old', jsonb_build_object('i', i, 'text', 'ünïcode \"quoted\" ; S3:x;')
       FROM generate_series(1, 30) i" >/dev/null
"$CTL" migrate >/dev/null
assert_eq "$(sql "SELECT count(*) FROM audit_events WHERE seq IS NULL OR hash IS NULL")" 0 "every old row chained"
assert_eq "$(sql "SELECT bool_and(o) FROM (SELECT (row_number() OVER (PARTITION BY org_id ORDER BY id)) = seq AS o FROM audit_events) x")" t \
  "in the order they were written, per org"
out=$("$CTL" audit verify)
assert_contains "$out" "org north: 20 rows, chain intact" "north's old rows verify"
assert_contains "$out" "org south: 10 rows, chain intact" "south's old rows verify"

# New rows: through tocsin_audit and through a plain INSERT, both chained.
U=$(sql "INSERT INTO users (org_id, email, role) VALUES ($N, 'lead@north.test', 'lead') RETURNING id")
sql "SELECT tocsin_audit($N, $U, 'test.new', 'user', $U, '{\"a\": [1, 2.50, null]}')" >/dev/null
sql "INSERT INTO audit_events (org_id, action, seq, hash) VALUES ($N, 'test.plain', 999, '\\x00')" >/dev/null
assert_eq "$(sql "SELECT seq FROM audit_events WHERE action = 'test.plain'")" 22 "a writer's own seq and hash are replaced"

# One transaction: several statements, a savepoint rolled back, a
# many-row statement, two orgs; one statement of 2,000 rows.
sql "BEGIN; SELECT tocsin_audit($N, NULL, 'test.tx', NULL, 1, NULL); SAVEPOINT s;
     SELECT tocsin_audit($N, NULL, 'test.tx', NULL, 2, NULL); ROLLBACK TO s;
     INSERT INTO audit_events (org_id, action, subject_id) SELECT $N, 'test.tx', i FROM generate_series(3, 5) i;
     SELECT tocsin_audit($S, NULL, 'test.tx', NULL, 6, NULL); SELECT tocsin_audit($N, NULL, 'test.tx', NULL, 7, NULL); COMMIT" >/dev/null
assert_eq "$(sql "SELECT string_agg(subject_id || ':' || seq, ',' ORDER BY seq) FROM audit_events WHERE action = 'test.tx' AND org_id = $N")" \
  "1:23,3:24,4:25,5:26,7:27" "the rolled-back row left no gap"
sql "INSERT INTO audit_events (org_id, action) SELECT $S, 'test.bulk' FROM generate_series(1, 2000)" >/dev/null
assert_eq "$(sql "SELECT last_seq FROM audit_chain_heads WHERE org_id = $S")" 2011 "the head follows a many-row statement"
assert_eq "$("$CTL" audit verify)" "org north: 27 rows, chain intact
org south: 2011 rows, chain intact" "both chains intact"

# Concurrency: 8 writers, 40 transactions each, all on north's chain.
for w in $(seq 1 8); do
  (for t in $(seq 1 40); do echo "BEGIN; SELECT tocsin_audit($N, NULL, 'test.parallel', NULL, $w, '{\"t\": $t}'); COMMIT;"; done |
     "$PSQL" -XqAt -v ON_ERROR_STOP=1 "$TOCSIN_DATABASE_URL" >/dev/null) &
done
wait
assert_eq "$(sql "SELECT count(*), count(DISTINCT seq), max(seq) FROM audit_events WHERE org_id = $N")" "347|347|347" \
  "347 rows, 347 distinct places, no gap"
assert_eq "$(sql "SELECT last_seq FROM audit_chain_heads WHERE org_id = $N")" 347 "the head at the last one"
out=$("$CTL" audit verify --org north)
assert_eq "$out" "org north: 347 rows, chain intact" "the parallel writers left one chain"

# Each tampering on its own copy of the database.
BASE=${TOCSIN_DATABASE_URL##*dbname=}; BASE=${BASE%% *}
copy() { # NAME: a copy of the chained database; TOCSIN_DATABASE_URL points at it
  "$PSQL" -XqAt -v ON_ERROR_STOP=1 "host=127.0.0.1 port=$TEST_PG_PORT dbname=postgres user=tocsin" \
    -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS \"${BASE}_$1\"" -c "CREATE DATABASE \"${BASE}_$1\" TEMPLATE \"$BASE\""
  export TOCSIN_DATABASE_URL="host=127.0.0.1 port=$TEST_PG_PORT dbname=${BASE}_$1 user=tocsin"
}
ORIG=$TOCSIN_DATABASE_URL
row_at() { sql "SELECT id FROM audit_events WHERE org_id = $N AND seq = $1"; }
broken() { # EXPECTED-TEXT MESSAGE: verify exits 1 and says EXPECTED-TEXT
  local rc=0
  "$CTL" audit verify >"$TMP/v" 2>&1 || rc=$?
  assert_eq "$rc" 1 "$2: exit status"
  assert_contains "$(cat "$TMP/v")" "$1" "$2"
  assert_contains "$(cat "$TMP/v")" "org south: 2011 rows, chain intact" "$2: south is not affected"
}

copy edit
R=$(row_at 100)
sql "UPDATE audit_events SET details = jsonb_set(details, '{t}', to_jsonb('tampered'::text)) WHERE id = $R" >/dev/null
broken "org north: broken link at audit row $R (seq 100, " "an edited row"
assert_contains "$(cat "$TMP/v")" "its contents do not match its hash (the row was edited)" "says it was edited"
TOCSIN_DATABASE_URL=$ORIG copy time
sql "UPDATE audit_events SET created_at = created_at + interval '1 second' WHERE id = $(row_at 50)" >/dev/null
broken "broken link at audit row $(row_at 50) (seq 50, " "a row's time changed"

TOCSIN_DATABASE_URL=$ORIG copy delete
R=$(row_at 201)
sql "DELETE FROM audit_events WHERE seq = 200 AND org_id = $N" >/dev/null
broken "org north: broken link at audit row $R (seq 201, " "a deleted row: reported at the row after it"
assert_contains "$(cat "$TMP/v")" "expected seq 200; a row before it was removed" "says one was removed"

TOCSIN_DATABASE_URL=$ORIG copy swap
A=$(row_at 150); B=$(row_at 151)
sql "UPDATE audit_events SET seq = -1 WHERE id = $A; UPDATE audit_events SET seq = 150 WHERE id = $B;
     UPDATE audit_events SET seq = 151 WHERE id = $A" >/dev/null
broken "org north: broken link at audit row $B (seq 150, " "two rows swapped: reported at the first place"
TOCSIN_DATABASE_URL=$ORIG copy swap_time
A=$(row_at 21); B=$(row_at 22)  # written by two statements: two times
assert_eq "$(sql "SELECT count(DISTINCT created_at) FROM audit_events WHERE id IN ($A, $B)")" 2 "two different times to exchange"
sql "UPDATE audit_events e SET created_at = o.created_at FROM audit_events o
      WHERE (e.id, o.id) IN (($A, $B), ($B, $A))" >/dev/null
broken "org north: broken link at audit row $A (seq 21, " "two rows' times exchanged"

TOCSIN_DATABASE_URL=$ORIG copy cut
sql "DELETE FROM audit_events WHERE org_id = $N AND seq > 345" >/dev/null
broken "org north: broken link at the end: the chain stops at seq 345 but its head says 347" "the last rows cut"

TOCSIN_DATABASE_URL=$ORIG copy rehash
# Someone edits a row and recomputes its hash with the database's own
# function: the next row no longer follows it.
R=$(row_at 300)
sql "UPDATE audit_events SET details = '{\"t\": 0}' WHERE id = $R;
     UPDATE audit_events SET hash = tocsin_audit_hash(id, org_id, seq, created_at, user_id, action, subject_type, subject_id, details, prev_hash) WHERE id = $R" >/dev/null
broken "org north: broken link at audit row $(row_at 301) (seq 301, " "a rehashed row: the next one breaks"

TOCSIN_DATABASE_URL=$ORIG copy prune
assert_eq "$(sql "SELECT tocsin_audit_prune($N, now() + interval '1 day', 25)")" 25 "prune removes the oldest 25"
assert_eq "$(sql "SELECT min(seq) FROM audit_events WHERE org_id = $N")" 26 "from the start"
assert_eq "$("$CTL" audit verify --org north)" "org north: 322 rows, chain intact" "what remains verifies from the anchor"
sql "DELETE FROM audit_events WHERE org_id = $N AND seq = 26" >/dev/null
rc=0; "$CTL" audit verify --org north >"$TMP/v" || rc=$?
assert_eq "$rc" 1 "a row removed after the anchor by hand is still a break"
assert_contains "$(cat "$TMP/v")" "(seq 27, " "reported at the row after it"

rc=0; "$CTL" audit verify --org nowhere 2>"$TMP/e" || rc=$?
assert_eq "$rc" 1 "an unknown org"
assert_contains "$(cat "$TMP/e")" 'org "nowhere" does not exist' "named"
echo "ok"
