#!/usr/bin/env bash
# A campaign lead's API against a real tocsin-dashboard and PostgreSQL:
# every lead route refused to volunteers (403), to anyone without a
# session (401) and without the CSRF token (403), and scoped to the
# caller's org (another org's lead gets 404); CSV import through the API
# with the CLI's report (line-numbered rejections); export with the
# formula guard; keywords with the compliance checks; blast preview,
# create, schedule, pause, resume, cancel (each audited) and bad input
# answered 400 with the reason; member-written text returned as data.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dashboard_lib.sh"
dash_setup
"$BIN/ops/tocsinctl" org create other --name "Other Org" >/dev/null
no_two_factor other  # as dash_setup does for demo
echo "other lead password" | "$BIN/ops/tocsinctl" user add --org other --email lead@other.test --role lead --password-stdin >/dev/null
assert_eq "$(login vol1 vol1@demo.test)" 200 "volunteer logs in"
assert_eq "$(login lead lead@demo.test)" 200 "lead logs in"
assert_eq "$(login admin admin@demo.test)" 200 "admin logs in"
assert_eq "$(login other lead@other.test 'other lead password')" 200 "another org's lead logs in"

# --- import through the API: the CLI's code and report ---
XSS_NAME='<img src=x onerror=alert(1)>'
csv=$(printf 'phone,first_name,last_name,ward\n4155550301,Ana,Ruiz,7\n+14155550302,%s,"=HYPERLINK(""http://evil"")",@SUM(1)\nnot-a-phone,Bad,Row,1\n4155550304,Cy,,-3\n4155550305,Opted,Out,9\n' "$XSS_NAME")
sql "INSERT INTO opt_outs (org_id, phone, source) VALUES ($ORG, '+14155550305', 'admin')" >/dev/null
body=$(node -e 'process.stdout.write(JSON.stringify({name: process.argv[1], filename: "ward7.csv", csv: process.argv[2]}))' '<b>Ward 7</b>' "$csv")
assert_eq "$(call vol1 POST /api/lists/import "$body")" 403 "volunteers do not import"
assert_eq "$(call lead POST /api/lists/import "$body")" 200 "lead imports a CSV"
assert_eq "$(jq_ 'd.rows + " " + d.imported + " " + d.rejected + " " + d.kept_opted_out')" "5 4 1 1" "the import's counts"
assert_eq "$(jq_ 'd.rejections[0].line')" 4 "the rejection's line number (header is line 1)"
assert_contains "$(jq_ 'd.rejections[0].reason')" "phone" "the rejection's reason"
LIST=$(sql "SELECT id FROM lists WHERE name = '<b>Ward 7</b>'")
[ -n "$LIST" ] || fail "the list was created"
assert_eq "$(sql "SELECT count(*) FROM audit_events WHERE action = 'contacts.import' AND org_id = $ORG")" 1 "import audited"
assert_eq "$(sql "SELECT created_by = (SELECT id FROM users WHERE email = 'lead@demo.test') FROM import_batches WHERE list_id = $LIST")" t "the batch records who imported"
assert_eq "$(call lead POST /api/lists/import '{"name":"x","csv":"first_name\nAna\n"}')" 400 "a CSV without a phone column"
assert_contains "$(jq_ 'd.error.message')" "phone" "says the phone column is missing"
assert_eq "$(call lead POST /api/lists/import '{"name":"","csv":"phone\n4155550399\n"}')" 400 "a list needs a name"
{ printf '{"name":"big","csv":"'; head -c 1100000 /dev/zero | tr '\0' a; printf '"}'; } >"$TMP/big.json"
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$TMP/lead.jar" -H "X-CSRF-Token: $(cat "$TMP/lead.csrf")" \
       -X POST "$DASH/api/lists/import" --data-binary "@$TMP/big.json")
assert_eq "$code" 413 "an upload over the body cap is refused"

