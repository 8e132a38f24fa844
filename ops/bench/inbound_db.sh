#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# ops/bench/inbound_db.sh — the database half of inbound.sh, counted in
# instructions instead of CPU time: a single-user PostgreSQL backend runs
# the inbound functions under valgrind's callgrind, so the figure is the
# same on a quiet machine and on a loaded one (CPU time per message moves
# by a third between two runs of the same code on a shared 2-core box).
# Four cases, batches as the gateway sends them (new numbers, then members
# with an open conversation each, 20,000 of them, after 200,000 messages
# already stored): stored at once through tocsin_receive_inbound_batch
# (100 a call), and through the journal (two burst calls of 100, then
# tocsin_inbound_journal_apply of 200). Each case runs 5 and 25 times
# from a copy of the same database; the difference over the messages in
# between is printed, so start-up and first plans fall out. The messages'
# ids and numbers are made by SQL in the same statement (about 18,000
# instructions a message, the same in every run). fsync is off: what is
# counted is the backend's work, not the disk's. Each SQL file given is
# applied after the migration, to measure a design before writing it up.
set -euo pipefail
case "${1:-}" in -h|--help) echo "Usage: ops/bench/inbound_db.sh [SQL_FILE...]  (needs valgrind; takes a few minutes)"; exit 0 ;; esac
for f in "$@"; do [ -r "$f" ] || { echo "inbound_db.sh: cannot read $f" >&2; exit 2; }; done
command -v valgrind >/dev/null || { echo "inbound_db.sh: valgrind is not installed (ops/install-deps)" >&2; exit 1; }
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_build tocsinctl
pgbin=/usr/lib/postgresql/15/bin
work=$(mktemp -d)
trap 'bench_pg_stop "$work/pg"; rm -rf "$work"' EXIT
bench_pg "$work/pg"
psql() { "$pgbin/psql" -XqAt -v ON_ERROR_STOP=1 "$TOCSIN_DATABASE_URL" "$@"; }
export TOCSIN_SECRET_KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
"$build/ops/tocsinctl" migrate >/dev/null
"$build/ops/tocsinctl" demo-seed >/dev/null
for f in "$@"; do psql -f "$f" >/dev/null; done
# The members (numbers as inbound.sh makes them), and messages already
# stored, so that the carrier-id keys are as deep as on a running system.
psql -c "INSERT INTO contacts (org_id, phone)
         SELECT s.org_id, '+1415' || (200 + (i / 10000) % 700) || lpad((i % 10000)::text, 4, '0')
           FROM senders s, generate_series(0, 19999) i WHERE s.address = '24680'" -c "
         INSERT INTO conversations (org_id, contact_id, sender_id, last_inbound_at)
         SELECT c.org_id, c.id, s.id, now() FROM contacts c JOIN senders s ON s.org_id = c.org_id AND s.address = '24680'
          WHERE c.phone LIKE '+1415%'" -c "
         INSERT INTO inbound_messages (org_id, sender_id, provider, provider_message_id, from_phone, body, num_media, intent)
         SELECT s.org_id, s.id, 'twilio', 'SM' || md5(g::text), '+14155550000', 'earlier', 0, 'reply'
           FROM senders s, generate_series(1, 200000) g WHERE s.address = '24680'" -c "VACUUM ANALYZE" \
     -c "CREATE SEQUENCE bench_members" # which 100 members write next: no member twice in a run
data=$(readlink -f "$work/pg")
"$here/ops/pg" stop --dir "$work/pg" --port "$PG_PORT" >/dev/null

# A batch of 100: new numbers, or the next 100 members in a fixed shuffled
# order (7919 is prime to 20,000), as replies come: not in the order the
# conversations were opened, which would put a batch's updates on the same
# few pages, more than a page's free space holds as HOT updates.
ids="array_agg('SM' || replace(gen_random_uuid()::text, '-', ''))"
new="WITH g AS (SELECT $ids AS mid, array_agg('+1' || (2000000000 + (random() * 7999999999)::bigint)::text) AS ph
                FROM generate_series(1, 100))"
members="WITH s AS (SELECT nextval('bench_members')::int * 100 AS s),
              k AS (SELECT (i * 7919) % 20000 AS i FROM s, generate_series(s.s, s.s + 99) i),
              g AS (SELECT $ids AS mid, array_agg('+1415' || (200 + (i / 10000) % 700) || lpad((i % 10000)::text, 4, '0')) AS ph
                      FROM k)"
args="array_fill('twilio'::text, ARRAY[100]), g.mid, array_fill(s.id, ARRAY[100]), g.ph,
      array_fill('see you there, thanks!'::text, ARRAY[100]), array_fill(0, ARRAY[100]),
      array_fill('reply'::text, ARRAY[100]), array_fill(NULL::bigint, ARRAY[100]), array_fill(false, ARRAY[100]),
      array_fill(NULL::text, ARRAY[100]), array_fill(NULL::text, ARRAY[100]), array_fill(NULL::int, ARRAY[100])"
sender="(SELECT id FROM senders WHERE address = '24680') s"
call() { printf '%s SELECT count(*) FROM g, %s, %s(%s) r;\n\n' "$1" "$sender" "$2" "$args"; }
script() { # script CASE: one round's statements (single-user mode: a blank line ends one)
  case "$1" in
    new) call "$new" tocsin_receive_inbound_batch ;;
    members) call "$members" tocsin_receive_inbound_batch ;;
    journal_new | journal_members)
      local w=$new; [ "$1" = journal_members ] && w=$members
      call "$w" tocsin_receive_inbound_burst; call "$w" tocsin_receive_inbound_burst
      printf 'SELECT * FROM tocsin_inbound_journal_apply(200);\n\n' ;;
  esac
}
instructions() { # instructions CASE ROUNDS: callgrind's total for a fresh copy of the database
  for _ in $(seq "$2"); do script "$1"; done >"$work/$1.$2.sql"
  bench_callgrind "$data" "$work/$1.$2.sql" || exit 1
}
echo "PostgreSQL instructions per message (callgrind; 25 rounds less 5, per message in between)"
for c in new members journal_new journal_members; do
  per=100; [ "${c#journal_}" != "$c" ] && per=200
  a=$(instructions "$c" 5)
  b=$(instructions "$c" 25)
  awk -v c="$c" -v a="$a" -v b="$b" -v n=$((20 * per)) 'BEGIN { printf "  %-16s %9.0f\n", c, (b - a) / n }'
done
