#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# ops/bench/outbound.sh — a blast through one tocsin-worker to the carrier
# simulator (callbacks off) with the rate limit set out of the way:
# messages/s end to end (claim -> stamp -> HTTP -> recorded 'sent'), and
# the worker's peak RSS. Bound, measured on the same cluster in the same
# run: pgbench doing just the database half of that pattern (claim 200
# rows with SKIP LOCKED, then mark them sent with provider ids) on 2
# connections, and the simulator's own ceiling for the HTTP half is
# ops/bench/carrier_sim.sh. Last, the same count through a real blast (a
# list of MESSAGES members, the audience fixed by the worker's tick and fed
# as messages just ahead of the sender, schema 013), timed from its
# schedule to the last 'sent': whether feeding keeps up with the worker.
set -euo pipefail
case "${1:-}" in -h|--help) cat <<'USAGE'
Usage: ops/bench/outbound.sh [MESSAGES]  (default 200000)
Environment: TOCSIN_BENCH_STATEMENTS=1 also prints the statements that took
PostgreSQL's time during the worker run (pg_stat_statements; the first 15,
or TOCSIN_BENCH_STATEMENTS_TOP of them);
TOCSIN_BENCH_QUICK=1 stops after the worker run (no pgbench bound, no blast);
TOCSIN_BENCH_PEER=1 then runs ops/bench/peer_graphile.sh with as many jobs
(graphile-worker, its batching on, its own cluster) and prints the ratio.
USAGE
exit 0 ;; esac
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
n=${1:-200000}
bench_build tocsin-worker tocsinctl tocsin-carrier-sim
tmp=$(mktemp -d)
cleanup() {
  [ -n "${worker_pid:-}" ] && kill "$worker_pid" 2>/dev/null
  [ -n "${sim_pid:-}" ] && kill "$sim_pid" 2>/dev/null
  wait 2>/dev/null || true
  bench_pg_stop "$tmp/pg"; rm -rf "$tmp"
}
trap cleanup EXIT
bench_pg "$tmp/pg"
pgbin=/usr/lib/postgresql/15/bin
psql() { "$pgbin/psql" -XqAt -v ON_ERROR_STOP=1 "$TOCSIN_DATABASE_URL" "$@"; }
if [ "${TOCSIN_BENCH_STATEMENTS:-0}" = 1 ]; then
  bench_pg_statements "$tmp/pg"
fi
now() { date +%s.%N; }
export TOCSIN_SECRET_KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
"$build/ops/tocsinctl" migrate >/dev/null
"$build/ops/tocsinctl" demo-seed >/dev/null
sim_port=$(( 12000 + RANDOM % 20000 ))
"$build/ops/tocsin-carrier-sim" --port "$sim_port" --benchmark >"$tmp/sim.log" 2>&1 & sim_pid=$!
psql -c "UPDATE senders SET base_url = 'http://127.0.0.1:$sim_port', messages_per_second = 999999"
enqueue() { # enqueue COUNT TAG
  psql -c "INSERT INTO messages (org_id, sender_id, provider, to_phone, body, encoding, segments, lane, purpose)
           SELECT s.org_id, s.id, s.provider, '+1415' || lpad(g::text, 7, '0'), '$2 ' || g, 'GSM-7', 1, 'bulk', 'blast'
             FROM senders s, generate_series(1, $1) g"
}

echo "outbound: $n messages, one worker, rate limit out of the way"
enqueue "$n" Bench
psql -c "VACUUM ANALYZE messages"
export TOCSIN_WORKER_METRICS_PORT=$(( 12000 + RANDOM % 20000 )) TOCSIN_LOG_LEVEL=warn
export TOCSIN_WORKER_BATCH=${TOCSIN_WORKER_BATCH:-1000} TOCSIN_WORKER_CONCURRENCY=${TOCSIN_WORKER_CONCURRENCY:-128}
# Done when the worker has recorded every message as sent (its counter
# moves after the commit); the database is checked below. The end of the
# run is the last message's sent_at, so the poll can be slow: a second
# apart, it costs the machine ~1% (a curl every 0.2 s cost 10% of these
# two cores, and polling the database a fifth of one).
sent_so_far() { curl -fs "http://127.0.0.1:$TOCSIN_WORKER_METRICS_PORT/metrics" |
                awk '$1 == "tocsin_worker_sent_total" { print $2; f = 1 } END { if (!f) print 0 }'; }
