#!/usr/bin/env bash
# Retention (issue 20), with row counts before and after: old rows are
# back-dated with UPDATE, then `tocsinctl retention run --dry-run` counts
# exactly what is due per kind and changes nothing; `retention run --org`
# removes one org's and leaves another's; the worker's nightly run,
# claimed by one worker only, removes the rest in batches of 1,000. What
# must stay stays: queued and recent bodies, delivery facts (state,
# segments, carrier id), STOP and keyword messages younger than five
# years, a number's latest consent event, every opt-out in force, audit
# rows after the first one still young (a prefix only), with the last
# removed row kept as the chain's anchor.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/worker_lib.sh"
ORG=$(sql "SELECT id FROM orgs WHERE slug = 'demo'")
SENDER=$(sql "SELECT id FROM senders WHERE org_id = $ORG LIMIT 1")
"$CTL" org create other --name "Other Org" >/dev/null
OTHER=$(sql "SELECT id FROM orgs WHERE slug = 'other'")
OSENDER=$(sql "INSERT INTO senders (org_id, kind, address, provider, account_sid, credentials_sealed, messages_per_second, base_url)
               SELECT $OTHER, kind, '24699', provider, account_sid, credentials_sealed, messages_per_second, base_url
                 FROM senders WHERE id = $SENDER RETURNING id")
USER=$(sql "SELECT id FROM users WHERE org_id = $ORG LIMIT 1")
OUSER=$(sql "INSERT INTO users (org_id, email, role) VALUES ($OTHER, 'a@other.test', 'admin') RETURNING id")

# fill ORG SENDER USER: one org's rows, old and new, of every kind.
fill() {
  local org=$1 sender=$2 user=$3
  sql "
    -- outbound: 3 old delivered, 1 old queued (not yet sent: kept), 2 recent
    INSERT INTO messages (org_id, sender_id, provider, to_phone, body, encoding, segments, lane, purpose, state,
                          provider_message_id, created_at, not_before)
    SELECT $org, $sender, 'twilio', '+1415555010' || g, 'old text ' || g || ' ' || repeat('x', 150), 'GSM-7', 2,
           'bulk', 'blast', CASE WHEN g = 4 THEN 'queued' ELSE 'delivered' END,
           CASE WHEN g = 4 THEN NULL ELSE 'SMold$org' || g END,
           now() - interval '400 days', now() + interval '1 year'
      FROM generate_series(1, 4) g;
    INSERT INTO messages (org_id, sender_id, provider, to_phone, body, encoding, segments, lane, purpose, state,
                          provider_message_id)
    SELECT $org, $sender, 'twilio', '+1415555020' || g, 'new text ' || g, 'GSM-7', 1, 'bulk', 'blast', 'delivered',
           'SMnew$org' || g
      FROM generate_series(1, 2) g;
    -- inbound: 2 old replies, an old STOP and an old keyword (consent
    -- evidence, kept), a STOP of six years ago (gone), 1 recent reply
    INSERT INTO inbound_messages (org_id, sender_id, provider, provider_message_id, from_phone, body, intent, received_at)
    VALUES ($org, $sender, 'twilio', 'IN1-$org', '+14155550301', 'old reply one', 'reply', now() - interval '400 days'),
           ($org, $sender, 'twilio', 'IN2-$org', '+14155550302', 'old reply two', 'reply', now() - interval '400 days'),
           ($org, $sender, 'twilio', 'IN3-$org', '+14155550303', 'STOP', 'opt_out', now() - interval '400 days'),
           ($org, $sender, 'twilio', 'IN4-$org', '+14155550304', 'JOIN', 'keyword', now() - interval '400 days'),
           ($org, $sender, 'twilio', 'IN5-$org', '+14155550305', 'STOP', 'opt_out', now() - interval '6 years'),
           ($org, $sender, 'twilio', 'IN6-$org', '+14155550306', 'new reply', 'reply', now());
    -- sessions: 2 expired 40 days ago, 1 live
    INSERT INTO sessions (org_id, user_id, token_hash, csrf_token, created_at, last_seen_at, expires_at)
    SELECT $org, $user, sha256(convert_to('s$org' || g, 'UTF8')), repeat('c', 40),
           CASE WHEN g < 3 THEN now() - interval '41 days' ELSE now() END,
           CASE WHEN g < 3 THEN now() - interval '41 days' ELSE now() END,
           CASE WHEN g < 3 THEN now() - interval '40 days' ELSE now() + interval '1 hour' END
      FROM generate_series(1, 3) g;
    -- audit: 5 old, 1 young, then 2 old again (behind the young one: kept)
    INSERT INTO audit_events (org_id, action, details, created_at)
    SELECT $org, 'test.audit', jsonb_build_object('n', g),
           CASE WHEN g = 6 THEN now() - interval '10 days' ELSE now() - interval '800 days' END
      FROM generate_series(1, 8) g ORDER BY g;
    -- consent: A opted in 7 years ago, out 6 years ago (in force): the
    -- opt-in is gone, the opt-out stays; B's only event (6 years) stays;
    -- C opted out 7 years ago and back in a year ago: both stay (the
    -- opt-out was superseded less than five years ago)
    INSERT INTO consent_events (org_id, phone, event, source, created_at)
    VALUES ($org, '+14155550401', 'opt_in', 'keyword', now() - interval '7 years'),
           ($org, '+14155550401', 'opt_out', 'keyword', now() - interval '6 years'),
           ($org, '+14155550402', 'opt_in', 'keyword', now() - interval '6 years'),
           ($org, '+14155550403', 'opt_out', 'keyword', now() - interval '7 years'),
           ($org, '+14155550403', 'opt_in', 'keyword', now() - interval '1 year');
    INSERT INTO opt_outs (org_id, phone, source, opted_out_at)
    VALUES ($org, '+14155550401', 'keyword', now() - interval '6 years');" >/dev/null
}
fill "$ORG" "$SENDER" "$USER"
fill "$OTHER" "$OSENDER" "$OUSER"
# 2,500 more old bodies in the other org: the worker needs three batches.
sql "INSERT INTO messages (org_id, sender_id, provider, to_phone, body, encoding, segments, lane, purpose, state,
                          provider_message_id, created_at)
     SELECT $OTHER, $OSENDER, 'twilio', '+14155559' || lpad(g::text, 3, '0'), 'bulk old ' || g, 'GSM-7', 1, 'bulk',
            'blast', 'delivered', 'SMbulk' || g, now() - interval '500 days'
       FROM generate_series(1, 2500) g" >/dev/null

