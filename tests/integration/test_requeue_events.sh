#!/usr/bin/env bash
# A volunteer's answer put back into the outbox (schema 034: a retry, a
# release, a lease sweep, the operator's requeue of unknown messages;
# tocsin_outbox_put_back) changes what her open
# conversation shows from "sending" back to "queued" ("waiting to send"):
# each time, her live stream and her lead's hear one "status" event of
# the conversation, and the thread the page then fetches says queued.
# The other volunteer of the org (not assigned) and another org's
# volunteer hear nothing of it: each "never" is checked once the stream
# has had a later event of its own (streams keep the order in which the
# dashboard heard the notifications), so a late delivery cannot pass for
# none. The worker's steps run as its SQL functions, with no carrier.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dashboard_lib.sh"
dash_setup
CTL="$BIN/ops/tocsinctl"
"$CTL" org create rival --name "Rival Org" >/dev/null
RIVAL=$(sql "SELECT id FROM orgs WHERE slug = 'rival'")
echo "rival volunteer password" | "$CTL" user add --org rival --email vol@rival.test --role volunteer --password-stdin >/dev/null
RIVAL_VOL=$(sql "SELECT id FROM users WHERE email = 'vol@rival.test'")
V1=$(sql "SELECT id FROM users WHERE email = 'vol1@demo.test'")
V2=$(sql "SELECT id FROM users WHERE email = 'vol2@demo.test'")
for who in "vol1 vol1@demo.test" "vol2 vol2@demo.test" "lead lead@demo.test"; do
  assert_eq "$(login $who)" 200 "${who%% *} logs in"
done
assert_eq "$(login rival vol@rival.test 'rival volunteer password')" 200 "another org's volunteer logs in"

# Volunteer 1's conversation and her answer in it; volunteer 2 holds
# another one (for her stream's last event).
CONV=$(member_writes +14155550301 "is the rally on?")
THEIRS=$(member_writes +14155550302 "and mine?")
assert_eq "$(call lead POST "/api/conversations/$CONV/assign" "{\"user_id\":$V1}")" 200 "the lead assigns it to volunteer 1"
assert_eq "$(call lead POST "/api/conversations/$THEIRS/assign" "{\"user_id\":$V2}")" 200 "and another to volunteer 2"
assert_eq "$(call vol1 POST "/api/conversations/$CONV/reply" '{"body":"Yes, at noon"}')" 201 "volunteer 1 answers"
A=$(sql "SELECT id FROM messages WHERE conversation_id = $CONV AND body = 'Yes, at noon'")

for who in vol1 vol2 lead rival; do open_stream $who; done
# statuses NAME: the "status" events of CONV on NAME's stream.
statuses() { grep -c "\"type\":\"status\",\"conversation_id\":$CONV}" "$TMP/sse_$1"; }
at_least() { WAIT_LAST=$(statuses "$1"); [ "$WAIT_LAST" -ge "$2" ]; }
# heard N WHAT: volunteer 1 and the lead have had N status events of CONV.
heard() {
  wait_until 60 "status event $1 ($2) on volunteer 1's stream" at_least vol1 "$1"
  wait_until 60 "status event $1 ($2) on the lead's stream" at_least lead "$1"
}
# shown: the answer's state in the thread as volunteer 1's page fetches it.
shown() {
  [ "$(call vol1 GET "/api/conversations/$CONV")" = 200 ] || fail "volunteer 1 reads her conversation: $(cat "$TMP/out")"
  jq_ "d.messages.find((m) => m.direction === 'outbound' && m.id === $A).state"
}
claim() { # WORKER: the worker claims the answer (taken out of the outbox)
  assert_eq "$(sql "SELECT count(*) FROM tocsin_claim($SENDER, '$1', 100, now(), 60) WHERE id = $A")" 1 "$1 claims the answer"
  assert_eq "$(shown)" sending "claimed, the answer shows sending"
}

# The stamp (before the carrier request) said "sending", as before.
claim w1
assert_eq "$(sql "SELECT count(*) FROM tocsin_mark_going(ARRAY[$A]::bigint[], 'w1')")" 1 "w1 stamps it"
heard 1 "the stamp"

