#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# ops/bench/dashboard.sh — the volunteer inbox at scale: 1,000,000 messages
# (half inbound, half outbound) in 100,000 conversations, 200 volunteers
# holding 100 conversations each. Measures with wrk the p99 of a
# volunteer's inbox (GET /api/conversations) and of a conversation's thread
# (GET /api/conversations/ID, random ones of hers), next to a bare libuv +
# llhttp hello world in the same run (the floor), and how long a member's
# new reply takes from the gateway's statement to a lead's SSE stream.
# Targets (issue 6): p99 < 20 ms for both reads, SSE < 200 ms.
# Each read also prints the CPU the dashboard and PostgreSQL spent per
# request (less at the mercy of other load on the machine than req/s).
# TOCSIN_BENCH_STATEMENTS=1 also prints, per read, the statements that
# took PostgreSQL's time (pg_stat_statements, microseconds per request).
set -euo pipefail
case "${1:-}" in -h|--help) echo "Usage: ops/bench/dashboard.sh [SECONDS] [CONNECTIONS] [CONVERSATIONS]  (defaults 10, 8, 100000); TOCSIN_BENCH_STATEMENTS=1 also prints pg_stat_statements"; exit 0 ;; esac
secs=${1:-10} conns=${2:-8} nconv=${3:-100000}
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_build tocsinctl tocsin-dashboard bench_http_hello
tmp=$(mktemp -d)
dash_pid= hello_pid=
cleanup() { kill $dash_pid $hello_pid 2>/dev/null || true; bench_pg_stop "$tmp/pg"; rm -rf "$tmp"; }
trap cleanup EXIT
bench_pg "$tmp/pg"
[ "${TOCSIN_BENCH_STATEMENTS:-0}" = 1 ] && bench_pg_statements "$tmp/pg"
export TOCSIN_SECRET_KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
"$build/ops/tocsinctl" migrate >/dev/null
"$build/ops/tocsinctl" demo-seed >/dev/null
psql_() { /usr/lib/postgresql/15/bin/psql -XqAt -v ON_ERROR_STOP=1 "$TOCSIN_DATABASE_URL" "$@"; }

t0=$SECONDS
psql_ <<SQL
SET synchronous_commit = off;
-- The bench logs the lead in with her password alone (two-factor login
-- is required of leads by default since schema 030).
UPDATE orgs SET require_two_factor = false WHERE slug = 'demo';
INSERT INTO users (org_id, email, display_name, role, password_hash)
SELECT u.org_id, 'bench' || g || '@demo.test', 'Bench ' || g, 'volunteer', u.password_hash
  FROM users u, generate_series(1, 198) g WHERE u.email = 'vol1@demo.test';
INSERT INTO contacts (org_id, phone, first_name)
SELECT (SELECT id FROM orgs WHERE slug = 'demo'), '+1415' || lpad(g::text, 7, '0'), 'Member ' || g
  FROM generate_series(1, $nconv) g;
-- Conversations: the first 20,000 held by the 200 volunteers (vol1, vol2
-- and the bench users), 100 each; the rest unassigned or closed.
WITH vols AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM users WHERE role = 'volunteer')
INSERT INTO conversations (org_id, contact_id, sender_id, assignee_id, state, unread, last_inbound_at,
                           last_outbound_at, assigned_at, assignee_active_at, created_at)
SELECT c.org_id, c.id, s.id, v.id, CASE WHEN c.id % 3 = 0 AND v.id IS NULL THEN 'closed' ELSE 'open' END,
       c.id % 3, now() - (c.id % 10000) * interval '1 minute', now() - (c.id % 9000) * interval '1 minute',
       CASE WHEN v.id IS NOT NULL THEN now() END, CASE WHEN v.id IS NOT NULL THEN now() + interval '1 day' END,
       now() - interval '30 days' + c.id * interval '1 second'
  FROM contacts c CROSS JOIN (SELECT id FROM senders LIMIT 1) s
  LEFT JOIN vols v ON c.id <= 20000 AND v.n = c.id % 200
 ORDER BY c.id;
INSERT INTO inbound_messages (org_id, sender_id, provider, provider_message_id, from_phone, contact_id,
                              conversation_id, body, intent, received_at)
SELECT c.org_id, c.sender_id, 'twilio', 'SMin' || c.id || '_' || k, ct.phone, c.contact_id, c.id,
       'Member reply number ' || k || ' about the rally on Saturday', 'reply',
       c.created_at + k * interval '1 hour'
  FROM conversations c JOIN contacts ct ON ct.id = c.contact_id, generate_series(1, 5) k;
INSERT INTO messages (org_id, sender_id, provider, contact_id, to_phone, body, encoding, segments, lane,
                      state, provider_message_id, conversation_id, created_at, purpose)
