#!/usr/bin/env bash
# Moving in an opt-out list (issue 19) against a real tocsin-dashboard and
# PostgreSQL: the preview of a vendor export (BOM, CRLF, quotes, formulas;
# the phone-like column suggested), the import through the contacts
# import's engine (counts of new, already opted out and invalid with line
# numbers; source 'import', the batch as evidence, audited), a number so
# imported never texted again (a blast to a list holding it skips it, a
# volunteer's reply is refused), the org-wide export (the one CSV rule,
# audited), and one opt-out undone by an admin with a reason — refused
# when the member's own STOP is the latest word. Volunteers, leads where
# it is an admin's, and another org's admin are refused (another org's
# numbers are not found).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dashboard_lib.sh"
dash_setup
"$BIN/ops/tocsinctl" org create other --name "Other Org" >/dev/null
no_two_factor other  # as dash_setup does for demo
echo "other admin password" | "$BIN/ops/tocsinctl" user add --org other --email admin@other.test --role admin --password-stdin >/dev/null
OTHER_ORG=$(sql "SELECT id FROM orgs WHERE slug = 'other'")
assert_eq "$(login vol1 vol1@demo.test)" 200 "volunteer logs in"
assert_eq "$(login lead lead@demo.test)" 200 "lead logs in"
assert_eq "$(login admin admin@demo.test)" 200 "admin logs in"
assert_eq "$(login other admin@other.test 'other admin password')" 200 "another org's admin logs in"
V1=$(sql "SELECT id FROM users WHERE email = 'vol1@demo.test'")

# A member on a list before the move: subscribed, texted by blasts.
members=$(printf 'phone,first_name\n+14155550401,Ana\n+14155550402,Bo\n+14155550403,Cy\n')
body=$(node -e 'process.stdout.write(JSON.stringify({name: "Members", csv: process.argv[1]}))' "$members")
assert_eq "$(call lead POST /api/lists/import "$body")" 200 "the lead imports the members"
LIST=$(sql "SELECT id FROM lists WHERE name = 'Members' AND org_id = $ORG")
# +14155550405 texted STOP here already (the keyword's own opt-out).
member_writes +14155550405 "hello" >/dev/null
sql "SELECT action FROM tocsin_receive_inbound('twilio', 'SMstop405', $SENDER, '+14155550405', 'STOP', 0,
     'opt_out', NULL, false, NULL, NULL, NULL)" >/dev/null

# --- the vendor's file, as Spoke and spreadsheets write it ---
# BOM, CRLF, a quoted header with a space, a quoted cell holding a comma
# and a newline, a formula, a duplicate, national and E.164 forms.
printf '\xef\xbb\xbf"Cell Phone",name,notes\r\n' >"$TMP/optouts.csv"
printf '(415) 555-0401,Ana,"moved, no texts"\r\n' >>"$TMP/optouts.csv"    # line 2: new, on the list
printf '+14155550405,Eve,"said\r\nSTOP"\r\n' >>"$TMP/optouts.csv"          # line 3: already (keyword)
printf '"=HYPERLINK(""http://evil"")",Mal,x\r\n' >>"$TMP/optouts.csv"      # line 5: invalid
printf '4155550406,Fay,\r\n' >>"$TMP/optouts.csv"                          # line 6: new, no contact
printf '+1 415 555 0401,Ana again,dup\r\n' >>"$TMP/optouts.csv"           # line 7: duplicate of line 2
printf 'not a number,Nil,x\r\n' >>"$TMP/optouts.csv"                       # line 8: invalid
printf '4155550407,Gus\r\n' >>"$TMP/optouts.csv"                           # line 9: a column short
json_of() { node -e 'const [col, file] = process.argv.slice(1); const csv = require("fs").readFileSync(file, "utf8"); process.stdout.write(JSON.stringify(col === "-" ? {csv} : {column: col, filename: "spoke-optouts.csv", csv}))' "$@"; }
json_of - "$TMP/optouts.csv" >"$TMP/preview.json"
assert_eq "$(call vol1 POST /api/opt-outs/preview "$(cat "$TMP/preview.json")")" 403 "a volunteer cannot preview"
assert_eq "$(call lead POST /api/opt-outs/preview "$(cat "$TMP/preview.json")")" 200 "preview"
assert_eq "$(jq_ 'd.columns.join("|")')" "Cell Phone|name|notes" "the header, BOM and quotes gone"
assert_eq "$(jq_ 'd.suggested')" 0 "the phone-like column is suggested"
assert_eq "$(jq_ 'd.rows.length + " " + d.lines.join(",")')" "5 2,3,5,6,7" "five rows with their lines (a quoted newline spans two)"
assert_eq "$(jq_ 'd.rows[1][2]')" $'said\r\nSTOP' "a quoted newline kept in its cell"
assert_eq "$(jq_ 'd.rows[2][0]')" '=HYPERLINK("http://evil")' "a formula is data"
assert_eq "$(call lead POST /api/opt-outs/preview '{"csv":"phone\n\"unterminated"}')" 200 "a file cut in a quote still previews its header"
assert_eq "$(jq_ 'd.rows.length')" 0 "no rows from the cut record"
assert_eq "$(call lead POST /api/opt-outs/preview '{"csv":""}')" 400 "an empty file"
assert_eq "$(call lead POST /api/opt-outs/preview '{"csv":"\"a\"b\n1\n"}')" 400 "a header that is not CSV"
assert_contains "$(jq_ 'd.error.message')" "cannot be read as CSV" "says so"