# --- audiences: counts exclude opted-out members ---
assert_eq "$(call lead GET /api/lists)" 200 "lists"
assert_eq "$(jq_ 'd.find((l) => l.id === '"$LIST"').members + " " + d.find((l) => l.id === '"$LIST"').name')" "3 <b>Ward 7</b>" "members counted (opted-out left out), the name as data"
assert_eq "$(call other GET /api/lists)" 200 "the other org's lists"
assert_eq "$(jq_ 'd.some((l) => l.id === '"$LIST"')')" false "not this org's"
assert_eq "$(call lead GET "/api/lists/$LIST/export")" 200 "export"
head=$(curl -s -D - -o "$TMP/export.csv" -b "$TMP/lead.jar" "$DASH/api/lists/$LIST/export" | tr -d '\r')
assert_contains "$head" "Content-Type: text/csv" "export is CSV"
assert_contains "$head" "attachment; filename=\"list-$LIST.csv\"" "as a download"
assert_eq "$(head -1 "$TMP/export.csv" | tr -d '\r')" "phone,first_name,last_name,zip,timezone,ward" "export header: the import's columns"
assert_contains "$(cat "$TMP/export.csv")" "\"'=HYPERLINK(\"\"http://evil\"\")\"" "a formula is quoted and prefixed"
assert_contains "$(cat "$TMP/export.csv")" "'@SUM(1)" "an @ cell is prefixed"
assert_contains "$(cat "$TMP/export.csv")" "'+14155550301,Ana,Ruiz" "numbers are prefixed too (they start with +)"
# Opened as a spreadsheet opens it: no cell runs as a formula, and every
# phone number stays text with its "+".
sheet=$(node "$TOCSIN_SOURCE_DIR/tests/integration/spreadsheet_read.mjs" "$TMP/export.csv")
assert_eq "$(node -e 'const s = JSON.parse(process.argv[1]); process.stdout.write(String(s.flat().filter((c) => c.type === "formula").length))' "$sheet")" 0 "no formulas in the list export"
assert_eq "$(node -e 'const s = JSON.parse(process.argv[1]); process.stdout.write(s.slice(1).map((r) => r[0].type + ":" + r[0].shown.replace(/^\x27/, "")).join(" "))' "$sheet")" \
  "text:+14155550301 text:+14155550302 text:+14155550304" "phone numbers read as text with their +"
[[ "$(cat "$TMP/export.csv")" != *Opted* ]] || fail "the opted-out member is not exported"
assert_eq "$(wc -l <"$TMP/export.csv")" 4 "header and three members"
assert_eq "$(call other GET "/api/lists/$LIST/export")" 404 "another org's list is not found"
assert_eq "$(call vol1 GET "/api/lists/$LIST/export")" 403 "volunteers do not export"

# --- keywords ---
GOOD='Tocsin Demo Chapter: ward 7 alerts, 2 msgs/mo. Msg&data rates may apply. Reply HELP for help, STOP to cancel.'
assert_eq "$(call lead GET /api/keywords)" 200 "leads see keywords"
assert_eq "$(jq_ 'd.map((k) => k.keyword).join()')" "JOIN,UNETE" "the demo's keywords"
kw() { node -e 'process.stdout.write(JSON.stringify({keyword: process.argv[1], list_id: process.argv[2], reply: process.argv[3]}))' "$@"; }
assert_eq "$(call lead POST /api/keywords "$(kw WARD "$LIST" "$GOOD")")" 403 "leads do not create keywords"
assert_eq "$(call admin POST /api/keywords "$(kw STOP "$LIST" "$GOOD")")" 400 "a reserved word is refused"
assert_contains "$(jq_ 'd.error.message')" "reserved" "says why"
assert_eq "$(call admin POST /api/keywords "$(kw WARD "$LIST" 'Ward 7 alerts! Reply STOP to cancel.')")" 400 "a confirmation without the required parts"
msg=$(jq_ 'd.error.message')
[ -n "$msg" ] && [[ "$msg" != *"the request"* ]] || fail "the missing part is named: $msg"
assert_eq "$(call admin POST /api/keywords "$(kw 'W 7' "$LIST" "$GOOD")")" 400 "a keyword with a space"
assert_eq "$(call admin POST /api/keywords '{"keyword":"WARD","reply":"x"}')" 400 "no list"
assert_eq "$(call admin POST /api/keywords "$(kw WARD 999999 "$GOOD")")" 400 "an unknown list"
slow=$(node -e 'process.stdout.write(JSON.stringify({keyword: "WARD", list_id: process.argv[1], reply: process.argv[2], pattern: "^(\\d+\\s?)+$"}))' "$LIST" "$GOOD")
assert_eq "$(call admin POST /api/keywords "$slow")" 400 "a catastrophic pattern is refused"
assert_contains "$(jq_ 'd.error.message')" "is too costly" "says why"
assert_eq "$(call admin POST /api/keywords "$(kw ward "$LIST" "$GOOD")")" 201 "admin creates a keyword"
KW=$(jq_ 'd.id')
assert_eq "$(jq_ 'd.keyword')" WARD "upper-cased"
assert_eq "$(sql "SELECT pattern FROM keywords WHERE id = $KW")" '(?i)^\s*WARD[\s\p{P}]*$' "the CLI's default pattern"
assert_eq "$(call admin POST /api/keywords "$(kw WARD "$LIST" "$GOOD")")" 409 "twice is a conflict"
assert_eq "$(call admin POST "/api/keywords/$KW" "$(kw WARD7 "$LIST" "$GOOD")")" 200 "admin edits it"
assert_eq "$(sql "SELECT keyword FROM keywords WHERE id = $KW")" WARD7 "edited"
assert_eq "$(call admin POST "/api/keywords/$KW" "$(kw WARD7 "$LIST" 'no parts')")" 400 "an edit is checked too"
assert_eq "$(sql "SELECT count(*) FROM audit_events WHERE action IN ('keyword.create', 'keyword.update') AND subject_id = $KW")" 2 "keyword changes audited"
OTHER_ADMIN_KW=$(sql "SELECT id FROM keywords WHERE keyword = 'JOIN'")

