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


SETTINGS_MESSAGE = "Tenant settings"
SETTINGS_UPDATED_MESSAGE = "Tenant settings updated"
PONG: JSON = {"message": "PONG"}
