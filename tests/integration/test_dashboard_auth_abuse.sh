#!/usr/bin/env bash
# Hostile logins and invites against tocsin-dashboard behind a trusted
# proxy (TOCSIN_TRUSTED_PROXIES=127.0.0.1/32, as ops/proxy/nginx.conf
# needs): one attacker's failures do not lock out other people; an account
# under attack is locked only briefly; parallel guesses are counted before
# argon2 runs; a full password queue answers 503; an invite with a bad
# token is refused without hashing; invite tokens never reach the log.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dashboard_lib.sh"
dash_setup TOCSIN_TRUSTED_PROXIES=127.0.0.1/32 TOCSIN_DASHBOARD_PASSWORD_CONCURRENCY=1 \
  TOCSIN_DASHBOARD_PASSWORD_QUEUE=8

# try XFF EMAIL PASSWORD: a login as the proxy forwards it; prints the
# status, leaves the headers in $TMP/h.
try() {
  curl -s -D "$TMP/h" -o "$TMP/out" -w '%{http_code}' -X POST "$DASH/api/login" \
    -H "X-Forwarded-For: $1" -H 'Content-Type: application/json' \
    -d "{\"email\":\"$2\",\"password\":\"$3\"}"
}
retry_after() { grep -i '^Retry-After:' "$TMP/h" | tr -dc 0-9; }
# metric NAME: its value on /metrics (0 when absent is a failure: the
# counter must exist).
metric() {
  local v
  v=$(curl -s "$DASH/metrics" | awk -v n="$1" '$1 == n {print $2}')
  [ -n "$v" ] || fail "metric $1 is missing"
  printf '%.0f' "$v"
}

# --- one attacker behind the proxy does not lock out everyone ---
# 30 attempts at once, then one per 10 s: fail until refused (31 at least).
for i in $(seq 1 60); do [ "$(try 203.0.113.7 "nobody$i@demo.test" wrong-password)" = 429 ] && break; done
[ "$i" -ge 31 ] || fail "the address was refused after only $i attempts"
[ "$i" -lt 60 ] || fail "60 failures from one address were never refused"
r=$(retry_after); [ "$r" -ge 1 ] && [ "$r" -le 10 ] || fail "address Retry-After is short: $r"
assert_eq "$(try 198.51.100.20 lead@demo.test tocsin-demo)" 200 \
  "the real lead, at another address behind the same proxy, logs in"
# A client's own X-Forwarded-For is not believed past the trusted hop: the
# entry the proxy appended (the rightmost) names it (checked in the log).
curl -s -o /dev/null -H 'X-Forwarded-For: 198.51.100.99, 203.0.113.77' "$DASH/api/me"
# An IPv6 attacker is throttled by its /64, whatever host part it uses.
for i in $(seq 1 60); do [ "$(try "2001:db8:1:2::$i" "nobody$i@demo.test" wrong-password)" = 429 ] && break; done
[ "$i" -ge 31 ] || fail "the /64 was refused after only $i attempts"
[ "$i" -lt 60 ] || fail "60 failures from 60 addresses of one /64 were never refused"
assert_eq "$(try 2001:db8:1:3::1 vol1@demo.test tocsin-demo)" 200 "the next /64 is not"
# Junk X-Forwarded-For values are neither believed nor fatal.
long=$(head -c 20000 /dev/zero | tr '\0' 1)
for xff in "$long" ' , ,,, ' 'not-an-ip' '300.1.1.1' '1.2.3.4:80' '::ffff:zz' "$(printf '1.2.3.4\t')"; do
  code=$(try "$xff" nobody@demo.test wrong-password)
  [ "$code" = 401 ] || [ "$code" = 429 ] || [ "$code" = 431 ] || fail "junk X-Forwarded-For '$xff': $code"
done
wait_http "$DASH/healthz"

# --- an account under attack is locked briefly, never for the window ---
# Guesses from many addresses until the account is refused; then the
# owner, from her own address, waits at most one 15 s interval (on a slow
# machine a slot may already have drained: then she gets in at once).
for i in $(seq 1 30); do [ "$(try "192.0.2.$i" vol2@demo.test "wrong$i")" = 429 ] && break; done
[ "$i" -ge 6 ] && [ "$i" -lt 30 ] || fail "the account was refused after $i guesses"
r=$(retry_after); [ "$r" -ge 1 ] && [ "$r" -le 15 ] || fail "account Retry-After is short: $r"
code=$(try 198.51.100.30 vol2@demo.test tocsin-demo)
if [ "$code" = 429 ]; then
  r=$(retry_after); [ "$r" -ge 1 ] && [ "$r" -le 15 ] || fail "the owner's Retry-After is short: $r"
  sleep "$r"
  code=$(try 198.51.100.30 vol2@demo.test tocsin-demo)
