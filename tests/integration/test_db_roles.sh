#!/usr/bin/env bash
# tocsinctl setup and the roles the package uses: migrations run as the
# owner role (a superuser connection with the session role set, as
# tocsin-migrate.service does) and own every object; the runtime role's
# grants suffice for the daemons' work — the demo seed, a member's JOIN
# through the gateway, the worker sending the confirmation to the carrier
# simulator, a dashboard login and pool as the web role (a member of the
# runtime role) — and for objects a later
# migration adds (default privileges); it cannot create, alter, drop or
# truncate, nor COPY ... PROGRAM, nor become the owner.
source "$(dirname "$0")/lib.sh"
CTL="$BIN/ops/tocsinctl"
ADMIN="host=127.0.0.1 port=$TEST_PG_PORT dbname=postgres user=tocsin"
DB="t_roles_$$" OWNER="t_owner_$$" RT="t_rt_$$" WEB="t_web_$$"
drop_all() {
  "$PSQL" -XqAt "$ADMIN" -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" \
    -c "DROP ROLE IF EXISTS \"$WEB\"" -c "DROP ROLE IF EXISTS \"$RT\"" -c "DROP ROLE IF EXISTS \"$OWNER\"" >/dev/null 2>&1 || true
}
trap 'cleanup; drop_all' EXIT

out=$("$CTL" --database-url "$ADMIN" setup --database "$DB" --owner-role "$OWNER" --runtime-role "$RT" --web-role "$WEB")
assert_contains "$out" "created role $OWNER" "owner role created"
assert_contains "$out" "created role $RT" "runtime role created"
assert_contains "$out" "created role $WEB" "web role created"
assert_contains "$out" "created database $DB" "database created"
out=$("$CTL" --database-url "$ADMIN" setup --database "$DB" --owner-role "$OWNER" --runtime-role "$RT" --web-role "$WEB")
[[ "$out" != *created* ]] || fail "a second setup created something: $out"
rc=0; "$CTL" --database-url "$ADMIN" setup --database "$DB" --owner-role same --runtime-role same 2>/dev/null || rc=$?
assert_eq "$rc" 1 "owner and runtime roles must differ"

export TOCSIN_SECRET_KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
OWNER_URL="host=127.0.0.1 port=$TEST_PG_PORT dbname=$DB user=tocsin options=-crole=$OWNER"
"$CTL" --database-url "$OWNER_URL" migrate >/dev/null
export TOCSIN_DATABASE_URL="host=127.0.0.1 port=$TEST_PG_PORT dbname=$DB user=$RT"
assert_eq "$(sql "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE n.nspname = 'public' AND pg_get_userbyid(c.relowner) <> '$OWNER'")" 0 "the owner role owns every relation"
assert_eq "$(sql "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                  WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> '$OWNER'")" 0 "and every function"
assert_eq "$(sql "SELECT rolsuper OR rolcreatedb OR rolcreaterole OR rolreplication OR rolbypassrls FROM pg_roles WHERE rolname = current_user")" f \
  "the runtime role is plain"

# What the runtime role must not do.
refused() { # refused WHAT SQL: SQL fails for the runtime role
  local out
  out=$("$PSQL" -XqAt -v ON_ERROR_STOP=1 "$TOCSIN_DATABASE_URL" -c "$2" 2>&1) && fail "the runtime role could $1"
  assert_contains "$out" "ERROR" "$1 is refused"
}
refused "CREATE TABLE" "CREATE TABLE rt_table (i int)"
refused "ALTER TABLE" "ALTER TABLE messages ADD COLUMN x int"
refused "DROP TABLE" "DROP TABLE audit_events"
refused "TRUNCATE" "TRUNCATE opt_outs"
refused "CREATE FUNCTION" "CREATE FUNCTION rt_f() RETURNS int LANGUAGE sql AS 'SELECT 1'"
refused "COPY ... PROGRAM" "COPY (SELECT 1) TO PROGRAM 'true'"
refused "COPY to a server file" "COPY orgs TO '/tmp/t_roles_orgs'"
refused "SET ROLE to the owner" "SET ROLE \"$OWNER\""
refused "CREATE SCHEMA" "CREATE SCHEMA rt_schema"
WEB_URL="host=127.0.0.1 port=$TEST_PG_PORT dbname=$DB user=$WEB"
out=$("$PSQL" -XqAt -v ON_ERROR_STOP=1 "$WEB_URL" -c "CREATE TABLE web_table (i int)" 2>&1) && fail "the web role could CREATE TABLE"
assert_eq "$("$PSQL" -XqAt "$WEB_URL" -c "SELECT count(*) >= 0 FROM orgs")" t "the web role reads rows as the runtime role"

