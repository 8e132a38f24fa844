#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# ops/bench/phone_sms.sh — phone parse (slow and fast path) and segment
# counting costs, Release build; see phone_sms.c.
set -euo pipefail
case "${1:-}" in -h|--help) echo "Usage: ops/bench/phone_sms.sh [NUMBERS]  (default 200000)"; exit 0 ;; esac
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_build bench_phone_sms
"$build/ops/bench/bench_phone_sms" "${1:-200000}"
