#!/usr/bin/env bash
# A lead's Message review in a real browser (tests/browser/review.mjs), at
# 390 px and 1280 px: the list and its filters, a bad range refused with
# the server's sentence, select-all and a reassignment confirmed with its
# count, a close cancelled then confirmed, an outreach answer corrected.
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
CAMP=$(sql "INSERT INTO outreach_campaigns (org_id, name, sender_id, script) VALUES ($ORG, 'Rally', $SENDER, 'Rally Saturday?') RETURNING id")
STEP=$(sql "INSERT INTO outreach_steps (org_id, campaign_id, position, question) VALUES ($ORG, $CAMP, 1, 'Coming?') RETURNING id")
sql "INSERT INTO outreach_choices (org_id, step_id, position, label) VALUES ($ORG, $STEP, 1, 'Yes')" >/dev/null
NO=$(sql "INSERT INTO outreach_choices (org_id, step_id, position, label) VALUES ($ORG, $STEP, 2, 'No') RETURNING id")
CONTACT=$(sql "SELECT contact_id FROM conversations WHERE id = $c1")
MSG=$(sql "INSERT INTO messages (org_id, sender_id, provider, to_phone, body, encoding, segments, lane, conversation_id)
           VALUES ($ORG, $SENDER, 'twilio', '+14155550701', 'Rally Saturday? Doors at 10', 'GSM-7', 1, 'conversational', $c1) RETURNING id")
sql "INSERT INTO outreach_targets (org_id, campaign_id, contact_id, state, texted_by, texted_at, message_id, conversation_id)
     VALUES ($ORG, $CAMP, $CONTACT, 'texted', $V1, now(), $MSG, $c1);
     INSERT INTO outreach_answers (org_id, campaign_id, contact_id, step_id, choice_id, conversation_id, recorded_by)
     VALUES ($ORG, $CAMP, $CONTACT, $STEP, $NO, $c1, $V1);
     UPDATE conversations SET last_outbound_at = last_inbound_at + interval '1 minute' WHERE id = $c1" >/dev/null
DASH="$DASH" PSQL="$PSQL" C1="$c1" TOTAL=4 SCREENSHOTS="$SCREENSHOTS" node "$BROWSER_DIR/review.mjs" \
  || fail "the browser test failed"
assert_eq "$(sql "SELECT string_agg(action, ',' ORDER BY id) FROM audit_events WHERE org_id = $ORG AND action IN ('conversation.bulk_assign', 'conversation.bulk_close', 'outreach.answer_correct')")" \
  "conversation.bulk_assign,conversation.bulk_close,outreach.answer_correct" "each action audited once"
assert_eq "$(sql "SELECT jsonb_array_length(details->'ids') FROM audit_events WHERE action = 'conversation.bulk_assign'")" 4 "the reassignment names its four ids"
assert_screenshots dashboard-review-phone dashboard-review-confirm-phone dashboard-review-desktop
echo "test_dashboard_review_browser: ok"
