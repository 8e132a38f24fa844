# SPDX-License-Identifier: AGPL-3.0-or-later
# dashboard_lib.sh — sourced after lib.sh by the dashboard's tests: a demo
# org with member replies waiting, a running tocsin-dashboard, and curl
# helpers that keep one cookie jar and CSRF token per login.

# dash_setup [ENV=VALUE...]: fresh database, migrations, the demo org, and
# a dashboard on a free port (DASH = its base URL). Extra settings are
# passed to the dashboard's environment.
dash_setup() {
  fresh_db
  export TOCSIN_SECRET_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
  "$BIN/ops/tocsinctl" migrate >/dev/null
  "$BIN/ops/tocsinctl" demo-seed >/dev/null
  # The demo org as the tests found it before two-factor login (schema
  # 030): admins and leads log in with a password alone. The two-factor
  # tests turn the requirement back on. (A fixture, not an admin's change:
  # nothing audited.)
  no_two_factor demo
  SENDER=$(sql "SELECT id FROM senders LIMIT 1")
  ORG=$(sql "SELECT id FROM orgs WHERE slug = 'demo'")
  DASH_PORT=$(free_port)
  DASH="http://127.0.0.1:$DASH_PORT"
  # As ops/run starts it: without the carrier-credential key.
  env TOCSIN_DASHBOARD_PORT="$DASH_PORT" TOCSIN_DASHBOARD_URL="$DASH" "$@" \
    "$TOCSIN_SOURCE_DIR/ops/daemon-exec" dashboard "$BIN/dashboard/tocsin-dashboard" >"$TMP/dashboard.log" 2>&1 &
  DASH_PID=$!
  TEST_PIDS+=("$DASH_PID")
  wait_http "$DASH/healthz"
}

# no_two_factor SLUG: the org no longer requires two-factor login of its
# admins and leads (docs/accounts.md), as a test fixture, unaudited.
no_two_factor() {
  sql "UPDATE orgs SET require_two_factor = false WHERE slug = '$1'" >/dev/null
}

# member_writes PHONE BODY [LIKELY_OPT_OUT]: a member's reply arrives as the
# gateway stores it (one conversation per number, NOTIFY included).
member_writes() {
  local id="SM$RANDOM$RANDOM$RANDOM"
  sql "SELECT conversation_id FROM tocsin_receive_inbound('twilio', '$id', $SENDER, '$1',
       \$b\$$2\$b\$, 0, 'reply', NULL, ${3:-false}, NULL, NULL, NULL)"
}

