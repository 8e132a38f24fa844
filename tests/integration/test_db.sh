#!/usr/bin/env bash
# lib/db against a live PostgreSQL: see prog_db_check.c for the checks.
source "$(dirname "$0")/lib.sh"
fresh_db
"$BIN/tests/prog_db_check"
