# SPDX-License-Identifier: AGPL-3.0-or-later
# sso_lib.sh — sourced after dashboard_lib.sh by the single sign-on tests:
# a real OpenID provider (tests/oidc/provider.mjs, the npm package
# oidc-provider) on a free loopback port, and curl helpers that walk its
# login form the way a browser would.

# op_start KEYS_NAMES...: writes a key set with those kids to
# $TMP/op_keys.json (the first signs) unless one is there, and starts the
# provider for the dashboard at $DASH. Sets OP (its issuer), OP_PID and
# OP_LOG (one line per request it served). Call again after op_stop with
# new kids to rotate keys.
op_start() {
  local dir="$TOCSIN_SOURCE_DIR/tests/oidc"
  [ -d "$dir/node_modules/oidc-provider" ] || fail "oidc-provider is not installed: run ops/install-deps"
  # Making keys takes well under a second; a Node.js deadlock in key export
  # (provider.mjs) once held it for minutes: bounded, and tried again.
  if [ $# -gt 0 ]; then
    local try
    for try in 1 2 3; do
      timeout 60 node "$dir/provider.mjs" --make-keys "$@" >"$TMP/op_keys.json" && [ -s "$TMP/op_keys.json" ] && break
      echo "op_start: making keys ($*) failed or hung (try $try)" >&2
      [ "$try" = 3 ] && fail "could not make the provider's keys"
    done
  fi
  OP_PORT=${OP_PORT:-$(free_port)}
  OP="http://127.0.0.1:$OP_PORT"
  OP_LOG="$TMP/op.log"
  node "$dir/provider.mjs" "$OP_PORT" "$TMP/op_keys.json" "$DASH/sso/callback" >>"$OP_LOG" 2>&1 &
  OP_PID=$!
  TEST_PIDS+=("$OP_PID")
  wait_http "$OP/.well-known/openid-configuration"
}

op_stop() {
  kill "$OP_PID"
  wait "$OP_PID" 2>/dev/null || true
}

# op_count PATH: how many requests for PATH the provider has served.
op_count() { grep -c "^GET $1\$" "$OP_LOG" || true; }

# op_tamper JSON: the provider's next token response carries an ID token
# re-signed as JSON says (tests/oidc/provider.mjs).
op_tamper() {
  assert_eq "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$OP/__test/tamper" -d "$1")" 204 "tamper hook"
}

# sso_configure NAME ISSUER [ENABLED [CLIENT]]: as NAME (an admin's login),
# the org's provider is ISSUER with the test client (tocsin, or CLIENT) and
# its secret. Prints the status.
sso_configure() {
  call "$1" POST /api/sso "{\"enabled\":${3:-true},\"issuer\":\"$2\",\"client_id\":\"${4:-tocsin}\",\"client_secret\":\"tocsin-test-secret-0123456789\"}"
}

# sso_authorize JAR ACCOUNT [ORG]: starts a sign-in with cookie jar JAR
# ($TMP/JAR.jar, shared by the dashboard and the provider as one browser's
# would be), logs in at the provider as ACCOUNT, and prints the callback
# URL the provider redirects to, without visiting it. Fails the test if
# any step answers otherwise.
sso_authorize() {
  local jar="$TMP/$1.jar" url status
  read -r status url < <(curl -s -c "$jar" -b "$jar" -o /dev/null -w '%{http_code} %{redirect_url}\n' \
    "$DASH/sso/start?org=${3:-demo}")
  [ "$status" = 302 ] || fail "sso start answered $status"
  [[ "$url" == "$OP/auth?"* ]] || fail "sso start went to $url"
  [[ "$url" == *"code_challenge_method=S256"* ]] || fail "no PKCE S256 in $url"
  url=$(curl -s -c "$jar" -b "$jar" -o /dev/null -w '%{redirect_url}' "$url")
  [[ "$url" == "$OP/interaction/"* ]] || fail "the provider did not ask for a login: $url"
  url=$(curl -s -c "$jar" -b "$jar" -o /dev/null -w '%{redirect_url}' \
    --data-urlencode prompt=login --data-urlencode "login=$2" --data-urlencode password=x "$url")
  url=$(curl -s -c "$jar" -b "$jar" -o /dev/null -w '%{redirect_url}' "$url")
  [[ "$url" == "$DASH/sso/callback?"* ]] || fail "the provider did not send the browser back: $url"
  echo "$url"
}

# sso_callback JAR URL: visits the callback as that browser; the page goes
# to $TMP/page, "STATUS LOCATION" to stdout.
sso_callback() {
  curl -s -c "$TMP/$1.jar" -b "$TMP/$1.jar" -o "$TMP/page" -w '%{http_code} %{redirect_url}\n' "$2"
}

# sso_login JAR ACCOUNT: the whole round trip; prints the callback's status.
sso_login() {
  local url
  url=$(sso_authorize "$1" "$2")
  sso_callback "$1" "$url" | cut -d' ' -f1
}

# sso_refused JAR ACCOUNT STATUS REASON TEXT WHAT: a round trip refused
# with STATUS, its page saying TEXT, and audited as sso.refused REASON.
sso_refused() {
  local before got
  before=$(sql "SELECT count(*) FROM audit_events WHERE action = 'sso.refused' AND details->>'reason' = '$4'")
  got=$(sso_login "$1" "$2")
  assert_eq "$got" "$3" "$6: status"
  assert_contains "$(cat "$TMP/page")" "$5" "$6: the page says why"
  assert_eq "$(sql "SELECT count(*) FROM audit_events WHERE action = 'sso.refused' AND details->>'reason' = '$4'")" \
    $((before + 1)) "$6: audited as $4"
}
