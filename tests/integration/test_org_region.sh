#!/usr/bin/env bash
# Each org reads numbers written without +country in its own phone region
# (schema 037), else the deployment's TOCSIN_DEFAULT_REGION: in one
# deployment (default US) the demo org set to GB by its admin on the
# settings page and an org set to MX by `tocsinctl org set` read the same
# national file differently on every path (list import, Move in and
# opt-out previews and imports, the opt-out lookup, forget's preview,
# tocsinctl contacts import, where an explicit --region still wins, and
# tocsinctl sender add); an org made by tocsinctl org create
# --phone-region, or a chapter by a national admin, starts in its own.
# Hostile: a volunteer or lead may not change it (403), another org's
# admin changes only her own (an org_id in the body is ignored), an
# unknown code (ZZ, "mx ", MEX, empty, 3 KB) is refused with its reason
# and changes and audits nothing; every change is audited with old and new.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dashboard_lib.sh"
dash_setup TOCSIN_DEFAULT_REGION=US
CTL="$BIN/ops/tocsinctl"
"$CTL" org create mx --name "Capítulo MX" >/dev/null
no_two_factor mx # as dash_setup does for demo
echo "mx admin password" | "$CTL" user add --org mx --email admin@mx.test --role admin --password-stdin >/dev/null
MX=$(sql "SELECT id FROM orgs WHERE slug = 'mx'")
assert_eq "$(login admin admin@demo.test)" 200 "the demo admin logs in"
assert_eq "$(login lead lead@demo.test)" 200 "a lead logs in"
assert_eq "$(login vol1 vol1@demo.test)" 200 "a volunteer logs in"
assert_eq "$(login mx admin@mx.test 'mx admin password')" 200 "the MX org's admin logs in"
json_csv() { node -e 'const [extra, file] = process.argv.slice(1); process.stdout.write(JSON.stringify({...JSON.parse(extra), csv: require("fs").readFileSync(file, "utf8")}))' "$@"; }
region_of() { sql "SELECT coalesce(phone_region, 'null') FROM orgs WHERE id = $1"; }
audits() { sql "SELECT count(*) FROM audit_events WHERE action = 'org.settings'"; }

# A Mexico City number, a UK mobile, an E.164 one, a London line.
printf 'phone,first_name\n55 1234 5678,Ana\n07400 123456,Bea\n+1 415 555 2671,Cy\n020 7946 0018,Di\n' >"$TMP/national.csv"

# --- the settings page's answer: none of its own, the default it falls back to ---
assert_eq "$(call admin GET /api/settings)" 200 "the admin reads the settings"
assert_eq "$(jq_ 'String(d.phone_region) + " " + d.default_phone_region')" "null US" "no region of its own; the deployment's US"

# --- hostile: who may change it, and what ---
a0=$(audits)
assert_eq "$(call vol1 POST /api/settings '{"phone_region":"GB"}')" 403 "a volunteer may not change it"
assert_eq "$(call lead POST /api/settings '{"phone_region":"GB"}')" 403 "a lead may not change it"
bad() { # BODY MESSAGE WHAT
  assert_eq "$(call admin POST /api/settings "$1")" 400 "$3 is refused"
  assert_contains "$(jq_ 'd.error.message')" "$2" "$3: says why"
}
bad '{"phone_region":"ZZ"}' 'invalid phone_region "ZZ": no country has this code' "ZZ"
bad '{"phone_region":"mx "}' "invalid phone_region \"mx \": give a country's two upper-case letters" '"mx "'
bad '{"phone_region":"MEX"}' "invalid phone_region \"MEX\": give a country's two upper-case letters" "MEX"
bad '{"phone_region":""}' "invalid phone_region \"\": give a country's two upper-case letters" "an empty one"
bad "{\"phone_region\":\"$(head -c 3000 /dev/zero | tr '\0' A)\"}" "invalid phone_region: 3000 characters" "3 KB"
bad '{"phone_region":"GB","texting_hours_start":7}' texting_hours_start "a good region with a bad hour"
assert_eq "$(region_of "$ORG")" null "refused saves changed nothing"
assert_eq "$(audits)" "$a0" "and audited nothing"
"$CTL" org set mx --phone-region ZZ >"$TMP/ctl.out" 2>&1 && fail "tocsinctl org set --phone-region ZZ succeeded"
assert_contains "$(cat "$TMP/ctl.out")" 'invalid --phone-region "ZZ": no country has this code' "tocsinctl says why"
"$CTL" org set mx --phone-region mex >"$TMP/ctl.out" 2>&1 && fail "tocsinctl org set --phone-region mex succeeded"
assert_contains "$(cat "$TMP/ctl.out")" "give a country's two upper-case letters" "tocsinctl: the shape expected"
assert_eq "$(region_of "$MX")" null "tocsinctl changed nothing"

