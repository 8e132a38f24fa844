#!/usr/bin/env bash
# tocsinctl contacts import against a live database: the report (counts,
# line numbers, reasons), the rows it wrote (E.164, names, zip, custom
# fields), updates on re-import, opt-outs that stay, --strict and broken
# files that write nothing, and list subscriptions carrying the batch.
source "$(dirname "$0")/lib.sh"
fresh_db
CTL="$BIN/ops/tocsinctl"
"$CTL" migrate >/dev/null
"$CTL" org create north --name "North Chapter" >/dev/null

cat > "$TMP/contacts.csv" <<'CSV'
Phone,First_Name,last_name,zip,Chapter,Shirt size
(415) 555-2671,Jane,Doe,94110,North,M
+14155552672,"Smith, John",,94110-1234,"South
Side",
415 555 2671,Dup,Row,,X,
12,Bad,Phone,,,
+14155552673,Bad,Zip,ABCDE,,
+14155552674,too,many,cols,x,y,z
+14155552675,Opted,Out,,,L
CSV
sql "INSERT INTO opt_outs (org_id, phone, source) SELECT id, '+14155552675', 'keyword' FROM orgs WHERE slug = 'north'" >/dev/null

out=$("$CTL" contacts import --org north --list members "$TMP/contacts.csv")
assert_contains "$out" "imported=3 updated=0 rejected=4 kept_opted_out=1" "report counts"
assert_contains "$out" "subscribed=2 list=members" "opted-out number not subscribed"
assert_contains "$out" "line 5: duplicate of line 2 (+14155552671)" "duplicate reported with both lines"
assert_contains "$out" 'line 6: invalid phone number "12": too short' "bad phone reason"
assert_contains "$out" 'line 7: invalid zip "ABCDE": must be 5 digits or ZIP+4' "bad zip reason"
assert_contains "$out" "line 8: expected 6 columns, found 7" "column count"

assert_eq "$(sql "SELECT count(*) FROM contacts")" 3 "three contacts"
assert_eq "$(sql "SELECT first_name || '|' || last_name || '|' || zip FROM contacts WHERE phone = '+14155552671'")" "Jane|Doe|94110" "names and zip"
assert_eq "$(sql "SELECT first_name || '|' || coalesce(last_name, 'NULL') || '|' || zip FROM contacts WHERE phone = '+14155552672'")" "Smith, John|NULL|94110" "quoted comma, ZIP+4 cut"
assert_eq "$(sql "SELECT fields->>'chapter' FROM contacts WHERE phone = '+14155552672'")" "South
Side" "quoted newline kept in a custom field"
assert_eq "$(sql "SELECT fields::text FROM contacts WHERE phone = '+14155552671'")" '{"chapter": "North", "shirt size": "M"}' "custom fields"
assert_eq "$(sql "SELECT count(*) FROM opt_outs")" 1 "the opt-out stays"
batch=$(sql "SELECT id FROM import_batches")
assert_eq "$(sql "SELECT count(*) FROM subscriptions WHERE source = 'import' AND evidence_import_id = $batch")" 2 "subscriptions carry the batch"
assert_eq "$(sql "SELECT rows_total || ' ' || rows_imported || ' ' || rows_rejected FROM import_batches")" "7 3 4" "batch counts"
assert_eq "$(sql "SELECT count(*) FROM consent_events WHERE source = 'import' AND evidence = 'import:$batch'")" 2 "consent recorded"

# Re-import with new names: updates, fields merged, nothing duplicated.
cat > "$TMP/update.csv" <<'CSV'
phone,first_name,shirt size
+14155552671,Janet,L
+14155552699,New,S
CSV
out=$("$CTL" contacts import --org north "$TMP/update.csv")
assert_contains "$out" "imported=1 updated=1 rejected=0" "update counts"
assert_eq "$(sql "SELECT first_name || '|' || last_name FROM contacts WHERE phone = '+14155552671'")" "Janet|Doe" "name updated, last name kept"
assert_eq "$(sql "SELECT fields::text FROM contacts WHERE phone = '+14155552671'")" '{"chapter": "North", "shirt size": "L"}' "fields merged"

# --strict: one bad row and nothing is written.
before=$(sql "SELECT count(*) FROM contacts")
rc=0; out=$("$CTL" contacts import --org north --strict "$TMP/contacts.csv" 2>&1) || rc=$?
assert_eq "$rc" 1 "--strict fails"
assert_contains "$out" "--strict is set: nothing imported" "--strict explains"
assert_eq "$(sql "SELECT count(*) FROM contacts")" "$before" "--strict wrote nothing"
assert_eq "$(sql "SELECT count(*) FROM import_batches")" 2 "no batch recorded for the failed import"

# --dry-run counts but writes nothing.
printf 'phone\n+14155550001\n+14155550002\n' > "$TMP/dry.csv"
out=$("$CTL" contacts import --org north --dry-run "$TMP/dry.csv")
assert_contains "$out" "imported=2" "dry run counts"
assert_eq "$(sql "SELECT count(*) FROM contacts WHERE phone LIKE '+1415555000_'")" 0 "dry run wrote nothing"

