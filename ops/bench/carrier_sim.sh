#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# ops/bench/carrier_sim.sh — the carrier simulator's own ceiling in
# --benchmark mode: Twilio creates per second (auth, form parsing,
# validation, segment count, storage, JSON resource), next to the bound of
# the bare libuv + llhttp hello world measured in the same run. The outbound
# benchmark must stay well under this figure to be measuring Tocsin.
set -euo pipefail
case "${1:-}" in -h|--help) echo "Usage: ops/bench/carrier_sim.sh [SECONDS] [CONNECTIONS]  (defaults 10, 50)"; exit 0 ;; esac
secs=${1:-10} conns=${2:-50}
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_build bench_http_hello tocsin-carrier-sim
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
A=AC7c0c51a0000000000000000000000000
T=7c0c51a0000000000000000000000000
auth=$(printf '%s:%s' "$A" "$T" | base64 -w0)
cat > "$tmp/create.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "Basic $auth"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
local n = 0
request = function()
  n = n + 1
  local body = string.format("To=%%2B1415555%04d&From=24680&Body=Rally+at+5+number+%d", n % 10000, n)
  return wrk.format(nil, nil, nil, body)
end
LUA
"$build/ops/bench/bench_http_hello" 18099 & hello=$!
"$build/ops/tocsin-carrier-sim" --benchmark --port 18097 & sim=$!
trap 'kill $hello $sim 2>/dev/null; rm -rf "$tmp"' EXIT
for port in 18099 18097; do
  for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
done
bound=$(wrk -t1 -c"$conns" -d"${secs}s" http://127.0.0.1:18099/ | awk '/Requests\/sec/ {print $2}')
ours=$(wrk -t1 -c"$conns" -d"${secs}s" -s "$tmp/create.lua" "http://127.0.0.1:18097/2010-04-01/Accounts/$A/Messages.json" | awk '/Requests\/sec/ {print $2}')
accepted=$(curl -s http://127.0.0.1:18097/sim/stats | sed -E 's/.*"accepted":([0-9]+).*/\1/')
awk -v b="$bound" -v o="$ours" -v a="$accepted" 'BEGIN {
  printf "libuv+llhttp hello world (bound):   %10.0f requests/s\n", b
  printf "carrier-sim Twilio creates (201):   %10.0f requests/s  (%d accepted)\n", o, a
  printf "ratio:                              %10.1f %%\n", 100 * o / b }'
