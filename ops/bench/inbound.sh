#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# ops/bench/inbound.sh — signed Twilio inbound webhooks per second stored by
# tocsin-gateway (PostgreSQL on this machine), next to the bound of a bare
# libuv + llhttp hello world measured in the same run; p99 latency too.
# Every request is a distinct member message (no retries) from a replayed,
# pre-signed set, so what is measured is the gateway and the database. Also
# prints the CPU time the gateway and PostgreSQL spent per stored message
# (and how much of PostgreSQL's was its client connections': the rest,
# autovacuum and the WAL writer and checkpointer, is spread over fewer
# messages when a loaded machine stores fewer in the same seconds, so the
# connections' share compares runs more fairly) and how many messages each
# batch carried (gateway/batch.c). By default
# each message comes from a new number: a new contact and conversation
# every time, the costliest case (more connections give bigger batches:
# try 128). With MEMBERS, the messages come from that many existing
# members in turn, each with an open conversation: members replying to a
# blast, the usual shape of a burst, where each reply updates its
# conversation (in place, HOT, since schema 036; its links checked once
# per statement, not per row, since 038). The members write in the order
# their conversations were opened, so a batch's updates fall on a few
# pages, more than a page's free space holds: with batches of 100 such
# members only about a third of the updates were HOT (counted on a scratch
# database; ops/bench/inbound_db.sh shuffles its members). For the
# database's share in instructions, which a loaded machine does not move,
# see ops/bench/inbound_db.sh. "Stored" counts what was committed
# before the answer, in inbound_messages or in the inbound journal (schema
# 015: batches of TOCSIN_GATEWAY_JOURNAL_AT or more journal their replies);
# the time the journal then took to drain, the messages/s over burst and
# drain together, and the CPU and WAL per message until drained are
# printed too. TOCSIN_GATEWAY_JOURNAL_AT=0 compares without the journal.
# Two seconds of other messages warm the gateway up first (its
# connections' plans, the tables past empty); they are not counted.
# TOCSIN_BENCH_STATEMENTS=1 also prints the statements that took
# PostgreSQL's time and, per table, the rows inserted, updated (how many
# of them HOT: no index written) and deleted, burst and drain together.
set -euo pipefail
case "${1:-}" in -h|--help) echo "Usage: ops/bench/inbound.sh [SECONDS] [CONNECTIONS] [MEMBERS]  (defaults 10, 32, 0 = a new number per message); TOCSIN_BENCH_STATEMENTS=1 also prints pg_stat_statements"; exit 0 ;; esac
secs=${1:-10} conns=${2:-32} members=${3:-0}
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_build tocsinctl tocsin-gateway bench_http_hello bench_inbound_requests
tmp=$(mktemp -d)
gw_pid= hello_pid=
cleanup() { kill $gw_pid $hello_pid 2>/dev/null || true; bench_pg_stop "$tmp/pg"; rm -rf "$tmp"; }
trap cleanup EXIT
bench_pg "$tmp/pg"
# TOCSIN_BENCH_STATEMENTS=1: also the statements that took PostgreSQL's
# time, burst and drain together (pg_stat_statements; ops/bench/common.sh).
[ "${TOCSIN_BENCH_STATEMENTS:-0}" = 1 ] && bench_pg_statements "$tmp/pg"
export TOCSIN_SECRET_KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
"$build/ops/tocsinctl" migrate >/dev/null
"$build/ops/tocsinctl" demo-seed >/dev/null
port=18180
export TOCSIN_PUBLIC_URL="http://127.0.0.1:$port" TOCSIN_GATEWAY_PORT=$port TOCSIN_LOG_LEVEL=warn
export TOCSIN_GATEWAY_RATE_PER_IP=0 TOCSIN_GATEWAY_RATE_GLOBAL=0 TOCSIN_GATEWAY_SPOOL_DIR="$tmp/spool"
"$build/gateway/tocsin-gateway" & gw_pid=$!
"$build/ops/bench/bench_http_hello" 18199 & hello_pid=$!
for _ in $(seq 1 50); do curl -fs -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.1; done
"$build/ops/bench/bench_inbound_requests" 400000 "http://127.0.0.1:$port/twilio/inbound" \
  7c0c51a0000000000000000000000000 24680 $members > "$tmp/requests.tsv"
