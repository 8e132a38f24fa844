#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# ops/bench/db.sh — lib/db insert throughput (see db_bench.c) on a
# throwaway PostgreSQL cluster started for the run.
set -euo pipefail
case "${1:-}" in -h|--help) echo "Usage: ops/bench/db.sh [ROWS]  (default 100000)"; exit 0 ;; esac
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_build bench_db
tmp=$(mktemp -d)
trap 'bench_pg_stop "$tmp/pg"; rm -rf "$tmp"' EXIT
bench_pg "$tmp/pg"
"$build/ops/bench/bench_db" "${1:-100000}"
