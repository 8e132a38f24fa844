#!/usr/bin/env bash
# An org's settings pages in a real browser (tests/browser/settings.mjs),
# at 390 px and 1280 px: the admin's organisation form (bad HELP reply,
# bad hours, cap and phone region refused with the server's sentence, the
# region it falls back to shown, good values saved),
# a lead's canned responses and tags (create, refuse a duplicate, edit,
# retire, restore) and a volunteer's menus following them. Then the audit
# trail. Screenshots land in the build folder's screenshots/.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dashboard_lib.sh"
browser_setup
C=$(member_writes +14155550601 "Can someone drive me to the meeting?")
V1=$(sql "SELECT id FROM users WHERE email = 'vol1@demo.test'")
sql "UPDATE conversations SET assignee_id = $V1, assigned_at = now(), assignee_active_at = now() WHERE id = $C" >/dev/null
sql "INSERT INTO outreach_campaigns (org_id, name, sender_id, script) VALUES ($ORG, 'Doors', $SENDER, 'Hi!')" >/dev/null
browser_run settings.mjs CONVERSATION="$C"
assert_eq "$(sql "SELECT count(*) FROM audit_events WHERE org_id = $ORG AND action = 'org.settings'")" 1 "one settings save audited"
assert_eq "$(sql "SELECT details->'volunteer_max_conversations'->>'old' || '>' || (details->'volunteer_max_conversations'->>'new') FROM audit_events WHERE action = 'org.settings'")" \
  "25>4" "with the old and new cap"
assert_eq "$(sql "SELECT coalesce(details->'phone_region'->>'old', 'none') || '>' || (details->'phone_region'->>'new') FROM audit_events WHERE action = 'org.settings'")" \
  "none>MX" "and the old and new phone region"
assert_eq "$(sql "SELECT string_agg(action, ',' ORDER BY id) FROM audit_events WHERE org_id = $ORG AND (action LIKE 'canned_response.%' OR action LIKE 'tag.%')")" \
  "canned_response.create,canned_response.create,canned_response.update,canned_response.create,tag.create,tag.create,canned_response.retire,tag.retire,tag.restore" \
  "every change to the shared texts audited"
assert_eq "$(sql "SELECT count(*) FROM conversation_tags x JOIN tags t ON t.id = x.tag_id WHERE t.name = 'needs a ride' AND x.conversation_id = $C")" 1 "the tag stayed on the conversation"
assert_screenshots dashboard-settings-phone dashboard-settings-desktop dashboard-texts-phone dashboard-texts-desktop
echo "test_dashboard_settings_browser: ok"
