#!/usr/bin/env bash
# What a burst of live events costs in a real browser
# (tests/browser/live_burst.mjs): a volunteer's inbox and open
# conversation, a lead's campaign page and a blast's progress each refetch
# once with at most one more queued, whatever the size of the burst (the
# refetch is held at the network while the burst lands, so the count does
# not depend on the machine's speed). Also the inbox's "How many" label at
# 390 and 1280 px, and outreach's results in the success style. Then every
# page of the route table at both widths (tests/browser/fit.mjs): nothing
# scrolls sideways, the top bar names the user and marks the section.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dashboard_lib.sh"
browser_setup

V1=$(sql "SELECT id FROM users WHERE email = 'vol1@demo.test'")
LEAD=$(sql "SELECT id FROM users WHERE email = 'lead@demo.test'")
# Volunteer 1 holds one conversation, read already (opening it reads nothing).
CONV=$(member_writes +14155550401 "Is the meeting still on?")
sql "UPDATE conversations SET assignee_id = $V1, unread = 0 WHERE id = $CONV" >/dev/null

# A live campaign with two contacts in a zone where it is midday now.
h=$(date -u +%-H); off=$(( (12 - h + 48) % 24 )); [ $off -gt 12 ] && off=$((off - 24))
if [ $off -eq 0 ]; then DAY=Etc/GMT; elif [ $off -gt 0 ]; then DAY="Etc/GMT-$off"; else DAY="Etc/GMT+$((-off))"; fi
CAMP=$(sql "SELECT body->>'id' FROM tocsin_outreach_create($ORG, $LEAD, 'Burst', $SENDER,
            'Hi {first_name|friend}, can you come Saturday?', 2, NULL, NULL)")
printf 'phone,first_name,timezone\n+14155550411,Ana,%s\n+14155550412,Bo,%s\n' "$DAY" "$DAY" >"$TMP/audience.csv"
"$BIN/ops/tocsinctl" contacts import --org demo --outreach "$CAMP" "$TMP/audience.csv" >/dev/null
sql "UPDATE outreach_campaigns SET state = 'active' WHERE id = $CAMP" >/dev/null

# A finished blast (no fallback poll: only events refetch it).
LIST=$(sql "INSERT INTO lists (org_id, name) VALUES ($ORG, 'Burst list') RETURNING id")
BLAST=$(sql "INSERT INTO blasts (org_id, sender_id, list_id, body, state, recipients, completed_at)
             VALUES ($ORG, $SENDER, $LIST, 'Rally Saturday!', 'completed', 0, now()) RETURNING id")

browser_run live_burst.mjs ORG="$ORG" V1="$V1" CONV="$CONV" CAMP="$CAMP" BLAST="$BLAST"
# Every page of the route table at 390 and 1280 px, as a lead and a volunteer.
browser_run fit.mjs CONV="$CONV" CAMP="$CAMP" BLAST="$BLAST"
echo "test_dashboard_live_browser: ok"
