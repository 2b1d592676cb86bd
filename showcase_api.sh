#!/usr/bin/env bash
# Walks through every Warden endpoint with curl, printing each request and answer, and stops with a non-zero exit
# at the first answer whose status (or checked `data`) is not the documented one.
#
#   ./showcase_api.sh                                   # against http://127.0.0.1:8000 with a fresh client key
#   SERVER_URL=http://localhost:9000 ./showcase_api.sh
#   CLIENT_KEY=<a UUID4> ./showcase_api.sh              # a given tenant; the run cleans up after itself
#
# Needs bash and curl. Checks of `data` use python3 when present, then jq, then a plain text comparison
# (SHOWCASE_CHECKER=python3|jq|text picks one).
#
# Adding a section: write a `section_<name>` function using `call` and `expect`, and add <name> to SECTIONS below.
set -euo pipefail

SERVER_URL="${SERVER_URL:-http://127.0.0.1:8000}"
SERVER_URL="${SERVER_URL%/}"

# The sections, in order. Each one leaves the tenant as the next one expects it.
SECTIONS=(health roles permissions memberships checks lookups hierarchy expiring resources bad_input deletes users access single_use_tokens sessions passwords api_keys
    strict_users client_keys jwt
    audit operations cleanup)

new_key() {
    if [ -r /proc/sys/kernel/random/uuid ]; then
        cat /proc/sys/kernel/random/uuid
    elif command -v python3 >/dev/null 2>&1; then
        python3 -c 'import uuid; print(uuid.uuid4())'
    elif command -v uuidgen >/dev/null 2>&1; then
        uuidgen | tr 'A-Z' 'a-z'
    else
        echo "showcase: cannot generate a client key; set CLIENT_KEY to a UUID4" >&2
        exit 2
    fi
}
CLIENT_KEY="${CLIENT_KEY:-$(new_key)}"

if [ -n "${SHOWCASE_CHECKER:-}" ]; then
    CHECKER="$SHOWCASE_CHECKER"
elif command -v python3 >/dev/null 2>&1; then
    CHECKER=python3
elif command -v jq >/dev/null 2>&1; then
    CHECKER=jq
else
    CHECKER=text
fi

if [ -t 1 ]; then BOLD=$'\e[1m'; RED=$'\e[31m'; GREEN=$'\e[32m'; RESET=$'\e[0m'; else BOLD=; RED=; GREEN=; RESET=; fi

BODY_FILE=$(mktemp)
trap 'rm -f "$BODY_FILE"' EXIT
STATUS=
BODY=
STEPS=0

fail() {
    printf '%sFAILED:%s %s\n' "$RED" "$RESET" "$*" >&2
    exit 1
}

section() { printf '\n%s## %s%s\n' "$BOLD" "$*" "$RESET"; }

# call [--key KEY | --no-key] [--header 'Name: value'] METHOD PATH EXPECTED_STATUS [BODY]
# Sends one request (with the client key unless told otherwise), prints it and the answer, and fails unless the
# status is EXPECTED_STATUS. Leaves the answer in $STATUS and $BODY.
call() {
    local key="$CLIENT_KEY" headers=()
    while [ $# -gt 0 ]; do
        case "$1" in
            --key) key="$2"; shift 2 ;;
            --no-key) key=; shift ;;
            --header) headers+=(-H "$2"); shift 2 ;;
            *) break ;;
        esac
    done
    local method="$1" path="$2" expected="$3" body="${4-}"
    local args=(-sS --max-time 10 -o "$BODY_FILE" -w '%{http_code}' -X "$method")
    [ -n "$key" ] && args+=(-H "Authorization: Bearer $key")
    if [ -n "$body" ]; then
        args+=(-H 'Content-Type: application/json' --data-binary "$body")
    fi
    args+=(${headers[@]+"${headers[@]}"})
    STEPS=$((STEPS + 1))
    printf '\n%s--> %s %s%s%s\n' "$BOLD" "$method" "$path" "${body:+  $body}" "$RESET"
    if ! STATUS=$(curl "${args[@]}" "$SERVER_URL$path"); then
        fail "cannot reach Warden at $SERVER_URL (is it running?)"
    fi
    BODY=$(cat "$BODY_FILE")
    if [ "${#BODY}" -gt 600 ]; then
        printf '<-- %s %s… (%d bytes)\n' "$STATUS" "${BODY:0:600}" "${#BODY}"
    else
        printf '<-- %s %s\n' "$STATUS" "$BODY"
    fi
    [ "$STATUS" = "$expected" ] || fail "$method $path answered $STATUS, expected $expected"
}

