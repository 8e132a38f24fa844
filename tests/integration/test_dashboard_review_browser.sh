#!/usr/bin/env bash
# A lead's Message review in a real browser (tests/browser/review.mjs), at
# 390 px and 1280 px: the list and its filters, a bad range refused with
# the server's sentence, select-all and a reassignment confirmed with its
# count, a close cancelled then confirmed, an outreach answer corrected,
# replies appearing live (no reload).
# Then the audit trail. Screenshots land in the build folder's screenshots/.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dashboard_lib.sh"
browser_setup
V1=$(sql "SELECT id FROM users WHERE email = 'vol1@demo.test'")
c1=$(member_writes +14155550701 "When is it?")
member_writes +14155550702 'STOP please <img src=x onerror="window.__xss=1">' true >/dev/null
member_writes +14155550703 "I can bring chairs" >/dev/null
member_writes +14155550704 "see you" >/dev/null
sql "UPDATE conversations SET assignee_id = $V1, assigned_at = now() WHERE id = $c1" >/dev/null
outreach_answered "$c1" "$V1" "Rally Saturday? Doors at 10"
browser_run review.mjs C1="$c1" TOTAL=4
assert_eq "$(sql "SELECT string_agg(action, ',' ORDER BY id) FROM audit_events WHERE org_id = $ORG AND action IN ('conversation.bulk_assign', 'conversation.bulk_close', 'outreach.answer_correct')")" \
  "conversation.bulk_assign,conversation.bulk_close,outreach.answer_correct" "each action audited once"
assert_eq "$(sql "SELECT jsonb_array_length(details->'ids') FROM audit_events WHERE action = 'conversation.bulk_assign'")" 4 "the reassignment names its four ids"
assert_screenshots dashboard-review-phone dashboard-review-confirm-phone dashboard-review-desktop
echo "test_dashboard_review_browser: ok"