# --- set: GB by the demo admin, MX by tocsinctl; another org's admin only hers ---
assert_eq "$(call admin POST /api/settings '{"phone_region":"GB"}')" 200 "the admin sets GB"
assert_eq "$(jq_ 'd.phone_region')" GB "the answer has it"
assert_eq "$(call admin GET /api/settings)" 200 "read back"
assert_eq "$(jq_ 'd.phone_region + " " + d.default_phone_region')" "GB US" "its own, and the default it falls back to"
assert_eq "$(sql "SELECT concat_ws(',', coalesce(details->'phone_region'->>'old', 'null'), details->'phone_region'->>'new', user_id = (SELECT id FROM users WHERE email = 'admin@demo.test')) FROM audit_events WHERE action = 'org.settings' AND org_id = $ORG")" \
  "null,GB,t" "audited: old (none), new, and who"
assert_eq "$(call mx POST /api/settings "{\"phone_region\":\"FR\",\"org_id\":$ORG}")" 200 "the MX admin saves with the demo org's id in the body"
assert_eq "$(region_of "$ORG")" GB "the demo org's region untouched"
assert_eq "$(region_of "$MX")" FR "only her own org changed"
assert_contains "$("$CTL" org set mx --phone-region MX)" "phone_region=MX" "tocsinctl sets MX"
assert_eq "$(region_of "$MX")" MX "stored"
assert_eq "$(sql "SELECT concat_ws(',', details->'phone_region'->>'old', details->'phone_region'->>'new', details->>'by') FROM audit_events WHERE action = 'org.settings' AND org_id = $MX ORDER BY id DESC LIMIT 1")" \
  "FR,MX,tocsinctl" "tocsinctl's change audited as the dashboard's"
sql "UPDATE orgs SET phone_region = 'mx' WHERE id = $MX" >/dev/null 2>&1 && fail "the column took a lower-case code"
assert_eq "$(region_of "$MX")" MX "the column refuses what is not two upper-case letters"

# --- the same file, two orgs, two readings ---
assert_eq "$(call admin POST /api/lists/import "$(json_csv '{"name":"Members","filename":"national.csv"}' "$TMP/national.csv")")" 200 "the demo org imports"
assert_eq "$(jq_ '[d.rows, d.imported, d.rejected, d.region].join(" ")')" "4 4 0 GB" "every number valid in GB; the report names GB"
assert_eq "$(sql "SELECT string_agg(phone, ',' ORDER BY phone) FROM contacts WHERE org_id = $ORG AND first_name IN ('Ana','Bea','Cy','Di')")" \
  "+14155552671,+442079460018,+445512345678,+447400123456" "GB: each number's UK E.164"
assert_eq "$(call mx POST /api/lists/import "$(json_csv '{"name":"Miembros","filename":"national.csv"}' "$TMP/national.csv")")" 200 "the MX org imports the same file"
assert_eq "$(jq_ '[d.rows, d.imported, d.rejected, d.region].join(" ")')" "4 2 2 MX" "two valid in MX; the report names MX"
assert_eq "$(jq_ 'd.rejections[0].reason')" 'invalid phone number "07400 123456": not a valid number' "a UK mobile refused in MX, with its reason"
assert_eq "$(sql "SELECT string_agg(phone, ',' ORDER BY phone) FROM contacts WHERE org_id = $MX")" \
  "+14155552671,+525512345678" "MX: Mexico City's E.164"