run_worker_until_sent() { # COUNT: starts a worker, returns once it has sent COUNT
  "$build/worker/tocsin-worker" >"$tmp/worker.log" 2>&1 & worker_pid=$!
  while [ "$(sent_so_far)" -lt "$1" ]; do
    sleep 1
    kill -0 "$worker_pid" 2>/dev/null || { cat "$tmp/worker.log" >&2; exit 1; }
  done
}
last_sent() { psql -c "SELECT extract(epoch FROM max(sent_at)) FROM messages WHERE state = 'sent'"; }
# Updates of messages and how many of them were HOT (no index entry
# written, the new version on the same page): "total hot".
updates() { psql -c "SELECT n_tup_upd || ' ' || n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'messages'"; }
[ "${TOCSIN_BENCH_STATEMENTS:-0}" = 1 ] && psql -c "SELECT pg_stat_statements_reset()" >/dev/null
wal0=$(psql -c "SELECT pg_current_wal_insert_lsn()")
read -r upd0 hot0 <<<"$(updates)"
sim0=$(bench_cpu_ticks "$sim_pid") pg0=$(bench_cpu_ticks $(bench_pg_pids "$tmp/pg"))
t0=$(now)
run_worker_until_sent "$n"
t1=$(last_sent)
# Sending starts at the first stamp, as the peer's clock starts at its first
# job (the worker's start, connections and lease, ~0.2 s, are left out of
# both); it ends when the last outcome is recorded.
t0=$(psql -c "SELECT extract(epoch FROM min(stamped_at)) FROM send_stamps")
wal=$(psql -c "SELECT pg_current_wal_insert_lsn() - '$wal0'")
rss=$(awk '/VmHWM/ {print $2}' "/proc/$worker_pid/status")
# CPU while sending, read before the worker's connection (and so its
# backend) goes away.
worker_ticks=$(bench_cpu_ticks "$worker_pid")
sim_ticks=$(( $(bench_cpu_ticks "$sim_pid") - sim0 )) pg_ticks=$(( $(bench_cpu_ticks $(bench_pg_pids "$tmp/pg")) - pg0 ))
kill "$worker_pid"; wait "$worker_pid" || true; worker_pid=
sent=$(psql -c "SELECT count(*) FROM messages WHERE state = 'sent'")
[ "$sent" = "$n" ] || { echo "only $sent of $n sent" >&2; exit 1; }
# A backend's table statistics reach pg_stat_user_tables within a second
# or so (and when it exits): wait until every outcome is counted.
for _ in $(seq 1 60); do
  read -r upd1 hot1 <<<"$(updates)"
  [ $((upd1 - upd0)) -ge "$n" ] && break
  sleep 1
done
worker_rate=$(awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
printf '  %-52s %8s msgs/s\n' "tocsin-worker -> simulator, end to end" "$worker_rate"
printf '  %-52s %8s MB\n' "worker peak RSS" "$(( rss / 1024 ))"
printf '  %-52s %8s s\n' "wall time" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')"
# What one message costs the machine, and what that allows on its cores.
awk -v n="$n" -v hz="$(getconf CLK_TCK)" -v cores="$(nproc)" -v w="$worker_ticks" -v s="$sim_ticks" -v p="$pg_ticks" -v wal="$wal" \
    -v upd=$((upd1 - upd0)) -v hot=$((hot1 - hot0)) 'BEGIN {
  us = 1e6 / hz / n
  printf "  %-52s %8s\n", "CPU per message (us): worker, simulator, PostgreSQL", sprintf("%.0f, %.0f, %.0f", w * us, s * us, p * us)
  printf "  %-52s %8.0f bytes\n", "WAL per message (claim to sent)", wal / n
  printf "  %-52s %8s\n", "HOT updates of messages (hot / all)", sprintf("%d / %d = %.0f%%", hot, upd, upd ? 100 * hot / upd : 0)
  printf "  %-52s %8.0f msgs/s\n", "ceiling of " cores " cores at that CPU per message", cores * 1e6 / ((w + s + p) * us) }'

[ "${TOCSIN_BENCH_STATEMENTS:-0}" = 1 ] && bench_pg_statements_print "$n"
if [ "${TOCSIN_BENCH_PEER:-0}" = 1 ]; then
  # The peer, measured in the same run, on a cluster of its own.
  peer_out=$("$here/ops/bench/peer_graphile.sh" "$n" "$TOCSIN_WORKER_CONCURRENCY")
  grep -v '^peer_jobs_per_s ' <<<"$peer_out"
  awk -v w="$worker_rate" -v p="$(awk '$1 == "peer_jobs_per_s" { print $2 }' <<<"$peer_out")" \
    'BEGIN { printf "  %-52s %8.2f x\n", "tocsin-worker / graphile-worker, end to end", w / p }'
