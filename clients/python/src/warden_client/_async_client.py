"""The async client. ``_sync_client.py`` is generated from this file by ``tools/unasync.py``: edit here."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any, Optional, TypeVar, Union

import httpx

from . import _core
from ._core import JSON, CircuitBreaker, Revisions, RetryPolicy, drop_none, iso, path
from ._errors import DecodeError, TransportError, WardenError

logger = logging.getLogger("warden_client")

Moment = Union[str, datetime]
_Client = TypeVar("_Client", bound="_AsyncBase")
_View = TypeVar("_View", bound="_AsyncBase")
#: The query flag that makes a structural RBAC read follow role inheritance.
_EFFECTIVE = {"effective": "true"}


class _AsyncBase:
    """What both clients share: connections, retries, circuit breaker, revisions, and the methods that are not
    the seed's (health probes, users, access checks, tokens, sessions, JWT, audit, settings, key recovery).
    Every failure raises a :class:`~warden_client.WardenError` subclass."""

    def __init__(
        self,
        api_key: str,
        service_url: str,
        max_retries: int = 3,
        pool_connections: int = 10,
        pool_maxsize: int = 64,
        timeout: float = 30,
        circuit_breaker_enabled: bool = True,
        raise_on_error: Optional[bool] = None,
        *,
        read_your_writes: bool = False,
        min_revision: Optional[int] = None,
        retry: Optional[RetryPolicy] = None,
        circuit_breaker: Optional[CircuitBreaker] = None,
        transport: Optional[httpx.AsyncBaseTransport] = None,
        http_client: Optional[httpx.AsyncClient] = None,
    ) -> None:
        """``api_key`` is the tenant's client key (a UUID4); ``service_url`` Warden's base URL.

        ``max_retries``, ``timeout`` and ``circuit_breaker_enabled`` mean what they meant in the seed;
        ``pool_maxsize`` bounds connections (``pool_connections`` is accepted for compatibility and sets the
        keep-alive pool), ``raise_on_error`` is accepted and ignored (errors always raise).
        ``read_your_writes``: remember the highest ``revision`` answered by this client's RBAC writes and send
        it as ``min_revision`` on RBAC reads. ``min_revision``: a fixed floor (see :meth:`at_least`).
        """
        self._api_key = api_key
        self.service_url = service_url.rstrip("/")
        self.timeout = timeout
        self.circuit_breaker_enabled = circuit_breaker_enabled
        self.retry = retry or RetryPolicy(max_retries=max_retries)
        self._breaker = circuit_breaker or CircuitBreaker()
        self._revisions = Revisions(min_revision, read_your_writes)
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(
            base_url=self.service_url,
            timeout=timeout,
            transport=transport,
            limits=httpx.Limits(max_connections=pool_maxsize, max_keepalive_connections=pool_connections),
        )

    # ------------------------------------------------------------------ plumbing

    @property
    def api_key(self) -> str:
        """The client key in use (it changes after :meth:`rotate_key` and :meth:`recover_key`)."""
        return self._api_key

    @property
    def revision(self) -> Optional[int]:
        """The ``min_revision`` this client sends on RBAC reads (``None``: none)."""
        return self._revisions.floor

    def __repr__(self) -> str:
        return f"{type(self).__name__}(service_url={self.service_url!r})"

    __str__ = __repr__

    def at_least(self: _Client, revision: int) -> _Client:
        """A client sharing this one's connections whose RBAC reads send ``?min_revision=``: at least
        ``revision`` (and at least this client's own floor, whichever is larger)."""
        clone = self._view(type(self))
        floor = revision if self.revision is None else max(revision, self.revision)
        clone._revisions = Revisions(floor, self._revisions.track)
        return clone

    def _view(self, cls: type[_View]) -> _View:
        """An instance of ``cls`` sharing this client's connections, breaker, key and revisions (closing it
        closes nothing)."""
        view = object.__new__(cls)
        view.__dict__.update(self.__dict__)
        view._owns_http = False
        return view

    async def _send(
        self,
        method: str,
        route: str,
        *values: str,
        json: Optional[JSON] = None,
        params: Optional[dict[str, str]] = None,
        idempotent: Optional[bool] = None,
        auth: bool = True,
        rbac_read: bool = False,
    ) -> JSON:
        """One call: returns the envelope of a 2xx answer or raises."""
        url = path(route, *values)
        query: dict[str, str] = dict(params or {})
        if rbac_read:
            query.update(self._revisions.params())
        retryable = method in _core.IDEMPOTENT_METHODS if idempotent is None else idempotent
        headers = {"Accept": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self._api_key}"
        attempts = 1 + (max(self.retry.max_retries, 0) if retryable else 0)
        for attempt in range(attempts):
            if self.circuit_breaker_enabled:
                self._breaker.before(route)
            last = attempt == attempts - 1
            try:
                response = await self._http.request(
                    method, url, json=json, params=query or None, headers=headers
                )
            except httpx.TransportError as exc:
                if last:
                    self._breaker.failure()
                    raise TransportError(
                        f"no answer from Warden ({type(exc).__name__})", route=route
                    ) from None
                await asyncio.sleep(self.retry.delay(attempt, None))
                continue
            if _core.is_retryable_status(response.status_code) and not last:
                await asyncio.sleep(self.retry.delay(attempt, response))
                continue
            if response.status_code >= 500:
                self._breaker.failure()
            else:
                self._breaker.success()
            return _core.decode(response, route)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _data(self, method: str, route: str, *values: str, **kwargs: Any) -> Any:
        return _core.data_of(await self._send(method, route, *values, **kwargs))

    async def _object(self, method: str, route: str, *values: str, **kwargs: Any) -> JSON:
        return _core.expect_dict(await self._data(method, route, *values, **kwargs), route)

    async def _write(self, method: str, route: str, *values: str, **kwargs: Any) -> JSON:
        data = await self._object(method, route, *values, **kwargs)
        self._revisions.saw(data)
        return data

    async def _listing(
        self, route: str, *values: str, rbac_read: bool = True, params: Optional[dict[str, str]] = None
    ) -> list[Any]:
        """Every item of a paged listing, following ``next_cursor``; ``params`` (such as ``effective=true``) are
        sent on every page, beside the cursor."""
        items: list[Any] = []
        cursor: Optional[str] = None
        while True:
            query = dict(params or {})
            if cursor:
                query["cursor"] = cursor
            envelope = await self._send("GET", route, *values, params=query or None, rbac_read=rbac_read)
            items.extend(_core.expect_list(_core.data_of(envelope), route))
            cursor = _core.next_cursor(envelope)
            if cursor is None:
                return items

    async def _page(
        self,
        route: str,
        *values: str,
        limit: Optional[int] = None,
        cursor: Optional[str] = None,
        params: Optional[dict[str, str]] = None,
    ) -> JSON:
        """One page of a paged listing: ``{"items", "next_cursor"}`` (``next_cursor`` is ``None`` on the last)."""
        query = dict(params or {})
        query.update(drop_none({"limit": str(limit) if limit else None, "cursor": cursor}))
        envelope = await self._send("GET", route, *values, params=query or None, rbac_read=True)
        return {
            "items": _core.expect_list(_core.data_of(envelope), route),
            "next_cursor": _core.next_cursor(envelope),
        }

    async def close(self) -> None:
        """Close the connections (only those this client opened)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self: _Client) -> _Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ------------------------------------------------------------------ health

    async def health(self) -> JSON:
        """``GET /health``: ``{"status": "healthy", "database"}``, or ``{"status": "unhealthy", "reason"}`` for a
        503 (returned, not raised; not retried)."""
        try:
            envelope = await self._send("GET", "/health", auth=False, idempotent=False)
            data = envelope.get("data")
            return data if isinstance(data, dict) else {"status": envelope.get("status", "healthy")}
        except WardenError as exc:
            if exc.status == 503:
                data = (exc.envelope or {}).get("data")
                if isinstance(data, dict):
                    return data
                body = exc.envelope or {}
                return {"status": body.get("status", "unhealthy"), **({"reason": exc.error} if exc.error else {})}
            raise

    async def is_healthy(self) -> bool:
        """``True`` when ``GET /health`` answers 200 healthy; ``False`` for unhealthy, no answer or any error."""
        try:
            return (await self.health()).get("status") == "healthy"
        except WardenError:
            return False

    async def livez(self) -> JSON:
        """``GET /livez``: the process is up."""
        return await self._object("GET", "/livez", auth=False)

    async def readyz(self) -> JSON:
        """``GET /readyz``: the database is reachable (503 raises :class:`ServerError`)."""
        return await self._object("GET", "/readyz", auth=False, idempotent=False)

    async def get_rotate_key(self) -> JSON:
        """``POST /api/keys/get_rotate_key``: the tenant's recovery key ``{"rotate_key": "rrk_…"}``, shown once
        (a second call is 409). Never retried."""
        return await self._object("POST", "/api/keys/get_rotate_key")

    async def recover_key(self, rotate_key: str, new_client_key: Optional[str] = None) -> JSON:
        """``POST /api/keys/recover`` (no bearer): move the tenant to a new client key with its rotate key.
        Answers ``{"client_key", "rotate_key"}`` (both new); this client switches to the new client key."""
        body = drop_none({"rotate_key": rotate_key, "new_client_key": new_client_key})
        data = await self._object("POST", "/api/keys/recover", json=body, auth=False)
        client_key = data.get("client_key")
        if isinstance(client_key, str) and client_key:
            self._api_key = client_key
        return data

    async def update_settings(self, **fields: Any) -> JSON:
        """``PUT /api/settings`` with the given fields (``jwt_audience``, ``auto_register_users``,
        ``require_activation``, ``strict_users``; ``None``: back to the default): the settings as saved. Absent
        fields are unchanged; an unknown field or a value of the wrong type is refused with 422."""
        return await self._object("PUT", "/api/settings", json=dict(fields))

    async def set_auto_register_users(self, enabled: Optional[bool]) -> JSON:
        """``PUT /api/settings`` ``{"auto_register_users": enabled}`` (``None``: the default, off)."""
        return await self.update_settings(auto_register_users=enabled)

    async def set_require_activation(self, enabled: Optional[bool]) -> JSON:
        """``PUT /api/settings`` ``{"require_activation": enabled}``: password logins need an activated user
        (``None``: the default, off)."""
        return await self.update_settings(require_activation=enabled)

    async def set_jwt_audience(self, audience: Optional[str]) -> JSON:
        """``PUT /api/settings`` ``{"jwt_audience": audience}`` (``None``: back to the default, the tenant id)."""
        return await self.update_settings(jwt_audience=audience)

    # ------------------------------------------------------------------ users

    async def put_user(
        self,
        user: str,
        status: str = "allowed",
        *,
        enabled: Optional[bool] = None,
        profile: Optional[JSON] = None,
        quotas: Optional[JSON] = None,
    ) -> JSON:
        """``PUT /api/users/{user}``: create or replace the user (absent fields take their defaults)."""
        body = drop_none({"status": status, "enabled": enabled, "profile": profile, "quotas": quotas})
        return await self._object("PUT", "/api/users/{user}", user, json=body)

    async def get_user(self, user: str) -> JSON:
        """``GET /api/users/{user}``: the user with ``roles`` (404 raises :class:`RefusedError`)."""
        return await self._object("GET", "/api/users/{user}", user)

    async def list_users_page(
        self, status: Optional[str] = None, limit: Optional[int] = None, cursor: Optional[str] = None
    ) -> JSON:
        """``GET /api/users``: one page ``{"items", "next_cursor"}``."""
        params = drop_none({"status": status, "limit": str(limit) if limit else None, "cursor": cursor})
        return await self._object("GET", "/api/users", params=params)

    async def list_users(self, status: Optional[str] = None) -> list[JSON]:
        """Every user (optionally only those with ``status``), following ``next_cursor``."""
        items: list[JSON] = []
        cursor: Optional[str] = None
        while True:
            page = await self.list_users_page(status, 500, cursor)
            items.extend(_core.expect_list(page.get("items"), "/api/users"))
            cursor = page.get("next_cursor") or None
            if cursor is None:
                return items

    async def delete_user(self, user: str) -> JSON:
        """``DELETE /api/users/{user}``: ``{"removed"}``."""
        return await self._object("DELETE", "/api/users/{user}", user)

    async def set_user_quotas(
        self,
        user: str,
        requests_per_hour: Optional[int] = None,
        requests_per_day: Optional[int] = None,
        random_shift_minutes: int = 0,
    ) -> JSON:
        """Replace the user's quotas, keeping status, enabled and profile (a read then ``PUT``)."""
        current = await self.get_user(user)
        quotas = {
            "requests_per_hour": requests_per_hour,
            "requests_per_day": requests_per_day,
            "random_shift_minutes": random_shift_minutes,
        }
        return await self.put_user(
            user,
            str(current.get("status", "allowed")),
            enabled=current.get("enabled"),
            profile=current.get("profile"),
            quotas=quotas,
        )

    async def sensitive_change(self, user: str) -> JSON:
        """``POST /api/users/{user}/sensitive-change``: void every token and session issued so far."""
        return await self._object("POST", "/api/users/{user}/sensitive-change", user)

    async def issue_activation_code(self, user: str, ttl_minutes: Optional[int] = None) -> JSON:
        """``POST /api/users/{user}/activation``: ``{"code", "expires_at"}``. Never retried."""
        return await self._object(
            "POST", "/api/users/{user}/activation", user, json=drop_none({"ttl_minutes": ttl_minutes})
        )

    async def activate_user(self, user: str, code: str) -> JSON:
        """``POST /api/users/{user}/activate``: ``{"activated_at"}`` (a bad code is 400). Never retried."""
        return await self._object("POST", "/api/users/{user}/activate", user, json={"code": code})

    async def set_user_password(self, user: str, password: str) -> JSON:
        """``PUT /api/users/{user}/password`` ``{"password"}`` (8 to 1024 characters; the user must exist, else
        404): ``{"password_set": true, "sensitive_changed_at"}``. A sensitive change: the user's tokens, sessions
        and JWTs issued so far are void."""
        return await self._object("PUT", "/api/users/{user}/password", user, json={"password": password})

    async def login(self, user: str, password: str) -> JSON:
        """``POST /api/users/{user}/login`` ``{"password"}``: a JWT pair as :meth:`issue_jwt` answers. A wrong
        password or an unknown user raises :class:`RefusedError` 401, a user without a role or not allowed 403,
        repeated failures :class:`RateLimitedError` 429 (``Retry-After``). Never retried."""
        return await self._object("POST", "/api/users/{user}/login", user, json={"password": password})

    # ------------------------------------------------------------------ access checks

    async def check_access(
        self,
        user_id: str,
        role_id: Optional[str] = None,
        chat_id: Optional[Union[str, int]] = None,
        message_id: Optional[Union[str, int]] = None,
    ) -> JSON:
        """``POST /api/access/check``: ``{"access", "permissions"?, "rate_limits"}``. Recorded and counted
        against quotas, so never retried."""
        body = drop_none({"user_id": user_id, "role_id": role_id, "chat_id": chat_id, "message_id": message_id})
        return await self._object("POST", "/api/access/check", json=body)

    async def user_requests_page(
        self, user: str, limit: Optional[int] = None, cursor: Optional[str] = None
    ) -> JSON:
        """``GET /api/users/{user}/requests``: one page of the access-check history, newest first."""
        params = drop_none({"limit": str(limit) if limit else None, "cursor": cursor})
        return await self._object("GET", "/api/users/{user}/requests", user, params=params)

    async def request_counters(self, user: str) -> JSON:
        """``GET /api/users/{user}/requests/counters``: ``{"requests_per_hour", "requests_per_day"}``."""
        return await self._object("GET", "/api/users/{user}/requests/counters", user)

    async def user_requests(self, user: str) -> list[JSON]:
        """The user's whole access-check history, newest first."""
        items: list[JSON] = []
        cursor: Optional[str] = None
        while True:
            page = await self.user_requests_page(user, None, cursor)
            items.extend(_core.expect_list(page.get("items"), "/api/users/{user}/requests"))
            cursor = page.get("next_cursor") or None
            if cursor is None:
                return items

    # ------------------------------------------------------------------ single-use tokens

    async def issue_single_use_token(self, user: str, ttl_minutes: Optional[int] = None) -> JSON:
        """``POST /api/users/{user}/tokens``: ``{"token", "expires_at"}``. Never retried."""
        return await self._object(
            "POST", "/api/users/{user}/tokens", user, json=drop_none({"ttl_minutes": ttl_minutes})
        )

    async def validate_single_use_token(self, token: str) -> JSON:
        """``POST /api/tokens/validate``: uses the token; ``{"user_id", "status", "roles"}`` or 401. Never
        retried (a retry would find it used)."""
        return await self._object("POST", "/api/tokens/validate", json={"token": token})

    async def revoke_single_use_tokens(self, user: str) -> JSON:
        """``DELETE /api/users/{user}/tokens``: ``{"revoked": n}``."""
        return await self._object("DELETE", "/api/users/{user}/tokens", user)

    # ------------------------------------------------------------------ sessions

    async def create_session(
        self,
        user_id: str,
        permissions: list[str],
        ttl_seconds: Optional[int] = None,
        metadata: Optional[JSON] = None,
    ) -> JSON:
        """``POST /api/sessions``: the session with its ``session_id`` (shown once). Never retried."""
        body = drop_none(
            {"user_id": user_id, "permissions": permissions, "ttl_seconds": ttl_seconds, "metadata": metadata}
        )
        return await self._object("POST", "/api/sessions", json=body)

    async def get_session(self, session_id: str) -> JSON:
        """``GET /api/sessions/{id}``."""
        return await self._object("GET", "/api/sessions/{id}", session_id)

    async def check_session(self, session_id: str, permissions: list[str]) -> dict[str, bool]:
        """``POST /api/sessions/{id}/check``: ``{permission: bool}`` (a pure read: retried)."""
        data = await self._object(
            "POST", "/api/sessions/{id}/check", session_id, json={"permissions": permissions}, idempotent=True
        )
        return {str(k): bool(v) for k, v in data.items()}

    async def set_session_ttl(self, session_id: str, ttl_seconds: int) -> JSON:
        """``PUT /api/sessions/{id}/ttl``: expire ``ttl_seconds`` from now."""
        return await self._object("PUT", "/api/sessions/{id}/ttl", session_id, json={"ttl_seconds": ttl_seconds})

    async def set_session_permissions(self, session_id: str, permissions: list[str]) -> JSON:
        """``PUT /api/sessions/{id}/permissions``: replace them, keeping the expiry."""
        return await self._object(
            "PUT", "/api/sessions/{id}/permissions", session_id, json={"permissions": permissions}
        )

    async def delete_session(self, session_id: str) -> JSON:
        """``DELETE /api/sessions/{id}``: ``{"removed": true}``."""
        return await self._object("DELETE", "/api/sessions/{id}", session_id)

    async def user_sessions(self, user: str) -> list[JSON]:
        """``GET /api/users/{user}/sessions``: the user's live sessions (no ids)."""
        route = "/api/users/{user}/sessions"
        return _core.expect_list(await self._data("GET", route, user), route)

    async def delete_user_session(self, user: str, session_ref: str) -> JSON:
        """``DELETE /api/users/{user}/sessions/{session_ref}``: end one session by its listing ref."""
        return await self._object("DELETE", "/api/users/{user}/sessions/{session_ref}", user, session_ref)

    async def delete_user_sessions(self, user: str) -> JSON:
        """``DELETE /api/users/{user}/sessions``: log out everywhere, ``{"removed": n}``."""
        return await self._object("DELETE", "/api/users/{user}/sessions", user)

    async def cleanup_sessions(self) -> JSON:
        """``POST /api/sessions/cleanup``: remove expired or voided sessions now (repeatable: retried)."""
        return await self._object("POST", "/api/sessions/cleanup", idempotent=True)

    # ------------------------------------------------------------------ JWT

    async def issue_jwt(self, user: str) -> JSON:
        """``POST /api/token/{user}``: ``{"access_token", "token_type", "expires_in", "refresh_token",
        "refresh_expires_in"}``. Never retried."""
        return await self._object("POST", "/api/token/{user}", user)

    async def refresh_jwt(self, refresh_token: str) -> JSON:
        """``POST /api/token/refresh``: rotate the refresh token. Never retried (a late repeat is theft)."""
        return await self._object("POST", "/api/token/refresh", json={"refresh_token": refresh_token})

    async def verify_jwt(self, token: str) -> JSON:
        """``POST /api/token/verify``: ``{"valid": true, "claims"}``; an invalid token raises 401. Retried."""
        return await self._object("POST", "/api/token/verify", json={"token": token}, idempotent=True)

    async def revoke_user_jwts(self, user: str) -> JSON:
        """``DELETE /api/users/{user}/jwt``: ``{"revoked": n}``."""
        return await self._object("DELETE", "/api/users/{user}/jwt", user)

    async def jwks(self, tenant: str) -> JSON:
        """``GET /.well-known/jwks.json?tenant=``: the tenant's public signing keys (bare JSON)."""
        url = "/.well-known/jwks.json"
        try:
            response = await self._http.get(url, params={"tenant": tenant})
        except httpx.TransportError:
            raise TransportError("no answer from Warden", route=url) from None
        if response.status_code != 200:
            _core.decode(response, url)
        try:
            body = response.json()
        except ValueError:
            raise DecodeError("answer is not JSON", status=response.status_code, route=url) from None
        return _core.expect_dict(body, url)

    # ------------------------------------------------------------------ audit

    async def audit_entries(
        self,
        limit: Optional[int] = None,
        cursor: Optional[str] = None,
        action: Optional[str] = None,
        since: Optional[Moment] = None,
    ) -> JSON:
        """``GET /api/audit``: one page ``{"entries", "next_cursor"}``, newest first."""
        params = drop_none(
            {
                "limit": str(limit) if limit else None,
                "cursor": cursor,
                "action": action,
                "since": iso(since) if since is not None else None,
            }
        )
        return await self._object("GET", "/api/audit", params=params)

    async def all_audit_entries(self, action: Optional[str] = None, since: Optional[Moment] = None) -> list[JSON]:
        """Every audit entry (optionally of one ``action`` / since a time), following ``next_cursor``."""
        items: list[JSON] = []
        cursor: Optional[str] = None
        while True:
            page = await self.audit_entries(500, cursor, action, since)
            items.extend(_core.expect_list(page.get("entries"), "/api/audit"))
            cursor = page.get("next_cursor") or None
            if cursor is None:
                return items


class AsyncWardenClient(_AsyncBase):
    """Warden's own answers: every method returns the value of the envelope's ``data``, typed (checks a ``bool``,
    listings the whole list with every page followed, writes the ``data`` object such as ``{"created",
    "revision"}``). Same methods and arguments as :class:`AsyncEnhancedAuthClient`, whose seed-named methods return
    the seed's answers instead."""

    async def ping(self) -> JSON:
        """``GET /ping``: ``{"status": "ok"}`` (no key needed)."""
        return await self._object("GET", "/ping", auth=False)

    # ------------------------------------------------------------------ RBAC

    async def create_role(self, role: str, description: Optional[str] = None) -> JSON:
        """``POST /api/role/{role}``: ``{"created", "revision"}`` (``created: false`` if it existed)."""
        body = {"description": description} if description is not None else None
        return await self._write("POST", "/api/role/{role}", role, json=body, idempotent=True)

    async def delete_role(self, role: str) -> JSON:
        """``DELETE /api/role/{role}``: ``{"removed", "revision"}``."""
        return await self._write("DELETE", "/api/role/{role}", role)

    async def list_roles(self) -> list[JSON]:
        """``GET /api/roles``: every role, ``[{"role", "description"}]``."""
        return await self._listing("/api/roles")

    async def add_permission(self, group: str, name: str) -> JSON:
        """``POST /api/permission/{role}/{name}``: grant ``name`` to role ``group``."""
        return await self._write("POST", "/api/permission/{role}/{name}", group, name, idempotent=True)

    async def remove_permission(self, group: str, name: str) -> JSON:
        """``DELETE /api/permission/{role}/{name}``: revoke it."""
        return await self._write("DELETE", "/api/permission/{role}/{name}", group, name)

    async def has_permission(self, group: str, name: str) -> bool:
        """``GET /api/permission/{role}/{name}``: does the role have the permission?"""
        route = "/api/permission/{role}/{name}"
        return _core.flag(await self._data("GET", route, group, name, rbac_read=True), "has_permission", route)

    role_has_permission = has_permission

    async def add_membership(
        self,
        user: str,
        group: str,
        *,
        expires_at: Optional[Moment] = None,
        ttl_seconds: Optional[int] = None,
        resource: Optional[str] = None,
    ) -> JSON:
        """``POST /api/membership/{user}/{role}``: add the user to the role; ``{"created", "revision"}``, plus
        ``"expires_at"`` when the membership expires. Under strict users, a user without an active API key raises
        :class:`RefusedError` 409 with ``reason == "user_not_key_backed"``.

        ``resource`` (``"type:id"``, sent as ``?resource=``) scopes the membership to that resource and everything
        below it; a scoped membership is another membership than the global one (and than one scoped elsewhere). A
        resource that does not exist raises :class:`RefusedError` 404 with ``reason == "resource_not_found"``.

        ``expires_at`` (a future instant: a ``datetime``, sent as RFC 3339 in UTC, a naive one taken as UTC; or an
        RFC 3339 string, sent as given) or ``ttl_seconds`` (1 to 3153600000) make the membership expire: from that
        instant it grants nothing. Without either, no body is sent and the membership is permanent. Adding an
        existing membership again restates it (``created: false``): it takes the expiry given, or none. Both
        arguments at once, a past date or ``ttl_seconds=0`` raise :class:`RefusedError` 400."""
        body = drop_none({
            "expires_at": iso(expires_at) if expires_at is not None else None,
            "ttl_seconds": ttl_seconds,
        })
        return await self._write(
            "POST", "/api/membership/{user}/{role}", user, group,
            json=body or None, params=_core.scoped(resource), idempotent=True,
        )

    async def remove_membership(self, user: str, group: str, *, resource: Optional[str] = None) -> JSON:
        """``DELETE /api/membership/{user}/{role}``: ``{"removed", "revision"}``. ``resource`` (``"type:id"``):
        remove the membership scoped to that resource (only that one; without it, only the global one)."""
        return await self._write(
            "DELETE", "/api/membership/{user}/{role}", user, group, params=_core.scoped(resource)
        )

    async def has_membership(self, user: str, group: str, *, resource: Optional[str] = None) -> bool:
        """``GET /api/membership/{user}/{role}``: is the user in the role? ``False`` under strict users for a user
        without an active API key. ``resource`` (``"type:id"``): is there a membership scoped exactly to that
        resource (see :meth:`has_effective_membership` for one that applies there)?"""
        route = "/api/membership/{user}/{role}"
        data = await self._data("GET", route, user, group, params=_core.scoped(resource), rbac_read=True)
        return _core.flag(data, "is_member", route)

    async def user_has_permission(self, user: str, name: str, *, resource: Optional[str] = None) -> bool:
        """``GET /api/has_permission/{user}/{name}``: does any of the user's roles grant it? ``False`` under strict
        users for a user without an active API key (Warden's ``data`` then says ``reason: "user_not_key_backed"``;
        the seed-compatible client returns it). ``resource`` (``"type:id"``): at that resource, where a global
        membership counts and so does one scoped to the resource or to any of its ancestors; without it only
        global memberships count."""
        route = "/api/has_permission/{user}/{name}"
        data = await self._data("GET", route, user, name, params=_core.scoped(resource), rbac_read=True)
        return _core.flag(data, "has_permission", route)

    async def explain_user_permission(self, user: str, name: str, *, resource: Optional[str] = None) -> JSON:
        """``GET /api/has_permission/{user}/{name}?explain=true``: the whole ``data``, ``{"has_permission",
        "explanation"?}``. A positive answer carries ``explanation``, the path that decided it: ``{"membership":
        {"role", "scope", "expires_at"}, "inheritance": [role, …], "grant": {"role", "permission", "pattern"}}``
        (``inheritance`` runs from the membership's role to the granting role; ``grant.permission`` is the grant as
        written, e.g. ``docs:*``; ``membership.scope`` is the resource the deciding membership is scoped to,
        ``None`` for a global one). A negative answer has no ``explanation`` (and, under strict users, may carry
        ``reason``). A ``*`` in ``name`` raises :class:`RefusedError` 400. ``resource``: as for
        :meth:`user_has_permission`."""
        route = "/api/has_permission/{user}/{name}"
        params = _core.scoped(resource, {"explain": "true"})
        data = await self._object("GET", route, user, name, params=params, rbac_read=True)
        _core.flag(data, "has_permission", route)
        return data

    async def get_user_permissions(self, user: str, *, resource: Optional[str] = None) -> list[JSON]:
        """``GET /api/user_permissions/{user}``: ``[{"name"}]`` (``[]`` under strict users for a user without an
        active API key). ``resource`` (``"type:id"``): what the user holds at that resource (memberships scoped to
        it or its ancestors count too)."""
        return await self._listing("/api/user_permissions/{user}", user, params=_core.scoped(resource))

    async def get_role_permissions(self, role: str) -> list[JSON]:
        """``GET /api/role_permissions/{role}``: ``[{"name"}]``."""
        return await self._listing("/api/role_permissions/{role}", role)

    async def get_user_roles(self, user: str, *, resource: Optional[str] = None) -> list[JSON]:
        """``GET /api/user_roles/{user}``: ``[{"role", "description", "expires_at"?}]`` (``expires_at`` only for a
        membership that expires). ``resource`` (``"type:id"``): the roles the user holds at that resource
        (memberships scoped to it or its ancestors count too)."""
        return await self._listing("/api/user_roles/{user}", user, params=_core.scoped(resource))

    async def get_role_members(self, role: str, *, resource: Optional[str] = None) -> list[JSON]:
        """``GET /api/members/{role}``: ``[{"user", "expires_at"?}]`` (``expires_at`` only for a membership that
        expires). ``resource`` (``"type:id"``): the members at that resource (memberships scoped to it or its
        ancestors count too)."""
        return await self._listing("/api/members/{role}", role, params=_core.scoped(resource))

    async def which_roles_can(self, name: str) -> list[JSON]:
        """``GET /api/which_roles_can/{name}``: ``[{"role", "description"}]``."""
        return await self._listing("/api/which_roles_can/{name}", name)

    async def which_users_can(self, name: str, *, resource: Optional[str] = None) -> list[JSON]:
        """``GET /api/which_users_can/{name}``: ``[{"user"}]``. ``resource`` (``"type:id"``): the users who hold it
        at that resource (memberships scoped to it or its ancestors count too)."""
        return await self._listing("/api/which_users_can/{name}", name, params=_core.scoped(resource))

    # ------------------------------------------------------------------ role inheritance

    async def add_inheritance(self, role: str, other: str) -> JSON:
        """``POST /api/role/{role}/inherits/{other}``: ``role`` gains everything ``other`` grants; ``{"created",
        "revision"}`` (``created: false`` if it already inherited it). A missing role raises
        :class:`RefusedError` 404; an edge that would close a cycle or make a chain longer than 16 edges raises 409
        with ``reason == "inheritance_cycle"`` / ``"inheritance_too_deep"``."""
        return await self._write("POST", "/api/role/{role}/inherits/{other}", role, other, idempotent=True)

    async def remove_inheritance(self, role: str, other: str) -> JSON:
        """``DELETE /api/role/{role}/inherits/{other}``: ``{"removed", "revision"}`` (a missing role is 404)."""
        return await self._write("DELETE", "/api/role/{role}/inherits/{other}", role, other)

    async def get_inherited_roles(self, role: str, transitive: bool = False) -> list[JSON]:
        """``GET /api/role/{role}/inherits``: the roles ``role`` inherits directly, ``[{"role", "description"}]``;
        ``transitive=True``: every role reached through inheritance. A missing role is 404."""
        params = {"transitive": "true"} if transitive else None
        return await self._listing("/api/role/{role}/inherits", role, params=params)

    async def get_effective_role_permissions(self, role: str) -> list[JSON]:
        """``GET /api/role_permissions/{role}?effective=true``: ``[{"name"}]``, the role's own permissions and
        those of every role it inherits."""
        return await self._listing("/api/role_permissions/{role}", role, params=_EFFECTIVE)

    async def get_effective_role_members(self, role: str, *, resource: Optional[str] = None) -> list[JSON]:
        """``GET /api/members/{role}?effective=true``: ``[{"user"}]``, the role's members and those of every role
        inheriting it (``resource``: at that resource, as for :meth:`get_role_members`)."""
        return await self._listing("/api/members/{role}", role, params=_core.scoped(resource, _EFFECTIVE))

    async def get_effective_user_roles(self, user: str, *, resource: Optional[str] = None) -> list[JSON]:
        """``GET /api/user_roles/{user}?effective=true``: ``[{"role", "description"}]``, the user's roles and every
        role they inherit (``resource``: at that resource, as for :meth:`get_user_roles`)."""
        return await self._listing("/api/user_roles/{user}", user, params=_core.scoped(resource, _EFFECTIVE))

    async def has_effective_membership(self, user: str, role: str, *, resource: Optional[str] = None) -> bool:
        """``GET /api/membership/{user}/{role}?effective=true``: is the user in the role or in a role inheriting
        it? ``resource`` (``"type:id"``): does such a membership apply at that resource (a global one, or one scoped
        to the resource or to any of its ancestors)?"""
        route = "/api/membership/{user}/{role}"
        data = await self._data(
            "GET", route, user, role, params=_core.scoped(resource, _EFFECTIVE), rbac_read=True
        )
        return _core.flag(data, "is_member", route)

    async def role_has_effective_permission(self, role: str, name: str) -> bool:
        """``GET /api/permission/{role}/{name}?effective=true``: does the role, or a role it inherits, grant the
        permission?"""
        route = "/api/permission/{role}/{name}"
        data = await self._data("GET", route, role, name, params=_EFFECTIVE, rbac_read=True)
        return _core.flag(data, "has_permission", route)

    # ------------------------------------------------------------------ resources

    async def put_resource(
        self,
        type: str,
        id: str,
        parent: Optional[str] = None,
        properties: Optional[JSON] = None,
    ) -> JSON:
        """``PUT /api/resources/{type}/{id}``: create the resource ``type:id`` or state it anew; ``{"created",
        "changed", "revision"}``. A PUT states the resource whole: ``parent`` (``"type:id"``) and ``properties`` (a
        JSON object, at most 16 KiB as JSON) left out are cleared; without either no body is sent. ``type`` may not
        hold ``:``. A parent that does not exist raises :class:`RefusedError` 404 with ``reason ==
        "resource_not_found"``; a parent that is the resource or lies below it, or a path deeper than 32 levels,
        409 with ``reason == "resource_cycle"`` / ``"resource_too_deep"``; properties over 16 KiB 413."""
        body = drop_none({"parent": parent, "properties": properties})
        return await self._write("PUT", "/api/resources/{type}/{id}", type, id, json=body or None)

    async def get_resource(self, type: str, id: str) -> JSON:
        """``GET /api/resources/{type}/{id}``: ``{"resource", "type", "id", "parent", "properties", "created_at",
        "updated_at"}`` (``parent`` ``None`` for a root, ``properties`` ``{}`` when none). A missing resource raises
        :class:`RefusedError` 404 with ``reason == "resource_not_found"``."""
        return await self._object("GET", "/api/resources/{type}/{id}", type, id, rbac_read=True)

    async def delete_resource(self, type: str, id: str) -> JSON:
        """``DELETE /api/resources/{type}/{id}``: ``{"removed": True, "revision"}``; the memberships scoped to the
        resource go with it. A resource that is gone answers ``{"removed": False}`` (so a retry is harmless); one
        with children raises :class:`RefusedError` 409 with ``reason == "resource_has_children"`` (delete them
        first)."""
        return await self._write("DELETE", "/api/resources/{type}/{id}", type, id)

    async def list_resources(self, type: str) -> list[str]:
        """``GET /api/resources/{type}``: every resource of the type as ``"type:id"``, by id (every page)."""
        return await self._listing("/api/resources/{type}", type)

    async def list_resources_page(
        self, type: str, limit: Optional[int] = None, cursor: Optional[str] = None
    ) -> JSON:
        """``GET /api/resources/{type}``: one page ``{"items": ["type:id", …], "next_cursor"}`` (``next_cursor``
        ``None`` on the last page)."""
        return await self._page("/api/resources/{type}", type, limit=limit, cursor=cursor)

    async def get_user_resources(self, user: str, name: str, type: str) -> list[str]:
        """``GET /api/user_resources/{user}/{name}?type=``: the resources of ``type`` on which the user holds the
        permission, as ``"type:id"``, by id (every page): all of them when a global membership grants it, else
        those at or below a resource where a scoped membership grants it."""
        return await self._listing("/api/user_resources/{user}/{name}", user, name, params={"type": type})

    # ------------------------------------------------------------------ workflows

    async def get_users_for_workflow(self, workflow_name: str) -> list[str]:
        """``GET /api/workflow/users/{workflow}``: the names of the users who may run it (every page)."""
        items = await self._listing("/api/workflow/users/{workflow}", workflow_name)
        return [str(m["user"]) if isinstance(m, dict) else str(m) for m in items]

    async def check_user_workflow_permission(self, user: str, workflow_name: str) -> bool:
        """``GET /api/workflow/user/{user}/can_run/{workflow}``: may the user run it? ``False`` under strict users
        for a user without an active API key, as :meth:`user_has_permission`."""
        route = "/api/workflow/user/{user}/can_run/{workflow}"
        data = await self._data("GET", route, user, workflow_name, rbac_read=True)
        return _core.flag(data, "has_permission", route)

    # ------------------------------------------------------------------ client key

    async def rotate_key(self) -> JSON:
        """``POST /api/keys/rotate``: a new client key for the tenant (``data.new_key``); this client switches
        to it. Persist it: it is the only copy. Never retried."""
        data = await self._object("POST", "/api/keys/rotate")
        new_key = data.get("new_key") or data.get("client_key")
        if isinstance(new_key, str) and new_key:
            self._api_key = new_key
        return data

    # ------------------------------------------------------------------ per-user API keys

    async def create_api_key(
        self, user: str, label: Optional[str] = None, expires_at: Optional[Moment] = None
    ) -> JSON:
        """``POST /api/apikeys/user/{user}``: ``{"api_key", "key_id", "user", "label", "key_prefix", "created",
        "expires_at"}``; ``api_key`` (``rak_…``) is shown only once. More than 25 active keys raises
        :class:`RefusedError` 409. Never retried."""
        body = drop_none({"label": label, "expires_at": iso(expires_at) if expires_at is not None else None})
        return await self._object("POST", "/api/apikeys/user/{user}", user, json=body or None)

    async def list_api_keys(self, user: str) -> list[JSON]:
        """``GET /api/apikeys/user/{user}``: the user's keys, ``[{"key_id", "key_prefix", "label", "is_active",
        "created", "revoked_at", "expires_at", "last_used_at"}]``, metadata only (revoked ones included)."""
        route = "/api/apikeys/user/{user}"
        return _core.expect_list(await self._data("GET", route, user), route)

    async def set_api_key_expiry(self, user: str, key_id: str, expires_at: Moment) -> JSON:
        """``PATCH /api/apikeys/user/{user}/{key_id}`` ``{"expires_at"}`` (only earlier, in the future, at most
        365 days ahead; else 400): the key's metadata. Setting a value: retried."""
        return await self._object(
            "PATCH", "/api/apikeys/user/{user}/{key_id}", user, key_id,
            json={"expires_at": iso(expires_at)}, idempotent=True,
        )

    async def revoke_api_key(self, user: str, key_id: str) -> JSON:
        """``DELETE /api/apikeys/user/{user}/{key_id}``: ``{"revoked": true, "already_revoked"}`` (idempotent; a
        key the user does not have is 404)."""
        return await self._object("DELETE", "/api/apikeys/user/{user}/{key_id}", user, key_id)

    async def validate_api_key(self, api_key: str) -> JSON:
        """``POST /api/apikeys/validate``: ``{"valid": true, "user", "key_id", "label", "expires_at"}`` or
        ``{"valid": false, "reason"}``. The secret travels in the body only."""
        return await self._object("POST", "/api/apikeys/validate", json={"api_key": api_key}, idempotent=True)

    async def check_api_key_permission(self, api_key: str, permission: str) -> JSON:
        """``POST /api/apikeys/check_permission``: validate AND check in one call: ``{"valid": true, "user",
        "key_id", "has_permission"}``, or ``{"valid": false, "reason"}`` as :meth:`validate_api_key`."""
        return await self._object(
            "POST", "/api/apikeys/check_permission",
            json={"api_key": api_key, "permission": permission}, idempotent=True,
        )

    # ------------------------------------------------------------------ settings

    async def get_settings(self) -> JSON:
        """``GET /api/settings``: ``{"jwt_audience", "jwt_audience_is_default", "auto_register_users",
        "require_activation", "strict_users"}``."""
        return await self._object("GET", "/api/settings")

    async def set_strict_users(self, enabled: Optional[bool]) -> JSON:
        """``PUT /api/settings`` ``{"strict_users": enabled}`` (``None``: the default, off): the settings as saved.
        While on, decisions about a user without an active (unrevoked, unexpired) API key are negative
        (``reason: "user_not_key_backed"``), their permission listing is empty and adding them to a role raises
        :class:`RefusedError` 409 with that ``reason``: create their keys first. Key checks
        (:meth:`check_api_key_permission`) are unaffected."""
        return await self.update_settings(strict_users=enabled)