# --- previews name each org's region and read rows in it ---
assert_eq "$(call admin POST /api/imports/preview "$(json_csv '{}' "$TMP/national.csv")")" 200 "the demo org's Move in preview"
assert_eq "$(jq_ 'd.region + " " + d.rows[0].phone')" "GB +445512345678" "read in GB"
assert_eq "$(call mx POST /api/imports/preview "$(json_csv '{}' "$TMP/national.csv")")" 200 "the MX org's Move in preview"
assert_eq "$(jq_ 'd.region + " " + d.rows[0].phone')" "MX +525512345678" "read in MX"
printf 'who,what\nEve,81 8123 4567\n' >"$TMP/byvalue.csv"
assert_eq "$(call mx POST /api/opt-outs/preview "$(json_csv '{}' "$TMP/byvalue.csv")")" 200 "the MX org's opt-out preview"
assert_eq "$(jq_ 'd.region + " " + d.suggested')" "MX 1" "names MX; finds the column by a number valid in MX"
assert_eq "$(call admin POST /api/opt-outs/preview "$(json_csv '{}' "$TMP/byvalue.csv")")" 200 "the demo org's opt-out preview"
assert_eq "$(jq_ 'd.region + " " + d.suggested')" "GB null" "names GB; that number is not one there"

# --- opt-outs, the lookup and forget's preview: typed numbers ---
printf 'phone\n81 8123 4567\n' >"$TMP/optout.csv"
assert_eq "$(call mx POST /api/opt-outs/import "$(json_csv '{"column":"phone"}' "$TMP/optout.csv")")" 200 "the MX org imports an opt-out"
assert_eq "$(jq_ '[d.opted_out, d.region].join(" ")')" "1 MX" "read in MX"
assert_eq "$(sql "SELECT phone FROM opt_outs WHERE org_id = $MX")" "+528181234567" "Monterrey's number opted out"
assert_eq "$(call mx POST /api/opt-outs/lookup '{"phone":"81 8123 4567"}')" 200 "the MX admin looks it up as typed"
assert_eq "$(jq_ 'd.phone + " " + d.opted_out')" "+528181234567 true" "typed national, read in MX"
assert_eq "$(call admin POST /api/opt-outs/lookup '{"phone":"07400 123456"}')" 200 "the demo admin looks up a UK mobile"
assert_eq "$(jq_ 'd.phone')" "+447400123456" "read in GB"
assert_eq "$(call mx POST /api/contacts/forget/preview '{"phone":"55 1234 5678"}')" 200 "the MX admin previews forgetting Ana"
assert_eq "$(jq_ 'd.phone')" "•••5678" "found her by the national number"
assert_eq "$(call admin POST /api/contacts/forget/preview '{"phone":"55 1234 5678"}')" 200 "the demo admin, the same digits"
assert_eq "$(sql "SELECT count(*) FROM contacts WHERE org_id = $ORG AND phone = '+445512345678'")" 1 "GB's reading of them is a contact of the demo org"

# --- tocsinctl contacts import: the org's region, an explicit --region wins ---
out=$("$CTL" contacts import --org mx --list otra --dry-run "$TMP/national.csv" 2>"$TMP/err")
assert_contains "$(cat "$TMP/err")" "numbers without +country read as MX" "tocsinctl reads in the org's MX"
assert_contains "$out" "rejected=2" "two refused, as in the dashboard"
out=$("$CTL" contacts import --org mx --region GB --list otra --dry-run "$TMP/national.csv" 2>"$TMP/err")
assert_contains "$(cat "$TMP/err")" "numbers without +country read as GB" "an explicit --region wins"
assert_contains "$out" "rejected=0" "all four valid in GB"
out=$(TOCSIN_DEFAULT_REGION=GB "$CTL" contacts import --org mx --list otra --dry-run "$TMP/national.csv" 2>"$TMP/err")
assert_contains "$(cat "$TMP/err")" "numbers without +country read as MX" "the org's region wins over the deployment's"

