#!/usr/bin/env bash
# Outreach in a real browser, end to end (tests/browser/outreach.mjs:
# playwright-core and Debian's chromium): a volunteer claims a batch and
# sends three initial messages with the Enter key, a member's reply comes
# through the carrier simulator and tocsin-gateway and shows up live, and
# she records the answer. A real tocsin-worker sends against the
# simulator, which must have received exactly those three messages. Then
# double clicks, a held Enter and a double tap: one message per gesture.
# Screenshots at phone and desktop widths land in screenshots/.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dashboard_lib.sh"
browser_setup

# The carrier simulator, the gateway it posts members' texts to, a worker.
GW_PORT=$(free_port)
SIM_PORT=$(free_port)
SIM="http://127.0.0.1:$SIM_PORT"
"$BIN/ops/tocsin-carrier-sim" --port "$SIM_PORT" --gateway "http://127.0.0.1:$GW_PORT" \
  --receipt-delay-ms 100 >"$TMP/sim.log" 2>&1 & TEST_PIDS+=($!)
TOCSIN_GATEWAY_PORT=$GW_PORT TOCSIN_PUBLIC_URL="http://127.0.0.1:$GW_PORT" \
  "$BIN/gateway/tocsin-gateway" >"$TMP/gateway.log" 2>&1 & TEST_PIDS+=($!)
wait_http "$SIM/healthz"
wait_http "http://127.0.0.1:$GW_PORT/healthz"
sql "UPDATE senders SET base_url = '$SIM'" >/dev/null
TOCSIN_WORKER_POLL_MS=200 TOCSIN_WORKER_METRICS_PORT=$(free_port) TOCSIN_WORKER_ID=w-outreach \
  "$BIN/worker/tocsin-worker" >"$TMP/worker.log" 2>&1 & TEST_PIDS+=($!)

# A campaign with a question, and an audience of five in a zone where it
# is midday now (Etc/GMT-N is UTC+N).
h=$(date -u +%-H); off=$(( (12 - h + 48) % 24 )); [ $off -gt 12 ] && off=$((off - 24))
if [ $off -eq 0 ]; then DAY=Etc/GMT; elif [ $off -gt 0 ]; then DAY="Etc/GMT-$off"; else DAY="Etc/GMT+$((-off))"; fi
LEAD=$(sql "SELECT id FROM users WHERE email = 'lead@demo.test'")
CAMP=$(sql "SELECT body->>'id' FROM tocsin_outreach_create($ORG, $LEAD, 'Saturday rally', $SENDER,
            'Hi {first_name|friend}, it''s Val from the tenants union. Can you come Saturday?', 3, NULL, NULL)")
sql "UPDATE outreach_campaigns SET state = 'active' WHERE id = $CAMP" >/dev/null # a new one is a draft
sql "SELECT status FROM tocsin_outreach_step_add($ORG, $CAMP, 'Coming Saturday?',
     '[{\"label\":\"Yes\",\"next_script\":\"Great, {first_name}! Doors open at 10.\"},{\"label\":\"No\"},{\"label\":\"Maybe\"}]')" >/dev/null
printf 'phone,first_name,last_name,timezone\n+14155550301,Ana,Ruiz,%s\n+14155550302,Bo,,%s\n+14155550303,,,%s\n+14155550304,Dee,Lopez,%s\n+14155550305,Eve,,%s\n' \
  "$DAY" "$DAY" "$DAY" "$DAY" "$DAY" >"$TMP/audience.csv"
"$BIN/ops/tocsinctl" contacts import --org demo --outreach "$CAMP" "$TMP/audience.csv" >"$TMP/import.out"
assert_contains "$(cat "$TMP/import.out")" "targeted=5 outreach=$CAMP" "tocsinctl imports the audience as targets"

browser_run outreach.mjs SIM="$SIM" CAMP="$CAMP"

