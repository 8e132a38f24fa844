# SPDX-License-Identifier: AGPL-3.0-or-later
# worker_lib.sh — sourced by the worker's integration tests (after lib.sh):
# a fresh database with the demo org, the carrier simulator standing in for
# Twilio, and helpers to queue messages, run workers and read the
# simulator's counts.
demo_db
export TOCSIN_WORKER_POLL_MS=200
SIM_PORT=$(free_port)
SIM="http://127.0.0.1:$SIM_PORT"
"$BIN/ops/tocsin-carrier-sim" --port "$SIM_PORT" --gateway "http://127.0.0.1:$(free_port)" \
  --receipt-delay-ms 100 >"$TMP/sim.log" 2>&1 & TEST_PIDS+=($!)
wait_http "$SIM/healthz"
sql "UPDATE senders SET base_url = '$SIM'"

# sender_rate N: the demo short code's messages per second.
sender_rate() { sql "UPDATE senders SET messages_per_second = $1"; }

# enqueue_bulk FIRST COUNT BODY [NOT_BEFORE_SQL]: bulk messages to
# +1415555FFFF.. with body "BODY n".
enqueue_bulk() {
  sql "INSERT INTO messages (org_id, sender_id, provider, to_phone, body, encoding, segments, lane, purpose, not_before)
       SELECT s.org_id, s.id, s.provider, '+1415555' || lpad(g::text, 4, '0'), '$3 ' || g, 'GSM-7', 1, 'bulk', 'blast',
              ${4:-now()}
         FROM senders s, generate_series($1, $1 + $2 - 1) g"
}

# start_worker NAME [ENV=VALUE...]: a worker in the background; its pid in
# WORKER_PID_<NAME>, log in $TMP/worker-NAME.log.
start_worker() {
  local name=$1; shift
  env TOCSIN_WORKER_METRICS_PORT="$(free_port)" TOCSIN_WORKER_ID="w-$name" "$@" \
    "$BIN/worker/tocsin-worker" >"$TMP/worker-$name.log" 2>&1 &
  TEST_PIDS+=($!)
  printf -v "WORKER_PID_$name" '%s' "$!"
}

# sim_accepted: requests the simulator accepted in all.
sim_accepted() { curl -s "$SIM/sim/stats" | jq .accepted; }
# sim_dupes: recipient+body pairs the simulator accepted more than once.
sim_dupes() { curl -s "$SIM/sim/messages" | jq '[.messages[] | select(.direction == "outbound") | .to + "|" + .body] | group_by(.) | map(select(length > 1)) | length'; }
# sim_max_rate FROM: the most segments the simulator got from FROM in one second.
sim_max_rate() { curl -s "$SIM/sim/rates?from=$1" | jq .max; }