# --- a sender's number typed without +country: the org's region too ---
echo 7c0c51a0000000000000000000000000 | "$CTL" sender add --org mx --address "81 8123 4000" --provider twilio \
  --mps 1 --account-sid AC7c0c51a0000000000000000000000000 --auth-token-stdin >/dev/null
assert_eq "$(sql "SELECT address FROM senders WHERE org_id = $MX")" "+528181234000" "tocsinctl sender add reads it in MX"

# --- tocsinctl org create: a chapter in its own region from the start ---
"$CTL" org create pr --name "Capítulo PR" --phone-region XX >"$TMP/ctl.out" 2>&1 && fail "org create took XX"
assert_contains "$(cat "$TMP/ctl.out")" 'invalid --phone-region "XX": no country has this code' "org create says why"
assert_eq "$(sql "SELECT count(*) FROM orgs WHERE slug = 'pr'")" 0 "and creates nothing"
"$CTL" org create pr --name "Capítulo PR" --phone-region PR >/dev/null
assert_eq "$(sql "SELECT phone_region FROM orgs WHERE slug = 'pr'")" PR "created in PR"
out=$("$CTL" contacts import --org pr --list miembros --dry-run "$TMP/national.csv" 2>"$TMP/err")
assert_contains "$(cat "$TMP/err")" "numbers without +country read as PR" "its imports read in PR"

# --- a national admin creates a chapter in its own region ---
"$CTL" org create nat --name "National Body" --national >/dev/null
no_two_factor nat
echo "nat admin password" | "$CTL" user add --org nat --email admin@nat.test --role admin --password-stdin >/dev/null
assert_eq "$(login nat admin@nat.test 'nat admin password')" 200 "a national admin logs in"
for code in ZZ MEX 'mx ' ''; do
  assert_eq "$(call nat POST /api/chapters "{\"name\":\"Sur\",\"slug\":\"sur\",\"phone_region\":\"$code\"}")" 400 "a chapter in \"$code\" is refused"
  assert_contains "$(jq_ 'd.error.message')" "invalid phone_region \"$code\"" "naming the field and the code"
done
assert_eq "$(sql "SELECT count(*) FROM orgs WHERE slug = 'sur'")" 0 "no chapter made"
assert_eq "$(call nat POST /api/chapters '{"name":"Sur","slug":"sur","phone_region":"MX"}')" 201 "a chapter in MX"
assert_eq "$(jq_ 'd.phone_region')" MX "the answer says so"
assert_eq "$(sql "SELECT phone_region FROM orgs WHERE slug = 'sur'")" MX "stored"
assert_eq "$(sql "SELECT details->>'phone_region' FROM audit_events WHERE action = 'chapter.create'")" MX "audited with it"
assert_eq "$(call nat POST /api/chapters '{"name":"Norte","slug":"norte"}')" 201 "a chapter without one"
assert_eq "$(sql "SELECT coalesce(phone_region, 'null') FROM orgs WHERE slug = 'norte'")" null "the deployment's default"

# --- back to the default ---
assert_eq "$(call admin POST /api/settings '{"phone_region":"default"}')" 200 "the admin goes back to the default"
assert_eq "$(region_of "$ORG")" null "stored as none"
assert_eq "$(jq_ 'String(d.phone_region)')" null "the answer says so"
assert_eq "$(call admin POST /api/opt-outs/lookup '{"phone":"(415) 555-2672"}')" 200 "a US national number"
assert_eq "$(jq_ 'd.phone')" "+14155552672" "read in the deployment's US again"
assert_eq "$(sql "SELECT concat_ws(',', details->'phone_region'->>'old', coalesce(details->'phone_region'->>'new', 'null')) FROM audit_events WHERE action = 'org.settings' AND org_id = $ORG ORDER BY id DESC LIMIT 1")" \
  "GB,null" "audited"
echo "ok"
