#!/usr/bin/env bash
# tocsin-gateway's Twilio webhooks end to end: members text through the
# carrier simulator (signed inbound webhooks) and the database shows the
# outcome — JOIN subscribes with consent evidence and queues one
# confirmation; replies open a conversation (plain-words revocations are
# flagged); STOP opts out first, cancels what was queued and confirms once
# even when repeated; nothing goes to an opted-out number until START; a
# retried MessageSid is stored once; bad signatures, unknown numbers and
# malformed webhooks store nothing; receipts move messages forward only.
source "$(dirname "$0")/lib.sh"
demo_db
T=7c0c51a0000000000000000000000000
GW_PORT=$(free_port)
SIM_PORT=$(free_port)
export TOCSIN_PUBLIC_URL="http://127.0.0.1:$GW_PORT"
TOCSIN_GATEWAY_PORT=$GW_PORT "$BIN/gateway/tocsin-gateway" >"$TMP/gateway.log" 2>&1 & GW=$!
TEST_PIDS+=($GW)
"$BIN/ops/tocsin-carrier-sim" --port "$SIM_PORT" --gateway "http://127.0.0.1:$GW_PORT" >"$TMP/sim.log" 2>&1 &
TEST_PIDS+=($!)
wait_http "http://127.0.0.1:$GW_PORT/healthz"
wait_http "http://127.0.0.1:$SIM_PORT/healthz"

member() { # member FROM BODY: a member texts the short code through the simulator
  curl -s -XPOST "http://127.0.0.1:$SIM_PORT/sim/inbound" \
    -d "$(printf '{"from": "%s", "to": "24680", "body": "%s"}' "$1" "$2")"
}
# signed PATH TOKEN k=v...: a hand-signed Twilio webhook; prints the HTTP status.
signed() {
  local path=$1 token=$2; shift 2
  local url="http://127.0.0.1:$GW_PORT$path" args=() kv sig
  sig=$(twilio_signature "$url" "$token" "$@")
  for kv in "$@"; do args+=(--data-urlencode "$kv"); done
  curl -s -o "$TMP/last" -D "$TMP/last.head" -w '%{http_code}' -H "X-Twilio-Signature: $sig" "$url" "${args[@]}"
}
M=+14155550100

# JOIN: subscribed with evidence, one confirmation queued.
assert_contains "$(member $M JOIN)" '"gateway_status":200' "JOIN accepted"
assert_eq "$(sql "SELECT l.name || ' ' || s.source || ' ' || (s.evidence_inbound_id = i.id) FROM subscriptions s JOIN lists l ON l.id = s.list_id JOIN contacts c ON c.id = s.contact_id JOIN inbound_messages i ON i.from_phone = c.phone WHERE c.phone = '$M'")" "members keyword true" "subscribed with the message as evidence"
assert_eq "$(sql "SELECT purpose || ' ' || lane || ' ' || segments || ' ' || (body LIKE 'Tocsin Demo Chapter: you''re in!%') FROM messages WHERE to_phone = '$M'")" "confirmation conversational 1 true" "the keyword's confirmation is queued"
# Keywords in any case, with spaces and punctuation; Spanish too.
member +14155550101 "  unete! " >/dev/null
assert_eq "$(sql "SELECT l.name FROM subscriptions s JOIN lists l ON l.id = s.list_id JOIN contacts c ON c.id = s.contact_id WHERE c.phone = '+14155550101'")" miembros "UNETE"

# A reply opens a conversation; a revocation in plain words is flagged.
member $M "what time is the rally?" >/dev/null
assert_eq "$(sql "SELECT state || ' ' || unread || ' ' || likely_opt_out || ' ' || (assignee_id IS NULL) FROM conversations")" "open 1 false true" "conversation opened, unassigned"
member $M "please stop texting me" >/dev/null
assert_eq "$(sql "SELECT unread || ' ' || likely_opt_out FROM conversations")" "2 true" "likely opt-out flagged"
assert_eq "$(sql "SELECT count(*) FROM inbound_messages WHERE conversation_id IS NOT NULL")" 2 "replies belong to the conversation"

# STOP: opted out first, queued messages cancelled, one confirmation even twice.
sql "INSERT INTO messages (org_id, sender_id, provider, to_phone, body, encoding, segments, lane, purpose)
     SELECT org_id, id, 'twilio', '$M', 'blast to cancel', 'GSM-7', 1, 'bulk', 'blast' FROM senders" >/dev/null