# outreach_answered CONVERSATION VOLUNTEER_ID TEXT: an outreach campaign
# "Rally" whose text TEXT, sent by the volunteer, opened the conversation
# (its newest message now), with one question "Coming?" (choices Yes, No)
# answered No by her. Sets CAMP, STEP, YES, NO and CONTACT.
outreach_answered() {
  local msg phone
  CAMP=$(sql "INSERT INTO outreach_campaigns (org_id, name, sender_id, script) VALUES ($ORG, 'Rally', $SENDER, 'Rally Saturday?') RETURNING id")
  STEP=$(sql "INSERT INTO outreach_steps (org_id, campaign_id, position, question) VALUES ($ORG, $CAMP, 1, 'Coming?') RETURNING id")
  YES=$(sql "INSERT INTO outreach_choices (org_id, step_id, position, label) VALUES ($ORG, $STEP, 1, 'Yes') RETURNING id")
  NO=$(sql "INSERT INTO outreach_choices (org_id, step_id, position, label) VALUES ($ORG, $STEP, 2, 'No') RETURNING id")
  CONTACT=$(sql "SELECT contact_id FROM conversations WHERE id = $1")
  phone=$(sql "SELECT phone FROM contacts WHERE id = $CONTACT")
  msg=$(sql "INSERT INTO messages (org_id, sender_id, provider, to_phone, body, encoding, segments, lane, conversation_id)
             VALUES ($ORG, $SENDER, 'twilio', '$phone', \$b\$$3\$b\$, 'GSM-7', 1, 'conversational', $1) RETURNING id")
  sql "INSERT INTO outreach_targets (org_id, campaign_id, contact_id, state, texted_by, texted_at, message_id, conversation_id)
       VALUES ($ORG, $CAMP, $CONTACT, 'texted', $2, now(), $msg, $1);
       INSERT INTO outreach_answers (org_id, campaign_id, contact_id, step_id, choice_id, conversation_id, recorded_by)
       VALUES ($ORG, $CAMP, $CONTACT, $STEP, $NO, $1, $2);
       UPDATE conversations SET last_outbound_at = last_inbound_at + interval '1 minute' WHERE id = $1" >/dev/null
}

# login NAME EMAIL [PASSWORD]: logs in, keeping $TMP/NAME.jar and
# $TMP/NAME.csrf. Prints the HTTP status (202: the password was right and
# a second factor is owed, docs/accounts.md).
login() {
  local out
  out=$(curl -s -c "$TMP/$1.jar" -o "$TMP/$1.login" -w '%{http_code}' -X POST "$DASH/api/login" \
        -H 'Content-Type: application/json' \
        -d "{\"email\":\"$2\",\"password\":\"${3:-tocsin-demo}\"}")
  if [ "$out" = 200 ] || [ "$out" = 202 ]; then
    node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1])).csrf_token)' \
      "$TMP/$1.login" >"$TMP/$1.csrf"
  fi
  echo "$out"
}

# call NAME METHOD PATH [JSON]: as NAME, with its CSRF token; the body goes
# to $TMP/out, the status to stdout.
call() {
  local who=$1 method=$2 path=$3 body=${4:-}
  local args=(-s -b "$TMP/$who.jar" -o "$TMP/out" -w '%{http_code}' -X "$method" "$DASH$path"
              -H "X-CSRF-Token: $(cat "$TMP/$who.csrf" 2>/dev/null)")
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' -d "$body")
  curl "${args[@]}"
}

# jq_ FILTER: a JavaScript expression over the last body (as `d`).
jq_() { node -e "const d = JSON.parse(require('fs').readFileSync('$TMP/out', 'utf8')); const r = ($1); process.stdout.write(typeof r === 'string' ? r : JSON.stringify(r))"; }

# zone_at LOCAL_HOUR: a zone where it is that hour now (Etc/GMT-N is UTC+N),
# for texting hours.
zone_at() {
  local h off
  h=$(date -u +%-H)
  off=$(( ($1 - h + 48) % 24 ))
  [ $off -gt 12 ] && off=$((off - 24))
  if [ $off -eq 0 ]; then echo Etc/GMT; elif [ $off -gt 0 ]; then echo "Etc/GMT-$off"; else echo "Etc/GMT+$((-off))"; fi
}

# browser_check: playwright-core and chromium are installed; BROWSER_DIR is
# tests/browser (its scripts write screenshots to SCREENSHOTS).
browser_check() {
  BROWSER_DIR="$TOCSIN_SOURCE_DIR/tests/browser"
  SCREENSHOTS="$TOCSIN_BUILD_DIR/screenshots"
  [ -d "$BROWSER_DIR/node_modules/playwright-core" ] || fail "playwright-core is not installed: run ops/install-deps"
  [ -x /usr/bin/chromium ] || fail "chromium is not installed: run ops/install-deps"
}

# browser_setup [ENV=VALUE...]: dash_setup for a browser test, after
# browser_check.
browser_setup() {
  browser_check
  dash_setup "$@"
}

