#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Runs inside the container ops/test-package boots (Debian 12, systemd,
# PostgreSQL, no network but loopback and a veth link to the host, where
# the carrier simulator listens): installs the package from apt's cache,
# puts Debian's nginx in front with the shipped configuration and a
# certificate of the test's CA, starts the units and checks what an operator
# relies on (TLS, client addresses, SSE, sends to the carrier and its
# receipts, 500s and timeouts, doctor, backups and the restore
# drill, an upgrade to N+1 under a webhook load, a rollback). Every wait
# is bounded. Prints the figures at the end.
set -euo pipefail
# Usage: check.sh DEB DEB-NEXT CARRIER-URL HOST-ADDRESS (the simulator on
# the host end of the link, and that address)
deb=$1 deb_next=$2 carrier=$3 host_ip=$4
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

say "settings for the TLS front: https URLs, nginx as the trusted proxy"
cat >> /etc/tocsin/tocsin.conf <<'CONF'
TOCSIN_PUBLIC_URL=https://sms.example.org
TOCSIN_DASHBOARD_URL=https://inbox.example.org
TOCSIN_TRUSTED_PROXIES=127.0.0.1/32
# For this test only: the sender's carrier is the simulator at an http://
# URL on the host. Production refuses http carrier URLs (never set this).
TOCSIN_ALLOW_INSECURE_CARRIER_URLS=1
CONF

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
say "nginx with /usr/share/tocsin/nginx/tocsin.conf and a self-signed certificate"
out=$(DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -q nginx 2>&1) || { echo "$out" >&2; die "apt-get install nginx failed"; }
ca=/etc/ssl/tocsin-test-ca.pem
# (ops/test-package made the CA: the simulator on the host trusts it too)
install -m 0600 /var/tmp/tocsin-test-ca.key /root/ca.key
install -m 0644 /var/tmp/tocsin-test-ca.pem "$ca"
rm -f /var/tmp/tocsin-test-ca.key
for host in sms.example.org inbox.example.org; do
  d=/etc/letsencrypt/live/$host
  mkdir -p "$d"
  openssl req -new -newkey rsa:2048 -nodes -subj "/CN=$host" -keyout "$d/privkey.pem" -out /root/$host.csr 2>/dev/null
  printf 'subjectAltName=DNS:%s\n' "$host" > /root/$host.ext
  openssl x509 -req -in /root/$host.csr -CA "$ca" -CAkey /root/ca.key -CAcreateserial -days 2 \
    -extfile /root/$host.ext -out "$d/fullchain.pem" 2>/dev/null
