#!/usr/bin/env bash
# What the dashboard answers when PostgreSQL refuses a statement: a plain
# message and a stable error code, never the database's own words (a
# constraint's DETAIL "Failing row contains (...)" holds the whole row,
# other members' data included; the message names tables and
# constraints). The full text goes to the log, escaped onto one line.
# Messages our own SQL functions raise for people still reach them.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dashboard_lib.sh"
dash_setup TOCSIN_DASHBOARD_RELEASE_AFTER_S=0

c1=$(member_writes +14155550101 "hello")
assert_eq "$(login vol1 vol1@demo.test)" 200 "volunteer logs in"
assert_eq "$(login lead lead@demo.test)" 200 "lead logs in"
assert_eq "$(call vol1 POST /api/conversations/claim '{"count":1}')" 200 "claim"

# no_db_text WHAT: the last body carries none of the database's words.
no_db_text() {
  local body
  body=$(cat "$TMP/out")
  for word in "Failing row" DETAIL SQLSTATE violates "check constraint" "relation " "COPY " "ERROR:" "_check"; do
    [[ "$body" != *"$word"* ]] || fail "$1: the answer leaks \"$word\": $body"
  done
}

# --- a CHECK constraint (notes.body: 1 to 2000 characters) ---
long=$(head -c 2001 /dev/zero | tr '\0' n)
assert_eq "$(call vol1 POST "/api/conversations/$c1/notes" "{\"body\":\"SECRET-$long\"}")" 422 "too long a note"
no_db_text "a note over the limit"
assert_eq "$(jq_ 'd.error.code')" "constraint_violation" "a stable code for a violated constraint"
assert_eq "$(jq_ 'd.error.message')" "the request was refused: a value is missing, too long or not allowed" \
  "a plain message"
[[ "$(cat "$TMP/out")" != *SECRET* ]] || fail "the refused value is not echoed"
line=$(grep 'event=api_request_refused' "$TMP/dashboard.log" | head -1)
assert_contains "$line" 'sqlstate=23514' "the log keeps the SQLSTATE"
assert_contains "$line" 'Failing row contains' "the log keeps the detail"
assert_eq "$(grep -c 'Failing row contains' "$TMP/dashboard.log")" 1 "the detail is logged on one escaped line"

# --- a value the database refuses outright (22xxx): a bad cursor for the inbox ---
assert_eq "$(call vol1 POST /api/conversations/claim '{"count":"lots"}')" 422 "a count that is not a number"
no_db_text "a count that is not a number"
assert_eq "$(jq_ 'd.error.code')" "invalid_value" "a stable code for a value of the wrong kind"

# --- a message one of our SQL functions raises for people still reaches them ---
assert_eq "$(call lead POST /api/outreach/campaigns "{\"name\":\"Bad\",\"sender_id\":$SENDER,\"script\":\"Hi {first_name\"}")" 422 \
  "a script with a broken field"
no_db_text "a script with a broken field"
assert_eq "$(jq_ 'd.error.code')" "invalid" "our own validation keeps its code"
assert_contains "$(jq_ 'd.error.message')" "invalid" "and its message"

# --- a time PostgreSQL cannot read, in a lead's request ---
assert_eq "$(call lead POST /api/blasts "{\"sender_id\":$SENDER,\"list_id\":$(sql "SELECT id FROM lists LIMIT 1"),\"body\":\"Hi\"}")" 201 "a draft blast"
blast=$(jq_ 'd.id')
assert_eq "$(call lead POST "/api/blasts/$blast/schedule" '{"at":"not a time"}')" 400 "a time that is not one"
no_db_text "a time that is not one"
[[ "$(cat "$TMP/out")" != *"syntax"* && "$(cat "$TMP/out")" != *"timestamp with time zone"* ]] ||
  fail "the server's words about the time: $(cat "$TMP/out")"
assert_contains "$(jq_ 'd.error.message')" "invalid time" "a plain message"

# --- a CSV import the database refuses. The import validates its rows
# first, so the refusal is made here: a constraint the file breaks. ---
sql "ALTER TABLE contacts ADD CONSTRAINT test_refuses_leak CHECK (first_name IS DISTINCT FROM 'Leak')"
csv="phone,first_name\\n+14155550177,Leak\\n"
assert_eq "$(call lead POST /api/lists/import "{\"name\":\"Leak\",\"csv\":\"$csv\"}")" 422 "an import the database refuses"
no_db_text "an import the database refuses"
assert_eq "$(jq_ 'd.error.code')" "import_refused" "a stable code for a refused import"
assert_eq "$(sql "SELECT count(*) FROM contacts WHERE phone = '+14155550177'")" 0 "nothing imported"
grep 'event=import_refused' "$TMP/dashboard.log" | grep -q 'Failing row contains' || fail "the import's detail is logged"

# --- the same file as an outreach audience ---
assert_eq "$(call lead POST /api/outreach/campaigns "{\"name\":\"Rally\",\"sender_id\":$SENDER,\"script\":\"Hi {first_name}\"}")" 201 \
  "a campaign"
camp=$(jq_ 'd.id')
assert_eq "$(call lead POST "/api/outreach/campaigns/$camp/audience" "{\"csv\":\"$csv\"}")" 422 "an audience the database refuses"
no_db_text "an audience the database refuses"
assert_eq "$(jq_ 'd.error.code')" "import_refused" "the same code for a refused audience"
echo "ok"
