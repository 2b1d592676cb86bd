#!/usr/bin/env bash
# The load benchmark of issue 7, in one command:
#
#     bench/run.sh
#
# Builds Warden in release, installs wrk if missing (Debian package), loads the small and the large dataset by
# direct SQL into fresh SQLite and PostgreSQL databases, starts Warden on each and drives it with wrk, once per
# mode:
#   plain      field encryption off, decision logging off (the defaults)
#   encrypted  the loaded database converted with `warden encrypt`, served with AUTH_ENABLE_ENCRYPTION=true
#   decisions  encrypted, and AUTH_ENABLE_DECISION_LOGGING=true (reads only; small dataset unless
#              BENCH_DECISION_SIZES says otherwise); counts how many answered checks reached the audit trail
# then serves
# the peer (Python `auth` 3.7.1 under gunicorn, 4 sync workers, SQLite, audit on) with the small dataset created
# through its REST API and drives it with the same load; finally runs the criterion micro-benchmark
# (benches/decision.rs) and writes bench/results/<UTC date>.md.
#
# Knobs (environment): BENCH_DURATION (10s), BENCH_CONNECTIONS (64), BENCH_WRITE_CONNECTIONS (32),
# BENCH_BACKENDS ("sqlite postgres"), BENCH_SIZES ("small large"), BENCH_MODES ("plain encrypted decisions"),
# BENCH_DECISION_SIZES ("small"), BENCH_SIZES may add "full" (large + a hierarchy, 100 000 resources and
# 100 000 scoped memberships; scenarios has_permission and has_permission_scoped), BENCH_PEER (1), BENCH_MICRO (1), BENCH_OUTPUT (bench/results/<date>.md),
# BENCH_POSTGRES_URL (postgres://postgres@127.0.0.1:5432/postgres: a server where this user may create databases).
# Everything runs on 127.0.0.1; scratch files go to target/bench/.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
DURATION=${BENCH_DURATION:-10s}
CONNS=${BENCH_CONNECTIONS:-64}
WRITE_CONNS=${BENCH_WRITE_CONNECTIONS:-32}
BACKENDS=${BENCH_BACKENDS:-"sqlite postgres"}
SIZES=${BENCH_SIZES:-"small large"}
MODES=${BENCH_MODES:-"plain encrypted decisions"}
DECISION_SIZES=${BENCH_DECISION_SIZES:-small}
PG_ADMIN=${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
WORK=$ROOT/target/bench
STAMP=$(date -u +%Y-%m-%d)
OUTPUT=${BENCH_OUTPUT:-bench/results/$STAMP.md}
export BENCH_LOADAVG
BENCH_LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
RESULTS=$WORK/results.txt      # one line per measurement, read by bench/report.py
RAW=$WORK/wrk-raw.txt          # wrk's own output, with --latency
PORT=18000
PEER_PORT=18001
KEY=6f1c2a9e-3b7d-4c8e-9a10-2b3c4d5e6f70
SECRET=warden-bench-tenant-secret-0123456789abcdef
# PostgreSQL needs the HS256 secret configured (a generated one would live in the database).
JWT_SECRET=3c9e1f7a5b2d8e4c6a0f9b3d7e1c5a82
ENCRYPTION_KEY=warden-bench-encryption-key-0123456789
WARDEN=$ROOT/target/release/warden
mkdir -p "$WORK" bench/results
: >"$RESULTS"
: >"$RAW"
SERVER_PID=

log() { printf '\n== %s\n' "$*" >&2; }
record() { echo "$*" >>"$RESULTS"; }
stop_server() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=
    fi
}
trap stop_server EXIT

declare -A USERS=([small]=10 [large]=100000 [full]=100000)
declare -A PERMS=([small]=5 [large]=1000 [full]=1000)
declare -A ROLES=([small]=3 [large]=10000 [full]=10000)

# --- tools -------------------------------------------------------------------------------------------------------
log "building warden (release)"
cargo build --release --bin warden
if ! command -v wrk >/dev/null; then
    log "installing wrk"
    SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk
