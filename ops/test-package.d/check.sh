#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Runs inside the container ops/test-package boots (Debian 12, systemd,
# PostgreSQL, no network but loopback): installs the package from apt's
# cache, starts the units and checks what an operator relies on. Every
# wait is bounded. Prints the figures at the end.
set -euo pipefail
deb=$1
say() { printf '[in container %s] %s\n' "$(date +%T)" "$*"; }
die() { say "FAIL: $*" >&2; journalctl -n 80 --no-pager >&2 || true; exit 1; }
as_pg() { runuser -u postgres -- psql -XqAt -v ON_ERROR_STOP=1 -d tocsin -c "$1"; }
units=(tocsin-gateway.service tocsin-dashboard.service tocsin-worker@8082.service)

say "apt-get install $deb (no network: its dependencies are in apt's cache)"
out=$(DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -q "$deb" 2>&1) ||
  { echo "$out" >&2; die "apt-get install failed"; }
echo "$out" | grep -E "created role|created database|database tocsin" || die "postinst did not set up the database"
[ "$(stat -c '%a %U' /etc/tocsin/secret_key)" = "600 root" ] || die "the sealing key is not root's 0600 file"
[ -x /usr/bin/tocsin-carrier-sim ] && die "the carrier simulator is installed"
[ -f /usr/share/tocsin/static/index.html ] || die "no dashboard files in /usr/share/tocsin/static"

say "a second setup changes nothing"
runuser -u postgres -- tocsinctl --database-url dbname=postgres setup | grep -q "^created" && die "setup is not idempotent"

say "starting ${units[*]} (tocsin-migrate first)"
timeout 180 systemctl start "${units[@]}" || die "the units did not start"
for u in tocsin-migrate.service "${units[@]}"; do
  st=$(systemctl is-active "$u" || true)
  say "systemctl is-active $u: $st"
  [ "$st" = active ] || die "$u is $st"
done
wait_http() { # URL: 200 within 20 s
  for _ in $(seq 1 100); do curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null && return 0; sleep 0.2; done
  return 1
}
for url in http://127.0.0.1:8080/healthz http://127.0.0.1:8081/ http://127.0.0.1:8082/healthz; do
  wait_http "$url" || die "$url does not answer"
done
say "migrations applied: $(as_pg 'SELECT count(*) FROM schema_migrations'); objects owned by tocsin_owner: $(as_pg "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND pg_get_userbyid(c.relowner) = 'tocsin_owner'")"
[ "$(as_pg "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND pg_get_userbyid(c.relowner) <> 'tocsin_owner'")" = 0 ] ||
  die "some objects are not owned by tocsin_owner"
grep -Ev '^\s*(#|$)' /etc/postgresql/15/main/pg_hba.conf | grep -qw trust && die "pg_hba.conf has trust"

# An org and a Twilio short code, as docs/deploy.md has the operator add
# them: tocsinctl as a transient unit of the user tocsin (peer: the role
# tocsin), with the settings file and the key as a credential, never in an
# environment.
ctl() {
  local unit=tocsinctl-$$-$RANDOM
  systemd-run --quiet --pipe --wait --collect --unit="$unit" -p User=tocsin \
    -p EnvironmentFile=/etc/tocsin/tocsin.conf -p LoadCredential=secret_key:/etc/tocsin/secret_key \
    -E TOCSIN_SECRET_KEY_FILE="/run/credentials/$unit.service/secret_key" tocsinctl "$@"
}
token=5f4dcc3b5aa765d61d8327deb882cf99
ctl org create pkgtest --name "Package Test" --help-text "Package Test: reply STOP to stop. Msg&data rates may apply." >/dev/null ||
  die "org create"
printf '%s' "$token" | ctl sender add --org pkgtest --address 24680 --provider twilio --mps 10 \
  --account-sid AC00000000000000000000000000000001 --auth-token-stdin >/dev/null || die "sender add"
# (before the first webhook: the gateway caches a sender's keywords for 2 s)
ctl keyword add --org pkgtest --keyword JOIN --list members \
  --reply "Package Test: you're in! Up to 4 msgs/mo. Msg&data rates may apply. Reply HELP for help, STOP to cancel." >/dev/null ||
  die "keyword add"

