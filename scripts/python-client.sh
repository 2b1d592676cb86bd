#!/usr/bin/env bash
# Python client: installs clients/python with its test extras (pytest, pytest-asyncio, mypy and the seed client
# auth==3.7.1 the tests compare with) into target/python-client-venv (reused when present), checks that the sync
# clients are generated from the async ones, checks types with mypy --strict and runs its tests against the real
# server binary ($WARDEN_BIN, default target/debug/warden; built with cargo only when missing). A skipped test
# fails the run. Exits non-zero on any failure.
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

VENV="${PYTHON_CLIENT_VENV:-target/python-client-venv}"
case "$VENV" in /*) ;; *) VENV="$ROOT/$VENV" ;; esac
PYTHON="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
    mkdir -p "$(dirname "$VENV")"
    "$PYTHON" -m venv "$VENV"
fi
# Non-editable, so the tests exercise the installed package as users get it.
"$VENV/bin/python" -m pip install --quiet --force-reinstall --no-deps ./clients/python
"$VENV/bin/python" -m pip install --quiet "./clients/python[test]"

echo "--- sync clients generated from the async ones"
"$VENV/bin/python" clients/python/tools/unasync.py --check

echo "--- mypy --strict"
(cd clients/python && "$VENV/bin/python" -m mypy --strict src/warden_client)
# The installed copy must type-check too (py.typed shipped).
"$VENV/bin/python" -m mypy --strict -p warden_client

echo "--- pytest"
(cd clients/python && "$VENV/bin/python" -m pytest -q "$@")
