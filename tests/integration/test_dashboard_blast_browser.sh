#!/usr/bin/env bash
# A lead's blast in a real browser (tests/browser/blast.mjs) with a real
# tocsin-worker and the carrier simulator: a CSV imported through the
# page, a blast composed with a field, confirmed and sent now, the
# progress view reaching "Done" live over the event stream; the simulator then holds exactly one message per
# recipient, rendered for each, and none for the opted-out member.
# Screenshots land in the build folder's screenshots/.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dashboard_lib.sh"
browser_setup
SIM_PORT=$(free_port)
SIM="http://127.0.0.1:$SIM_PORT"
"$BIN/ops/tocsin-carrier-sim" --port "$SIM_PORT" --gateway "http://127.0.0.1:$(free_port)" \
  --receipt-delay-ms 100 >"$TMP/sim.log" 2>&1 & TEST_PIDS+=($!)
wait_http "$SIM/healthz"
sql "UPDATE senders SET base_url = '$SIM', messages_per_second = 1" >/dev/null
sql "INSERT INTO opt_outs (org_id, phone, source) VALUES ($ORG, '+14155550406', 'admin')" >/dev/null
# Quiet hours: the worker's clock at 20:00 UTC tomorrow (midday in the US).
fake_now=$(date -u -d 'tomorrow 20:00' +%s)
env TOCSIN_WORKER_POLL_MS=200 TOCSIN_WORKER_FAKE_NOW="$fake_now" TOCSIN_WORKER_METRICS_PORT="$(free_port)" \
  TOCSIN_WORKER_ID=w-browser "$BIN/worker/tocsin-worker" >"$TMP/worker.log" 2>&1 &
TEST_PIDS+=($!)
CSV='phone,first_name,last_name
4155550401,<img src=x onerror=window.__xss=1>,Xss
4155550402,Ana,Ruiz
4155550403,,Nameless
4155550404,Bo,Diaz
4155550405,Zoë Marie-Christine,Lee
4155550406,Opted,Out
not-a-phone,Bad,Row
'
out=$(browser_run blast.mjs CSV="$CSV" ORG="$ORG" SENDER="$SENDER")
echo "$out"
B=$(sed -n 's/^BLAST_ID=//p' <<<"$out")
[ -n "$B" ] || fail "no blast id"
assert_eq "$(sql "SELECT state || ' ' || recipients FROM blasts WHERE id = $B")" "completed 5" "the blast completed for 5 (Bo opted out after joining; Dee joined by keyword)"
curl -s "$SIM/sim/messages" >"$TMP/sim.json"
per=$(node -e '
  const m = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).messages
    .filter((x) => x.direction === "outbound" && x.body.includes("the rally starts"));
  const by = {}; for (const x of m) by[x.to] = (by[x.to] || 0) + 1;
  process.stdout.write(Object.keys(by).sort().map((k) => `${k}:${by[k]}`).join(" "))' "$TMP/sim.json")
assert_eq "$per" "+14155550401:1 +14155550402:1 +14155550403:1 +14155550405:1 +14155550407:1" "exactly one message per recipient, none to the opted-out member"
assert_eq "$(curl -s "$SIM/sim/count" --get --data-urlencode 'to=+14155550402' \
   --data-urlencode 'body=Hi Ana, the rally starts Saturday at 10. See you there!' | jq .count)" 1 "rendered for Ana"
assert_eq "$(curl -s "$SIM/sim/count" --get --data-urlencode 'to=+14155550403' \
   --data-urlencode 'body=Hi friend, the rally starts Saturday at 10. See you there!' | jq .count)" 1 "the fallback for a member without a name"
assert_eq "$(sql "SELECT string_agg(action, ',' ORDER BY id) FROM audit_events WHERE subject_type = 'blast' AND subject_id = $B")" \
  "blast.create,blast.schedule" "the lead's actions audited"
C=$(sed -n 's/^CANCELLED_ID=//p' <<<"$out")
assert_eq "$(sql "SELECT state FROM blasts WHERE id = $C")" cancelled "the scheduled blast was cancelled from the page"
assert_eq "$(sql "SELECT count(*) FROM audit_events WHERE subject_type = 'blast' AND subject_id = $C AND action = 'blast.cancel'")" 1 "its cancel audited"
assert_eq "$(sql "SELECT keyword || ' ' || (reply LIKE 'Tocsin Demo Chapter%') FROM keywords WHERE keyword LIKE 'RALLY%'")" "RALLY true" "only the compliant keyword was saved"
assert_screenshots dashboard-blast-compose-phone dashboard-blast-confirm-phone dashboard-blast-compose-desktop dashboard-blast-progress-phone dashboard-blast-progress-desktop
echo "test_dashboard_blast_browser: ok"
