#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# ops/bench/blast_expand.sh — expanding a blast of ROWS recipients (default
# 1,000,000; target under 5 s) through tocsin_blasts_tick: fields rendered
# per contact, segments counted in SQL, opt-outs left out, zones and
# quiet-hours windows joined, counters set. Next to it, measured in the same
# run on the same throwaway cluster, the bound: a bare INSERT ... SELECT of
# the same rows into messages (same indexes and triggers) with a constant
# body, no rendering, no segments, no zones. messages has seven foreign keys
# (schema 003), each checked by a trigger per inserted row; when the role
# may, both are measured again with those checks off (replica mode), to
# show what the checks cost and what the expansion itself adds. Then the
# cost of the counter trigger: a state change of 100,000 blast messages
# (or a fifth of them) with and without it.
set -euo pipefail
case "${1:-}" in -h|--help) echo "Usage: ops/bench/blast_expand.sh [ROWS]  (default 1000000)"; exit 0 ;; esac
rows=${1:-1000000}
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_build tocsinctl
tmp=$(mktemp -d)
trap 'bench_pg_stop "$tmp/pg"; rm -rf "$tmp"' EXIT
bench_pg "$tmp/pg"
ctl="$build/ops/tocsinctl"
"$ctl" migrate >/dev/null
"$ctl" org create bench --name "Bench" >/dev/null
psql=(/usr/lib/postgresql/15/bin/psql -XqAt -v ON_ERROR_STOP=1 "$TOCSIN_DATABASE_URL")
q() { "${psql[@]}" -c "$1"; }
# timed SQL: prints the seconds it took.
timed() { local a b; a=$(date +%s.%N); q "$1" >/dev/null; b=$(date +%s.%N); awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b - a }'; }

# ROWS contacts over 12 area codes (Florida, Oklahoma, Texas, New York,
# California, ...), three quarters with a first name, a custom city, 1%
# opted out, all on one list.
q "INSERT INTO senders (org_id, address, kind, provider, credentials_sealed, messages_per_second)
   SELECT id, '+18005550199', 'toll_free', 'telnyx', 'x', 100 FROM orgs"
q "INSERT INTO lists (org_id, name) SELECT id, 'everyone' FROM orgs"
q "INSERT INTO contacts (org_id, phone, first_name, fields)
   SELECT 1, '+1' || (ARRAY[305,405,512,212,415,617,312,202,713,850,918,808])[1 + i % 12]
               || lpad((2000000 + i / 12)::text, 7, '0'),
          CASE WHEN i % 4 <> 0 THEN 'First' || i END,
          jsonb_build_object('city', (ARRAY['Austin','Miami','Tulsa','Boston'])[1 + i % 4])
     FROM generate_series(0, $rows - 1) i"
q "INSERT INTO subscriptions (org_id, list_id, contact_id, source) SELECT 1, 1, id, 'api' FROM contacts"
q "INSERT INTO opt_outs (org_id, phone, source) SELECT 1, phone, 'admin' FROM contacts WHERE id % 100 = 0"
q "VACUUM ANALYZE"

body='Hi {first_name|friend}, the {city} meeting is on Tuesday at 7pm. Reply STOP to opt out'
q "SELECT tocsin_blast_create(1, NULL, 1, 1, \$b\$$body\$b\$, '{}')" >/dev/null  # blast 1: the bound's
q "SELECT tocsin_blast_create(1, NULL, 1, 1, \$b\$$body\$b\$, '{}')" >/dev/null  # blast 2: the real one

bare_sql="INSERT INTO messages (org_id, sender_id, provider, contact_id, to_phone, body, encoding, segments,
                                     lane, purpose, blast_id)
               SELECT 1, 1, 'telnyx', c.id, c.phone, 'Hi friend, the meeting is on Tuesday at 7pm. Reply STOP to opt out',
                      'GSM-7', 1, 'bulk', 'blast', 1
                 FROM subscriptions s JOIN contacts c ON c.id = s.contact_id
                WHERE s.list_id = 1 AND s.unsubscribed_at IS NULL
                  AND NOT EXISTS (SELECT 1 FROM opt_outs o WHERE o.org_id = 1 AND o.phone = c.phone)"