# counts ORG: the rows retention looks at, as one line.
counts() {
  sql "SELECT concat_ws(' ',
         (SELECT count(*) FROM messages WHERE org_id = $1 AND body_removed_at IS NULL),
         (SELECT count(*) FROM inbound_messages WHERE org_id = $1 AND body_removed_at IS NULL),
         (SELECT count(*) FROM sessions WHERE org_id = $1),
         (SELECT count(*) FROM audit_events WHERE org_id = $1),
         (SELECT count(*) FROM consent_events WHERE org_id = $1),
         (SELECT count(*) FROM opt_outs WHERE org_id = $1))"
}
assert_eq "$(counts "$ORG")" "6 6 3 8 5 1" "demo before"
assert_eq "$(counts "$OTHER")" "2506 6 3 8 5 1" "other before"

# --- the dry run: exact counts, nothing changed ---
out=$("$CTL" retention run --dry-run --org demo)
assert_eq "$(awk '$1 == "demo" {printf "%s=%s ", $2, $3}' <<<"$out")" \
  "outbound_bodies=3 inbound_bodies=3 sessions=2 audit_events=5 consent_events=1 " "dry run per kind"
assert_contains "$out" "dry run: nothing changed" "says it changed nothing"
out=$("$CTL" retention run --dry-run)
assert_eq "$(awk '$1 == "other" && $2 == "outbound_bodies" {print $3}' <<<"$out")" 2503 "all orgs: the other's too"
assert_eq "$(counts "$ORG")" "6 6 3 8 5 1" "the dry run changed nothing"
"$CTL" retention run --dry-run --org nosuch >/dev/null 2>&1 && fail "an unknown org is refused"

# --- one org on demand ---
out=$("$CTL" retention run --org demo)
assert_contains "$out" "outbound_bodies  3 removed" "outbound count"
assert_contains "$out" "audit_events     5 removed" "audit count"
assert_eq "$(counts "$ORG")" "3 3 1 3 4 1" "demo after"
assert_eq "$(counts "$OTHER")" "2506 6 3 8 5 1" "the other org untouched"
# What stays of a removed body: its length and segments, and every delivery fact.
assert_eq "$(sql "SELECT concat_ws(',', body, body_chars, segments, state, provider_message_id) FROM messages
                  WHERE org_id = $ORG AND to_phone = '+14155550101'")" ",161,2,delivered,SMold${ORG}1" "a removed body's trace"
assert_eq "$(sql "SELECT state || ':' || length(body) FROM messages WHERE org_id = $ORG AND to_phone = '+14155550104'")" \
  "queued:161" "a queued message keeps its text"
assert_eq "$(sql "SELECT string_agg(provider_message_id || '=' || (body <> '')::text, ' ' ORDER BY id) FROM inbound_messages WHERE org_id = $ORG")" \
  "IN1-$ORG=false IN2-$ORG=false IN3-$ORG=true IN4-$ORG=true IN5-$ORG=false IN6-$ORG=true" \
  "inbound: replies go, STOP and JOIN under five years stay"
