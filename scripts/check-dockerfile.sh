#!/usr/bin/env bash
# Checks the Docker set-up on a machine without a Docker engine:
#   1. lints the Dockerfile, docker-compose.yml, .dockerignore and .env.example;
#   2. runs the Dockerfile's build command (`cargo build --release --locked --bin warden`);
#   3. lays the binary and health check out as the runtime image does, and, as a non-root user `warden` (created for
#      the run when absent, removed afterwards; needs root), runs `warden --help`, `warden check-config` and
#      `warden serve` with the image's environment, checks the health check passes, and stops the server with
#      SIGTERM as `docker stop` would.
#
#   scripts/check-dockerfile.sh              # everything (a release build: minutes on a small machine)
#   scripts/check-dockerfile.sh --lint-only  # step 1 only
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)

# The command the Dockerfile runs, verbatim; step 1 checks the Dockerfile still says exactly this.
BUILD_COMMAND='cargo build --release --locked --bin warden'
RUNTIME_USER=warden

LINT_ONLY=false
case "${1-}" in
    --lint-only) LINT_ONLY=true ;;
    "") ;;
    *) echo "usage: $0 [--lint-only]" >&2; exit 2 ;;
esac

log() { printf '\n== %s\n' "$*"; }
ok() { printf '   ok  %s\n' "$*"; }
fail() { printf '   FAILED  %s\n' "$*" >&2; exit 1; }

# --- 1. lint -----------------------------------------------------------------------------------------------------

log "Dockerfile"
known='^(FROM|RUN|CMD|LABEL|EXPOSE|ENV|ADD|COPY|ENTRYPOINT|VOLUME|USER|WORKDIR|ARG|ONBUILD|STOPSIGNAL|HEALTHCHECK|SHELL)( |$)'
continued=false
line_no=0
while IFS= read -r line || [ -n "$line" ]; do
    line_no=$((line_no + 1))
    trimmed="${line#"${line%%[![:space:]]*}"}"
    if ! $continued && [ -n "$trimmed" ] && [ "${trimmed:0:1}" != "#" ]; then
        [[ "$trimmed" =~ $known ]] || fail "Dockerfile:$line_no is not an instruction: $trimmed"
    fi
    if [ "${line: -1}" = "\\" ]; then continued=true; else continued=false; fi
done < Dockerfile
$continued && fail "Dockerfile ends in a line continuation"
ok "every line is an instruction, a continuation or a comment"

require() { # require PATTERN WHAT
    grep -Eq "$1" Dockerfile || fail "Dockerfile: $2"
    ok "$2"
}
[ "$(grep -Ec '^FROM ' Dockerfile)" -ge 2 ] || fail "Dockerfile: expected a multi-stage build"
ok "multi-stage build"
require '^FROM debian:bookworm-slim' "a small runtime image (debian:bookworm-slim)"
require "^USER ${RUNTIME_USER}(:${RUNTIME_USER})?$" "runs as the non-root user ${RUNTIME_USER}"
require '^EXPOSE 8000$' "exposes port 8000"
require 'AUTH_SERVER_HOST=0\.0\.0\.0' "binds 0.0.0.0 inside the container"
require '^HEALTHCHECK .*CMD \["warden-healthcheck"\]' "has a health check"
require '^ENTRYPOINT \["warden"\]' "exec-form entrypoint (warden is PID 1 and gets SIGTERM)"
[ "$(grep -cF "$BUILD_COMMAND" Dockerfile)" -eq 2 ] \
    || fail "Dockerfile: expected \`$BUILD_COMMAND\` in the dependency layer and the final build"
ok "builds with \`$BUILD_COMMAND\`"

image_rust=$(sed -n 's/^ARG RUST_VERSION=//p' Dockerfile)
local_rust=$(rustc --version | awk '{print $2}')
case "$local_rust" in
    "$image_rust"|"$image_rust".*) ok "image toolchain $image_rust matches local rustc $local_rust" ;;
    *) echo "   note: the image builds with Rust $image_rust, this machine has $local_rust" ;;
esac

