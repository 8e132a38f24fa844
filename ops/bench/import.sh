#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# ops/bench/import.sh — rows/s of `tocsinctl contacts import` on a large CSV
# (half E.164, half formatted numbers, a custom column) against the bound of
# psql's raw \copy of the same file into a plain table, both on a throwaway
# PostgreSQL cluster started for the run.
set -euo pipefail
case "${1:-}" in -h|--help) echo "Usage: ops/bench/import.sh [ROWS]  (default 1000000)"; exit 0 ;; esac
rows=${1:-1000000}
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_build tocsinctl
tmp=$(mktemp -d)
trap 'bench_pg_stop "$tmp/pg"; rm -rf "$tmp"' EXIT
bench_pg "$tmp/pg"
ctl="$build/ops/tocsinctl"
"$ctl" migrate >/dev/null
"$ctl" org create bench --name "Bench" >/dev/null

# Distinct valid US numbers: 8 area codes x 10,000 lines x exchanges 200..
python3 - "$rows" > "$tmp/contacts.csv" <<'PY'
import sys
n = int(sys.argv[1]); areas = [212, 213, 305, 312, 415, 617, 646, 202]
print("phone,first_name,last_name,zip,team")
for i in range(n):
    a = areas[i % 8]; ex = 200 + (i // 80000) % 700; line = (i // 8) % 10000
    num = f"+1{a}{ex}{line:04d}" if i % 2 == 0 else f"({a}) {ex}-{line:04d}"
    print(f"{num},First{i},Last{i},{10000 + i % 89999},t{i % 7}")
PY
t0=$(date +%s.%N)
"$ctl" contacts import --org bench --list everyone --progress "$tmp/contacts.csv" > "$tmp/report.txt" 2> "$tmp/progress.txt"
t1=$(date +%s.%N)
head -1 "$tmp/report.txt"
tail -1 "$tmp/progress.txt"
psql=/usr/lib/postgresql/15/bin/psql
$psql -Xq "$TOCSIN_DATABASE_URL" -c "CREATE TABLE raw_copy (phone text, first_name text, last_name text, zip text, team text)"
t2=$(date +%s.%N)
$psql -Xq "$TOCSIN_DATABASE_URL" -c "\\copy raw_copy FROM '$tmp/contacts.csv' WITH (FORMAT csv, HEADER true)"
t3=$(date +%s.%N)
awk -v n="$rows" -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" 'BEGIN {
  printf "rows:                                   %d\n", n
  printf "raw \\copy into a plain table (bound):  %8.2f s  %9.0f rows/s\n", d - c, n / (d - c)
  printf "tocsinctl contacts import (validated,\n  normalised, upserted, subscribed):     %8.2f s  %9.0f rows/s  (%.1fx the bound)\n", b - a, n / (b - a), (b - a) / (d - c) }'
