#!/usr/bin/env bash
# tocsinctl backup status reads pgBackRest's `info --output=json` (here a
# stand-in script answering what pgBackRest 2.45 answers) and
# pg_stat_archiver: a recent full backup passes, an old one, none, a
# stanza pgBackRest lacks or reports in error, garbage, a missing or
# failing pgbackrest each fail with their reason; a hostile --stanza is a
# usage error and reaches no program; --prometheus prints the ages. The
# test cluster does not archive WAL, which is itself a failure named.
# (ops/test-package runs it against a real pgBackRest and archiving.)
source "$(dirname "$0")/lib.sh"
fresh_db
CTL="$BIN/ops/tocsinctl"
now=$(date +%s)
FAKE=$TMP/pgbackrest
# fake JSON [EXIT]: the stand-in answers JSON (and records its arguments).
fake() {
  printf '%s' "$1" > "$TMP/info.json"
  cat > "$FAKE" <<SH
#!/bin/sh
printf '%s\n' "\$@" > "$TMP/args"
cat "$TMP/info.json"
exit ${2:-0}
SH
  chmod +x "$FAKE"
}
backup() { # TYPE LABEL STOP
  printf '{"label":"%s","type":"%s","timestamp":{"start":%d,"stop":%d},"info":{"size":1}}' "$2" "$1" $(( $3 - 60 )) "$3"
}
stanza() { # NAME CODE MESSAGE BACKUPS
  printf '[{"name":"%s","status":{"code":%d,"message":"%s"},"backup":[%s],"archive":[]}]' "$1" "$2" "$3" "$4"
}
status() { rc=0; out=$("$CTL" backup status --pgbackrest "$FAKE" "$@" 2>&1) || rc=$?; }

assert_eq "$(sql "SHOW archive_mode")" off "the test cluster does not archive"

fake "$(stanza tocsin 0 ok "$(backup full 20261201-020000F $(( now - 7200 ))),$(backup diff 20261201-020000F_20261202-020000D $(( now - 600 )))")"
status
assert_eq "$(cat "$TMP/args" | tr '\n' ' ')" "--stanza=tocsin --output=json info " "pgbackrest is asked for the stanza's info"
assert_contains "$out" "ok    full backup  20261201-020000F finished 2.0 h ago (limit 192 h)" "a recent full backup passes (the diff is not a full)"
assert_contains "$out" "FAIL  wal          archive_mode is off" "no archiving is named"
assert_eq "$rc" 1 "and fails the whole"

status --prometheus
age=$(echo "$out" | awk '/^tocsin_backup_last_full_age_seconds/ { print $2 }')
[ "$age" -ge 7200 ] && [ "$age" -lt 7800 ] || fail "full backup age $age, not about 7200"
assert_contains "$out" "tocsin_backup_last_wal_archived_age_seconds -1" "no WAL age without archiving"
assert_contains "$out" "tocsin_backup_wal_archive_failing 0" "nor a failure"

fake "$(stanza tocsin 0 ok "$(backup full old $(( now - 10 * 86400 )))")"
status
assert_contains "$out" "FAIL  full backup  old finished 240.0 h ago (limit 192 h): is tocsin-backup-full.timer enabled?" "an old full backup fails"
status --max-full-age-hours 300
assert_contains "$out" "ok    full backup  old finished" "within a wider limit it passes"

fake "$(stanza tocsin 0 ok "$(backup diff d1 $(( now - 60 )))")"
status
assert_contains "$out" "FAIL  full backup  none in stanza \"tocsin\" (1 backups of other types)" "no full backup"

fake "$(stanza tocsin 1 "missing stanza path" "")"
status
assert_contains "$out" "FAIL  full backup  stanza \"tocsin\": missing stanza path" "pgBackRest's own error is passed on"

fake "$(stanza other 0 ok "$(backup full f $(( now - 60 )))")"
status
assert_contains "$out" "pgBackRest has no stanza \"tocsin\": run tocsin-backup-setup" "another stanza only"
status --stanza other
assert_contains "$out" "ok    full backup  f finished" "--stanza picks it"

fake 'not json at all'
status
assert_contains "$out" "FAIL  full backup  pgbackrest info did not answer a JSON array" "garbage"
fake '{"an":"object"}'
status
assert_contains "$out" "did not answer a JSON array (another value)" "a JSON object"

fake '[]' 29
status
assert_contains "$out" "info failed (exit 29)" "a failing pgbackrest"
rc=0; out=$("$CTL" backup status --pgbackrest "$TMP/no-such-program" 2>&1) || rc=$?
assert_contains "$out" "could not run $TMP/no-such-program: is pgBackRest installed" "no pgbackrest"
assert_eq "$rc" 1 "fails"

rm -f "$TMP/args"
status --stanza '--repo1-path=/tmp;x'
assert_eq "$rc" 2 "a hostile stanza is a usage error"
[ ! -e "$TMP/args" ] || fail "a hostile stanza reached pgbackrest"
status --max-full-age-hours 0
assert_eq "$rc" 2 "a zero limit is a usage error"

TOCSIN_DATABASE_URL="host=127.0.0.1 port=$(free_port) dbname=x connect_timeout=3" status
assert_contains "$out" "FAIL  wal          cannot connect to the database" "no database"
echo PASS
