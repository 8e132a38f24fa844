#!/usr/bin/env bash
# Imports read a number written without +country in one region, the
# deployment's TOCSIN_DEFAULT_REGION for orgs without their own
# (test_org_region.sh: orgs with their own), on every path: the
# same national-format file gives each region's E.164 (tocsinctl under MX,
# the dashboard under GB), and a number not valid there is rejected with
# its reason, never read as a US one. An opt-out list in national format
# under GB opts out the right number: what was queued to it is cancelled
# and a volunteer's reply to it is refused. The previews and reports name
# the region. An unknown region is refused at startup. Hostile: 100,000
# junk lines in the phone column are each rejected, the report bounded.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dashboard_lib.sh"
dash_setup TOCSIN_DEFAULT_REGION=GB
CTL="$BIN/ops/tocsinctl"
assert_eq "$(login lead lead@demo.test)" 200 "lead logs in"
assert_eq "$(login vol1 vol1@demo.test)" 200 "volunteer logs in"
V1=$(sql "SELECT id FROM users WHERE email = 'vol1@demo.test'")
json_csv() { node -e 'const [extra, file] = process.argv.slice(1); process.stdout.write(JSON.stringify({...JSON.parse(extra), csv: require("fs").readFileSync(file, "utf8")}))' "$@"; }

# The same file: a Mexico City number, a UK mobile, an E.164 one, a London
# line. Read as US (the old rule) the first would be New Jersey's.
printf 'phone,first_name\n55 1234 5678,Ana\n07400 123456,Bea\n+1 415 555 2671,Cy\n020 7946 0018,Di\n' >"$TMP/national.csv"

# --- tocsinctl under TOCSIN_DEFAULT_REGION=MX (no --region) ---
"$CTL" org create mx --name "Chapter MX" >/dev/null
out=$(TOCSIN_DEFAULT_REGION=MX "$CTL" contacts import --org mx --list miembros "$TMP/national.csv" 2>"$TMP/mx.err")
assert_contains "$out" "imported=2 updated=0 rejected=2" "two read in MX, two not valid there"
assert_contains "$out" 'line 3: invalid phone number "07400 123456": not a valid number' "a UK mobile is refused in MX, with its reason"
assert_contains "$out" 'line 5: invalid phone number "020 7946 0018": not a valid number' "a London line too"
assert_contains "$(cat "$TMP/mx.err")" "numbers without +country read as MX" "the CLI says which region it used"
assert_eq "$(sql "SELECT string_agg(c.phone, ',' ORDER BY c.phone) FROM contacts c JOIN orgs o ON o.id = c.org_id WHERE o.slug = 'mx'")" \
  "+14155552671,+525512345678" "MX: Mexico City's E.164, the +1 number as written"

# --- the dashboard under GB: the list import ---
assert_eq "$(call lead POST /api/lists/import "$(json_csv '{"name":"Members","filename":"national.csv"}' "$TMP/national.csv")")" 200 "the list import"
assert_eq "$(jq_ '[d.rows, d.imported, d.rejected, d.region].join(" ")')" "4 4 0 GB" "every number valid in GB, and the report names GB"
assert_eq "$(sql "SELECT string_agg(phone, ',' ORDER BY phone) FROM contacts WHERE org_id = $ORG AND first_name IN ('Ana','Bea','Cy','Di')")" \
  "+14155552671,+442079460018,+445512345678,+447400123456" "GB: each number's UK E.164, the +1 number as written"
assert_eq "$(sql "SELECT details->>'region' FROM audit_events WHERE action = 'contacts.import' ORDER BY id DESC LIMIT 1")" GB "audited with the region"
assert_eq "$(sql "SELECT count(*) FROM contacts WHERE phone IN ('+15512345678')")" 0 "nothing read as US"

# A US national number is not valid in GB: rejected with the reason.
printf 'phone\n(415) 555-2672\n' >"$TMP/us.csv"
assert_eq "$(call lead POST /api/lists/import "$(json_csv '{"name":"Members"}' "$TMP/us.csv")")" 200 "a US national number under GB"
assert_eq "$(jq_ '[d.imported, d.rejected, d.rejections[0].line, d.rejections[0].reason].join("|")')" \
  '0|1|2|invalid phone number "(415) 555-2672": not a valid number' "refused with its reason, not guessed"

# --- previews name the region and read the rows in it ---
printf 'name,Mobile\nEve,07400 123457\nFay,+14155552673\n' >"$TMP/optouts.csv"
assert_eq "$(call lead POST /api/opt-outs/preview "$(json_csv '{}' "$TMP/optouts.csv")")" 200 "the opt-out preview"
assert_eq "$(jq_ 'd.region + " " + d.suggested')" "GB 1" "names GB; the phone column suggested"
printf 'who,what\nEve,07400 123458\n' >"$TMP/byvalue.csv"
assert_eq "$(call lead POST /api/opt-outs/preview "$(json_csv '{}' "$TMP/byvalue.csv")")" 200 "a preview without a phone-like header"
assert_eq "$(jq_ 'd.suggested')" 1 "the column is found by a value that reads as a number in GB"
assert_eq "$(call lead POST /api/imports/preview "$(json_csv '{}' "$TMP/national.csv")")" 200 "the Move in preview"
assert_eq "$(jq_ 'd.region + " " + d.rows.map((r) => r.phone).join(",")')" \
  "GB +445512345678,+447400123456,+14155552671,+442079460018" "rows read in GB, as the import will"