# --- blasts ---
assert_eq "$(call lead GET /api/senders)" 200 "senders"
assert_eq "$(jq_ 'd[0].id + " " + d[0].messages_per_second')" "$SENDER 10" "the sender's rate"
blast() { node -e 'process.stdout.write(JSON.stringify({sender_id: +process.argv[1], list_id: +process.argv[2], body: process.argv[3], filter_field: process.argv[4] || "", filter_equals: process.argv[5] || ""}))' "$@"; }
assert_eq "$(call lead POST /api/blasts/preview "$(blast "$SENDER" "$LIST" 'Hi {first_name|friend}, rally Saturday!')")" 200 "preview"
assert_eq "$(jq_ 'd.recipients + " " + d.sample.body + " " + d.encoding + " " + d.segments + " " + d.estimated_seconds')" \
          "3 Hi Ana, rally Saturday! GSM-7 1 1" "recipients after opt-outs, the sample rendered, segments, duration"
long150=$(head -c 150 /dev/zero | tr '\0' a)
assert_eq "$(call lead POST /api/blasts/preview "$(blast "$SENDER" "$LIST" "$long150 {first_name}")")" 200 "a body whose length depends on the member"
assert_eq "$(jq_ 'd.segments + " " + d.segments_max + " " + d.estimated_seconds')" "1 2 1" "Ana's fits in one segment; the longest name needs two"
assert_eq "$(jq_ 'd.longest.segments + " " + d.longest.characters + " " + d.longest.encoding + " " + d.longest_checked')" \
          "2 179 GSM-7 3" "the longest rendering across the audience (the 28-character name)"
