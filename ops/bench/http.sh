#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# ops/bench/http.sh — requests/s of lib/'s HTTP layer against the bound of a
# bare libuv + llhttp hello world, both measured now with the same wrk load
# (keep-alive, loopback). Prints both and the ratio.
set -euo pipefail
case "${1:-}" in -h|--help) echo "Usage: ops/bench/http.sh [SECONDS] [CONNECTIONS]  (defaults 10, 50)"; exit 0 ;; esac
secs=${1:-10} conns=${2:-50}
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_build bench_http_hello bench_http_tocsin
command -v wrk >/dev/null || { echo "wrk is missing: ops/install-deps" >&2; exit 1; }

run() { # run NAME BINARY PORT -> prints requests/s
  local name=$1 bin=$2 port=$3 pid rps
  "$bin" "$port" & pid=$!
  for _ in $(seq 1 50); do curl -fs -o /dev/null "http://127.0.0.1:$port/hello" && break; sleep 0.1; done
  rps=$(wrk -t1 -c"$conns" -d"${secs}s" "http://127.0.0.1:$port/hello" | awk '/Requests\/sec/ {print $2}')
  kill "$pid"; wait "$pid" 2>/dev/null || true
  echo "$rps"
}
bound=$(run hello "$build/ops/bench/bench_http_hello" 18099)
ours=$(run tocsin "$build/ops/bench/bench_http_tocsin" 18098)
awk -v b="$bound" -v o="$ours" 'BEGIN {
  printf "libuv+llhttp hello world (bound): %10.0f requests/s\n", b
  printf "tocsin lib/http layer:            %10.0f requests/s\n", o
  printf "ratio:                            %10.1f %%\n", 100 * o / b }'
