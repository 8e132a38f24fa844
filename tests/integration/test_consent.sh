#!/usr/bin/env bash
# Consent end to end, through the carrier simulator, a live gateway and a
# worker, read from the phones' side (the simulator's phone view):
#  - STOP is confirmed exactly once on both kinds of sender: a standalone
#    short code (the carrier does not filter: Tocsin confirms, and no 21610
#    comes back) and a Twilio long code with the carrier's default opt-out
#    handling (the carrier confirms, Tocsin queues nothing), and the same
#    for START and HELP there; Spanish words, which the carrier does not
#    know, are Tocsin's to answer;
#  - tocsinctl sender show / opt-out;
#  - keywords whatever the spelling ("¡Únete!", fullwidth, curly quotes);
#  - START gives back exactly the subscriptions STOP ended and says so;
#  - replies go in the member's language (the keyword they joined with, or
#    their last reserved word in a language).
source "$(dirname "$0")/lib.sh"
fresh_db
export TOCSIN_SECRET_KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
export TOCSIN_WORKER_POLL_MS=200
CTL="$BIN/ops/tocsinctl"
"$CTL" migrate >/dev/null
"$CTL" demo-seed >/dev/null
GW_PORT=$(free_port)
SIM_PORT=$(free_port)
SIM="http://127.0.0.1:$SIM_PORT"
export TOCSIN_PUBLIC_URL="http://127.0.0.1:$GW_PORT"
TOCSIN_GATEWAY_PORT=$GW_PORT "$BIN/gateway/tocsin-gateway" >"$TMP/gateway.log" 2>&1 & TEST_PIDS+=($!)
"$BIN/ops/tocsin-carrier-sim" --port "$SIM_PORT" --gateway "http://127.0.0.1:$GW_PORT" \
  --receipt-delay-ms 50 >"$TMP/sim.log" 2>&1 & TEST_PIDS+=($!)
wait_http "http://127.0.0.1:$GW_PORT/healthz"
wait_http "$SIM/healthz"
LONG=+14155550142
echo 7c0c51a0000000000000000000000000 | "$CTL" sender add --org demo --address "$LONG" --provider twilio \
  --account-sid AC7c0c51a0000000000000000000000000 --mps 10 --auth-token-stdin >/dev/null
sql "UPDATE senders SET base_url = '$SIM'" >/dev/null
env TOCSIN_WORKER_METRICS_PORT="$(free_port)" TOCSIN_WORKER_ID=w-consent \
  "$BIN/worker/tocsin-worker" >"$TMP/worker.log" 2>&1 & TEST_PIDS+=($!)

# Who answers STOP: the defaults by kind and provider, shown and set.
out=$("$CTL" sender show --address 24680)
assert_contains "$out" "opt-out handling  program (default for a twilio short_code)" "short code default"
out=$("$CTL" sender show --address "$LONG")
assert_contains "$out" "opt-out handling  carrier (default for a twilio long_code)" "long code default"
assert_contains "$("$CTL" sender opt-out --address "$LONG" --handled-by program)" "opt-out handling  program (set)" "set"
assert_contains "$("$CTL" sender opt-out --address "$LONG" --handled-by default)" "carrier (default" "back to the default"
rc=0; "$CTL" sender opt-out --address "$LONG" --handled-by nobody >/dev/null 2>&1 || rc=$?
assert_eq "$rc" 2 "a bad value is a usage error"
rc=0; "$CTL" sender show --address 99999 >/dev/null 2>&1 || rc=$?
assert_eq "$rc" 1 "an unknown sender"

# text TO FROM BODY: a member texts a sender through the simulator.
text() {
  local out
  out=$(curl -s -XPOST "$SIM/sim/inbound" -d "$(jq -nc --arg f "$2" --arg t "$1" --arg b "$3" '{from: $f, to: $t, body: $b}')")
  assert_contains "$out" '"gateway_status":200' "\"$3\" from $2 accepted"
}
# phone NUMBER: what the phone received, as JSON lines {sent_by, body}.
phone() { curl -s "$SIM/sim/phones/$1" | jq -c '.messages[] | select(.direction == "outbound") | {sent_by, body}'; }
# wait_phone NUMBER N: until the phone received N messages and nothing more
# is on its way to it (queued or being sent); then it has exactly N.
received_ge() { WAIT_LAST=$(phone "$1" | wc -l); [ "$WAIT_LAST" -ge "$2" ]; }
wait_phone() {
  wait_until 60 "$1 to receive $2 message(s)" received_ge "$1" "$2"
  wait_sql "SELECT count(*) FROM messages WHERE to_phone = '$1' AND state IN ('queued', 'sending')" 0
  [ "$(phone "$1" | wc -l)" -eq "$2" ] || fail "$1 should have received $2 messages, got: $(phone "$1")"
}
confirmations() { phone "$1" | grep -ci -e unsubscribed -e "de baja" || true; }

