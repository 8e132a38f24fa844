#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# tests/lint/run.sh — the web app's style, checked: prettier (formatting)
# and eslint (rules that catch bugs: undefined and unused names, ==,
# implicit globals, innerHTML...) over dashboard/static, tests/browser and
# tests/oidc, with the pinned versions of tests/lint/package-lock.json
# (installed by ops/install-deps). ctest runs it as lint.web (ops/test).
#   tests/lint/run.sh          check; exit 1 with the offending files
#   tests/lint/run.sh --fix    rewrite the files in prettier's format and
#                              apply eslint's safe fixes
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
bin="$here/node_modules/.bin"
[ -x "$bin/prettier" ] && [ -x "$bin/eslint" ] ||
  { echo "tests/lint: prettier and eslint are not installed: run ops/install-deps" >&2; exit 1; }
targets=(dashboard/static tests/browser/*.mjs tests/oidc/*.mjs)
cd "$root"
fix=0
case "${1:-}" in
  --fix) fix=1 ;;
  "") ;;
  *) echo "usage: tests/lint/run.sh [--fix]" >&2; exit 2 ;;
esac
status=0
if [ $fix -eq 1 ]; then
  "$bin/prettier" --config "$here/.prettierrc.json" --ignore-path "$here/.prettierignore" --log-level warn --write "${targets[@]}"
  "$bin/eslint" --config "$here/eslint.config.js" --fix "${targets[@]}" || status=1
  exit $status
fi
"$bin/prettier" --config "$here/.prettierrc.json" --ignore-path "$here/.prettierignore" --log-level warn --check "${targets[@]}" ||
  { echo "tests/lint: not in prettier's format (tests/lint/run.sh --fix rewrites them)" >&2; status=1; }
"$bin/eslint" --config "$here/eslint.config.js" --max-warnings 0 "${targets[@]}" || status=1
[ $status -eq 0 ] && echo "tests/lint: dashboard/static, tests/browser and tests/oidc are formatted and lint-clean"
exit $status
