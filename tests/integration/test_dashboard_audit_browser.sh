#!/usr/bin/env bash
# What happened to member data in a real browser (tests/browser/audit.mjs),
# at 390 px and 1280 px: the two-person approval of a big blast by a second
# lead, and the admin's audit screen (alert badge and acknowledgement,
# filters, paging, the CSV download, a threshold). Then the audit rows and
# the chain. Screenshots land in the build folder's screenshots/.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dashboard_lib.sh"
browser_setup
echo "tocsin-demo" | "$BIN/ops/tocsinctl" user add --org demo --email lead2@demo.test --role lead --name "Lin Lead" --password-stdin >/dev/null
LIST=$(sql "SELECT id FROM lists WHERE org_id = $ORG AND name = 'members'")
{ echo phone,first_name; for i in $(seq 10 14); do echo "+141555502$i,M$i"; done; } >"$TMP/m.csv"
"$BIN/ops/tocsinctl" contacts import --org demo --list members "$TMP/m.csv" >/dev/null
sql "UPDATE orgs SET alert_export_over = 2, blast_approval_over = 2 WHERE id = $ORG" >/dev/null
assert_eq "$(login lead lead@demo.test)" 200 "the lead logs in"
assert_eq "$(call lead GET "/api/lists/$LIST/export")" 200 "the lead exports the list (an alert)"
assert_eq "$(call lead POST /api/blasts "{\"sender_id\":$SENDER,\"list_id\":$LIST,\"body\":\"Second blast: vote Tuesday. Reply STOP to opt out\"}")" 201 "a second blast"
B2=$(jq_ 'd.id')
# Enough rows for a second page: a volunteer opening 60 conversations.
sql "SELECT tocsin_audit($ORG, (SELECT id FROM users WHERE email = 'vol1@demo.test'), 'conversation.view', 'conversation', i, NULL)
       FROM generate_series(1, 60) i" >/dev/null
browser_run audit.mjs LIST="$LIST" BLAST2="$B2"
assert_eq "$(sql "SELECT count(*) FROM audit_events WHERE action = 'blast.approve'")" 2 "two approvals audited"
assert_eq "$(sql "SELECT count(*) FROM audit_events WHERE action = 'blast.approve' AND user_id = (SELECT id FROM users WHERE email = 'lead2@demo.test')")" 2 \
  "both by the second lead"
assert_eq "$(sql "SELECT count(*) FROM audit_events WHERE action = 'org.protection'")" 1 "one threshold change audited (the refused one is not)"
assert_contains "$("$BIN/ops/tocsinctl" audit verify --org demo)" "chain intact" "the chain verifies"
assert_screenshots dashboard-approval-wait-phone dashboard-approval-phone dashboard-approval-desktop dashboard-audit-phone dashboard-audit-desktop
echo "test_dashboard_audit_browser: ok"
