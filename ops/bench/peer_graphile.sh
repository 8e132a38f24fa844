#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# ops/bench/peer_graphile.sh — the peer of ops/bench/outbound.sh: the same
# job (one Twilio-shaped POST per message to the same carrier simulator,
# keep-alive) done by graphile-worker (ops/bench/peer, version pinned),
# with its documented batching on (localQueue 500, completeJobBatchDelay
# 0), on its own cluster made by ops/pg with the same settings. Prints
# jobs/s (first job started -> last completed) and the CPU per job of
# PostgreSQL and of Node. outbound.sh runs it with TOCSIN_BENCH_PEER=1 and
# prints the ratio; the last line here, "peer_jobs_per_s N", is for that.
set -euo pipefail
case "${1:-}" in -h|--help) cat <<'USAGE'
Usage: ops/bench/peer_graphile.sh [JOBS] [CONCURRENCY]  (defaults 200000, 128, as outbound.sh gives tocsin-worker)
Needs the npm packages of ops/bench/peer (ops/install-deps installs them).
PEER_MAX_POOL sets graphile-worker's pool (its default, 10: 32 was no faster
at concurrency 128 and took more CPU per job).
USAGE
exit 0 ;; esac
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
n=${1:-200000} conc=${2:-128}
[[ "$n" =~ ^[1-9][0-9]*$ && "$conc" =~ ^[1-9][0-9]*$ ]] || { echo "peer_graphile.sh: JOBS and CONCURRENCY are positive numbers" >&2; exit 2; }
peer="$here/ops/bench/peer"
[ -d "$peer/node_modules/graphile-worker" ] ||
  { echo "peer_graphile.sh: graphile-worker is not installed in ops/bench/peer: run ops/install-deps" >&2; exit 1; }
bench_build tocsin-carrier-sim
tmp=$(mktemp -d)
node_pid= sim_pid=
cleanup() { kill $node_pid $sim_pid 2>/dev/null || true; wait 2>/dev/null || true; bench_pg_stop "$tmp/pg"; rm -rf "$tmp"; }
trap cleanup EXIT
[ -n "${PEER_LOG:-}" ] && trap 'cp "$tmp/node.log" "$PEER_LOG"; cleanup' EXIT
bench_pg "$tmp/pg"
pgbin=/usr/lib/postgresql/15/bin
psql() { "$pgbin/psql" -XqAt -v ON_ERROR_STOP=1 "$TOCSIN_DATABASE_URL" "$@"; }
url="postgres://tocsin@127.0.0.1:$PG_PORT/tocsin"
sim_port=$(( 12000 + RANDOM % 20000 ))
"$build/ops/tocsin-carrier-sim" --port "$sim_port" --benchmark >"$tmp/sim.log" 2>&1 & sim_pid=$!
# graphile-worker's schema, then the jobs, queued in one statement.
(cd "$peer" && node -e 'import("graphile-worker").then((w) => w.runMigrations({ connectionString: process.argv[1] }))' "$url")
psql -c "SELECT count(*) FROM graphile_worker.add_jobs(ARRAY(
           SELECT ROW('send', json_build_object('to', '+1415' || lpad(g::text, 7, '0'), 'body', 'Peer ' || g),
                      NULL, NULL, NULL, NULL, NULL, NULL)::graphile_worker.job_spec
             FROM generate_series(1, $n) g))" >/dev/null
psql -c "VACUUM ANALYZE" >/dev/null
echo "graphile-worker $(node -p 'require(process.argv[1]).version' "$peer/node_modules/graphile-worker/package.json"): $n jobs, concurrency $conc, localQueue 500, completeJobBatchDelay 0"
wal0=$(psql -c "SELECT pg_current_wal_insert_lsn()")
pg0=$(bench_cpu_ticks $(bench_pg_pids "$tmp/pg"))
(cd "$peer" && exec node peer_graphile.mjs "$url" "$sim_port" "$n" "$tmp/done" "$conc") >"$tmp/node.log" 2>&1 & node_pid=$!
until [ -s "$tmp/done" ]; do
  sleep 1
  kill -0 "$node_pid" 2>/dev/null || { cat "$tmp/node.log" >&2; exit 1; }
done
# The last completions are written in a batch just after: wait for them.
for _ in $(seq 1 100); do [ "$(psql -c "SELECT count(*) FROM graphile_worker.jobs")" = 0 ] && break; sleep 0.1; done
pg_ticks=$(( $(bench_cpu_ticks $(bench_pg_pids "$tmp/pg")) - pg0 )) node_ticks=$(bench_cpu_ticks "$node_pid")
wal=$(psql -c "SELECT pg_current_wal_insert_lsn() - '$wal0'")
left=$(psql -c "SELECT count(*) FROM graphile_worker.jobs")
[ "$left" = 0 ] || { echo "peer_graphile.sh: $left jobs were not completed" >&2; exit 1; }
read -r jobs secs <"$tmp/done"
awk -v n="$jobs" -v s="$secs" -v hz="$(getconf CLK_TCK)" -v p="$pg_ticks" -v w="$node_ticks" -v wal="$wal" 'BEGIN {
  printf "  %-52s %8.0f jobs/s\n", "graphile-worker -> simulator, end to end", n / s
  printf "  %-52s %8s\n", "CPU per job (us): Node, PostgreSQL", sprintf("%.0f, %.0f", 1e6 * w / hz / n, 1e6 * p / hz / n)
  printf "  %-52s %8.0f bytes\n", "WAL per job", wal / n
  printf "peer_jobs_per_s %.0f\n", n / s }'
