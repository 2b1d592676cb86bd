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