# expect FIELD JSON: the last answer's FIELD (a dotted path such as `data.created` or `data`) must equal JSON,
# written compactly in the server's field order (e.g. '[{"name":"edit_content"}]').
expect() {
    local field="$1" want="$2" verdict
    if [ "$CHECKER" = python3 ]; then
        verdict=$(python3 -c '
import json, sys
value = json.loads(sys.argv[1])
for part in sys.argv[2].split("."):
    value = value[int(part)] if isinstance(value, list) else value.get(part)
print("ok" if value == json.loads(sys.argv[3]) else json.dumps(value, separators=(",", ":")))
' "$BODY" "$field" "$want")
    elif [ "$CHECKER" = jq ]; then
        local got
        got=$(printf '%s' "$BODY" | jq -c ".$field")
        if [ "$got" = "$(printf '%s' "$want" | jq -c .)" ]; then verdict=ok; else verdict="$got"; fi
    else
        # The server writes compact JSON, so the field appears verbatim as "name":value.
        case "$BODY" in
            *"\"${field##*.}\":$want"*) verdict=ok ;;
            *) verdict="(not found in the answer)" ;;
        esac
    fi
    [ "$verdict" = ok ] || fail "$field is $verdict, expected $want"
    printf '    %sok%s %s = %s\n' "$GREEN" "$RESET" "$field" "$want"
}

# value FIELD: prints the last answer's string FIELD (a dotted path, e.g. `data.token`), to use in later steps.
value() {
    local field="$1"
    if [ "$CHECKER" = python3 ]; then
        python3 -c '
import json, sys
value = json.loads(sys.argv[1])
for part in sys.argv[2].split("."):
    value = value[int(part)] if isinstance(value, list) else value.get(part)
print(value)
' "$BODY" "$field"
    elif [ "$CHECKER" = jq ]; then
        printf '%s' "$BODY" | jq -r ".$field"
    else
        printf '%s' "$BODY" | sed -n 's/.*"'"${field##*.}"'":"\([^"]*\)".*/\1/p'
    fi
}

# --- sections ----------------------------------------------------------------------------------------------------

section_health() {
    section "Health (no key needed)"
    call --no-key GET /ping 200
    expect data.status '"ok"'
    call --no-key GET /livez 200
    call --no-key GET /readyz 200
    expect data.status '"ok"'
    call --no-key GET /health 200
    expect status '"healthy"'
}

section_roles() {
    section "Roles"
    call POST /api/role/admin 200 '{"description": "Administrator role"}'
    expect data.created true
    call POST /api/role/editor 200 '{"description": "Content editor role"}'
    expect data.created true
    call POST /api/role/viewer 200 '{"description": "Read-only role"}'
    expect data.created true
    call POST /api/role/admin 200
    expect data.created false
    call GET /api/roles 200
    expect data '[{"role":"admin","description":"Administrator role"},{"role":"editor","description":"Content editor role"},{"role":"viewer","description":"Read-only role"}]'
}

section_permissions() {
    section "Permissions granted to roles"
    local grant
    for grant in admin/manage_users admin/edit_content admin/view_content editor/edit_content editor/view_content \
        viewer/view_content; do
        call POST "/api/permission/$grant" 200
        expect data.created true
    done
    call GET /api/permission/admin/manage_users 200
    expect data.has_permission true
    call GET /api/permission/viewer/edit_content 200
    expect data.has_permission false
    call GET /api/role_permissions/editor 200
    expect data '[{"name":"edit_content"},{"name":"view_content"}]'
}

section_memberships() {
    section "Users in roles"
    call POST /api/membership/alice@example.com/admin 200
    expect data.created true
    call POST /api/membership/bob@example.com/editor 200
    expect data.created true
    call POST /api/membership/charlie@example.com/viewer 200
    expect data.created true
    call GET /api/membership/bob@example.com/editor 200
    expect data.is_member true
    call GET /api/membership/bob@example.com/admin 200
    expect data.is_member false
    call GET /api/members/admin 200
    expect data '[{"user":"alice@example.com"}]'
}

