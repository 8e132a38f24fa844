#!/usr/bin/env bash
# An admin's Senders page in a real browser (tests/browser/senders.mjs), at
# 390 px and 1280 px, against a real gateway, worker and carrier simulator
# (carrier_setup): webhook URLs, a bad number refused, a Twilio number
# added through the page and a test message delivered through it, wrong
# credentials shown failing in the carrier's own words, disable and enable.
# Then the database: what the page did is what was recorded, and audited.
# Screenshots land in the build folder's screenshots/.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dashboard_lib.sh"
browser_setup TOCSIN_ALLOW_INSECURE_CARRIER_URLS=1 TOCSIN_PUBLIC_URL=https://texts.example.org
carrier_setup
SID=AC7c0c51a0000000000000000000000000
TOKEN=7c0c51a0000000000000000000000000
browser_run senders.mjs SIM="$SIM" ACCOUNT_SID=$SID AUTH_TOKEN=$TOKEN
assert_eq "$(sql "SELECT concat_ws(',', kind, provider, account_sid, messages_per_second, base_url, disabled_at IS NULL) FROM senders WHERE address = '+14155550199'")" \
  "long_code,twilio,$SID,5.00,$SIM,t" "the sender the page added"
assert_eq "$(sql "SELECT string_agg(state || ' ' || coalesce(error_code, '-'), ',' ORDER BY id) FROM messages WHERE purpose = 'test'")" \
  "delivered -,failed 20003" "the two test messages"
assert_eq "$(sql "SELECT string_agg(action, ',' ORDER BY id) FROM audit_events WHERE org_id = $ORG AND action LIKE 'sender.%'")" \
  "sender.add,sender.test,sender.credentials,sender.test,sender.disable,sender.enable" "each step audited"
assert_screenshots dashboard-senders-phone dashboard-senders-test-phone dashboard-senders-refused-phone dashboard-senders-desktop
echo "test_dashboard_senders_browser: ok"
