#!/usr/bin/env bash
# tocsinctl doctor on an installation set up as the package does (owner and
# runtime roles, migrations as the owner, a key file, https URLs, a trusted
# proxy, a Twilio and a Telnyx sender at the carrier simulator): every check
# passes and it exits 0. Then each thing an operator gets wrong, one at a
# time, is named in its own FAIL line with exit 1: a superuser connection,
# no database, no migrations, a pending one, one from a newer version, a
# key others can read or missing, another key, http:// URLs, an https URL
# nothing answers, no trusted proxy, a sender whose token the carrier
# refuses. (The proxy's forwarded address and the https probes through
# nginx are checked in ops/test-package.)
source "$(dirname "$0")/lib.sh"
CTL="$BIN/ops/tocsinctl"
ADMIN="host=127.0.0.1 port=$TEST_PG_PORT dbname=postgres user=tocsin"
DB="t_doctor_$$" OWNER="t_downer_$$" RT="t_drt_$$" WEB="t_dweb_$$"
drop_all() {
  "$PSQL" -XqAt "$ADMIN" -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" \
    -c "DROP ROLE IF EXISTS \"$WEB\"" -c "DROP ROLE IF EXISTS \"$RT\"" -c "DROP ROLE IF EXISTS \"$OWNER\"" >/dev/null 2>&1 || true
}
trap 'cleanup; drop_all' EXIT

"$CTL" --database-url "$ADMIN" setup --database "$DB" --owner-role "$OWNER" --runtime-role "$RT" --web-role "$WEB" >/dev/null
SUPER_URL="host=127.0.0.1 port=$TEST_PG_PORT dbname=$DB user=tocsin"
"$CTL" --database-url "$SUPER_URL options=-crole=$OWNER" migrate >/dev/null
export TOCSIN_DATABASE_URL="host=127.0.0.1 port=$TEST_PG_PORT dbname=$DB user=$RT"
su() { "$PSQL" -XqAt -v ON_ERROR_STOP=1 "$SUPER_URL" -c "$1"; }

KEY=$TMP/secret_key
(umask 077; echo 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f > "$KEY")
export TOCSIN_SECRET_KEY_FILE=$KEY
SID=AC0123456789abcdef0123456789abcdef TOKEN=right-twilio-token TELNYX_KEY=KEY_right_telnyx
SIM_PORT=$(free_port)
SIM="http://127.0.0.1:$SIM_PORT"
"$BIN/ops/tocsin-carrier-sim" --port "$SIM_PORT" --gateway "http://127.0.0.1:$(free_port)" \
  --twilio "$SID:$TOKEN" --telnyx "$TELNYX_KEY" >"$TMP/sim.log" 2>&1 & TEST_PIDS+=($!)
wait_http "$SIM/healthz"
"$CTL" org create acme --name Acme --help-text "Acme: reply STOP to stop." >/dev/null
printf '%s' "$TOKEN" | "$CTL" sender add --org acme --address 24680 --provider twilio --mps 5 \
  --account-sid "$SID" --auth-token-stdin --base-url "$SIM" >/dev/null
TELNYX_KEY=$TELNYX_KEY "$CTL" sender add --org acme --address "(800) 555-0199" --provider telnyx --mps 5 \
  --api-key-env TELNYX_KEY --base-url "$SIM" >/dev/null

export TOCSIN_PUBLIC_URL=https://sms.example.test TOCSIN_DASHBOARD_URL=https://inbox.example.test
export TOCSIN_TRUSTED_PROXIES=127.0.0.1/32
# doctor [ARGS...]: runs it with the test's key file and owner, no https
# probes (nothing answers for example.test); sets $out and $rc.
doctor() {
  rc=0
  out=$("$CTL" doctor --key-file "$KEY" --key-owner "$(id -un)" --no-probe "$@" 2>&1) || rc=$?
}
# line CHECK: doctor's lines for CHECK
line() { echo "$out" | grep -E "^(ok  |warn|FAIL|skip)  $1 " || true; }

