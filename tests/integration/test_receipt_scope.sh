#!/usr/bin/env bash
# Delivery receipts are scoped to the sender whose credentials signed them:
# a status callback signed with one org's token, naming another org's
# message id, changes nothing and is not kept pending; receipts kept
# pending match only their own sender's message (at the worker's record of
# ids and at its sweep); and delivery_receipts_pending is bounded: older
# than a day or beyond 10000 rows per sender, receipts are dropped. A
# receipt spooled by a gateway from before schema 017 (no sender) is set
# aside at replay, never applied.
source "$(dirname "$0")/lib.sh"
demo_db
T=7c0c51a0000000000000000000000000 # the demo short code's token
"$CTL" org create rival --name "Rival" >/dev/null
echo "rival-token-0000" | "$CTL" sender add --org rival --address 13579 --provider twilio \
  --account-sid AC0123456789abcdef0123456789abcdef --mps 5 --auth-token-stdin >/dev/null
A=$(sql "SELECT id FROM senders WHERE address = '24680'")
B=$(sql "SELECT id FROM senders WHERE address = '13579'")
GW_PORT=$(free_port)
export TOCSIN_PUBLIC_URL="http://127.0.0.1:$GW_PORT"
TOCSIN_GATEWAY_PORT=$GW_PORT "$BIN/gateway/tocsin-gateway" >"$TMP/gateway.log" 2>&1 & GW=$!; TEST_PIDS+=($GW)
wait_http "http://127.0.0.1:$GW_PORT/healthz"

# signed PATH TOKEN k=v...: a hand-signed Twilio webhook; prints the HTTP status.
signed() {
  local path=$1 token=$2; shift 2
  local url="http://127.0.0.1:$GW_PORT$path" concat="" args=() kv
  while IFS= read -r kv; do concat+="${kv%%=*}${kv#*=}"; done < <(printf '%s\n' "$@" | LC_ALL=C sort)
  local sig
  sig=$(printf '%s' "$url$concat" | openssl dgst -sha1 -hmac "$token" -binary | base64)
  for kv in "$@"; do args+=(--data-urlencode "$kv"); done
  curl -s -o "$TMP/last" -w '%{http_code}' -H "X-Twilio-Signature: $sig" "$url" "${args[@]}"
}
sent_msg() { # SENDER_ID SID: a sent message of that sender's org with that provider id
  sql "INSERT INTO messages (org_id, sender_id, provider, to_phone, body, encoding, segments, lane, purpose,
                             state, provider_message_id, sent_at)
       SELECT org_id, id, 'twilio', '+14155550123', 'hello', 'GSM-7', 1, 'conversational', 'reply',
              'sent', '$2', now() FROM senders WHERE id = $1" >/dev/null
}

# --- another org's signed callback cannot touch this org's message ---
sent_msg "$A" SMvictim0001
assert_eq "$(signed /twilio/status rival-token-0000 MessageSid=SMvictim0001 MessageStatus=failed ErrorCode=30007 From=13579 To=+14155550123)" 200 \
  "the rival's callback is authentic (its own token)"
assert_eq "$(sql "SELECT state || ' ' || coalesce(error_code, '-') FROM messages WHERE provider_message_id = 'SMvictim0001'")" "sent -" \
  "another sender's receipt leaves the message alone"
assert_eq "$(sql "SELECT count(*) FROM delivery_receipts_pending")" 0 "and is not kept to match later"
grep -q 'level=warn .*event=receipt .*message_sid=SMvictim0001 outcome=foreign' "$TMP/gateway.log" || fail "the gateway logs the foreign receipt"
assert_eq "$(signed /twilio/status "$T" MessageSid=SMvictim0001 MessageStatus=delivered From=24680 To=+14155550123)" 200 "its own sender's receipt"
assert_eq "$(sql "SELECT state FROM messages WHERE provider_message_id = 'SMvictim0001'")" delivered "applies"

# --- pending receipts match their own sender's message only ---
assert_eq "$(signed /twilio/status rival-token-0000 MessageSid=SMearly0001 MessageStatus=failed From=13579 To=+14155550123)" 200 "an early receipt from the rival"
assert_eq "$(sql "SELECT sender_id FROM delivery_receipts_pending WHERE provider_message_id = 'SMearly0001'")" "$B" "kept pending under the sender that signed it"
sent_msg "$A" SMearly0001
assert_eq "$(sql "SELECT tocsin_receipts_rematch()")" 0 "the sweep does not apply it to another sender's message"
assert_eq "$(sql "SELECT state FROM messages WHERE provider_message_id = 'SMearly0001'")" sent "still sent"
# The worker's record of ids matches the same way (tocsin_record_outcomes).
# (In flight: queued, out of the outbox, in a claim of w1's; schema 034.)
mid=$(sql "SELECT id FROM messages WHERE provider_message_id = 'SMearly0001'")
sql "UPDATE messages SET state = 'queued', provider_message_id = NULL WHERE id = $mid;
     DELETE FROM outbox WHERE id = $mid;
     INSERT INTO claims (worker, message_ids, lo, hi, open, blasts, lease_until)
     VALUES ('w1', ARRAY[$mid]::bigint[], $mid, $mid, 1, false, now() + interval '1 minute')" >/dev/null
