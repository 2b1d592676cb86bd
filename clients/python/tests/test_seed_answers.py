"""What each seed-named method of ``EnhancedAuthClient`` answers, against the real server, for the sync and the
async client: exactly the body the seed's ``auth.client`` method returned for the same call (auth 3.7.1: its
routes answered either its envelope or a bare ``{"result": …}``), so code written against the seed runs
unchanged. ``api`` is a Warden client on the same tenant, used to set things up."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
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
    assert data == {"strict_users": False, **api.get_settings()}


def test_set_strict_users(seed: Any) -> None:
    assert envelope(seed.set_strict_users(False), "Tenant settings updated") == {"strict_users": False}
    # Warden has no strict user identity: turning it on is refused, as the seed refused what it did not accept.
    with pytest.raises(AuthRefused) as err:
        seed.set_strict_users(True)
    assert err.value.status == 422 and isinstance(err.value.payload, dict)


def test_close(factory: Any) -> None:
    client = factory(seed=True)
    assert client.ping() == {"message": "PONG"}
    client.close()


# Routes Warden does not serve (yet): the seed's client raised AuthRefused for a 404 and so do these methods.
UNSERVED: list[tuple[str, tuple[Any, ...]]] = [
    ("rotate_key", ()),
    ("create_api_key", ("bob", "ci", "2030-01-01T00:00:00")),
    ("set_api_key_expiry", ("bob", str(uuid.uuid4()), "2030-01-01T00:00:00")),
    ("list_api_keys", ("bob",)),
    ("revoke_api_key", ("bob", str(uuid.uuid4()))),
    ("validate_api_key", ("rak_" + "A" * 43,)),
    ("check_api_key_permission", ("rak_" + "A" * 43, "docs:read")),
]


@pytest.mark.parametrize("name,args", UNSERVED, ids=[name for name, _ in UNSERVED])
def test_unserved_seed_routes_raise_like_the_seed(seed: Any, name: str, args: tuple[Any, ...]) -> None:
    key = seed.api_key
    with pytest.raises(AuthRefused) as err:
        getattr(seed, name)(*args)
    assert isinstance(err.value, AuthTransportError)
    assert err.value.status == 404
    assert err.value.payload is not None and err.value.payload["success"] is False
    assert seed.api_key == key


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


# ---------------------------------------------------------------- the unserved routes' answers, and paging

KEY = "3f6b9a52-8d1e-4c27-9b0a-1e2d3c4b5a69"
NEW_KEY = "0b7e3c1a-5f2d-4e6b-8a9c-7d1e2f3a4b5c"


def seed_answer(data: Any) -> dict[str, Any]:
    return {"success": True, "code": 200, "message": "ok", "data": data, "timestamp": "2026-12-03T10:00:00.000001"}


ANSWERS: dict[tuple[str, str], Any] = {
    ("POST", "/api/keys/rotate"): {"new_key": NEW_KEY, "migrated": {"roles": 1}},
    ("POST", "/api/apikeys/user/bob"): {"api_key": "rak_" + "B" * 43, "key_id": "k1", "label": "ci"},
    ("PATCH", "/api/apikeys/user/bob/k1"): {"key_id": "k1", "expires_at": "2030-01-01T00:00:00"},
    ("GET", "/api/apikeys/user/bob"): {"count": 1, "keys": [{"key_id": "k1", "is_active": True}]},
    ("DELETE", "/api/apikeys/user/bob/k1"): {"revoked": True, "already_revoked": False},
    ("POST", "/api/apikeys/validate"): {"valid": True, "user": "bob", "key_id": "k1"},
    ("POST", "/api/apikeys/check_permission"): {"valid": True, "user": "bob", "has_permission": True},
}


def seed_server(seen: list[httpx.Request]) -> Callable[[httpx.Request], httpx.Response]:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=seed_answer(ANSWERS[(request.method, request.url.path)]))
    return answer


def calls(client: Any) -> list[tuple[str, Any]]:
    return [
        ("create_api_key", client.create_api_key("bob", "ci")),
        ("set_api_key_expiry", client.set_api_key_expiry("bob", "k1", datetime(2030, 1, 1))),
        ("list_api_keys", client.list_api_keys("bob")),
        ("revoke_api_key", client.revoke_api_key("bob", "k1")),
        ("validate_api_key", client.validate_api_key("rak_" + "B" * 43)),
        ("check_api_key_permission", client.check_api_key_permission("rak_" + "B" * 43, "docs:read")),
        ("rotate_key", client.rotate_key()),
    ]


def test_unserved_routes_answer_as_they_come() -> None:
    seen: list[httpx.Request] = []
    client = EnhancedAuthClient(KEY, "http://warden.test", transport=httpx.MockTransport(seed_server(seen)))
    for (name, resp), request in zip(calls(client), seen):
        assert resp == seed_answer(ANSWERS[(request.method, request.url.path)]), name
    assert json.loads(seen[1].content) == {"expires_at": "2030-01-01T00:00:00Z"}
    assert json.loads(seen[4].content) == {"api_key": "rak_" + "B" * 43}
    assert client.api_key == NEW_KEY
    assert seen[-1].headers["Authorization"] == f"Bearer {KEY}"
    client.close()


async def test_unserved_routes_answer_as_they_come_async() -> None:
    seen: list[httpx.Request] = []
    client = AsyncEnhancedAuthClient(KEY, "http://warden.test", transport=httpx.MockTransport(seed_server(seen)))
    assert await client.list_api_keys("bob") == seed_answer(ANSWERS[("GET", "/api/apikeys/user/bob")])
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