fi
assert_eq "$code" 200 "the right password works within one Retry-After"

# --- parallel guesses are counted before argon2 ---
pids=()
before=$(metric tocsin_dashboard_password_verifications_total)
for i in $(seq 1 50); do
  curl -s -o /dev/null -w '%{http_code}\n' -X POST "$DASH/api/login" -H "X-Forwarded-For: 192.0.2.99" \
    -H 'Content-Type: application/json' -d "{\"email\":\"vol1@demo.test\",\"password\":\"guess$i\"}" >>"$TMP/par" &
  pids+=($!)
done
# wait_jobs: waits for the curls in pids (not for the dashboard).
wait_jobs() { local p; for p in "${pids[@]}"; do wait "$p" || true; done; pids=(); }
wait_jobs
after=$(metric tocsin_dashboard_password_verifications_total)
n401=$(grep -c '^401$' "$TMP/par" || true)
n_other=$(grep -cv '^\(401\|429\|503\)$' "$TMP/par" || true)
[ "$n401" -le 5 ] || fail "$n401 of 50 parallel guesses were checked (limit 5)"
[ $(( after - before )) -le 5 ] || fail "$(( after - before )) argon2 verifications for 50 parallel guesses"
assert_eq "$n_other" 0 "parallel guesses get 401, 429 or 503"

# --- a full password queue answers 503 with Retry-After ---
rm -f "$TMP/q"
for i in $(seq 1 40); do
  curl -s -D "$TMP/q.h$i" -o /dev/null -w '%{http_code}\n' -X POST "$DASH/api/login" \
    -H "X-Forwarded-For: 10.9.$i.1" -H 'Content-Type: application/json' \
    -d "{\"email\":\"queue$i@demo.test\",\"password\":\"wrong\"}" >>"$TMP/q" &
  pids+=($!)
done
wait_jobs
n503=$(grep -c '^503$' "$TMP/q" || true)
[ "$n503" -ge 1 ] || fail "40 parallel logins with a queue of 8 got no 503: $(sort "$TMP/q" | uniq -c | tr '\n' ' ')"
grep -qil '^Retry-After: [0-9]' $(grep -l '^HTTP/1.1 503' "$TMP"/q.h*) || fail "503 without Retry-After"

# --- invites: token in the body, checked before any hashing, never logged ---
assert_eq "$(login admin admin@demo.test)" 200 "admin logs in"
assert_eq "$(call admin POST /api/invites '{"email":"ina@demo.test","role":"volunteer"}')" 201 "invite"
url=$(jq_ d.url)
assert_contains "$url" "$DASH/#token=" "the invite link carries the token in the fragment"
itoken=${url##*#token=}
before=$(metric tocsin_dashboard_password_hashes_total)
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$DASH/api/invite/accept" -H 'Content-Type: application/json' \
  -d '{"token":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","password":"a long new password"}')
assert_eq "$code" 404 "a bad invite token is refused"
assert_eq "$(metric tocsin_dashboard_password_hashes_total)" "$before" "no argon2 for a bad invite token"
assert_eq "$(call anon POST /api/invite/show "{\"token\":\"$itoken\"}")" 200 "open the invite"
assert_eq "$(jq_ 'd.email + " " + d.role')" "ina@demo.test volunteer" "what the invite is for"
assert_eq "$(call anon POST /api/invite/accept "{\"token\":\"$itoken\",\"password\":\"a long new password\"}")" 201 "accept"
assert_eq "$(metric tocsin_dashboard_password_hashes_total)" "$(( before + 1 ))" "one argon2 for the accepted invite"
assert_eq "$(try 198.51.100.40 ina@demo.test 'a long new password')" 200 "the new volunteer logs in"
kill -TERM "$DASH_PID"; wait "$DASH_PID" 2>/dev/null || true
grep -q http_request "$TMP/dashboard.log" || fail "the access log is on"
grep -q "remote=198.51.100.40 peer=127.0.0.1" "$TMP/dashboard.log" || fail "the access log names the client behind the proxy"
grep -q "path=/api/me status=401 .*remote=203.0.113.77 peer=127.0.0.1" "$TMP/dashboard.log" || fail "the proxy's entry names the client"
if grep -q "remote=198.51.100.99" "$TMP/dashboard.log"; then fail "a client's own X-Forwarded-For entry was believed"; fi
if grep -qF "$itoken" "$TMP/dashboard.log"; then fail "the invite token is in the dashboard's log"; fi
echo "ok"
