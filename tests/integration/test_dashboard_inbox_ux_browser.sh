#!/usr/bin/env bash
# The volunteer inbox's context and live state in a real browser
# (tests/browser/inbox_ux.mjs), at 1280 and 390 px: a member's reply shows
# the blast it answers; an answer flips from "waiting to send" to "sent"
# (a real worker sending to the carrier simulator) and to "delivered" (a
# receipt) without a reload; the "N waiting" line follows the pool live; a
# lead's reassignment asks first, and the volunteer who lost the
# conversation learns who took it and keeps her draft; leads land on the
# campaigns, the top bar marks where one is, notes have a Save button.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dashboard_lib.sh"
browser_setup

# A blast reached three members an hour ago (delivered); two answer it.
LIST=$(sql "INSERT INTO lists (org_id, name) VALUES ($ORG, 'Rally volunteers') RETURNING id")
sql "INSERT INTO contacts (org_id, phone, first_name) VALUES ($ORG, '+14155550301', NULL), ($ORG, '+14155550302', 'Bea'),
     ($ORG, '+14155550303', 'Cy')" >/dev/null
BLAST=$(sql "INSERT INTO blasts (org_id, sender_id, list_id, body, state, recipients, created_at)
             VALUES ($ORG, $SENDER, $LIST, 'Rally Saturday at City Hall! Reply to RSVP.', 'completed', 3, now() - interval '1 hour')
             RETURNING id")
sql "INSERT INTO messages (org_id, sender_id, provider, contact_id, to_phone, body, encoding, segments, lane, purpose,
                           blast_id, state, provider_message_id, created_at, sent_at, finalized_at)
     SELECT $ORG, $SENDER, 'twilio', id, phone, 'Rally Saturday at City Hall! Reply to RSVP.', 'GSM-7', 1, 'bulk', 'blast',
            $BLAST, 'delivered', 'SMblast' || id, now() - interval '1 hour', now() - interval '1 hour', now() - interval '59 minutes'
       FROM contacts WHERE org_id = $ORG AND phone LIKE '+1415555030%'" >/dev/null
member_writes +14155550301 "what time is the rally?" >/dev/null
member_writes +14155550302 "Can I bring my kids?" >/dev/null

# A real worker sends the answers to the carrier simulator.
SIM_PORT=$(free_port)
"$BIN/ops/tocsin-carrier-sim" --port "$SIM_PORT" --gateway "http://127.0.0.1:$(free_port)" >"$TMP/sim.log" 2>&1 &
TEST_PIDS+=($!)
wait_http "http://127.0.0.1:$SIM_PORT/healthz"
sql "UPDATE senders SET base_url = 'http://127.0.0.1:$SIM_PORT'"
TOCSIN_WORKER_METRICS_PORT=$(free_port) TOCSIN_WORKER_POLL_MS=200 "$BIN/worker/tocsin-worker" >"$TMP/worker.log" 2>&1 &
TEST_PIDS+=($!)

browser_run inbox_ux.mjs SENDER="$SENDER"

# The reassignments happened once each, as the lead confirmed them.
assert_eq "$(sql "SELECT count(*) FROM audit_events WHERE action = 'conversation.assign'")" 2 "two confirmed reassignments"
echo "test_dashboard_inbox_ux_browser: ok"
