"""The sync seed-compatible client. GENERATED from ``_async_seed.py`` by ``tools/unasync.py``: do not edit."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional

from . import _core, _seed
from ._sync_client import WardenClient, Moment, _Base
from ._core import JSON, drop_none, iso
from ._errors import RefusedError


class EnhancedAuthClient(_Base):
    """Drop-in for the seed's ``auth.client.EnhancedAuthClient`` (auth 3.7.1): the seed's method names and
    arguments, and for each of them the body the seed's method returned for the same call — its envelope
    (``resp["data"]["has_permission"]``) or its bare ``{"result": …}`` — rebuilt from Warden's answers. Errors
    raise like the seed's: ``AuthRefused`` (``.status``, ``.payload``) for a refusal, ``AuthTransportError`` for
    anything else.

    The methods that are not the seed's (users, access checks, sessions, JWT, audit, …) are Warden's and return
    ``data``; :attr:`warden` is the same client with Warden's answers for the seed-named methods too.
    """

    @property
    def warden(self) -> WardenClient:
        """This client answering with Warden's ``data`` (same connections, key and revisions; closing it closes
        nothing; a key it rotates is not seen by this client)."""
        return self._view(WardenClient)

    # ------------------------------------------------------------------ health

    def ping(self) -> JSON:
        """``GET /ping``: ``{"message": "PONG"}``."""
        self._send("GET", "/ping", auth=False)
        return dict(_seed.PONG)

    # ------------------------------------------------------------------ roles

    def create_role(self, role: str, description: Optional[str] = None) -> JSON:
        """``POST /api/role/{role}``: ``{"result": True}`` (also when it existed)."""
        body = {"description": description} if description is not None else None
        self._write("POST", "/api/role/{role}", role, json=body, idempotent=True)
        return _seed.result(True)

    def delete_role(self, role: str) -> JSON:
        """``DELETE /api/role/{role}``: envelope, ``data: {"result": bool}`` (``False``: there was no such role)."""
        route = "/api/role/{role}"
        answer = self._send("DELETE", route, role)
        removed = _core.flag(_core.data_of(answer), "removed", route)
        self._revisions.saw(_core.data_of(answer))
        return _seed.envelope(_seed.result(removed), _seed.delete_role_message(role), answer)

    def list_roles(self) -> JSON:
        """``GET /api/roles`` (every page): ``{"result": [{"role", "description"}]}``."""
        roles = self._listing("/api/roles")
        return _seed.result([{"role": r["role"], "description": r.get("description")} for r in roles])

    # ------------------------------------------------------------------ permissions of roles

    def add_permission(self, group: str, name: str) -> JSON:
        """``POST /api/permission/{role}/{name}``: ``{"result": True}``; ``{"result": False}`` for a missing role."""
        try:
            self._write("POST", "/api/permission/{role}/{name}", group, name, idempotent=True)
        except RefusedError as exc:
            if _seed.role_missing(exc, group):
                return _seed.result(False)
            raise
        return _seed.result(True)

    def remove_permission(self, group: str, name: str) -> JSON:
        """``DELETE /api/permission/{role}/{name}``: ``{"result": True}`` (also when nothing was granted)."""
        try:
            self._write("DELETE", "/api/permission/{role}/{name}", group, name)
        except RefusedError as exc:
            if not _seed.role_missing(exc, group):
                raise
        return _seed.result(True)

    def has_permission(self, group: str, name: str) -> JSON:
        """``GET /api/permission/{role}/{name}``: ``{"result": bool}`` (``False`` for a missing role)."""
        route = "/api/permission/{role}/{name}"
        try:
            data = self._data("GET", route, group, name, rbac_read=True)
        except RefusedError as exc:
            if _seed.role_missing(exc, group):
                return _seed.result(False)
            raise
        return _seed.result(_core.flag(data, "has_permission", route))

    def get_role_permissions(self, role: str) -> JSON:
        """``GET /api/role_permissions/{role}`` (every page): envelope, ``data: [{"name"}]`` (``[]`` for a
        missing role)."""
        try:
            names = self._listing("/api/role_permissions/{role}", role)
        except RefusedError as exc:
            if not _seed.role_missing(exc, role):
                raise
            names = []
        return _seed.envelope([{"name": _seed.name_of(p, "name")} for p in names],
                              _seed.role_permissions_message(role))

    def which_roles_can(self, name: str) -> JSON:
        """``GET /api/which_roles_can/{name}`` (every page): ``{"result": [{"role"}]}``."""
        roles = self._listing("/api/which_roles_can/{name}", name)
        return _seed.result([{"role": _seed.name_of(r, "role")} for r in roles])

    # ------------------------------------------------------------------ memberships

    def add_membership(self, user: str, group: str) -> JSON:
        """``POST /api/membership/{user}/{role}``: ``{"result": True}``; ``{"result": False}`` for a missing role.
        Under strict users, a user without an active API key raises ``AuthRefused`` with status 409 and the seed's
        ``payload`` ``{"result": False, "reason": "user_not_key_backed", "hint"}`` (also for a missing role, as the
        seed); ``.reason`` is ``"user_not_key_backed"``."""
        try:
            self._write("POST", "/api/membership/{user}/{role}", user, group, idempotent=True)
        except RefusedError as exc:
            if _seed.role_missing(exc, group):
                return _seed.result(False)
            if _seed.not_key_backed(exc):
                raise _seed.strict_refusal(exc, user) from exc
            raise
        return _seed.result(True)

    def remove_membership(self, user: str, group: str) -> JSON:
        """``DELETE /api/membership/{user}/{role}``: ``{"result": True}`` (also when there was no membership)."""
        try:
            self._write("DELETE", "/api/membership/{user}/{role}", user, group)
        except RefusedError as exc:
            if not _seed.role_missing(exc, group):
                raise
        return _seed.result(True)

    def has_membership(self, user: str, group: str) -> JSON:
        """``GET /api/membership/{user}/{role}``: envelope, ``data: {"has_permission": bool}`` (the seed's key;
        ``False`` for a missing role), plus ``reason: "user_not_key_backed"`` when strict users made it ``False``,
        as the seed answered."""
        route = "/api/membership/{user}/{role}"
        message = _seed.has_membership_message(user, group)
        try:
            answer = self._send("GET", route, user, group, rbac_read=True)
        except RefusedError as exc:
            if _seed.role_missing(exc, group):
                return _seed.envelope({"has_permission": False}, message)
            raise
        data = _core.data_of(answer)
        member = _core.flag(data, "is_member", route)
        body: dict[str, Any] = {"has_permission": member}
        if isinstance(data, dict) and data.get("reason"):
            body["reason"] = data["reason"]
        return _seed.envelope(body, message, answer)

    def get_user_roles(self, user: str) -> JSON:
        """``GET /api/user_roles/{user}`` (every page): ``{"result": [{"user", "role"}]}``."""
        roles = self._listing("/api/user_roles/{user}", user)
        return _seed.result([{"user": user, "role": _seed.name_of(r, "role")} for r in roles])

    def get_role_members(self, role: str) -> JSON:
        """``GET /api/members/{role}`` (every page): ``{"result": [{"user", "role"}]}`` (``[]`` for a missing
        role)."""
        return _seed.result(self._members_of(role))

    def _members_of(self, role: str) -> list[JSON]:
        try:
            members = self._listing("/api/members/{role}", role)
        except RefusedError as exc:
            if _seed.role_missing(exc, role):
                return []
            raise
        return [{"user": _seed.name_of(m, "user"), "role": role} for m in members]

    def _pairs(self, name: str, users: list[Any]) -> list[JSON]:
        """The seed's ``which_users_can`` items: one ``{"user", "role"}`` per role granting ``name`` and member of
        it, kept to the ``users`` Warden answers hold the permission."""
        allowed = {_seed.name_of(u, "user") for u in users}
        if not allowed:
            return []
        pairs: list[JSON] = []
        for role in self._listing("/api/which_roles_can/{name}", name):
            pairs.extend(m for m in self._members_of(_seed.name_of(role, "role")) if m["user"] in allowed)
        return pairs

    # ------------------------------------------------------------------ users' permissions

    def user_has_permission(self, user: str, name: str) -> JSON:
        """``GET /api/has_permission/{user}/{name}``: envelope, ``data: {"has_permission": bool}``; under strict
        users, for a user without an active API key, ``data: {"has_permission": False, "reason":
        "user_not_key_backed"}``."""
        route = "/api/has_permission/{user}/{name}"
        answer = self._send("GET", route, user, name, rbac_read=True)
        data = _core.data_of(answer)
        allowed = _core.flag(data, "has_permission", route)
        return _seed.envelope(_seed.with_reason({"has_permission": allowed}, data),
                              _seed.user_has_permission_message(user, name), answer)

    def get_user_permissions(self, user: str) -> JSON:
        """``GET /api/user_permissions/{user}`` (every page): envelope, ``data: {"count", "permissions": [{"name"}]}``;
        under strict users, for a user without an active API key, ``data: {"count": 0, "permissions": [], "reason":
        "user_not_key_backed"}``. Warden answers that user an empty list without a reason, so an empty list is
        followed by ``GET /api/settings`` and, when strict users is on, ``GET /api/apikeys/user/{user}``."""
        names = self._listing("/api/user_permissions/{user}", user)
        permissions = [{"name": _seed.name_of(p, "name")} for p in names]
        data: JSON = {"count": len(permissions), "permissions": permissions}
        if not permissions and self._not_key_backed(user):
            data["reason"] = _seed.NOT_KEY_BACKED
        return _seed.envelope(data, _seed.user_permissions_message(user))

    def _not_key_backed(self, user: str) -> bool:
        """Strict users is on and ``user`` holds no active (unrevoked, unexpired) API key."""
        settings = _core.expect_dict(self._data("GET", "/api/settings"), "/api/settings")
        if settings.get("strict_users") is not True:
            return False
        route = "/api/apikeys/user/{user}"
        keys = _core.expect_list(self._data("GET", route, user), route)
        now = datetime.now(timezone.utc)
        return not any(_seed.live_key(key, now) for key in keys)

    def which_users_can(self, name: str) -> JSON:
        """``GET /api/which_users_can/{name}``, ``/api/which_roles_can/{name}`` and ``/api/members/{role}`` (every
        page): ``{"result": [{"user", "role"}]}``, one item per role that grants it and member of that role."""
        users = self._listing("/api/which_users_can/{name}", name)
        return _seed.result(self._pairs(name, users))

    # ------------------------------------------------------------------ workflows

    def get_users_for_workflow(self, workflow_name: str) -> JSON:
        """``GET /api/workflow/users/{workflow}`` with the roles as for :meth:`which_users_can`: envelope,
        ``data: {"count", "members": [{"user", "role"}]}``."""
        users = self._listing("/api/workflow/users/{workflow}", workflow_name)
        members = self._pairs(workflow_name, users)
        return _seed.envelope({"count": len(members), "members": members},
                              _seed.workflow_users_message(workflow_name))

    def check_user_workflow_permission(self, user: str, workflow_name: str) -> JSON:
        """``GET /api/workflow/user/{user}/can_run/{workflow}``: envelope, ``data: {"has_permission": bool}``; under
        strict users, for a user without an active API key, ``data: {"has_permission": False, "reason":
        "user_not_key_backed"}``."""
        route = "/api/workflow/user/{user}/can_run/{workflow}"
        answer = self._send("GET", route, user, workflow_name, rbac_read=True)
        data = _core.data_of(answer)
        allowed = _core.flag(data, "has_permission", route)
        return _seed.envelope(_seed.with_reason({"has_permission": allowed}, data),
                              _seed.workflow_permission_message(user, workflow_name), answer)

    # ------------------------------------------------------------------ client key

    def rotate_key(self) -> JSON:
        """``POST /api/keys/rotate``: the answer as it comes (``data.new_key``); this client switches to the new
        key. Never retried."""
        answer = self._send("POST", "/api/keys/rotate")
        data = _core.data_of(answer)
        new_key = data.get("new_key") if isinstance(data, dict) else None
        if isinstance(new_key, str) and new_key:
            self._api_key = new_key
        return answer

    # ------------------------------------------------------------------ per-user API keys

    def create_api_key(
        self, user: str, label: Optional[str] = None, expires_at: Optional[Moment] = None
    ) -> JSON:
        """``POST /api/apikeys/user/{user}``: envelope, ``data: {"api_key", "key_id", "user", "label",
        "key_prefix", "created", "expires_at"}``; ``data.api_key`` is shown only once. Never retried. More than 25
        active keys raises ``AuthRefused`` 409 (the seed answered 400)."""
        body = drop_none({"label": label, "expires_at": iso(expires_at) if expires_at is not None else None})
        answer = self._send("POST", "/api/apikeys/user/{user}", user, json=body or None)
        return self._api_key_answer(answer, _seed.api_key_created_message(user))

    def set_api_key_expiry(self, user: str, key_id: str, expires_at: Moment) -> JSON:
        """``PATCH /api/apikeys/user/{user}/{key_id}`` (only earlier): envelope, ``data``: the key's metadata."""
        answer = self._send(
            "PATCH", "/api/apikeys/user/{user}/{key_id}", user, key_id,
            json={"expires_at": iso(expires_at)}, idempotent=True,
        )
        return self._api_key_answer(answer, _seed.api_key_expiry_message(user, key_id))

    def list_api_keys(self, user: str) -> JSON:
        """``GET /api/apikeys/user/{user}``: envelope, ``data: {"count", "keys": [{"key_id", "key_prefix",
        "label", "is_active", "created", "revoked_at", "expires_at", "last_used_at"}]}`` (metadata only)."""
        answer = self._send("GET", "/api/apikeys/user/{user}", user)
        return self._api_key_answer(answer, _seed.api_keys_message(user))

    def revoke_api_key(self, user: str, key_id: str) -> JSON:
        """``DELETE /api/apikeys/user/{user}/{key_id}``: envelope, ``data: {"revoked", "already_revoked"}``."""
        answer = self._send("DELETE", "/api/apikeys/user/{user}/{key_id}", user, key_id)
        return self._api_key_answer(answer, _seed.api_key_revoked_message(user, key_id))

    def validate_api_key(self, api_key: str) -> JSON:
        """``POST /api/apikeys/validate``: envelope, ``data: {"valid": True, "user", "key_id", "label",
        "expires_at"}`` or ``{"valid": False, "reason"}``. The secret travels in the body only."""
        answer = self._send("POST", "/api/apikeys/validate", json={"api_key": api_key}, idempotent=True)
        return self._api_key_answer(answer, _seed.API_KEY_VALIDATION_MESSAGE)

    def check_api_key_permission(self, api_key: str, permission: str) -> JSON:
        """``POST /api/apikeys/check_permission``: envelope, ``data: {"valid": True, "user", "key_id",
        "has_permission"}`` or, for a key that is not valid, as :meth:`validate_api_key`."""
        answer = self._send(
            "POST", "/api/apikeys/check_permission",
            json={"api_key": api_key, "permission": permission}, idempotent=True,
        )
        return self._api_key_answer(answer, _seed.API_KEY_PERMISSION_MESSAGE)

    @staticmethod
    def _api_key_answer(answer: JSON, message: str) -> JSON:
        """The seed's envelope around Warden's ``data`` (same fields; times in the seed's format)."""
        return _seed.envelope(_seed.api_key_data(_core.data_of(answer)), message, answer)

    # ------------------------------------------------------------------ settings

    def get_settings(self) -> JSON:
        """``GET /api/settings``: envelope, ``data: {"strict_users": bool}`` (the seed's setting, ``False`` unless
        turned on) plus Warden's other settings (``jwt_audience``, ``jwt_audience_is_default``,
        ``auto_register_users``, ``require_activation``)."""
        route = "/api/settings"
        answer = self._send("GET", route)
        data = _core.expect_dict(_core.data_of(answer), route)
        strict = _core.flag(data, "strict_users", route)
        return _seed.envelope({**data, "strict_users": strict}, _seed.SETTINGS_MESSAGE, answer)

    def set_strict_users(self, enabled: bool) -> JSON:
        """``PUT /api/settings`` ``{"strict_users": enabled}``: envelope, ``data: {"strict_users": bool}`` (the
        setting as saved). While on, decisions about a user without an active API key are negative with ``reason:
        "user_not_key_backed"`` and adding such a user to a role raises ``AuthRefused`` 409: create keys first."""
        route = "/api/settings"
        answer = self._send("PUT", route, json={"strict_users": enabled})
        strict = _core.flag(_core.data_of(answer), "strict_users", route)
        return _seed.envelope({"strict_users": strict}, _seed.SETTINGS_UPDATED_MESSAGE, answer)