doctor
[ "$rc" = 0 ] || fail "doctor on a right installation exited $rc: $out"
assert_contains "$(line database)" "ok    database   connected as $RT (rows only, no DDL)" "the runtime role"
assert_contains "$(line migrations)" "ok    migrations current" "migrations current"
assert_contains "$(line key)" "ok    key        $KEY: $(id -un)'s only (mode 0600)" "the key file"
assert_eq "$(line url | grep -c '^ok ')" 2 "both URLs https"
assert_contains "$(line proxy)" "ok    proxy      TOCSIN_TRUSTED_PROXIES is set" "the trusted proxy"
assert_contains "$(line sender)" "ok    sender     twilio 24680 (org acme): twilio accepts its credentials" "Twilio's check"
assert_contains "$(line sender)" "ok    sender     telnyx +18005550199 (org acme): telnyx accepts its credentials" "Telnyx's check"
assert_contains "$(line sealing)" "warn  sealing    no sealing key published" "migrate ran without the key: nothing published yet"
assert_eq "$(echo "$out" | grep -c '^FAIL')" 0 "no failure"
# The carrier was asked the harmless way: no message was sent.
assert_contains "$(curl -s "$SIM/sim/stats" | tr -d ' ')" '"accepted":0,"messages":0' "the checks sent no message"

# Each mistake, alone.
"$CTL" --database-url "$SUPER_URL options=-crole=$OWNER" migrate >/dev/null
doctor --no-carrier
assert_eq "$rc" 0 "--no-carrier passes"
assert_contains "$(line sealing)" "ok    sealing    the dashboard seals new credentials for this key" "migrate with the key published it"
assert_contains "$(line sender)" "credentials open with the key (carrier not asked)" "--no-carrier asks nobody"

TOCSIN_DATABASE_URL=$SUPER_URL doctor --no-carrier
assert_eq "$rc" 1 "a superuser connection fails"
assert_contains "$(line database)" "FAIL  database   connected as tocsin, a superuser" "and says so"

TOCSIN_DATABASE_URL="host=127.0.0.1 port=$(free_port) dbname=$DB user=$RT connect_timeout=3" doctor
assert_eq "$rc" 1 "no database fails"
assert_contains "$(line database)" "FAIL  database   cannot connect" "and says so"
assert_contains "$(line migrations)" "skip  migrations no database" "migrations skipped"

"$PSQL" -XqAt "$ADMIN" -c "CREATE DATABASE \"${DB}_empty\"" >/dev/null
TOCSIN_DATABASE_URL="host=127.0.0.1 port=$TEST_PG_PORT dbname=${DB}_empty user=tocsin" doctor --no-carrier
"$PSQL" -XqAt "$ADMIN" -c "DROP DATABASE \"${DB}_empty\"" >/dev/null
assert_contains "$(line migrations)" "FAIL  migrations none applied" "an unmigrated database"

