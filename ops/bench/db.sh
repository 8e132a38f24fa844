#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# ops/bench/db.sh — lib/db throughput (see db_bench.c) on a throwaway
# PostgreSQL cluster started for the run, then raw baselines without lib/db
# on the same cluster: psql sending one multi-row INSERT and reading every
# row, pgbench sending single-row SELECTs and INSERTs on 2 connections from
# one thread (as the pool does on its loop).
set -euo pipefail
case "${1:-}" in -h|--help) echo "Usage: ops/bench/db.sh [ROWS]  (default 100000)"; exit 0 ;; esac
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
rows=${1:-100000}
bench_build bench_db
tmp=$(mktemp -d)
trap 'bench_pg_stop "$tmp/pg"; rm -rf "$tmp"' EXIT
bench_pg "$tmp/pg"
"$build/ops/bench/bench_db" "$rows"

pgbin=/usr/lib/postgresql/15/bin
psql() { "$pgbin/psql" -XqAt -v ON_ERROR_STOP=1 "$TOCSIN_DATABASE_URL" "$@"; }
now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%10.0f rows/s", n / (b - a) }'; }

echo "raw baselines (no lib/db), $rows rows"
awk -v n="$rows" 'BEGIN { printf "INSERT INTO bench (id, body) VALUES (0, '\''hello'\'')";
                          for (i = 1; i < n; i++) printf ",(%d, '\''hello'\'')", i; print ";" }' >"$tmp/multi.sql"
psql -c "TRUNCATE bench"
t0=$(now); psql -f "$tmp/multi.sql"; t1=$(now)
printf '  %-44s %s\n' "psql, one multi-row INSERT" "$(rate "$rows" "$t0" "$t1")"
t0=$(now); psql -c "SELECT id, body FROM bench" >/dev/null; t1=$(now)
printf '  %-44s %s\n' "psql, one SELECT of every row" "$(rate "$rows" "$t0" "$t1")"
per_client=$(( rows / 2 ))
# pgbench SCRIPT LABEL: runs SCRIPT rows times over 2 connections from one
# thread (like the pool on its loop), prints rows/s.
pgbench() {
  local t0 t1
  t0=$(now)
  "$pgbin/pgbench" -n -M extended -c 2 -j 1 -t "$per_client" -f "$1" "$TOCSIN_DATABASE_URL" >"$tmp/pgbench.log" 2>&1 ||
    { cat "$tmp/pgbench.log" >&2; exit 1; }
  t1=$(now)
  printf '  %-44s %s\n' "$2" "$(rate $(( per_client * 2 )) "$t0" "$t1")"
}
printf '\\set id random(0, %d)\nSELECT body FROM bench WHERE id = :id;\n' $(( rows - 1 )) >"$tmp/select.pgb"
pgbench "$tmp/select.pgb" "pgbench, select by primary key, 2 conns"
psql -c "TRUNCATE bench"
printf '\\set id random(1, 1000000000000000)\nINSERT INTO bench (id, body) VALUES (:id, %s);\n' "'hello'" >"$tmp/insert.pgb"
pgbench "$tmp/insert.pgb" "pgbench, single-row INSERTs, 2 conns"
