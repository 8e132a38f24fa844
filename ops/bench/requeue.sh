#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# ops/bench/requeue.sh — what putting messages back into the outbox costs:
# one lease sweep (tocsin_sweep_leases) and one release
# (tocsin_release_claims) of MESSAGES claimed messages, each committed, for
# three shapes of queue: a blast's (no conversations), answers in 1,000
# conversations, and one answer in each of MESSAGES conversations (the
# live "status" event is sent once per conversation). Prints the least
# and the median of RUNS runs, in milliseconds of the backend's CPU. TOCSINCTL names a built tocsinctl to
# migrate with (default: a Release build in build-bench/); SCHEMA_DIR a
# schema folder to migrate from instead of the one built in (another
# commit's `git archive COMMIT schema`, to compare).
set -euo pipefail
case "${1:-}" in -h|--help) echo "Usage: ops/bench/requeue.sh [MESSAGES] [RUNS]  (default 10000 5)"; exit 0 ;; esac
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
n=${1:-10000}
runs=${2:-5}
[[ "$n" =~ ^[1-9][0-9]{2,6}$ ]] || { echo "requeue.sh: MESSAGES must be 100..9999999" >&2; exit 2; }
[[ "$runs" =~ ^[1-9][0-9]?$ ]] || { echo "requeue.sh: RUNS must be 1..99" >&2; exit 2; }
ctl=${TOCSINCTL:-}
if [ -z "$ctl" ]; then
  bench_build tocsinctl
  ctl="$build/ops/tocsinctl"
fi
tmp=$(mktemp -d)
trap 'bench_pg_stop "$tmp/pg"; rm -rf "$tmp"' EXIT
bench_pg "$tmp/pg"
pgbin=/usr/lib/postgresql/15/bin
psql() { "$pgbin/psql" -XqAt -v ON_ERROR_STOP=1 "$TOCSIN_DATABASE_URL" "$@"; }
"$ctl" migrate ${SCHEMA_DIR:+--dir "$SCHEMA_DIR"} >/dev/null
psql -c "INSERT INTO orgs (slug, name) VALUES ('bench', 'Bench');
         INSERT INTO senders (org_id, address, kind, provider, account_sid, credentials_sealed, messages_per_second)
         SELECT id, '12345', 'short_code', 'twilio', 'AC' || repeat('0', 32), 'sealed', 100 FROM orgs;
         INSERT INTO contacts (org_id, phone) SELECT o.id, '+1415' || lpad(g::text, 7, '0')
           FROM orgs o, generate_series(1, $n) g;
         INSERT INTO conversations (org_id, contact_id, sender_id)
         SELECT c.org_id, c.id, s.id FROM contacts c, senders s"
# queue CONVERSATIONS: MESSAGES queued messages spread over the first
# CONVERSATIONS conversations (0: none, a blast's).
queue() {
  psql -c "DELETE FROM messages; DELETE FROM claims;
           INSERT INTO messages (org_id, sender_id, provider, to_phone, body, encoding, segments, lane, conversation_id)
           SELECT s.org_id, s.id, 'twilio', '+1415' || lpad(g::text, 7, '0'), 'Bench ' || g, 'GSM-7', 1,
                  CASE WHEN $1 = 0 THEN 'bulk' ELSE 'conversational' END,
                  CASE WHEN $1 = 0 THEN NULL
                       ELSE (SELECT min(id) FROM conversations) + (g - 1) % $1 END
             FROM senders s, generate_series(1, $n) g"
  psql -c "VACUUM ANALYZE messages" -c "VACUUM ANALYZE outbox"
}
# timed SQL: the CPU milliseconds the backend spent on the statement,
# committed (its /proc/PID/schedstat before and after, read from inside
# the session): steadier than the wall clock on a loaded machine.
timed() {
  local cpu="bash -c 'cut -d\" \" -f1 /proc/\$(cat $tmp/pid)/schedstat'"
  psql >/dev/null <<SQL
\\o $tmp/pid
SELECT pg_backend_pid();
\\o
\\! $cpu >$tmp/t0
$1;
\\! $cpu >$tmp/t1
SQL
  echo $(( ($(cat "$tmp/t1") - $(cat "$tmp/t0")) / 1000 )) | awk '{printf "%.1f\n", $1 / 1000}'
}
# spread: the fastest and the median of the numbers on standard input.
spread() { sort -n | awk '{v[NR] = $1} END {printf "%.0f / %.0f", v[1], v[int((NR + 1) / 2)]}'; }
claim() { psql -c "SELECT count(*) FROM tocsin_claim((SELECT id FROM senders), 'bench', $n, now(), 60)" >/dev/null; }
echo "requeue: $n messages put back into the outbox, $runs committed runs, backend CPU least / median (ms)"
printf '%-28s %12s %12s\n' queue sweep release
for shape in "0 a blast (no conversations)" "1000 1,000 conversations" "$n $n conversations"; do
  convs=${shape%% *}
  queue "$convs"
  sweep=() release=()
  for _ in $(seq 1 "$runs"); do
    claim
    psql -c "UPDATE claims SET lease_until = now() - interval '1 second'"
    sweep+=("$(timed "SELECT tocsin_sweep_leases()")")
    claim
    release+=("$(timed "SELECT tocsin_release_claims((SELECT array_agg(x) FROM claims, unnest(message_ids) x), 'bench')")")
  done
  [ "$(psql -c "SELECT count(*) FROM outbox")" = "$n" ] || { echo "requeue.sh: not every message is back" >&2; exit 1; }
  printf '%-28s %12s %12s\n' "${shape#* }" "$(printf '%s\n' "${sweep[@]}" | spread)" \
    "$(printf '%s\n' "${release[@]}" | spread)"
done