# browser_run SCRIPT [NAME=VALUE...]: runs tests/browser/SCRIPT in node,
# with DASH, PSQL, SCREENSHOTS and each NAME=VALUE in its environment; what
# it prints goes to stdout once it ends. Playwright's log of its own calls
# (DEBUG=pw:api) and the script's errors go to $TMP/playwright.trace. A run
# is bounded by BROWSER_MAX_SECONDS, so a page or browser that hangs fails
# the test instead of hanging it. On any failure, what it printed, the
# trace's last lines (the call it was in) and the test's logs go to
# stderr, and the test fails.
BROWSER_MAX_SECONDS=300
browser_run() {
  local script=$1 rc=0
  shift
  env DASH="${DASH:-}" PSQL="$PSQL" SCREENSHOTS="$SCREENSHOTS" DEBUG=pw:api "$@" \
    timeout -k 10 "$BROWSER_MAX_SECONDS" node "$BROWSER_DIR/$script" \
    >"$TMP/browser.out" 2>>"$TMP/playwright.trace" || rc=$?
  if [ "$rc" = 0 ]; then
    cat "$TMP/browser.out"
    return 0
  fi
  cat "$TMP/browser.out" >&2
  echo "--- the end of $script's trace" >&2
  tail -n 40 "$TMP/playwright.trace" >&2
  show_logs
  [ "$rc" != 124 ] || fail "$script was still running after $BROWSER_MAX_SECONDS s"
  fail "$script failed (exit $rc)"
}

# assert_screenshots NAME...: each SCREENSHOTS/NAME.png was written.
assert_screenshots() {
  local f
  for f in "$@"; do
    [ -s "$SCREENSHOTS/$f.png" ] || fail "no screenshot $f"
  done
}

# open_stream NAME: an event stream as NAME, in the background (pid in
# $stream_pid, output in $TMP/sse_NAME), once it said "ready". The stream's
# curl gives up by itself after STREAM_MAX_SECONDS.
STREAM_MAX_SECONDS=60
open_stream() {
  curl -sN -b "$TMP/$1.jar" --max-time $STREAM_MAX_SECONDS "$DASH/api/events" >"$TMP/sse_$1" &
  stream_pid=$!
  TEST_PIDS+=("$stream_pid")
  wait_until $STREAM_MAX_SECONDS "the stream of $1 to start" file_has "$TMP/sse_$1" ready
}
# stream_closed PID WHAT: the dashboard closed the stream (open_stream's
# PID): its curl ended on its own, not at its --max-time (exit 28). How soon
# is not asserted: a loaded machine only delays it.
stream_closed() {
  local rc=0
  wait "$1" || rc=$?
  [ "$rc" != 28 ] || fail "$2: the stream was still open after $STREAM_MAX_SECONDS s"
}

# carrier_setup: what sends and delivers a message for real, after
# dash_setup: a tocsin-gateway (TOCSIN_PUBLIC_URL, exported, so the worker
# names it in each send), the carrier simulator SIM posting receipts to it,
# and a tocsin-worker (log $TMP/worker.log) that publishes its sealing key.
carrier_setup() {
  local gw_port sim_port
  gw_port=$(free_port)
  export TOCSIN_PUBLIC_URL="http://127.0.0.1:$gw_port"
  TOCSIN_GATEWAY_PORT=$gw_port "$BIN/gateway/tocsin-gateway" >"$TMP/gateway.log" 2>&1 & TEST_PIDS+=($!)
  wait_http "$TOCSIN_PUBLIC_URL/healthz"
  sim_port=$(free_port)
  SIM="http://127.0.0.1:$sim_port"
  "$BIN/ops/tocsin-carrier-sim" --port "$sim_port" --gateway "$TOCSIN_PUBLIC_URL" \
    --receipt-delay-ms 50 >"$TMP/sim.log" 2>&1 & TEST_PIDS+=($!)
  wait_http "$SIM/healthz"
  env TOCSIN_WORKER_METRICS_PORT="$(free_port)" TOCSIN_WORKER_POLL_MS=200 \
    "$BIN/worker/tocsin-worker" >"$TMP/worker.log" 2>&1 & TEST_PIDS+=($!)
}
