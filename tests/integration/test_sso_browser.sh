#!/usr/bin/env bash
# Single sign-on in a real browser at 390 px (tests/browser/sso.mjs)
# against a real OpenID provider (oidc-provider, tests/oidc): an admin sets
# the provider on its page, a lead has none, a volunteer signs in through
# the provider's login form into her inbox, an unverified address and a
# replayed callback are refused with a page that says why. Then the
# database: what the page did is what was recorded, and audited.
# Screenshots land in the build folder's screenshots/.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dashboard_lib.sh"
source "$(dirname "$0")/sso_lib.sh"
browser_setup TOCSIN_SSO_ALLOW_HTTP=1
op_start k1
browser_run sso.mjs OP="$OP"
assert_eq "$(sql "SELECT issuer || ' ' || client_id || ' ' || enabled::text FROM org_sso WHERE org_id = $ORG")" \
  "$OP tocsin true" "the page's settings recorded"
assert_eq "$(sql "SELECT string_agg(details->>'secret', ',' ORDER BY id) FROM audit_events WHERE action = 'sso.configure'")" \
  set "one change audited, the secret as 'set'"
assert_eq "$(sql "SELECT count(*) FROM audit_events a JOIN users u ON u.id = a.user_id WHERE a.action = 'session.login' AND a.details->>'method' = 'sso' AND u.email = 'vol1@demo.test'")" \
  1 "the volunteer's sign-in audited as a login by SSO"
assert_eq "$(sql "SELECT string_agg(details->>'reason', ',' ORDER BY id) FROM audit_events WHERE action = 'sso.refused'")" \
  email_unverified "the unverified address refused and audited (the replay never reached a state)"
assert_screenshots sso-login-page-phone sso-settings-phone sso-provider-login-phone sso-signed-in-phone sso-refused-phone
echo "test_sso_browser: ok"