member $M "Stop." >/dev/null
member $M "STOP" >/dev/null
assert_eq "$(sql "SELECT count(*) FROM opt_outs WHERE phone = '$M'")" 1 "opted out"
assert_eq "$(sql "SELECT state FROM messages WHERE body = 'blast to cancel'")" cancelled "queued blast cancelled"
assert_eq "$(sql "SELECT count(*) FROM messages WHERE to_phone = '$M' AND purpose = 'opt_out_confirmation'")" 1 "one confirmation"
assert_eq "$(sql "SELECT count(*) FROM subscriptions WHERE unsubscribed_at IS NULL AND contact_id = (SELECT id FROM contacts WHERE phone = '$M')")" 0 "subscriptions ended"
before=$(sql "SELECT count(*) FROM messages WHERE to_phone = '$M'")
member $M "hi again" >/dev/null
member $M "JOIN" >/dev/null
member $M "HELP" >/dev/null
assert_eq "$(sql "SELECT count(*) FROM messages WHERE to_phone = '$M'")" "$before" "nothing more is queued for an opted-out number"
assert_eq "$(sql "SELECT count(*) FROM inbound_messages WHERE from_phone = '$M' AND body = 'hi again' AND conversation_id IS NOT NULL")" 1 "but what they write is kept"
member $M "start" >/dev/null
assert_eq "$(sql "SELECT count(*) FROM opt_outs WHERE phone = '$M'")" 0 "START clears the opt-out"
assert_eq "$(sql "SELECT count(*) FROM consent_events WHERE phone = '$M' AND event = 'opt_in' AND source = 'keyword'")" 3 "consent recorded (JOIN, START, the list START gave back)"
member +14155550102 "yes" >/dev/null
assert_eq "$(sql "SELECT count(*) FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE k.phone = '+14155550102'")" 1 "YES from someone never opted out is a reply"
member +14155550103 "HELP" >/dev/null
assert_eq "$(sql "SELECT purpose || ' ' || (body LIKE 'Tocsin Demo Chapter alerts%') FROM messages WHERE to_phone = '+14155550103'")" "help true" "HELP answered with the org's text"

# A retried webhook is stored once and answered 200 again.
for i in 1 2; do
  code=$(signed /twilio/inbound "$T" MessageSid=SMretry0001 From=+14155550104 To=24680 Body=hello NumMedia=0)
  assert_eq "$code" 200 "signed inbound ($i)"
done
assert_eq "$(sql "SELECT count(*) FROM inbound_messages WHERE provider_message_id = 'SMretry0001'")" 1 "stored once"
assert_contains "$(cat "$TMP/gateway.log")" "message_sid=SMretry0001 action=duplicate" "the retry is recognised"

# Refused: bad signature (403), unknown number (404), malformed (400); nothing stored.
n0=$(sql "SELECT count(*) FROM inbound_messages")
assert_eq "$(signed /twilio/inbound wrong-token MessageSid=SMbad0001 From=+14155550105 To=24680 Body=hi)" 403 "bad signature"
# An unknown To is answered exactly as a bad signature (status, headers,
# body), so which numbers are configured cannot be probed.
signed /twilio/inbound wrong-token MessageSid=SMbad0001 From=+14155550105 To=24680 Body=hi >/dev/null
cp "$TMP/last" "$TMP/bad_sig.body"; cp "$TMP/last.head" "$TMP/bad_sig.head"
assert_eq "$(signed /twilio/inbound "$T" MessageSid=SMbad0002 From=+14155550105 To=99999 Body=hi)" 403 "unknown To: as a bad signature"
cmp -s "$TMP/bad_sig.body" "$TMP/last" || fail "unknown To: body differs from a bad signature's: $(cat "$TMP/last")"
cmp -s "$TMP/bad_sig.head" "$TMP/last.head" || fail "unknown To: headers differ from a bad signature's: $(diff "$TMP/bad_sig.head" "$TMP/last.head")"
# Negative lookups are cached for 5 s: 100 webhooks to one unknown To cost
# one sender lookup per 5 s they took (the run's own length, which a
# loaded machine stretches, bounds how often the entry can age out).
lookups() { curl -s "http://127.0.0.1:$GW_PORT/metrics" | sed -n 's/^tocsin_gateway_sender_lookups_total //p'; }
l0=$(lookups)
[ -n "$l0" ] || fail "no tocsin_gateway_sender_lookups_total metric"
t0=$SECONDS
for i in $(seq 1 100); do signed /twilio/inbound "$T" MessageSid=SMprobe$i From=+14155550105 To=99998 Body=hi >/dev/null; done
allowed=$(( 2 + (SECONDS - t0) / 5 ))
[ $(( $(lookups) - l0 )) -le $allowed ] ||
  fail "100 webhooks to an unknown To in $((SECONDS - t0)) s made $(( $(lookups) - l0 )) sender lookups (at most $allowed)"