# What the confirm says (schema 022): opted-out subscribers left out, and
# recipients in their quiet hours now. Cy opts out for a moment; Ana's
# own zone is one where it is 03:00 now, everyone else's one where it is
# noon (their numbers' own zone, Pacific, is in quiet hours at some UTC
# hours of the day, whenever this test runs).
sql "INSERT INTO opt_outs (org_id, phone, source) VALUES ($ORG, '+14155550304', 'admin')" >/dev/null
# zone_at HOUR: a fixed-offset zone where the local hour is HOUR now.
zone_at() {
  local h off
  h=$(date -u +%-H); off=$(( ($1 - h + 24) % 24 )); [ $off -gt 14 ] && off=$((off - 24))
  [ $off -ge 0 ] && echo "Etc/GMT-$off" || echo "Etc/GMT+$((-off))"
}
zone=$(zone_at 3)
sql "UPDATE contacts SET timezone = '$(zone_at 12)' WHERE org_id = $ORG AND phone <> '+14155550301'" >/dev/null
sql "UPDATE contacts SET timezone = '$zone' WHERE org_id = $ORG AND phone = '+14155550301'" >/dev/null
assert_eq "$(call lead POST /api/blasts/preview "$(blast "$SENDER" "$LIST" 'Hi {first_name|friend}')")" 200 "preview with an opt-out and a member at night"
assert_eq "$(jq_ 'd.recipients + " " + d.opted_out + " " + d.quiet_now')" "2 1 1" "2 recipients, 1 left out for an opt-out, 1 in quiet hours now ($zone)"
sql "DELETE FROM opt_outs WHERE org_id = $ORG AND phone = '+14155550304'" >/dev/null
sql "UPDATE contacts SET timezone = NULL WHERE org_id = $ORG" >/dev/null
assert_eq "$(call lead POST /api/blasts/preview "$(blast "$SENDER" "$LIST" 'Hi {frist_name}!')")" 400 "an unknown field"
assert_contains "$(jq_ 'd.error.message')" 'unknown field "frist_name"' "says which"
assert_eq "$(call lead POST /api/blasts/preview "$(blast "$SENDER" "$LIST" 'Hi {first_name')")" 400 "an unclosed brace"
assert_eq "$(call lead POST /api/blasts/preview "$(blast "$SENDER" "$LIST" '')")" 400 "an empty body"
assert_eq "$(call lead POST /api/blasts/preview '{"list_id":1,"body":"x"}')" 400 "no sender"
assert_contains "$(jq_ 'd.error.message')" "sender_id" "names it"
assert_eq "$(call lead POST /api/blasts/preview "$(blast "$SENDER" "$LIST" 'Hi' ward 7)")" 200 "a filter"
assert_eq "$(jq_ 'd.recipients')" 1 "the filter narrows the audience"
assert_eq "$(call lead POST /api/blasts/preview "$(blast "$SENDER" "$LIST" 'Hi' 'no such' 7)")" 400 "a bad filter field"
XSS_BODY='<script>alert(1)</script> {first_name|friend} — “quotes”'
assert_eq "$(call lead POST /api/blasts/preview "$(blast "$SENDER" "$LIST" "$XSS_BODY" last_name '=HYPERLINK("http://evil")')")" 200 "preview for a member with a hostile name"
assert_eq "$(jq_ 'd.sample.body + "|" + d.sample.first_name + "|" + d.encoding')" "<script>alert(1)</script> $XSS_NAME — “quotes”|$XSS_NAME|UCS-2" "names and bodies come back as data"
assert_eq "$(call other POST /api/blasts/preview "$(blast "$SENDER" "$LIST" 'Hi')")" 400 "another org's sender and list do not exist"
assert_eq "$(call lead POST /api/blasts "$(blast "$SENDER" "$LIST" 'Hi {first_name|friend}, rally Saturday!')")" 201 "create a draft"
B=$(jq_ 'd.id')
assert_eq "$(call lead GET "/api/blasts/$B")" 200 "the blast"
assert_eq "$(jq_ 'd.state + " " + d.list + " " + d.sender')" "draft <b>Ward 7</b> 24680" "draft with its list and sender"
assert_eq "$(call other GET "/api/blasts/$B")" 404 "another org's lead cannot see it"
for a in schedule pause resume cancel; do
  assert_eq "$(call other POST "/api/blasts/$B/$a" '{}')" 404 "another org's lead cannot $a it"
  assert_eq "$(call vol1 POST "/api/blasts/$B/$a" '{}')" 403 "a volunteer cannot $a it"
