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

cleanup() {
  local pid
  for pid in "${TEST_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${TEST_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT

# fresh_db: creates an empty database for this test and exports
# TOCSIN_DATABASE_URL pointing at it.
fresh_db() {
  local name="t_${TOCSIN_TEST_NAME:-test}_$$"
  "$PSQL" -XqAt -v ON_ERROR_STOP=1 "host=127.0.0.1 port=$TEST_PG_PORT dbname=postgres user=tocsin" \
    -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS \"$name\"" -c "CREATE DATABASE \"$name\""
  export TOCSIN_DATABASE_URL="host=127.0.0.1 port=$TEST_PG_PORT dbname=$name user=tocsin"
}

# sql QUERY: runs QUERY on the test database, prints unaligned tuples.
sql() { "$PSQL" -XqAt -v ON_ERROR_STOP=1 "$TOCSIN_DATABASE_URL" -c "$1"; }

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

# wait_http URL [SECONDS]: polls until URL answers 200.
wait_http() {
  local deadline=$(( SECONDS + ${2:-20} ))
  while [ $SECONDS -lt $deadline ]; do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  local f
  for f in "$TMP"/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -20 "$f" >&2; }; done
  fail "no answer from $1"
}

BIN="$TOCSIN_BUILD_DIR"
