"""What each seed-named method of ``EnhancedAuthClient`` answers, against the real server, for the sync and the
async client: exactly the body the seed's ``auth.client`` method returned for the same call (auth 3.7.1: its
routes answered either its envelope or a bare ``{"result": …}``), so code written against the seed runs
unchanged. ``api`` is a Warden client on the same tenant, used to set things up."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import httpx
import pytest

from warden_client import AsyncEnhancedAuthClient, AuthRefused, AuthTransportError, EnhancedAuthClient

ENVELOPE_KEYS = {"success", "code", "message", "data", "timestamp"}


def envelope(resp: Any, message: str) -> Any:
    """Asserts the seed's success envelope (``APIResponse.success``) and gives its ``data``."""
    assert isinstance(resp, dict) and set(resp) == ENVELOPE_KEYS, resp
    assert resp["success"] is True and resp["code"] == 200 and resp["message"] == message
    assert isinstance(resp["timestamp"], str) and not resp["timestamp"].endswith("Z")
    datetime.fromisoformat(resp["timestamp"])
    return resp["data"]


@pytest.fixture
def editor(api: Any) -> Any:
    """A tenant with role editor (docs:edit, docs:read) holding bob and carol, role viewer (docs:read) holding
    carol, and an empty role spare."""
    api.create_role("editor", "Edits")
    api.create_role("viewer")
    api.create_role("spare")
    api.add_permission("editor", "docs:edit")
    api.add_permission("editor", "docs:read")
    api.add_permission("viewer", "docs:read")
    api.add_membership("bob", "editor")
    api.add_membership("carol", "editor")
    api.add_membership("carol", "viewer")
    return api


def test_ping(seed: Any) -> None:
    assert seed.ping() == {"message": "PONG"}


def test_create_role(seed: Any, api: Any) -> None:
    assert seed.create_role("editor") == {"result": True}
    assert seed.create_role("editor") == {"result": True}
    assert api.list_roles() == [{"role": "editor", "description": None}]


def test_delete_role(seed: Any, editor: Any) -> None:
    assert envelope(seed.delete_role("spare"), "Role 'spare' deletion completed") == {"result": True}
    assert envelope(seed.delete_role("spare"), "Role 'spare' deletion completed") == {"result": False}


def test_list_roles(seed: Any, editor: Any) -> None:
    assert seed.list_roles() == {"result": [
        {"role": "editor", "description": "Edits"},
        {"role": "spare", "description": None},
        {"role": "viewer", "description": None},
    ]}


def test_add_permission(seed: Any, editor: Any) -> None:
    assert seed.add_permission("spare", "docs:print") == {"result": True}
    assert seed.add_permission("spare", "docs:print") == {"result": True}
    assert editor.has_permission("spare", "docs:print") is True
    assert seed.add_permission("ghost", "docs:print") == {"result": False}


def test_remove_permission(seed: Any, editor: Any) -> None:
    assert seed.remove_permission("editor", "docs:edit") == {"result": True}
    assert seed.remove_permission("editor", "docs:edit") == {"result": True}
    assert seed.remove_permission("ghost", "docs:edit") == {"result": True}
    assert editor.has_permission("editor", "docs:edit") is False


def test_has_permission(seed: Any, editor: Any) -> None:
    assert seed.has_permission("editor", "docs:edit") == {"result": True}
    assert seed.has_permission("viewer", "docs:edit") == {"result": False}
    assert seed.has_permission("ghost", "docs:edit") == {"result": False}


def test_get_role_permissions(seed: Any, editor: Any) -> None:
    message = "Retrieved permissions for role '{}'"
    assert envelope(seed.get_role_permissions("editor"), message.format("editor")) == [
        {"name": "docs:edit"}, {"name": "docs:read"}]
    assert envelope(seed.get_role_permissions("spare"), message.format("spare")) == []
    assert envelope(seed.get_role_permissions("ghost"), message.format("ghost")) == []


def test_which_roles_can(seed: Any, editor: Any) -> None:
    assert seed.which_roles_can("docs:read") == {"result": [{"role": "editor"}, {"role": "viewer"}]}
    assert seed.which_roles_can("docs:none") == {"result": []}


def test_add_membership(seed: Any, editor: Any) -> None:
    assert seed.add_membership("dave", "viewer") == {"result": True}
    assert seed.add_membership("dave", "viewer") == {"result": True}
    assert editor.has_membership("dave", "viewer") is True
    assert seed.add_membership("dave", "ghost") == {"result": False}