# --- the import ---
batches=$(sql "SELECT count(*) FROM import_batches")
json_of "cell phone" "$TMP/optouts.csv" >"$TMP/import.json"
assert_eq "$(call vol1 POST /api/opt-outs/import "$(cat "$TMP/import.json")")" 403 "a volunteer cannot import opt-outs"
assert_eq "$(call other POST /api/opt-outs/import "$(json_of nope "$TMP/optouts.csv")")" 400 "a column the file does not have"
assert_contains "$(jq_ 'd.error.message')" 'no column named "nope"' "names it"
assert_eq "$(call lead POST /api/opt-outs/import '{"column":"","csv":"phone\n4155550499\n"}')" 400 "no column picked"
assert_eq "$(sql "SELECT count(*) FROM import_batches")" "$batches" "a refused import writes nothing"
{ printf '{"column":"phone","csv":"phone\\n'; head -c 1100000 /dev/zero | tr '\0' 1; printf '"}'; } >"$TMP/big.json"
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$TMP/admin.jar" -H "X-CSRF-Token: $(cat "$TMP/admin.csrf")" \
       -X POST "$DASH/api/opt-outs/import" --data-binary "@$TMP/big.json")
assert_eq "$code" 413 "a file over the shared upload cap is refused"
# Two messages queued to a number on the list: one waits in the outbox,
# a worker already holds the other (schema 034: claimed, not stamped).
sql "INSERT INTO messages (org_id, sender_id, provider, to_phone, body, encoding, segments, lane)
     SELECT org_id, id, provider, '+14155550401', 'before ' || g, 'GSM-7', 1, 'bulk'
       FROM senders, generate_series(1, 2) g WHERE id = $SENDER" >/dev/null
HELD=$(sql "SELECT id FROM messages WHERE body = 'before 2'")
sql "DELETE FROM outbox WHERE id = $HELD;
     INSERT INTO claims (worker, message_ids, lo, hi, open, blasts, lease_until)
     VALUES ('w1', ARRAY[$HELD]::bigint[], $HELD, $HELD, 1, false, now() + interval '1 minute')" >/dev/null
assert_eq "$(call admin POST /api/opt-outs/import "$(cat "$TMP/import.json")")" 200 "the admin imports the opt-out list"
assert_eq "$(sql "SELECT string_agg(body || ' ' || tocsin_message_shown_state(id, state), ',' ORDER BY body)
                    FROM messages WHERE to_phone = '+14155550401'")" "before 1 cancelled,before 2 sending" \
  "its queued message is cancelled; the one in flight is left to the worker"