section_checks() {
    section "Permission checks"
    call GET /api/has_permission/alice@example.com/manage_users 200
    expect data.has_permission true
    call GET /api/has_permission/bob@example.com/manage_users 200
    expect data.has_permission false
    call GET /api/has_permission/nobody@example.com/view_content 200
    expect data.has_permission false
    call GET /api/workflow/users/manage_users 200
    expect data '{"count":1,"members":["alice@example.com"]}'
    call GET /api/workflow/user/bob@example.com/can_run/manage_users 200
    expect data '{"has_permission":false}'
}

section_lookups() {
    section "Look-ups"
    call GET /api/user_permissions/alice@example.com 200
    expect data '[{"name":"edit_content"},{"name":"manage_users"},{"name":"view_content"}]'
    call GET /api/user_roles/bob@example.com 200
    expect data '[{"role":"editor","description":"Content editor role"}]'
    call GET /api/which_users_can/edit_content 200
    expect data '[{"user":"alice@example.com"},{"user":"bob@example.com"}]'
    call GET /api/which_roles_can/manage_users 200
    expect data '[{"role":"admin","description":"Administrator role"}]'
}

section_hierarchy() {
    section "Role hierarchy (a role inherits what others grant)"
    call POST /api/role/release_manager 200 '{"description": "Ships releases"}'
    call POST /api/permission/release_manager/deploy 200
    call POST /api/membership/erin@example.com/release_manager 200
    call POST /api/role/release_manager/inherits/editor 200
    expect data.created true
    call GET /api/has_permission/erin@example.com/edit_content 200
    expect data.has_permission true
    call GET /api/role/release_manager/inherits 200
    expect data '[{"role":"editor","description":"Content editor role"}]'
    call GET /api/role_permissions/release_manager 200
    expect data '[{"name":"deploy"}]'
    call GET '/api/role_permissions/release_manager?effective=true' 200
    expect data '[{"name":"deploy"},{"name":"edit_content"},{"name":"view_content"}]'
    call GET '/api/members/editor?effective=true' 200
    expect data '[{"user":"bob@example.com"},{"user":"erin@example.com"}]'
    call GET '/api/membership/erin@example.com/editor?effective=true' 200
    expect data.is_member true
    call GET '/api/has_permission/erin@example.com/view_content?explain=true' 200
    expect data.explanation.inheritance '["release_manager","editor"]'
    expect data.explanation.grant '{"role":"editor","permission":"view_content","pattern":false}'
    call POST '/api/permission/release_manager/releases:*' 200
    call GET /api/has_permission/erin@example.com/releases:tag 200
    expect data.has_permission true
    call GET '/api/has_permission/erin@example.com/releases:*' 400
    call POST /api/role/editor/inherits/release_manager 409
    expect reason '"inheritance_cycle"'
    call POST /api/role/release_manager/inherits/ghost 404
    call DELETE /api/role/release_manager/inherits/editor 200
    expect data.removed true
    call GET /api/has_permission/erin@example.com/edit_content 200
    expect data.has_permission false
    call DELETE /api/role/release_manager 200
    expect data.removed true
}

section_expiring() {
    section "Expiring memberships (granted until an instant, then removed)"
    call POST /api/membership/frank@example.com/viewer 200 '{"ttl_seconds": 3600}'
    expect data.created true
    call GET /api/has_permission/frank@example.com/view_content 200
    expect data.has_permission true
    call POST /api/membership/frank@example.com/viewer 400 '{"expires_at": "2001-01-01T00:00:00Z"}'
    call POST /api/membership/frank@example.com/viewer 200
    expect message '"membership expiry updated"'
    call DELETE /api/membership/frank@example.com/viewer 200
    expect data.removed true
}

