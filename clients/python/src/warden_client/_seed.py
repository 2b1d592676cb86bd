"""I/O-free pieces of the seed-compatible layer: the seed's answer shapes (auth 3.7.1) built from Warden's.

The seed's server answered some routes with its envelope (``{"success", "code", "message", "data",
"timestamp"}``) and others with a bare ``{"result": …}``; its client returned the decoded body as it came. The
helpers here rebuild exactly those bodies.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional

from ._core import JSON
from ._errors import RefusedError, WardenError


def timestamp(source: Optional[JSON] = None) -> str:
    """The seed's timestamp format (naive UTC ISO 8601, no ``Z``): Warden's own when there is one, else now."""
    value = source.get("timestamp") if source else None
    if isinstance(value, str) and value:
        return value[:-1] if value.endswith("Z") else value
    return datetime.now(timezone.utc).replace(tzinfo=None).isoformat()


def envelope(data: Any, message: str, source: Optional[JSON] = None) -> JSON:
    """The seed's success envelope (``APIResponse.success``)."""
    return {"success": True, "code": 200, "message": message, "data": data, "timestamp": timestamp(source)}


def result(value: Any) -> JSON:
    """The seed's bare ``{"result": value}`` answer."""
    return {"result": value}


def role_missing(exc: WardenError, role: str) -> bool:
    """Warden's 404 for a role that does not exist (the seed answered those calls 200 with a false/empty value)."""
    return isinstance(exc, RefusedError) and exc.status == 404 and exc.error == f"role `{role}` not found"


#: The seed's ``reason`` for a negative answer (and a refused membership) under strict users: the user holds no
#: active, unexpired API key.
NOT_KEY_BACKED = "user_not_key_backed"


def not_key_backed(exc: WardenError) -> bool:
    """Warden's 409 for a membership refused under strict users (the seed answered it 409 as well)."""
    return isinstance(exc, RefusedError) and exc.status == 409 and exc.reason == NOT_KEY_BACKED


def strict_refusal(exc: WardenError, user: str) -> RefusedError:
    """The seed's ``AuthRefused`` for a membership refused under strict users: status 409 and ``payload`` the
    seed's body ``{"result": False, "reason": "user_not_key_backed", "hint"}`` (its hint word for word); Warden's
    own answer stays readable as the exception's ``__cause__``."""
    body: JSON = {"result": False, "reason": NOT_KEY_BACKED, "hint": strict_users_hint(user)}
    return RefusedError(
        "auth refused the request: HTTP 409", 409, body,
        code=409, error=exc.error, route=exc.route, reason=NOT_KEY_BACKED,
    )


def with_reason(data: JSON, source: Any) -> JSON:
    """``data`` with the ``reason`` of Warden's answer ``source`` added when it has one (only on a negative
    answer under strict users, as the seed)."""
    reason = source.get("reason") if isinstance(source, dict) else None
    return {**data, "reason": reason} if isinstance(reason, str) and reason else data


def live_key(key: Any, now: datetime) -> bool:
    """An API key of Warden's listing that backs its user under strict users: not revoked and not expired."""
    if not isinstance(key, dict) or key.get("is_active") is not True:
        return False
    expires = key.get("expires_at")
    if not isinstance(expires, str) or not expires:
        return True
    try:
        when = datetime.fromisoformat(expires[:-1] + "+00:00" if expires.endswith("Z") else expires)
    except ValueError:
        return True  # an expiry we cannot read: let the server's answers decide
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when > now


def naive(value: Any) -> Any:
    """A Warden RFC 3339 UTC time (``…Z``) in the seed's format (naive UTC ISO 8601, no ``Z``); others as given."""
    if isinstance(value, str) and value.endswith("Z"):
        return value[:-1]
    return value


#: The per-user API keys' time fields, which the seed answered as naive UTC ISO 8601.
API_KEY_TIMES = ("created", "expires_at", "revoked_at", "last_used_at")


def api_key_data(data: Any) -> Any:
    """An API-key answer's ``data`` (a key, a listing ``{"count", "keys"}``, a validity) with its times in the
    seed's format; every other field as Warden answered it (the seed's names and shapes)."""
    if not isinstance(data, dict):
        return data
    out = {k: naive(v) if k in API_KEY_TIMES else v for k, v in data.items()}
    if isinstance(out.get("keys"), list):
        out["keys"] = [api_key_data(key) for key in out["keys"]]
    return out


def name_of(item: Any, key: str) -> str:
    return str(item[key]) if isinstance(item, dict) else str(item)


# The seed's messages, word for word.
def has_membership_message(user: str, group: str) -> str:
    return f"Membership check for user '{user}' and group '{group}' completed"


def user_has_permission_message(user: str, name: str) -> str:
    return f"Permission check for user '{user}' and permission '{name}' completed"


def user_permissions_message(user: str) -> str:
    return f"Retrieved permissions for user '{user}'"


def role_permissions_message(role: str) -> str:
    return f"Retrieved permissions for role '{role}'"


def delete_role_message(role: str) -> str:
    return f"Role '{role}' deletion completed"


def workflow_users_message(workflow_name: str) -> str:
    return f"Retrieved users who can run workflow '{workflow_name}'"


def workflow_permission_message(user: str, workflow_name: str) -> str:
    return f"Workflow permission check for user '{user}' and workflow '{workflow_name}' completed"


def strict_users_hint(user: str) -> str:
    return (
        f"strict_users is enabled and user '{user}' has no API key. Either create one with "
        f"POST /api/apikeys/user/{user}, or opt this namespace out with PUT /api/settings "
        '{"strict_users": false}.'
    )


def api_key_created_message(user: str) -> str:
    return f"API key created for user '{user}'. The api_key value is shown only once \u2014 store it now."


def api_keys_message(user: str) -> str:
    return f"API keys for user '{user}'"


def api_key_revoked_message(user: str, key_id: str) -> str:
    return f"API key {key_id} revoked for user '{user}'"


def api_key_expiry_message(user: str, key_id: str) -> str:
    return f"API key {key_id} expiry set for user '{user}'"


API_KEY_VALIDATION_MESSAGE = "API key validation completed"
API_KEY_PERMISSION_MESSAGE = "API-key permission check completed"
SETTINGS_MESSAGE = "Tenant settings"
SETTINGS_UPDATED_MESSAGE = "Tenant settings updated"
PONG: JSON = {"message": "PONG"}