# A warm-up of two seconds with other messages first: the gateway's
# connections plan their statements, and the tables and the journal are
# past empty, as on a gateway that has been running.
"$build/ops/bench/bench_inbound_requests" 40000 "http://127.0.0.1:$port/twilio/inbound" \
  7c0c51a0000000000000000000000000 24680 $members 1000000 > "$tmp/warmup.tsv"
if [ "$members" -gt 0 ]; then
  # The members, with an open conversation each (numbers as inbound_requests.c makes them).
  /usr/lib/postgresql/15/bin/psql -XqAt -v ON_ERROR_STOP=1 "$TOCSIN_DATABASE_URL" -c "
    INSERT INTO contacts (org_id, phone)
    SELECT s.org_id, '+1415' || (200 + (i / 10000) % 700) || lpad((i % 10000)::text, 4, '0')
      FROM senders s, generate_series(0, $members - 1) i WHERE s.address = '24680'
    ON CONFLICT DO NOTHING" -c "
    INSERT INTO conversations (org_id, contact_id, sender_id, last_inbound_at)
    SELECT c.org_id, c.id, s.id, now() FROM contacts c JOIN senders s ON s.org_id = c.org_id AND s.address = '24680'
     WHERE c.phone LIKE '+1415%'
    ON CONFLICT DO NOTHING" -c "VACUUM ANALYZE contacts, conversations"
fi
# The requests are formatted once, up front: wrk's own CPU per request is
# then that of a carrier's sender, not of building each one in Lua.
cat > "$tmp/inbound.lua" <<LUA
local requests = {}
for line in io.lines(os.getenv("REQUESTS")) do
  local body, sig = line:match("([^\t]+)\t(.+)")
  requests[#requests + 1] = wrk.format("POST", "/twilio/inbound",
    {["Content-Type"] = "application/x-www-form-urlencoded", ["X-Twilio-Signature"] = sig}, body)
