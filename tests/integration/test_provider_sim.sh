#!/usr/bin/env bash
# The worker's providers against the carrier simulator over loopback: each
# kind of carrier answer becomes the right outcome. The ambiguous ones
# (reset or timeout after the carrier accepted, 5xx) come out "unknown",
# and the simulator's count shows why: the message was in fact accepted,
# so resending it would text the member twice.
source "$(dirname "$0")/lib.sh"
A=AC7c0c51a0000000000000000000000000
T=7c0c51a0000000000000000000000000
SIM_PORT=$(free_port)
"$BIN/ops/tocsin-carrier-sim" --port "$SIM_PORT" --receipt-delay-ms 5000 >"$TMP/sim.log" 2>&1 & TEST_PIDS+=($!)
SIM="http://127.0.0.1:$SIM_PORT"
wait_http "$SIM/healthz"
send() { "$BIN/tests/prog_provider_send" twilio "$SIM" "$A" "$T" 24680 "$1" "$2" "" "${3:-3000}"; }
faults() { curl -s -XPOST "$SIM/sim/faults" -d "$1" >/dev/null; }
count() { curl -s "$SIM/sim/count" --get --data-urlencode "to=$1" --data-urlencode "body=$2" | sed -E 's/.*"count":([0-9]+).*/\1/'; }

assert_contains "$(send +14155550001 hello)" "outcome=sent id=SM" "accepted"
faults '{"p429": 1}'
out=$(send +14155550002 busy)
assert_contains "$out" "outcome=retry code=20429 opt_out=0 slow_down=1" "429 is a retry, slower"
assert_eq "$(count +14155550002 busy)" 0 "a 429 accepted nothing"
faults '{"p429": 0, "p500": 1}'
assert_contains "$(send +14155550003 five)" "outcome=unknown code=http_500" "500 is unknown"
faults '{"p500": 0, "preset": 1}'
assert_contains "$(send +14155550004 reset)" "outcome=unknown" "reset after sending is unknown"
assert_eq "$(count +14155550004 reset)" 1 "...and the carrier did accept it"
faults '{"preset": 0, "ptimeout": 1}'
assert_contains "$(send +14155550005 slow 500)" "outcome=unknown" "timeout after sending is unknown"
assert_eq "$(count +14155550005 slow)" 1 "...and the carrier did accept it"
faults '{"ptimeout": 0}'
# A carrier that answers opt-outs itself (a short code does not since
# the simulator models both kinds): it refuses later sends with 21610.
curl -s -XPOST "$SIM/sim/senders" -d '{"number": "24680", "opt_out_handling": "carrier"}' >/dev/null
curl -s -XPOST "$SIM/sim/inbound" -d '{"from": "+14155550006", "to": "24680", "body": "STOP"}' >/dev/null
assert_contains "$(send +14155550006 after-stop)" "outcome=failed code=21610 opt_out=1" "21610 opts out"
assert_contains "$(send 555 bad)" "outcome=failed code=21211" "a bad number fails for good"
out=$("$BIN/tests/prog_provider_send" twilio "http://127.0.0.1:$(free_port)" "$A" "$T" 24680 +14155550007 x)
assert_contains "$out" "outcome=retry" "refused before sending is a retry"
assert_contains "$out" "not sent" "says it was not sent"

out=$("$BIN/tests/prog_provider_send" telnyx "$SIM" "" KEY_tocsin_demo +18005550199 +14155550008 "telnyx hi")
assert_contains "$out" "outcome=sent id=" "telnyx accepted"
out=$("$BIN/tests/prog_provider_send" telnyx "$SIM" "" wrong-key-1 +18005550199 +14155550008 "x")
assert_contains "$out" "outcome=failed code=10009" "telnyx bad key"
echo "test_provider_sim: ok"
