#!/usr/bin/env bash
# An admin's privacy page in a real browser (tests/browser/privacy.mjs), at
# 390 px and 1280 px: retention days refused and saved, one custom field
# shown to volunteers (and only it appears in her conversation), and a
# member forgotten from her conversation's menu after the preview and the
# typed word, the opt-out kept. Then the audit trail. Screenshots land in
# the build folder's screenshots/.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dashboard_lib.sh"
browser_setup
C=$(member_writes +14155550123 "Can someone drive me to the meeting?")
member_writes +14155550177 "Me too" >/dev/null
V1=$(sql "SELECT id FROM users WHERE email = 'vol1@demo.test'")
sql "UPDATE conversations SET assignee_id = $V1, assigned_at = now(), assignee_active_at = now() WHERE id = $C;
     UPDATE contacts SET first_name = 'Ana', last_name = 'Quintero', fields = '{\"county\": \"Alameda\", \"union\": \"Local 12\"}'
      WHERE phone = '+14155550123';
     INSERT INTO opt_outs (org_id, phone, source) VALUES ($ORG, '+14155550123', 'admin')" >/dev/null
browser_run privacy.mjs CONVERSATION="$C"
assert_eq "$(sql "SELECT string_agg(action, ',' ORDER BY id) FROM audit_events WHERE org_id = $ORG AND action IN ('org.privacy', 'contact.forget')")" \
  "org.privacy,contact.forget" "the save and the forget audited"
assert_eq "$(sql "SELECT details->>'phone' FROM audit_events WHERE action = 'contact.forget'")" "•••0123" "the number masked"
assert_eq "$(sql "SELECT forgotten_at IS NULL FROM contacts WHERE phone = '+14155550177'")" t "the previewed member was not forgotten"
assert_screenshots dashboard-privacy-phone dashboard-forget-phone dashboard-privacy-desktop
echo "test_privacy_browser: ok"