end
local i = 0
request = function()
  i = i + 1
  return requests[(i - 1) % #requests + 1]
end
done = function(summary, latency, requests)
  io.write(string.format("p99_ms %.2f\n", latency:percentile(99) / 1000))
  io.write(string.format("latency_ms p50 %.1f, p90 %.1f, p99.9 %.1f, max %.1f\n", latency:percentile(50) / 1000,
    latency:percentile(90) / 1000, latency:percentile(99.9) / 1000, latency.max / 1000))
  io.write(string.format("non2xx %d\n", summary.errors.status))
end
LUA
bound=$(wrk -t1 -c"$conns" -d"${secs}s" http://127.0.0.1:18199/ | awk '/Requests\/sec/ {print $2}')
metric() { awk -v m="$1" '$1 == m {printf "%d", $2}' <<<"$metrics"; }
count() { /usr/lib/postgresql/15/bin/psql -XAtq "$TOCSIN_DATABASE_URL" -c "SELECT $1"; }
drained() { for _ in $(seq 1 1200); do [ "$(count "EXISTS (SELECT 1 FROM inbound_journal)")" = f ] && return; sleep 0.1; done; }
REQUESTS="$tmp/warmup.tsv" wrk -t1 -c"$conns" -d2s -s "$tmp/inbound.lua" "http://127.0.0.1:$port/twilio/inbound" >/dev/null
drained
metrics=$(curl -s "http://127.0.0.1:$port/metrics")
batches0=$(metric tocsin_gateway_inbound_batches_total) journaled0=$(metric tocsin_gateway_journaled_total)
rows0=$(count "(SELECT count(*) FROM inbound_messages) + (SELECT coalesce(sum(cardinality(provider)), 0) FROM inbound_journal)")
wal0=$(count "pg_current_wal_insert_lsn()")
[ "${TOCSIN_BENCH_STATEMENTS:-0}" = 1 ] && count "pg_stat_statements_reset()" >/dev/null && count "pg_stat_reset()" >/dev/null
gw0=$(bench_cpu_ticks $gw_pid) pg0=$(bench_cpu_ticks $(bench_pg_pids "$tmp/pg"))
cl0=$(bench_cpu_ticks $(bench_pg_client_pids "$tmp/pg"))
out=$(REQUESTS="$tmp/requests.tsv" wrk -t1 -c"$conns" -d"${secs}s" -s "$tmp/inbound.lua" "http://127.0.0.1:$port/twilio/inbound")
# Stored: committed, whether threaded into a conversation yet or still in
# the journal (schema/015). Then the time until the journal is empty.
stored=$(count "(SELECT count(*) FROM inbound_messages) + (SELECT coalesce(sum(cardinality(provider)), 0) FROM inbound_journal)")
t0=$(date +%s.%N)
drained
drain=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {print b - a}')
threaded=$(count "count(*) FROM inbound_messages")
gw1=$(bench_cpu_ticks $gw_pid) pg1=$(bench_cpu_ticks $(bench_pg_pids "$tmp/pg"))
cl1=$(bench_cpu_ticks $(bench_pg_client_pids "$tmp/pg"))
metrics=$(curl -s "http://127.0.0.1:$port/metrics")
batches=$(( $(metric tocsin_gateway_inbound_batches_total) - ${batches0:-0} ))
fallbacks=$(metric tocsin_gateway_inbound_batch_fallbacks_total)
journaled=$(( $(metric tocsin_gateway_journaled_total) - ${journaled0:-0} ))
rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
p99=$(awk '/^p99_ms/ {print $2}' <<<"$out")
bad=$(awk '/^non2xx/ {print $2}' <<<"$out")
spread=$(sed -n 's/^latency_ms //p' <<<"$out")
wal=$(count "pg_current_wal_insert_lsn() - '$wal0'")
hz=$(getconf CLK_TCK)
awk -v b="$bound" -v o="$rps" -v p="$p99" -v s="$stored" -v e="$bad" -v n=$((stored - rows0)) -v hz="$hz" \
    -v gw=$((gw1 - gw0)) -v pg=$((pg1 - pg0)) -v cl=$((cl1 - cl0)) -v wal="$wal" -v bt="${batches:-0}" -v fb="${fallbacks:-0}" \
    -v jn="${journaled:-0}" -v dr="$drain" -v spread="$spread" -v th="$threaded" -v secs="$secs" 'BEGIN {
  printf "libuv+llhttp hello world (bound):    %10.0f requests/s\n", b
  printf "gateway, signed inbound, stored:     %10.0f requests/s  p99 %.1f ms  (%d rows, %d non-2xx)\n", o, p, n, e
  printf "latency:                             %s\n", spread
  printf "ratio:                               %10.1f %%\n", 100 * o / b
  if (jn > 0) printf "stored in the journal first:         %10d replies; threaded %.1f s after the burst (%.0f messages/s overall)\n", jn, dr, n / (secs + dr)
  if (th != s) printf "MISMATCH: %d stored but %d in inbound_messages after the journal drained\n", s, th
  if (n > 0) printf "CPU per stored message:              gateway %.0f us, PostgreSQL %.0f us (until threaded)\n", 1e6 * gw / hz / n, 1e6 * pg / hz / n
  if (n > 0) printf "  of which its client connections:    %9.0f us (the rest: autovacuum, WAL writer, checkpointer)\n", 1e6 * cl / hz / n
  if (n > 0) printf "WAL per stored message:              %10.0f bytes\n", wal / n
  if (bt > 0) printf "batches:                             %10d (%.1f messages each, %d retried one by one)\n", bt, n / bt, fb }'
if [ "${TOCSIN_BENCH_STATEMENTS:-0}" = 1 ]; then
  bench_pg_statements_print "$(( stored - rows0 ))"
  # The gateway's connections report their table counts when they close.
  kill $gw_pid && wait $gw_pid 2>/dev/null || true
  gw_pid=
  sleep 1
  /usr/lib/postgresql/15/bin/psql -X "$TOCSIN_DATABASE_URL" -c "
    SELECT relname, n_tup_ins AS inserted, n_tup_upd AS updated, n_tup_hot_upd AS hot, n_tup_del AS deleted
      FROM pg_stat_user_tables WHERE n_tup_ins + n_tup_upd + n_tup_del > 0 ORDER BY relname"
fi
true
