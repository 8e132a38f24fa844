#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# ops/bench/db.sh — lib/db insert throughput (see db_bench.c) on a
# throwaway PostgreSQL cluster started for the run.
set -euo pipefail
case "${1:-}" in -h|--help) echo "Usage: ops/bench/db.sh [ROWS]  (default 100000)"; exit 0 ;; esac
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cmake -S "$here" -B "$here/build-bench" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$here/build-bench" -j2 --target bench_db >/dev/null
tmp=$(mktemp -d)
port=$(( 30000 + RANDOM % 20000 ))
trap '"$here/ops/pg" destroy --dir "$tmp/pg" --port "$port" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
"$here/ops/pg" start --dir "$tmp/pg" --port "$port" >/dev/null
TOCSIN_DATABASE_URL="host=127.0.0.1 port=$port dbname=tocsin user=tocsin" \
  "$here/build-bench/ops/bench/bench_db" "${1:-100000}"
