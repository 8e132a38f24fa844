#!/usr/bin/env bash
# Issue #19's "Done means", end to end (tests/browser/new_admin.mjs): the
# stack is started by ops/run itself (--no-build --detach on the tests'
# build, its database, logs and sealing key in a folder of its own, every
# port moved to a free one), so this is what a new chapter gets, carrier
# simulator included. After that nothing here touches the stack but the
# browser: the admin's first login (two-factor enrolment), a Twilio
# number added and tested, a lead and two volunteers invited and joining,
# a Spoke opt-out list and an Action Network export moved in, and the
# lead's blast to an audience holding numbers from both. Then the
# outcome, read from the database and the simulator's record: exactly one
# message per member who may be texted, none to any imported opt-out,
# every admin change audited. Screenshots land in the build folder's
# screenshots/.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dashboard_lib.sh" # assert_screenshots only: ops/run starts the stack
command -v oathtool >/dev/null || fail "oathtool is not installed: run ops/install-deps"
browser_check
[ -x /usr/bin/chromium ] || fail "chromium is not installed: run ops/install-deps"

# --- the stack, as ops/run starts it ---
unset TOCSIN_DATABASE_URL TOCSIN_PUBLIC_URL TOCSIN_DASHBOARD_URL TOCSIN_GATEWAY_SPOOL_DIR TOCSIN_SECRET_KEY
export TOCSIN_VAR_DIR="$TMP/var"
ports=()
while [ ${#ports[@]} -lt 5 ]; do
  p=$(free_port)
  [[ " ${ports[*]} " == *" $p "* ]] || ports+=("$p")
done
export TOCSIN_GATEWAY_PORT=${ports[0]} TOCSIN_DASHBOARD_PORT=${ports[1]} TOCSIN_WORKER_METRICS_PORT=${ports[2]}
export TOCSIN_SIM_PORT=${ports[3]} TOCSIN_PG_PORT=${ports[4]}
stop_stack() {
  "$TOCSIN_SOURCE_DIR/ops/stop" >/dev/null 2>&1 || true
  "$TOCSIN_SOURCE_DIR/ops/pg" destroy >/dev/null 2>&1 || true
}
trap 'stop_stack; cleanup' EXIT
# Two test settings, passed through by ops/run as every TOCSIN_* is: the
# worker looks for due work every 200 ms instead of every second, and its
# clock starts at 20:00 UTC tomorrow (midday in the US), so the members'
# quiet hours hold nobody back at whatever hour this runs.
TOCSIN_WORKER_POLL_MS=200 TOCSIN_WORKER_FAKE_NOW=$(date -u -d 'tomorrow 20:00' +%s) "$TOCSIN_SOURCE_DIR/ops/run" --no-build --build-dir "$BIN" --detach >"$TMP/run.out" 2>&1 \
  || { cat "$TMP/run.out" >&2; fail "ops/run did not start the stack"; }
banner=$(cat "$TMP/run.out")
DASH="http://127.0.0.1:$TOCSIN_DASHBOARD_PORT"
SIM="http://127.0.0.1:$TOCSIN_SIM_PORT"
assert_contains "$banner" "dashboard         $DASH/" "the banner names the dashboard"
assert_contains "$banner" "set up an" "the banner says the admin sets up an authenticator app"
export TOCSIN_DATABASE_URL=$("$TOCSIN_SOURCE_DIR/ops/pg" url)
# What a new chapter starts with: the demo's four logins and its short code.
assert_eq "$(sql "SELECT count(*) FROM users")" 4 "ops/run's demo logins"
assert_eq "$(sql "SELECT string_agg(address, ',') FROM senders")" 24680 "ops/run's demo short code only"
assert_eq "$(sql "SELECT require_two_factor FROM orgs WHERE slug = 'demo'")" t "two-factor login required, as shipped"
ORG=$(sql "SELECT id FROM orgs WHERE slug = 'demo'")
START=$(sql "SELECT coalesce(max(id), 0) FROM audit_events")
USERS=$(sql "SELECT max(id) FROM users")

# --- everything else in the browser ---
SID=AC7c0c51a0000000000000000000000000
TOKEN=7c0c51a0000000000000000000000000
out=$(browser_run new_admin.mjs SIM="$SIM" ACCOUNT_SID=$SID AUTH_TOKEN=$TOKEN \
  FIXTURES="$TOCSIN_SOURCE_DIR/tests/fixtures/import") \
  || { tail -n 20 "$TOCSIN_VAR_DIR"/log/{dashboard,worker}.log >&2
       sql "SELECT id, state, recipients, scheduled_at, sender_id FROM blasts; SELECT state, purpose, count(*) FROM messages GROUP BY 1, 2" >&2
       fail "the browser test failed"; }
echo "$out"
B=$(sed -n 's/^BLAST_ID=//p' <<<"$out")
[ -n "$B" ] || fail "no blast id"

# --- what happened, from the database ---
assert_eq "$(sql "SELECT concat_ws(',', provider, account_sid, base_url, left(credentials_sealed, 3)) FROM senders WHERE address = '+14155550199'")" \
  "twilio,$SID,$SIM,v3." "the sender the admin added, sealed"
assert_eq "$(sql "SELECT string_agg(state || ' ' || to_phone, ',') FROM messages WHERE purpose = 'test'")" \
  "delivered +14155550123" "the test message"
assert_eq "$(sql "SELECT string_agg(email || ' ' || role, ',' ORDER BY email) FROM users WHERE id > $USERS")" \
  "rosa.lead@demo.test lead,sam.vol@demo.test volunteer,tao.vol@demo.test volunteer" "the three who joined, with their roles"
assert_eq "$(sql "SELECT string_agg(u.email, ',' ORDER BY u.email) FROM user_totp t JOIN users u ON u.id = t.user_id WHERE t.confirmed_at IS NOT NULL")" \
  "admin@demo.test,rosa.lead@demo.test" "the admin and the lead use an authenticator"
OPTED="+14155557302,+14155557306,+14155558101,+14155558102,+14155558103"
assert_eq "$(sql "SELECT string_agg(phone, ',' ORDER BY phone) FROM opt_outs WHERE org_id = $ORG AND source = 'import'")" \
  "$OPTED" "both imports' opt-outs, source import"
assert_eq "$(sql "SELECT state || ' ' || recipients FROM blasts WHERE id = $B")" "completed 4" "the blast completed for 4"
assert_eq "$(sql "SELECT string_agg(to_phone || ' ' || state, ',' ORDER BY to_phone) FROM messages WHERE blast_id = $B")" \
  "+14155557301 delivered,+14155558201 delivered,+14155558202 delivered,+14155558203 delivered" \
  "one message per member who may be texted"
assert_eq "$(sql "SELECT count(*) FROM messages m JOIN opt_outs o ON o.org_id = m.org_id AND o.phone = m.to_phone")" 0 \
  "no message of any kind to an opted-out number"

# --- and from the simulator's record ---
curl -s "$SIM/sim/messages" >"$TMP/sim.json"
per=$(node -e '
  const m = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).messages
    .filter((x) => x.direction === "outbound" && x.body.includes("tenants meeting"));
  const by = {}; for (const x of m) by[x.to] = (by[x.to] || 0) + 1;
  process.stdout.write(Object.keys(by).sort().map((k) => `${k}:${by[k]}`).join(" "))' "$TMP/sim.json")
assert_eq "$per" "+14155557301:1 +14155558201:1 +14155558202:1 +14155558203:1" \
  "the simulator got exactly one message per member"
to_opted=$(node -e '
  const opted = process.argv[2].split(",");
  const m = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).messages;
  process.stdout.write(`${m.length} ${m.filter((x) => x.direction === "outbound" && opted.includes(x.to)).length}`)' \
  "$TMP/sim.json" "$OPTED")
[ "${to_opted% *}" -ge 5 ] || fail "the simulator's record holds the test message and the blast: $to_opted"
assert_eq "${to_opted#* }" 0 "the simulator got nothing, of any kind, for an imported opt-out"
assert_eq "$(curl -s "$SIM/sim/count" --get --data-urlencode 'to=+14155558201' \
  --data-urlencode 'body=Hi Ana, the tenants meeting is Thursday at 7. Reply STOP to opt out.' | jq .count)" 1 "rendered for Ana"

# --- every change audited, by who made it ---
audited=("admin@demo.test contacts.import" "admin@demo.test invite.create" "admin@demo.test opt_outs.import"
         "admin@demo.test sender.add" "admin@demo.test sender.test" "admin@demo.test two_factor.enrol"
         "rosa.lead@demo.test blast.create" "rosa.lead@demo.test contacts.import" "rosa.lead@demo.test invite.accept"
         "rosa.lead@demo.test two_factor.enrol" "sam.vol@demo.test invite.accept" "tao.vol@demo.test invite.accept")
assert_eq "$(sql "SELECT string_agg(DISTINCT u.email || ' ' || a.action, ',' ORDER BY u.email || ' ' || a.action)
                  FROM audit_events a JOIN users u ON u.id = a.user_id
                  WHERE a.id > $START AND a.action IN ('sender.add', 'sender.test', 'invite.create', 'invite.accept',
                                                       'contacts.import', 'opt_outs.import', 'blast.create', 'two_factor.enrol')")" \
  "$(IFS=,; echo "${audited[*]}")" "the admin's, the lead's and the volunteers' changes audited, each by its user"
assert_eq "$(sql "SELECT count(*) FROM audit_events WHERE id > $START AND action = 'invite.create'")" 3 "three invites"
assert_screenshots new-admin-senders-desktop new-admin-senders-phone new-admin-people-desktop new-admin-people-phone \
  new-admin-volunteer-phone new-admin-optouts-preview-desktop new-admin-an-preview-desktop new-admin-move-in-phone \
  new-admin-an-import-desktop new-admin-blast-confirm-desktop new-admin-blast-done-desktop new-admin-blast-done-phone
echo "test_new_admin_browser: ok"