last=$(su "SELECT version || ',' || name || ',' || checksum FROM schema_migrations ORDER BY version DESC LIMIT 1")
su "DELETE FROM schema_migrations WHERE version = ${last%%,*}" >/dev/null
doctor --no-carrier
assert_eq "$rc" 1 "a pending migration fails"
lname=${last#*,}; lname=${lname%%,*}
assert_contains "$(line migrations)" "FAIL  migrations 1 of" "one pending"
assert_contains "$(line migrations)" "pending (first $lname)" "named"
IFS=, read -r v n c <<<"$last"
su "INSERT INTO schema_migrations (version, name, checksum) VALUES ($v, '$n', '$c'),
    (99999, '99999_from_the_future.sql', 'x')" >/dev/null
doctor --no-carrier
assert_eq "$rc" 1 "a migration from a newer version fails"
assert_contains "$(line migrations)" "does not know (first version 99999)" "and is named"
su "DELETE FROM schema_migrations WHERE version = 99999" >/dev/null
su "UPDATE schema_migrations SET checksum = 'tampered' WHERE version = $v" >/dev/null
doctor --no-carrier
assert_contains "$(line migrations)" "differ from this version's (first $lname)" "a changed migration"
su "UPDATE schema_migrations SET checksum = '$c' WHERE version = $v" >/dev/null
# A function file as another version had it.
fname=$(su "SELECT name FROM schema_repeatables ORDER BY name LIMIT 1")
fsum=$(su "SELECT checksum FROM schema_repeatables WHERE name = '$fname'")
su "UPDATE schema_repeatables SET checksum = 'older' WHERE name = '$fname'" >/dev/null
doctor --no-carrier
assert_eq "$rc" 1 "a stale function file fails"
assert_contains "$(line migrations)" "function files are not as this version has them (first $fname)" "and is named"
su "UPDATE schema_repeatables SET checksum = '$fsum' WHERE name = '$fname'" >/dev/null

# (The daemons refuse such a key file themselves; doctor looks at the one
# the units load, /etc/tocsin/secret_key, which they never see directly.)
cp "$KEY" "$TMP/loose_key"; chmod 640 "$TMP/loose_key"
doctor --no-carrier --key-file "$TMP/loose_key"
assert_eq "$rc" 1 "a key the group can read fails"
assert_contains "$(line key)" "has mode 0640" "says the mode"
assert_contains "$(line key)" "chmod 600 $TMP/loose_key" "and the fix"
other=root; [ "$(id -u)" != 0 ] || other=nobody
doctor --no-carrier --key-owner $other
assert_eq "$rc" 1 "a key of another owner fails"
assert_contains "$(line key)" "not to $other: chown $other $KEY" "and says whose it should be"
doctor --no-carrier --key-file "$TMP/nothing-here"
assert_eq "$rc" 1 "a missing key file fails"
assert_contains "$(line key)" "FAIL  key        $TMP/nothing-here: No such file or directory" "says so"

(umask 077; echo ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff > "$TMP/other_key")
TOCSIN_SECRET_KEY_FILE=$TMP/other_key doctor
assert_eq "$rc" 1 "another key fails"
assert_eq "$(line sender | grep -c 'credentials do not open with this key')" 2 "for both senders"
assert_contains "$(line sealing)" "FAIL  sealing    the published sealing key is not this key's" "and the dashboard's sealing key is another key's"

TOCSIN_PUBLIC_URL=http://sms.example.test TOCSIN_DASHBOARD_URL=http://inbox.example.test doctor --no-carrier
assert_eq "$rc" 1 "http:// URLs fail"
assert_contains "$(line url)" "FAIL  url        TOCSIN_PUBLIC_URL is http://sms.example.test: carriers' webhooks must reach Tocsin over https://" "the public URL"
assert_contains "$(line url)" "TOCSIN_DASHBOARD_URL is http://inbox.example.test" "the dashboard URL"

# Probed: an https URL where nothing listens.
rc=0
out=$(TOCSIN_PUBLIC_URL="https://127.0.0.1:$(free_port)" "$CTL" doctor --key-file "$KEY" --key-owner "$(id -un)" --no-carrier 2>&1) || rc=$?
assert_eq "$rc" 1 "an unreachable public URL fails"
assert_contains "$(line url)" "/healthz is unreachable" "and says so"

TOCSIN_TRUSTED_PROXIES= doctor --no-carrier
assert_eq "$rc" 1 "no trusted proxy fails"
assert_contains "$(line proxy)" "FAIL  proxy      TOCSIN_TRUSTED_PROXIES is empty" "and says so"

# A token changed at the carrier: the simulator knows another one now.
sid2=AC00000000000000000000000000000002
printf 'an-old-token' | "$CTL" sender add --org acme --address 24681 --provider twilio --mps 5 \
  --account-sid "$sid2" --auth-token-stdin --base-url "$SIM" >/dev/null
doctor
assert_eq "$rc" 1 "a refused token fails"
assert_contains "$(line sender)" "FAIL  sender     twilio 24681 (org acme): twilio refuses its credentials (HTTP 401)" "named"
assert_contains "$(line sender)" "ok    sender     twilio 24680 (org acme)" "the others still pass"
echo PASS
