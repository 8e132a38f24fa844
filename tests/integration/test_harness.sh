#!/usr/bin/env bash
# The test harness's own bounds (lib.sh, dashboard_lib.sh): nothing a test
# starts may hang it. A process that ignores SIGTERM is named, killed and
# fails the test at cleanup; a poll for an answer from a server that
# accepts and never answers goes round again and gives up at its bound, as
# does any curl; a
# browser script that never ends fails at BROWSER_MAX_SECONDS with the end
# of its trace. Each case runs in a child bash under `timeout`, which would
# answer 124 had the harness hung.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dashboard_lib.sh"
LIB="$TOCSIN_SOURCE_DIR/tests/integration"

# child SCRIPT: runs SCRIPT in a bash that sourced both libraries, within
# 120 s; prints its status, then what it wrote.
child() {
  local rc=0 out
  out=$(timeout 120 bash -c "source '$LIB/lib.sh'; source '$LIB/dashboard_lib.sh'; $1" 2>&1) || rc=$?
  printf '%s\n%s' "$rc" "$out"
}

# --- cleanup: a daemon that ignores SIGTERM ---
got=$(child 'CLEANUP_SECONDS=2
  bash -c "trap \"\" TERM; exec sleep 300" & TEST_PIDS+=($!)
  echo "ignoring=$!"
  ignores_term() { (( 0x$(awk "/^SigIgn:/ {print \$2}" "/proc/$1/status") & 0x4000 )); }
  wait_until 30 "the process to ignore SIGTERM" ignores_term $!
  sleep 1 & TEST_PIDS+=($!)
  echo started')
assert_eq "$(head -1 <<<"$got")" 1 "a test whose process ignored SIGTERM fails (not 124: it did not hang); it said: $got"
assert_contains "$got" "sleep 300" "the process is named"
assert_contains "$got" "still running 2 s after SIGTERM; killed" "and said to be killed"
# Its own pid, not every `sleep 300` on the machine (another test run may
# have one); a zombie awaiting its reaper has no command line either.
ignoring=$(sed -n 's/^ignoring=\([0-9][0-9]*\)$/\1/p' <<<"$got")
[[ -n "$ignoring" ]] || fail "the child named the pid it started; it said: $got"
assert_eq "$(tr '\0' ' ' 2>/dev/null <"/proc/$ignoring/cmdline" || true)" "" "it is gone"
got=$(child 'sleep 30 & TEST_PIDS+=($!); echo started')
assert_eq "$(head -1 <<<"$got")" 0 "a process that stops on SIGTERM leaves the test's status alone"
got=$(child 'sleep 30 & TEST_PIDS+=($!); fail "on purpose"')
assert_eq "$(head -1 <<<"$got")" 1 "nor does cleanup hide a failure"

got=$(child 'echo before; grep -q nothing /dev/null; echo after')
assert_eq "$(head -1 <<<"$got")" 1 "a command failing outside a check fails the test"
assert_contains "$got" 'line 1: "grep -q nothing /dev/null" exited 1' "saying which command, where"
[[ "$got" != *after* ]] || fail "and nothing after it ran"

# --- wait_http against a server that accepts and never answers ---
SILENT_PORT=$(free_port)
node -e 'require("net").createServer(() => {}).listen(+process.argv[1], "127.0.0.1", () => console.log("ready"))' \
  "$SILENT_PORT" >"$TMP/silent.out" &
TEST_PIDS+=($!)
wait_until 30 "the silent server to listen" file_has "$TMP/silent.out" ready
got=$(child "wait_http http://127.0.0.1:$SILENT_PORT/healthz 3")
assert_eq "$(head -1 <<<"$got")" 1 "a poll of a server that never answers fails at its bound"
assert_contains "$got" "waited 3 s for an answer from http://127.0.0.1:$SILENT_PORT/healthz" "saying what it waited for"

got=$(child "printf 'max-time = 2\\n' >\"\$TMP/.curlrc\"; curl -s http://127.0.0.1:$SILENT_PORT/ || echo \"curl exit \$?\"")
assert_contains "$got" "curl exit 28" "any curl in a test gives up at the harness's bound (its .curlrc)"

# --- browser_run: a script that never ends, and one that throws ---
mkdir -p "$TMP/browser"
echo 'console.log("ok - started"); setInterval(() => {}, 1000);' >"$TMP/browser/hang.mjs"
echo 'console.log("ok - first"); throw new Error("FAIL: the second check");' >"$TMP/browser/throws.mjs"
got=$(child "BROWSER_DIR='$TMP/browser' SCREENSHOTS='$TMP' BROWSER_MAX_SECONDS=2 browser_run hang.mjs")
assert_eq "$(head -1 <<<"$got")" 1 "a browser script that never ends fails the test"
assert_contains "$got" "hang.mjs was still running after 2 s" "at BROWSER_MAX_SECONDS, saying so"
assert_contains "$got" "ok - started" "with what it printed"
got=$(child "BROWSER_DIR='$TMP/browser' SCREENSHOTS='$TMP' browser_run throws.mjs")
assert_eq "$(head -1 <<<"$got")" 1 "a browser script that throws fails the test"
assert_contains "$got" "FAIL: the second check" "its error shown from the trace"
assert_contains "$got" "ok - first" "after what it printed"
assert_contains "$got" "throws.mjs failed (exit 1)" "and named"
echo 'console.log("BLAST_ID=7")' >"$TMP/browser/prints.mjs"
got=$(child "BROWSER_DIR='$TMP/browser' SCREENSHOTS='$TMP' browser_run prints.mjs X=1")
assert_eq "$got" $'0\nBLAST_ID=7' "a script that passes: its output on stdout, nothing else"
echo "test_harness: ok"
