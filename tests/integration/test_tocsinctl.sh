#!/usr/bin/env bash
# tocsinctl verbs end to end against a live database: orgs, users (argon2id,
# generated passwords), senders (sealed credentials), keywords (compliance
# and reserved words), demo-seed idempotence, segments, phone, exit codes.
source "$(dirname "$0")/lib.sh"
fresh_db
CTL="$BIN/ops/tocsinctl"
"$CTL" migrate >/dev/null
KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f

# exit_of CMD...: prints the exit status.
exit_of() { local rc=0; "$@" >/dev/null 2>&1 || rc=$?; echo "$rc"; }

assert_eq "$(exit_of "$CTL" frobnicate)" 2 "unknown verb"
assert_contains "$("$CTL" org create --help)" "Usage: tocsinctl org create" "verb --help"
out=$("$CTL" org create north --name "North Chapter")
assert_contains "$out" "created org north" "org create"
rc=0; out=$("$CTL" org create north --name "Again" 2>&1) || rc=$?
assert_eq "$rc" 1 "duplicate org fails"
assert_contains "$out" 'org "north" already exists' "duplicate org message"
assert_eq "$(exit_of "$CTL" org create south)" 2 "missing --name is a usage error"
out=$("$CTL" org create north-east --name "NE" --parent north)
assert_eq "$(sql "SELECT p.slug FROM orgs o JOIN orgs p ON p.id = o.parent_org_id WHERE o.slug = 'north-east'")" north "parent"

