#!/usr/bin/env bash
# ctest fixture cleanup: stop and delete the throwaway cluster.
set -euo pipefail
dir=$1
src=$(cd "$(dirname "$0")/../.." && pwd)
port=$(cat "$dir.port" 2>/dev/null || echo 54329)
"$src/ops/pg" destroy --dir "$dir" --port "$port"
rm -f "$dir.port"