log "paths the Dockerfile copies from the build context"
ignored() { # ignored PATH: whether .dockerignore leaves PATH out of the context
    local pattern
    while IFS= read -r pattern; do
        case "$pattern" in ''|'#'*|'!'*) continue ;; esac
        pattern="${pattern%/}"
        case "$1" in "$pattern"|"$pattern"/*) return 0 ;; esac
    done < .dockerignore
    return 1
}
grep -E '^COPY ' Dockerfile | grep -v -- '--from=' | while read -r _ rest; do
    read -r -a parts <<< "$rest"
    for source in "${parts[@]:0:${#parts[@]}-1}"; do
        [ -e "$source" ] || fail "COPY source \`$source\` does not exist"
        ! ignored "$source" || fail "COPY source \`$source\` is excluded by .dockerignore"
        ok "$source"
    done
done
grep -Eq '^COPY --from=builder /usr/local/bin/warden ' Dockerfile \
    && grep -Fq 'cp target/release/warden /usr/local/bin/warden' Dockerfile \
    || fail "the runtime stage must copy the binary the builder put in /usr/local/bin/warden"
ok "builder's /usr/local/bin/warden (from target/release/warden)"

log "docker-compose.yml"
if python3 -c 'import yaml' 2>/dev/null; then
    python3 - <<'PY' || fail "docker-compose.yml does not describe Warden + PostgreSQL as expected"
import sys, yaml
doc = yaml.safe_load(open("docker-compose.yml"))
services = doc["services"]
pg, warden = services["postgres"], services["warden"]
checks = {
    "postgres is PostgreSQL 16": str(pg["image"]).startswith("postgres:16"),
    "postgres keeps its data in a named volume": any(
        str(v).split(":")[0] in (doc.get("volumes") or {}) for v in pg.get("volumes", [])),
    "postgres has a health check": "test" in pg.get("healthcheck", {}),
    "warden is built from this Dockerfile": warden.get("build") in (".", {"context": "."}),
    "warden waits for a healthy postgres":
        warden.get("depends_on", {}).get("postgres", {}).get("condition") == "service_healthy",
    "warden's database URL points at postgres":
        str(warden["environment"]["AUTH_DATABASE_URL"]).startswith("postgres://")
        and "@postgres:5432/" in str(warden["environment"]["AUTH_DATABASE_URL"]),
    "warden has a health check": "test" in warden.get("healthcheck", {}),
    "the password is not written in the file": "${POSTGRES_PASSWORD" in open("docker-compose.yml").read()
        and "${POSTGRES_PASSWORD" in str(pg["environment"]["POSTGRES_PASSWORD"]),
}
for what, passed in checks.items():
    print(("   ok  " if passed else "   FAILED  ") + what)
sys.exit(0 if all(checks.values()) else 1)
PY
else
    for pattern in '^services:' '^  postgres:' '^  warden:' 'image: postgres:16' 'condition: service_healthy' \
        'AUTH_DATABASE_URL: postgres://' 'healthcheck:' '^volumes:'; do
        grep -Eq "$pattern" docker-compose.yml || fail "docker-compose.yml lacks \`$pattern\`"
    done
    grep -q $'\t' docker-compose.yml && fail "docker-compose.yml contains tabs"
    ok "grep-based check (PyYAML is not installed)"
fi
for var in $(grep -o '\${[A-Z_]*' docker-compose.yml | tr -d '${' | sort -u); do
    grep -Eq "^#? ?$var=" .env.example || fail "docker-compose.yml uses \${$var}, which .env.example does not list"
done
ok "every variable docker-compose.yml uses is in .env.example"

log ".env.example"
# The first column of the table in docs/configuration.md (tests/config_docs.rs checks it against the code).
for var in $(grep -o '^| `[A-Z][A-Z0-9_]*`' docs/configuration.md | tr -d '|` ' | sort -u); do
    grep -Eq "^#? ?$var=" .env.example || fail ".env.example lacks $var (in docs/configuration.md's table)"
done
ok "lists every variable of docs/configuration.md's table"

$LINT_ONLY && { log "lint passed"; exit 0; }

# --- 2. build ----------------------------------------------------------------------------------------------------

log "build: $BUILD_COMMAND"
$BUILD_COMMAND
BINARY="${CARGO_TARGET_DIR:-$REPO/target}/release/warden"
[ -x "$BINARY" ] || fail "no binary at $BINARY"
ok "$BINARY"

# --- 3. runtime --------------------------------------------------------------------------------------------------

log "runtime as the non-root user $RUNTIME_USER"
[ "$(id -u)" -eq 0 ] || fail "this step needs root (to create the user $RUNTIME_USER and switch to it)"
ROOT=$(mktemp -d)
CREATED_USER=false
SERVER_PID=
cleanup() {
    local status=$?
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if $CREATED_USER; then
        userdel "$RUNTIME_USER" || echo "could not remove the throwaway user $RUNTIME_USER" >&2
    fi
    rm -rf "$ROOT"
    exit "$status"
}
trap cleanup EXIT INT TERM

chmod 755 "$ROOT"
HOME_DIR="$ROOT/var/lib/warden"
if ! id "$RUNTIME_USER" >/dev/null 2>&1; then
    useradd --system --user-group --no-create-home --home-dir "$HOME_DIR" --shell /usr/sbin/nologin "$RUNTIME_USER"
    CREATED_USER=true
    ok "created the throwaway user $RUNTIME_USER"
fi
[ "$(id -u "$RUNTIME_USER")" -ne 0 ] || fail "$RUNTIME_USER is root"
install -d -m 755 "$ROOT/usr/local/bin"
install -m 755 "$BINARY" "$ROOT/usr/local/bin/warden"
install -m 755 docker/healthcheck.sh "$ROOT/usr/local/bin/warden-healthcheck"
install -d -m 750 -o "$RUNTIME_USER" -g "$(id -gn "$RUNTIME_USER")" "$HOME_DIR"

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null \
    || echo $((20000 + RANDOM % 20000)))
# As the image runs it: its user, working directory and ENV lines, and nothing else from this shell. A command
# array rather than a function, so that a backgrounded `"${AS_WARDEN[@]}" warden serve &` gives warden's own pid.
AS_WARDEN=(setpriv --reuid="$RUNTIME_USER" --regid="$(id -gn "$RUNTIME_USER")" --init-groups --
    env -i -C "$HOME_DIR" PATH="$ROOT/usr/local/bin:/usr/bin:/bin" HOME="$HOME_DIR"
    AUTH_SERVER_HOST=0.0.0.0 AUTH_SERVER_PORT="$PORT" AUTH_SQLITE_PATH="$HOME_DIR/auth.sqlite3"
    AUTH_LOG_FORMAT=json)
as_warden() { "${AS_WARDEN[@]}" "$@"; }

help=$(as_warden warden --help) || fail "warden --help failed"
for command in serve migrate check-config; do
    grep -q "$command" <<< "$help" || fail "warden --help does not list $command"
done
ok "warden --help lists serve, migrate, check-config"

config=$(as_warden warden check-config) || fail "warden check-config failed: $config"
grep -q '0.0.0.0' <<< "$config" || fail "check-config does not show host 0.0.0.0: $config"
ok "warden check-config accepts the image's environment"

"${AS_WARDEN[@]}" warden serve > "$ROOT/server.log" 2>&1 &
SERVER_PID=$!
healthy=false
for _ in $(seq 1 50); do
    if as_warden warden-healthcheck 2>/dev/null; then healthy=true; break; fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.2
done
$healthy || { cat "$ROOT/server.log" >&2; fail "the health check never passed"; }
ok "warden serve is up and warden-healthcheck passes"
[ "$(ps -o user= -p "$SERVER_PID" | tr -d ' ')" = "$RUNTIME_USER" ] || fail "the server does not run as $RUNTIME_USER"
ok "the server runs as $RUNTIME_USER"
[ "$(stat -c %U "$HOME_DIR/auth.sqlite3")" = "$RUNTIME_USER" ] || fail "the SQLite file is not owned by $RUNTIME_USER"
ok "the SQLite database was created in the user's home"

kill -TERM "$SERVER_PID"
if wait "$SERVER_PID"; then ok "SIGTERM stops it cleanly (exit 0)"; else fail "warden exited with $? after SIGTERM"; fi
SERVER_PID=
if as_warden warden-healthcheck 2>/dev/null; then fail "the health check passes with the server stopped"; fi
ok "the health check fails once the server is gone"

log "the Dockerfile's build and runtime steps work outside Docker"
