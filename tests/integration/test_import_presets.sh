#!/usr/bin/env bash
# Moving in with presets (issue 19) against a real tocsin-dashboard and
# PostgreSQL, through the Move in page's own upload code
# (dashboard/static/import_upload.js, driven by import_upload.mjs): each
# fixture under tests/fixtures/import detected as its preset and imported
# with counts of new, opted out, already opted out and invalid rows with
# their lines (Action Network's "unsubscribed" rows become opt-outs of
# source import, never contacts or subscribers; VAN's cell preferred);
# the preview mapped, and overridden; the hostile cases: a volunteer,
# another org's admin and another user of the org find no upload, an
# oversized file (announced, or sent past what was announced), bad chunks,
# a connection reset mid-upload (nothing imported, the upload resumable),
# a replayed commit. Then a 100,000-row Action Network export through the
# HTTP API, its counts checked (its time and rows/s printed, not asserted).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dashboard_lib.sh"
dash_setup
FIX="$TOCSIN_SOURCE_DIR/tests/fixtures/import"
UP="$TOCSIN_SOURCE_DIR/tests/integration/import_upload.mjs"
"$BIN/ops/tocsinctl" org create other --name "Other Org" >/dev/null
no_two_factor other  # as dash_setup does for demo
echo "other admin password" | "$BIN/ops/tocsinctl" user add --org other --email admin@other.test --role admin --password-stdin >/dev/null
assert_eq "$(login vol1 vol1@demo.test)" 200 "volunteer logs in"
assert_eq "$(login lead lead@demo.test)" 200 "lead logs in"
assert_eq "$(login admin admin@demo.test)" 200 "admin logs in"
assert_eq "$(login other admin@other.test 'other admin password')" 200 "another org's admin logs in"

# up WHO FILE [PRESET|-] [LIST|-] [STOP_AFTER]: the page's upload as WHO; the result in $TMP/out.
up() { node "$UP" "$DASH" "$TMP/$1.jar" "$TMP/$1.csrf" "${@:2}" >"$TMP/out"; jq_ 'd.status'; }
count() { sql "$1"; }

# --- the presets the dashboard offers ---
assert_eq "$(call vol1 GET /api/imports/presets)" 403 "a volunteer gets no presets"
assert_eq "$(call lead GET /api/imports/presets)" 200 "presets"
assert_eq "$(jq_ 'd.presets.map(p => p.id).join(",")')" "spoke_contacts,spoke_opt_outs,action_network,van,plain" "the table's rows"
assert_eq "$(jq_ 'd.max_bytes + " " + d.chunk_bytes')" "67108864 524288" "the streamed upload's cap is 64 MiB, in chunks of 512 KiB"

# --- preview: detected, mapped, overridden ---
json_csv() { node -e 'process.stdout.write(JSON.stringify({csv: require("fs").readFileSync(process.argv[1], "utf8"), preset: process.argv[2] || "", mapping: process.argv[3] || ""}))' "$@"; }
assert_eq "$(call vol1 POST /api/imports/preview "$(json_csv "$FIX/van.csv")")" 403 "a volunteer cannot preview"
assert_eq "$(call lead POST /api/imports/preview "$(json_csv "$FIX/van.csv")")" 200 "preview a VAN export"
assert_eq "$(jq_ 'd.preset + " " + d.detected')" "van van" "detected"
assert_eq "$(jq_ 'd.columns.map(c => c.target).join("|")')" "vanid|first_name|last_name|address|city|state|zip|phone|phone3|phone2|email" "which column goes where"
assert_eq "$(jq_ 'd.rows.map(r => r.line + ":" + (r.phone || r.error)).slice(0, 4).join(" ")')" \
  "2:+16085557401 3:+16085557402 4:+16085557493 5:missing phone" "the rows mapped, the invalid ones with why"