fi

# --- helpers -----------------------------------------------------------------------------------------------------
# run_wrk LABEL SCENARIO SIZE CONNECTIONS BASE_URL [MODE]
run_wrk() {
    local label=$1 scenario=$2 size=$3 conns=$4 base=$5 mode=${6:-plain} line
    log "$label ($mode): $scenario ($size, $conns connections, $DURATION)"
    line=$(BENCH_KEY=$KEY BENCH_SCENARIO=$scenario BENCH_USERS=${USERS[$size]} BENCH_PERMS=${PERMS[$size]} \
        BENCH_ROLES=${ROLES[$size]} wrk -t2 -c"$conns" -d"$DURATION" --timeout 5s --latency \
        -s bench/scenario.lua "$base" | tee -a "$RAW" | grep '^scenario=')
    echo "$line" >&2
    record "wrk|target=$label mode=$mode size=$size connections=$conns $line"
}

wait_for() { # URL [auth] -> waits until it answers 200
    local i
    for i in $(seq 1 3000); do
        if curl -fsS -o /dev/null -H "Authorization: Bearer $KEY" "$1" 2>/dev/null; then return 0; fi
        sleep 0.01
    done
    echo "timed out waiting for $1" >&2
    return 1
}

fresh_database() { # BACKEND SIZE -> prints the database URL
    local backend=$1 size=$2
    if [ "$backend" = sqlite ]; then
        rm -f "$WORK/warden-$size.sqlite3"*
        echo "sqlite://$WORK/warden-$size.sqlite3"
    else
        local name="warden_bench_$size"
        psql -qX "$PG_ADMIN" -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" -c "CREATE DATABASE $name" >&2
        echo "${PG_ADMIN%/*}/$name"
    fi
}

rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

# mode_env MODE -> the environment Warden runs with in that mode
mode_env() {
    case $1 in
        plain) echo "AUTH_ENABLE_ENCRYPTION=false AUTH_ENABLE_DECISION_LOGGING=false" ;;
        encrypted) echo "AUTH_ENABLE_ENCRYPTION=true AUTH_ENCRYPTION_KEY=$ENCRYPTION_KEY AUTH_ENABLE_DECISION_LOGGING=false" ;;
        decisions) echo "AUTH_ENABLE_ENCRYPTION=true AUTH_ENCRYPTION_KEY=$ENCRYPTION_KEY AUTH_ENABLE_DECISION_LOGGING=true" ;;
        *) echo "unknown mode $1" >&2; return 1 ;;
    esac
}

count_decisions() { # BACKEND URL -> audit entries of checks
    local sql="SELECT count(*) FROM audit_log WHERE action LIKE 'check.%'"
    if [ "$1" = sqlite ]; then
        python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' \
            "${2#sqlite://}" "$sql"
    else
        psql -XtAq "$2" -c "$sql"
    fi
}

