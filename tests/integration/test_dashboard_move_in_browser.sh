#!/usr/bin/env bash
# Moving in from a real browser (tests/browser/move_in.mjs) at desktop
# width and at 390 px: an Action Network export previewed (detected, each
# column's target, rows mapped, a column ignored) and imported into a
# list; a 20,000-row VAN export uploaded in chunks with the progress bar.
# Then the database: what the page did is what was recorded, and audited.
# Screenshots land in the build folder's screenshots/.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dashboard_lib.sh"
browser_setup
node -e '
const rows = ["VANID,FirstName,LastName,Address,City,State,Zip5,Cell Phone,Home Phone,Preferred Phone,Email"];
for (let i = 0; i < 20000; i++)
  rows.push(`${300000 + i},First${i},Last${i},${i} Main St,Madison,WI,537${String(i % 100).padStart(2, "0")},608${2100000 + i},,,v${i}@example.org`);
require("fs").writeFileSync(process.argv[1], rows.join("\r\n") + "\r\n");' "$TMP/van-big.csv"
browser_run move_in.mjs FIXTURES="$TOCSIN_SOURCE_DIR/tests/fixtures/import" BIG_CSV="$TMP/van-big.csv"
assert_eq "$(sql "SELECT string_agg(phone || ' ' || source, ',' ORDER BY phone) FROM opt_outs WHERE org_id = $ORG")" \
  "+14155557302 import,+14155557306 import" "Action Network's unsubscribed members opted out, source import"
assert_eq "$(sql "SELECT count(*) FROM subscriptions s JOIN lists l ON l.id = s.list_id WHERE l.org_id = $ORG AND l.name = 'AN members'")" 2 "the subscribed ones on the list"
assert_eq "$(sql "SELECT count(*) FROM contacts WHERE org_id = $ORG AND fields ? 'uuid'")" 0 "the ignored column is not kept"
assert_eq "$(sql "SELECT count(*) FROM subscriptions s JOIN lists l ON l.id = s.list_id WHERE l.org_id = $ORG AND l.name = 'VAN walk list'")" 20000 "the 20,000 VAN rows on their list"
assert_eq "$(sql "SELECT string_agg(u.email || ' ' || (a.details->>'preset'), ',' ORDER BY a.id) FROM audit_events a JOIN users u ON u.id = a.user_id WHERE a.action = 'contacts.import'")" \
  "admin@demo.test action_network,lead@demo.test van" "each import audited with its user and preset"
assert_eq "$(sql "SELECT string_agg(state, ',') FROM import_uploads")" "imported,imported" "both uploads imported"
assert_eq "$(sql "SELECT count(*) FROM import_upload_chunks")" 0 "their chunks gone"
assert_screenshots dashboard-movein-preview-desktop dashboard-movein-import-desktop dashboard-movein-preview-phone dashboard-movein-import-phone
echo "test_dashboard_move_in_browser: ok"
