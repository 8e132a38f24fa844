#!/usr/bin/env bash
# A conversation's thread (tocsin_dashboard_conversation) shows the keyword
# confirmation its sender sent the member before the conversation existed,
# above her first reply; not what another sender, another org or another
# number got, nor what was cancelled; and never more than 50 messages,
# however many confirmations a number collects.
source "$(dirname "$0")/lib.sh"
fresh_db
CTL="$BIN/ops/tocsinctl"
export TOCSIN_SECRET_KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
"$CTL" migrate >/dev/null
"$CTL" demo-seed >/dev/null
ORG=$(sql "SELECT id FROM orgs WHERE slug = 'demo'")
S=$(sql "SELECT id FROM senders WHERE address = '24680'")
K=$(sql "SELECT id FROM keywords WHERE keyword = 'JOIN'")
P=+14155550123 Q=+14155550124
# receive ID FROM BODY INTENT KEYWORD REPLY: one member message as the gateway applies it.
receive() {
  sql "SELECT action || ':' || coalesce(conversation_id::text, '-') FROM tocsin_receive_inbound(
         'twilio', '$1', $S, '$2', '$3', 0, '$4', $5, false, $6, 'GSM-7', 1)"
}
assert_eq "$(receive SM1 $P JOIN keyword $K "'You joined Demo alerts. Reply STOP to cancel.'")" "subscribed:-" \
  "JOIN subscribes without a conversation"
# What must not show: another number's confirmation, another sender's and
# another org's message to this number, and a cancelled one.
receive SM2 $Q JOIN keyword $K "'You joined (other number).'" >/dev/null
sql "INSERT INTO orgs (slug, name) VALUES ('other', 'Other')" >/dev/null
OTHER=$(sql "SELECT id FROM orgs WHERE slug = 'other'")
S2=$(sql "INSERT INTO senders (org_id, address, kind, provider, account_sid, credentials_sealed, messages_per_second)
          VALUES ($ORG, '13579', 'short_code', 'twilio', 'AC' || repeat('1', 32), 'sealed', 1) RETURNING id" | head -1)
S3=$(sql "INSERT INTO senders (org_id, address, kind, provider, account_sid, credentials_sealed, messages_per_second)
          VALUES ($OTHER, '11223', 'short_code', 'twilio', 'AC' || repeat('2', 32), 'sealed', 1) RETURNING id" | head -1)
other_msg() { # ORG SENDER BODY STATE
  sql "INSERT INTO messages (org_id, sender_id, provider, to_phone, body, encoding, segments, lane, purpose, state)
       VALUES ($1, $2, 'twilio', '$P', '$3', 'GSM-7', 1, 'conversational', 'confirmation', 'queued')" >/dev/null
}
other_msg "$ORG" "$S2" 'other sender'
other_msg "$OTHER" "$S3" 'other org'
other_msg "$ORG" "$S" 'cancelled one'
sql "UPDATE messages SET state = 'cancelled', finalized_at = now() WHERE body = 'cancelled one'" >/dev/null
sql "UPDATE messages SET created_at = now() - interval '1 minute' WHERE to_phone = '$P'" >/dev/null

out=$(receive SM3 $P 'what time is the meeting?' reply NULL NULL)
[[ "$out" == reply:* ]] || fail "a reply opens a conversation: $out"
CONV=${out#reply:}
thread() { # the thread as kind:direction:body, oldest first
  sql "SELECT string_agg(m->>'kind' || ':' || (m->>'direction') || ':' || (m->>'body'), '|' ORDER BY n)
         FROM json_array_elements(tocsin_dashboard_conversation($ORG, NULL, 'admin', $CONV)->'messages')
              WITH ORDINALITY AS t(m, n)"
}
assert_eq "$(thread)" \
  "confirmation:outbound:You joined Demo alerts. Reply STOP to cancel.|member:inbound:what time is the meeting?" \
  "the confirmation is above the reply, and nothing else"

# Bounded: 80 more confirmations to the number; the thread stays at 50,
# the newest, the reply last.
sql "INSERT INTO messages (org_id, sender_id, provider, to_phone, body, encoding, segments, lane, purpose, created_at)
     SELECT $ORG, $S, 'twilio', '$P', 'again ' || n, 'GSM-7', 1, 'conversational', 'confirmation',
            now() - interval '1 minute' + n * interval '1 ms'
       FROM generate_series(1, 80) n" >/dev/null
assert_eq "$(sql "SELECT json_array_length(tocsin_dashboard_conversation($ORG, NULL, 'admin', $CONV)->'messages')")" 50 \
  "at most 50 messages"
t=$(thread)
assert_eq "$(cut -d'|' -f1 <<<"$t")" "confirmation:outbound:again 32" "the newest 49 confirmations"
assert_eq "$(awk -F'|' '{print $NF}' <<<"$t")" "member:inbound:what time is the meeting?" "the reply is last"
# The confirmations are read through the partial index, newest first.
plan=$(sql "SET enable_seqscan = off; EXPLAIN SELECT id FROM messages m WHERE m.org_id = $ORG AND m.to_phone = '$P' AND m.sender_id = $S
              AND m.conversation_id IS NULL AND m.blast_id IS NULL ORDER BY m.created_at DESC LIMIT 50")
assert_contains "$plan" "messages_outside_conversation" "the index serves the thread's read"
# A blast's messages and a conversation's never enter the index.
assert_eq "$(sql "SELECT pg_get_indexdef('messages_outside_conversation'::regclass) LIKE '%WHERE ((conversation_id IS NULL) AND (blast_id IS NULL))'")" t \
  "the index leaves blast and conversation messages out"
echo "test_thread_confirmations: ok"