SELECT c.org_id, c.sender_id, 'twilio', c.contact_id, ct.phone,
       'Volunteer answer number ' || k || ': thanks, see you there!', 'GSM-7', 1, 'conversational',
       'delivered', 'SMout' || c.id || '_' || k, c.id, c.created_at + k * interval '1 hour' + interval '5 minutes',
       'reply'
  FROM conversations c JOIN contacts ct ON ct.id = c.contact_id, generate_series(1, 5) k;
VACUUM ANALYZE;
SQL
counts=$(psql_ -c "SELECT (SELECT count(*) FROM conversations) || ' conversations, ' ||
                          ((SELECT count(*) FROM messages) + (SELECT count(*) FROM inbound_messages)) || ' messages'")
echo "data: $counts (made in $((SECONDS - t0)) s)"

port=18281
TOCSIN_DASHBOARD_PORT=$port TOCSIN_DASHBOARD_URL="http://127.0.0.1:$port" TOCSIN_LOG_LEVEL=warn \
  TOCSIN_DASHBOARD_RELEASE_AFTER_S=0 "$here/ops/daemon-exec" dashboard "$build/dashboard/tocsin-dashboard" & dash_pid=$!
"$build/ops/bench/bench_http_hello" 18299 & hello_pid=$!
for _ in $(seq 1 50); do curl -fs -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.1; done
cookie() { curl -s -D - -o /dev/null -X POST "http://127.0.0.1:$port/api/login" -d "{\"email\":\"$1\",\"password\":\"tocsin-demo\"}" |
           tr -d '\r' | sed -nE 's/^Set-Cookie: ((__Host-)?tocsin_session=[^;]*);.*/\1/p'; }
vol=$(cookie vol1@demo.test)
lead=$(cookie lead@demo.test)
[ -n "$vol" ] && [ -n "$lead" ] || { echo "could not log in" >&2; exit 1; }
ids=$(psql_ -c "SELECT string_agg(c.id::text, ',') FROM conversations c JOIN users u ON u.id = c.assignee_id
                 WHERE u.email = 'vol1@demo.test' AND c.state = 'open'")
cat > "$tmp/p99.lua" <<'LUA'
done = function(summary, latency, requests)
  io.write(string.format("p99_ms %.2f\n", latency:percentile(99) / 1000))
  io.write(string.format("non2xx %d\n", summary.errors.status))
end
LUA
cat > "$tmp/thread.lua" <<LUA
local ids = {$ids}
request = function()
  return wrk.format("GET", "/api/conversations/" .. ids[math.random(#ids)])
end
$(cat "$tmp/p99.lua")
LUA
# run SCRIPT URL NAME: wrk's output, then the CPU the dashboard and
# PostgreSQL spent per request ("cpu_us DASHBOARD POSTGRESQL CONNECTIONS":
# all of PostgreSQL, then its connections alone, the dashboard's); with
# TOCSIN_BENCH_STATEMENTS=1 the statements' table goes to $tmp/NAME.sql.
run() {
  [ "${TOCSIN_BENCH_STATEMENTS:-0}" = 1 ] && psql_ -c "SELECT pg_stat_statements_reset()" >/dev/null
  local d0 p0 c0 d1 p1 c1 out n clients
  clients=$(bench_pg_client_pids "$tmp/pg")
  d0=$(bench_cpu_ticks $dash_pid) p0=$(bench_cpu_ticks $(bench_pg_pids "$tmp/pg")) c0=$(bench_cpu_ticks $clients)
  out=$(wrk -t1 -c"$conns" -d"${secs}s" --latency -H "Cookie: $vol" -s "$1" "$2")
  d1=$(bench_cpu_ticks $dash_pid) p1=$(bench_cpu_ticks $(bench_pg_pids "$tmp/pg")) c1=$(bench_cpu_ticks $clients)
  n=$(awk '/requests in/ {print $1}' <<<"$out")
  echo "$out"
  awk -v n="$n" -v d=$((d1 - d0)) -v p=$((p1 - p0)) -v c=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" \
      'BEGIN { printf "cpu_us %.0f %.0f %.0f\n", 1e6 * d / hz / n, 1e6 * p / hz / n, 1e6 * c / hz / n }'
  [ "${TOCSIN_BENCH_STATEMENTS:-0}" = 1 ] && bench_pg_statements_print "$n" >"$tmp/$3.sql"
  return 0
}
floor=$(wrk -t1 -c"$conns" -d"${secs}s" -s "$tmp/p99.lua" http://127.0.0.1:18299/)
inbox=$(run "$tmp/p99.lua" "http://127.0.0.1:$port/api/conversations" inbox)
thread=$(run "$tmp/thread.lua" "http://127.0.0.1:$port/api/conversations" thread)
inbox_size=$(curl -s -H "Cookie: $vol" "http://127.0.0.1:$port/api/conversations" |
             node -e 'process.stdout.write(String(JSON.parse(require("fs").readFileSync(0, "utf8")).length))')

# SSE: a lead's stream, and member replies stored through the gateway's
# function by one long-lived psql; time from sending the statement to the
# event's arrival.
cat > "$tmp/sse.mjs" <<'JS'
import http from 'node:http';
import { spawn } from 'node:child_process';
const [port, cookie, sender, n] = process.argv.slice(2);
const psql = spawn('/usr/lib/postgresql/15/bin/psql', ['-XqAt', process.env.TOCSIN_DATABASE_URL], { stdio: ['pipe', 'ignore', 'inherit'] });
const times = [];
let sent = 0n, waiting = null;
http.get({ port, path: '/api/events', headers: { Cookie: cookie } }, (res) => {
  res.setEncoding('utf8');
  let buf = '';
  res.on('data', (chunk) => {
    buf += chunk;
    if (buf.includes('event: ready')) { buf = ''; next(); return; }
    if (waiting && buf.includes(`"conversation_id":${waiting}}`)) {
      times.push(Number(process.hrtime.bigint() - sent) / 1e6);
      buf = ''; waiting = null;
      setTimeout(next, 20);
    }
  });
});
let i = 0;
function next() {
  if (i === Number(n)) {
    times.sort((a, b) => a - b);
    console.log(`sse_ms p50 ${times[times.length >> 1].toFixed(2)} max ${times[times.length - 1].toFixed(2)} n ${times.length}`);
    process.exit(0);
  }
  i++;
  const phone = `+1415${String(i).padStart(7, '0')}`;
  waiting = i; // contact i's conversation has id i (made in order above)
  sent = process.hrtime.bigint();
  psql.stdin.write(`SELECT tocsin_receive_inbound('twilio', 'SMsse${i}_${Date.now()}', ${sender}, '${phone}', 'live reply', 0, 'reply', NULL, false, NULL, NULL, NULL);\n`);
}
JS
sender=$(psql_ -c "SELECT id FROM senders LIMIT 1")
sse=$(timeout 60 node "$tmp/sse.mjs" $port "$lead" "$sender" 50)

awk -v f="$(awk '/p99_ms/ {print $2}' <<<"$floor")" -v i="$(awk '/p99_ms/ {print $2}' <<<"$inbox")" \
    -v t="$(awk '/p99_ms/ {print $2}' <<<"$thread")" -v ir="$(awk '/Requests\/sec/ {print $2}' <<<"$inbox")" \
    -v tr="$(awk '/Requests\/sec/ {print $2}' <<<"$thread")" -v ie="$(awk '/non2xx/ {print $2}' <<<"$inbox")" \
    -v te="$(awk '/non2xx/ {print $2}' <<<"$thread")" -v n="$inbox_size" -v sse="$sse" \
    -v ic="$(sed -n 's/^cpu_us //p' <<<"$inbox")" -v tc="$(sed -n 's/^cpu_us //p' <<<"$thread")" 'BEGIN {
  split(ic, icu, " "); split(tc, tcu, " ")
  printf "hello world p99 (floor):            %8.2f ms\n", f
  printf "inbox (%d conversations) p99:      %8.2f ms  %8.0f req/s  non-2xx %d  (target < 20 ms)\n", n, i, ir, ie
  printf "  CPU per request:                  dashboard %.0f us, PostgreSQL %.0f us (its connections %.0f us)\n", icu[1], icu[2], icu[3]
  printf "conversation thread p99:            %8.2f ms  %8.0f req/s  non-2xx %d  (target < 20 ms)\n", t, tr, te
  printf "  CPU per request:                  dashboard %.0f us, PostgreSQL %.0f us (its connections %.0f us)\n", tcu[1], tcu[2], tcu[3]
  printf "new reply to SSE: %s (target < 200 ms)\n", sse
  ok = (i < 20 && t < 20 && ie == 0 && te == 0)
  split(sse, s, " "); if (s[5] + 0 >= 200 || sse == "") ok = 0
  printf "%s\n", ok ? "within targets" : "OUTSIDE TARGETS"
  exit !ok }' || status=$?
if [ "${TOCSIN_BENCH_STATEMENTS:-0}" = 1 ]; then
  echo "inbox, PostgreSQL's statements (us per request):"; cat "$tmp/inbox.sql"
  echo "thread, PostgreSQL's statements (us per request):"; cat "$tmp/thread.sql"
fi
exit "${status:-0}"
