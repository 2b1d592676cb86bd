#!/usr/bin/env bash
# CI: starts the debug `warden` binary on a free port with a throwaway SQLite file, waits for /livez, runs
# ./showcase_api.sh against it and stops the server. Exits non-zero when the server does not come up or any
# showcase step fails; the server's log is printed on failure.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --bin warden --quiet
BINARY="${CARGO_TARGET_DIR:-target}/debug/warden"

WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
    local status=$?
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [ "$status" -ne 0 ] && [ -f "$WORK/server.log" ]; then
        echo "--- server log ---" >&2
        cat "$WORK/server.log" >&2
    fi
    rm -rf "$WORK"
    exit "$status"
}
trap cleanup EXIT INT TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null \
        || echo $((20000 + RANDOM % 20000))
}
PORT=$(free_port)

# A clean environment for the server: only what this run sets (no .env from the working directory either).
(
    cd "$WORK"
    exec env -i PATH="$PATH" HOME="$WORK" \
        AUTH_DATABASE_URL="sqlite://$WORK/showcase.sqlite3" \
        AUTH_SERVER_HOST=127.0.0.1 AUTH_SERVER_PORT="$PORT" \
        "$OLDPWD/$BINARY" serve
) >"$WORK/server.log" 2>&1 &
SERVER_PID=$!

URL="http://127.0.0.1:$PORT"
for _ in $(seq 1 100); do
    if curl -fsS --max-time 1 "$URL/livez" >/dev/null 2>&1; then
        break
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "warden exited before it was ready" >&2; exit 1; }
    sleep 0.1
done
curl -fsS --max-time 1 "$URL/livez" >/dev/null || { echo "warden did not become live at $URL" >&2; exit 1; }

SERVER_URL="$URL" ./showcase_api.sh
