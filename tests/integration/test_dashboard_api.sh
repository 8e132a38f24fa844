#!/usr/bin/env bash
# The dashboard's API against a real tocsin-dashboard and PostgreSQL:
# logins (cookie flags, hashed tokens, throttling), CSRF and Origin on
# every state-changing route, expiry and logout, role scoping on every
# route of the router's table (a volunteer never reaches another's
# conversation), claiming without overlap, replies queued for the worker,
# opt-outs, notes and tags, invites, live events, auto-release, and
# member-written text returned as data.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dashboard_lib.sh"
dash_setup TOCSIN_SESSION_TTL_S=600 TOCSIN_DASHBOARD_RELEASE_AFTER_S=0

XSS_NAME='<img src=x onerror=alert(1)>'
XSS_BODY='<script>alert("pwned")</script> & "quotes"'
c1=$(member_writes +14155550101 "$XSS_BODY")
c2=$(member_writes +14155550102 "SECRET-vol2 please call me")
c3=$(member_writes +14155550103 "stop texting me please" true)
for i in $(seq 10 49); do member_writes "+141555501$i" "hello $i" >/dev/null; done
sql "UPDATE contacts SET first_name = \$n\$$XSS_NAME\$n\$, fields = '{\"ward\": \"<b>7</b>\"}' WHERE phone = '+14155550101'"
# Volunteers see the first name only unless the org shows them more
# (test_volunteer_fields): this org shows the ward, so its markup comes back.
sql "UPDATE orgs SET volunteer_fields = '{first_name,ward}' WHERE id = $ORG" >/dev/null

