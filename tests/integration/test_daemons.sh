#!/usr/bin/env bash
# Each daemon starts, reports healthy with the database up and 503 with it
# down, serves Prometheus metrics, answers --help, refuses bad
# configuration, and exits 0 on SIGTERM (under ASan/LSan: no leaks).
source "$(dirname "$0")/lib.sh"
fresh_db
"$BIN/ops/tocsinctl" migrate >/dev/null

# start_daemon NAME PORTVAR: starts tocsin-NAME on a free port; sets PID, PORT.
start_daemon() {
  local name=$1 portvar=$2
  PORT=$(free_port)
  # Every daemon gets a free worker-metrics port too; its own port var wins.
  env TOCSIN_WORKER_METRICS_PORT="$(free_port)" "$portvar=$PORT" \
    "$BIN/$name/tocsin-$name" >"$TMP/$name.log" 2>&1 &
  PID=$!
  TEST_PIDS+=("$PID")
}

stop_daemon() { # stop_daemon NAME: SIGTERM, expect exit 0
  local name=$1
  kill -TERM "$PID"
  wait_until 60 "tocsin-$name to stop on SIGTERM" exited "$PID"
  local rc=0
  wait "$PID" || rc=$?
  [ "$rc" -eq 0 ] || { cat "$TMP/$name.log" >&2; fail "tocsin-$name exited $rc after SIGTERM"; }
  assert_contains "$(cat "$TMP/$name.log")" "event=stopped" "tocsin-$name logs its stop"
}