assert_contains "$(jq_ 'd.rows[4].line + " " + d.rows[4].error')" "6 invalid phone number" "a bad cell is invalid, not replaced"
assert_eq "$(jq_ 'd.rows[0].fields.vanid + " " + d.rows[0].first_name')" "100201 Maya" "values by target"
# The admin ignores Address and takes the home phone first.
assert_eq "$(call lead POST /api/imports/preview "$(json_csv "$FIX/van.csv" van '["vanid","first_name","last_name","","city","state","zip","phone2","phone","phone3","email"]')")" 200 "a mapping overridden"
assert_eq "$(jq_ 'd.rows[0].phone + " " + ("address" in d.rows[0].fields)')" "+16085557491 false" "home first, address ignored"
# A mapping the import would refuse is previewed with the problem and
# the columns (to fix it), never rows.
assert_eq "$(call lead POST /api/imports/preview "$(json_csv "$FIX/van.csv" van '["phone","first_name"]')")" 200 "a mapping of the wrong width"
assert_eq "$(jq_ 'd.problem + " / " + d.columns.length + " " + d.rows.length')" "header: the file has 11 columns but the mapping names 2 / 11 0" "says so"
assert_eq "$(call lead POST /api/imports/preview "$(json_csv "$FIX/van.csv" van '["vanid","first_name","last_name","","city","state","zip","","","","email"]')")" 200 "a mapping without a phone"
assert_contains "$(jq_ 'd.problem')" "no column goes to \"phone\"" "says what is missing"
assert_eq "$(call lead POST /api/imports/preview "$(json_csv "$FIX/van.csv" van '{"a":1}')")" 400 "a mapping that is not a list"
assert_eq "$(call lead POST /api/imports/preview "$(json_csv "$FIX/van.csv" nope)")" 400 "an unknown preset"
assert_eq "$(call lead POST /api/imports/preview "$(json_csv "$FIX/van.csv" plain)")" 200 "another preset may be chosen"
assert_eq "$(jq_ 'd.preset + " " + d.detected + " " + d.columns[7].target + " " + d.columns[0].target')" "plain van phone vanid" "the choice wins, the detection is still said"
assert_eq "$(call lead POST /api/imports/preview "$(json_csv "$FIX/action_network.csv" spoke_opt_outs)")" 200 "a preset that finds no phone column"
assert_contains "$(jq_ 'd.problem')" "pick the column of the numbers" "asks for it"

# --- each fixture imported ---
# Hugo texted STOP here before the move.
member_writes +14155557302 "hello" >/dev/null
sql "SELECT action FROM tocsin_receive_inbound('twilio', 'SMstop302', $SENDER, '+14155557302', 'STOP', 0,
     'opt_out', NULL, false, NULL, NULL, NULL)" >/dev/null

# Lena was on a list before the move: her opt-out in the export ends it.
printf 'phone,first_name\n+14155557306,Lena\n' >"$TMP/earlier.csv"
assert_eq "$(up lead "$TMP/earlier.csv" - "Earlier")" 200 "a plain file into a list"
assert_eq "$(jq_ 'd.preset + " " + d.report.subscribed')" "plain 1" "Lena subscribed"

assert_eq "$(up lead "$FIX/spoke_contacts.csv" - "Spoke movers")" 200 "Spoke campaign export imported"
assert_eq "$(jq_ 'd.preset')" spoke_contacts "detected as Spoke contacts"
assert_eq "$(jq_ '[d.report.rows, d.report.imported, d.report.opted_out, d.report.rejected].join(" ")')" "7 3 1 3" "7 rows: 3 new, 1 opted out, 3 invalid"
assert_eq "$(jq_ 'd.report.rejections.map(r => r.line).join(",")')" "5,6,8" "the invalid rows' lines"
assert_contains "$(jq_ 'd.report.rejections[2].reason')" "duplicate of line 2" "a repeated row says which"
assert_eq "$(count "SELECT (fields->>'ward') || '/' || (fields->>'external_id') FROM contacts WHERE org_id = $ORG AND phone = '+15055550706'")" "Ward 2/sp-006" "custom fields kept"
assert_eq "$(count "SELECT source FROM opt_outs WHERE org_id = $ORG AND phone = '+15055557103'")" import "Spoke's optOut true is an opt-out"
assert_eq "$(count "SELECT count(*) FROM contacts WHERE org_id = $ORG AND phone = '+15055557103'")" 0 "and not a contact"
assert_eq "$(count "SELECT count(*) FROM subscriptions s JOIN lists l ON l.id = s.list_id WHERE l.name = 'Spoke movers' AND s.unsubscribed_at IS NULL")" 3 "the new contacts are on the list"

