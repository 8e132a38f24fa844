#!/usr/bin/env bash
# The dashboard in a real browser (tests/browser/inbox.mjs: playwright-core
# and Debian's chromium, both installed by ops/install-deps): a volunteer
# logs in, claims conversations, answers one with a canned response (the
# message row is queued, and a real worker sends it to the carrier
# simulator), watches it show sending and, released by a worker, waiting
# to send again (live), sees a new reply live and opts a member out.
# Screenshots land in the build folder's screenshots/.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dashboard_lib.sh"
browser_setup
member_writes +14155550201 "Is the meeting still on?" >/dev/null
member_writes +14155550202 '<script>window.__xss=2</script>' >/dev/null
member_writes +14155550203 "Please stop texting me" true >/dev/null
sql "UPDATE contacts SET first_name = 'Ana', last_name = 'Ruiz', fields = '{\"ward\": \"7\", \"language\": \"es\"}' WHERE phone = '+14155550201'"
sql "UPDATE contacts SET first_name = '<img src=x onerror=window.__xss=1>' WHERE phone = '+14155550202'"
sql "UPDATE contacts SET first_name = 'Bo' WHERE phone = '+14155550203'"
sql "INSERT INTO canned_responses (org_id, title, body) VALUES ($ORG, 'Thanks', 'Thanks {first_name}, see you Saturday!'),
     ($ORG, 'Time', 'We start at 10am at the library.')"
V1=$(sql "SELECT id FROM users WHERE email = 'vol1@demo.test'")
browser_run inbox.mjs
row=$(sql "SELECT lane, purpose, state, sent_by_user_id, to_phone, encoding, segments FROM messages
            WHERE body = 'Thanks Ana, see you Saturday!'")
assert_eq "$row" "conversational|reply|queued|$V1|+14155550201|GSM-7|1" "the browser's reply is queued for the worker"
assert_eq "$(sql "SELECT count(*) FROM messages WHERE to_phone = '+14155550202'")" 0 "nothing sent to the opted-out member"
assert_eq "$(sql "SELECT likely_opt_out FROM conversations c JOIN contacts ct ON ct.id = c.contact_id WHERE ct.first_name = 'Bo'")" f "Bo's flag cleared"
assert_eq "$(sql "SELECT count(*) FROM opt_outs WHERE phone = '+14155550203'")" 0 "and Bo not opted out"

# The worker sends the browser's reply to the carrier, once.
SIM_PORT=$(free_port)
"$BIN/ops/tocsin-carrier-sim" --port "$SIM_PORT" --gateway "http://127.0.0.1:$(free_port)" >"$TMP/sim.log" 2>&1 &
TEST_PIDS+=($!)
wait_http "http://127.0.0.1:$SIM_PORT/healthz"
sql "UPDATE senders SET base_url = 'http://127.0.0.1:$SIM_PORT'"
TOCSIN_WORKER_METRICS_PORT=$(free_port) TOCSIN_WORKER_POLL_MS=200 "$BIN/worker/tocsin-worker" >"$TMP/worker.log" 2>&1 &
TEST_PIDS+=($!)
wait_sql "SELECT state FROM messages WHERE body = 'Thanks Ana, see you Saturday!'" sent
got=$(curl -s "http://127.0.0.1:$SIM_PORT/sim/count" --get --data-urlencode 'to=+14155550201' \
      --data-urlencode 'body=Thanks Ana, see you Saturday!' | sed -E 's/.*"count":([0-9]+).*/\1/')
assert_eq "$got" 1 "the carrier received the browser's reply once"
assert_eq "$(curl -s "http://127.0.0.1:$SIM_PORT/sim/messages?to=+14155550202" | grep -c '"direction":"outbound"')" 0 "nothing reached the opted-out member"

assert_screenshots dashboard-inbox-phone dashboard-conversation-phone dashboard-inbox-desktop dashboard-conversation-desktop
echo "test_dashboard_browser: ok"
