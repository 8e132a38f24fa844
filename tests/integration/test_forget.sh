#!/usr/bin/env bash
# Forgetting a member (issue 20) through the dashboard and tocsinctl, with
# row counts before and after in every table that holds member data.
# First, the schema itself: every column that can hold a number, a name,
# a member's words or a link to her must be named by
# tocsin_member_data_columns (forget.sql) with what forgetting does to it,
# so a new table holding member data fails here until it is handled.
# Then: who may forget (admins; volunteers, leads and another org's admin
# may not), the typed confirmation, hostile numbers, the preview, the
# forget itself (names, fields, notes, tags, conversations, outreach,
# bodies in and out gone; opt-out, consent events, subscriptions and
# consent-evidence messages kept, and said so), a second member left
# untouched, the audit event without the number in clear, a replay.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dashboard_lib.sh"
dash_setup
"$BIN/ops/tocsinctl" org create other --name "Other Org" >/dev/null
echo "other admin password" | "$BIN/ops/tocsinctl" user add --org other --email admin@other.test --role admin --password-stdin >/dev/null
no_two_factor other # as dash_setup does for demo: a password alone (two-factor login is tested elsewhere)
assert_eq "$(login vol1 vol1@demo.test)" 200 "volunteer logs in"
assert_eq "$(login lead lead@demo.test)" 200 "lead logs in"
assert_eq "$(login admin admin@demo.test)" 200 "admin logs in"
assert_eq "$(login other admin@other.test 'other admin password')" 200 "another org's admin logs in"
VOL=$(sql "SELECT id FROM users WHERE email = 'vol1@demo.test'")