assert_eq "$(up lead "$FIX/spoke_opt_outs.csv")" 200 "Spoke opt-out export imported"
assert_eq "$(jq_ 'd.preset')" spoke_opt_outs "detected as Spoke opt-outs"
assert_eq "$(jq_ '[d.report.rows, d.report.opted_out, d.report.already_opted_out, d.report.duplicates, d.report.rejected].join(" ")')" "5 3 0 1 1" "3 opted out, 1 repeated, 1 invalid"
assert_eq "$(jq_ 'd.report.rejections.map(r => r.line).join(",")')" "4" "the invalid row's line"
assert_eq "$(count "SELECT count(*) FROM opt_outs WHERE org_id = $ORG AND source = 'import' AND phone LIKE '+1505555720%'")" 3 "in opt_outs, source import"

assert_eq "$(up lead "$FIX/action_network.csv" - "AN members")" 200 "Action Network export imported"
assert_eq "$(jq_ 'd.preset')" action_network "detected as Action Network"
assert_eq "$(jq_ '[d.report.rows, d.report.imported, d.report.opted_out, d.report.already_opted_out, d.report.rejected].join(" ")')" "6 2 1 1 2" "2 new, 1 newly opted out, 1 already, 2 invalid"
assert_eq "$(jq_ 'd.report.rejections.map(r => r.line + " " + r.reason).join("; ")')" \
  "5 missing phone; 6 invalid zip \"9410\": must be 5 digits or ZIP+4" "lines and reasons"
assert_eq "$(count "SELECT source || ' ' || (evidence LIKE 'import:%') FROM opt_outs WHERE org_id = $ORG AND phone = '+14155557306'")" "import true" "unsubscribed (with a bad zip) is an opt-out of source import"
assert_eq "$(count "SELECT source FROM opt_outs WHERE org_id = $ORG AND phone = '+14155557302'")" keyword "the member's own STOP kept"
assert_eq "$(count "SELECT s.unsubscribed_at IS NOT NULL FROM subscriptions s JOIN lists l ON l.id = s.list_id JOIN contacts c ON c.id = s.contact_id WHERE l.name = 'Earlier' AND c.phone = '+14155557306'")" t "her earlier subscription ended by the opt-out"
assert_eq "$(count "SELECT count(*) FROM contacts WHERE org_id = $ORG AND phone = '+14155557306' AND fields ? 'email'")" 0 "and the export's row made no contact of her"
assert_eq "$(count "SELECT string_agg(c.phone, ',' ORDER BY c.phone) FROM subscriptions s JOIN lists l ON l.id = s.list_id JOIN contacts c ON c.id = s.contact_id WHERE l.name = 'AN members'")" "+14155557301,+14155557303" "only the subscribed and bouncing rows are subscribers"
assert_eq "$(count "SELECT (fields->>'tags') || '|' || (fields->>'email') FROM contacts WHERE org_id = $ORG AND phone = '+14155557301'")" "volunteer, housing|grace@example.org" "tags and email kept"
assert_eq "$(count "SELECT count(*) FROM audit_events WHERE org_id = $ORG AND action IN ('contacts.import', 'opt_outs.import') AND details ? 'upload'")" 4 "each import audited"

