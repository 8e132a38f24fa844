# SPDX-License-Identifier: AGPL-3.0-or-later
# lib.sh — sourced by integration tests: a fresh database per test on the
# fixture's cluster, assertions that fail loudly, and process cleanup.
set -euo pipefail
: "${TOCSIN_SOURCE_DIR:?run integration tests through ctest}"
: "${TOCSIN_BUILD_DIR:?run integration tests through ctest}"
TEST_PG_PORT=$(cat "$TOCSIN_TEST_PG_DIR.port")
PSQL=/usr/lib/postgresql/15/bin/psql
TMP=$(mktemp -d)
# Each test's gateways spool into its own folder, never the working one.
export TOCSIN_GATEWAY_SPOOL_DIR="$TMP/spool"
# Test mode: senders talk to the carrier simulator over http on loopback
# (test_secret_key checks the refusal without it).
export TOCSIN_ALLOW_INSECURE_CARRIER_URLS=1
declare -a TEST_PIDS=()
# Every curl a test runs gives up after 120 s unless it says otherwise
# (--max-time on its command line wins): a server that accepts and never
# answers fails the request, with the test's own message, instead of
# hanging the test until ctest kills it with nothing to say.
printf 'max-time = 120\n' >"$TMP/.curlrc"
export CURL_HOME="$TMP"

# cleanup (at exit): every process in TEST_PIDS gets SIGTERM and is waited
# for, CLEANUP_SECONDS in all. One still running then is named, its stacks
# printed, killed, and the test fails: a daemon that ignores SIGTERM is a
# defect, and a test must never hang on one. (One wedged in the sanitizer's
# leak check at exit is killed with a note instead; see in_leak_check.)
CLEANUP_SECONDS=30
# in_leak_check PID: the process has exited its main and is in
# LeakSanitizer's check, which stops the world by having a child of its own
# ptrace it. That check can wedge (a sanitizer runtime race, not ours):
# the process spins and the child waits forever.
in_leak_check() {
  local tracer
  tracer=$(awk '/^TracerPid:/ {print $2}' "/proc/$1/status" 2>/dev/null)
  [ -n "$tracer" ] && [ "$tracer" != 0 ] &&
    [ "$(awk '/^PPid:/ {print $2}' "/proc/$tracer/status" 2>/dev/null)" = "$1" ]
}

# stacks PID: where each of the process's threads is, for a report.
stacks() {
  { grep -E '^(State|Threads):' "/proc/$1/status" 2>/dev/null || true; } | tr '\n' ' '
  echo
  if command -v gdb >/dev/null; then
    timeout 30 gdb -p "$1" -batch -nx -ex 'thread apply all bt 12' 2>/dev/null | grep -E '^(#|Thread)' | head -80 || true
  fi
}

cleanup() {
  local rc=$? pid deadline=$(( SECONDS + CLEANUP_SECONDS ))
  for pid in "${TEST_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${TEST_PIDS[@]}"; do
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null && in_leak_check "$pid"; then
      echo "cleanup: $(ps -o args= -p "$pid" | cut -c1-120) (pid $pid) stuck in LeakSanitizer's check at exit ${CLEANUP_SECONDS} s after SIGTERM; killed, its leaks unchecked" >&2
      kill -KILL "$pid" 2>/dev/null || true
    elif kill -0 "$pid" 2>/dev/null; then
      echo "FAIL: $(ps -o args= -p "$pid" | cut -c1-120) (pid $pid) still running ${CLEANUP_SECONDS} s after SIGTERM; killed" >&2
      stacks "$pid" >&2
      kill -KILL "$pid" 2>/dev/null || true
      [ "$rc" = 0 ] && show_logs
      rc=1
    fi
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$TMP"
  exit $rc
}
trap cleanup EXIT
# A command that fails outside any check ends the test (set -e): say which,
# so the test never fails without a word.
trap 'TEST_ERR=$?; echo "FAIL: ${0##*/} line $LINENO: \"$BASH_COMMAND\" exited $TEST_ERR" >&2' ERR

# fresh_db: creates an empty database for this test and exports
# TOCSIN_DATABASE_URL pointing at it.
fresh_db() {
  local name="t_${TOCSIN_TEST_NAME:-test}_$$"
  "$PSQL" -XqAt -v ON_ERROR_STOP=1 "host=127.0.0.1 port=$TEST_PG_PORT dbname=postgres user=tocsin" \
    -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS \"$name\"" -c "CREATE DATABASE \"$name\""
  export TOCSIN_DATABASE_URL="host=127.0.0.1 port=$TEST_PG_PORT dbname=$name user=tocsin"
}