say "a signed Twilio webhook to the gateway"
url=http://127.0.0.1:8080/twilio/inbound
sid=SMpkg$(date +%s)
sig=$(printf '%s' "${url}Body""hello from the package test""From""+14155552671""MessageSid""$sid""NumMedia""0""To""24680" |
      openssl dgst -sha1 -hmac "$token" -binary | base64)
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$url" -H "X-Twilio-Signature: $sig" \
  --data-urlencode "Body=hello from the package test" --data-urlencode From=+14155552671 \
  --data-urlencode "MessageSid=$sid" --data-urlencode NumMedia=0 --data-urlencode To=24680)
[ "$code" = 200 ] || die "the signed webhook got HTTP $code"
stored=$(as_pg "SELECT count(*) FROM inbound_messages WHERE provider_message_id = '$sid' AND body = 'hello from the package test'")
[ "$stored" = 1 ] || die "the webhook is not stored"
say "webhook $sid: HTTP 200, stored ($stored row in inbound_messages)"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$url" -H "X-Twilio-Signature: AAAA" \
  --data-urlencode Body=forged --data-urlencode From=+14155552671 --data-urlencode MessageSid=SMforged --data-urlencode To=24680)
[ "$code" = 403 ] || die "a forged webhook got HTTP $code"

say "a keyword (pcre2 under MemoryDenyWriteExecute=: no JIT, the interpreter)"
sid=SMjoin$(date +%s)
sig=$(printf '%s' "${url}Body""JOIN""From""+14155552672""MessageSid""$sid""To""24680" |
      openssl dgst -sha1 -hmac "$token" -binary | base64)
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$url" -H "X-Twilio-Signature: $sig" \
  --data-urlencode Body=JOIN --data-urlencode From=+14155552672 --data-urlencode "MessageSid=$sid" --data-urlencode To=24680)
[ "$code" = 200 ] || die "the JOIN webhook got HTTP $code"
[ "$(as_pg "SELECT count(*) FROM subscriptions s JOIN contacts c ON c.id = s.contact_id WHERE c.phone = '+14155552672'")" = 1 ] ||
  die "JOIN did not subscribe"
say "JOIN subscribed the member"

say "the runtime role: rows yes, structure and programs no"
rt() { runuser -u tocsin -- psql -XqAt -d tocsin -c "$1" 2>&1; }
out=$(rt "CREATE TABLE pkg_should_fail (i int)") && die "tocsin could CREATE TABLE"
say "CREATE TABLE refused: $out"
out=$(rt "COPY (SELECT 1) TO PROGRAM 'true'") && die "tocsin could COPY ... PROGRAM"
say "COPY ... PROGRAM refused: $out"
[ "$(rt "SELECT rolsuper OR rolcreatedb OR rolcreaterole FROM pg_roles WHERE rolname = current_user")" = f ] ||
  die "tocsin has more than login"

say "the dashboard has no key; the gateway and the worker have it as a credential only"
for u in "${units[@]}"; do
  pid=$(systemctl show -p MainPID --value "$u")
  if tr '\0' '\n' < "/proc/$pid/environ" | grep -q '^TOCSIN_SECRET_KEY='; then die "$u has the key in its environment"; fi
done
dpid=$(systemctl show -p MainPID --value tocsin-dashboard.service)
tr '\0' '\n' < "/proc/$dpid/environ" | grep -q SECRET_KEY && die "the dashboard has a key setting"
[ "$(stat -c %U "/proc/$dpid")" = tocsin_web ] || die "the dashboard does not run as tocsin_web"
gpid=$(systemctl show -p MainPID --value tocsin-gateway.service)
[ "$(stat -c %U "/proc/$gpid")" = tocsin ] || die "the gateway does not run as tocsin"
runuser -u tocsin_web -- cat /run/credentials/tocsin-gateway.service/secret_key >/dev/null 2>&1 &&
  die "the dashboard's user can read the gateway's credential"