done
assert_eq "$(call lead POST "/api/blasts/$B/pause")" 409 "a draft cannot be paused"
assert_contains "$(jq_ 'd.error.message')" "cannot be paused: it is draft" "says why"
assert_eq "$(call lead POST "/api/blasts/$B/schedule" '{"at":"not a time"}')" 400 "a bad time"
assert_eq "$(call lead POST "/api/blasts/$B/schedule" '{"at":"2001-01-01T00:00:00Z"}')" 400 "a time in the past"
at=$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)
assert_eq "$(call lead POST "/api/blasts/$B/schedule" "{\"at\":\"$at\"}")" 200 "scheduled for tomorrow"
assert_eq "$(jq_ 'd.state')" scheduled "scheduled"
# Send now: the worker's tick expands it (run here by hand).
assert_eq "$(call lead POST "/api/blasts/$B/schedule" '{}')" 200 "send now"
sql "SELECT tocsin_blasts_tick(now())" >/dev/null
assert_eq "$(call lead GET "/api/blasts/$B")" 200 "progress"
assert_eq "$(jq_ 'd.state + " " + d.recipients + " " + d.queued')" "sending 3 3" "expanded: 3 queued"
assert_eq "$(call lead POST "/api/blasts/$B/pause")" 200 "pause"
assert_eq "$(jq_ 'd.state')" paused "paused"
assert_eq "$(call lead POST "/api/blasts/$B/resume")" 200 "resume"
assert_eq "$(call lead POST "/api/blasts/$B/cancel")" 200 "cancel"
assert_eq "$(jq_ 'd.state + " " + d.cancelled')" "cancelled 3" "cancelled with its queued messages"
assert_eq "$(call lead POST "/api/blasts/$B/resume")" 409 "a cancelled blast cannot resume"
assert_eq "$(sql "SELECT string_agg(action, ',' ORDER BY id) FROM audit_events WHERE subject_type = 'blast' AND subject_id = $B")" \
          "blast.create,blast.schedule,blast.schedule,blast.pause,blast.resume,blast.cancel" "every blast action audited"
assert_eq "$(sql "SELECT count(DISTINCT user_id) FROM audit_events WHERE subject_type = 'blast' AND subject_id = $B AND user_id = (SELECT id FROM users WHERE email = 'lead@demo.test')")" 1 "by the lead"
assert_eq "$(call lead GET /api/blasts)" 200 "blast list"
assert_eq "$(jq_ 'd[0].id + " " + d[0].state')" "$B cancelled" "newest first"
assert_eq "$(call other GET /api/blasts)" 200 "the other org's blasts"
assert_eq "$(jq_ 'd.length')" 0 "none of this org's"
assert_eq "$(call lead GET /api/blasts/999999)" 404 "no such blast"

# --- stats ---
member_writes +14155550301 "count me in" >/dev/null
assert_eq "$(call lead GET '/api/stats?days=3')" 200 "stats"
assert_eq "$(jq_ 'd.days + " " + d.blasts[0].id + " " + d.blasts[0].replies + " " + d.blasts[0].recipients')" "3 $B 1 3" "a reply within the window counted"
assert_eq "$(jq_ 'd.keywords.map((k) => k.keyword).join()')" "JOIN,UNETE,WARD7" "per keyword"
assert_eq "$(call lead GET '/api/stats?days=0')" 400 "days out of range"
assert_eq "$(call lead GET '/api/stats?days=x')" 400 "days not a number"
assert_eq "$(call other GET /api/stats)" 200 "the other org's stats"
assert_eq "$(jq_ 'd.blasts.length + d.keywords.length')" 0 "hold nothing of this org"

# --- every lead route: 403 for a volunteer, 401 without a session, 403 without CSRF ---
routes=$("$BIN/dashboard/tocsin-dashboard" --routes |
         awk '$2 ~ /^\/api\/(lists|senders|keywords|blasts|stats)/ {print $1, $2, $3}')
[ "$(wc -l <<<"$routes")" -ge 16 ] || fail "could not read the lead routes: $routes"
audits=$(sql "SELECT count(*) FROM audit_events")
while read -r method pattern role; do
  path=${pattern//:id/$B}
  [[ "$pattern" == /api/keywords/:id ]] && path=/api/keywords/$KW
  [[ "$pattern" == /api/lists/:id/* ]] && path=${pattern//:id/$LIST}
  assert_eq "$(call vol1 "$method" "$path" '{"body":"x"}')" 403 "$method $pattern refused to a volunteer"
  assert_eq "$(curl -s -o /dev/null -w '%{http_code}' -X "$method" "$DASH$path" -H 'X-CSRF-Token: x')" 401 "$method $pattern without a session"
  if [ "$method" != GET ]; then
    code=$(curl -s -o /dev/null -w '%{http_code}' -b "$TMP/admin.jar" -X "$method" "$DASH$path" -d '{"body":"x"}')
    assert_eq "$code" 403 "$method $pattern without a CSRF token"
  fi
  if [ "$role" = admin ]; then
    assert_eq "$(call lead "$method" "$path" '{"body":"x"}')" 403 "$method $pattern needs an admin"
  fi
done <<<"$routes"
assert_eq "$(sql "SELECT count(*) FROM audit_events")" "$audits" "refused requests changed nothing"
echo "test_dashboard_leads: ok"