done
chmod 0644 "$ca"
echo "127.0.0.1 sms.example.org inbox.example.org" >> /etc/hosts
cp /usr/share/tocsin/nginx/tocsin.conf /etc/nginx/sites-available/tocsin
ln -sf ../sites-available/tocsin /etc/nginx/sites-enabled/tocsin
rm -f /etc/nginx/sites-enabled/default
mkdir -p /var/www/letsencrypt/.well-known/acme-challenge
echo webroot-ok > /var/www/letsencrypt/.well-known/acme-challenge/probe
nginx -t 2>&1 | tail -1
systemctl restart nginx || die "nginx did not start with the shipped configuration"
# tls ADDR CURL-ARGS...: curl through nginx from client address ADDR
# (any 127.x address is this machine's loopback), verifying the certificate.
tls() { local a=$1; shift; curl -s --max-time 10 --cacert "$ca" --interface "$a" "$@"; }
wait_https() { for _ in $(seq 1 100); do [ "$(tls 127.0.0.5 -o /dev/null -w '%{http_code}' "$1")" = 200 ] && return 0; sleep 0.2; done; return 1; }
wait_https https://sms.example.org/healthz || die "the gateway does not answer through nginx"
wait_https https://inbox.example.org/healthz || die "the dashboard does not answer through nginx"
hdr=$(tls 127.0.0.5 -D - -o /dev/null -w 'http_version=%{http_version}\n' https://sms.example.org/healthz)
echo "$hdr" | grep -q '^http_version=2' || die "no HTTP/2 through nginx: $hdr"
echo "$hdr" | grep -qi '^strict-transport-security: max-age=31536000' || die "no HSTS header: $hdr"
[ "$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' --max-time 10 http://sms.example.org/twilio/inbound)" = \
  "301 https://sms.example.org/twilio/inbound" ] || die "port 80 does not send to https"
[ "$(curl -s --max-time 10 http://sms.example.org/.well-known/acme-challenge/probe)" = webroot-ok ] ||
  die "port 80 does not serve certbot's webroot"
[ "$(tls 127.0.0.5 -o /dev/null -w '%{http_code}' https://sms.example.org/metrics)" = 404 ] || die "/metrics is public"
say "nginx: HTTP/2, HSTS, port 80 to https except certbot's webroot, /metrics closed"

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
  --account-sid AC00000000000000000000000000000001 --auth-token-stdin --base-url "$carrier" >/dev/null ||
  die "sender add"
# (before the first webhook: the gateway caches a sender's keywords for 2 s)
ctl keyword add --org pkgtest --keyword JOIN --list members \
  --reply "Package Test: you're in! Up to 4 msgs/mo. Msg&data rates may apply. Reply HELP for help, STOP to cancel." >/dev/null ||
  die "keyword add"

say "an admin with a password; a login over https"
printf 'a long package test password' | ctl user add --org pkgtest --email admin@pkg.test --role admin --name Admin \
  --password-stdin >/dev/null || die "user add"
code=$(tls 127.0.0.9 -c /root/jar -o /root/login.json -w '%{http_code}' -X POST https://inbox.example.org/api/login \
  -H 'Content-Type: application/json' -H 'X-Forwarded-For: 203.0.113.66' \
  -d '{"email":"admin@pkg.test","password":"a long package test password"}')
# Admins must use two-factor login (the default): the password gives a
# half session that may only enrol; enrolment's first code finishes it.
[ "$code" = 202 ] || die "the password login over https got HTTP $code, not 202 (enrol): $(cat /root/login.json)"
grep -q '"stage" *: *"enrol"' /root/login.json || die "the admin was not asked to enrol: $(cat /root/login.json)"
csrf=$(sed -n 's/.*"csrf_token" *: *"\([^"]*\)".*/\1/p' /root/login.json)
secret=$(tls 127.0.0.9 -b /root/jar -X POST https://inbox.example.org/api/two-factor/enrol -H "X-CSRF-Token: $csrf" |
         sed -n 's/.*"secret" *: *"\([A-Z2-7]*\)".*/\1/p')
[ -n "$secret" ] || die "enrolment gave no secret"
# RFC 6238 with the tools a Debian root has: base32, od and openssl.
totp() {
  local key counter mac offset
  key=$(printf '%s' "$1" | base32 -d | od -An -tx1 | tr -d ' \n')
  counter=$(printf '%016x' $(( $(date +%s) / 30 )))
  mac=$(printf '%s' "$counter" | sed 's/../\\x&/g' | xargs -0 printf '%b' |
        openssl dgst -sha1 -mac HMAC -macopt "hexkey:$key" -binary | od -An -tx1 | tr -d ' \n')
  offset=$(( 16#${mac:39:1} * 2 ))
  printf '%06d' $(( (16#${mac:offset:8} & 0x7fffffff) % 1000000 ))
}
code=$(tls 127.0.0.9 -b /root/jar -c /root/jar -o /root/enrol.json -w '%{http_code}' -X POST \
  https://inbox.example.org/api/two-factor/enrol/confirm -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
  -d "{\"code\":\"$(totp "$secret")\"}")
[ "$code" = 200 ] || die "the first code did not finish enrolment: HTTP $code $(cat /root/enrol.json)"
grep -q '__Host-tocsin_session' /root/jar || die "no __Host- session cookie over https"
grep '__Host-tocsin_session' /root/jar | awk '{ exit !($4 == "TRUE") }' || die "the session cookie is not Secure"
[ "$(tls 127.0.0.9 -b /root/jar -o /dev/null -w '%{http_code}' https://inbox.example.org/api/me)" = 200 ] ||
  die "the session does not work over https"
addr=$(as_pg "SELECT remote_addr FROM sessions ORDER BY id DESC LIMIT 1")
[ "$addr" = 127.0.0.9 ] || die "the session's client address is \"$addr\", not the real 127.0.0.9"
say "login over https: password 202, two-factor enrolment with the first code 200, Secure __Host- cookie, session from 127.0.0.9 (the client's X-Forwarded-For 203.0.113.66 ignored)"

say "the edge rate limit on logins (10 a minute per address, burst 10)"
limited=0
for i in $(seq 1 16); do
  body=$(tls 127.0.0.11 -w ' %{http_code}' -X POST https://inbox.example.org/api/login -H 'Content-Type: application/json' \
    -d '{"email":"admin@pkg.test","password":"not the password at all"}')
  [[ "$body" == *nginx*" 429" ]] && limited=$((limited + 1))
done
[ $limited -ge 1 ] || die "nginx never answered 429 to 16 logins in a row"
[ "$(tls 127.0.0.9 -b /root/jar -o /dev/null -w '%{http_code}' https://inbox.example.org/api/me)" = 200 ] ||
  die "another address was limited too"
say "nginx answered $limited of 16 rapid logins from 127.0.0.11 with 429; 127.0.0.9 unaffected"

say "the event stream through nginx, from before the next webhook"
tls 127.0.0.9 -N -b /root/jar --max-time 120 https://inbox.example.org/api/events > /root/events.txt 2>&1 &
sse_pid=$!
for _ in $(seq 1 100); do grep -q '^event: ready' /root/events.txt && break; sleep 0.1; done
grep -q '^event: ready' /root/events.txt || die "the event stream did not open through nginx"

say "a signed Twilio webhook through https"
url=https://sms.example.org/twilio/inbound
sid=SMpkg$(date +%s)
sig=$(printf '%s' "${url}Body""hello from the package test""From""+14155552671""MessageSid""$sid""NumMedia""0""To""24680" |
      openssl dgst -sha1 -hmac "$token" -binary | base64)
code=$(tls 127.0.0.7 -o /dev/null -w '%{http_code}' "$url" -H "X-Twilio-Signature: $sig" -H 'X-Forwarded-For: 198.51.100.1' \
  --data-urlencode "Body=hello from the package test" --data-urlencode From=+14155552671 \
  --data-urlencode "MessageSid=$sid" --data-urlencode NumMedia=0 --data-urlencode To=24680)
[ "$code" = 200 ] || die "the signed webhook got HTTP $code"
stored=$(as_pg "SELECT count(*) FROM inbound_messages WHERE provider_message_id = '$sid' AND body = 'hello from the package test'")
[ "$stored" = 1 ] || die "the webhook is not stored"
say "webhook $sid through https: HTTP 200, stored ($stored row in inbound_messages)"
seen=""
for _ in $(seq 1 50); do # journald takes the line a moment later
  seen=$(journalctl -u tocsin-gateway --no-pager -o cat | grep 'http_request' | grep -E 'path="?/twilio/inbound' | tail -1)
  [[ "$seen" == *"remote=127.0.0.7 peer=127.0.0.1"* ]] && break
  sleep 0.1
done
[[ "$seen" == *"remote=127.0.0.7 peer=127.0.0.1"* ]] || die "the gateway did not log the real client address 127.0.0.7: $seen"
say "the gateway saw the client as 127.0.0.7 (peer 127.0.0.1, the client's X-Forwarded-For ignored)"
for _ in $(seq 1 150); do grep -q '^event: conversation' /root/events.txt && break; sleep 0.1; done
grep -q '^event: conversation' /root/events.txt || die "the webhook's event did not come through nginx's stream"
kill -0 "$sse_pid" 2>/dev/null || die "the event stream ended instead of staying open"
kill "$sse_pid" 2>/dev/null || true
say "the stream, still open, carried the conversation event at once (unbuffered)"
code=$(tls 127.0.0.7 -o /dev/null -w '%{http_code}' "$url" -H "X-Twilio-Signature: AAAA" \
  --data-urlencode Body=forged --data-urlencode From=+14155552671 --data-urlencode MessageSid=SMforged --data-urlencode To=24680)
[ "$code" = 403 ] || die "a forged webhook got HTTP $code"

say "a keyword (pcre2 under MemoryDenyWriteExecute=: no JIT, the interpreter)"
sid=SMjoin$(date +%s)
sig=$(printf '%s' "${url}Body""JOIN""From""+14155552672""MessageSid""$sid""To""24680" |
      openssl dgst -sha1 -hmac "$token" -binary | base64)
code=$(tls 127.0.0.7 -o /dev/null -w '%{http_code}' "$url" -H "X-Twilio-Signature: $sig" \
  --data-urlencode Body=JOIN --data-urlencode From=+14155552672 --data-urlencode "MessageSid=$sid" --data-urlencode To=24680)
[ "$code" = 200 ] || die "the JOIN webhook got HTTP $code"
[ "$(as_pg "SELECT count(*) FROM subscriptions s JOIN contacts c ON c.id = s.contact_id WHERE c.phone = '+14155552672'")" = 1 ] ||
  die "JOIN did not subscribe"
say "JOIN subscribed the member"

say "the worker sends to the carrier simulator on the host ($carrier, across the link)"
[ -z "$(ip -4 route show default)" ] && ! ip route get 192.0.2.1 >/dev/null 2>&1 && ! getent hosts deb.debian.org >/dev/null ||
  die "the container has a way out other than the link to $host_ip"
sim() { curl -fsS --max-time 10 "$@"; }
sim_msgs() { sim -G --data-urlencode "to=$1" "$carrier/sim/messages"; } # compact JSON
sids() { { grep -o '"sid":' || true; } | wc -l; } # how many messages in sim_msgs's answer
sim_faults() { sim -o /dev/null -X POST -H 'Content-Type: application/json' -d "$1" "$carrier/sim/faults"; }
join() { # join PHONE: the member texts JOIN through https (the keyword queues a confirmation)
  local sid=SMjoin$RANDOM$(date +%s%N) sig code
  sig=$(printf '%s' "${url}Body""JOIN""From""$1""MessageSid""$sid""To""24680" |
        openssl dgst -sha1 -hmac "$token" -binary | base64)
  code=$(tls 127.0.0.7 -o /dev/null -w '%{http_code}' "$url" -H "X-Twilio-Signature: $sig" \
    --data-urlencode Body=JOIN --data-urlencode "From=$1" --data-urlencode "MessageSid=$sid" --data-urlencode To=24680)
  [ "$code" = 200 ] || die "the JOIN webhook from $1 got HTTP $code"
}
msg() { as_pg "SELECT state, coalesce(provider_message_id, '-'), attempts, sent_at IS NOT NULL, coalesce(finalized_at >= sent_at, false) FROM messages WHERE to_phone = '$1'" | tr '|' ' '; }
wait_state() { # wait_state PHONE STATE: that phone's one message reaches STATE within 2 minutes
  local s=""
  for _ in $(seq 1 600); do s=$(msg "$1"); [ "${s%% *}" = "$2" ] && return 0; sleep 0.2; done
  die "the message to $1 is \"$s\", not $2"
}
metrics() { ctl metrics | awk -v m="$1" 'index($0, m "{") == 1 { n++; s += $NF } END { if (!n) exit 1; print s }'; }
# 1. The confirmation of the JOIN above: the simulator takes it, its receipts come back.
m=+14155552672
wait_state $m delivered
read -r st pid attempts was_sent in_order <<< "$(msg $m)"
[ "$(as_pg "SELECT count(*) FROM messages WHERE to_phone = '$m'")" = 1 ] || die "more than one message to $m"
[ "$attempts" = 1 ] && [ "$was_sent" = t ] && [ "$in_order" = t ] ||
  die "the message to $m: attempts $attempts, sent_at set $was_sent, finalized after sent $in_order"
j=$(sim_msgs $m)
[ "$(sids <<< "$j")" = 1 ] || die "the simulator has not exactly one message to $m: $j"
grep -q "\"sid\":\"$pid\"" <<< "$j" && grep -q '"status":"delivered"' <<< "$j" ||
  die "the simulator's message is not $pid, delivered: $j"
seen=""
for _ in $(seq 1 50); do
  seen=$(journalctl -u tocsin-gateway --no-pager -o cat | grep 'http_request' | grep -E 'path="?/twilio/status' | grep -c "remote=$host_ip peer=127.0.0.1" || true)
  [ "$seen" -ge 2 ] && break
  sleep 0.1
done
[ "$seen" -ge 2 ] || die "the gateway did not log the simulator's receipts ('sent', 'delivered') from $host_ip through nginx"
for _ in $(seq 1 150); do [ "$(as_pg "SELECT count(*) FROM messages WHERE state IN ('queued', 'sending')")" = 0 ] && break; sleep 0.2; done
due=$(metrics tocsin_queue_due_messages) && unknown=$(metrics tocsin_messages_unknown) || die "tocsinctl metrics: $(ctl metrics 2>&1)"
[ "$due" = 0 ] && [ "$unknown" = 0 ] || die "tocsinctl metrics: $due due, $unknown unknown"
say "to $m: simulator sid $pid, once; the row sent then delivered (receipts over https from $host_ip, $seen logged); metrics: 0 due, 0 unknown"
# 2. The carrier answers 500: per the worker's rules an unknown, never resent.
sim_faults '{"p500": 1}' || die "POST /sim/faults"
join +14155552673
wait_state +14155552673 unknown
# 3. The carrier takes the message and never answers: the worker times out
#    (TOCSIN_WORKER_HTTP_TIMEOUT_MS): unknown, never resent.
sim_faults '{"p500": 0, "ptimeout": 1}' || die "POST /sim/faults"
join +14155552674
wait_state +14155552674 unknown
# 4. Faults off: the next one goes and is delivered, so the worker has had
#    its chances to resend the two unknowns, and did not.
sim_faults '{"p500": 0, "ptimeout": 0}' || die "POST /sim/faults"
join +14155552675
wait_state +14155552675 delivered
for p in +14155552673:0 +14155552674:1 +14155552675:1; do
  n=$(sim_msgs "${p%:*}" | sids) || die "the simulator does not answer"
  [ "$n" = "${p#*:}" ] || die "the simulator has $n message(s) to ${p%:*}, not ${p#*:}"
done
for p in +14155552673 +14155552674; do
  read -r st pid attempts _ <<< "$(msg $p)"
  [ "$st" = unknown ] && [ "$attempts" = 1 ] || die "the message to $p is $st after $attempts attempt(s)"
done
due=$(metrics tocsin_queue_due_messages) && unknown=$(metrics tocsin_messages_unknown) || die "tocsinctl metrics"
[ "$due" = 0 ] && [ "$unknown" = 2 ] || die "tocsinctl metrics: $due due, $unknown unknown (want 0 and 2)"
say "hostile carrier: a 500 (not accepted: 0 at the simulator) and a timeout (accepted: 1) each left unknown after 1 attempt, never resent; the next message delivered; metrics: 0 due, 2 unknown"

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

say "tocsinctl doctor (as the user tocsin, the key as a credential, probing through nginx and asking the carrier simulator)"
out=$(ctl doctor --ca-file "$ca" 2>&1) || { echo "$out" >&2; die "doctor found a problem on a right install"; }
echo "$out" | sed 's/^/    /'
[[ "$out" == *"ok    sender     twilio 24680 (org pkgtest): twilio accepts its credentials"* ]] ||
  die "doctor did not have the carrier simulator check the sender's credentials"
chmod 0644 /etc/tocsin/secret_key
rc=0; out=$(ctl doctor --ca-file "$ca" --no-carrier 2>&1) || rc=$?
chmod 0600 /etc/tocsin/secret_key
[ $rc -ne 0 ] && [[ "$out" == *"FAIL  key        /etc/tocsin/secret_key has mode 0644"* ]] ||
  die "doctor did not fail on a world-readable key: $out"
say "doctor: all checks pass; a world-readable key makes it fail (exit $rc) and say chmod 600"

say "backups: tocsin-backup-setup (pgBackRest, encrypted repository, WAL archiving, timers)"
out=$(timeout 600 tocsin-backup-setup 2>&1) || { echo "$out" >&2; die "tocsin-backup-setup failed"; }
echo "$out" | sed 's/^/    /'
for t in tocsin-backup-full.timer tocsin-backup-diff.timer; do
  [ "$(systemctl is-active $t)" = active ] || die "$t is not active"
done
runuser -u postgres -- pgbackrest --stanza=tocsin info | grep -q 'cipher: aes-256-cbc' || die "the repository is not encrypted"
enc=/var/lib/pgbackrest/tocsin-key/secret_key.enc
[ -s "$enc" ] || die "no encrypted copy of the key"
grep -q "$(head -c 64 /etc/tocsin/secret_key)" "$enc" && die "the key's copy holds the key in clear"
[ "$(stat -c '%U %a' "$enc")" = "postgres 600" ] || die "the key's copy is $(stat -c '%U %a' "$enc")"
wait_https https://sms.example.org/healthz || die "the gateway does not answer after PostgreSQL's restart"
out=$(runuser -u postgres -- tocsinctl --database-url dbname=tocsin backup status 2>&1) ||
  { echo "$out" >&2; die "backup status is not ok"; }
echo "$out" | sed 's/^/    /'
say "a diff backup by its unit, then the restore drill"
timeout 300 systemctl start tocsin-backup@diff.service || die "tocsin-backup@diff failed"
out=$(timeout 900 tocsin-restore-drill 2>&1) || { echo "$out" >&2; die "the restore drill failed"; }
echo "$out" | sed 's/^/    /'
[ -z "$(ls /var/tmp | grep tocsin-restore-drill || true)" ] || die "the drill left its scratch files"
cp "$enc" /root/enc.saved
printf 'ff%.0s' $(seq 1 32) | openssl enc -aes-256-cbc -pbkdf2 -iter 200000 -salt \
  -pass file:/etc/tocsin/backup-passphrase -out "$enc"
rc=0; out=$(timeout 300 tocsin-restore-drill 2>&1) || rc=$?
cp /root/enc.saved "$enc"
[ $rc -ne 0 ] && [[ "$out" == *"the key's copy is not the live key"* ]] ||
  die "the drill passed with another key's copy (exit $rc): $out"
say "the drill fails (exit $rc) when the key's copy is another key"

say "upgrade to $(dpkg-deb -f "$deb_next" Version) while two load generators post signed webhooks through https"
rm -f /root/load.*
# load N: webhooks SMldNxI until /root/load.stop exists, each retried (as a
# carrier retries) until it gets 200, at most 100 times.
load() {
  local n=0 sid sig code tries from=+1415555020$1
  while [ ! -e /root/load.stop ]; do
    n=$((n + 1)); sid=SMld${1}x$n
    sig=$(printf '%s' "${url}Body""load $sid""From""$from""MessageSid""$sid""NumMedia""0""To""24680" |
          openssl dgst -sha1 -hmac "$token" -binary | base64)
    tries=0
    while :; do
      tries=$((tries + 1))
      code=$(tls 127.0.0.2$1 -o /dev/null -w '%{http_code}' "$url" -H "X-Twilio-Signature: $sig" \
        --data-urlencode "Body=load $sid" --data-urlencode "From=$from" --data-urlencode "MessageSid=$sid" \
        --data-urlencode NumMedia=0 --data-urlencode To=24680 || true)
      [ "$code" = 200 ] && { echo "$sid" >> /root/load.acked; break; }
      echo "$(date +%s.%N) $sid $code" >> /root/load.retries
      [ $tries -lt 100 ] || { echo "$sid" >> /root/load.gaveup; break; }
      sleep 0.1
    done
  done
}
acked() { [ -f /root/load.acked ] && wc -l < /root/load.acked || echo 0; }
load 1 & l1=$!
load 2 & l2=$!
for _ in $(seq 1 300); do [ "$(acked)" -ge 40 ] && break; sleep 0.1; done
[ "$(acked)" -ge 40 ] || die "the load generators did not get going: $(head -5 /root/load.retries 2>/dev/null)"
declare -A before
for u in "${units[@]}"; do before[$u]=$(systemctl show -p MainPID --value "$u"); done
before_up=$(acked)
# (the settings file was edited above: keep it, as an operator would, if N+1's differs)
keep=(-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
out=$(DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -q "${keep[@]}" "$deb_next" 2>&1) || { echo "$out" >&2; die "the upgrade failed"; }
after_up=$(acked)
for _ in $(seq 1 300); do [ "$(acked)" -ge $((after_up + 40)) ] && break; sleep 0.1; done
touch /root/load.stop
for _ in $(seq 1 300); do kill -0 $l1 2>/dev/null || kill -0 $l2 2>/dev/null || break; sleep 0.1; done
kill $l1 $l2 2>/dev/null || true
wait $l1 $l2 2>/dev/null || true
[ "$(dpkg-query -W -f='${Version}' tocsin)" = "$(dpkg-deb -f "$deb_next" Version)" ] || die "the upgrade did not install N+1"
for u in "${units[@]}"; do
  [ "$(systemctl is-active "$u")" = active ] || die "$u is not active after the upgrade"
  [ "$(systemctl show -p MainPID --value "$u")" != "${before[$u]}" ] || die "$u was not restarted by the upgrade"
done
newmig=$(as_pg "SELECT name FROM schema_migrations ORDER BY version DESC LIMIT 1")
[[ "$newmig" == *package_upgrade_probe* ]] || die "N+1's migration was not applied (last: $newmig)"
posted=$(acked)
[ ! -s /root/load.gaveup ] || die "$(wc -l < /root/load.gaveup) webhooks never got 200"
stored=0
for _ in $(seq 1 600); do # replies may be threaded from the journal a moment later
  stored=$(as_pg "SELECT count(DISTINCT provider_message_id) FROM inbound_messages WHERE provider_message_id LIKE 'SMld%'")
  [ "$stored" -ge "$posted" ] && break
  sleep 0.1
done
rows=$(as_pg "SELECT count(*) FROM inbound_messages WHERE provider_message_id LIKE 'SMld%'")
as_pg "SELECT provider_message_id FROM inbound_messages WHERE provider_message_id LIKE 'SMld%'" | sort > /root/load.stored
sort /root/load.acked > /root/load.acked.sorted
lost=$(comm -23 /root/load.acked.sorted /root/load.stored | wc -l)
extra=$(comm -13 /root/load.acked.sorted /root/load.stored | wc -l)
dups=$((rows - stored))
retried=$( [ -f /root/load.retries ] && wc -l < /root/load.retries || echo 0)
codes=$( [ -f /root/load.retries ] && awk '{ print $3 }' /root/load.retries | sort | uniq -c | awk '{ printf "%s x%s ", $2, $1 }' || true)
window=$( [ -f /root/load.retries ] && awk 'NR == 1 { a = $1 } { b = $1 } END { printf "%.1f", b - a }' /root/load.retries || echo 0)
say "upgrade under load: $posted webhooks acknowledged ($before_up before, $((after_up - before_up)) during, $((posted - after_up)) after), $stored stored, lost $lost, duplicated $dups, stored unacknowledged $extra"
say "  answers other than 200 while the daemons restarted: $retried ($codes) over ${window} s, each retried until 200"
[ "$lost" = 0 ] && [ "$dups" = 0 ] || die "webhooks were lost ($lost) or stored twice ($dups)"
m=$(systemctl show -p ActiveEnterTimestampMonotonic --value tocsin-migrate.service)
for u in "${units[@]}"; do
  [ "$(systemctl show -p ActiveEnterTimestampMonotonic --value "$u")" -ge "$m" ] || die "$u started before the migrations ended"
done

say "rollback: the previous package over N+1 (apt-get install --allow-downgrades)"
out=$(DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -q --allow-downgrades "${keep[@]}" "$deb" 2>&1) ||
  { echo "$out" >&2; die "the rollback failed"; }
[ "$(dpkg-query -W -f='${Version}' tocsin)" = "$(dpkg-deb -f "$deb" Version)" ] || die "the rollback did not install N"
for u in tocsin-migrate.service "${units[@]}"; do
  [ "$(systemctl is-active "$u")" = active ] || die "$u is not active after the rollback"
done
wait_https https://sms.example.org/healthz || die "the gateway does not answer after the rollback"
sid=SMback$(date +%s)
sig=$(printf '%s' "${url}Body""after the rollback""From""+14155552671""MessageSid""$sid""NumMedia""0""To""24680" |
      openssl dgst -sha1 -hmac "$token" -binary | base64)
code=$(tls 127.0.0.7 -o /dev/null -w '%{http_code}' "$url" -H "X-Twilio-Signature: $sig" \
  --data-urlencode "Body=after the rollback" --data-urlencode From=+14155552671 \
  --data-urlencode "MessageSid=$sid" --data-urlencode NumMedia=0 --data-urlencode To=24680)
[ "$code" = 200 ] && [ "$(as_pg "SELECT count(*) FROM inbound_messages WHERE provider_message_id = '$sid'")" = 1 ] ||
  die "a webhook after the rollback was not stored (HTTP $code)"
rc=0; out=$(ctl doctor --ca-file "$ca" --no-carrier 2>&1) || rc=$?
[[ "$out" == *"FAIL  migrations the database has 1 migration(s) this tocsinctl does not know"* ]] ||
  die "doctor does not name N+1's migration after the rollback: $out"
say "rollback: N runs on N+1's (additive) schema and stores webhooks; doctor names the newer migration (exit $rc)"

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
