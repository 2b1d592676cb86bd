"""Per-user API keys, passwords and logins against the real server, for the sync and the async Warden client
(``api``; answers are ``data``), plus the async client used natively. The seed-compatible answers of the
seed-named API-key methods are in ``test_seed_answers.py``."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from warden_client import AsyncWardenClient, RateLimitedError, RefusedError, WardenClient

KEY_PATTERN = re.compile(r"^rak_[0-9A-Za-z]{43}$")
META_KEYS = {"key_id", "key_prefix", "label", "is_active", "created", "revoked_at", "expires_at", "last_used_at"}
PAIR_KEYS = {"access_token", "token_type", "expires_in", "refresh_token", "refresh_expires_in"}


def when(value: str) -> datetime:
    """Warden's RFC 3339 UTC time (``…Z``), parsed on Python 3.10 too."""
    assert value.endswith("Z"), value
    return datetime.fromisoformat(value[:-1] + "+00:00")


# ---------------------------------------------------------------- API keys


def test_api_key_lifecycle(api: Any) -> None:
    expires = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=30)
    created = api.create_api_key("bob", "ci", expires)
    assert set(created) == {"api_key", "key_id", "user", "label", "key_prefix", "created", "expires_at"}
    secret = created["api_key"]
    assert KEY_PATTERN.match(secret)
    assert created["user"] == "bob" and created["label"] == "ci"
    assert created["key_prefix"] == secret[:12]
    assert uuid.UUID(created["key_id"]).version == 4
    assert when(created["expires_at"]) == expires
    assert abs(when(created["created"]) - datetime.now(timezone.utc)) < timedelta(minutes=5)

    plain = api.create_api_key("bob")  # no body at all
    assert plain["label"] is None and plain["expires_at"] is None and plain["api_key"] != secret

    valid = api.validate_api_key(secret)
    assert valid == {"valid": True, "user": "bob", "key_id": created["key_id"], "label": "ci",
                     "expires_at": created["expires_at"]}

    keys = api.list_api_keys("bob")
    assert isinstance(keys, list) and len(keys) == 2
    assert all(set(k) == META_KEYS for k in keys)
    listed = {k["key_id"]: k for k in keys}[created["key_id"]]
    assert listed["key_prefix"] == created["key_prefix"] and listed["label"] == "ci"
    assert listed["is_active"] is True and listed["revoked_at"] is None
    assert listed["created"] == created["created"] and listed["expires_at"] == created["expires_at"]
    # Metadata only: neither secret appears anywhere in the listing.
    assert secret not in repr(keys) and plain["api_key"] not in repr(keys)
    assert api.list_api_keys("nobody") == []

    # The expiry only moves earlier.
    earlier = expires - timedelta(days=10)
    shortened = api.set_api_key_expiry("bob", created["key_id"], earlier)
    assert set(shortened) == META_KEYS and when(shortened["expires_at"]) == earlier
    with pytest.raises(RefusedError) as err:
        api.set_api_key_expiry("bob", created["key_id"], expires)
    assert err.value.status == 400

    assert api.revoke_api_key("bob", created["key_id"]) == {"revoked": True, "already_revoked": False}
    assert api.revoke_api_key("bob", created["key_id"]) == {"revoked": True, "already_revoked": True}
    assert api.validate_api_key(secret) == {"valid": False, "reason": "revoked"}
    assert api.check_api_key_permission(secret, "docs:read") == {"valid": False, "reason": "revoked"}
    revoked = {k["key_id"]: k for k in api.list_api_keys("bob")}[created["key_id"]]
    assert revoked["is_active"] is False and when(revoked["revoked_at"])
    assert api.validate_api_key(plain["api_key"])["valid"] is True

    with pytest.raises(RefusedError) as err:
        api.revoke_api_key("bob", str(uuid.uuid4()))
    assert err.value.status == 404
    with pytest.raises(RefusedError) as err:
        api.revoke_api_key("bob", "not-a-uuid")
    assert err.value.status == 400
    with pytest.raises(RefusedError) as err:
        api.validate_api_key("rak_short")
    assert err.value.status == 400 and "rak_short" not in str(err.value) + repr(err.value)
    assert api.validate_api_key("rak_" + "A" * 43) == {"valid": False, "reason": "unknown_key"}