assert_eq "$(up lead "$FIX/van.csv")" 200 "VAN export imported"
assert_eq "$(jq_ 'd.preset + " " + [d.report.rows, d.report.imported, d.report.rejected].join(" ")')" "van 5 3 2" "3 new, 2 invalid"
assert_eq "$(jq_ 'd.report.rejections.map(r => r.line).join(",")')" "5,6" "the invalid rows' lines"
assert_eq "$(count "SELECT string_agg(phone, ',' ORDER BY phone) FROM contacts WHERE org_id = $ORG AND fields ? 'vanid'")" "+16085557401,+16085557402,+16085557493" "cell, else preferred, else home"

# --- the same presets from the command line ---
CTL="$BIN/ops/tocsinctl"
"$CTL" org create cli --name "CLI Org" >/dev/null
out=$("$CTL" contacts import --org cli --preset auto --list members "$FIX/action_network.csv" 2>"$TMP/cli.err")
assert_contains "$out" "imported=2 updated=0 rejected=2" "tocsinctl --preset auto: the counts"
assert_contains "$out" "opted_out=2 already_opted_out=0" "unsubscribed rows opted out"
assert_contains "$out" "line 5: missing phone" "invalid rows by line"
assert_contains "$(cat "$TMP/cli.err")" "read as Action Network people" "says which preset"
assert_eq "$(count "SELECT count(*) FROM opt_outs o JOIN orgs g ON g.id = o.org_id WHERE g.slug = 'cli' AND o.source = 'import'")" 2 "in that org's opt-outs"
out=$("$CTL" contacts import --org cli --preset spoke_opt_outs "$FIX/spoke_opt_outs.csv" 2>/dev/null)
assert_contains "$out" "opted_out=3 already_opted_out=0 rejected=1 duplicates=1" "an opt-out preset"
rc=0; "$CTL" contacts import --org cli --preset auto - <"$FIX/van.csv" >/dev/null 2>"$TMP/cli.err" || rc=$?
assert_eq "$rc" 2 "--preset needs a file"
assert_contains "$(cat "$TMP/cli.err")" "needs a file, not standard input" "says so"
rc=0; "$CTL" contacts import --org cli --preset nope "$FIX/van.csv" >/dev/null 2>"$TMP/cli.err" || rc=$?
assert_eq "$rc" 1 "an unknown preset"
assert_contains "$(cat "$TMP/cli.err")" "unknown preset \"nope\"" "says so"