# --- Warden ------------------------------------------------------------------------------------------------------
for backend in $BACKENDS; do
    for size in $SIZES; do
        for mode in $MODES; do
            scenarios="has_permission user_permissions which_users_can add remove"
            if [ "$size" = full ]; then
                # The issue-15 dataset: the flat check next to the check at a resource, in the same run.
                scenarios="has_permission has_permission_scoped"
            fi
            if [ "$mode" = decisions ]; then
                case " $DECISION_SIZES " in *" $size "*) ;; *) continue ;; esac
                scenarios="has_permission user_permissions"
            fi
            label="warden-$backend"
            url=$(fresh_database "$backend" "$size")
            # shellcheck disable=SC2046 # word splitting of the mode's variables is intended
            export AUTH_DATABASE_URL=$url AUTH_TENANT_SECRET=$SECRET AUTH_JWT_SECRET_KEY=$JWT_SECRET AUTH_SERVER_PORT=$PORT AUTH_LOG_LEVEL=warn \
                AUTH_MODEL_MEMORY_MB=4096 AUTH_DATABASE_POOL_SIZE=${AUTH_DATABASE_POOL_SIZE:-32} $(mode_env "$mode")
            AUTH_ENABLE_ENCRYPTION=false "$WARDEN" migrate >/dev/null
            log "$label ($mode): loading the $size dataset"
            start=$(date +%s.%N)
            python3 bench/dataset.py "$size" "$url" "$KEY" "$SECRET" >&2
            record "dataset|target=$label mode=$mode size=$size seconds=$(echo "$(date +%s.%N) - $start" | bc)"
            if [ "$mode" != plain ]; then
                start=$(date +%s.%N)
                "$WARDEN" encrypt >&2
                record "encrypt|target=$label mode=$mode size=$size seconds=$(echo "$(date +%s.%N) - $start" | bc)"
            fi

            start=$(date +%s.%N)
            "$WARDEN" serve >"$WORK/warden-$backend-$size-$mode.log" 2>&1 &
            SERVER_PID=$!
            wait_for "http://127.0.0.1:$PORT/ping"
            ready=$(date +%s.%N)
            first=$(curl -fsS -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $KEY" \
                "http://127.0.0.1:$PORT/api/has_permission/user0/perm0")
            answered=$(date +%s.%N)
            record "load|target=$label mode=$mode size=$size ready_s=$(echo "$ready - $start" | bc) first_check_s=$first total_s=$(echo "$answered - $start" | bc) rss_kb=$(rss_kb "$SERVER_PID")"
            # Warm up (connections, allocator) before measuring.
            DURATION=2s run_wrk warmup has_permission "$size" "$CONNS" "http://127.0.0.1:$PORT" >/dev/null 2>&1 || true
            sleep 1 # the warm-up's decisions are flushed within 200 ms
            before=$( [ "$mode" = decisions ] && count_decisions "$backend" "$url" || echo 0)
            for scenario in $scenarios; do
                run_wrk "$label" "$scenario" "$size" "$CONNS" "http://127.0.0.1:$PORT" "$mode"
            done
            if [ "$backend" = postgres ] && [ "$mode" != decisions ]; then
                run_wrk "$label" add "$size" "$WRITE_CONNS" "http://127.0.0.1:$PORT" "$mode"
            fi
            record "rss|target=$label mode=$mode size=$size after_run_kb=$(rss_kb "$SERVER_PID")"
            stop_server # flushes the queued decisions
            if [ "$mode" = decisions ]; then
                record "decisions|target=$label size=$size recorded=$(( $(count_decisions "$backend" "$url") - before ))"
            fi
        done
    done
done
unset AUTH_DATABASE_URL AUTH_TENANT_SECRET AUTH_JWT_SECRET_KEY AUTH_SERVER_PORT AUTH_MODEL_MEMORY_MB AUTH_DATABASE_POOL_SIZE \
    AUTH_ENABLE_ENCRYPTION AUTH_ENCRYPTION_KEY AUTH_ENABLE_DECISION_LOGGING
sed -i '/target=warmup/d' "$RESULTS"

# --- the peer ----------------------------------------------------------------------------------------------------
if [ "${BENCH_PEER:-1}" = 1 ]; then
    if bench/peer.sh "$WORK" "$PEER_PORT" "$KEY" >&2; then
        run_wrk peer has_permission small "$CONNS" "http://127.0.0.1:$PEER_PORT"
        run_wrk peer has_permission small 16 "http://127.0.0.1:$PEER_PORT"
    else
        record "peer-failed|$(tail -1 "$WORK/peer.err" 2>/dev/null || echo 'see target/bench/peer.err')"
    fi
    kill "$(cat "$WORK/peer.pid" 2>/dev/null)" 2>/dev/null || true
fi

# --- micro-benchmark ---------------------------------------------------------------------------------------------
if [ "${BENCH_MICRO:-1}" = 1 ]; then
    log "micro-benchmark (criterion): decision function vs casbin-rs"
    timeout 1200 cargo bench --bench decision 2>&1 | tee "$WORK/micro.txt" >&2
fi

python3 bench/report.py "$WORK" "$OUTPUT" "bench/run.sh"
log "results: $OUTPUT"
