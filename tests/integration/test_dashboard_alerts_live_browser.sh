#!/usr/bin/env bash
# Audit alerts pushed live in a real browser at 390 px
# (tests/browser/alerts_live.mjs): an admin's badge and notice follow a
# lead's big export without a reload, the Audit page's list follows a new
# alert and another admin's acknowledgement, and a volunteer's page hears
# nothing. The alerts are raised by the audit row a lead's export writes
# (the trigger's path; test_dashboard_alerts_live makes the real export).
# Screenshots land in the build folder's screenshots/.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dashboard_lib.sh"
browser_setup
LEAD=$(sql "SELECT id FROM users WHERE email = 'lead@demo.test'")
sql "UPDATE orgs SET alert_export_over = 2 WHERE id = $ORG" >/dev/null
RAISE="SELECT tocsin_audit($ORG, $LEAD, 'list.export', 'list', 1, '{\"rows\": 40}')"
browser_run alerts_live.mjs RAISE_SQL="$RAISE"
assert_eq "$(sql "SELECT count(*) FROM audit_alerts WHERE org_id = $ORG")" 2 "two alerts raised"
assert_eq "$(sql "SELECT count(*) FROM audit_events WHERE action = 'alert.acknowledge'")" 1 "one acknowledged, audited"
assert_screenshots dashboard-alert-live-phone dashboard-alert-live-audit-phone
echo "test_dashboard_alerts_live_browser: ok"