# Broken files write nothing and say why.
printf 'name,zip\nJane,94110\n' > "$TMP/nophone.csv"
rc=0; out=$("$CTL" contacts import --org north "$TMP/nophone.csv" 2>&1) || rc=$?
assert_eq "$rc" 1 "no phone column"
assert_contains "$out" 'no "phone" column' "no phone column reason"
printf 'phone,name\n+14155550003,ok\n+14155550004,"never closed\n' > "$TMP/unterminated.csv"
rc=0; out=$("$CTL" contacts import --org north "$TMP/unterminated.csv" 2>&1) || rc=$?
assert_eq "$rc" 1 "unterminated quote"
assert_contains "$out" "line 3: unterminated quoted field" "unterminated reason"
assert_eq "$(sql "SELECT count(*) FROM contacts WHERE phone = '+14155550003'")" 0 "the good row before it was not kept"
rc=0; "$CTL" contacts import --org north "$TMP/missing.csv" 2>/dev/null || rc=$?
assert_eq "$rc" 1 "missing file"

# A file that cannot be read (a directory opens but fails on read) is an
# error, never an empty import.
rc=0; out=$("$CTL" contacts import --org north "$TMP" 2>&1) || rc=$?
assert_eq "$rc" 1 "unreadable file"
assert_contains "$out" "could not read input: Is a directory" "unreadable file reason"
{ printf 'phone'; for i in $(seq 1 70); do printf ',c%d' "$i"; done; echo; } > "$TMP/wide.csv"
rc=0; out=$("$CTL" contacts import --org north "$TMP/wide.csv" 2>&1) || rc=$?
assert_eq "$rc" 1 "too wide a header"
assert_contains "$out" "line 1: header: more than 64 columns" "too wide a header reason"

# The region: national numbers read with it, in either case; a bad one is
# refused before anything is read.
printf 'phone\n020 7946 0018\n' > "$TMP/gb.csv"
out=$("$CTL" contacts import --org north --region gb "$TMP/gb.csv")
assert_contains "$out" "imported=1 updated=0 rejected=0" "lower-case region"
assert_eq "$(sql "SELECT count(*) FROM contacts WHERE phone = '+442079460018'")" 1 "national number read in GB"
rc=0; out=$("$CTL" contacts import --org north --region GBR "$TMP/gb.csv" 2>&1) || rc=$?
assert_eq "$rc" 1 "bad region"
assert_contains "$out" 'invalid region "GBR": must be a country'"'"'s two letters' "bad region reason"

# Re-importing an opted-out number with a list: updated, still opted out,
# still not subscribed.
printf 'phone,first_name\n+14155552675,Still\n' > "$TMP/optout.csv"
out=$("$CTL" contacts import --org north --list members "$TMP/optout.csv")
assert_contains "$out" "imported=0 updated=1 rejected=0 kept_opted_out=1" "opted-out re-import counts"
assert_contains "$out" "subscribed=0 list=members" "opted-out number not re-subscribed"
assert_eq "$(sql "SELECT first_name FROM contacts WHERE phone = '+14155552675'")" "Still" "opted-out contact updated"
assert_eq "$(sql "SELECT count(*) FROM opt_outs WHERE phone = '+14155552675'")" 1 "the opt-out survives a re-import"
assert_eq "$(sql "SELECT count(*) FROM subscriptions s JOIN contacts c ON c.id = s.contact_id WHERE c.phone = '+14155552675'")" 0 "no subscription for the opted-out number"

# Standard input, and a file of 20,000 rows.
printf 'phone\n+14155550005\n' | "$CTL" contacts import --org north - | grep -q "imported=1" || fail "stdin import"
err=$(printf 'phone\n+14155550006\n' | "$CTL" contacts import --org north --progress - 2>&1 >/dev/null)
assert_contains "$err" "1 rows: read+validate+copy " "--progress reports where the time went"
{ echo "phone,first_name"; for a in 212 646; do seq -f "+1${a}555%04g,P" 0 9999; done; } > "$TMP/big.csv"
out=$("$CTL" contacts import --org north --list big "$TMP/big.csv")
assert_contains "$out" "imported=20000 updated=0 rejected=0" "20k rows"
assert_eq "$(sql "SELECT count(*) FROM subscriptions s JOIN lists l ON l.id = s.list_id WHERE l.name = 'big'")" 20000 "20k subscribed"
# An opt-out list from the command line (a file over the dashboard's upload
# cap): the column by any name; big members opted out, their lists ended.
{ echo "Mobile Number,notes"; seq -f "+1212555%04g,x" 0 999; echo "+14155552675,again"; echo "bogus,x"; } > "$TMP/optouts.csv"
rc=0; out=$("$CTL" contacts import --org north --list big --opt-outs "mobile number" "$TMP/optouts.csv" 2>&1) || rc=$?
assert_eq "$rc" 2 "--opt-outs with --list is a usage error"
before=$(sql "SELECT count(*) FROM contacts")
out=$("$CTL" contacts import --org north --opt-outs "mobile number" "$TMP/optouts.csv")
assert_contains "$out" "opted_out=1000 already_opted_out=1 rejected=1 duplicates=0" "the opt-out list's counts"
assert_contains "$out" "line 1003: " "the invalid row by its line"
assert_eq "$(sql "SELECT count(*) FROM opt_outs WHERE source = 'import' AND phone LIKE '+12125550%'")" 1000 "recorded with source import"
assert_eq "$(sql "SELECT count(*) FROM subscriptions s JOIN contacts c ON c.id = s.contact_id WHERE c.phone LIKE '+12125550%' AND s.unsubscribed_at IS NULL")" 0 \
  "their subscriptions ended"
assert_eq "$(sql "SELECT count(*) FROM subscriptions s JOIN contacts c ON c.id = s.contact_id WHERE c.phone LIKE '+1212555%' AND s.unsubscribed_at IS NULL")" 9000 \
  "the rest of the list stays subscribed"
assert_eq "$(sql "SELECT count(*) FROM contacts")" "$before" "no contact made or changed"
echo "test_import: ok"
