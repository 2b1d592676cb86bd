#!/usr/bin/env bash
# `warden import-auth` end to end: installs the real `auth` 3.7.1 (whose services write the source databases),
# pytest, httpx and the PostgreSQL drivers into target/import-auth-venv (reused when present), then runs
# tests/import_auth against the real binary ($WARDEN_BIN, default target/debug/warden; built with cargo only when
# missing). Needs PostgreSQL at TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test): the tests
# create and drop their own databases on that server (the admin connection is the same URL with database
# `postgres`). Exits non-zero on any failure, and when any test was skipped.
#
#   scripts/import-auth.sh                 # every test
#   scripts/import-auth.sh -k postgres     # extra arguments go to pytest
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

BINARY="${WARDEN_BIN:-${CARGO_TARGET_DIR:-target}/debug/warden}"
case "$BINARY" in /*) ;; *) BINARY="$ROOT/$BINARY" ;; esac
if [ ! -x "$BINARY" ]; then
    echo "warden binary not found at $BINARY: building it" >&2
    cargo build --bin warden --quiet
fi
export WARDEN_BIN="$BINARY"
export TEST_POSTGRES_URL="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"

VENV="${IMPORT_AUTH_VENV:-target/import-auth-venv}"
case "$VENV" in /*) ;; *) VENV="$ROOT/$VENV" ;; esac
PYTHON="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
    mkdir -p "$(dirname "$VENV")"
    "$PYTHON" -m venv "$VENV"
fi
# auth's PostgreSQL engine uses psycopg (v3); psycopg2-binary is installed too for older auth URLs.
"$VENV/bin/python" -m pip install --quiet "auth==3.7.1" pytest httpx "psycopg[binary]" psycopg2-binary

LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
set +e
# The auth package reads AUTH_* (and a .env in its working directory) at import: the tests give each process its
# own environment, so none of the caller's AUTH_* settings may leak in.
(cd tests/import_auth && env $(env | grep -o '^AUTH_[A-Za-z0-9_]*' | sed 's/^/-u /') \
    "$VENV/bin/python" -m pytest -p no:cacheprovider -q -rs "$@") 2>&1 | tee "$LOG"
status=${PIPESTATUS[0]}
set -e
if [ "$status" -ne 0 ]; then
    exit "$status"
fi
if grep -Eq '[0-9]+ (skipped|xfailed|xpassed)' "$LOG"; then
    echo "FAILED: tests were skipped or xfailed, which is not allowed here" >&2
    exit 1
fi
