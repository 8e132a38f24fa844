#!/usr/bin/env bash
# ctest fixture: a throwaway PostgreSQL cluster for the integration tests, on
# a free loopback port; writes its port to DIR/port for lib.sh.
set -euo pipefail
dir=$1
src=$(cd "$(dirname "$0")/../.." && pwd)
"$src/ops/pg" destroy --dir "$dir" >/dev/null 2>&1 || true
for attempt in $(seq 1 20); do
  port=$(( 12000 + RANDOM % 20000 )) # below the ephemeral port range
  if (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; then continue; fi
  if "$src/ops/pg" start --dir "$dir" --port "$port"; then
    echo "$port" > "$dir.port"
    exit 0
  fi
  "$src/ops/pg" destroy --dir "$dir" >/dev/null 2>&1 || true
done
echo "pg_start: could not start a throwaway cluster" >&2
exit 1