runuser -u tocsin_web -- cat "/proc/$gpid/environ" >/dev/null 2>&1 && die "the dashboard's user can read the gateway's process"
[ "$(stat -c %a "/proc/$dpid/root/run/credentials")" = 0 ] || die "the dashboard sees /run/credentials"
say "the dashboard runs as tocsin_web: no access to the gateway's credential or process"

say "SIGKILL each daemon; systemd must bring it back"
for u in "${units[@]}"; do
  old=$(systemctl show -p MainPID --value "$u")
  t0=$(date +%s.%N)
  kill -KILL "$old"
  back=""
  for _ in $(seq 1 100); do
    new=$(systemctl show -p MainPID --value "$u")
    if [ "$new" != 0 ] && [ "$new" != "$old" ] && [ "$(systemctl is-active "$u")" = active ]; then back=$new; break; fi
    sleep 0.1
  done
  [ -n "$back" ] || die "$u did not come back within 10 s of SIGKILL"
  case "$u" in
    tocsin-gateway.service) wait_http http://127.0.0.1:8080/healthz ;;
    tocsin-dashboard.service) wait_http http://127.0.0.1:8081/ ;;
    *) wait_http http://127.0.0.1:8082/healthz ;;
  esac || die "$u came back but does not answer"
  say "$u: SIGKILL pid $old, back as pid $back and answering after $(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "%.1f", a - b }') s"
done

say "systemd-analyze security (booted)"
worst=0
for u in tocsin-migrate.service "${units[@]}"; do
  line=$(systemd-analyze security --no-pager "$u" | tail -1)
  fig=$(echo "$line" | grep -oE '[0-9]+\.[0-9]+' | head -1)
  say "$u: exposure $fig ($(echo "$line" | awk '{ print $(NF-1) }'))"
  awk -v f="$fig" 'BEGIN { exit !(f <= 2.0) }' || worst=1
done
[ $worst -eq 0 ] || die "a unit's exposure is above 2.0"

say "an upgrade (apt-get install --reinstall): migrations, then the running daemons restart"
declare -A before
for u in "${units[@]}"; do before[$u]=$(systemctl show -p MainPID --value "$u"); done
mig_before=$(systemctl show -p ExecMainStartTimestampMonotonic --value tocsin-migrate.service)
DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -q --reinstall "$deb" >/dev/null 2>&1 || die "the reinstall failed"
[ "$(systemctl show -p ExecMainStartTimestampMonotonic --value tocsin-migrate.service)" != "$mig_before" ] ||
  die "tocsin-migrate did not run again"
for u in "${units[@]}"; do
  [ "$(systemctl is-active "$u")" = active ] || die "$u is not active after the upgrade"
  [ "$(systemctl show -p MainPID --value "$u")" != "${before[$u]}" ] || die "$u was not restarted by the upgrade"
done
m=$(systemctl show -p ActiveEnterTimestampMonotonic --value tocsin-migrate.service)
for u in "${units[@]}"; do
  [ "$(systemctl show -p ActiveEnterTimestampMonotonic --value "$u")" -ge "$m" ] || die "$u started before the migrations ended"
done
wait_http http://127.0.0.1:8080/healthz || die "the gateway does not answer after the upgrade"
say "upgrade: tocsin-migrate ran again, then ${units[*]} restarted"

say "apt-get remove stops the units; purge removes the key and the spool, keeps the database"
DEBIAN_FRONTEND=noninteractive timeout 300 apt-get remove -y -q tocsin >/dev/null 2>&1 || die "remove failed"
for u in tocsin-migrate.service "${units[@]}"; do
  st=$(systemctl is-active "$u" || true)
  [ "$st" != active ] || die "$u still runs after remove"
done
DEBIAN_FRONTEND=noninteractive timeout 300 apt-get purge -y -q tocsin >/dev/null 2>&1 || die "purge failed"
[ ! -e /etc/tocsin/secret_key ] && [ ! -e /var/lib/tocsin ] || die "purge left the key or the spool"
[ "$(as_pg "SELECT count(*) FROM inbound_messages")" -ge 1 ] || die "purge lost the database"
say "removed and purged"
say "all checks passed"
