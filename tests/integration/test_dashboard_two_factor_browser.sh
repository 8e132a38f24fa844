#!/usr/bin/env bash
# Two-factor login and the sessions screen in a real browser
# (tests/browser/two_factor.mjs), at 390 px (the admin) and 1280 px (the
# lead), with oathtool computing the codes from the key the page shows and
# zbarimg reading the QR code back:
# enrolment, a login with a code, one with a recovery code, ending
# another session from the Account page; an admin ending a lead's sessions
# and resetting her two-factor login on People, and the org setting. Screenshots land in the build
# folder's screenshots/.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dashboard_lib.sh"
command -v oathtool >/dev/null || fail "oathtool is not installed: run ops/install-deps"
command -v zbarimg >/dev/null || fail "zbarimg (zbar-tools) is not installed: run ops/install-deps"
browser_setup
"$BIN/ops/tocsinctl" org set demo --require-two-factor on >/dev/null
browser_run two_factor.mjs
assert_eq "$(sql "SELECT count(*) FROM user_totp WHERE confirmed_at IS NOT NULL")" 1 "the admin's authenticator on, the lead's reset"
assert_eq "$(sql "SELECT string_agg(action, ',' ORDER BY id) FROM audit_events WHERE action IN ('user.revoke_sessions', 'two_factor.reset', 'org.settings') AND user_id IS NOT NULL")" \
  "user.revoke_sessions,two_factor.reset,org.settings" "the admin's changes audited"
assert_eq "$(sql "SELECT count(*) FROM audit_events WHERE action = 'two_factor.recovery_code_used'")" 6 "six recovery codes used (three each), each audited"
assert_screenshots dashboard-two-factor-enrol-phone dashboard-two-factor-recovery-phone dashboard-two-factor-code-phone \
  dashboard-account-phone dashboard-two-factor-enrol-desktop dashboard-account-desktop \
  dashboard-people-two-factor-phone
echo "test_dashboard_two_factor_browser: ok"