assert_eq "$(sql "SELECT count(*) FROM tocsin_mark_going(ARRAY[$HELD]::bigint[], 'w1')") $(sql "SELECT state FROM messages WHERE id = $HELD")" \
  "0 suppressed" "whose stamp refuses it"
sql "DELETE FROM messages WHERE to_phone = '+14155550401'" >/dev/null
assert_eq "$(jq_ '[d.rows, d.opted_out, d.already_opted_out, d.rejected, d.duplicates].join(" ")')" "7 2 1 3 1" \
  "counts: 7 rows, 2 new, 1 already opted out, 3 invalid, 1 repeated"
assert_eq "$(jq_ 'd.rejections.map((r) => r.line).join(",")')" "5,8,9" "invalid rows with their line numbers"
assert_contains "$(jq_ 'd.rejections[2].reason')" "expected 3 columns" "why the short row is refused"
BATCH=$(sql "SELECT id FROM import_batches WHERE org_id = $ORG AND kind = 'opt_outs'")
assert_eq "$(sql "SELECT filename, rows_total, rows_imported, rows_rejected FROM import_batches WHERE id = $BATCH")" \
  "spoke-optouts.csv|7|2|3" "the batch is the evidence, with its counts"
assert_eq "$(sql "SELECT string_agg(phone || ' ' || source || ' ' || evidence, ',' ORDER BY phone) FROM opt_outs WHERE org_id = $ORG")" \
  "+14155550401 import import:$BATCH,+14155550405 keyword $(sql "SELECT id FROM inbound_messages WHERE provider_message_id = 'SMstop405'"),+14155550406 import import:$BATCH" \
  "recorded with source import; the member's own STOP kept as it was"
assert_eq "$(sql "SELECT count(*) FROM consent_events WHERE org_id = $ORG AND event = 'opt_out' AND source = 'import' AND evidence = 'import:$BATCH'")" 2 \
  "in the opt-out history"
assert_eq "$(sql "SELECT count(*) FROM contacts WHERE phone = '+14155550406'")" 0 "no contact made for an opt-out"
assert_eq "$(sql "SELECT action || ' ' || subject_id || ' ' || (details->>'opted_out') FROM audit_events WHERE action = 'opt_outs.import'")" \
  "opt_outs.import $BATCH 2" "audited"
assert_eq "$(sql "SELECT count(*) FROM opt_outs WHERE org_id = $OTHER_ORG")" 0 "another org's opt-outs untouched"
assert_eq "$(sql "SELECT unsubscribed_at IS NOT NULL FROM subscriptions s JOIN contacts c ON c.id = s.contact_id WHERE c.phone = '+14155550401'")" t \
  "the opted-out member's subscription ends, as a STOP ends it"
assert_eq "$(call lead POST /api/opt-outs/import "$(json_of "Cell Phone" "$TMP/optouts.csv")")" 200 "a lead may import one too (again: nothing new)"
assert_eq "$(jq_ 'd.opted_out + " " + d.already_opted_out')" "0 3" "every number already opted out"
assert_eq "$(sql "SELECT evidence FROM opt_outs WHERE phone = '+14155550401'")" "import:$BATCH" "the first opt-out is kept"

# --- never texted afterwards ---
blast() { node -e 'process.stdout.write(JSON.stringify({sender_id: +process.argv[1], list_id: +process.argv[2], body: process.argv[3]}))' "$@"; }
assert_eq "$(call lead POST /api/blasts "$(blast "$SENDER" "$LIST" 'Rally Saturday')")" 201 "a blast to the members"
B=$(jq_ 'd.id')
assert_eq "$(call lead POST "/api/blasts/$B/schedule" '{}')" 200 "send now"
sql "SELECT tocsin_blasts_tick(now())" >/dev/null
assert_eq "$(sql "SELECT string_agg(to_phone, ',' ORDER BY to_phone) FROM messages WHERE blast_id = $B")" \
  "+14155550402,+14155550403" "the blast skips the imported opt-out"