sql "SELECT tocsin_record_outcomes('w1', ARRAY[$mid]::bigint[], ARRAY['sent'], ARRAY['SMearly0001'], ARRAY[NULL]::text[], ARRAY[NULL]::text[], ARRAY[0], ARRAY[false])" >/dev/null
assert_eq "$(sql "SELECT state FROM messages WHERE id = $mid")" sent "recording the id does not apply another sender's pending receipt"
assert_eq "$(signed /twilio/status "$T" MessageSid=SMearly0002 MessageStatus=delivered From=24680 To=+14155550123)" 200 "an early receipt of our own"
sent_msg "$A" SMearly0002
assert_eq "$(sql "SELECT tocsin_receipts_rematch()")" 1 "the sweep applies a sender's own pending receipt"
assert_eq "$(sql "SELECT state FROM messages WHERE provider_message_id = 'SMearly0002'")" delivered "delivered"

# --- the pending table is bounded ---
sql "DELETE FROM delivery_receipts_pending" >/dev/null
sql "INSERT INTO delivery_receipts_pending (provider, provider_message_id, sender_id, status, received_at)
     SELECT 'twilio', 'SMold' || g, $B, 'delivered', now() - interval '25 hours' FROM generate_series(1, 5) g" >/dev/null
sql "INSERT INTO delivery_receipts_pending (provider, provider_message_id, sender_id, status, received_at)
     SELECT 'twilio', 'SMflood' || g, $B, 'delivered', now() - (g || ' ms')::interval FROM generate_series(1, 10000) g" >/dev/null
assert_eq "$(sql "SELECT tocsin_apply_receipt('twilio', 'SMflood-more', $B, 'delivered', NULL, NULL)")" dropped \
  "a sender at its cap of pending receipts: the new one is dropped"
assert_eq "$(sql "SELECT tocsin_apply_receipt('twilio', 'SMmine', $A, 'delivered', NULL, NULL)")" pending \
  "another sender is not held back by it"
sql "INSERT INTO delivery_receipts_pending (provider, provider_message_id, sender_id, status)
     SELECT 'twilio', 'SMover' || g, $B, 'delivered' FROM generate_series(1, 7) g" >/dev/null
sql "SELECT tocsin_receipts_rematch()" >/dev/null
assert_eq "$(sql "SELECT count(*) FROM delivery_receipts_pending WHERE received_at < now() - interval '1 day'")" 0 "the sweep drops receipts older than a day"
assert_eq "$(sql "SELECT count(*) FROM delivery_receipts_pending WHERE sender_id = $B")" 10000 "and trims a sender to its newest 10000"
assert_eq "$(sql "SELECT count(*) FROM delivery_receipts_pending WHERE sender_id = $B AND provider_message_id LIKE 'SMover%'")" 7 "keeping the newest"
assert_eq "$(sql "SELECT count(*) FROM delivery_receipts_pending WHERE sender_id = $A")" 1 "the other sender's receipt stays"

# --- a receipt spooled by an older gateway: 5 fields, no sender ---
kill -TERM "$GW"; wait "$GW" || fail "gateway stops cleanly"
sent_msg "$A" SMlegacy0001
sent_msg "$A" SMcurrent0001
# spool_records KIND:FIELD|FIELD|... : records as gateway/spool.c writes
# them ("\N" is NULL): TSP1, payload length, CRC-32C, kind, count, fields.
spool_records() {
  node -e '
    const t = new Uint32Array(256).map((_, i) => { let c = i; for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82F63B78 : c >>> 1; return c >>> 0; });
    const crc = (c, b) => { c = ~c >>> 0; for (const x of b) c = (t[(c ^ x) & 0xff] ^ (c >>> 8)) >>> 0; return ~c >>> 0; };
    const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v >>> 0); return b; };
    const out = process.argv.slice(1).map((r) => {
      const [kind, rest] = r.split(":"); const fields = rest.split("|");
      const parts = [Buffer.from([Number(kind), fields.length])];
      for (const f of fields) {
        if (f === "\\N") { parts.push(u32(0xFFFFFFFF)); continue; }
        parts.push(u32(Buffer.byteLength(f)), Buffer.from(f + "\0"));
      }
      const payload = Buffer.concat(parts), len = u32(payload.length);
      return Buffer.concat([Buffer.from("TSP1"), len, u32(crc(crc(0, len), payload)), payload]);
    });
    process.stdout.write(Buffer.concat(out));' "$@"
}
mkdir -p "$TMP/spool"
spool_records '2:twilio|SMlegacy0001|failed|30007|\N' "2:twilio|SMcurrent0001|$A|delivered|\N|\N" >"$TMP/spool/gateway.spool"
TOCSIN_GATEWAY_PORT=$GW_PORT "$BIN/gateway/tocsin-gateway" >>"$TMP/gateway.log" 2>&1 & GW=$!; TEST_PIDS+=($GW)
wait_http "http://127.0.0.1:$GW_PORT/healthz"
wait_until 60 "the spool to drain" test ! -s "$TMP/spool/gateway.spool"
assert_eq "$(sql "SELECT state FROM messages WHERE provider_message_id = 'SMcurrent0001'")" delivered "a current record is applied"
assert_eq "$(sql "SELECT state || ' ' || coalesce(error_code, '-') FROM messages WHERE provider_message_id = 'SMlegacy0001'")" "sent -" \
  "a receipt without its sender is not applied"
assert_contains "$(cat "$TMP/spool/gateway.spool.rejected")" SMlegacy0001 "it is kept aside for the operator"
grep -q 'event=spool_record_rejected kind=receipt message_id=SMlegacy0001 reason="written by an older gateway' "$TMP/gateway.log" ||
  fail "and logged"
kill -TERM "$GW"; wait "$GW" || fail "gateway stops cleanly"
echo "test_receipt_scope: ok"
