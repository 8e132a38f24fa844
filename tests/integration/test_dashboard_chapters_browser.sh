#!/usr/bin/env bash
# A national admin's Chapters page in a real browser, at desktop width and
# at 390 px (tests/browser/chapters.mjs): the list with each chapter's
# phone region (the deployment's named for one without), a chapter created (in its own
# phone region, an unknown one refused first), its first
# admin invited and the link used, a chapter entered with a reason (a
# banner on every page) and left. Then the database: what the page did is
# what was recorded, audited in both orgs. Screenshots land in the build
# folder's screenshots/.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dashboard_lib.sh"
# A default region other than US, so the page shows the deployment's.
browser_setup TOCSIN_DEFAULT_REGION=CA
CTL="$BIN/ops/tocsinctl"
"$CTL" org create nat --name "National Body" --national >/dev/null
no_two_factor nat  # as dash_setup does for demo
echo "tocsin-demo" | "$CTL" user add --org nat --email admin@nat.test --role admin --name "Nat Admin" --password-stdin >/dev/null
NAT=$(sql "SELECT id FROM orgs WHERE slug = 'nat'")
sql "UPDATE orgs SET parent_org_id = $NAT WHERE id = $ORG" >/dev/null
CONV=$(member_writes +14155550901 "a demo member writes")
DEMO_NAME=$(sql "SELECT name FROM orgs WHERE id = $ORG")
browser_run chapters.mjs CONV="$CONV" DEMO_NAME="$DEMO_NAME"
EAST=$(sql "SELECT id FROM orgs WHERE slug = 'east-side'")
assert_eq "$(sql "SELECT name || ' ' || parent_org_id || ' ' || phone_region FROM orgs WHERE id = $EAST")" "East Side $NAT PR" "the chapter the page made, in its phone region"
assert_eq "$(sql "SELECT role || ' ' || display_name FROM users WHERE org_id = $EAST AND email = 'first@east.test'")" \
  "admin East First" "its first admin, from the link"
assert_eq "$(sql "SELECT string_agg(action, ',' ORDER BY id) FROM audit_events WHERE org_id = $NAT AND action LIKE 'chapter.%'")" \
  "chapter.create,chapter.invite,chapter.enter,chapter.leave,chapter.enter,chapter.leave,chapter.enter,chapter.leave" "each step audited in the national org"
assert_eq "$(sql "SELECT string_agg(action, ',' ORDER BY id) FROM audit_events WHERE org_id = $ORG AND action LIKE 'national.%'")" \
  "national.enter,national.leave,national.enter,national.leave" "and in the chapter entered (twice: the second visit ended by its admin)"
assert_eq "$(sql "SELECT details->>'visits_ended' FROM audit_events WHERE org_id = $ORG AND action = 'user.revoke_sessions'")" 1 "who ended it"
assert_eq "$(sql "SELECT details->>'reason' FROM audit_events WHERE org_id = $ORG AND action = 'national.enter' ORDER BY id LIMIT 1")" \
  "Help the demo chapter with its backlog" "with the reason typed"
assert_eq "$(sql "SELECT count(*) FROM sessions WHERE acting_org_id IS NOT NULL")" 0 "no session acts anywhere now"
assert_screenshots dashboard-chapters-desktop dashboard-chapters-acting-desktop dashboard-chapters-phone dashboard-chapters-acting-phone \
  dashboard-chapters-acting-account-phone dashboard-chapters-end-visit-phone
echo "test_dashboard_chapters_browser: ok"