def test_remove_membership(seed: Any, editor: Any) -> None:
    assert seed.remove_membership("bob", "editor") == {"result": True}
    assert seed.remove_membership("bob", "editor") == {"result": True}
    assert seed.remove_membership("bob", "ghost") == {"result": True}
    assert editor.has_membership("bob", "editor") is False


def test_has_membership(seed: Any, editor: Any) -> None:
    message = "Membership check for user '{}' and group '{}' completed"
    resp = seed.has_membership("bob", "editor")
    assert envelope(resp, message.format("bob", "editor")) == {"has_permission": True}
    assert resp["data"]["has_permission"] is True
    assert envelope(seed.has_membership("bob", "viewer"), message.format("bob", "viewer")) == {
        "has_permission": False}
    assert envelope(seed.has_membership("bob", "ghost"), message.format("bob", "ghost")) == {
        "has_permission": False}


def test_get_user_roles(seed: Any, editor: Any) -> None:
    assert seed.get_user_roles("carol") == {"result": [
        {"user": "carol", "role": "editor"}, {"user": "carol", "role": "viewer"}]}
    assert seed.get_user_roles("nobody") == {"result": []}


def test_get_role_members(seed: Any, editor: Any) -> None:
    assert seed.get_role_members("editor") == {"result": [
        {"user": "bob", "role": "editor"}, {"user": "carol", "role": "editor"}]}
    assert seed.get_role_members("spare") == {"result": []}
    assert seed.get_role_members("ghost") == {"result": []}


def test_user_has_permission(seed: Any, editor: Any) -> None:
    message = "Permission check for user '{}' and permission '{}' completed"
    resp = seed.user_has_permission("bob", "docs:edit")
    assert resp["data"]["has_permission"] is True
    assert envelope(resp, message.format("bob", "docs:edit")) == {"has_permission": True}
    assert envelope(seed.user_has_permission("bob", "docs:delete"), message.format("bob", "docs:delete")) == {
        "has_permission": False}
    assert envelope(seed.user_has_permission("nobody", "docs:edit"), message.format("nobody", "docs:edit")) == {
        "has_permission": False}


def test_get_user_permissions(seed: Any, editor: Any) -> None:
    data = envelope(seed.get_user_permissions("bob"), "Retrieved permissions for user 'bob'")
    assert data == {"count": 2, "permissions": [{"name": "docs:edit"}, {"name": "docs:read"}]}
    assert envelope(seed.get_user_permissions("nobody"), "Retrieved permissions for user 'nobody'") == {
        "count": 0, "permissions": []}


def test_which_users_can(seed: Any, editor: Any) -> None:
    # One item per (role granting it, member of that role), as the seed answered: carol twice.
    assert seed.which_users_can("docs:read") == {"result": [
        {"user": "bob", "role": "editor"}, {"user": "carol", "role": "editor"},
        {"user": "carol", "role": "viewer"}]}
    assert seed.which_users_can("docs:edit") == {"result": [
        {"user": "bob", "role": "editor"}, {"user": "carol", "role": "editor"}]}
    assert seed.which_users_can("docs:none") == {"result": []}


def test_get_users_for_workflow(seed: Any, editor: Any) -> None:
    message = "Retrieved users who can run workflow '{}'"
    assert envelope(seed.get_users_for_workflow("docs:read"), message.format("docs:read")) == {
        "count": 3,
        "members": [{"user": "bob", "role": "editor"}, {"user": "carol", "role": "editor"},
                    {"user": "carol", "role": "viewer"}],
    }
    assert envelope(seed.get_users_for_workflow("deploy"), message.format("deploy")) == {"count": 0, "members": []}


def test_check_user_workflow_permission(seed: Any, editor: Any) -> None:
    message = "Workflow permission check for user '{}' and workflow '{}' completed"
    resp = seed.check_user_workflow_permission("carol", "docs:read")
    assert envelope(resp, message.format("carol", "docs:read")) == {"has_permission": True}
    assert envelope(seed.check_user_workflow_permission("eve", "docs:read"), message.format("eve", "docs:read")) == {
        "has_permission": False}


def test_get_settings(seed: Any, api: Any) -> None:
    data = envelope(seed.get_settings(), "Tenant settings")
    assert data["strict_users"] is False
    assert data == api.get_settings()
    api.set_strict_users(True)
    assert envelope(seed.get_settings(), "Tenant settings")["strict_users"] is True


def test_set_strict_users(seed: Any, api: Any) -> None:
    assert envelope(seed.set_strict_users(True), "Tenant settings updated") == {"strict_users": True}
    assert api.get_settings()["strict_users"] is True
    assert envelope(seed.set_strict_users(False), "Tenant settings updated") == {"strict_users": False}
    assert api.get_settings()["strict_users"] is False


