#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# ops/bench/pacing.sh — how near a sender's limit a backlog runs: COUNT bulk
# messages through WORKERS tocsin-workers to the carrier simulator with the
# demo short code limited to RATE messages a second, then the simulator's
# own count per second for that sender: the best second (never above RATE:
# tests/integration/test_worker_send.sh asserts that) and the mean of the
# full seconds (the first and last are partial). A pacer that loses time
# per batch shows here, far below RATE; the test suite asserts no speed.
set -euo pipefail
case "${1:-}" in -h|--help) echo "Usage: ops/bench/pacing.sh [RATE] [COUNT] [WORKERS]  (defaults 40, 800, 3)"; exit 0 ;; esac
rate=${1:-40} count=${2:-800} workers=${3:-3}
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_build tocsin-worker tocsinctl tocsin-carrier-sim
tmp=$(mktemp -d)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  bench_pg_stop "$tmp/pg"; rm -rf "$tmp"
}
trap cleanup EXIT
bench_pg "$tmp/pg"
psql() { /usr/lib/postgresql/15/bin/psql -XqAt -v ON_ERROR_STOP=1 "$TOCSIN_DATABASE_URL" "$@"; }
export TOCSIN_SECRET_KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
"$build/ops/tocsinctl" migrate >/dev/null
"$build/ops/tocsinctl" demo-seed >/dev/null
sim_port=$(( 12000 + RANDOM % 20000 ))
sim="http://127.0.0.1:$sim_port"
"$build/ops/tocsin-carrier-sim" --port "$sim_port" >"$tmp/sim.log" 2>&1 & pids+=($!)
until curl -fs -o /dev/null "$sim/healthz"; do sleep 0.1; done
psql -c "UPDATE senders SET base_url = '$sim', messages_per_second = $rate"
psql -c "INSERT INTO messages (org_id, sender_id, provider, to_phone, body, encoding, segments, lane, purpose)
         SELECT s.org_id, s.id, s.provider, '+1415' || lpad(g::text, 7, '0'), 'Pace ' || g, 'GSM-7', 1, 'bulk', 'blast'
           FROM senders s, generate_series(1, $count) g"
export TOCSIN_LOG_LEVEL=warn TOCSIN_WORKER_POLL_MS=200
for w in $(seq 1 "$workers"); do
  TOCSIN_WORKER_METRICS_PORT=$(( 12000 + RANDOM % 20000 )) TOCSIN_WORKER_ID="pace-$w" \
    "$build/worker/tocsin-worker" >"$tmp/worker-$w.log" 2>&1 & pids+=($!)
done
echo "pacing: $count messages, $workers workers, limit $rate/s"
until [ "$(psql -c "SELECT count(*) FROM messages WHERE state IN ('queued', 'sending')")" = 0 ]; do sleep 1; done
address=$(psql -c "SELECT address FROM senders LIMIT 1")
curl -s "$sim/sim/rates?from=$address" | jq -r --argjson r "$rate" '
  [.segments_per_second | to_entries | sort_by(.key) | .[1:-1][] | .value] as $full
  | "  best second            \(.max) of \($r)",
    "  mean of full seconds   \($full | add / length * 10 | round / 10) of \($r) (\($full | length) seconds)"'