for spec in gateway:TOCSIN_GATEWAY_PORT dashboard:TOCSIN_DASHBOARD_PORT worker:TOCSIN_WORKER_METRICS_PORT; do
  name=${spec%%:*} var=${spec#*:}
  help=$("$BIN/$name/tocsin-$name" --help)
  assert_contains "$help" "TOCSIN_DATABASE_URL" "tocsin-$name --help lists the settings"
  out=$(env "$var=notaport" "$BIN/$name/tocsin-$name" 2>&1) && fail "bad port accepted"
  assert_contains "$out" "invalid $var \"notaport\"" "tocsin-$name names the bad setting"
  rc=0; "$BIN/$name/tocsin-$name" --bogus 2>/dev/null || rc=$?
  assert_eq "$rc" 2 "tocsin-$name rejects unknown arguments"

  start_daemon "$name" "$var"
  wait_http "http://127.0.0.1:$PORT/healthz"
  assert_eq "$(curl -s "http://127.0.0.1:$PORT/healthz")" '{"status":"ok"}' "tocsin-$name healthy"
  assert_sigpipe_ignored "$PID" "tocsin-$name"
  metrics=$(curl -s "http://127.0.0.1:$PORT/metrics")
  grep -qE '^tocsin_http_requests_total\{code="2xx"\} [1-9]' <<<"$metrics" || fail "tocsin-$name counts requests: $metrics"
  assert_contains "$metrics" "tocsin_db_up 1" "tocsin-$name reports the database up"
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/no-such-thing")
  assert_eq "$code" 404 "tocsin-$name unknown path"
  stop_daemon "$name"
done

# Gateways scale by processes sharing one port (SO_REUSEPORT).
start_daemon gateway TOCSIN_GATEWAY_PORT
first=$PID shared=$PORT
wait_http "http://127.0.0.1:$shared/healthz"
TOCSIN_GATEWAY_PORT=$shared TOCSIN_GATEWAY_SPOOL_DIR="$TMP/spool2" "$BIN/gateway/tocsin-gateway" >"$TMP/gateway2.log" 2>&1 &
second=$!
TEST_PIDS+=("$second")
wait_until 60 "a second gateway to share the port" file_has "$TMP/gateway2.log" "event=started"
kill -TERM "$second"; wait "$second" || fail "second gateway exit status"
PID=$first
stop_daemon gateway

# A daemon whose log reader went away (its stderr a pipe nobody reads)
# keeps running: the next log line's write fails with EPIPE instead of
# SIGPIPE killing it.
mkfifo "$TMP/stderr.fifo"
head -c 1 "$TMP/stderr.fifo" >/dev/null & reader=$!
PORT=$(free_port)
TOCSIN_GATEWAY_PORT=$PORT "$BIN/gateway/tocsin-gateway" 2>"$TMP/stderr.fifo" & PID=$!
TEST_PIDS+=("$PID")
wait "$reader" # read the first byte of the first line, then closed the pipe
wait_http "http://127.0.0.1:$PORT/healthz"
for i in 1 2 3; do # each request logs a line into the closed pipe
  assert_eq "$(curl -s "http://127.0.0.1:$PORT/healthz")" '{"status":"ok"}' "gateway answers with its log reader gone ($i)"
done
kill -0 "$PID" 2>/dev/null || fail "tocsin-gateway died writing to a closed stderr pipe"
kill -TERM "$PID"
rc=0; wait "$PID" || rc=$?
assert_eq "$rc" 0 "gateway with a closed stderr stops cleanly"

# The dashboard serves its page with safe headers.
start_daemon dashboard TOCSIN_DASHBOARD_PORT
wait_http "http://127.0.0.1:$PORT/healthz"
page=$(curl -si "http://127.0.0.1:$PORT/")
assert_contains "$page" "Content-Type: text/html; charset=utf-8" "index content type"
assert_contains "$page" "Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'" "index CSP: our own scripts and styles only"
assert_contains "$page" "<title>Tocsin</title>" "index body"
code=$(curl -s -o /dev/null -w '%{http_code}' --path-as-is "http://127.0.0.1:$PORT/static/../CMakeLists.txt")
assert_eq "$code" 404 "no path traversal"
# Every response the dashboard gives a browser carries the same policy:
# static files, their 404s, unknown paths, and API answers and errors.
for path in / /static/app.js /static/app.css /static/icon.svg /static/index.html \
    /static/no-such-file.js /no-such-page /api/me /api/no-such-route; do
  head=$(curl -s -D - -o /dev/null "http://127.0.0.1:$PORT$path" | tr -d '\r')
  assert_contains "$head" "Content-Security-Policy: default-src 'none'; script-src 'self'" "CSP on $path"
  assert_contains "$head" "frame-ancestors 'none'" "frame-ancestors on $path"
  assert_contains "$head" "X-Frame-Options: DENY" "X-Frame-Options on $path"
  assert_contains "$head" "X-Content-Type-Options: nosniff" "nosniff on $path"
  assert_contains "$head" "Referrer-Policy: no-referrer" "Referrer-Policy on $path"
done
head=$(curl -s -D - -o /dev/null -X POST -H "Origin: http://127.0.0.1:$PORT" -H 'Content-Type: application/json' \
  -d '{}' "http://127.0.0.1:$PORT/api/login" | tr -d '\r')
assert_contains "$head" "Content-Security-Policy: default-src 'none'" "CSP on a POST to the API"
assert_contains "$head" "X-Frame-Options: DENY" "X-Frame-Options on a POST to the API"
stop_daemon dashboard

# With the database unreachable the daemon still starts and says why (the
# worker: the gateway stays healthy while it can spool, see
# test_gateway_spool.sh).
TOCSIN_DATABASE_URL="host=127.0.0.1 port=1 dbname=x user=x connect_timeout=2" start_daemon worker TOCSIN_WORKER_METRICS_PORT
unavailable() { body=$(curl -s "http://127.0.0.1:$PORT/healthz" || true); [[ "$body" == *unavailable* ]]; }
wait_until 60 "healthz to say unavailable" unavailable
assert_contains "$body" '"status":"unavailable"' "healthz 503 without a database"
assert_contains "$body" "database connection is down" "healthz reason"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/healthz")
assert_eq "$code" 503 "healthz status code"
stop_daemon worker
echo "test_daemons: ok"
