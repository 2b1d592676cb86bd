#!/usr/bin/env bash
# The open-mode flood benchmark (issue 12): do strangers with random client keys degrade everyone?
#
#     bench/flood.sh                      # the full run: 1 000 000 distinct random keys
#     FLOOD_KEYS=50000 FLOOD_BLOCK=10000 bench/flood.sh   # a reduced run
#
# Builds Warden and the load generator (bench/flood.rs, `cargo build --release --example flood`) in release,
# starts Warden on a fresh database (127.0.0.1 only), gives one real tenant a role, a grant and a membership,
# then the generator:
#   1. measures the real tenant's `has_permission` throughput (FLOOD_SECONDS, default 10 s);
#   2. sends FLOOD_KEYS (1 000 000) `has_permission` requests, each with a new random version-4 key, at full speed
#      with FLOOD_CONNECTIONS (64) connections, printing the throughput and Warden's RSS per FLOOD_BLOCK
#      (100 000) keys; the issue compares the first and the last block;
#   3. measures the real tenant again, and prints both ratios (last / first block, after / before).
# Finally the script prints how many tenant models Warden holds and its RSS, then stops it (and itself).
#
# Other knobs: FLOOD_BACKEND (sqlite | postgres; default sqlite), FLOOD_POSTGRES_URL
# (postgres://postgres@127.0.0.1:5432/postgres, a server where this user may create databases),
# FLOOD_MODEL_MB (AUTH_MODEL_MEMORY_MB, default 64), FLOOD_EXTRA_ENV (extra `VAR=value` words for Warden, e.g.
# "AUTH_RATE_LIMIT_PER_SECOND=100000 AUTH_ENABLE_DECISION_LOGGING=true"), FLOOD_WARDEN_BIN (the server binary to
# measure, default the one just built: point it at an older build to measure "before"). Scratch files go to
# target/bench/flood/.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
KEYS=${FLOOD_KEYS:-1000000}
BLOCK=${FLOOD_BLOCK:-100000}
CONNS=${FLOOD_CONNECTIONS:-64}
SECONDS_EACH=${FLOOD_SECONDS:-10}
BACKEND=${FLOOD_BACKEND:-sqlite}
MODEL_MB=${FLOOD_MODEL_MB:-64}
PG_ADMIN=${FLOOD_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
PORT=${FLOOD_PORT:-18100}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
WARDEN_BIN=${FLOOD_WARDEN_BIN:-$TARGET/release/warden}
WORK=$ROOT/target/bench/flood
REAL_KEY=$(python3 -c 'import uuid; print(uuid.uuid4())')
SECRET=warden-flood-tenant-secret-0123456789abcdef
SERVER_PID=
DB_NAME=

cleanup() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [ -n "$DB_NAME" ]; then
        psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS \"$DB_NAME\" WITH (FORCE)" >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT

echo "== building (release)" >&2
cargo build --release --bin warden --example flood >&2
mkdir -p "$WORK"
case $BACKEND in
    sqlite)
        rm -f "$WORK"/flood.sqlite3*
        URL="sqlite://$WORK/flood.sqlite3"
        ;;
    postgres)
        DB_NAME=warden_flood_$$
        psql "$PG_ADMIN" -qc "CREATE DATABASE \"$DB_NAME\"" >/dev/null
        URL="${PG_ADMIN%/*}/$DB_NAME"
        ;;
    *) echo "FLOOD_BACKEND must be sqlite or postgres" >&2; exit 2 ;;
esac

# shellcheck disable=SC2086 # FLOOD_EXTRA_ENV is a list of words on purpose
env AUTH_DATABASE_URL="$URL" AUTH_SERVER_HOST=127.0.0.1 AUTH_SERVER_PORT="$PORT" AUTH_TENANT_SECRET="$SECRET" \
    AUTH_MODEL_MEMORY_MB="$MODEL_MB" AUTH_LOG_LEVEL=warn ${FLOOD_EXTRA_ENV:-} \
    "$WARDEN_BIN" serve >"$WORK/warden.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
    sleep 0.1
done
BASE=http://127.0.0.1:$PORT
for call in "role/editor" "permission/editor/edit" "membership/bob/editor"; do
    curl -fs -X POST "$BASE/api/$call" -H "Authorization: Bearer $REAL_KEY" >/dev/null
done

echo "== flood: backend=$BACKEND keys=$KEYS block=$BLOCK connections=$CONNS model_budget=${MODEL_MB} MiB" \
    "load=$(cut -d' ' -f1-3 /proc/loadavg) cores=$(nproc)"
"$TARGET"/release/examples/flood --base "$BASE" --real-key "$REAL_KEY" --keys "$KEYS" --block "$BLOCK" \
    --concurrency "$CONNS" --seconds "$SECONDS_EACH" --pid "$SERVER_PID"
echo "models loaded: $(curl -fs "$BASE/metrics" | awk '/^warden_tenant_models_loaded / {print $2}')," \
    "rss $(awk '/VmRSS/ {printf "%.1f MiB", $2/1024}' "/proc/$SERVER_PID/status")"
