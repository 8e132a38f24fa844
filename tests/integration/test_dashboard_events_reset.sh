#!/usr/bin/env bash
# Live updates against hostile clients (security item 1): a stream whose
# client pipelined 100 KB behind GET /api/events (so the dashboard has
# stopped reading it) and then reset the connection learns of the reset
# only when an event is written to it. That write fails inside
# tocsin_http_stream_write; the stream must be ended exactly once and the
# dashboard must go on serving — it used to free the subscriber twice and
# die (ASan: double free) within one heartbeat. Volunteers' and leads'
# streams, several at once, beside a healthy stream that must still get
# the event.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dashboard_lib.sh"
dash_setup
conv=$(member_writes +14155550171 "hello")
assert_eq "$(login vol1 vol1@demo.test)" 200 "volunteer logs in"
assert_eq "$(login lead lead@demo.test)" 200 "lead logs in"
V1=$(sql "SELECT id FROM users WHERE email = 'vol1@demo.test'")
cookie() { awk '$6 == "tocsin_session" { print "tocsin_session=" $7 }' "$TMP/$1.jar"; }

# reset_stream NAME: opens /api/events as NAME with 100 KB pipelined, reads
# the first bytes, then resets (SO_LINGER 0 via Node's resetAndDestroy).
cat > "$TMP/reset.mjs" <<'EOF'
import net from "node:net";
const [port, cookie] = process.argv.slice(2);
const s = net.connect(Number(port), "127.0.0.1");
s.on("error", () => {});
s.on("connect", () => {
  s.write(`GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ${cookie}\r\n\r\n` + "x".repeat(100 * 1024));
});
s.once("data", (d) => {
  if (!String(d).startsWith("HTTP/1.1 200")) { console.error("not a stream: " + String(d).slice(0, 80)); process.exit(1); }
  s.resetAndDestroy();
  process.exit(0);
});
setTimeout(() => { console.error("no answer"); process.exit(1); }, 60000);
EOF
for who in vol1 lead vol1 lead vol1; do
  node "$TMP/reset.mjs" "$DASH_PORT" "$(cookie $who)" || fail "$who's stream did not open"
done
# A healthy lead stream beside them.
curl -s -N -b "$TMP/lead.jar" "$DASH/api/events" >"$TMP/healthy.events" 2>/dev/null &
healthy=$!
TEST_PIDS+=("$healthy")
wait_until 60 "the healthy stream to open" file_has "$TMP/healthy.events" "event: ready"

# An event for vol1's conversation reaches every stream above: the reset
# ones fail their write. Each is sent once the healthy stream has the one
# before (the dashboard wrote it to every stream by then).
assigned() { WAIT_LAST=$(grep -c '"type":"assigned"' "$TMP/healthy.events"); [ "$WAIT_LAST" -ge "$1" ]; }
for i in 1 2 3; do
  sql "SELECT pg_notify('tocsin_conversations', json_build_object('org_id', $ORG, 'conversation_id', $conv,
       'event', 'assigned', 'assignee_id', $V1, 'n', $i)::text)" >/dev/null
  wait_until 60 "event $i on the healthy stream" assigned $i
done
kill -0 "$DASH_PID" 2>/dev/null || { tail -30 "$TMP/dashboard.log" >&2; fail "the dashboard died on a reset stream"; }
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "$DASH/healthz")" 200 "the dashboard still serves"
grep -q '"type":"assigned"' "$TMP/healthy.events" || fail "the healthy stream got the event"
! grep -q "AddressSanitizer" "$TMP/dashboard.log" || fail "sanitizer report in the dashboard log"
echo "ok"