CONV=$(member_writes +14155550406 "who is this?")
assert_eq "$(call lead POST "/api/conversations/$CONV/assign" "{\"user_id\":$V1}")" 200 "the member's reply goes to a volunteer"
assert_eq "$(call vol1 POST "/api/conversations/$CONV/reply" '{"body":"Hi! Want to join us?"}')" 409 "a reply to the imported opt-out is refused"
assert_eq "$(jq_ 'd.error.code')" opted_out "says why"
assert_eq "$(sql "SELECT count(*) FROM messages WHERE to_phone IN ('+14155550401', '+14155550406')")" 0 "nothing queued to them"

# --- the export ---
assert_eq "$(call lead GET /api/opt-outs/export)" 403 "a lead cannot export the org's opt-outs"
head=$(curl -s -D - -o "$TMP/export.csv" -b "$TMP/admin.jar" "$DASH/api/opt-outs/export" | tr -d '\r')
assert_contains "$head" "200" "export"
assert_contains "$head" "Content-Type: text/csv" "as CSV"
assert_contains "$head" 'attachment; filename="opt-outs.csv"' "as a download"
assert_eq "$(head -1 "$TMP/export.csv" | tr -d '\r')" "phone,opted_out_at,source,keyword,evidence" "its header"
assert_eq "$(tail -n +2 "$TMP/export.csv" | tr -d '\r' | cut -d, -f1,3,4 | sort | tr '\n' ' ')" \
  "'+14155550401,import, '+14155550405,keyword,STOP '+14155550406,import, " "every opt-out, its source and the word texted"
assert_contains "$(cat "$TMP/export.csv")" "import:$BATCH (spoke-optouts.csv)" "the import's file as evidence"
sheet=$(node "$TOCSIN_SOURCE_DIR/tests/integration/spreadsheet_read.mjs" "$TMP/export.csv")
assert_eq "$(node -e 'const s = JSON.parse(process.argv[1]); process.stdout.write(String(s.flat().filter((c) => c.type === "formula").length))' "$sheet")" 0 "no formulas"
assert_eq "$(sql "SELECT count(*) || ' ' || max(details->>'rows') FROM audit_events WHERE action = 'opt_outs.export' AND org_id = $ORG")" "1 3" "the export is audited, with its count"
curl -s -o "$TMP/other.csv" -b "$TMP/other.jar" "$DASH/api/opt-outs/export"
assert_eq "$(wc -l <"$TMP/other.csv")" 1 "another org's export has only its header"
# Many keyword and import opt-outs together: the planner joins them in
# bulk, and no evidence of one kind is ever read as the other's (a STOP's
# inbound id, an import's "import:N").
node -e 'let s = "phone\n"; for (let i = 0; i < 20000; i++) s += `+1312${String(2000000 + i)}\n`; process.stdout.write(JSON.stringify({column: "phone", csv: s}))' >"$TMP/many.json"
sql "INSERT INTO opt_outs (org_id, phone, source, evidence)
     SELECT $ORG, '+1646' || (2000000 + g), 'keyword', (SELECT max(id) FROM inbound_messages) FROM generate_series(1, 2000) g" >/dev/null
code=$(curl -s -o "$TMP/out" -w '%{http_code}' -b "$TMP/admin.jar" -H "X-CSRF-Token: $(cat "$TMP/admin.csrf")" \
       -H 'Content-Type: application/json' -X POST "$DASH/api/opt-outs/import" --data-binary "@$TMP/many.json")
assert_eq "$code" 200 "20,000 numbers imported"
assert_eq "$(jq_ 'd.opted_out')" 20000 "all new"
code=$(curl -s -o "$TMP/many.csv" -w '%{http_code}' -b "$TMP/admin.jar" "$DASH/api/opt-outs/export")
assert_eq "$code $(($(wc -l <"$TMP/many.csv") - 1))" "200 22003" "the export of 22,003 opt-outs"