def test_api_key_of_another_tenant_is_unknown(api: Any, factory: Any) -> None:
    secret = api.create_api_key("bob")["api_key"]
    other = factory()
    assert other.validate_api_key(secret) == {"valid": False, "reason": "unknown_key"}
    assert other.check_api_key_permission(secret, "docs:read") == {"valid": False, "reason": "unknown_key"}
    assert api.validate_api_key(secret)["valid"] is True


def test_api_key_permission(api: Any) -> None:
    api.create_role("reader")
    api.add_permission("reader", "docs:read")
    api.add_membership("bob", "reader")
    created = api.create_api_key("bob", "reader-key")
    secret = created["api_key"]
    granted = api.check_api_key_permission(secret, "docs:read")
    assert granted == {"valid": True, "user": "bob", "key_id": created["key_id"], "has_permission": True}
    denied = api.check_api_key_permission(secret, "docs:write")
    assert denied == {"valid": True, "user": "bob", "key_id": created["key_id"], "has_permission": False}
    # A key of a user without roles is valid and holds nothing.
    carol = api.create_api_key("carol")["api_key"]
    assert api.check_api_key_permission(carol, "docs:read")["has_permission"] is False


def test_api_key_cap(api: Any) -> None:
    ids = [api.create_api_key("capped", f"k{i}")["key_id"] for i in range(25)]
    with pytest.raises(RefusedError) as err:
        api.create_api_key("capped", "k25")
    assert err.value.status == 409 and err.value.envelope is not None and err.value.envelope["success"] is False
    assert len(api.list_api_keys("capped")) == 25
    # Revoking one frees a place; another user is not affected.
    api.revoke_api_key("capped", ids[0])
    assert KEY_PATTERN.match(api.create_api_key("capped", "k26")["api_key"])
    assert api.create_api_key("other")["user"] == "other"


# ---------------------------------------------------------------- passwords and logins