# 1. STOP on the short code: Tocsin confirms, once; nothing refused.
P1=+14155550301
text 24680 $P1 JOIN
wait_phone $P1 1
text 24680 $P1 $'\xc2\xa1STOP!'
wait_phone $P1 2
assert_eq "$(confirmations $P1)" 1 "one STOP confirmation on the short code"
assert_eq "$(phone $P1 | tail -1 | jq -r .sent_by)" program "from Tocsin"
text 24680 $P1 "STOP"
wait_phone $P1 2
assert_eq "$(sql "SELECT count(*) FROM messages WHERE to_phone = '$P1' AND error_code = '21610'")" 0 "no 21610 for Tocsin's confirmation"
assert_eq "$(sql "SELECT state FROM messages WHERE to_phone = '$P1' AND purpose = 'opt_out_confirmation'")" delivered "delivered"

# 2. STOP on a Twilio long code with the carrier's opt-out handling: the
#    carrier confirms, Tocsin queues nothing, later messages are refused.
P2=+14155550302
text $LONG $P2 JOIN
wait_phone $P2 1
text $LONG $P2 $'Stop\xe2\x80\xa6 \xf0\x9f\x9b\x91'
wait_phone $P2 2
assert_eq "$(confirmations $P2)" 1 "one STOP confirmation on the long code"
assert_eq "$(phone $P2 | tail -1 | jq -r .sent_by)" carrier "from the carrier"
assert_eq "$(sql "SELECT count(*) FROM messages WHERE to_phone = '$P2' AND purpose = 'opt_out_confirmation'")" 0 "Tocsin queued none"
assert_eq "$(sql "SELECT count(*) FROM opt_outs WHERE phone = '$P2'")" 1 "but recorded the opt-out"
# START and HELP on the long code: the carrier answers those as well, so
# Tocsin sends nothing of its own (one answer each, in every spelling), yet
# still applies them (START clears the opt-out and gives the lists back).
text $LONG $P2 $'\xe2\x80\x9cStart\xe2\x80\x9d'
wait_phone $P2 3
assert_eq "$(phone $P2 | tail -1 | jq -r .sent_by)" carrier "START answered by the carrier"
assert_eq "$(sql "SELECT count(*) FROM opt_outs WHERE phone = '$P2'")" 0 "START cleared the opt-out"
assert_eq "$(sql "SELECT count(*) FROM subscriptions s JOIN contacts c ON c.id = s.contact_id WHERE c.phone = '$P2' AND s.unsubscribed_at IS NULL")" 1 \
  "START gave the list back"
n=3
for body in help "Info." $'\xc2\xa1HELP!' " Help " unstop YES; do
  n=$((n + 1))
  text $LONG $P2 "$body"
  wait_phone $P2 $n
  assert_eq "$(phone $P2 | tail -1 | jq -r .sent_by)" carrier "\"$body\" answered by the carrier only"
done
assert_eq "$(sql "SELECT count(*) FROM messages WHERE to_phone = '$P2' AND purpose IN ('help', 'confirmation')")" 1 \
  "Tocsin's only answer on the long code was the JOIN confirmation"
text $LONG $P2 $'\xc2\xa1Ayuda!'
wait_phone $P2 $((n + 1))
assert_eq "$(phone $P2 | tail -1 | jq -r .sent_by)" program "AYUDA, which the carrier does not know, is Tocsin's"
# A Spanish word is Tocsin's to confirm even there (the carrier knows English).
P3=+14155550303
text $LONG $P3 UNETE
wait_phone $P3 1
text $LONG $P3 $'\xc2\xa1Alto!'
wait_phone $P3 2
assert_eq "$(confirmations $P3)" 1 "one ALTO confirmation on the long code"
assert_eq "$(phone $P3 | tail -1 | jq -r .sent_by)" program "from Tocsin, as the carrier does not know ALTO"
assert_contains "$(phone $P3 | tail -1)" "te diste de baja" "in Spanish"
# The same long code set to program handling behaves like a short code.
"$CTL" sender opt-out --address "$LONG" --handled-by program >/dev/null
curl -s -XPOST "$SIM/sim/senders" -d "{\"number\": \"$LONG\", \"opt_out_handling\": \"program\"}" >/dev/null
P4=+14155550304
text $LONG $P4 JOIN
wait_phone $P4 1
text $LONG $P4 "stop"
wait_phone $P4 2
assert_eq "$(phone $P4 | tail -1 | jq -r .sent_by)" program "program handling: Tocsin confirms"
"$CTL" sender opt-out --address "$LONG" --handled-by default >/dev/null
curl -s -XPOST "$SIM/sim/senders" -d "{\"number\": \"$LONG\", \"opt_out_handling\": \"carrier\"}" >/dev/null

