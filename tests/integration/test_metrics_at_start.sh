#!/usr/bin/env bash
# A daemon that has just started lists every counter it keeps on /metrics,
# at 0, before the first event of each (a counter registered on its first
# increment would be missing, and a dashboard's rate() of it undefined).
source "$(dirname "$0")/lib.sh"
fresh_db
"$BIN/ops/tocsinctl" migrate >/dev/null

# check NAME PORTVAR COUNTER...: starts tocsin-NAME and expects "COUNTER 0".
check() {
  local name=$1 var=$2 port pid metrics c
  shift 2
  port=$(free_port)
  env TOCSIN_WORKER_METRICS_PORT="$(free_port)" TOCSIN_GATEWAY_SPOOL_DIR="$TMP/spool-$name" \
    "$var=$port" "$BIN/$name/tocsin-$name" >"$TMP/$name.log" 2>&1 &
  pid=$!
  TEST_PIDS+=("$pid")
  wait_http "http://127.0.0.1:$port/healthz"
  metrics=$(curl -s "http://127.0.0.1:$port/metrics")
  for c in "$@"; do
    grep -qxF "$c 0" <<<"$metrics" || fail "tocsin-$name lists $c at 0 from the start: $metrics"
  done
  kill -TERM "$pid"
  wait "$pid" || fail "tocsin-$name exited $? after SIGTERM: $(cat "$TMP/$name.log")"
}

check gateway TOCSIN_GATEWAY_PORT \
  tocsin_gateway_inbound_total tocsin_gateway_receipts_total \
  tocsin_gateway_inbound_batches_total tocsin_gateway_inbound_batch_fallbacks_total \
  tocsin_gateway_receipt_batches_total tocsin_gateway_receipt_batch_fallbacks_total \
  tocsin_gateway_rate_limited_total tocsin_gateway_unverified_total \
  tocsin_gateway_rejected_signatures_total tocsin_gateway_spooled_total \
  tocsin_gateway_journaled_total tocsin_gateway_sender_lookups_total \
  tocsin_gateway_sender_changes_total
check worker TOCSIN_WORKER_METRICS_PORT \
  tocsin_worker_claimed_total tocsin_worker_requests_total tocsin_worker_throttled_total \
  tocsin_worker_sent_total tocsin_worker_retried_total tocsin_worker_failed_total \
  tocsin_worker_unknown_total
echo "ok"