super=$(q "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
if [ "$super" = t ]; then
  q "CHECKPOINT"
  bound_nofk=$(timed "BEGIN; SET LOCAL session_replication_role = replica; $bare_sql; ROLLBACK")
  q "SELECT tocsin_blast_schedule(1, 2, NULL, now())" >/dev/null
  q "CHECKPOINT"
  tick_nofk=$(timed "BEGIN; SET LOCAL session_replication_role = replica; SELECT tocsin_blasts_tick(now()); ROLLBACK")
  q "VACUUM messages"
fi
q "CHECKPOINT"
bound=$(timed "$bare_sql")
q "TRUNCATE messages CASCADE"
q "VACUUM ANALYZE messages"
q "CHECKPOINT"
q "SELECT tocsin_blast_schedule(1, 2, NULL, now())" >/dev/null
tick=$(timed "SELECT tocsin_blasts_tick(now())")
n=$(q "SELECT recipients FROM blasts WHERE id = 2")
[ "$n" = "$(q "SELECT count(*) FROM messages WHERE blast_id = 2")" ] || { echo "recipient count mismatch" >&2; exit 1; }

# The counter trigger: 100,000 queued -> sending, with it and without it
# (on other rows of the same blast).
q "VACUUM ANALYZE messages"
batch=$(( n / 5 < 100000 ? n / 5 : 100000 ))
upd() { echo "UPDATE messages SET state = 'sending', claimed_by = 'bench', lease_until = now() + interval '1 minute'
               WHERE id IN (SELECT id FROM messages WHERE blast_id = 2 AND state = 'queued' ORDER BY id LIMIT $batch OFFSET $1)"; }
with=$(timed "$(upd 0)")
q "ALTER TABLE messages DISABLE TRIGGER messages_blast_counters"
without=$(timed "$(upd 0)")
q "ALTER TABLE messages ENABLE TRIGGER messages_blast_counters"
with2=$(timed "$(upd 0)")
q "ALTER TABLE messages DISABLE TRIGGER messages_blast_counters"
without2=$(timed "$(upd 0)")
q "ALTER TABLE messages ENABLE TRIGGER messages_blast_counters"
q "SELECT tocsin_blast_fold_counters()" >/dev/null
awk -v n="$n" -v r="$rows" -v b="$bound" -v t="$tick" -v w1="$with" -v o1="$without" -v w2="$with2" -v o2="$without2" \
    -v bn="${bound_nofk:-}" -v tn="${tick_nofk:-}" -v k="$batch" 'BEGIN {
  printf "contacts on the list:                      %d (%d recipients after opt-outs)\n", r, n
  printf "bare INSERT ... SELECT, no rendering (bound): %6.2f s  %9.0f rows/s\n", b, n / b
  printf "tocsin_blasts_tick expansion:              %6.2f s  %9.0f rows/s  (%.2fx the bound; target < 5 s)\n", t, n / t, t / b
  if (bn != "") {
    printf "the same with foreign-key checks off (replica mode, for comparison only):\n"
    printf "  bare INSERT ... SELECT:                  %6.2f s  %9.0f rows/s\n", bn, n / bn
    printf "  tocsin_blasts_tick expansion:            %6.2f s  %9.0f rows/s  (%.2fx)\n", tn, n / tn, tn / bn
  }
  printf "%d-row state update with counter trigger:    %.3f s, %.3f s\n", k, w1, w2
  printf "%d-row state update without the trigger:     %.3f s, %.3f s  (overhead %.0f%%)\n", k, o1, o2,
         100 * ((w1 + w2) - (o1 + o2)) / (o1 + o2) }'