# 2b. Keywords in the spellings phones produce subscribe.
i=0
for body in $'\xc2\xa1\xc3\x9anete!' $'\xc3\x9aNETE' $'\xc3\xbanete' $'\xc2\xa1Unete!' $'U\xcc\x81nete' \
            $'\xef\xbc\xb5\xef\xbc\xae\xef\xbc\xa5\xef\xbc\xb4\xef\xbc\xa5' $'\xe2\x80\x9cJoin\xe2\x80\x9d' $'\xc2\xa0join \xf0\x9f\x99\x8b'; do
  i=$((i + 1))
  p=+141555504$(printf '%02d' $i)
  text 24680 "$p" "$body"
  assert_eq "$(sql "SELECT count(*) FROM subscriptions s JOIN contacts c ON c.id = s.contact_id WHERE c.phone = '$p' AND s.unsubscribed_at IS NULL")" 1 "\"$body\" subscribes"
done
text 24680 +14155550499 $'Don\xe2\x80\x99t text me anymore'
assert_eq "$(sql "SELECT likely_opt_out FROM conversations v JOIN contacts c ON c.id = v.contact_id WHERE c.phone = '+14155550499'")" t \
  "a curly-quote revocation is flagged"

# 4. START gives back exactly what STOP ended, and says so.
P5=+14155550305
text 24680 $P5 JOIN
text 24680 $P5 UNETE
wait_phone $P5 2
sql "INSERT INTO lists (org_id, name) SELECT id, 'left-earlier' FROM orgs WHERE slug = 'demo';
     INSERT INTO subscriptions (org_id, list_id, contact_id, source, unsubscribed_at)
     SELECT l.org_id, l.id, c.id, 'api', now() - interval '1 day' FROM lists l, contacts c
      WHERE l.name = 'left-earlier' AND c.phone = '$P5'" >/dev/null
text 24680 $P5 STOP
wait_phone $P5 3
subs() { sql "SELECT string_agg(l.name, ',' ORDER BY l.name) FROM subscriptions s JOIN lists l ON l.id = s.list_id JOIN contacts c ON c.id = s.contact_id WHERE c.phone = '$1' AND s.unsubscribed_at IS NULL"; }
assert_eq "$(subs $P5)" "" "STOP ended every subscription"
text 24680 $P5 START
wait_phone $P5 4
assert_eq "$(subs $P5)" "members,miembros" "START gave back what STOP ended, not the list left earlier"
assert_contains "$(phone $P5 | tail -1)" "vuelves a recibir nuestros mensajes de: members, miembros" "and says which (in Spanish: UNETE was the last keyword)"
assert_eq "$(sql "SELECT count(*) FROM consent_events WHERE phone = '$P5' AND event = 'opt_in' AND list_id IS NOT NULL")" 4 \
  "consent recorded per list given back (2 joins + 2 restored)"
text 24680 $P5 "STOP"
text 24680 $P5 "UNSTOP"
wait_phone $P5 6
assert_eq "$(subs $P5)" "members,miembros" "a second cycle gives back the same"
P6=+14155550306
text 24680 $P6 STOP
wait_phone $P6 1
text 24680 $P6 START
wait_phone $P6 2
assert_contains "$(phone $P6 | tail -1)" "you are on no list" "START with nothing to give back says so"
assert_eq "$(subs $P6)" "" "and gives nothing"
# An opt-out that ended nothing (the carrier's 21610) left the lists: START
# names them.
P10=+14155550310
text 24680 $P10 JOIN
wait_phone $P10 1
sql "INSERT INTO opt_outs (org_id, phone, source, evidence) SELECT id, '$P10', 'carrier', 'carrier error 21610' FROM orgs;
     INSERT INTO consent_events (org_id, phone, event, source, evidence) SELECT id, '$P10', 'opt_out', 'carrier', '21610' FROM orgs" >/dev/null