class Counting(httpx.BaseTransport):
    """A real transport that counts the requests sent through it, by path."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.paths: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


class AsyncCounting(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.paths: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def counted(factory: Any, kind: str) -> tuple[Any, Any]:
    """A Warden client of ``kind`` whose requests are counted (retries allowed, so a retry would show)."""
    transport: Any = Counting() if kind == "sync" else AsyncCounting()
    return factory(transport=transport, max_retries=3), transport


def test_password_and_login(factory: Any, kind: str) -> None:
    api, transport = counted(factory, kind)
    api.put_user("bob")
    api.create_role("editor")
    api.add_membership("bob", "editor")
    with pytest.raises(RefusedError) as err:
        api.set_user_password("bob", "short")
    assert err.value.status == 400
    with pytest.raises(RefusedError) as err:
        api.set_user_password("ghost", "long enough")
    assert err.value.status == 404
    before = datetime.now(timezone.utc) - timedelta(seconds=5)
    answer = api.set_user_password("bob", "correct horse battery")
    assert answer["password_set"] is True and when(answer["sensitive_changed_at"]) >= before

    transport.paths.clear()
    pair = api.login("bob", "correct horse battery")
    assert set(pair) == PAIR_KEYS and pair["token_type"] == "Bearer"
    assert pair["expires_in"] > 0 and pair["refresh_expires_in"] > 0
    verified = api.verify_jwt(pair["access_token"])
    assert verified["valid"] is True and verified["claims"]["sub"] == "bob"
    assert verified["claims"]["roles"] == ["editor"]
    assert transport.paths == ["/api/users/bob/login", "/api/token/verify"]
    assert api.refresh_jwt(pair["refresh_token"])["access_token"]

    # A wrong password and an unknown user: the same 401, sent once each.
    for user, password in (("bob", "wrong password"), ("ghost", "correct horse battery")):
        transport.paths.clear()
        with pytest.raises(RefusedError) as err:
            api.login(user, password)
        assert err.value.status == 401 and not isinstance(err.value, RateLimitedError)
        assert password not in str(err.value) + repr(err.value)
        assert transport.paths == [f"/api/users/{user}/login"]

    # Setting the password again is a sensitive change: the tokens issued so far are void.
    api.set_user_password("bob", "another good one")
    with pytest.raises(RefusedError) as err:
        api.verify_jwt(pair["access_token"])
    assert err.value.status == 401
    assert api.verify_jwt(api.login("bob", "another good one")["access_token"])["valid"] is True


def test_login_lockout_is_not_retried(factory: Any, kind: str) -> None:
    api, transport = counted(factory, kind)
    api.put_user("bob")
    api.create_role("editor")
    api.add_membership("bob", "editor")
    api.set_user_password("bob", "correct horse battery")
    transport.paths.clear()
    statuses = []
    for _ in range(6):
        with pytest.raises(RefusedError) as err:
            api.login("bob", "wrong password")
        statuses.append(err.value.status)
    assert statuses == [401] * 5 + [429]
    assert isinstance(err.value, RateLimitedError)
    # A 429 is retried for idempotent calls only: the login was sent exactly once per call.
    assert transport.paths == ["/api/users/bob/login"] * 6


def test_login_refused_for_users_without_role_or_not_allowed(api: Any) -> None:
    api.put_user("norole")
    api.set_user_password("norole", "correct horse battery")
    with pytest.raises(RefusedError) as err:
        api.login("norole", "correct horse battery")
    assert err.value.status == 403
    api.create_role("editor")
    api.put_user("denied", "denied")
    api.add_membership("denied", "editor")
    api.set_user_password("denied", "correct horse battery")
    with pytest.raises(RefusedError) as err:
        api.login("denied", "correct horse battery")
    assert err.value.status == 403


def test_require_activation(api: Any) -> None:
    settings = api.get_settings()
    assert set(settings) == {"jwt_audience", "jwt_audience_is_default", "auto_register_users",
                             "require_activation", "strict_users"}
    assert settings["require_activation"] is False and settings["auto_register_users"] is False
    assert settings["strict_users"] is False
    api.create_role("editor")
    api.put_user("newbie")
    api.add_membership("newbie", "editor")
    api.set_user_password("newbie", "correct horse battery")
    assert api.set_require_activation(True)["require_activation"] is True
    assert api.get_settings()["require_activation"] is True
    with pytest.raises(RefusedError) as err:
        api.login("newbie", "correct horse battery")
    assert err.value.status == 403
    api.activate_user("newbie", api.issue_activation_code("newbie")["code"])
    assert api.login("newbie", "correct horse battery")["token_type"] == "Bearer"
    assert api.set_require_activation(None)["require_activation"] is False
    assert api.update_settings(auto_register_users=True, require_activation=False) == {
        **settings, "auto_register_users": True}


# ---------------------------------------------------------------- the async client used natively


async def test_async_native_keys_and_login(server_url: str) -> None:
    transport = AsyncCounting()
    async with AsyncWardenClient(api_key=str(uuid.uuid4()), service_url=server_url,
                                 transport=transport) as auth:
        await auth.create_role("editor")
        await auth.add_permission("editor", "docs:edit")
        await auth.add_membership("ann", "editor")
        created = await auth.create_api_key("ann", "native")
        assert (await auth.validate_api_key(created["api_key"]))["user"] == "ann"
        assert (await auth.check_api_key_permission(created["api_key"], "docs:edit"))["has_permission"] is True
        assert [k["key_id"] for k in await auth.list_api_keys("ann")] == [created["key_id"]]
        await auth.revoke_api_key("ann", created["key_id"])
        assert (await auth.validate_api_key(created["api_key"]))["reason"] == "revoked"

        await auth.put_user("ann")
        await auth.set_user_password("ann", "correct horse battery")
        pair = await auth.login("ann", "correct horse battery")
        assert (await auth.verify_jwt(pair["access_token"]))["claims"]["sub"] == "ann"
        transport.paths.clear()
        with pytest.raises(RefusedError) as err:
            await auth.login("ann", "wrong password")
        assert err.value.status == 401 and transport.paths == ["/api/users/ann/login"]


def test_other_tenant_key_sync_native(server_url: str) -> None:
    with WardenClient(api_key=str(uuid.uuid4()), service_url=server_url) as a, \
            WardenClient(api_key=str(uuid.uuid4()), service_url=server_url) as b:
        secret = a.create_api_key("bob")["api_key"]
        assert b.validate_api_key(secret) == {"valid": False, "reason": "unknown_key"}
