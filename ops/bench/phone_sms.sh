#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# ops/bench/phone_sms.sh — phone parse (slow and fast path) and segment
# counting costs, Release build; see phone_sms.c.
set -euo pipefail
case "${1:-}" in -h|--help) echo "Usage: ops/bench/phone_sms.sh [NUMBERS]  (default 200000)"; exit 0 ;; esac
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cmake -S "$here" -B "$here/build-bench" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$here/build-bench" -j2 --target bench_phone_sms >/dev/null
"$here/build-bench/ops/bench/bench_phone_sms" "${1:-200000}"
