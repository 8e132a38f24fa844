#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# ops/bench/blast_expand.sh — expanding a blast of ROWS recipients (default
# 1,000,000; target under 5 s) through tocsin_blasts_tick (schema 013):
# the audience (subscribed, filtered, opt-outs left out) fixed in chunks of
# 1,000 contact ids, and the first chunks fed. Next to it, measured in the
# same run on the same throwaway cluster, the bound: the audience query
# alone. Then feeding: 20,000 messages rendered, counted in segments and
# given their quiet-hours windows by tocsin_blast_feed, next to a bare
# INSERT ... SELECT of as many rows into messages (same indexes and
# foreign-key triggers; constant body, no rendering, no zones). Last, the
# cost of the counter trigger: a state change of a fifth of the fed
# messages with and without it.
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

audience="SELECT c.id FROM subscriptions s JOIN contacts c ON c.id = s.contact_id
                WHERE s.list_id = 1 AND s.unsubscribed_at IS NULL
                  AND NOT EXISTS (SELECT 1 FROM opt_outs o WHERE o.org_id = 1 AND o.phone = c.phone)"
q "CHECKPOINT"
bound=$(timed "SELECT count(*) FROM ($audience) a")
q "SELECT tocsin_blast_schedule(1, 2, NULL, now())" >/dev/null
q "CHECKPOINT"
tick=$(timed "SELECT tocsin_blasts_tick(now())")
n=$(q "SELECT recipients FROM blasts WHERE id = 2")
first=$(q "SELECT count(*) FROM messages WHERE blast_id = 2")
[ "$n" = "$(( first + $(q "SELECT unfed FROM blasts WHERE id = 2") ))" ] || { echo "recipient count mismatch" >&2; exit 1; }

# Feeding: 20 chunks (20,000 messages) rendered, zoned and inserted, next
# to a bare INSERT ... SELECT of as many rows into messages.
feed_rows=20000
q "CHECKPOINT"
feed=$(timed "SELECT tocsin_blast_feed(2, $(( feed_rows / 1000 )), now())")
q "CHECKPOINT"
bare=$(timed "INSERT INTO messages (org_id, sender_id, provider, contact_id, to_phone, body, encoding, segments,
                                    lane, purpose, blast_id)
              SELECT 1, 1, 'telnyx', c.id, c.phone, 'Hi friend, the meeting is on Tuesday at 7pm. Reply STOP to opt out',
                     'GSM-7', 1, 'bulk', 'blast', 1
                FROM contacts c WHERE c.id IN ($audience LIMIT $feed_rows)")

# The counter trigger: 100,000 queued -> sending, with it and without it
# (on other rows of the same blast).
q "VACUUM ANALYZE messages"
fed=$(q "SELECT count(*) FROM messages WHERE blast_id = 2")
batch=$(( fed / 5 ))
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
awk -v n="$n" -v r="$rows" -v b="$bound" -v t="$tick" -v f1="$first" -v fr="$feed_rows" -v f="$feed" -v bb="$bare" \
    -v w1="$with" -v o1="$without" -v w2="$with2" -v o2="$without2" -v k="$batch" 'BEGIN {
  printf "contacts on the list:                     %d (%d recipients after opt-outs)\n", r, n
  printf "the audience query alone (bound):         %6.2f s\n", b
  printf "expansion (tocsin_blasts_tick): audience fixed in chunks, first %d messages fed:\n", f1
  printf "                                          %6.2f s  (%.2fx the bound; target < 5 s)\n", t, t / b
  printf "feeding %d messages (tocsin_blast_feed):   %6.2f s  %7.0f messages/s\n", fr, f, fr / f
  printf "bare INSERT ... SELECT of as many rows:    %6.2f s  %7.0f rows/s  (feed: %.2fx its time)\n", bb, fr / bb, f / bb
  printf "%d-row state update with counter trigger:    %.3f s, %.3f s\n", k, w1, w2
  printf "%d-row state update without the trigger:     %.3f s, %.3f s  (overhead %.0f%%)\n", k, o1, o2,
         100 * ((w1 + w2) - (o1 + o2)) / (o1 + o2) }'