assert_eq "$(sql "SELECT string_agg(phone || ':' || event, ' ' ORDER BY phone, created_at) FROM consent_events WHERE org_id = $ORG")" \
  "+14155550401:opt_out +14155550402:opt_in +14155550403:opt_out +14155550403:opt_in" "consent: only the superseded opt-in went"
assert_eq "$(sql "SELECT count(*) FROM opt_outs WHERE org_id = $ORG AND phone = '+14155550401'")" 1 "the six-year-old opt-out in force stays"
assert_eq "$(sql "SELECT string_agg(details->>'n', ',' ORDER BY id) FROM audit_events WHERE org_id = $ORG")" "6,7,8" \
  "audit: the old prefix went, the old rows behind a young one stay"
assert_eq "$(sql "SELECT h.anchor_seq = e.seq - 1 AND h.anchor_seq = 5 FROM audit_chain_heads h
                  JOIN audit_events e ON e.org_id = h.org_id AND e.details->>'n' = '6' WHERE h.org_id = $ORG")" t \
  "the chain's anchor is the last removed row"
out=$("$CTL" audit verify --org demo 2>&1) || fail "audit verify after retention: $out"
assert_eq "$(sql "SELECT count(*) FROM sessions WHERE org_id = $ORG AND expires_at > now()")" 1 "the live session stays"
# Running again finds nothing.
out=$("$CTL" retention run --org demo)
assert_eq "$(grep -c ' 0 removed' <<<"$out")" 5 "a second run removes nothing"

# --- settings: a shorter limit takes more ---
sql "UPDATE orgs SET retain_outbound_days = 30 WHERE id = $ORG"
sql "UPDATE messages SET created_at = now() - interval '31 days' WHERE org_id = $ORG AND to_phone = '+14155550201'"
assert_eq "$(awk '$1 == "demo" && $2 == "outbound_bodies" {print $3}' <<<"$("$CTL" retention run --dry-run --org demo)")" 1 "30 days: one more"

# --- the nightly run: claimed by one worker, all orgs, in batches ---
sql "UPDATE retention_schedule SET next_run_at = now() - interval '1 minute'"
assert_eq "$(sql "SELECT tocsin_retention_claim('a') || ',' || tocsin_retention_claim('b')")" "true,false" "one claimant a night"
assert_eq "$(sql "SELECT next_run_at > now() AND extract(hour FROM next_run_at AT TIME ZONE 'UTC') = hour_utc FROM retention_schedule")" t \
  "the next run is at the schedule's hour"
sql "UPDATE retention_schedule SET next_run_at = now() - interval '1 minute', last_finished_at = NULL" >/dev/null
start_worker one
start_worker two
wait_sql "SELECT last_finished_at IS NOT NULL FROM retention_schedule" t 120
assert_eq "$(counts "$OTHER")" "3 3 1 3 4 1" "the worker's run: the other org"
out=$("$CTL" audit verify 2>&1) || fail "every org's audit chain verifies after the nightly run: $out"
assert_eq "$(counts "$ORG")" "2 3 1 3 4 1" "and the demo org's newly due body"
assert_eq "$(sql "SELECT (last_counts->>'outbound_bodies') || ',' || (last_counts->>'audit_events') FROM retention_schedule")" \
  "2504,5" "the run's counts are recorded"
ran=$(cat "$TMP"/worker-one.log "$TMP"/worker-two.log | grep -c 'retention_run_started' || true)
assert_eq "$ran" 1 "exactly one worker ran it"
assert_eq "$(sql "SELECT count(*) FROM messages WHERE org_id = $OTHER AND body_removed_at IS NOT NULL AND body = '' AND body_chars > 0")" \
  2503 "every removed body keeps its length"
# The next night starts where every text behind it is gone: just before
# the first message that kept its text.
assert_eq "$(sql "SELECT from_id = (SELECT min(id) - 1 FROM messages WHERE body_removed_at IS NULL) AND first_kept IS NULL
                  FROM retention_marks WHERE kind = 'outbound_bodies'")" t "the walk's start moved up"
assert_eq "$(sql "SELECT from_id > 0 FROM retention_marks WHERE kind = 'inbound_bodies'")" t "for members' texts too"
# A run over every org from there: nothing older is missed, and a message
# that becomes due above the mark is found.
sql "UPDATE orgs SET retain_outbound_days = 30 WHERE id = $OTHER;
     UPDATE messages SET created_at = now() - interval '31 days' WHERE org_id = $OTHER AND to_phone = '+14155550201'" >/dev/null
out=$("$CTL" retention run)
assert_contains "$out" "outbound_bodies  1 removed" "a full run from the mark finds the newly due text"
assert_eq "$(counts "$OTHER")" "2 3 1 3 4 1" "the other org after it"
echo "ok"