section_resources() {
    section "Resources and scoped memberships (a role held at a folder reaches everything below it)"
    call PUT /api/resources/folder/7 200
    expect data.created true
    call PUT /api/resources/folder/8 200 '{"parent": "folder:7"}'
    call PUT /api/resources/document/42 200 '{"parent": "folder:8", "properties": {"owner": "gina@example.com"}}'
    call PUT /api/resources/document/43 200
    call GET /api/resources/document/42 200
    expect data.parent '"folder:8"'
    expect data.properties '{"owner":"gina@example.com"}'
    call GET /api/resources/document 200
    expect data '["document:42","document:43"]'
    call POST '/api/membership/gina@example.com/editor?resource=folder:7' 200
    expect data.created true
    call GET '/api/has_permission/gina@example.com/edit_content?resource=document:42' 200
    expect data.has_permission true
    call GET '/api/has_permission/gina@example.com/edit_content?resource=document:43' 200
    expect data.has_permission false
    call GET /api/has_permission/gina@example.com/edit_content 200
    expect data.has_permission false
    call GET '/api/has_permission/gina@example.com/edit_content?resource=document:42&explain=true' 200
    expect data.explanation.membership.scope '"folder:7"'
    call GET '/api/user_resources/gina@example.com/edit_content?type=document' 200
    expect data '["document:42"]'
    call GET '/api/which_users_can/edit_content?resource=document:42' 200
    expect data '[{"user":"alice@example.com"},{"user":"bob@example.com"},{"user":"gina@example.com"}]'
    call PUT /api/resources/folder/7 409 '{"parent": "document:42"}'
    expect reason '"resource_cycle"'
    call POST '/api/membership/gina@example.com/editor?resource=folder:404' 404
    expect reason '"resource_not_found"'
    call DELETE /api/resources/folder/8 409
    expect reason '"resource_has_children"'
    call DELETE '/api/membership/gina@example.com/editor?resource=folder:7' 200
    expect data.removed true
    call DELETE /api/resources/document/42 200
    call DELETE /api/resources/document/43 200
    call DELETE /api/resources/folder/8 200
    call DELETE /api/resources/folder/7 200
    expect data.removed true
}

section_bad_input() {
    section "Refusals (each answered in the error envelope)"
    call --no-key GET /api/roles 401
    expect success false
    call --key not-a-uuid GET /api/roles 401
    call --header 'Authorization: Basic dXNlcjpwYXNz' --no-key GET /api/roles 401
    call POST '/api/role/bad%20name' 400
    call POST /api/role/broken 400 '{"description": '
    call POST /api/role/broken 422 '{"description": 42}'
    call POST /api/permission/ghost/anything 404
    expect error '"role `ghost` not found"'
    call GET /api/members/ghost 404
    call GET /api/no_such_endpoint 404
    call PUT /api/roles 405
}

section_deletes() {
    section "Removals"
    call DELETE /api/permission/editor/edit_content 200
    expect data.removed true
    call DELETE /api/permission/editor/edit_content 200
    expect data.removed false
    call GET /api/which_users_can/edit_content 200
    expect data '[{"user":"alice@example.com"}]'
    call DELETE /api/membership/charlie@example.com/viewer 200
    expect data.removed true
    call GET /api/user_roles/charlie@example.com 200
    expect data '[]'
    call DELETE /api/role/viewer 200
    expect data.removed true
    call DELETE /api/role/viewer 200
    expect data.removed false
    call GET /api/which_roles_can/view_content 200
    expect data '[{"role":"admin","description":"Administrator role"},{"role":"editor","description":"Content editor role"}]'
}

section_users() {
    section "Users"
    call PUT /api/users/dave@example.com 200 '{"status": "allowed", "profile": {"team": "docs"}, "quotas": {"requests_per_hour": 100}}'
    expect data.user.status '"allowed"'
    call GET /api/users/dave@example.com 200
    expect data.user_id '"dave@example.com"'
    expect data.quotas.requests_per_hour 100
    call PUT /api/users/erin@example.com 200 '{"status": "denied"}'
    call GET '/api/users?status=denied' 200
    expect data.items.0.user_id '"erin@example.com"'
    call PUT /api/users/erin@example.com 400 '{"status": "Allowed"}'
    call DELETE /api/users/erin@example.com 200
    expect data.removed true
    call GET /api/users/erin@example.com 404
}

section_access() {
    section "Access checks"
    call POST /api/membership/dave@example.com/editor 200
    call POST /api/access/check 200 '{"user_id": "dave@example.com", "role_id": "editor", "chat_id": 42}'
    expect data.access '"allowed"'
    expect data.permissions '"allowed"'
    call POST /api/access/check 200 '{"user_id": "nobody@example.com"}'
    expect data.access '"denied"'
    call GET '/api/users/dave@example.com/requests?limit=5' 200
    expect data.items.0.chat_id '"42"'
    call POST /api/access/check 200 '{"user_id": "dave@example.com", "message_id": 7}'
    call GET '/api/users/dave@example.com/requests?order=asc&limit=1' 200
    expect data.items.0.chat_id '"42"'
    call GET /api/users/dave@example.com/requests/counters 200
    expect data '{"requests_per_hour":2,"requests_per_day":2}'
    call PUT /api/settings 200 '{"auto_register_users": true}'
    call POST /api/access/check 200 '{"user_id": 5550123}'
    expect data.access '"allowed"'
    call GET /api/users/5550123 200
    call PUT /api/settings 200 '{"auto_register_users": false}'
    call DELETE /api/users/5550123 200
}