fi
[ "${TOCSIN_BENCH_QUICK:-0}" = 1 ] && exit 0

# The database half alone, as pgbench: claim a batch (delete it from the
# outbox, schema 034), then mark it sent (the wide row's one write).
psql -c "TRUNCATE dispatch_leases, outbox, claims; DELETE FROM messages"
enqueue "$n" Bound
psql -c "VACUUM ANALYZE messages, outbox"
cat >"$tmp/claim_mark.sql" <<'SQL'
WITH c AS (DELETE FROM outbox q WHERE q.id IN (
             SELECT o.id FROM outbox o WHERE o.sender_id = 1 AND o.lane = 'bulk' AND o.not_before <= now()
              ORDER BY o.not_before, o.id LIMIT 200 FOR UPDATE SKIP LOCKED)
           RETURNING q.id)
UPDATE messages m SET state = 'sent', provider_message_id = 'SM' || md5(m.id::text), claimed_by = 'bench',
       request_sent_at = now(), attempts = attempts + 1, sent_at = now(), updated_at = now()
  FROM c WHERE m.id = c.id;
SQL
batches=$(( n / 200 / 2 ))
t0=$(now)
"$pgbin/pgbench" -n -M extended -c 2 -j 1 -t "$batches" -f "$tmp/claim_mark.sql" "$TOCSIN_DATABASE_URL" >"$tmp/pgbench.log" 2>&1 ||
  { cat "$tmp/pgbench.log" >&2; exit 1; }
t1=$(now)
done_rows=$(psql -c "SELECT count(*) FROM messages WHERE state = 'sent'")
bound=$(awk -v n="$done_rows" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
printf '  %-52s %8s msgs/s\n' "bound: pgbench claim 200 + mark sent, 2 connections" "$bound"
awk -v w="$worker_rate" -v b="$bound" 'BEGIN { printf "  worker / bound: %.0f%%\n", 100 * w / b }'

# Through a blast. The members' timezone is one where it is midday now, so
# quiet hours hold nobody back whenever this runs.
psql -c "TRUNCATE dispatch_leases, outbox, claims; DELETE FROM messages"
zone=$(psql -c "SELECT name FROM tz_names WHERE name LIKE 'Etc/GMT%'
                 ORDER BY abs(extract(hour FROM now() AT TIME ZONE name) - 13) LIMIT 1")
psql -c "INSERT INTO lists (org_id, name) SELECT org_id, 'bench' FROM senders WHERE id = 1"
psql -c "INSERT INTO contacts (org_id, phone, first_name, timezone)
         SELECT s.org_id, '+1646' || lpad(g::text, 7, '0'), 'M' || g, '$zone' FROM senders s, generate_series(1, $n) g
          WHERE s.id = 1"
psql -c "INSERT INTO subscriptions (org_id, list_id, contact_id, source)
         SELECT c.org_id, l.id, c.id, 'api' FROM contacts c JOIN lists l ON l.org_id = c.org_id AND l.name = 'bench'
          WHERE c.phone LIKE '+1646%'"
psql -c "VACUUM ANALYZE contacts, subscriptions, messages"
blast=$(psql -c "SELECT tocsin_blast_create(s.org_id, NULL, s.id, l.id, 'Hi {first_name}, the rally is at noon', '{}')
                   FROM senders s JOIN lists l ON l.org_id = s.org_id AND l.name = 'bench' WHERE s.id = 1")
wal0=$(psql -c "SELECT pg_current_wal_insert_lsn()")
t0=$(now)
psql -c "SELECT tocsin_blast_schedule(NULL, $blast, NULL, now())" >/dev/null
run_worker_until_sent "$n"
t1=$(last_sent)
kill "$worker_pid"; wait "$worker_pid" || true; worker_pid=
[ "$(psql -c "SELECT count(*) FROM messages WHERE blast_id = $blast AND state = 'sent'")" = "$n" ] ||
  { echo "the blast did not send all $n" >&2; exit 1; }
printf '  %-52s %8s msgs/s\n' "through a blast (schedule -> last sent, fed ahead)" \
  "$(awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')"
# Everything a blast message costs in WAL, from the audience fixed to
# 'sent' (docs/deploy.md sizes the server with it).
printf '  %-52s %8s bytes\n' "WAL per message through the blast (queued to sent)" \
  "$(psql -c "SELECT round((pg_current_wal_insert_lsn() - '$wal0') / $n)")"
