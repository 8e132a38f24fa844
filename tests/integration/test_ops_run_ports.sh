#!/usr/bin/env bash
# ops/run beside another copy: every port moves with one variable and the
# URLs follow it (the simulator posts to the moved gateway, the demo short
# code sends to the moved simulator, the banner prints what is in use); a
# port another process holds is refused before anything starts, naming
# the variable to change, instead of a health check finding the other
# process and reporting success. Runs the tests' build with --no-build,
# its database, logs and pids in a folder of its own (TOCSIN_VAR_DIR).
source "$(dirname "$0")/lib.sh"
unset TOCSIN_DATABASE_URL TOCSIN_PUBLIC_URL TOCSIN_DASHBOARD_URL TOCSIN_GATEWAY_SPOOL_DIR TOCSIN_SECRET_KEY
export TOCSIN_VAR_DIR="$TMP/var"
# run_copy [ENV=V...]: ops/run --detach; its output (to a file: the
# detached daemons keep their copies of its stdout open) in $out.
run_copy() {
  local rc=0
  env "$@" "$TOCSIN_SOURCE_DIR/ops/run" --no-build --build-dir "$BIN" --detach >"$TMP/run.out" 2>&1 || rc=$?
  out=$(cat "$TMP/run.out")
  return $rc
}
stop_copy() { "$TOCSIN_SOURCE_DIR/ops/stop" >/dev/null 2>&1 || true; "$TOCSIN_SOURCE_DIR/ops/pg" destroy >/dev/null 2>&1 || true; }
trap 'stop_copy; cleanup' EXIT

distinct_ports() { # N free ports, all different
  local got=() p
  while [ ${#got[@]} -lt "$1" ]; do
    p=$(free_port)
    [[ " ${got[*]} " == *" $p "* ]] || got+=("$p")
  done
  echo "${got[@]}"
}
read -r GW DASHP METRICS SIM PG OTHER <<<"$(distinct_ports 6)"
export TOCSIN_GATEWAY_PORT=$GW TOCSIN_DASHBOARD_PORT=$DASHP TOCSIN_WORKER_METRICS_PORT=$METRICS
export TOCSIN_SIM_PORT=$SIM TOCSIN_PG_PORT=$PG

# Another copy's process on the simulator's port, answering /healthz 200.
node -e 'require("http").createServer((q, s) => s.end("ok")).listen(Number(process.argv[1]), "127.0.0.1")' "$SIM" &
TEST_PIDS+=($!)
wait_http "http://127.0.0.1:$SIM/healthz"
run_copy && fail "ops/run started beside a process on its port: $out"
assert_contains "$out" "port $SIM (TOCSIN_SIM_PORT) is taken by another process" "names the port and its variable"
[ ! -e "$TOCSIN_VAR_DIR/run/gateway.pid" ] || fail "nothing starts when a port is taken"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$GW/healthz")" 000 "no gateway was started"
run_copy TOCSIN_DASHBOARD_PORT="$GW" && fail "two daemons on one port were accepted"
assert_contains "$out" "are both $GW" "the same port twice"
run_copy TOCSIN_SIM_PORT=80 && fail "a privileged port was accepted"
assert_contains "$out" 'invalid TOCSIN_SIM_PORT "80"' "port range"
kill "${TEST_PIDS[-1]}"; wait "${TEST_PIDS[-1]}" 2>/dev/null || true

# Every port moved: all healthy, the banner says where.
run_copy || { echo "$out" >&2; fail "ops/run with moved ports"; }
for p in $GW $DASHP $METRICS $SIM; do
  assert_contains "$out" "127.0.0.1:$p/" "the banner names port $p"
  assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p/healthz")" 200 "port $p healthy"
done
assert_contains "$out" "127.0.0.1:$PG" "the banner names the database port"
[[ "$out" != *":8080/"* && "$out" != *":8090/"* ]] || fail "the banner printed a default port: $out"
# The pids ops/run wrote are the processes listening.
for name in gateway dashboard worker carrier-sim; do
  pid=$(cat "$TOCSIN_VAR_DIR/run/$name.pid")
  kill -0 "$pid" || fail "$name's pid file names a live process"
done
# The carrier-credential key reaches only the processes that open
# credentials, as a file name: the dashboard's environment has neither.
dash_env=$(tr '\0' '\n' <"/proc/$(cat "$TOCSIN_VAR_DIR/run/dashboard.pid")/environ")
assert_contains "$dash_env" "TOCSIN_DASHBOARD_PORT=$DASHP" "the dashboard's own environment was read"
[[ "$dash_env" != *TOCSIN_SECRET_KEY* ]] || fail "the dashboard's environment names the key: $(grep SECRET <<<"$dash_env")"
for name in gateway worker; do
  assert_contains "$(tr '\0' '\n' <"/proc/$(cat "$TOCSIN_VAR_DIR/run/$name.pid")/environ")" \
    "TOCSIN_SECRET_KEY_FILE=$TOCSIN_VAR_DIR/secret_key" "the $name gets the key file"
done
assert_eq "$(stat -c %a "$TOCSIN_VAR_DIR/secret_key")" 600 "the key file is its owner's only"

# End to end through the moved ports: a member texts JOIN at the
# simulator, which posts to the moved gateway; the confirmation goes out
# through the worker to the moved simulator.
joins() { # joins SIM_PORT PHONE: the phone texts JOIN; prints its thread once the confirmation is in it
  local thread r
  r=$(curl -s -XPOST "http://127.0.0.1:$1/sim/inbound" -d "{\"from\": \"$2\", \"to\": \"24680\", \"body\": \"JOIN\"}")
  assert_contains "$r" '"gateway_status":200' "the simulator on $1 reached the gateway"
  confirmed() { thread=$(curl -s "http://127.0.0.1:$1/sim/phones/${2/+/%2B}"); [[ "$thread" == *"you're in"* ]]; }
  wait_until 60 "the confirmation on $2's phone" confirmed "$1" "$2"
  echo "$thread"
}
assert_contains "$(joins "$SIM" +14155550188)" "you're in" "the confirmation came back through the moved simulator"

# A second run with the simulator moved again points the demo short code
# at it (demo-seed --carrier-url).
"$TOCSIN_SOURCE_DIR/ops/stop" >/dev/null
export TOCSIN_SIM_PORT=$OTHER
run_copy || { echo "$out" >&2; fail "ops/run again with the simulator moved"; }
assert_contains "$out" "now sends through http://127.0.0.1:$OTHER" "demo-seed followed the simulator"
assert_contains "$(joins "$OTHER" +14155550189)" "you're in" "the confirmation went to the simulator's new port"
echo ok