section_single_use_tokens() {
    section "Single-use tokens"
    call POST /api/users/dave@example.com/tokens 200 '{"ttl_minutes": 5}'
    local token
    token=$(value data.token)
    call POST /api/tokens/validate 200 "{\"token\": \"$token\"}"
    expect data.user_id '"dave@example.com"'
    call POST /api/tokens/validate 401 "{\"token\": \"$token\"}"
    expect success false
    call POST /api/users/dave@example.com/tokens 200
    call DELETE /api/users/dave@example.com/tokens 200
    expect data.revoked 1
}

section_sessions() {
    section "Sessions"
    call POST /api/sessions 200 '{"user_id": "dave@example.com", "permissions": ["docs:read", "admin:*"], "ttl_seconds": 600}'
    expect data.user_id '"dave@example.com"'
    local id
    id=$(value data.session_id)
    call GET "/api/sessions/$id" 200
    expect data.permissions '["docs:read","admin:*"]'
    call POST "/api/sessions/$id/check" 200 '{"permissions": ["docs:read", "admin:users", "docs:delete"]}'
    expect data '{"docs:read":true,"admin:users":true,"docs:delete":false}'
    call PUT "/api/sessions/$id/ttl" 200 '{"ttl_seconds": 1200}'
    call GET /api/users/dave@example.com/sessions 200
    call DELETE "/api/sessions/$id" 200
    expect data.removed true
    call GET "/api/sessions/$id" 404
    call POST /api/sessions 400 '{"user_id": "dave@example.com", "permissions": []}'
    call POST /api/sessions 200 '{"user_id": "dave@example.com", "permissions": ["read"], "session_id": "session_123"}'
    call POST /api/sessions 409 '{"user_id": "dave@example.com", "permissions": ["read"], "session_id": "session_123"}'
    call GET /api/sessions/session_123 200
    local session_ref
    session_ref=$(value data.session_ref)
    call DELETE "/api/users/dave@example.com/sessions/$session_ref" 200
    call GET /api/sessions/session_123 404
}

section_passwords() {
    section "Password login"
    call PUT /api/users/dave@example.com/password 200 '{"password": "correct horse battery"}'
    expect data.password_set true
    call POST /api/users/dave@example.com/login 401 '{"password": "wrong"}'
    call POST /api/users/dave@example.com/login 200 '{"password": "correct horse battery"}'
    expect data.token_type '"Bearer"'
}

section_api_keys() {
    section "Per-user API keys"
    call POST /api/apikeys/user/dave@example.com 200 '{"label": "ci bot"}'
    expect data.user '"dave@example.com"'
    local api_key key_id
    api_key=$(value data.api_key)
    key_id=$(value data.key_id)
    call POST /api/apikeys/validate 200 "{\"api_key\": \"$api_key\"}"
    expect data.valid true
    call POST /api/apikeys/check_permission 200 "{\"api_key\": \"$api_key\", \"permission\": \"view_content\"}"
    expect data.has_permission true
    call GET /api/apikeys/user/dave@example.com 200
    expect data.count 1
    call DELETE "/api/apikeys/user/dave@example.com/$key_id" 200
    expect data.already_revoked false
    call POST /api/apikeys/validate 200 "{\"api_key\": \"$api_key\"}"
    expect data.reason '"revoked"'
}