# The daemons' work as the runtime role: the demo seed (tocsinctl's
# everyday verbs), a JOIN through the gateway, the worker's send, the
# dashboard's login and inbox.
"$CTL" demo-seed >/dev/null
# The lead below logs in with her password alone (docs/accounts.md).
"$CTL" org set demo --require-two-factor off >/dev/null
SIM_PORT=$(free_port) GW_PORT=$(free_port) DASH_PORT=$(free_port)
SIM="http://127.0.0.1:$SIM_PORT"
sql "UPDATE senders SET base_url = '$SIM'" >/dev/null
export TOCSIN_PUBLIC_URL="http://127.0.0.1:$GW_PORT" TOCSIN_WORKER_POLL_MS=200
TOCSIN_GATEWAY_PORT=$GW_PORT "$BIN/gateway/tocsin-gateway" >"$TMP/gateway.log" 2>&1 & TEST_PIDS+=($!)
"$BIN/ops/tocsin-carrier-sim" --port "$SIM_PORT" --gateway "http://127.0.0.1:$GW_PORT" --receipt-delay-ms 100 \
  >"$TMP/sim.log" 2>&1 & TEST_PIDS+=($!)
TOCSIN_WORKER_METRICS_PORT=$(free_port) "$BIN/worker/tocsin-worker" >"$TMP/worker.log" 2>&1 & TEST_PIDS+=($!)
DASH="http://127.0.0.1:$DASH_PORT"
env TOCSIN_DASHBOARD_PORT="$DASH_PORT" TOCSIN_DASHBOARD_URL="$DASH" \
  TOCSIN_DATABASE_URL="host=127.0.0.1 port=$TEST_PG_PORT dbname=$DB user=$WEB" \
  "$TOCSIN_SOURCE_DIR/ops/daemon-exec" dashboard "$BIN/dashboard/tocsin-dashboard" >"$TMP/dashboard.log" 2>&1 &
TEST_PIDS+=($!)
wait_http "http://127.0.0.1:$GW_PORT/healthz"
wait_http "$SIM/healthz"
wait_http "$DASH/healthz"

M=+14155550177
out=$(curl -s -XPOST "$SIM/sim/inbound" -d "{\"from\": \"$M\", \"to\": \"24680\", \"body\": \"JOIN\"}")
assert_contains "$out" '"gateway_status":200' "the gateway stored a JOIN as the runtime role"
assert_eq "$(sql "SELECT count(*) FROM subscriptions s JOIN contacts c ON c.id = s.contact_id WHERE c.phone = '$M'")" 1 "subscribed"
wait_until 60 "the worker to send the confirmation as the runtime role" \
  sql_is "SELECT count(*) FROM messages WHERE to_phone = '$M' AND state IN ('sent', 'delivered')" 1
out=$(curl -s -XPOST "$SIM/sim/inbound" -d "{\"from\": \"$M\", \"to\": \"24680\", \"body\": \"when is the meeting?\"}")
assert_contains "$out" '"gateway_status":200' "a reply stored"
code=$(curl -s -c "$TMP/lead.jar" -o "$TMP/login" -w '%{http_code}' -X POST "$DASH/api/login" \
  -H 'Content-Type: application/json' -d '{"email":"lead@demo.test","password":"tocsin-demo"}')
assert_eq "$code" 200 "dashboard login as the web role"
code=$(curl -s -b "$TMP/lead.jar" -o "$TMP/inbox" -w '%{http_code}' "$DASH/api/conversations/pool")
assert_eq "$code" 200 "dashboard pool as the web role"
assert_contains "$(cat "$TMP/inbox")" "when is the meeting?" "the reply is in the pool"
for f in gateway worker dashboard; do
  if grep -qi "permission denied" "$TMP/$f.log"; then grep -i "permission denied" "$TMP/$f.log" >&2; fail "$f hit a permission error"; fi
done

# A later migration's objects get the runtime grants by default privileges.
mkdir -p "$TMP/mig"
cp -r "$TOCSIN_SOURCE_DIR"/schema/. "$TMP/mig/"
cat > "$TMP/mig/900_later.sql" <<'SQL'
CREATE TABLE later_things (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note text NOT NULL);
CREATE SEQUENCE later_seq;
CREATE FUNCTION later_count() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM later_things';
SQL
"$CTL" --database-url "$OWNER_URL" migrate --dir "$TMP/mig" >/dev/null
sql "INSERT INTO later_things (note) VALUES ('a')" >/dev/null
assert_eq "$(sql "SELECT later_count()")" 1 "a later table and function are usable by the runtime role"
# The repeatable files, applied again after that migration, stay the owner's.
assert_eq "$(sql "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                  WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> '$OWNER'")" 0 \
  "the owner role still owns every function"
assert_eq "$(sql "SELECT nextval('later_seq')")" 1 "a later sequence too"
refused "DROP a later table" "DROP TABLE later_things"
echo "PASS"
