#!/usr/bin/env bash
# The peer for bench/run.sh: the Python `auth` 3.7.1 package (Flask + SQLAlchemy) in a virtualenv, served by
# gunicorn with 4 sync workers on SQLite with audit logging on, holding the small dataset created through its
# REST API, with the tenant's strict_users set to false through PUT /api/settings.
# Usage: bench/peer.sh WORK_DIR PORT CLIENT_KEY   (leaves gunicorn running; its pid is in WORK_DIR/peer.pid)
set -euo pipefail
WORK=$1 PORT=$2 KEY=$3
VENV=$WORK/peer-venv
exec 2> >(tee "$WORK/peer.err" >&2)
if [ ! -x "$VENV/bin/gunicorn" ] || ! "$VENV/bin/pip" show auth 2>/dev/null | grep -q '^Version: 3.7.1'; then
    echo "installing the peer: auth==3.7.1 and gunicorn into $VENV" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q auth==3.7.1 gunicorn
fi
rm -f "$WORK"/peer.sqlite3*
export AUTH_DATABASE_URL=sqlite:///$WORK/peer.sqlite3 AUTH_ENABLE_AUDIT_LOGGING=true \
    AUTH_AUDIT_PEPPER=bench-audit-pepper-0123456789 AUTH_JWT_SECRET_KEY=bench-jwt-secret-0123456789abcdef \
    AUTH_ENABLE_RATE_LIMIT=false AUTH_DEBUG_MODE=false
# Create the tables once, before the workers start (four workers racing to create them can fail).
(cd "$WORK" && "$VENV/bin/python" -c 'import auth.main' >/dev/null)
(cd "$WORK" && exec "$VENV/bin/gunicorn" -w 4 -k sync -b "127.0.0.1:$PORT" --log-level warning \
    --pid "$WORK/peer.pid" auth.main:app >"$WORK/peer.log" 2>&1) &
for _ in $(seq 1 300); do curl -fsS -o /dev/null "http://127.0.0.1:$PORT/ping" 2>/dev/null && break; sleep 0.1; done

call() { # METHOD PATH [BODY]
    curl -fsS -o /dev/null -X "$1" -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
        ${3:+--data "$3"} "http://127.0.0.1:$PORT$2"
}
# The same small dataset as bench/dataset.py: role r grants perm((3r + j) % 5), j < 3; user u is in role(u % 3).
call PUT /api/settings '{"strict_users": false}'
for r in 0 1 2; do
    call POST "/api/role/role$r"
    for j in 0 1 2; do call POST "/api/permission/role$r/perm$(((3 * r + j) % 5))"; done
done
for u in $(seq 0 9); do call POST "/api/membership/user$u/role$((u % 3))"; done
answer=$(curl -fsS -H "Authorization: Bearer $KEY" "http://127.0.0.1:$PORT/api/has_permission/user0/perm0")
echo "peer check user0/perm0: $answer" >&2
echo "$answer" | grep -q '"has_permission": *true' || { echo "the peer does not answer the dataset's checks" >&2; exit 1; }
