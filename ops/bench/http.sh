#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# ops/bench/http.sh — requests/s of lib/'s HTTP layer against the bound of a
# bare libuv + llhttp hello world, both measured now with the same wrk load
# (keep-alive, loopback). Prints both, the ratio, and each server's CPU time
# per request (wrk shares the machine, so requests/s alone can hide cost).
set -euo pipefail
case "${1:-}" in -h|--help) echo "Usage: ops/bench/http.sh [SECONDS] [CONNECTIONS]  (defaults 10, 50)"; exit 0 ;; esac
secs=${1:-10} conns=${2:-50}
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_build bench_http_hello bench_http_tocsin
command -v wrk >/dev/null || { echo "wrk is missing: ops/install-deps" >&2; exit 1; }

run() { # run BINARY PORT -> prints "requests/s server-CPU-microseconds/request"
  local bin=$1 port=$2 pid out rps ticks
  "$bin" "$port" & pid=$!
  for _ in $(seq 1 50); do curl -fs -o /dev/null "http://127.0.0.1:$port/hello" && break; sleep 0.1; done
  out=$(wrk -t1 -c"$conns" -d"${secs}s" "http://127.0.0.1:$port/hello")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  ticks=$(awk '{print $14 + $15}' "/proc/$pid/stat") # user + system time of the server
  kill "$pid"; wait "$pid" 2>/dev/null || true
  awk -v r="$rps" -v t="$ticks" -v hz="$(getconf CLK_TCK)" -v s="$secs" \
    'BEGIN { printf "%s %.2f\n", r, t / hz * 1e6 / (r * s) }'
}
read -r bound bound_us < <(run "$build/ops/bench/bench_http_hello" 18099)
read -r ours ours_us < <(run "$build/ops/bench/bench_http_tocsin" 18098)
awk -v b="$bound" -v o="$ours" -v bu="$bound_us" -v ou="$ours_us" 'BEGIN {
  printf "libuv+llhttp hello world (bound): %10.0f requests/s %6.2f us server CPU/request\n", b, bu
  printf "tocsin lib/http layer:            %10.0f requests/s %6.2f us server CPU/request\n", o, ou
  printf "ratio:                            %10.1f %% of the bound; %.2fx its CPU per request\n", 100 * o / b, ou / bu }'