def test_close(factory: Any) -> None:
    client = factory(seed=True)
    assert client.ping() == {"message": "PONG"}
    client.close()


# ---------------------------------------------------------------- per-user API keys (auth 3.7.1 routes/apikeys.py)

CREATED_KEYS = {"api_key", "key_id", "user", "label", "key_prefix", "created", "expires_at"}
META_KEYS = {"key_id", "key_prefix", "label", "is_active", "created", "revoked_at", "expires_at", "last_used_at"}


def seed_time(value: Any) -> datetime:
    """The seed's times: naive UTC ISO 8601 (no ``Z``), readable by ``datetime.fromisoformat`` on 3.10."""
    assert isinstance(value, str) and not value.endswith("Z"), value
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is None
    return parsed


def test_create_api_key(seed: Any) -> None:
    expires = datetime.now(timezone.utc).replace(microsecond=0, tzinfo=None) + timedelta(days=30)
    resp = seed.create_api_key("bob", "ci", expires)
    data = envelope(resp, "API key created for user 'bob'. The api_key value is shown only once \u2014 store it now.")
    assert set(data) == CREATED_KEYS
    assert re.fullmatch(r"rak_[0-9A-Za-z]{43}", data["api_key"]) and data["key_prefix"] == data["api_key"][:12]
    assert data["user"] == "bob" and data["label"] == "ci"
    assert seed_time(data["expires_at"]) == expires
    seed_time(data["created"])
    plain = envelope(seed.create_api_key("bob"), resp["message"])
    assert plain["label"] is None and plain["expires_at"] is None


def test_list_api_keys(seed: Any) -> None:
    created = seed.create_api_key("bob", "ci")["data"]
    data = envelope(seed.list_api_keys("bob"), "API keys for user 'bob'")
    assert set(data) == {"count", "keys"} and data["count"] == 1
    (key,) = data["keys"]
    assert set(key) == META_KEYS
    assert key["key_id"] == created["key_id"] and key["key_prefix"] == created["key_prefix"]
    assert key["label"] == "ci" and key["is_active"] is True and key["created"] == created["created"]
    assert key["revoked_at"] is None and key["expires_at"] is None and key["last_used_at"] is None
    assert created["api_key"] not in json.dumps(data)
    assert envelope(seed.list_api_keys("nobody"), "API keys for user 'nobody'") == {"count": 0, "keys": []}


def test_set_api_key_expiry(seed: Any) -> None:
    later = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=30)
    key_id = seed.create_api_key("bob", None, later)["data"]["key_id"]
    earlier = later - timedelta(days=10)
    data = envelope(seed.set_api_key_expiry("bob", key_id, earlier), f"API key {key_id} expiry set for user 'bob'")
    assert set(data) == META_KEYS and data["key_id"] == key_id
    assert seed_time(data["expires_at"]) == earlier.replace(tzinfo=None)
    with pytest.raises(AuthRefused) as err:
        seed.set_api_key_expiry("bob", key_id, later)  # only earlier, as the seed
    assert err.value.status == 400


def test_revoke_api_key(seed: Any) -> None:
    key_id = seed.create_api_key("bob")["data"]["key_id"]
    message = f"API key {key_id} revoked for user 'bob'"
    assert envelope(seed.revoke_api_key("bob", key_id), message) == {"revoked": True, "already_revoked": False}
    assert envelope(seed.revoke_api_key("bob", key_id), message) == {"revoked": True, "already_revoked": True}
    revoked = seed.list_api_keys("bob")["data"]["keys"][0]
    assert revoked["is_active"] is False and seed_time(revoked["revoked_at"])
    with pytest.raises(AuthRefused) as err:
        seed.revoke_api_key("bob", str(uuid.uuid4()))
    assert err.value.status == 404


def test_validate_api_key(seed: Any, factory: Any, key: str) -> None:
    created = seed.create_api_key("bob", "ci")["data"]
    message = "API key validation completed"
    resp = seed.validate_api_key(created["api_key"])
    assert resp["data"]["valid"] is True
    assert envelope(resp, message) == {"valid": True, "user": "bob", "key_id": created["key_id"], "label": "ci",
                                       "expires_at": None}
    other = factory(seed=True)  # another tenant
    assert envelope(other.validate_api_key(created["api_key"]), message) == {"valid": False,
                                                                             "reason": "unknown_key"}
    seed.revoke_api_key("bob", created["key_id"])
    assert envelope(seed.validate_api_key(created["api_key"]), message) == {"valid": False, "reason": "revoked"}
    with pytest.raises(AuthRefused) as err:
        seed.validate_api_key("not-a-key")
    assert err.value.status == 400