assert_eq "$(signed /twilio/inbound "$T" MessageSid=SMprobe0 From=+14155550105 To=99998 Body=hi)" 403 "still refused from the cache"
# A To with CR/LF and a quote (refused as unknown, as a bad signature)
# cannot forge a log line: it is logged quoted and escaped.
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$GW_PORT/twilio/inbound" \
  --data-urlencode MessageSid=SMforge001 --data-urlencode From=+14155550105 \
  --data-urlencode $'To=1\r\nevent=forged"' --data-urlencode Body=hi)
assert_eq "$code" 403 "unknown forged To"
grep -q '^event=forged' "$TMP/gateway.log" && fail "a webhook's To forged a log line: $(grep -a -B1 '^event=forged' "$TMP/gateway.log")"
assert_contains "$(cat "$TMP/gateway.log")" 'event=webhook_refused to="1\x0d\nevent=forged\"" status=404' "the To is logged quoted"
assert_eq "$(signed /twilio/inbound "$T" From=+14155550105 To=24680 Body=hi)" 400 "no MessageSid"
assert_eq "$(signed /twilio/inbound "$T" MessageSid=SMbad0003 From=12 To=24680 Body=hi)" 400 "bad From"
head -c 1100000 /dev/zero | tr '\0' 'a' > "$TMP/big"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$GW_PORT/twilio/inbound" --data-binary @"$TMP/big")
assert_eq "$code" 413 "oversize body"
assert_eq "$(sql "SELECT count(*) FROM inbound_messages")" "$n0" "nothing stored"
assert_contains "$(curl -s "http://127.0.0.1:$GW_PORT/metrics")" "tocsin_gateway_rejected_signatures_total 2" "counted"
# A sender added later is found at once: a NOTIFY on senders empties the
# gateway's cache of unknown numbers (and is counted when it has).
changes() { curl -s "http://127.0.0.1:$GW_PORT/metrics" | sed -n 's/^tocsin_gateway_sender_changes_total //p'; }
changes_over() { WAIT_LAST=$(changes); [ "${WAIT_LAST:-0}" -gt "$1" ]; }
c0=$(changes)
[ -n "$c0" ] || fail "no tocsin_gateway_sender_changes_total metric"
T2=c0ffee00000000000000000000000002 "$CTL" sender add --org demo --address 99998 --provider twilio \
  --mps 1 --account-sid AC7c0c51a0000000000000000000000001 --auth-token-env T2 >/dev/null
wait_until 60 "the gateway to hear of the new sender" changes_over "$c0"
assert_eq "$(signed /twilio/inbound c0ffee00000000000000000000000002 MessageSid=SMnew0001 From=+14155550105 To=99998 Body=hi)" 200 "a new sender's webhook within a TTL of its refusal"

# Receipts: forward only; early receipts kept for later.
sql "UPDATE messages SET state = 'sent', provider_message_id = 'SMsent0001', sent_at = now() WHERE to_phone = '+14155550103'" >/dev/null
assert_eq "$(signed /twilio/status "$T" MessageSid=SMsent0001 MessageStatus=delivered From=24680 To=+14155550103)" 200 "receipt"
assert_eq "$(sql "SELECT state FROM messages WHERE provider_message_id = 'SMsent0001'")" delivered "delivered"
signed /twilio/status "$T" MessageSid=SMsent0001 MessageStatus=sent From=24680 To=+14155550103 >/dev/null
assert_eq "$(sql "SELECT state FROM messages WHERE provider_message_id = 'SMsent0001'")" delivered "a late 'sent' does not go back"
signed /twilio/status "$T" MessageSid=SMearly0001 MessageStatus=undelivered ErrorCode=30003 From=24680 To=+14155550106 >/dev/null
assert_eq "$(sql "SELECT status || ' ' || error_code FROM delivery_receipts_pending WHERE provider_message_id = 'SMearly0001'")" "undelivered 30003" "early receipt kept"
assert_eq "$(signed /twilio/status wrong MessageSid=SMsent0001 MessageStatus=failed From=24680 To=+14155550103)" 403 "unsigned receipt refused"
grep -qE '^tocsin_gateway_receipt_batches_total [1-9]' <<<"$(curl -s "http://127.0.0.1:$GW_PORT/metrics")" || fail "receipts go in batches"

kill -TERM "$GW"
rc=0; wait "$GW" || rc=$?
assert_eq "$rc" 0 "gateway stops cleanly"
echo "test_gateway_twilio: ok"