text 24680 $P10 YES
wait_phone $P10 2
assert_contains "$(phone $P10 | tail -1)" "you are subscribed again to: members." "START names the lists kept"
# START's texts carry an opt-in confirmation's CTIA parts in both languages.
for lang in en es; do
  reply=$(sql "SELECT tocsin_consent_reply(id, 'opt_in', '$lang', ARRAY['members']) FROM orgs")
  "$CTL" keyword add --org demo --keyword "CHECK$lang" --list members --reply "$reply" >/dev/null ||
    fail "START's $lang text misses a CTIA part: $reply"
done

# 5. The member's language: the keyword they joined with, or their last
#    reserved word in a language; STOP, HELP and START keep it.
P7=+14155550307
text 24680 $P7 UNETE
wait_phone $P7 1
text 24680 $P7 HELP
wait_phone $P7 2
assert_contains "$(phone $P7 | tail -1)" "tarifas de mensajes y datos" "HELP after UNETE in Spanish"
assert_contains "$(phone $P7 | tail -1)" "ALTO" "Spanish HELP says how to stop"
text 24680 $P7 STOP
wait_phone $P7 3
assert_contains "$(phone $P7 | tail -1)" "te diste de baja" "STOP after UNETE in Spanish"
text 24680 $P7 START
wait_phone $P7 4
assert_contains "$(phone $P7 | tail -1)" "vuelves a recibir nuestros mensajes de: miembros" "START in Spanish"
P8=+14155550308
text 24680 $P8 JOIN
wait_phone $P8 1
text 24680 $P8 $'\xc2\xbfAyuda?'
wait_phone $P8 2
assert_contains "$(phone $P8 | tail -1)" "Responde ALTO" "AYUDA from an English member in Spanish"
text 24680 $P8 "INFO"
wait_phone $P8 3
assert_contains "$(phone $P8 | tail -1)" "tarifas" "then remembered"
text 24680 $P8 "Cancel"
wait_phone $P8 4
assert_contains "$(phone $P8 | tail -1)" "you are unsubscribed" "an English word switches back"
P9=+14155550309
text 24680 $P9 JOIN
wait_phone $P9 1
text 24680 $P9 HELP
wait_phone $P9 2
assert_contains "$(phone $P9 | tail -1)" "Tocsin Demo Chapter alerts" "an English member gets the org's HELP text"
assert_eq "$(sql "SELECT string_agg(coalesce(language, '-'), ',' ORDER BY phone) FROM contacts WHERE phone IN ('$P7', '$P8', '$P9')")" "es,en,en" \
  "languages remembered"
# A keyword's language: read from its confirmation, or given.
assert_eq "$(sql "SELECT string_agg(keyword || '=' || language, ',' ORDER BY keyword) FROM keywords WHERE keyword IN ('JOIN', 'UNETE')")" \
  "JOIN=en,UNETE=es" "read from the confirmations"
"$CTL" keyword add --org demo --keyword VEN --list miembros --language es \
  --reply "Tocsin Demo Chapter: welcome! Up to 4 msgs/mo. Msg&data rates may apply. Reply HELP for help, STOP to cancel." >/dev/null
assert_eq "$(sql "SELECT language FROM keywords WHERE keyword = 'VEN'")" es "given"
rc=0; "$CTL" keyword add --org demo --keyword VENID --list miembros --language fr \
  --reply "Tocsin Demo Chapter: welcome! Up to 4 msgs/mo. Msg&data rates may apply. Reply HELP for help, STOP to cancel." >/dev/null 2>&1 || rc=$?
assert_eq "$rc" 1 "an unknown language is refused"
# An org's own Spanish HELP text.
"$CTL" org create sur --name "Sur Chapter" --help-text-es "Sur Chapter: ayuda en sur@example.org. Mensajes recurrentes. Pueden aplicar tarifas de mensajes y datos. Responde ALTO para cancelar." >/dev/null
assert_contains "$(sql "SELECT tocsin_consent_reply(id, 'help', 'es', '{}') FROM orgs WHERE slug = 'sur'")" "sur@example.org" "the org's Spanish HELP text"
assert_contains "$(sql "SELECT tocsin_consent_reply(id, 'help', 'en', '{}') FROM orgs WHERE slug = 'sur'")" "Sur Chapter: recurring msgs" "and the English default"