# --- undo ---
undo() { node -e 'process.stdout.write(JSON.stringify({phone: process.argv[1], reason: process.argv[2]}))' "$@"; }
assert_eq "$(call lead POST /api/opt-outs/undo "$(undo 4155550401 'imported by mistake')")" 403 "a lead cannot undo"
assert_eq "$(call admin POST /api/opt-outs/lookup '{"phone":"(415) 555-0405"}')" 200 "look up the member's own STOP"
assert_eq "$(jq_ 'd.opted_out + " " + d.source')" "true keyword" "opted out by keyword"
assert_contains "$(jq_ 'd.undo_refused')" "only they can undo it" "the rule, in words"
assert_eq "$(call admin POST /api/opt-outs/undo "$(undo 4155550405 'they asked by phone')")" 409 "the member's own STOP cannot be undone"
assert_eq "$(jq_ 'd.error.code')" members_own_stop "says why"
assert_eq "$(call admin POST /api/opt-outs/undo "$(undo 4155550401 'oops')")" 400 "a reason is required"
assert_eq "$(call admin POST /api/opt-outs/undo "$(undo 'not a phone' 'imported by mistake')")" 400 "a number is required"
assert_eq "$(call other POST /api/opt-outs/undo "$(undo 4155550401 'imported by mistake')")" 404 "another org's admin: not found"
assert_eq "$(call other POST /api/opt-outs/lookup '{"phone":"4155550401"}')" 200 "another org's lookup"
assert_eq "$(jq_ 'd.opted_out + " " + d.history.length')" "false 0" "sees nothing of this org"
assert_eq "$(call admin POST /api/opt-outs/lookup '{"phone":"4155550401"}')" 200 "look up the imported opt-out"
assert_eq "$(jq_ 'String(d.undo_refused) + " " + d.history[0].source')" "null import" "it may be undone"
assert_eq "$(call admin POST /api/opt-outs/undo "$(undo 4155550401 'Ana rejoined at the meeting; the vendor file was old')")" 200 "undone"
assert_eq "$(jq_ 'd.lists_restored')" 1 "the list the opt-out ended comes back"
assert_eq "$(sql "SELECT count(*) FROM opt_outs WHERE phone = '+14155550401'")" 0 "no longer opted out"
assert_eq "$(sql "SELECT event || ' ' || source || ' ' || evidence FROM consent_events WHERE phone = '+14155550401' ORDER BY id DESC LIMIT 1")" \
  "opt_in admin user $(sql "SELECT id FROM users WHERE email = 'admin@demo.test'"): Ana rejoined at the meeting; the vendor file was old" "the history says who and why"
assert_eq "$(sql "SELECT details->>'reason' FROM audit_events WHERE action = 'opt_out.undo'")" \
  "Ana rejoined at the meeting; the vendor file was old" "audited with the reason"
assert_eq "$(call admin POST /api/opt-outs/undo "$(undo 4155550401 'once more please')")" 404 "a number not opted out: not found"
# A STOP after an imported opt-out is the member's own latest word.
sql "SELECT action FROM tocsin_receive_inbound('twilio', 'SMstop406', $SENDER, '+14155550406', 'stop', 0,
     'opt_out', NULL, false, NULL, NULL, NULL)" >/dev/null
assert_eq "$(call admin POST /api/opt-outs/undo "$(undo 4155550406 'imported by mistake')")" 409 "refused after the member's STOP"
assert_contains "$(jq_ 'd.error.message')" "texted a stop word after" "says why"
# Another org's admin imports the same file: its own opt-outs only.
ours=$(sql "SELECT string_agg(phone || source, ',' ORDER BY phone) FROM opt_outs WHERE org_id = $ORG")
assert_eq "$(call other POST /api/opt-outs/import "$(json_of "Cell Phone" "$TMP/optouts.csv")")" 200 "another org imports the same file"
assert_eq "$(jq_ 'd.opted_out + " " + d.already_opted_out')" "3 0" "new to that org"
assert_eq "$(sql "SELECT count(*) FROM opt_outs WHERE org_id = $OTHER_ORG")" 3 "recorded for that org"
assert_eq "$(sql "SELECT string_agg(phone || source, ',' ORDER BY phone) FROM opt_outs WHERE org_id = $ORG")" "$ours" "this org's unchanged"
echo "PASS"