# --- hostile ---
assert_eq "$(call lead POST /api/imports '{"filename":"x.csv","size":67108865,"preset":"plain","mapping":"[\"phone\"]"}')" 413 "an announced file over 64 MiB"
assert_contains "$(jq_ 'd.error.message')" "64 MiB" "says the cap"
assert_eq "$(call lead POST /api/imports '{"filename":"x.csv","size":10,"preset":"plain","mapping":"[\"first_name\"]"}')" 400 "a mapping without a phone column"
assert_eq "$(call lead POST /api/imports '{"filename":"x.csv","size":10,"preset":"spoke_opt_outs","mapping":"[\"phone\"]","list":"L"}')" 400 "an opt-out list goes to no list"
assert_eq "$(call vol1 POST /api/imports '{"filename":"x.csv","size":10,"preset":"plain","mapping":"[\"phone\"]"}')" 403 "a volunteer cannot upload"
assert_eq "$(call lead POST /api/imports '{"filename":"a\nb.csv","size":10,"preset":"plain","mapping":"[\"phone\"]"}')" 400 "a file name with a control character"
assert_eq "$(call lead POST /api/imports '{"filename":"x.csv","size":10,"preset":"plain","mapping":"[\"phone\",\"a\\tb\"]"}')" 400 "a field name with a control character"
assert_contains "$(jq_ 'd.error.message')" "column 2: a field name must not hold control characters" "says which column"
before=$(count "SELECT count(*) FROM contacts WHERE org_id = $ORG")
assert_eq "$(call lead POST /api/imports '{"filename":"small.csv","size":20,"preset":"plain","mapping":"[\"phone\"]"}')" 201 "an upload announced at 20 bytes"
SMALL=$(jq_ 'd.id')
assert_eq "$(call other GET /api/imports/$SMALL)" 404 "another org's admin finds no upload"
assert_eq "$(call admin GET /api/imports/$SMALL)" 404 "another user of the org neither"
assert_eq "$(call other POST /api/imports/$SMALL/chunk '{"offset":0,"data":"cGhvbmUK"}')" 404 "nor sends it a chunk"
assert_eq "$(call other POST /api/imports/$SMALL/commit)" 404 "nor imports it"
assert_eq "$(call lead POST /api/imports/$SMALL/chunk '{"offset":0,"data":"not base64!"}')" 400 "a chunk that is not base64"
assert_eq "$(call lead POST /api/imports/$SMALL/chunk '{"offset":5,"data":"cGhvbmUK"}')" 409 "a chunk at the wrong offset"
assert_eq "$(jq_ 'd.error.code + " " + d.error.received')" "wrong_offset 0" "says where to go on from"
assert_eq "$(call lead POST /api/imports/$SMALL/commit)" 409 "an incomplete upload is not imported"
assert_contains "$(jq_ 'd.error.message')" "0 of 20 bytes" "says how far it got"
big=$(printf 'phone\n+14155557777\n+14155557778\n' | base64 -w0)
assert_eq "$(call lead POST /api/imports/$SMALL/chunk "{\"offset\":0,\"data\":\"$big\"}")" 413 "more bytes than announced"
assert_contains "$(jq_ 'd.error.message')" "nothing was imported" "says nothing was imported"
assert_eq "$(count "SELECT state || ' ' || (SELECT count(*) FROM import_upload_chunks WHERE upload_id = $SMALL) FROM import_uploads WHERE id = $SMALL")" "failed 0" "the upload failed, its chunks gone"
assert_eq "$(call lead POST /api/imports/$SMALL/commit)" 409 "a failed upload is not imported"
assert_eq "$(count "SELECT count(*) FROM contacts WHERE org_id = $ORG")" "$before" "nothing imported"

# A replayed commit imports nothing twice; a chunk after the import is refused.
printf 'phone\n+14155557781\n' >"$TMP/one.csv"
assert_eq "$(up lead "$TMP/one.csv")" 200 "a one-row file"
ONE=$(sql "SELECT max(id) FROM import_uploads")
assert_eq "$(call lead POST /api/imports/$ONE/commit)" 409 "a replayed commit"
assert_eq "$(jq_ 'd.error.code')" upload_imported "says it is imported"
assert_eq "$(call lead POST /api/imports/$ONE/chunk '{"offset":0,"data":"cGhvbmUK"}')" 409 "a chunk after the import"
assert_eq "$(count "SELECT count(*) FROM import_batches WHERE org_id = $ORG AND filename = 'one.csv'")" 1 "one batch"

# --- 100,000 rows, streamed ---
node -e '
const rows = ["first_name,last_name,email,zip_code,can2_phone,can2_sms_status,can2_user_tags,notes"];
for (let i = 0; i < 100000; i++) {
  const n = String(i).padStart(6, "0");
  const phone = i % 1000 === 7 ? "not-a-phone" : `+1415${String(2000000 + i)}`;
  const status = i % 100 === 3 ? "unsubscribed" : "subscribed";
  rows.push(`Member${n},Family${n},m${n}@example.org,${94100 + (i % 50)},${phone},${status},"tenant, rally ${i % 7}",moved in from Action Network in the autumn drive`);
}
require("fs").writeFileSync(process.argv[1], rows.join("\n") + "\n");' "$TMP/big.csv"
size=$(stat -c %s "$TMP/big.csv")
[ "$size" -gt 9000000 ] || fail "the 100k-row file is $size bytes, expected about 10 MB"