# --- an opt-out list in national format under GB ---
# Queued before: a message to the number, and a conversation with it.
sql "INSERT INTO messages (org_id, sender_id, provider, to_phone, body, encoding, segments, lane, purpose)
     SELECT org_id, id, 'twilio', '+447400123457', 'queued before the opt-out', 'GSM-7', 1, 'bulk', 'blast' FROM senders WHERE id = $SENDER" >/dev/null
CONV=$(member_writes +447400123457 "who is this?")
assert_eq "$(call lead POST "/api/conversations/$CONV/assign" "{\"user_id\":$V1}")" 200 "the member's reply goes to a volunteer"
assert_eq "$(call lead POST /api/opt-outs/import "$(json_csv '{"column":"Mobile","filename":"optouts.csv"}' "$TMP/optouts.csv")")" 200 "the opt-out import"
assert_eq "$(jq_ '[d.rows, d.opted_out, d.rejected, d.region].join(" ")')" "2 2 0 GB" "both opted out, read in GB"
assert_eq "$(sql "SELECT string_agg(phone, ',' ORDER BY phone) FROM opt_outs WHERE org_id = $ORG AND source = 'import'")" \
  "+14155552673,+447400123457" "the UK number opted out as the member's, not a guess"
assert_eq "$(sql "SELECT state FROM messages WHERE to_phone = '+447400123457'")" cancelled "what was queued to it is cancelled"
assert_eq "$(call vol1 POST "/api/conversations/$CONV/reply" '{"body":"Hi! Want to join us?"}')" 409 "a reply to it is refused"
assert_eq "$(jq_ 'd.error.code')" opted_out "as opted out"
assert_eq "$(sql "SELECT count(*) FROM messages WHERE to_phone = '+447400123457' AND state <> 'cancelled'")" 0 "nothing will be sent to it"
assert_eq "$(sql "SELECT details->>'region' FROM audit_events WHERE action = 'opt_outs.import'")" GB "audited with the region"

# --- hostile: 100,000 junk lines in the phone column ---
awk 'BEGIN { print "phone"; for (i = 1; i <= 100000; i++) printf "x%d\n", i }' >"$TMP/junk.csv"
json_csv '{"column":"phone"}' "$TMP/junk.csv" >"$TMP/junk.json"
code=$(curl -s -b "$TMP/lead.jar" -o "$TMP/out" -w '%{http_code}' -X POST "$DASH/api/opt-outs/import" \
  -H "X-CSRF-Token: $(cat "$TMP/lead.csrf")" -H 'Content-Type: application/json' --data-binary "@$TMP/junk.json")
assert_eq "$code" 200 "100,000 junk lines: an answer"
assert_eq "$(jq_ '[d.rows, d.opted_out, d.rejected, d.rejections.length].join(" ")')" "100000 0 100000 1000" \
  "every line rejected and counted; the first 1,000 shown"
assert_eq "$(jq_ 'd.rejections[999].line + " " + d.rejections[999].reason')" \
  '1001 invalid phone number "x1000": not a valid number' "each with its line and reason"
# Lines over the 64-character cap, through the CLI.
awk 'BEGIN { print "phone"; for (i = 1; i <= 100000; i++) printf "%0100d\n", i }' >"$TMP/long.csv"
out=$(TOCSIN_DEFAULT_REGION=MX "$CTL" contacts import --org mx --opt-outs phone "$TMP/long.csv" 2>/dev/null)
assert_contains "$out" "opted_out=0 already_opted_out=0 rejected=100000" "the CLI counts them all"
assert_contains "$out" "longer than 64 characters" "says why"
assert_eq "$(grep -c '^line ' <<<"$out")" 1000 "lists the first 1,000"
assert_contains "$out" "... and 99000 more rejected rows" "and counts the rest"
assert_eq "$(sql "SELECT count(*) FROM opt_outs o JOIN orgs g ON g.id = o.org_id WHERE g.slug = 'mx'")" 0 "nothing opted out"

# --- an unknown region: refused, never guessed ---
rc=0; out=$(TOCSIN_DEFAULT_REGION=ZZ "$CTL" contacts import --org mx --list x "$TMP/national.csv" 2>&1) || rc=$?
[ "$rc" -ne 0 ] || fail "an unknown TOCSIN_DEFAULT_REGION is refused"
assert_contains "$out" 'invalid TOCSIN_DEFAULT_REGION "ZZ": no country has this code' "says why"
rc=0; out=$("$CTL" contacts import --org mx --region zz --list x "$TMP/national.csv" 2>&1) || rc=$?
assert_eq "$rc" 1 "an unknown --region is refused"
assert_contains "$out" "invalid region \"zz\": must be a country's two letters" "says why"
echo "ok"
