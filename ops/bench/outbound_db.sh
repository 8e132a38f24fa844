#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# ops/bench/outbound_db.sh — the database half of outbound.sh through the
# worker's own functions, with no worker, HTTP or simulator: psql claims
# 1000 messages (tocsin_claim), then stamps (tocsin_mark_going) and records
# as sent (tocsin_record_outcomes) groups of 100, as tocsin-worker does.
# Prints PostgreSQL CPU and WAL bytes per message: the figures that move
# when the claim/stamp/outcome SQL changes, with less of the noise a loaded
# machine puts into the end-to-end run. Each SQL file given is applied
# after the migration and before the messages are queued, to measure a
# design (an index dropped, a function replaced) before writing it up.
# With --instructions, the same functions are counted in instructions
# instead (callgrind on a single-user backend, as inbound_db.sh does:
# figures a loaded machine does not move), in the shapes the live worker
# sends them under load (outbound.sh: claims of 1000, stamps of 125,
# outcomes of 500), each claim's round in one transaction: 2 rounds and 8
# from a copy of the same database, the difference per message in between.
set -euo pipefail
usage="Usage: ops/bench/outbound_db.sh [MESSAGES] [SQL_FILE...]  (default 50000, a multiple of 1000)
       ops/bench/outbound_db.sh --instructions [SQL_FILE...]  (needs valgrind; a few minutes)"
case "${1:-}" in -h|--help) echo "$usage"; exit 0 ;; esac
mode=cpu
[ "${1:-}" = --instructions ] && { mode=instructions; shift; set -- 9000 "$@"; }
[ "$mode" = cpu ] || command -v valgrind >/dev/null ||
  { echo "outbound_db.sh: valgrind is not installed (ops/install-deps)" >&2; exit 1; }
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
n=${1:-50000}
[[ "$n" =~ ^[1-9][0-9]*000$ ]] || { echo "outbound_db.sh: MESSAGES must be a positive multiple of 1000" >&2; exit 2; }
for f in "${@:2}"; do [ -r "$f" ] || { echo "outbound_db.sh: cannot read $f" >&2; exit 2; }; done
bench_build tocsinctl
tmp=$(mktemp -d)
trap 'bench_pg_stop "$tmp/pg"; rm -rf "$tmp"' EXIT
bench_pg "$tmp/pg"
pgbin=/usr/lib/postgresql/15/bin
psql() { "$pgbin/psql" -XqAt -v ON_ERROR_STOP=1 "$TOCSIN_DATABASE_URL" "$@"; }
export TOCSIN_SECRET_KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
"$build/ops/tocsinctl" migrate >/dev/null
"$build/ops/tocsinctl" demo-seed >/dev/null
for f in "${@:2}"; do psql -f "$f" >/dev/null; done
psql -c "INSERT INTO messages (org_id, sender_id, provider, to_phone, body, encoding, segments, lane, purpose)
         SELECT s.org_id, s.id, s.provider, '+1415' || lpad(g::text, 7, '0'), 'Bench ' || g, 'GSM-7', 1, 'bulk', 'blast'
           FROM senders s, generate_series(1, $n) g WHERE s.id = 1"
psql -c "VACUUM ANALYZE messages"
if [ "$mode" = instructions ]; then
  data=$(readlink -f "$tmp/pg")
  "$here/ops/pg" stop --dir "$tmp/pg" --port "$PG_PORT" >/dev/null
  # One claim's round: claim 1000, stamp them 125 at a time and record them
  # as sent 500 at a time.
  round="DO \$\$ DECLARE ids bigint[]; r bigint[]; BEGIN
    SELECT array_agg(id) INTO ids FROM tocsin_claim(1, 'bench', 1000, now(), 30);
    FOR i IN 0..1 LOOP
      r := ids[i * 500 + 1 : i * 500 + 500];
      FOR k IN 0..3 LOOP PERFORM count(*) FROM tocsin_mark_going(r[k * 125 + 1 : k * 125 + 125], 'bench'); END LOOP;
      PERFORM tocsin_record_outcomes('bench', r, array_fill('sent'::text, ARRAY[500]),
                (SELECT array_agg('SM' || md5(x::text)) FROM unnest(r) x), array_fill(''::text, ARRAY[500]),
                array_fill(''::text, ARRAY[500]), array_fill(0, ARRAY[500]), array_fill(false, ARRAY[500]));
    END LOOP; END \$\$;
