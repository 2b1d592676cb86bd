#!/usr/bin/env bash
# The container's health check: succeeds when GET /livez on this container's Warden answers 200.
# Plain bash (its /dev/tcp) and coreutils' timeout, so the runtime image needs no curl.
set -euo pipefail
port="${AUTH_SERVER_PORT:-8000}"
exec timeout 3 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf "GET /livez HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n" >&3
    IFS= read -r status <&3
    case "$status" in
        "HTTP/1."?" 200 "*) exit 0 ;;
        *) echo "livez answered: ${status%$'"'"'\r'"'"'}" >&2; exit 1 ;;
    esac
' healthcheck "$port"
