#!/usr/bin/env bash
# An admin's pages in a real browser at 390 px (tests/browser/admin.mjs):
# an opt-out list imported through the page (preview, column, report),
# the export, an undo refused for a member's own STOP and done for an
# imported number; people invited, revoked, promoted, disabled and
# re-enabled, a password reset and used; a lead's view. Then the database: what the page did is
# what was recorded, and audited. Screenshots land in the build folder's
# screenshots/.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dashboard_lib.sh"
browser_setup
# +14155550505 texted STOP itself.
sql "SELECT action FROM tocsin_receive_inbound('twilio', 'SMstop505', $SENDER, '+14155550505', 'STOP', 0,
     'opt_out', NULL, false, NULL, NULL, NULL)" >/dev/null
OPTOUT_CSV=$(printf '\xef\xbb\xbf"Cell Phone",name,notes\r\n4155550501,<img src=x onerror=window.__xss=1>,a\r\n+14155550505,Eve,"said\r\nSTOP"\r\n"=HYPERLINK(""http://evil"")",Mal,x\r\n(415) 555-0502,Bo,\r\n+1 415 555 0501,dup,dup\r\nnope,x,x\r\n')
browser_run admin.mjs OPTOUT_CSV="$OPTOUT_CSV"
assert_eq "$(sql "SELECT string_agg(phone || ' ' || source, ',' ORDER BY phone) FROM opt_outs WHERE org_id = $ORG")" \
  "+14155550502 import,+14155550505 keyword" "the page's import recorded (0501 undone, the member's STOP kept)"
assert_eq "$(sql "SELECT string_agg(action, ',' ORDER BY id) FROM audit_events WHERE action LIKE 'opt_out%'")" \
  "opt_outs.import,opt_outs.export,opt_out.undo" "each step audited"
assert_eq "$(sql "SELECT details->>'reason' FROM audit_events WHERE action = 'opt_out.undo'")" "Ana rejoined at the meeting" "with the reason typed"
assert_eq "$(sql "SELECT role FROM users WHERE email = 'vol1@demo.test'")" lead "the role changed from the page"
assert_eq "$(sql "SELECT string_agg(action, ',' ORDER BY id) FROM audit_events WHERE action LIKE 'user.%' OR action LIKE 'invite.%'")" \
  "invite.create,invite.revoke,user.role,user.disable,user.enable,user.reset_password,user.password_set" "every people change audited"
assert_eq "$(sql "SELECT disabled_at IS NULL FROM users WHERE email = 'vol2@demo.test'")" t "volunteer 2 enabled again"
assert_screenshots dashboard-optout-preview-phone dashboard-optout-import-phone dashboard-optout-undo-phone dashboard-people-phone
echo "test_dashboard_admin_browser: ok"