"
  for r in 2 8; do for _ in $(seq $r); do printf '%s\n' "$round"; done >"$tmp/rounds$r.sql"; done
  a=$(bench_callgrind "$data" "$tmp/rounds2.sql")
  b=$(bench_callgrind "$data" "$tmp/rounds8.sql")
  echo "outbound, database half in instructions: claims of 1000, stamps of 125, outcomes of 500 (callgrind)"
  awk -v a="$a" -v b="$b" 'BEGIN { printf "  %-52s %8.0f\n", "PostgreSQL instructions per message", (b - a) / 6000 }'
  exit 0
fi
{
  echo "SELECT array_agg(id)::text AS ids FROM tocsin_claim(1, 'bench', 1000, now(), 30) \\gset"
  for i in $(seq 0 9); do
    r="(:'ids'::bigint[])[$((i * 100 + 1)):$((i * 100 + 100))]"
    echo "SELECT count(*) FROM tocsin_mark_going($r, 'bench');"
    echo "SELECT tocsin_record_outcomes('bench', $r, array_fill('sent'::text, ARRAY[100]),
            (SELECT array_agg('SM' || md5(x::text)) FROM unnest($r) x), array_fill(''::text, ARRAY[100]),
            array_fill(''::text, ARRAY[100]), array_fill(0, ARRAY[100]), array_fill(false, ARRAY[100]));"
  done
} >"$tmp/batch.sql"
# The CPU is read from inside the session, while its backend still exists.
{ for _ in $(seq 1 $((n / 1000))); do cat "$tmp/batch.sql"; done
  echo "\\! bash -c 'source $here/ops/bench/common.sh; bench_cpu_ticks \$(bench_pg_pids $tmp/pg) > $tmp/pg1'"; } >"$tmp/all.sql"
updates() { psql -c "SELECT n_tup_upd || ' ' || n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'messages'"; }
read -r upd0 hot0 <<<"$(updates)"
wal0=$(psql -c "SELECT pg_current_wal_insert_lsn()")
pg0=$(bench_cpu_ticks $(bench_pg_pids "$tmp/pg"))
psql -f "$tmp/all.sql" >/dev/null
pg1=$(cat "$tmp/pg1")
wal=$(psql -c "SELECT pg_current_wal_insert_lsn() - '$wal0'")
sent=$(psql -c "SELECT count(*) FROM messages WHERE state = 'sent'")
[ "$sent" = "$n" ] || { echo "outbound_db.sh: only $sent of $n sent" >&2; exit 1; }
# The session's table statistics arrive when its backend exits: wait for them.
for _ in $(seq 1 60); do
  read -r upd1 hot1 <<<"$(updates)"
  [ $((upd1 - upd0)) -ge "$n" ] && break
  sleep 1
done
echo "outbound, database half: $n messages claimed 1000 at a time, stamped and recorded 100 at a time"
awk -v n="$n" -v hz="$(getconf CLK_TCK)" -v p=$((pg1 - pg0)) -v wal="$wal" -v upd=$((upd1 - upd0)) \
    -v hot=$((hot1 - hot0)) 'BEGIN {
  printf "  %-52s %8.1f us\n", "PostgreSQL CPU per message", 1e6 * p / hz / n
  printf "  %-52s %8.0f bytes\n", "WAL per message", wal / n
  printf "  %-52s %8s\n", "HOT updates of messages (hot / all)", sprintf("%d / %d = %.0f%%", hot, upd, upd ? 100 * hot / upd : 0) }'