# demo_db: fresh_db, migrated, with the demo org (tocsinctl demo-seed);
# CTL is tocsinctl, and TOCSIN_SECRET_KEY a fixed test key.
demo_db() {
  fresh_db
  export TOCSIN_SECRET_KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
  CTL="$BIN/ops/tocsinctl"
  "$CTL" migrate >/dev/null
  "$CTL" demo-seed >/dev/null
}

# sql QUERY: runs QUERY on the test database, prints unaligned tuples.
sql() { "$PSQL" -XqAt -v ON_ERROR_STOP=1 "$TOCSIN_DATABASE_URL" -c "$1"; }

# sql_is QUERY EXPECTED, sql_gt QUERY N: QUERY prints EXPECTED, a number
# greater than N (conditions for wait_until).
sql_is() { WAIT_LAST=$(sql "$1"); [ "$WAIT_LAST" == "$2" ]; }
sql_gt() { WAIT_LAST=$(sql "$1"); [ "$WAIT_LAST" -gt "$2" ] 2>/dev/null; }

# wait_sql QUERY EXPECTED [SECONDS]: polls until QUERY prints EXPECTED.
wait_sql() { wait_until "${3:-60}" "\"$1\" to be \"$2\"" sql_is "$1" "$2"; }

fail() { echo "FAIL: $*" >&2; exit 1; }

# assert_eq ACTUAL EXPECTED MESSAGE
assert_eq() { [ "$1" == "$2" ] || fail "$3: expected \"$2\", got \"$1\""; }

# assert_contains HAYSTACK NEEDLE MESSAGE
assert_contains() { [[ "$1" == *"$2"* ]] || fail "$3: \"$2\" not found in: $1"; }

# assert_sigpipe_ignored PID NAME: the process ignores SIGPIPE (signal 13,
# bit 12 of /proc/PID/status SigIgn), so a write to a peer that has gone
# fails with EPIPE instead of killing it.
assert_sigpipe_ignored() {
  local mask
  mask=$(awk '/^SigIgn:/ {print $2}' "/proc/$1/status")
  (( (16#$mask >> 12) & 1 )) || fail "$2 does not ignore SIGPIPE (SigIgn: $mask)"
}

# free_port: a loopback TCP port nobody listens on right now.
free_port() {
  local p
  while :; do
    # Below the kernel's ephemeral range (32768+), where outgoing connections
    # take their local ports and would make a later bind fail.
    p=$(( 12000 + RANDOM % 20000 ))
    (exec 3<>/dev/tcp/127.0.0.1/"$p") 2>/dev/null || { echo "$p"; return; }
  done
}

# wait_until SECONDS WHAT COMMAND...: runs COMMAND every 0.1 s until it
# succeeds; after SECONDS it prints the tails of the test's logs and fails
# with "waited SECONDS s for WHAT" (and what COMMAND last saw, when it sets
# WAIT_LAST). Tests wait for a property this way, never
# for a fixed time: SECONDS is a bound for a hung test on a loaded machine,
# not a measure of speed, so give it room (a pass returns at once).
wait_until() {
  local secs=$1 what=$2 deadline=$(( SECONDS + $1 ))
  shift 2
  WAIT_LAST=
  until "$@"; do
    if [ $SECONDS -ge $deadline ]; then
      show_logs
      fail "waited ${secs} s for $what${WAIT_LAST:+ (last \"$WAIT_LAST\")}"
    fi
    sleep 0.1
  done
}

# show_logs: the tails of the test's logs ($TMP/*.log), to stderr.
show_logs() {
  local f
  for f in "$TMP"/*.log; do
    if [ -f "$f" ]; then echo "--- $f" >&2; tail -20 "$f" >&2; fi
  done
}

# exited PID: the process is gone.
exited() { ! kill -0 "$1" 2>/dev/null; }

# http_ok URL: URL answers 200 (quietly) within 5 s. Bounded: whatever
# listens there may accept and never answer (a port another test took, a
# server mid-start), and a poll must go round again, not hang.
http_ok() { curl -fsS --max-time 5 -o /dev/null "$1" 2>/dev/null; }

# wait_http URL [SECONDS]: polls until URL answers 200.
wait_http() { wait_until "${2:-60}" "an answer from $1" http_ok "$1"; }

# file_has FILE TEXT: FILE exists and has the fixed string TEXT in it.
file_has() { grep -qF -- "$2" "$1" 2>/dev/null; }

# twilio_signature URL TOKEN k=v...: the X-Twilio-Signature of a form POST
# of those fields to URL (HMAC-SHA1 of the URL and the sorted name+value pairs).
twilio_signature() {
  local url=$1 token=$2 concat="" kv
  shift 2
  while IFS= read -r kv; do concat+="${kv%%=*}${kv#*=}"; done < <(printf '%s\n' "$@" | LC_ALL=C sort)
  printf '%s' "$url$concat" | openssl dgst -sha1 -hmac "$token" -binary | base64
}

BIN="$TOCSIN_BUILD_DIR"
