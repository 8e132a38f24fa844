#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# tests/lint/c_format.sh — the C and C++ style check (ctest lint.c_format):
# every tracked .c, .h and .cc file must be exactly what clang-format makes
# of it under the committed .clang-format. With --fix, formats them.
# String literals are never split (BreakStringLiterals: false), so SQL and
# messages stay greppable; such a line may pass the column limit.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: tests/lint/c_format.sh [--fix]

Checks that every C/C++ file git tracks is formatted by clang-format with
the repository's .clang-format; prints the files that are not and exits 1.
  --fix   rewrite them in place instead
USAGE
}

fix=0
case "${1:-}" in
  -h|--help) usage; exit 0 ;;
  --fix) fix=1 ;;
  "") ;;
  *) echo "tests/lint/c_format.sh: unknown option \"$1\" (see --help)" >&2; exit 2 ;;
esac
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
command -v clang-format >/dev/null || { echo "clang-format is missing: run ops/install-deps" >&2; exit 1; }
mapfile -t files < <(git ls-files -- '*.c' '*.h' '*.cc')
[ "${#files[@]}" -gt 0 ] || { echo "no C files found (not a git checkout?)" >&2; exit 1; }
if [ "$fix" = 1 ]; then
  clang-format -i -- "${files[@]}"
  exit 0
fi
bad=()
for f in "${files[@]}"; do
  clang-format --dry-run --Werror -- "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ "${#bad[@]}" -gt 0 ]; then
  printf 'not formatted (tests/lint/c_format.sh --fix): %s\n' "${bad[@]}" >&2
  exit 1
fi
echo "c_format: ${#files[@]} files formatted"