# --- logging in ---
assert_eq "$(login bad vol1@demo.test wrong-password)" 401 "wrong password"
assert_eq "$(login bad nobody@demo.test tocsin-demo)" 401 "unknown email"
assert_eq "$(login vol1 vol1@demo.test)" 200 "volunteer 1 logs in"
assert_eq "$(login vol2 VOL2@demo.test)" 200 "volunteer 2 logs in (email case-insensitive)"
assert_eq "$(login lead lead@demo.test)" 200 "lead logs in"
assert_eq "$(login admin admin@demo.test)" 200 "admin logs in"
headers=$(curl -s -D - -o /dev/null -X POST "$DASH/api/login" -d '{"email":"vol1@demo.test","password":"tocsin-demo"}')
cookie=$(grep -i '^Set-Cookie:' <<<"$headers" | tr -d '\r')
assert_contains "$cookie" "HttpOnly" "session cookie is HttpOnly"
assert_contains "$cookie" "SameSite=Strict" "session cookie is SameSite=Strict"
assert_contains "$cookie" "Path=/" "session cookie path"
[[ "$cookie" != *Secure* ]] || fail "no Secure flag over plain http: $cookie"
token=$(sed -E 's/.*tocsin_session=([^;]*);.*/\1/' <<<"$cookie")
[ ${#token} -ge 43 ] || fail "session token too short: $token"
assert_eq "$(sql "SELECT count(*) FROM sessions WHERE token_hash = sha256('$token'::bytea)")" 1 "the session is stored as the token's SHA-256"
assert_eq "$(sql "SELECT count(*) FROM sessions WHERE encode(token_hash, 'escape') LIKE '%$token%' OR csrf_token = '$token'")" 0 "the token itself is not stored"
ttl=$(sql "SELECT round(extract(epoch FROM expires_at - now())) FROM sessions WHERE token_hash = sha256('$token'::bytea)")
[ "$ttl" -gt 590 ] && [ "$ttl" -le 600 ] || fail "session expiry follows TOCSIN_SESSION_TTL_S: $ttl"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "$DASH/api/me")" 401 "no cookie: 401"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' -b 'tocsin_session=forged' "$DASH/api/me")" 401 "forged cookie: 401"
assert_eq "$(call vol1 GET /api/me)" 200 "me"
assert_eq "$(jq_ 'd.user.role')" volunteer "me: role"
assert_eq "$(jq_ 'd.csrf_token')" "$(cat "$TMP/vol1.csrf")" "me returns the session's CSRF token"

# --- claiming: two volunteers at once never get the same conversation ---
for i in 1 2 3 4; do
  curl -s -b "$TMP/vol1.jar" -H "X-CSRF-Token: $(cat "$TMP/vol1.csrf")" -X POST "$DASH/api/conversations/claim" \
    -d '{"count":5}' >"$TMP/claim_v1_$i" &
  curl -s -b "$TMP/vol2.jar" -H "X-CSRF-Token: $(cat "$TMP/vol2.csrf")" -X POST "$DASH/api/conversations/claim" \
    -d '{"count":5}' >"$TMP/claim_v2_$i" &
done
wait_claims() { local j; for j in $(jobs -p); do [ "$j" = "$DASH_PID" ] || wait "$j"; done; }
wait_claims
claimed=$(node -e '
  const fs = require("fs");
  const ids = process.argv.slice(1).flatMap((f) => JSON.parse(fs.readFileSync(f, "utf8")).claimed);
  process.stdout.write(`${ids.length} ${new Set(ids).size}`)' "$TMP"/claim_v*)
assert_eq "$claimed" "40 40" "8 concurrent claims of 5 take 40 different conversations"
assert_eq "$(sql "SELECT count(*) FROM conversations WHERE assignee_id IS NOT NULL")" 40 "40 assigned"
assert_eq "$(sql "SELECT count(*) FROM audit_events WHERE action = 'conversation.claim'")" 40 "every claim audited"
# Oldest first: c1..c3 were written first and are among the claimed.
assert_eq "$(sql "SELECT count(*) FROM conversations WHERE id IN ($c1, $c2, $c3) AND assignee_id IS NOT NULL")" 3 "oldest first"
V1=$(sql "SELECT id FROM users WHERE email = 'vol1@demo.test'")
V2=$(sql "SELECT id FROM users WHERE email = 'vol2@demo.test'")
LEAD=$(sql "SELECT id FROM users WHERE email = 'lead@demo.test'")
# Give c1 and c3 to volunteer 1 and c2 to volunteer 2, as a lead would.
for pair in "$c1:$V1" "$c3:$V1" "$c2:$V2"; do
  assert_eq "$(call lead POST "/api/conversations/${pair%%:*}/assign" "{\"user_id\":${pair#*:}}")" 200 "lead reassigns"
done
assert_eq "$(sql "SELECT count(*) FROM audit_events WHERE action = 'conversation.assign' AND user_id = $LEAD")" 3 "reassignments audited"
assert_eq "$(call vol1 POST "/api/conversations/$c2/assign" "{\"user_id\":$V1}")" 403 "a volunteer cannot reassign"
# Who took it: only the volunteer a lead moved it away from learns, names only.
cx=$(member_writes +14155550188 "who will answer me?")
assert_eq "$(call lead POST "/api/conversations/$cx/assign" "{\"user_id\":$V1}")" 200 "lead gives a new conversation to volunteer 1"
assert_eq "$(call vol1 GET "/api/conversations/$cx/handoff")" 404 "no hand-off while the conversation is hers"
assert_eq "$(call vol2 GET "/api/conversations/$cx/handoff")" 404 "nor for a volunteer who never had it"
assert_eq "$(call lead POST "/api/conversations/$cx/assign" "{\"user_id\":$V2}")" 200 "lead moves it to volunteer 2"
assert_eq "$(call vol1 GET "/api/conversations/$cx/handoff")" 200 "volunteer 1 may ask who took it"
assert_eq "$(jq_ '[d.to, d.by].join("|")')" "Vic Volunteer|Lee Lead" "the hand-off names who took it and who moved it"
assert_eq "$(jq_ 'Object.keys(d).sort().join(",")')" "at,by,conversation_id,to" "and nothing of the member"
assert_eq "$(call vol2 GET "/api/conversations/$cx/handoff")" 404 "the new holder has no hand-off to see"
assert_eq "$(call lead POST "/api/conversations/$cx/assign" "{\"user_id\":$V1}")" 200 "lead gives it back"
assert_eq "$(call vol1 GET "/api/conversations/$cx/handoff")" 404 "hers again: no hand-off"
assert_eq "$(call vol2 GET "/api/conversations/$cx/handoff")" 200 "now volunteer 2 may ask who took it"
assert_eq "$(call lead POST "/api/conversations/$cx/close")" 200 "the lead closes it (out of the way of what follows)"

# --- the inbox ---
assert_eq "$(call vol1 GET /api/conversations)" 200 "inbox"
assert_eq "$(jq_ 'd.every((c) => c.assignee.id === '"$V1"')')" true "only my conversations"
assert_eq "$(jq_ 'd.some((c) => c.id === '"$c2"')')" false "not volunteer 2's"
assert_eq "$(jq_ 'd.find((c) => c.id === '"$c1"').first_name')" "$XSS_NAME" "a contact's name comes back as data, unchanged"
assert_eq "$(jq_ 'd.find((c) => c.id === '"$c1"').phone')" "•••0101" "volunteers see the last digits only"
assert_eq "$(jq_ 'd.find((c) => c.id === '"$c3"').likely_opt_out')" true "likely opt-out flag"
assert_eq "$(jq_ 'd.find((c) => c.id === '"$c1"').unread')" 1 "unread count"
ct=$(curl -s -o /dev/null -w '%{content_type}' -b "$TMP/vol1.jar" "$DASH/api/conversations/$c1")
assert_eq "$ct" "application/json" "API answers are JSON, never HTML"
assert_eq "$(call vol1 GET "/api/conversations/$c1")" 200 "conversation"
assert_eq "$(jq_ 'd.messages[0].body')" "$XSS_BODY" "a member's message comes back as data, unchanged"
assert_eq "$(jq_ 'd.messages[0].direction')" inbound "thread direction"
assert_eq "$(jq_ 'd.contact.fields.ward')" "<b>7</b>" "contact fields"
assert_eq "$(call lead GET "/api/conversations/$c1")" 200 "a lead sees any conversation of the org"
assert_eq "$(jq_ 'd.contact.phone')" "+14155550101" "leads see the number"

# --- CSRF and Origin on every state-changing route ---
# The route table as the binary holds it (METHOD PATH ROLE ACCESS HANDLER);
# the outreach routes are tried in test_outreach_api.sh.
routes=$("$BIN/dashboard/tocsin-dashboard" --routes | awk '$2 !~ /outreach/ {print $1, $2, $3, $4}')
[ "$(wc -l <<<"$routes")" -ge 25 ] || fail "could not read the route table: $routes"
audits_before=$(sql "SELECT count(*) FROM audit_events")
msgs_before=$(sql "SELECT count(*) FROM messages")
while read -r method pattern role flags; do
  [ "$method" = GET ] && continue
  [ "$flags" = public ] && continue
  path=$(sed -e "s/:id/$c1/g" <<<"$pattern")
  code=$(curl -s -o /dev/null -w '%{http_code}' -b "$TMP/vol1.jar" -X "$method" "$DASH$path" -d '{"body":"x","count":1}')
  assert_eq "$code" 403 "$method $pattern without a CSRF token"
  code=$(curl -s -o /dev/null -w '%{http_code}' -b "$TMP/vol1.jar" -H 'X-CSRF-Token: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' \
         -X "$method" "$DASH$path" -d '{"body":"x","count":1}')
  assert_eq "$code" 403 "$method $pattern with a wrong CSRF token"
  code=$(curl -s -o /dev/null -w '%{http_code}' -b "$TMP/vol1.jar" -H "X-CSRF-Token: $(cat "$TMP/vol1.csrf")" \
         -H 'Origin: https://evil.example' -X "$method" "$DASH$path" -d '{"body":"x","count":1}')
  assert_eq "$code" 403 "$method $pattern from another origin"
  # Another session's CSRF token does not work either.
  code=$(curl -s -o /dev/null -w '%{http_code}' -b "$TMP/vol1.jar" -H "X-CSRF-Token: $(cat "$TMP/vol2.csrf")" \
         -X "$method" "$DASH$path" -d '{"body":"x","count":1}')
  assert_eq "$code" 403 "$method $pattern with another session's token"
done <<<"$routes"
assert_eq "$(sql "SELECT count(*) FROM audit_events")" "$audits_before" "refused requests changed nothing"
assert_eq "$(sql "SELECT count(*) FROM messages")" "$msgs_before" "refused requests sent nothing"
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$TMP/vol1.jar" -H "X-CSRF-Token: $(cat "$TMP/vol1.csrf")" \
       -H "Origin: $DASH" -X POST "$DASH/api/conversations/$c1/read")
assert_eq "$code" 200 "same-origin request with the token"

# --- role scoping on every route: volunteer 1 against volunteer 2's conversation ---
before=$(sql "SELECT row(c.*)::text FROM conversations c WHERE id = $c2")
notes_before=$(sql "SELECT count(*) FROM conversation_notes")
sql "INSERT INTO tags (org_id, name) VALUES ($ORG, 'volunteer') ON CONFLICT DO NOTHING" >/dev/null
TAG=$(sql "SELECT id FROM tags WHERE name = 'volunteer'")
sql "INSERT INTO conversation_tags (org_id, conversation_id, tag_id) VALUES ($ORG, $c2, $TAG)" >/dev/null
checked=0
while read -r method pattern role flags; do
  [ "$pattern" = /api/logout ] && continue   # ends the session: tested below
  [ "$pattern" = /api/logout-everywhere ] && continue   # test_dashboard_sessions
  [ "$pattern" = /api/events ] && continue   # a stream: tested below
  path=$(sed -e "s/:id\/tags\/:id/$c2\/tags\/$TAG/; s/:id/$c2/g; s/:token/not-a-real-token/g" <<<"$pattern")
  body="{\"body\":\"scoping\",\"count\":1,\"user_id\":$V1,\"tag_id\":$TAG,\"name\":\"x$RANDOM\",\"title\":\"t$RANDOM\",\"email\":\"x$RANDOM@demo.test\",\"password\":\"long enough password\",\"role\":\"admin\"}"
  code=$(call vol1 "$method" "$path" "$body")
  if [ "$flags" = public ]; then
    [[ "$code" == 4* ]] || fail "$method $pattern with a bad token: got $code"
  elif [ "$role" != volunteer ]; then
    assert_eq "$code" 403 "$method $pattern needs a $role"
  elif [[ "$pattern" == */handoff ]]; then
    # Her own hand-off when a lead moved c2 away from her: tested above.
    from=$(sql "SELECT details->>'from' FROM audit_events WHERE action = 'conversation.assign' AND subject_id = $c2
                 ORDER BY created_at DESC, id DESC LIMIT 1")
    assert_eq "$code" "$([ "$from" = "$V1" ] && echo 200 || echo 404)" "$method $path: only for the volunteer it was taken from"
  elif [[ "$pattern" == /api/login/code || "$pattern" == /api/two-factor/enrol/confirm ||
          "$pattern" == /api/two-factor/disable || "$pattern" == /api/two-factor/recovery-codes ]]; then
    # No code is owed, or none was given (test_dashboard_two_factor).
    [[ "$code" == 4* ]] || fail "$method $pattern without a code: got $code"
  elif [[ "$pattern" == *:id* ]]; then
    assert_eq "$code" 404 "$method $path: another volunteer's conversation is not found"
  else
    [[ "$code" == 2* ]] || fail "$method $pattern: got $code"
    [[ "$(cat "$TMP/out")" != *SECRET-vol2* ]] || fail "$method $pattern leaks volunteer 2's conversation"
  fi
  # Without a session every private route is 401.
  if [ "$flags" != public ]; then
    code=$(curl -s -o /dev/null -w '%{http_code}' -X "$method" "$DASH$path" -H 'X-CSRF-Token: x' -d "$body")
    assert_eq "$code" 401 "$method $pattern without a session"
  fi
  checked=$((checked + 1))
done <<<"$routes"
[ $checked -ge 23 ] || fail "only $checked routes checked"
assert_eq "$(sql "SELECT row(c.*)::text FROM conversations c WHERE id = $c2")" "$before" "volunteer 2's conversation untouched"
assert_eq "$(sql "SELECT count(*) FROM conversation_notes WHERE conversation_id = $c2")" 0 "no note on it"
assert_eq "$(sql "SELECT count(*) FROM conversation_tags WHERE conversation_id = $c2")" 1 "its tag still there"
assert_eq "$(sql "SELECT count(*) FROM messages WHERE conversation_id = $c2")" 0 "nothing sent on it"
assert_eq "$(sql "SELECT count(*) FROM opt_outs")" 0 "nobody opted out"
assert_eq "$(call vol2 GET "/api/conversations/$c2")" 200 "volunteer 2 still sees it"
assert_eq "$(call vol1 GET /api/conversations/999999)" 404 "no such conversation"
assert_eq "$(call vol1 GET /api/conversations/abc)" 404 "not an id"
assert_eq "$(call vol1 PUT /api/conversations/$c1)" 405 "unknown method on the API"

# --- replying ---
assert_eq "$(call vol1 POST "/api/conversations/$c1/reply" '{"body":"Hi there, thanks for writing back! 😀"}')" 201 "reply queued"
mid=$(jq_ 'd.id')
row=$(sql "SELECT lane, purpose, state, sent_by_user_id, conversation_id, to_phone, provider, encoding, segments,
                  contact_id = (SELECT contact_id FROM conversations WHERE id = $c1), sender_id = $SENDER
             FROM messages WHERE id = $mid")
assert_eq "$row" "conversational|reply|queued|$V1|$c1|+14155550101|twilio|UCS-2|1|t|t" "the queued row"
assert_eq "$(sql "SELECT count(*) FROM audit_events WHERE action = 'message.send' AND subject_id = $mid AND user_id = $V1")" 1 "send audited"
long=$(head -c 161 /dev/zero | tr '\0' a)
assert_eq "$(call vol1 POST "/api/conversations/$c1/reply" "{\"body\":\"$long\"}")" 201 "two-segment reply"
assert_eq "$(jq_ 'd.segments + " " + d.encoding')" "2 GSM-7" "segments counted with lib/sms"
toolong=$(head -c 1601 /dev/zero | tr '\0' a)
assert_eq "$(call vol1 POST "/api/conversations/$c1/reply" "{\"body\":\"$toolong\"}")" 422 "over 1600 characters"
assert_eq "$(call vol1 POST "/api/conversations/$c1/reply" '{"body":""}')" 400 "empty reply"
assert_eq "$(call vol1 POST "/api/conversations/$c1/reply" '{"body":"a\u0000b"}')" 400 "a NUL is refused"
assert_eq "$(call vol1 POST "/api/conversations/$c1/reply" 'not json')" 400 "bad JSON"
assert_eq "$(call vol1 GET "/api/conversations/$c1")" 200 "thread after replying"
assert_eq "$(jq_ 'd.messages.map((m) => m.direction + ":" + m.state).join(",")')" "inbound:received,outbound:queued,outbound:queued" "both directions with delivery state"
assert_eq "$(jq_ 'd.unread')" 0 "replying marks read"

# --- notes, tags, canned responses ---
assert_eq "$(call vol1 POST "/api/conversations/$c1/notes" "{\"body\":\"<i>call back</i>\"}")" 201 "note"
assert_eq "$(call vol1 POST "/api/conversations/$c1/notes" "{\"body\":\"$(head -c 2001 /dev/zero | tr '\0' n)\"}")" 422 "too long a note"
assert_eq "$(call lead POST /api/tags '{"name":"needs ride"}')" 201 "lead creates a tag"
ride=$(jq_ 'd.id')
assert_eq "$(call vol1 POST /api/tags '{"name":"x"}')" 403 "volunteers do not create tags"
assert_eq "$(call vol1 POST "/api/conversations/$c1/tags" "{\"tag_id\":$ride}")" 200 "tag a conversation"
assert_eq "$(call lead POST /api/canned-responses '{"title":"Thanks","body":"Thanks {first_name}!"}')" 201 "canned response"
assert_eq "$(call vol1 GET /api/canned-responses)" 200 "canned responses"
assert_eq "$(jq_ 'd[0].body')" 'Thanks {first_name}!' "fields are filled in by the page"
assert_eq "$(call vol1 GET "/api/conversations/$c1")" 200 "conversation with extras"
assert_eq "$(jq_ 'd.tags.map((t) => t.name).join() + "|" + d.notes[0].body + "|" + d.notes[0].by')" "needs ride|<i>call back</i>|Val Volunteer" "tags and notes"
assert_eq "$(call vol1 DELETE "/api/conversations/$c1/tags/$ride")" 200 "untag"
assert_eq "$(jq_ 'd.removed')" true "untagged"

# --- opt-outs ---
assert_eq "$(call vol1 GET "/api/conversations/$c3")" 200 "likely opt-out"
assert_eq "$(jq_ 'd.likely_opt_out')" true "flag shown"
assert_eq "$(call vol1 POST "/api/conversations/$c3/reply" '{"body":"Sorry to bother you"}')" 201 "a reply is queued"
queued=$(jq_ 'd.id')
msgs=$(sql "SELECT count(*) FROM messages")
assert_eq "$(call vol1 POST "/api/conversations/$c3/opt-out")" 200 "confirm the opt-out"
assert_eq "$(jq_ 'd.cancelled')" 1 "its queued message is cancelled"
assert_eq "$(sql "SELECT state FROM messages WHERE id = $queued")" cancelled "cancelled in the queue"
assert_eq "$(sql "SELECT count(*) FROM messages")" "$msgs" "nothing sent for the opt-out"
assert_eq "$(sql "SELECT source, evidence FROM opt_outs WHERE phone = '+14155550103'")" "volunteer|user $V1" "opt-out recorded"
assert_eq "$(sql "SELECT event || ':' || source FROM consent_events WHERE phone = '+14155550103'")" "opt_out:volunteer" "consent event"
assert_eq "$(sql "SELECT count(*) FROM audit_events WHERE action = 'contact.opt_out' AND user_id = $V1")" 1 "opt-out audited"
assert_eq "$(sql "SELECT likely_opt_out FROM conversations WHERE id = $c3")" f "flag cleared"
assert_eq "$(call vol1 POST "/api/conversations/$c3/reply" '{"body":"one more?"}')" 409 "no reply to an opted-out number"
assert_eq "$(jq_ 'd.error.code')" opted_out "says why"
assert_eq "$(call vol1 POST "/api/conversations/$c3/opt-out")" 200 "opting out twice is harmless"
assert_eq "$(jq_ 'd.already')" true "already opted out"
assert_eq "$(sql "SELECT count(*) FROM consent_events WHERE phone = '+14155550103'")" 1 "one consent event"

# --- release, close ---
assert_eq "$(call vol1 POST "/api/conversations/$c1/release")" 200 "release"
assert_eq "$(sql "SELECT coalesce(assignee_id::text, 'none') FROM conversations WHERE id = $c1")" none "back in the pool"
assert_eq "$(sql "SELECT count(*) FROM audit_events WHERE action = 'conversation.release' AND subject_id = $c1")" 1 "release audited"
assert_eq "$(call vol1 GET "/api/conversations/$c1")" 404 "a released conversation is no longer mine"
assert_eq "$(call vol1 GET /api/conversations/waiting)" 200 "volunteers see how many wait"
assert_eq "$(jq_ 'd.waiting')" "$(sql "SELECT count(*) FROM conversations WHERE assignee_id IS NULL AND state = 'open'")" "the pool's size"
assert_eq "$(call lead GET /api/conversations/pool)" 200 "the pool"
assert_eq "$(jq_ 'd.waiting + " " + d.oldest[0].id')" "$(sql "SELECT count(*) FROM conversations WHERE assignee_id IS NULL AND state = 'open'") $c1" "leads see the pool, oldest first"
assert_eq "$(jq_ 'd.holders.map((h) => h.display_name).join()')" "Val Volunteer,Vic Volunteer" "and who holds what"
# Every open conversation of the org, newest reply first (chosen on
# conversations alone since schema 036); not a closed one, not another
# org's, however recent their replies.
other=$(sql "WITH o AS (INSERT INTO orgs (slug, name) VALUES ('elsewhere', 'Elsewhere') RETURNING id),
                  s AS (INSERT INTO senders (org_id, provider, address, kind, account_sid, credentials_sealed, messages_per_second)
                        SELECT o.id, x.provider, '97531', x.kind, x.account_sid, x.credentials_sealed, x.messages_per_second
                          FROM o, senders x WHERE x.id = $SENDER RETURNING id, org_id),
                  c AS (INSERT INTO contacts (org_id, phone) SELECT org_id, '+14155550199' FROM s RETURNING id, org_id)
             INSERT INTO conversations (org_id, contact_id, sender_id, last_inbound_at)
             SELECT c.org_id, c.id, s.id, now() + interval '1 day' FROM c, s RETURNING id")
closed=$(member_writes +14155550198 "a closed one")
sql "UPDATE conversations SET state = 'closed', last_inbound_at = now() + interval '1 day' WHERE id = $closed" >/dev/null
assert_eq "$(call lead GET /api/conversations/all)" 200 "all open conversations"
assert_eq "$(jq_ 'd.map((c) => c.id).join()')" \
  "$(sql "SELECT string_agg(id::text, ',' ORDER BY last_inbound_at DESC NULLS LAST, id DESC) FROM conversations
           WHERE org_id = $ORG AND state = 'open'")" "newest reply first, the org's open ones only"
[[ ",$(jq_ 'd.map((c) => c.id).join()')," != *",$other,"* ]] || fail "another org's conversation listed"
assert_eq "$(call lead POST "/api/conversations/$c1/assign" "{\"user_id\":$V2}")" 200 "lead assigns"
assert_eq "$(call vol2 POST "/api/conversations/$c1/close")" 200 "close"
assert_eq "$(call vol2 POST "/api/conversations/$c1/reply" '{"body":"hello?"}')" 409 "no reply in a closed conversation"
assert_eq "$(jq_ 'd.error.code')" closed "closed"

# --- live events: each stream gets only what its session may see ---
open_stream vol1; sse1=$stream_pid
open_stream lead; sse2=$stream_pid
mine=$(sql "SELECT id FROM conversations WHERE assignee_id = $V1 AND state = 'open' AND id <> $c3 LIMIT 1")
mine_phone=$(sql "SELECT phone FROM contacts ct JOIN conversations c ON c.contact_id = ct.id WHERE c.id = $mine")
member_writes "$mine_phone" "a new reply for volunteer 1" >/dev/null
member_writes +14155550102 "a new reply for volunteer 2" >/dev/null
# The gateway's batches notify each conversation with its assignee.
other=$(sql "SELECT id FROM conversations WHERE assignee_id = $V1 AND state = 'open' AND id NOT IN ($c3, $mine) LIMIT 1")
[ -n "$other" ] || fail "the test needs a third conversation of volunteer 1"
sql "SELECT pg_notify('tocsin_conversations', json_build_object('org_id', $ORG, 'conversation_id', c.id, 'event', 'message',
       'assignee_id', c.assignee_id, 'previous_assignee_id', NULL)::text) FROM conversations c WHERE c.id IN ($c2, $other)" >/dev/null
# Two of her answers change state in one statement: one "status" event.
for b in "status one" "status two"; do
  assert_eq "$(call vol1 POST "/api/conversations/$other/reply" "{\"body\":\"$b\"}")" 201 "an answer to change state"
done
sql "UPDATE messages SET state = 'cancelled', finalized_at = now() WHERE conversation_id = $other AND body LIKE 'status %'" >/dev/null
# Last, a reply both streams hear of: events go out in order, so once it
# is there everything above has been sent (or never will be).
member_writes "$mine_phone" "the last reply" >/dev/null
twice() { [ "$(grep -c "\"type\":\"message\",\"conversation_id\":$mine}" "$TMP/sse_$1")" -ge 2 ]; }
wait_until 60 "the last reply's event on volunteer 1's stream" twice vol1
wait_until 60 "the last reply's event on the lead's stream" twice lead
kill "$sse1" "$sse2"
assert_eq "$(grep -c "\"type\":\"status\",\"conversation_id\":$other}" "$TMP/sse_vol1")" 1 "a statement's state changes are one event per conversation"
assert_contains "$(cat "$TMP/sse_vol1")" "\"conversation_id\":$other}" "a batch notification reaches the assignee"
assert_contains "$(cat "$TMP/sse_vol1")" "\"conversation_id\":$mine" "volunteer 1 hears of her conversation"
[[ "$(cat "$TMP/sse_vol1")" != *"\"conversation_id\":$c2}"* ]] || fail "volunteer 1 heard of volunteer 2's conversation: $(cat "$TMP/sse_vol1")"
assert_contains "$(cat "$TMP/sse_lead")" "\"conversation_id\":$c2}" "the lead hears of every conversation"
assert_contains "$(cat "$TMP/sse_lead")" "\"conversation_id\":$mine}" "the lead hears of every conversation (2)"
[[ "$(cat "$TMP/sse_vol1" "$TMP/sse_lead")" != *"a new reply"* ]] || fail "events carry no member text"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "$DASH/api/events")" 401 "events need a session"
# Logging out ends that session's streams at once.
assert_eq "$(login v1c vol1@demo.test)" 200 "a session for a stream"
open_stream v1c
assert_eq "$(call v1c POST /api/logout)" 200 "log out"
stream_closed "$stream_pid" "the stream outlived its session"

# --- invites ---
assert_eq "$(call lead POST /api/invites '{"email":"new@demo.test"}')" 403 "leads do not invite"
assert_eq "$(call admin POST /api/invites '{"email":"new@demo.test","role":"volunteer"}')" 201 "admin invites"
url=$(jq_ 'd.url')
assert_contains "$url" "$DASH/#token=" "invite link"
itoken=${url##*#token=}
assert_eq "$(sql "SELECT count(*) FROM invites WHERE token_hash = sha256('$itoken'::bytea) AND used_at IS NULL")" 1 "invite stored hashed"
assert_eq "$(call anon POST /api/invite/show "{\"token\":\"$itoken\"}")" 200 "open the invite"
assert_eq "$(jq_ 'd.email + " " + d.role')" "new@demo.test volunteer" "what the invite is for"
assert_eq "$(call anon POST /api/invite/accept "{\"token\":\"$itoken\",\"password\":\"short\"}")" 400 "short password"
assert_eq "$(call anon POST /api/invite/accept "{\"token\":\"$itoken\",\"password\":\"a long new password\",\"display_name\":\"Nia New\"}")" 201 "accept"
assert_eq "$(call anon POST /api/invite/accept "{\"token\":\"$itoken\",\"password\":\"a long new password\"}")" 404 "an invite works once"
assert_eq "$(login nia new@demo.test 'a long new password')" 200 "the new volunteer logs in"
assert_eq "$(call nia GET /api/conversations)" 200 "with an empty inbox"
assert_eq "$(jq_ 'd.length')" 0 "nothing yet"

# --- expiry and logout ---
assert_eq "$(login old vol2@demo.test)" 200 "another session"
sql "UPDATE sessions SET created_at = now() - interval '2 hours', expires_at = now() - interval '1 second'
      WHERE id = (SELECT max(id) FROM sessions)" >/dev/null
assert_eq "$(call old GET /api/me)" 401 "an expired session is refused"
VS=$(sql "SELECT min(id) FROM sessions WHERE user_id = $V2")
sql "UPDATE sessions SET last_seen_at = now() - interval '1 minute', expires_at = now() + interval '1 minute' WHERE id = $VS" >/dev/null
assert_eq "$(call vol2 GET /api/me)" 200 "still valid"
ttl=$(sql "SELECT round(extract(epoch FROM expires_at - now())) FROM sessions WHERE id = $VS")
[ "$ttl" -gt 590 ] || fail "a request slides the expiry: $ttl s left"
assert_eq "$(call vol2 POST /api/logout)" 200 "logout"
assert_eq "$(call vol2 GET /api/me)" 401 "the cookie is dead after logout"
assert_eq "$(sql "SELECT count(*) FROM sessions WHERE id = $VS")" 0 "session deleted"

# --- login throttling: per account, then per address ---
for i in 1 2 3 4 5; do assert_eq "$(login x vol2@demo.test wrong$i)" 401 "failure $i"; done
code=$(curl -s -D "$TMP/h" -o /dev/null -w '%{http_code}' -X POST "$DASH/api/login" -d '{"email":"vol2@demo.test","password":"tocsin-demo"}')
assert_eq "$code" 429 "the account waits after 5 failures, even with the right password"
retry=$(grep -i '^Retry-After:' "$TMP/h" | tr -dc 0-9)
[ "$retry" -ge 1 ] && [ "$retry" -le 15 ] || fail "Retry-After is at most one 15 s interval: $retry"
assert_eq "$(login lead2 lead@demo.test)" 200 "other accounts are not locked"
# 30 attempts from one address at once, then one per 10 s: keep failing
# until the address is refused.
for i in $(seq 1 60); do [ "$(login x "nobody$i@demo.test" wrong)" = 429 ] && break; done
[ "$i" -lt 60 ] || fail "60 failures from one address were never refused"

# --- auto-release and Secure cookies: a second dashboard on the same database ---
kill "$DASH_PID"; wait "$DASH_PID" 2>/dev/null || true
held=$(sql "SELECT id FROM conversations WHERE assignee_id = $V1 AND state = 'open' ORDER BY id LIMIT 1")
sql "UPDATE conversations SET assignee_active_at = now() - interval '10 seconds' WHERE id = $held" >/dev/null
sql "UPDATE conversations SET assignee_active_at = now() + interval '1 hour' WHERE id <> $held AND assignee_id IS NOT NULL" >/dev/null
DASH_PORT=$(free_port)
DASH="http://127.0.0.1:$DASH_PORT"
TOCSIN_DASHBOARD_PORT=$DASH_PORT TOCSIN_DASHBOARD_URL=https://dash.example TOCSIN_DASHBOARD_RELEASE_AFTER_S=5 \
  "$TOCSIN_SOURCE_DIR/ops/daemon-exec" dashboard "$BIN/dashboard/tocsin-dashboard" >"$TMP/dashboard2.log" 2>&1 &
DASH_PID=$!
TEST_PIDS+=("$DASH_PID")
wait_http "$DASH/healthz"
cookie=$(curl -s -D - -o /dev/null -X POST "$DASH/api/login" -d '{"email":"vol1@demo.test","password":"tocsin-demo"}' | grep -i '^Set-Cookie:')
assert_contains "$cookie" "; Secure" "Secure cookies when the dashboard's URL is https"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$DASH/api/login" -H 'Origin: https://dash.example' -d '{"email":"vol1@demo.test","password":"tocsin-demo"}')
assert_eq "$code" 200 "the configured origin is accepted"
wait_sql "SELECT coalesce(assignee_id::text, 'none') FROM conversations WHERE id = $held" none
assert_eq "$(sql "SELECT coalesce(assignee_id::text, 'none') FROM conversations WHERE id = $held")" none "an idle conversation returns to the pool"
assert_eq "$(sql "SELECT count(*) FROM audit_events WHERE action = 'conversation.auto_release' AND subject_id = $held AND user_id IS NULL")" 1 "auto-release audited"
assert_eq "$(sql "SELECT count(*) FROM conversations WHERE assignee_id IS NOT NULL AND assignee_active_at > now()")" \
          "$(sql "SELECT count(*) FROM conversations WHERE assignee_id IS NOT NULL")" "active ones stay"
# A clean stop with a live stream open: the stream ends, the process exits 0.
curl -s -c "$TMP/v1b.jar" -o /dev/null -X POST "$DASH/api/login" -d '{"email":"vol1@demo.test","password":"tocsin-demo"}'
open_stream v1b
kill -TERM "$DASH_PID"
wait "$DASH_PID" || { cat "$TMP/dashboard2.log" >&2; fail "dashboard did not stop cleanly"; }
stream_closed "$stream_pid" "the stream ends when the dashboard stops"
assert_contains "$(cat "$TMP/dashboard2.log")" "event=stopped" "stopped with a stream open"
echo "test_dashboard_api: ok"