echo "a-long-enough-password" | "$CTL" user add --org north --email Lead@North.org --role lead --password-stdin >/dev/null
assert_eq "$(sql "SELECT left(password_hash, 10) FROM users WHERE email = 'Lead@North.org'")" '$argon2id$' "argon2id hash"
out=$("$CTL" user add --org north --email vol@north.org --role volunteer)
assert_contains "$out" "password: " "generated password printed"
assert_eq "$(grep -c 'password: ' <<<"$out")" 1 "generated password printed once"
gen=$(sed -n 's/^password: \([^ ]*\) .*/\1/p' <<<"$out")
[ ${#gen} -ge 16 ] || fail "generated password too short: $gen"
assert_eq "$(sql "SELECT position('$gen' in password_hash) FROM users WHERE email = 'vol@north.org'")" 0 "password not stored in clear"
rc=0; out=$("$CTL" user add --org north --email lead@north.org --role lead 2>&1) || rc=$?
assert_eq "$rc" 1 "emails are unique regardless of case"
assert_contains "$out" "already exists" "duplicate user message"
assert_eq "$(exit_of "$CTL" user add --org north --email x@north.org --role boss)" 2 "bad role"
rc=0; out=$(echo short | "$CTL" user add --org north --email y@north.org --role lead --password-stdin 2>&1) || rc=$?
assert_contains "$out" "must be 10 to 256 characters" "short password refused"
rc=0; out=$("$CTL" user add --org nowhere --email z@north.org --role lead 2>&1) || rc=$?
assert_contains "$out" 'org "nowhere" does not exist' "unknown org"

rc=0; out=$(echo tok | TOCSIN_SECRET_KEY= "$CTL" sender add --org north --address 12345 --provider twilio \
  --account-sid AC0123456789abcdef0123456789abcdef --mps 5 --auth-token-stdin 2>&1) || rc=$?
assert_eq "$rc" 1 "sender without a secret key fails"
assert_contains "$out" "TOCSIN_SECRET_KEY is not set" "explains the missing key"
export TOCSIN_SECRET_KEY=$KEY
echo "secret-token-123" | "$CTL" sender add --org north --address 12345 --provider twilio \
  --account-sid AC0123456789abcdef0123456789abcdef --mps 5 --auth-token-stdin >/dev/null
sealed=$(sql "SELECT credentials_sealed FROM senders WHERE address = '12345'")
[[ "$sealed" != *secret-token* && ${#sealed} -gt 40 ]] || fail "credentials stored in clear: $sealed"
assert_eq "$(sql "SELECT kind FROM senders WHERE address = '12345'")" short_code "short code kind"
TELNYX_KEY=k123 "$CTL" sender add --org north --address "(800) 555-0199" --provider telnyx --mps 20 \
  --api-key-env TELNYX_KEY >/dev/null
assert_eq "$(sql "SELECT kind FROM senders WHERE address = '+18005550199'")" toll_free "toll-free detected"
rc=0; out=$(TELNYX_KEY=k "$CTL" sender add --org north --address 12346 --provider twilio --mps 1 \
  --account-sid AC0123 --api-key-env TELNYX_KEY 2>&1) || rc=$?
assert_contains "$out" 'invalid account SID "AC0123"' "bad account SID"
rc=0; out=$("$CTL" sender add --org north --address 12346 --provider telnyx --mps 1 --api-key-env NOPE_UNSET 2>&1) || rc=$?
assert_eq "$rc" 1 "unset secret variable fails"
assert_contains "$out" 'environment variable "NOPE_UNSET" is not set' "names the unset variable"
rc=0; out=$(echo t | "$CTL" sender add --org north --address 12346 --provider telnyx --mps 1 --auth-token-stdin \
  --api-key-env TELNYX_KEY 2>&1) || rc=$?
assert_eq "$rc" 2 "two secret sources is a usage error"
rc=0; out=$(TELNYX_KEY=k "$CTL" sender add --org north --address 12346 --provider telnyx --mps 1 \
  --api-key-env TELNYX_KEY --public-key 'not-base64' 2>&1) || rc=$?
assert_contains "$out" 'invalid public key' "bad public key"
assert_eq "$(sql "SELECT count(*) FROM senders WHERE address = '12346'")" 0 "refused senders left nothing"
rc=0; out=$("$CTL" sender add --org north --address 555 --provider twilio --mps 1 2>&1) || rc=$?
assert_contains "$out" 'invalid phone number "555"' "bad sender address"

reply="North Chapter: you're in. Up to 4 msgs/mo. Msg&data rates may apply. Reply HELP for help, STOP to cancel."
"$CTL" keyword add --org north --keyword join --list members --reply "$reply" >/dev/null
assert_eq "$(sql "SELECT keyword || ' ' || pattern FROM keywords")" 'JOIN (?i)^\s*JOIN[\s\p{P}]*$' "keyword stored"
rc=0; out=$("$CTL" keyword add --org north --keyword RALLY --list members --reply "Come to the rally!" 2>&1) || rc=$?
assert_eq "$rc" 1 "non-compliant confirmation refused"
assert_contains "$out" "must name the program or organisation" "names the missing part"
rc=0; out=$("$CTL" keyword add --org north --keyword Stop --list members --reply "$reply" 2>&1) || rc=$?
assert_contains "$out" 'keyword "STOP" is reserved' "reserved word refused"
rc=0; out=$("$CTL" keyword add --org north --keyword RALLY --pattern '(unclosed' --list members --reply "$reply" 2>&1) || rc=$?
assert_contains "$out" "invalid pattern" "bad pcre2 pattern refused"
rc=0; out=$("$CTL" keyword add --org north --keyword RALLY --sender 99999 --list members --reply "$reply" 2>&1) || rc=$?
assert_contains "$out" 'sender "99999" does not exist' "unknown sender"
rc=0; out=$("$CTL" keyword add --org north --keyword RALLY --pattern '(?i)^(rally|stop)$' --list members --reply "$reply" 2>&1) || rc=$?
assert_eq "$rc" 1 "pattern matching a reserved word fails"
assert_contains "$out" "matches the reserved word STOP" "pattern matching STOP refused"
rc=0; out=$("$CTL" keyword add --org north --keyword RALLY --pattern '(?i)s[ií]' --list members --reply "$reply" 2>&1) || rc=$?
assert_contains "$out" "matches the reserved word SI" "pattern matching sí refused"
rc=0; out=$("$CTL" keyword add --org north --keyword RALLY --pattern '^(a+)+$' --list members --reply "$reply" 2>&1) || rc=$?
assert_eq "$rc" 1 "a catastrophic pattern fails"
assert_contains "$out" 'pattern "^(a+)+$" is too costly' "catastrophic pattern refused"
rc=0; out=$("$CTL" keyword add --org north --keyword RALLY --pattern '.*' --list members --reply "$reply" 2>&1) || rc=$?
assert_contains "$out" "matches an empty message" "catch-all pattern refused"
rc=0; out=$("$CTL" keyword add --org north --keyword RALLY --list members \
  --reply "North Chapter: normal messages. Msg&data rates may apply. HELP for help, STOP to cancel." 2>&1) || rc=$?
assert_contains "$out" "how often messages come" "no frequency statement"
assert_eq "$(sql "SELECT count(*) FROM keywords")" 1 "refused keywords left nothing"
"$CTL" keyword add --org north --keyword RALLY --pattern '(?i)^\s*rally(\s+now)?\W*$' --sender 12345 \
  --list rallies --reply "$reply" >/dev/null
assert_eq "$(sql "SELECT k.keyword || ' ' || s.address || ' ' || l.name FROM keywords k JOIN senders s ON s.id = k.sender_id JOIN lists l ON l.id = k.list_id")" \
  "RALLY 12345 rallies" "keyword with a sender and a new list"

out=$("$CTL" demo-seed)
assert_contains "$out" "seeded org demo" "demo seeded"
counts=$(sql "SELECT (SELECT count(*) FROM users u JOIN orgs o ON o.id = u.org_id WHERE o.slug = 'demo') || ' ' || (SELECT count(*) FROM keywords k JOIN orgs o ON o.id = k.org_id WHERE o.slug = 'demo') || ' ' || (SELECT count(*) FROM senders WHERE address = '24680')")
assert_eq "$counts" "4 2 1" "demo users, keywords, sender"
out=$("$CTL" demo-seed)
assert_contains "$out" "nothing changed" "demo-seed is idempotent"
assert_eq "$(sql "SELECT count(*) FROM users")" 6 "no duplicate users"

assert_eq "$("$CTL" segments "Hello world")" "encoding=GSM-7 segments=1 units=11" "segments GSM"
assert_eq "$("$CTL" segments "Rally at 5 🎉")" "encoding=UCS-2 segments=1 units=13" "segments emoji"
assert_eq "$(printf 'from stdin {x}\n' | "$CTL" segments)" "encoding=GSM-7 segments=1 units=16" "segments stdin"
long=$(printf 'a%.0s' $(seq 1 161))
assert_eq "$("$CTL" segments "$long")" "encoding=GSM-7 segments=2 units=161" "segments 161"

out=$("$CTL" phone "(212) 555-0100")
assert_eq "$out" 'e164=+12125550100 type=fixed_line_or_mobile region=US place="New York, NY"' "phone"
out=$("$CTL" phone "07911 123456" --region GB)
assert_contains "$out" "e164=+447911123456 type=mobile" "phone with region"
rc=0; out=$("$CTL" phone "not a number" 2>&1) || rc=$?
assert_eq "$rc" 1 "invalid phone exit status"
assert_contains "$out" 'invalid phone number "not a number"' "phone error"
# --org: a national number read in that org's phone region (schema 037),
# as its imports read it; --region still wins; an org without one reads
# in the default; an org that does not exist is an error, whatever it is.
"$CTL" org set north --phone-region GB >/dev/null
assert_eq "$(exit_of "$CTL" phone "07911 123456")" 1 "a GB national number is not a number in the default region"
assert_eq "$("$CTL" phone "07911 123456" --org north | cut -d' ' -f1-2)" "e164=+447911123456 type=mobile" \
  "phone --org reads in the org's region"
assert_eq "$("$CTL" phone "(212) 555-0100" --org north --region US | cut -d' ' -f1)" "e164=+12125550100" "--region wins over --org"
assert_eq "$(sql "SELECT phone_region IS NULL FROM orgs WHERE slug = 'demo'")" t "demo has no region of its own"
assert_eq "$("$CTL" phone "(212) 555-0100" --org demo | cut -d' ' -f1)" "e164=+12125550100" "an org without a region reads in the default"
rc=0; out=$("$CTL" phone "(212) 555-0100" --org north 2>&1) || rc=$?
assert_eq "$rc" 1 "a US national number is not a number in GB"
for slug in nowhere "north'; DROP TABLE orgs; --" "$(head -c 5000 /dev/zero | tr '\0' n)"; do
  rc=0; out=$("$CTL" phone "07911 123456" --org "$slug" --region GB 2>&1) || rc=$?
  assert_eq "$rc" 1 "phone --org with a slug naming no org"
  assert_contains "$out" "does not exist" "says the org does not exist"
done
assert_eq "$(sql "SELECT count(*) FROM orgs WHERE slug = 'north'")" 1 "the slug was only ever a value"
assert_eq "$(exit_of "$CTL" phone "07911 123456" --org)" 2 "--org needs a value"
echo "test_tocsinctl: ok"
