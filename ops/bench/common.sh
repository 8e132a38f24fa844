# SPDX-License-Identifier: AGPL-3.0-or-later
# common.sh — sourced by the benchmark scripts: the checkout's root ($here)
# and a Release build of the named targets in build-bench/ ($build).
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build="$here/build-bench"
# The benchmarks' senders talk to the carrier simulator over http on loopback.
export TOCSIN_ALLOW_INSECURE_CARRIER_URLS=1
bench_build() {
  cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build" -j2 --target "$@" >/dev/null
}
# bench_pg DIR: a throwaway PostgreSQL cluster in DIR on a free port; sets
# TOCSIN_DATABASE_URL and PG_PORT. Stop it with bench_pg_stop DIR.
bench_pg() {
  PG_PORT=$(( 12000 + RANDOM % 20000 )) # below the ephemeral port range
  "$here/ops/pg" start --dir "$1" --port "$PG_PORT" >/dev/null
  export TOCSIN_DATABASE_URL="host=127.0.0.1 port=$PG_PORT dbname=tocsin user=tocsin"
}
bench_pg_stop() { "$here/ops/pg" destroy --dir "$1" --port "$PG_PORT" >/dev/null 2>&1 || true; }
# bench_pg_pids DIR: the postmaster of the cluster in DIR and its children
# (backends, WAL writer, checkpointer...). A backend's CPU is gone once its
# connection closes: read it while the client is still connected.
bench_pg_pids() { local pm; pm=$(head -1 "$1/postmaster.pid"); echo "$pm" $(pgrep -P "$pm"); }
# bench_pg_client_pids DIR: those of the cluster's processes that serve a
# client connection (not autovacuum, the WAL writer, the checkpointer...).
bench_pg_client_pids() {
  local p; for p in $(bench_pg_pids "$1"); do
    case "$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" in "postgres: tocsin tocsin "*) echo "$p" ;; esac
  done
}
# bench_cpu_ticks PID...: user + system CPU time of the processes, in clock
# ticks (getconf CLK_TCK a second).
# A process that exits meanwhile (a PostgreSQL backend) counts nothing.
bench_cpu_ticks() { local t=0 p f; for p in "$@"; do { read -r -a f < "/proc/$p/stat"; } 2>/dev/null || continue; t=$((t + f[13] + f[14])); done; echo $t; }
# bench_pg_statements DIR: restarts the cluster in DIR with
# pg_stat_statements loaded, nested statements too (for finding where
# PostgreSQL's time goes; it costs a little of that time itself).
bench_pg_statements() {
  local conf; conf=$(readlink -f "$1")/postgresql.conf
  local lines="shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = 'all'"
  if [ "$(id -u)" -eq 0 ]; then
    printf '%s\n' "$lines" | runuser -u postgres -- tee -a "$conf" >/dev/null
  else
    printf '%s\n' "$lines" >>"$conf"
  fi
  "$here/ops/pg" stop --dir "$1" --port "$PG_PORT" >/dev/null
  "$here/ops/pg" start --dir "$1" --port "$PG_PORT" >/dev/null
  /usr/lib/postgresql/15/bin/psql -XqAt "$TOCSIN_DATABASE_URL" -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"
}
# bench_pg_statements_print COUNT: the statements with the most execution
# time since the last reset, in microseconds per COUNT (message).
bench_pg_statements_print() {
  /usr/lib/postgresql/15/bin/psql -X "$TOCSIN_DATABASE_URL" -c "
    SELECT round((total_exec_time * 1000 / $1)::numeric, 1) AS us_per_msg, calls, rows,
           left(regexp_replace(query, '\s+', ' ', 'g'), 110) AS query
      FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT ${TOCSIN_BENCH_STATEMENTS_TOP:-15}"
}
# bench_callgrind DATA SQL_FILE: how many instructions (valgrind's
# callgrind) a single-user PostgreSQL backend runs for SQL_FILE (single-user
# input: a blank line after each statement) on a copy of the stopped
# cluster DATA, with fsync and autovacuum off: a figure that a loaded
# machine does not move, unlike CPU time. Any ERROR fails it. With
# TOCSIN_BENCH_CALLGRIND_KEEP=DIR, the profile is kept in DIR (named after
# SQL_FILE) for callgrind_annotate.
bench_callgrind() {
  local run as=() pgbin=/usr/lib/postgresql/15/bin
  run=$(mktemp -d /var/tmp/tocsin-callgrind.XXXXXX)
  cp -a "$1" "$run/data"; rm -f "$run/data/postmaster.pid"
  if [ "$(id -u)" -eq 0 ]; then chown postgres "$run"; as=(runuser -u postgres --); fi
  if ! "${as[@]}" valgrind --tool=callgrind --callgrind-out-file="$run/cg" "$pgbin/postgres" --single -j \
       -D "$run/data" -c fsync=off -c autovacuum=off tocsin <"$2" >"$run/out" 2>"$run/err" ||
     grep -q ERROR "$run/out" "$run/err"; then
    { grep -h ERROR "$run/out" "$run/err" | head -3; tail -3 "$run/err"; } >&2; rm -rf "$run"; return 1
  fi
  [ -n "${TOCSIN_BENCH_CALLGRIND_KEEP:-}" ] && cp "$run/cg" "$TOCSIN_BENCH_CALLGRIND_KEEP/$(basename "$2").cg"
  awk '/^(summary|totals):/ {print $2; exit}' "$run/cg"
  rm -rf "$run"
}
