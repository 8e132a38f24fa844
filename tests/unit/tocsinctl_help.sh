#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# tocsinctl_help.sh TOCSINCTL — every verb tocsinctl --help lists answers
# VERB --help (exit 0, its own usage line, a help paragraph) without a
# database; `--help` after other arguments prints the same; a group alone
# is a usage error listing its commands; an unknown verb or command is a
# usage error. The verb table (ops/tocsinctl/main.c) is the one source.
set -u
ctl=$1
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
export TOCSIN_DATABASE_URL="host=/nonexistent dbname=none connect_timeout=1"

verbs=$("$ctl" --help | awk '/^Verbs:/ {on = 1; next} on && /^$/ {exit} on {sub(/^  /, ""); split($0, w, "  "); print w[1]}')
n=$(wc -l <<<"$verbs")
[ "$n" -ge 25 ] || fail "tocsinctl --help lists $n verbs"
while read -r verb; do
  [ -n "$verb" ] || continue
  # shellcheck disable=SC2086 # the verb is one or two words
  out=$("$ctl" $verb --help 2>&1)
  rc=$?
  [ $rc = 0 ] || fail "$verb --help: exit $rc: $out"
  [[ "$(head -1 <<<"$out")" == "Usage: tocsinctl $verb"* ]] || fail "$verb --help: first line: $(head -1 <<<"$out")"
  [ "$(wc -l <<<"$out")" -ge 3 ] || fail "$verb --help: no help paragraph"
  [[ "$out" != *"no help for"* ]] || fail "$verb --help: $out"
done <<<"$verbs"

# --help after an option: the same text, from the same row.
[ "$("$ctl" user add --org demo --help)" = "$("$ctl" user add --help)" ] || fail "user add --org demo --help differs"
# A group alone: its commands on stderr, exit 2; --help: the same on stdout, exit 0.
out=$("$ctl" user 2>&1 >/dev/null)
rc=$?
[ $rc = 2 ] || fail "tocsinctl user: exit $rc"
[[ "$out" == *"revoke-sessions"* ]] || fail "tocsinctl user lists no commands: $out"
[ "$("$ctl" user --help)" = "$out" ] || fail "tocsinctl user --help differs from tocsinctl user"
out=$("$ctl" user frob 2>&1)
rc=$?
[ $rc = 2 ] && [[ "$out" == *'unknown command "frob"'* ]] || fail "tocsinctl user frob: exit $rc: $out"
out=$("$ctl" frob 2>&1)
rc=$?
[ $rc = 2 ] && [[ "$out" == *'unknown verb "frob"'* ]] || fail "tocsinctl frob: exit $rc: $out"
# A usage error never needs the database (it is unreachable here).
out=$("$ctl" user add --org demo 2>&1)
rc=$?
[ $rc = 2 ] && [[ "$out" == *"missing --email"* ]] || fail "user add without --email: exit $rc: $out"
# A verb marked as not using the database works without one.
out=$("$ctl" segments hello 2>&1)
rc=$?
[ $rc = 0 ] && [[ "$out" == "encoding=GSM-7 segments=1 units=5" ]] || fail "segments hello: exit $rc: $out"
# phone uses the database only for --org.
out=$("$ctl" phone "(212) 555-0100" 2>&1)
rc=$?
[ $rc = 0 ] && [[ "$out" == "e164=+12125550100 "* ]] || fail "phone without --org: exit $rc: $out"
out=$("$ctl" phone "(212) 555-0100" --org demo 2>&1)
rc=$?
[ $rc = 1 ] || fail "phone --org without a database: exit $rc: $out"
out=$("$ctl" phone "(212) 555-0100" --org demo --region USA 2>&1)
rc=$?
[ $rc = 2 ] && [[ "$out" == *'invalid region "USA"'* ]] || fail "phone --region USA --org: exit $rc: $out"
# A verb that uses it says why it failed: exit 1.
out=$("$ctl" org set demo --volunteer-max-conversations 5 2>&1)
rc=$?
[ $rc = 1 ] || fail "org set without a database: exit $rc: $out"

[ $fails = 0 ] || exit 1
echo "tocsinctl_help: ok ($n verbs)"
