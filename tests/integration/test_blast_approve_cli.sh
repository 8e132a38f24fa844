#!/usr/bin/env bash
# tocsinctl blast approve: the two-person rule (orgs.blast_approval_over)
# satisfied from a shell under the dashboard's rules. Refused: usage and
# invalid input (exit 2); an unknown email, the blast's creator, a
# volunteer, a disabled lead, another org's admin, a national admin by the
# email her acting account shares, a count that is not the audience's
# (exit 1), all approving nothing. Without --count it shows the blast and
# approves nothing. A second lead approves (audited as blast.approve under
# her account, as the dashboard does); the schedule then goes; an edit
# voids the approval and the schedule is refused again until an admin
# approves the new text.
source "$(dirname "$0")/lib.sh"
fresh_db
CTL="$BIN/ops/tocsinctl"
"$CTL" migrate >/dev/null
"$CTL" org create north --name "North Chapter" >/dev/null
"$CTL" org create south --name "South Chapter" >/dev/null
"$CTL" org create nat --name "National Body" --national >/dev/null
ORG=$(sql "SELECT id FROM orgs WHERE slug = 'north'")
SENDER=$(sql "INSERT INTO senders (org_id, address, kind, provider, credentials_sealed, messages_per_second)
              VALUES ($ORG, '+18005550199', 'toll_free', 'telnyx', 'x', 10) RETURNING id")
printf 'phone,first_name\n+12125550101,Ana\n+12125550102,Bo\n+12125550103,Lee\n' >"$TMP/m.csv"
"$CTL" contacts import --org north --list members "$TMP/m.csv" >/dev/null
LIST=$(sql "SELECT id FROM lists WHERE org_id = $ORG AND name = 'members'")
for u in lead@north.test:north:lead lead2@north.test:north:lead admin@north.test:north:admin \
         vol@north.test:north:volunteer gone@north.test:north:lead admin@south.test:south:admin \
         boss@nat.test:nat:admin; do
  IFS=: read -r email org role <<<"$u"
  echo "a long enough password" | "$CTL" user add --org "$org" --email "$email" --role "$role" --password-stdin >/dev/null
done
uid() { sql "SELECT id FROM users WHERE email = '$1' AND national_user_id IS NULL"; }
LEAD=$(uid lead@north.test); LEAD2=$(uid lead2@north.test); ADMIN=$(uid admin@north.test)
"$CTL" user disable --org north --email gone@north.test >/dev/null
assert_eq "$(sql "SELECT disabled_at IS NOT NULL FROM users WHERE email = 'gone@north.test'")" t "a disabled lead"
# The national admin's acting account in north (schema 028): her email, no password.
sql "INSERT INTO users (org_id, email, display_name, role, national_user_id)
     VALUES ($ORG, 'boss@nat.test', 'Boss (national)', 'admin', $(uid boss@nat.test))" >/dev/null
sql "UPDATE orgs SET blast_approval_over = 2 WHERE id = $ORG" >/dev/null
B=$(sql "SELECT tocsin_blast_create($ORG, $LEAD, $SENDER, $LIST, 'Rally Saturday! Reply STOP to opt out', '{}')")

exit_of() { local rc=0; "$@" >"$TMP/out" 2>&1 || rc=$?; echo "$rc"; }
expect_fail() { # STATUS MESSAGE CMD...
  local want=$1 msg=$2; shift 2
  assert_eq "$(exit_of "$@")" "$want" "exit status of: $*"
  assert_contains "$(cat "$TMP/out")" "$msg" "message of: $*"
}
audits() { sql "SELECT count(*) FROM audit_events WHERE action = '$1'"; }

assert_contains "$("$CTL" blast approve --help)" "Usage: tocsinctl blast approve ID --as EMAIL" "--help"
assert_contains "$("$CTL" blast --help)" "  approve " "listed under blast"
expect_fail 2 "missing --as" "$CTL" blast approve "$B"
expect_fail 2 "missing blast ID" "$CTL" blast approve --as lead2@north.test
expect_fail 2 'invalid blast id "0"' "$CTL" blast approve 0 --as lead2@north.test
expect_fail 2 'invalid blast id "1;DROP"' "$CTL" blast approve "1;DROP" --as lead2@north.test
expect_fail 2 "an account's email" "$CTL" blast approve "$B" --as nobody
expect_fail 2 "an account's email" "$CTL" blast approve "$B" --as "$(head -c 300 /dev/zero | tr '\0' a)@x.test"
expect_fail 2 'invalid --count "-3"' "$CTL" blast approve "$B" --as lead2@north.test --count -3
expect_fail 2 'invalid --count "9999999999999"' "$CTL" blast approve "$B" --as lead2@north.test --count 9999999999999

expect_fail 1 "must approve it first" "$CTL" blast schedule "$B" --at now
expect_fail 1 'no account has the email "who@north.test"' "$CTL" blast approve "$B" --as who@north.test --count 3
expect_fail 1 "you created blast $B" "$CTL" blast approve "$B" --as LEAD@north.test --count 3
expect_fail 1 "only a lead or an admin" "$CTL" blast approve "$B" --as vol@north.test --count 3
expect_fail 1 "only a lead or an admin" "$CTL" blast approve "$B" --as gone@north.test --count 3
expect_fail 1 "blast $B does not exist in the org of admin@south.test" "$CTL" blast approve "$B" --as admin@south.test --count 3
expect_fail 1 "blast $B does not exist in the org of boss@nat.test" "$CTL" blast approve "$B" --as boss@nat.test --count 3
expect_fail 1 "the audience is now 3 members, not the 2 you saw" "$CTL" blast approve "$B" --as lead2@north.test --count 2

# Without --count: what would be approved, and nothing approved.
expect_fail 1 "not approved" "$CTL" blast approve "$B" --as lead2@north.test
assert_contains "$(cat "$TMP/out")" "audience now  3 members" "shows the audience now"
assert_contains "$(cat "$TMP/out")" "body          Rally Saturday! Reply STOP to opt out" "and the body"
assert_contains "$(cat "$TMP/out")" "made by lead@north.test" "and who made it"
assert_contains "$(cat "$TMP/out")" "tocsinctl blast approve $B --as lead2@north.test --count 3" "and the command that approves it"
sql "UPDATE blasts SET filter = '{\"field\": \"first_name\", \"equals\": \"Ana\"}' WHERE id = $B" >/dev/null
expect_fail 1 "not approved" "$CTL" blast approve "$B" --as lead2@north.test
assert_contains "$(cat "$TMP/out")" 'only members  whose first_name equals "Ana"' "and its filter"
assert_contains "$(cat "$TMP/out")" "audience now  1 members" "with the audience it leaves"
sql "UPDATE blasts SET filter = '{}' WHERE id = $B" >/dev/null
assert_eq "$(audits blast.approve) $(sql "SELECT approved_at IS NULL FROM blasts WHERE id = $B")" "0 t" "refusals approved nothing"

# A second lead approves what she was shown.
assert_eq "$(exit_of "$CTL" blast approve "$B" --as lead2@north.test --count 3)" 0 "a second lead approves"
assert_contains "$(cat "$TMP/out")" "approved blast $B for 3 members as lead2@north.test" "and is told so"
assert_eq "$(sql "SELECT approved_by || ' ' || approved_count FROM blasts WHERE id = $B")" "$LEAD2 3" "recorded on the blast"
assert_eq "$(sql "SELECT org_id || ' ' || user_id || ' ' || (details->>'count') || ' ' || (details->>'created_by') || ' ' || (details->>'source') FROM audit_events WHERE action = 'blast.approve'")" \
  "$ORG $LEAD2 3 $LEAD cli" "audited as the dashboard does, under her account, from the command line"
# The shared function takes no other source: nothing approved under a made-up one.
for src in "'api'" "'CLI'" NULL "repeat('x', 5000)"; do
  out=$(sql "SELECT tocsin_blast_approve($ORG, $B, $ADMIN, 3, $src)" 2>&1) && fail "source $src accepted"
  assert_contains "$out" "dashboard or cli" "source $src refused, saying which are taken"
done
assert_eq "$(audits blast.approve) $(sql "SELECT approved_by FROM blasts WHERE id = $B")" "1 $LEAD2" "nothing more approved"

# An edit voids it: the schedule is refused until the new text is approved.
sql "UPDATE blasts SET body = 'Rally Sunday! Reply STOP to opt out' WHERE id = $B" >/dev/null
assert_eq "$(sql "SELECT approved_by IS NULL FROM blasts WHERE id = $B") $(audits blast.approval_void)" "t 1" "the edit voided the approval"
expect_fail 1 "must approve it first" "$CTL" blast schedule "$B" --at now
assert_eq "$(exit_of "$CTL" blast approve "$B" --as admin@north.test --count 3)" 0 "an admin approves the new text"
assert_eq "$(exit_of "$CTL" blast schedule "$B" --at now)" 0 "now it may go"
assert_eq "$(sql "SELECT state || ' ' || approved_by FROM blasts WHERE id = $B")" "scheduled $ADMIN" "scheduled, approved by the admin"
assert_eq "$(audits blast.approve)" 2 "two approvals on the record"
echo "PASS"