# --- every member-data column is accounted for ---
unhandled=$(sql "SELECT string_agg(c.table_name || '.' || c.column_name, ' ' ORDER BY 1)
  FROM information_schema.columns c JOIN information_schema.tables t USING (table_schema, table_name)
 WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
   AND c.column_name ~ '(phone|contact|first_name|last_name|^zip$|^fields$|body$|script$|^details$|^evidence$|^note)'
   AND NOT EXISTS (SELECT 1 FROM tocsin_member_data_columns() m
                    WHERE m.table_name = c.table_name AND m.column_name = c.column_name)")
assert_eq "$unhandled" "" "columns holding member data that forget.sql does not name"
stale=$(sql "SELECT string_agg(m.table_name || '.' || m.column_name, ' ') FROM tocsin_member_data_columns() m
  WHERE NOT EXISTS (SELECT 1 FROM information_schema.columns c
                     WHERE c.table_schema = 'public' AND c.table_name = m.table_name AND c.column_name = m.column_name)")
assert_eq "$stale" "" "forget.sql names columns that do not exist"

# --- two members with everything a member can have ---
# member PHONE NAME: a conversation with her reply, names and fields, a
# note and a tag, an outreach text and answer, a confirmation outside the
# conversation, a queued reply, her JOIN (consent evidence), a list
# subscription with its consent event, and a STOP on record.
LIST=$(sql "INSERT INTO lists (org_id, name) VALUES ($ORG, 'Members') RETURNING id")
TAG=$(sql "INSERT INTO tags (org_id, name) VALUES ($ORG, 'hot') RETURNING id")
member() {
  local phone=$1 conv contact inb
  conv=$(member_writes "$phone" "my secret words $2")
  sql "UPDATE conversations SET assignee_id = $VOL, assigned_at = now() WHERE id = $conv" >/dev/null
  contact=$(sql "SELECT contact_id FROM conversations WHERE id = $conv")
  sql "UPDATE contacts SET first_name = '$2', last_name = 'Lastname$2', zip = '94110', timezone = 'America/Los_Angeles',
              language = 'en', fields = '{\"county\": \"County$2\", \"union\": \"Local$2\"}' WHERE id = $contact;
       INSERT INTO conversation_notes (org_id, conversation_id, user_id, body) VALUES ($ORG, $conv, $VOL, 'note about $2');
       INSERT INTO conversation_tags (org_id, conversation_id, tag_id) VALUES ($ORG, $conv, $TAG);
       INSERT INTO messages (org_id, sender_id, provider, to_phone, contact_id, body, encoding, segments, lane, purpose,
                             state, provider_message_id)
       VALUES ($ORG, $SENDER, 'twilio', '$phone', $contact, 'Welcome $2 to the list', 'GSM-7', 1, 'conversational',
               'confirmation', 'delivered', 'SMconf$2'),
              ($ORG, $SENDER, 'twilio', '$phone', $contact, 'queued for $2', 'GSM-7', 1, 'conversational',
               'reply', 'queued', NULL);
       UPDATE messages SET conversation_id = $conv WHERE body = 'queued for $2';" >/dev/null
  inb=$(sql "INSERT INTO inbound_messages (org_id, sender_id, provider, provider_message_id, from_phone, contact_id, body, intent)
             VALUES ($ORG, $SENDER, 'twilio', 'SMjoin$2', '$phone', $contact, 'JOIN', 'keyword') RETURNING id")
  sql "INSERT INTO subscriptions (org_id, list_id, contact_id, source, evidence_inbound_id) VALUES ($ORG, $LIST, $contact, 'keyword', $inb);
       INSERT INTO consent_events (org_id, phone, event, source, list_id, evidence) VALUES ($ORG, '$phone', 'opt_in', 'keyword', $LIST, '$inb');" >/dev/null
}
member +14155550123 Ana
ANA_CONV=$(sql "SELECT c.id FROM conversations c JOIN contacts ct ON ct.id = c.contact_id WHERE ct.phone = '+14155550123'")
outreach_answered "$ANA_CONV" "$VOL" "Rally Saturday, Ana?"
ANA=$CONTACT
sql "INSERT INTO opt_outs (org_id, phone, source) VALUES ($ORG, '+14155550123', 'keyword');
     INSERT INTO consent_events (org_id, phone, event, source) VALUES ($ORG, '+14155550123', 'opt_out', 'keyword')" >/dev/null
member +14155550177 Bea
BEA=$(sql "SELECT id FROM contacts WHERE phone = '+14155550177'")

# rows PHONE CONTACT: what the member has, table by table (one line).
rows() {
  sql "SELECT concat_ws(' ',
    'names=' || (SELECT count(*) FROM contacts WHERE id = $2 AND (first_name IS NOT NULL OR last_name IS NOT NULL OR zip IS NOT NULL
                                                                 OR timezone IS NOT NULL OR language IS NOT NULL OR fields <> '{}')),
    'conversations=' || (SELECT count(*) FROM conversations WHERE contact_id = $2),
    'notes=' || (SELECT count(*) FROM conversation_notes n JOIN conversations c ON c.id = n.conversation_id WHERE c.contact_id = $2),
    'tags=' || (SELECT count(*) FROM conversation_tags x JOIN conversations c ON c.id = x.conversation_id WHERE c.contact_id = $2),
    'out_bodies=' || (SELECT count(*) FROM messages WHERE org_id = $ORG AND to_phone = '$1' AND body <> ''),
    'out_linked=' || (SELECT count(*) FROM messages WHERE org_id = $ORG AND to_phone = '$1' AND conversation_id IS NOT NULL),
    'queued=' || (SELECT count(*) FROM messages WHERE org_id = $ORG AND to_phone = '$1' AND state = 'queued'),
    'in_bodies=' || (SELECT count(*) FROM inbound_messages WHERE org_id = $ORG AND from_phone = '$1' AND body <> ''),
    'in_linked=' || (SELECT count(*) FROM inbound_messages WHERE org_id = $ORG AND from_phone = '$1' AND conversation_id IS NOT NULL),
    'targets=' || (SELECT count(*) FROM outreach_targets WHERE contact_id = $2),
    'answers=' || (SELECT count(*) FROM outreach_answers WHERE contact_id = $2),
    'subs=' || (SELECT count(*) FROM subscriptions WHERE contact_id = $2),
    'subs_live=' || (SELECT count(*) FROM subscriptions WHERE contact_id = $2 AND unsubscribed_at IS NULL),
    'consent=' || (SELECT count(*) FROM consent_events WHERE org_id = $ORG AND phone = '$1'),
    'opt_out=' || (SELECT count(*) FROM opt_outs WHERE org_id = $ORG AND phone = '$1'),
    'delivery=' || (SELECT count(*) FROM messages WHERE org_id = $ORG AND to_phone = '$1'))"
}
ANA_BEFORE="names=1 conversations=1 notes=1 tags=1 out_bodies=3 out_linked=2 queued=2 in_bodies=2 in_linked=1 targets=1 answers=1 subs=1 subs_live=1 consent=2 opt_out=1 delivery=3"
BEA_BEFORE="names=1 conversations=1 notes=1 tags=1 out_bodies=2 out_linked=1 queued=1 in_bodies=2 in_linked=1 targets=0 answers=0 subs=1 subs_live=1 consent=1 opt_out=0 delivery=2"
assert_eq "$(rows +14155550123 "$ANA")" "$ANA_BEFORE" "Ana before"
assert_eq "$(rows +14155550177 "$BEA")" "$BEA_BEFORE" "Bea before"

# --- who may, and hostile input: nothing changes ---
j() { node -e 'const o = {}; for (let i = 1; i < process.argv.length; i += 2) o[process.argv[i]] = process.argv[i + 1]; process.stdout.write(JSON.stringify(o))' "$@"; }
a0=$(sql "SELECT count(*) FROM audit_events")
assert_eq "$(call vol1 POST /api/contacts/forget "$(j phone 4155550123 confirm FORGET)")" 403 "a volunteer may not forget"
assert_eq "$(call lead POST /api/contacts/forget "$(j phone 4155550123 confirm FORGET)")" 403 "a lead may not forget"
assert_eq "$(call lead POST /api/contacts/forget/preview "$(j phone 4155550123)")" 403 "a lead may not preview"
assert_eq "$(call other POST /api/contacts/forget "$(j phone 4155550123 confirm FORGET)")" 404 "another org's admin: not her member"
assert_eq "$(call admin POST /api/contacts/forget "$(j phone 4155550123)")" 400 "no confirmation"
assert_contains "$(jq_ 'd.error.message')" "type FORGET" "says what to type"
assert_eq "$(call admin POST /api/contacts/forget "$(j phone 4155550123 confirm yes)")" 400 "the wrong word"
assert_eq "$(call admin POST /api/contacts/forget "$(j phone 4155550123 confirm FORGETT)")" 400 "a longer word"
assert_eq "$(call admin POST /api/contacts/forget "$(j phone "$(head -c 5000 /dev/zero | tr '\0' 9)" confirm FORGET)")" 400 "an oversized number"
assert_eq "$(call admin POST /api/contacts/forget "$(j phone "'; DELETE FROM contacts; --" confirm FORGET)")" 400 "not a number"
assert_eq "$(call admin POST /api/contacts/forget "$(j phone 4155559999 confirm FORGET)")" 404 "a number the org does not have"
assert_eq "$(rows +14155550123 "$ANA")" "$ANA_BEFORE" "refusals changed nothing"
assert_eq "$(sql "SELECT count(*) FROM audit_events")" "$a0" "and audited nothing"

# --- the preview says what would go and what stays ---
assert_eq "$(call admin POST /api/contacts/forget/preview "$(j phone '(415) 555-0123')")" 200 "the admin previews"
assert_eq "$(jq_ '[d.dry_run, d.phone, d.removed.conversations, d.removed.notes, d.removed.outbound_bodies, d.removed.inbound_bodies, d.removed.outreach, d.kept.opted_out, d.kept.consent_events].join()')" \
  "true,•••0123,1,1,3,1,2,true,2" "the preview's counts"
assert_eq "$(rows +14155550123 "$ANA")" "$ANA_BEFORE" "the preview changed nothing"

# --- forget ---
assert_eq "$(call admin POST /api/contacts/forget "$(j phone '+1 415 555 0123' confirm ' forget ')")" 200 "the admin forgets Ana"
assert_eq "$(jq_ '[d.removed.conversations, d.removed.notes, d.removed.outbound_bodies, d.removed.inbound_bodies, d.removed.outreach, d.removed.queued_cancelled, d.removed.subscriptions_ended, d.kept.opted_out, d.kept.consent_events, d.kept.consent_evidence_bodies].join()')" \
  "1,1,3,1,2,2,1,true,2,1" "what went and what was kept"
assert_eq "$(rows +14155550123 "$ANA")" \
  "names=0 conversations=0 notes=0 tags=0 out_bodies=0 out_linked=0 queued=0 in_bodies=1 in_linked=0 targets=0 answers=0 subs=1 subs_live=0 consent=2 opt_out=1 delivery=3" \
  "Ana after: only her JOIN (consent evidence), consent history, opt-out and delivery facts stay"
assert_eq "$(sql "SELECT body FROM inbound_messages WHERE from_phone = '+14155550123' AND body <> ''")" JOIN "the kept body is her JOIN"
assert_eq "$(sql "SELECT concat_ws(',', state, segments, provider_message_id, body_chars) FROM messages WHERE provider_message_id = 'SMconfAna'")" \
  "delivered,1,SMconfAna,23" "delivery facts stay without the text"
assert_eq "$(sql "SELECT count(*) FROM contacts WHERE id = $ANA AND forgotten_at IS NOT NULL AND phone = '+14155550123'")" 1 \
  "the contact stays as a number (her subscriptions and opt-out are by it)"
assert_eq "$(rows +14155550177 "$BEA")" "$BEA_BEFORE" "Bea untouched"
assert_eq "$(sql "SELECT count(*) FROM audit_events WHERE action = 'contact.forget' AND subject_id = $ANA
                  AND details->>'phone' = '•••0123' AND user_id = (SELECT id FROM users WHERE email = 'admin@demo.test')")" 1 "audited, masked"
assert_eq "$(sql "SELECT count(*) FROM audit_events WHERE details::text LIKE '%4155550123%'")" 0 "no audit row holds the number in clear"
# The volunteer who held the conversation no longer sees it.
assert_eq "$(call vol1 GET "/api/conversations/$ANA_CONV")" 404 "the conversation is gone"

# --- replay: nothing more to do ---
assert_eq "$(call admin POST /api/contacts/forget "$(j phone 4155550123 confirm FORGET)")" 200 "forgetting again"
assert_eq "$(jq_ '[d.removed.contact_details, d.removed.conversations, d.removed.outbound_bodies, d.removed.inbound_bodies].join()')" "0,0,0,0" "finds nothing left"

# --- tocsinctl: asks for --yes, says what the law keeps ---
out=$("$BIN/ops/tocsinctl" contacts forget --org demo 415-555-0177)
assert_contains "$out" "nothing changed: run again with --yes" "without --yes"
assert_contains "$out" "consent events (kept five years)" "says what is kept"
assert_eq "$(rows +14155550177 "$BEA")" "$BEA_BEFORE" "tocsinctl without --yes changed nothing"
out=$("$BIN/ops/tocsinctl" contacts forget --org demo --yes 415-555-0177)
assert_contains "$out" "forgot •••0177" "forgot Bea"
assert_eq "$(rows +14155550177 "$BEA")" \
  "names=0 conversations=0 notes=0 tags=0 out_bodies=0 out_linked=0 queued=0 in_bodies=1 in_linked=0 targets=0 answers=0 subs=1 subs_live=0 consent=1 opt_out=0 delivery=2" \
  "Bea after"
"$BIN/ops/tocsinctl" contacts forget --org other --yes 415-555-0177 >/dev/null 2>&1 && fail "another org has no such member"
"$BIN/ops/tocsinctl" contacts forget --org demo --yes not-a-number >/dev/null 2>&1 && fail "a bad number is refused"
echo ok