V1=$(sql "SELECT id FROM users WHERE email = 'vol1@demo.test'")
assert_eq "$(sql "SELECT count(*) FROM messages WHERE purpose = 'outreach' AND sent_by_user_id = $V1")" 3 "three outreach messages, by volunteer 1"
assert_eq "$(sql "SELECT string_agg(to_phone, ' ' ORDER BY to_phone) FROM messages WHERE purpose = 'outreach'")" \
  "+14155550301 +14155550302 +14155550303" "to the first three of her batch"
# The worker sends them; the simulator got exactly those three texts.
wait_sql "SELECT count(*) FROM messages WHERE purpose = 'outreach' AND state IN ('sent', 'delivered')" 3
out=$(curl -s "$SIM/sim/messages" | node -e '
  const m = JSON.parse(require("fs").readFileSync(0, "utf8")).messages.filter((x) => x.direction === "outbound");
  process.stdout.write(m.map((x) => `${x.to}|${x.body}`).sort().join("\n"))')
expected=$(sql "SELECT to_phone || '|' || body FROM messages WHERE purpose = 'outreach' ORDER BY to_phone")
assert_eq "$out" "$expected" "the simulator received exactly the three messages the volunteer sent"
assert_eq "$(sql "SELECT count(*) FROM outreach_answers a JOIN outreach_choices c ON c.id = a.choice_id WHERE c.label = 'Yes' AND a.recorded_by = $V1")" 1 \
  "her answer is recorded"
assert_screenshots outreach-send-phone outreach-send-desktop outreach-conversation-phone outreach-conversation-desktop outreach-lead-desktop outreach-lead-phone

# One message per deliberate gesture (tests/browser/outreach_gestures.mjs):
# double clicks, two clicks 120 ms apart, a held Enter and a double tap
# each text one contact; the browser never even asks for the second.
CAMP2=$(sql "SELECT body->>'id' FROM tocsin_outreach_create($ORG, $LEAD, 'Gestures', $SENDER,
             'Hi {first_name}, it''s Val. Can you come Saturday?', 4, NULL, NULL)")
sql "UPDATE outreach_campaigns SET state = 'active' WHERE id = $CAMP2" >/dev/null
{ echo phone,first_name,timezone; i=10; for n in Gil Hal Ida Jo Kai Lu Mo Ned; do echo "+141555504$i,$n,$DAY"; i=$((i + 1)); done; } >"$TMP/gestures.csv"
"$BIN/ops/tocsinctl" contacts import --org demo --outreach "$CAMP2" "$TMP/gestures.csv" >/dev/null
refused=$(sql "SELECT count(*) FROM audit_events WHERE action = 'outreach.send_refused'")
browser_run outreach_gestures.mjs CAMP2="$CAMP2"
assert_eq "$(sql "SELECT string_agg(c.first_name || ':' || (SELECT count(*) FROM messages m WHERE m.to_phone = c.phone), ' ' ORDER BY c.phone)
                  FROM outreach_targets t JOIN contacts c ON c.id = t.contact_id WHERE t.campaign_id = $CAMP2")" \
  "Gil:1 Hal:1 Ida:1 Jo:1 Kai:1 Lu:1 Mo:0 Ned:0" "one message per gesture, none to a contact nobody chose"
assert_eq "$(sql "SELECT count(*) FROM audit_events WHERE action = 'outreach.send_refused'")" "$refused" \
  "the browser sent no second request for the server to refuse"

# A lead's campaign page keeps working after its first action, shows every
# result and live counts (tests/browser/outreach_lead.mjs), at both widths.
browser_run outreach_lead.mjs DAY="$DAY"
assert_eq "$(sql "SELECT string_agg(c.name || ':' || (SELECT count(*) FROM outreach_targets t WHERE t.campaign_id = c.id), ' ' ORDER BY c.id)
                  FROM outreach_campaigns c WHERE c.name LIKE 'Canvass %'")" "Canvass Desk:3 Canvass Phone:2" \
  "each upload went to its own campaign"
echo "test_outreach_browser: ok"