# A connection reset mid-upload: two chunks sent, the third cut off.
assert_eq "$(up lead "$TMP/big.csv" - "Big" 2)" abandoned "two chunks sent"
HALF=$(jq_ 'd.id')
node -e '
const net = require("net");
const [port, path, jar, csrf] = process.argv.slice(1);
const cookie = require("fs").readFileSync(jar, "utf8").split("\n").map((l) => l.replace(/^#HttpOnly_/, "").split("\t")).filter((f) => f.length >= 7).map((f) => f[5] + "=" + f[6]).join("; ");
const s = net.connect(Number(port), "127.0.0.1", () => {
  const head = `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ${cookie}\r\nX-CSRF-Token: ${require("fs").readFileSync(csrf, "utf8").trim()}\r\nContent-Type: application/json\r\nContent-Length: 700000\r\n\r\n`;
  s.write(head + `{"offset":1048576,"data":"` + "QUJD".repeat(20000), () => s.resetAndDestroy());
});
s.on("error", () => {});' "$DASH_PORT" "/api/imports/$HALF/chunk" "$TMP/lead.jar" "$TMP/lead.csrf"
assert_eq "$(call lead GET /api/imports/$HALF)" 200 "the upload after the reset"
assert_eq "$(jq_ 'd.state + " " + d.received')" "uploading 1048576" "still uploading, the cut chunk not kept"
assert_eq "$(call lead POST /api/imports/$HALF/commit)" 409 "a half-sent file is not imported"
assert_eq "$(count "SELECT count(*) FROM contacts WHERE org_id = $ORG AND phone LIKE '+14152%'")" 0 "nothing of it imported"
assert_eq "$(count "SELECT count(*) FROM lists WHERE org_id = $ORG AND name = 'Big'")" 0 "not even its list"
# It resumes from where the server is: the rest of the file, then the import.
{ printf '{"offset":1048576,"data":"'; dd if="$TMP/big.csv" bs=524288 skip=2 count=1 status=none | base64 -w0; printf '"}'; } >"$TMP/chunk.json"
assert_eq "$(curl -s -b "$TMP/lead.jar" -o "$TMP/out" -w '%{http_code}' -X POST "$DASH/api/imports/$HALF/chunk" \
  -H "X-CSRF-Token: $(cat "$TMP/lead.csrf")" -H 'Content-Type: application/json' -d @"$TMP/chunk.json")" 200 "the next chunk, resumed"
assert_eq "$(jq_ 'd.received')" 1572864 "received"

# The whole file as the browser sends it (a new upload).
assert_eq "$(up lead "$TMP/big.csv" - "Big")" 200 "100,000 rows imported through the HTTP API"
assert_eq "$(jq_ '[d.report.rows, d.report.imported, d.report.opted_out, d.report.rejected].join(" ")')" "100000 98900 1000 100" "new, opted out, invalid"
assert_eq "$(jq_ 'd.report.rejections[0].line + " " + d.report.rejections[99].line')" "9 99009" "invalid rows by line"
echo "100k-row import: $(jq_ 'd.bytes') bytes in $(jq_ 'd.seconds.toFixed(1)') s, $(jq_ 'Math.round(100000 / d.seconds)') rows/s" \
  "(upload $(jq_ 'd.upload_seconds.toFixed(1)') s, import $(jq_ 'd.import_seconds.toFixed(1)') s;" \
  "rows read as the page saw them: $(jq_ '[...new Set(d.rows_read_seen || [])].join(" ")'))"
assert_eq "$(count "SELECT count(*) FROM subscriptions s JOIN lists l ON l.id = s.list_id WHERE l.org_id = $ORG AND l.name = 'Big'")" 98900 "subscribed"
assert_eq "$(call lead GET "/api/imports/$(sql "SELECT max(id) FROM import_uploads")")" 200 "the upload's state"
assert_eq "$(jq_ 'd.state + " " + d.rows_read + " " + (d.received === d.size)')" "imported 100000 true" "imported, every row read"
assert_eq "$(count "SELECT count(*) FROM opt_outs WHERE org_id = $ORG AND source = 'import' AND phone LIKE '+14152%'")" 1000 "opted out"
echo "PASS"