section_strict_users() {
    section "Strict users (auth 3.7.1): only users holding an active API key pass checks or get roles"
    call PUT /api/settings 200 '{"strict_users": true}'
    expect data.strict_users true
    call GET /api/has_permission/dave@example.com/view_content 200
    expect data '{"has_permission":false,"reason":"user_not_key_backed"}'
    call POST /api/membership/erin@example.com/editor 409
    expect reason '"user_not_key_backed"'
    call POST /api/apikeys/user/erin@example.com 200
    local key_id
    key_id=$(value data.key_id)
    call POST /api/membership/erin@example.com/editor 200
    call GET /api/has_permission/erin@example.com/view_content 200
    expect data '{"has_permission":true}'
    call DELETE "/api/apikeys/user/erin@example.com/$key_id" 200
    call GET /api/has_permission/erin@example.com/view_content 200
    expect data '{"has_permission":false,"reason":"user_not_key_backed"}'
    call DELETE /api/membership/erin@example.com/editor 200
    call PUT /api/settings 200 '{"strict_users": false}'
    expect data.strict_users false
}

section_client_keys() {
    section "Client-key rotation and recovery (auth 3.7.1), on a scratch tenant so your key stays yours"
    local old new rotate_key recovered
    old=$(new_key)
    call --key "$old" POST /api/role/scratch 200
    # Rotation: the namespace answers to a fresh key from the commit on; the old key gets 401.
    call --key "$old" POST /api/keys/rotate 200
    expect data.migrated.roles 1
    new=$(value data.new_key)
    call --key "$old" GET /api/roles 401
    call --key "$new" GET /api/roles 200
    expect data '[{"role":"scratch","description":null}]'
    # Recovery: the recovery key is shown once; presented without a client key it moves the tenant again.
    call --key "$new" POST /api/keys/get_rotate_key 200
    rotate_key=$(value data.rotate_key)
    call --key "$new" POST /api/keys/get_rotate_key 409
    expect reason '"rotate_key_already_issued"'
    call --no-key POST /api/keys/recover 401 '{"rotate_key": "rrk_0000000000000000000000000000000000000000000"}'
    call --no-key POST /api/keys/recover 200 "{\"rotate_key\": \"$rotate_key\"}"
    recovered=$(value data.client_key)
    call --no-key POST /api/keys/recover 401 "{\"rotate_key\": \"$rotate_key\"}"
    call --key "$new" GET /api/roles 401
    call --key "$recovered" DELETE /api/role/scratch 200
}

section_jwt() {
    section "JWT access and refresh tokens"
    call POST /api/token/alice@example.com 200
    expect data.token_type '"Bearer"'
    local access refresh
    access=$(value data.access_token)
    refresh=$(value data.refresh_token)
    call POST /api/token/verify 200 "{\"token\": \"$access\"}"
    expect data.valid true
    expect data.claims.sub '"alice@example.com"'
    expect data.claims.aud "\"$(value data.claims.tid)\""
    call POST /api/token/refresh 200 "{\"refresh_token\": \"$refresh\"}"
    local rotated
    rotated=$(value data.refresh_token)
    # A retry of the same refresh within the grace (the answer was lost) gets the same pair, not a logout.
    call POST /api/token/refresh 200 "{\"refresh_token\": \"$refresh\"}"
    expect data.refresh_token "\"$rotated\""
    call POST /api/token/verify 401 '{"token": "not.a.jwt"}'
    call POST /api/token/ghost@example.com 404
    call GET /api/settings 200
    # Log alice out of every JWT: her refresh tokens and every access token issued so far stop working.
    call DELETE /api/users/alice@example.com/jwt 200
    call POST /api/token/verify 401 "{\"token\": \"$access\"}"
    call POST /api/token/refresh 401 "{\"refresh_token\": \"$rotated\"}"
    call --no-key GET /.well-known/jwks.json 200
}

section_audit() {
    section "Audit trail"
    call GET '/api/audit?limit=3' 200
    expect success true
}

section_operations() {
    section "Operations (no key needed)"
    call --no-key GET /openapi.json 200
    call --no-key GET /docs 200
    call --no-key GET /metrics 200
}

section_cleanup() {
    section "Clean-up (so the same key can run the showcase again)"
    call DELETE /api/role/admin 200
    call DELETE /api/role/editor 200
    call DELETE /api/users/dave@example.com 200
    expect data.removed true
    call GET /api/roles 200
    expect data '[]'
}

# --- main ----------------------------------------------------------------------------------------------------------

printf 'Warden showcase against %s (client key %s…)\n' "$SERVER_URL" "${CLIENT_KEY:0:8}"
for name in "${SECTIONS[@]}"; do
    "section_$name"
done
printf '\n%sAll %d steps answered as expected.%s\n' "$GREEN" "$STEPS" "$RESET"