# The carrier asks for a retry: back in the outbox, queued again.
assert_eq "$(sql "SELECT tocsin_record_outcomes('w1', ARRAY[$A]::bigint[], ARRAY['retry'], ARRAY[''], ARRAY['']::text[],
                                                ARRAY['busy']::text[], ARRAY[0], ARRAY[false])")" 1 "the retry is recorded"
heard 2 "the retry"
assert_eq "$(shown)" queued "after the retry the answer shows queued"

# A worker stopping releases what it never sent.
claim w2
assert_eq "$(sql "SELECT tocsin_release_claims(ARRAY[$A]::bigint[], 'w2')")" 1 "w2 releases it"
heard 3 "the release"
assert_eq "$(shown)" queued "released, the answer shows queued"

# A worker lost before its stamp: the sweep of its expired lease.
claim w3
sql "UPDATE claims SET lease_until = now() - interval '1 second' WHERE worker = 'w3'" >/dev/null
assert_eq "$(sql "SELECT tocsin_sweep_leases()")" 1 "the sweep puts it back"
heard 4 "the sweep"
assert_eq "$(shown)" queued "swept, the answer shows queued"
assert_eq "$(sql "SELECT count(*) FROM outbox WHERE id = $A")" 1 "and it waits in the outbox"

# A worker lost after its stamp: the answer and a second one in the same
# conversation become unknown (the sweep: one event, a state change);
# the operator's requeue (tocsinctl messages requeue) puts both back into
# the outbox: one event for the conversation, however many of its
# messages came back, and the thread shows the answer queued.
assert_eq "$(call vol1 POST "/api/conversations/$CONV/reply" '{"body":"And bring water"}')" 201 "volunteer 1 answers again"
B=$(sql "SELECT id FROM messages WHERE conversation_id = $CONV AND body = 'And bring water'")
assert_eq "$(sql "SELECT count(*) FROM tocsin_claim($SENDER, 'w4', 100, now(), 60) WHERE id IN ($A, $B)")" 2 "w4 claims both"
assert_eq "$(sql "SELECT count(*) FROM tocsin_mark_going(ARRAY[$A, $B]::bigint[], 'w4')")" 2 "w4 stamps both"
heard 5 "the stamp of both"
sql "UPDATE claims SET lease_until = now() - interval '1 second' WHERE worker = 'w4'" >/dev/null
assert_eq "$(sql "SELECT tocsin_sweep_leases()")" 2 "the sweep judges both"
assert_eq "$(sql "SELECT string_agg(state, ' ') FROM messages WHERE id IN ($A, $B)")" "unknown unknown" "stamped: both unknown"
heard 6 "both unknown"
assert_eq "$(shown)" unknown "the answer shows unknown"
assert_contains "$("$CTL" messages requeue --state unknown --org demo)" "requeued 2 unknown messages" "the operator requeues both"
heard 7 "the requeue"
assert_eq "$(shown)" queued "requeued, the answer shows queued"
assert_eq "$(sql "SELECT count(*) FROM outbox WHERE id IN ($A, $B)")" 2 "both wait in the outbox"

# Last, an event each of the other two streams hears: a reply in volunteer
# 2's conversation, and one (as the gateway announces it) in a
# conversation of the rival volunteer's org assigned to her.
member_writes +14155550302 "still there?" >/dev/null
sql "SELECT pg_notify('tocsin_conversations', json_build_object('org_id', $RIVAL, 'conversation_id', $THEIRS + 1000,
       'event', 'message', 'assignee_id', $RIVAL_VOL, 'previous_assignee_id', NULL)::text)" >/dev/null
wait_until 60 "volunteer 2's own conversation on her stream" file_has "$TMP/sse_vol2" "\"conversation_id\":$THEIRS}"
wait_until 60 "the rival volunteer's own conversation on her stream" file_has "$TMP/sse_rival" "\"conversation_id\":$((THEIRS + 1000))}"
assert_eq "$(statuses vol1) $(statuses lead)" "7 7" "one event per step, no more"
for who in vol2 rival; do
  ! grep -q "\"conversation_id\":$CONV}" "$TMP/sse_$who" || fail "$who heard of volunteer 1's conversation: $(cat "$TMP/sse_$who")"
done
echo "test_requeue_events: ok"