def test_check_api_key_permission(seed: Any, editor: Any) -> None:
    created = seed.create_api_key("bob")["data"]
    message = "API-key permission check completed"
    resp = seed.check_api_key_permission(created["api_key"], "docs:edit")
    assert resp["data"]["has_permission"] is True
    assert envelope(resp, message) == {"valid": True, "user": "bob", "key_id": created["key_id"],
                                       "has_permission": True}
    assert envelope(seed.check_api_key_permission(created["api_key"], "docs:delete"), message) == {
        "valid": True, "user": "bob", "key_id": created["key_id"], "has_permission": False}
    seed.revoke_api_key("bob", created["key_id"])
    assert envelope(seed.check_api_key_permission(created["api_key"], "docs:edit"), message) == {
        "valid": False, "reason": "revoked"}


def test_api_key_cap_raises_409(seed: Any) -> None:
    for i in range(25):
        seed.create_api_key("capped", f"k{i}")
    with pytest.raises(AuthRefused) as err:
        seed.create_api_key("capped", "k25")
    # The seed answered 400 for its cap; Warden answers 409. Both raise AuthRefused.
    assert err.value.status == 409 and err.value.payload is not None and err.value.payload["success"] is False
    assert seed.list_api_keys("capped")["data"]["count"] == 25


def test_refusals_raise_like_the_seed(seed: Any) -> None:
    with pytest.raises(AuthRefused) as err:
        seed.user_has_permission("bad name", "docs:read")
    assert err.value.status == 400
    assert err.value.payload is not None and err.value.payload["code"] == 400


def test_no_answer_raises_auth_transport_error() -> None:
    client = EnhancedAuthClient(api_key=str(uuid.uuid4()), service_url="http://127.0.0.1:9", max_retries=0)
    with pytest.raises(AuthTransportError) as err:
        client.user_has_permission("bob", "docs:read")
    assert not isinstance(err.value, AuthRefused)
    client.close()


def test_warden_view_shares_the_client(seed: Any, editor: Any) -> None:
    assert seed.warden.user_has_permission("bob", "docs:edit") is True
    assert seed.warden.list_roles() == editor.list_roles()
    # The methods that are not the seed's are Warden's on both.
    seed.put_user("bob")
    assert seed.get_user("bob")["roles"] == ["editor"]


# ---------------------------------------------------------------- the unserved rotate_key's answer, and paging

KEY = "3f6b9a52-8d1e-4c27-9b0a-1e2d3c4b5a69"
NEW_KEY = "0b7e3c1a-5f2d-4e6b-8a9c-7d1e2f3a4b5c"
ROTATED = {"success": True, "code": 200, "message": "ok", "data": {"new_key": NEW_KEY, "migrated": {"roles": 1}},
           "timestamp": "2026-12-03T10:00:00.000001"}


def rotate_server(seen: list[httpx.Request]) -> Callable[[httpx.Request], httpx.Response]:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if (request.method, request.url.path) == ("POST", "/api/keys/rotate"):
            return httpx.Response(200, json=ROTATED)
        return httpx.Response(200, json={**ROTATED, "data": []})
    return answer


def test_rotate_key_answers_as_it_comes() -> None:
    seen: list[httpx.Request] = []
    client = EnhancedAuthClient(KEY, "http://warden.test", transport=httpx.MockTransport(rotate_server(seen)))
    assert client.rotate_key() == ROTATED
    assert client.api_key == NEW_KEY
    client.list_roles()
    assert seen[0].headers["Authorization"] == f"Bearer {KEY}"
    assert seen[1].headers["Authorization"] == f"Bearer {NEW_KEY}"
    client.close()


async def test_rotate_key_answers_as_it_comes_async() -> None:
    seen: list[httpx.Request] = []
    client = AsyncEnhancedAuthClient(KEY, "http://warden.test", transport=httpx.MockTransport(rotate_server(seen)))
    assert (await client.rotate_key())["data"]["new_key"] == NEW_KEY
    assert client.api_key == NEW_KEY
    await client.close()


def test_listings_follow_every_page() -> None:
    def pages(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        items = [{"role": "a", "description": None}] if cursor is None else [{"role": "b", "description": "B"}]
        body = {"success": True, "code": 200, "message": "roles listed", "data": items,
                "next_cursor": None if cursor else "c1", "timestamp": "2026-12-03T10:00:00.000001Z"}
        return httpx.Response(200, json=body)

    client = EnhancedAuthClient(KEY, "http://warden.test", transport=httpx.MockTransport(pages))
    assert client.list_roles() == {"result": [{"role": "a", "description": None}, {"role": "b", "description": "B"}]}
    client.close()
