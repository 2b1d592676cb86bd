"""Pattern grants (``*`` in a granted permission) and explained decisions against the real server, for the sync
and the async clients (and natively async): a ``docs:*`` grant answers for ``docs:read`` and ``docs:`` but not
``doc:read``, reaches ``which_users_can`` / ``which_roles_can``, is listed as written and can be revoked; the
``*`` travels through the path as ``%2A``; asking about a ``*`` is a 400; ``explain_user_permission`` gives the
membership, the inheritance chain and the grant of a positive answer, and no ``explanation`` for a denial."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any, Callable

import httpx
import pytest

from warden_client import AsyncWardenClient, RefusedError


def refused(call: Callable[..., Any], *args: Any) -> RefusedError:
    """The RefusedError the call raises (fails the test when it answers)."""
    with pytest.raises(RefusedError) as err:
        call(*args)
    return err.value


@pytest.fixture
def writers(api: Any) -> Any:
    """``writer`` holds the pattern ``docs:*`` (wendy is a member); ``reader`` holds ``docs:read`` only (rita)."""
    api.create_role("writer")
    api.create_role("reader")
    assert api.add_permission("writer", "docs:*")["created"] is True
    api.add_permission("reader", "docs:read")
    api.add_membership("wendy", "writer")
    api.add_membership("rita", "reader")
    return api


@pytest.fixture
def hierarchy(api: Any) -> Any:
    """admin -> editor -> viewer; viewer holds the pattern ``deploy:*``, editor ``docs:write``; alice is in admin
    for an hour, vic in viewer for good, carl in no role."""
    for role in ("admin", "editor", "viewer"):
        api.create_role(role)
    api.add_inheritance("admin", "editor")
    api.add_inheritance("editor", "viewer")
    api.add_permission("viewer", "deploy:*")
    api.add_permission("editor", "docs:write")
    api.add_membership("alice", "admin", ttl_seconds=3600)
    api.add_membership("vic", "viewer")
    api.create_role("other")
    api.add_membership("carl", "other")
    return api


# ---------------------------------------------------------------- pattern grants


def test_pattern_grant_matches_any_run_of_characters(writers: Any) -> None:
    assert writers.user_has_permission("wendy", "docs:read") is True
    assert writers.user_has_permission("wendy", "docs:write") is True
    assert writers.user_has_permission("wendy", "docs:") is True  # `*` matches the empty run too
    assert writers.user_has_permission("wendy", "doc:read") is False
    assert writers.user_has_permission("wendy", "docs") is False
    assert writers.user_has_permission("wendy", "xdocs:read") is False
    # The plain grant stays plain.
    assert writers.user_has_permission("rita", "docs:read") is True
    assert writers.user_has_permission("rita", "docs:write") is False


def test_reverse_lookups_include_the_pattern_holders(writers: Any) -> None:
    assert writers.which_users_can("docs:read") == [{"user": "rita"}, {"user": "wendy"}]
    assert writers.which_users_can("docs:write") == [{"user": "wendy"}]
    assert writers.which_users_can("doc:read") == []
    assert [r["role"] for r in writers.which_roles_can("docs:read")] == ["reader", "writer"]
    assert [r["role"] for r in writers.which_roles_can("docs:delete")] == ["writer"]


def test_grants_are_listed_and_read_as_written(writers: Any) -> None:
    assert writers.get_role_permissions("writer") == [{"name": "docs:*"}]
    assert writers.get_user_permissions("wendy") == [{"name": "docs:*"}]
    # The direct read is about rows: the pattern row exists, `docs:read` does not; the effective read matches.
    assert writers.role_has_permission("writer", "docs:*") is True
    assert writers.has_permission("writer", "docs:*") is True
    assert writers.role_has_permission("writer", "docs:read") is False
    assert writers.role_has_effective_permission("writer", "docs:read") is True
    assert writers.role_has_effective_permission("writer", "doc:read") is False
    assert writers.role_has_permission("reader", "docs:*") is False


def test_granting_again_and_revoking_a_pattern(writers: Any) -> None:
    again = writers.add_permission("writer", "docs:*")
    assert again["created"] is False
    removed = writers.remove_permission("writer", "docs:*")
    assert removed["removed"] is True and isinstance(removed["revision"], int)
    assert writers.remove_permission("writer", "docs:*")["removed"] is False
    assert writers.role_has_permission("writer", "docs:*") is False
    assert writers.get_role_permissions("writer") == []
    assert writers.user_has_permission("wendy", "docs:read") is False
    assert writers.which_users_can("docs:read") == [{"user": "rita"}]


class Recording(httpx.BaseTransport):
    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.seen: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


class AsyncRecording(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.seen: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_the_star_reaches_the_server_percent_encoded(factory: Any, kind: str) -> None:
    transport: Any = Recording() if kind == "sync" else AsyncRecording()
    api = factory(transport=transport)
    api.create_role("writer")
    transport.seen.clear()
    assert api.add_permission("writer", "docs:*")["created"] is True
    assert api.has_permission("writer", "docs:*") is True
    assert api.role_has_effective_permission("writer", "docs:*") is True
    assert api.remove_permission("writer", "docs:*")["removed"] is True
    # On the wire the star is `*` or `%2A` (both mean `*`); never double-encoded nor dropped.
    paths = [(r.method, r.url.raw_path.decode().split("?")[0].replace("%2A", "*")) for r in transport.seen]
    assert paths == [
        ("POST", "/api/permission/writer/docs%3A*"),
        ("GET", "/api/permission/writer/docs%3A*"),
        ("GET", "/api/permission/writer/docs%3A*"),
        ("DELETE", "/api/permission/writer/docs%3A*"),
    ]
    # And the server decoded it back to `*`: the grant was a pattern, not a literal `docs:%2A`.
    api.add_permission("writer", "docs:*")
    api.add_membership("wendy", "writer")
    assert api.user_has_permission("wendy", "docs:read") is True
    assert api.get_role_permissions("writer") == [{"name": "docs:*"}]


def test_asking_about_a_star_is_a_400(writers: Any) -> None:
    for call, args, route in [
        (writers.user_has_permission, ("wendy", "docs:*"), "/api/has_permission/{user}/{name}"),
        (writers.explain_user_permission, ("wendy", "docs:*"), "/api/has_permission/{user}/{name}"),
        (writers.which_users_can, ("docs:*",), "/api/which_users_can/{name}"),
        (writers.which_roles_can, ("docs:*",), "/api/which_roles_can/{name}"),
        (writers.get_user_permissions, ("wen*",), "/api/user_permissions/{user}"),
        (writers.add_membership, ("w*", "writer"), "/api/membership/{user}/{role}"),
        (writers.create_role, ("wri*",), "/api/role/{role}"),
    ]:
        err = refused(call, *args)
        assert err.status == 400, (call, args, err)
        assert err.route == route, (call, args, err)
        assert err.reason is None
    # Nothing was created by the refused writes.
    assert [r["role"] for r in writers.list_roles()] == ["reader", "writer"]
    assert writers.get_role_members("writer") == [{"user": "wendy"}]


# ---------------------------------------------------------------- explanations


def test_explanation_through_two_levels_to_a_pattern_grant(hierarchy: Any) -> None:
    answer = hierarchy.explain_user_permission("alice", "deploy:prod")
    assert set(answer) == {"has_permission", "explanation"}
    assert answer["has_permission"] is True
    why = answer["explanation"]
    assert set(why) == {"membership", "inheritance", "grant"}
    assert why["inheritance"] == ["admin", "editor", "viewer"]
    assert why["grant"] == {"role": "viewer", "permission": "deploy:*", "pattern": True}
    membership = why["membership"]
    assert membership["role"] == "admin"
    assert membership["scope"] is None
    expires = datetime.fromisoformat(membership["expires_at"].replace("Z", "+00:00"))
    left = (expires - datetime.now(timezone.utc)).total_seconds()
    assert 3000 < left <= 3600, membership
    # The plain answer agrees.
    assert hierarchy.user_has_permission("alice", "deploy:prod") is True


def test_explanation_of_a_plain_grant_one_level_up(hierarchy: Any) -> None:
    why = hierarchy.explain_user_permission("alice", "docs:write")["explanation"]
    assert why["inheritance"] == ["admin", "editor"]
    assert why["grant"] == {"role": "editor", "permission": "docs:write", "pattern": False}
    assert why["membership"]["role"] == "admin"


def test_explanation_of_a_direct_grant(hierarchy: Any) -> None:
    answer = hierarchy.explain_user_permission("vic", "deploy:")
    assert answer["has_permission"] is True
    assert answer["explanation"] == {
        "membership": {"role": "viewer", "scope": None, "expires_at": None},
        "inheritance": ["viewer"],
        "grant": {"role": "viewer", "permission": "deploy:*", "pattern": True},
    }


def test_the_shortest_path_is_explained(hierarchy: Any) -> None:
    hierarchy.add_permission("admin", "deploy:prod")
    why = hierarchy.explain_user_permission("alice", "deploy:prod")["explanation"]
    assert why["inheritance"] == ["admin"]
    assert why["grant"] == {"role": "admin", "permission": "deploy:prod", "pattern": False}
    # Another deploy permission still comes from the pattern, two levels down.
    assert hierarchy.explain_user_permission("alice", "deploy:dev")["explanation"]["inheritance"] == [
        "admin", "editor", "viewer"
    ]


def test_a_denial_has_no_explanation(hierarchy: Any) -> None:
    for user, name in [
        ("vic", "docs:write"),  # viewer does not inherit editor
        ("alice", "deplo:prod"),  # near miss of the pattern
        ("carl", "deploy:prod"),  # a member of an unrelated role
        ("nobody", "deploy:prod"),  # no membership at all
    ]:
        answer = hierarchy.explain_user_permission(user, name)
        assert answer == {"has_permission": False}, (user, name, answer)
        assert hierarchy.user_has_permission(user, name) is False


def test_explanation_follows_the_change_of_a_grant(hierarchy: Any) -> None:
    assert hierarchy.explain_user_permission("vic", "deploy:prod")["has_permission"] is True
    hierarchy.remove_permission("viewer", "deploy:*")
    assert hierarchy.explain_user_permission("vic", "deploy:prod") == {"has_permission": False}
    assert hierarchy.explain_user_permission("alice", "deploy:prod") == {"has_permission": False}


def test_explain_is_an_rbac_read(factory: Any, kind: str) -> None:
    transport: Any = Recording() if kind == "sync" else AsyncRecording()
    api = factory(transport=transport, read_your_writes=True)
    api.create_role("viewer")
    added = api.add_permission("viewer", "deploy:*")
    api.add_membership("vic", "viewer")
    transport.seen.clear()
    assert api.explain_user_permission("vic", "deploy:x")["has_permission"] is True
    (request,) = transport.seen
    assert request.method == "GET"
    assert request.url.params.get("explain") == "true"
    assert int(request.url.params["min_revision"]) >= added["revision"]
    assert request.url.raw_path.decode().split("?")[0] == "/api/has_permission/vic/deploy%3Ax"


# ---------------------------------------------------------------- natively async


async def test_native_async_patterns_and_explanation(server_url: str) -> None:
    async with AsyncWardenClient(api_key=str(uuid.uuid4()), service_url=server_url,
                                 read_your_writes=True) as auth:
        await auth.create_role("lead")
        await auth.create_role("dev")
        await auth.add_inheritance("lead", "dev")
        assert (await auth.add_permission("dev", "repo:*"))["created"] is True
        await auth.add_membership("lena", "lead")
        assert await auth.user_has_permission("lena", "repo:push") is True
        assert await auth.user_has_permission("lena", "rep:push") is False
        assert await auth.which_users_can("repo:push") == [{"user": "lena"}]
        assert await auth.role_has_permission("dev", "repo:*") is True
        assert await auth.role_has_permission("dev", "repo:push") is False
        assert await auth.role_has_effective_permission("lead", "repo:push") is True
        answer = await auth.explain_user_permission("lena", "repo:push")
        assert answer == {
            "has_permission": True,
            "explanation": {
                "membership": {"role": "lead", "scope": None, "expires_at": None},
                "inheritance": ["lead", "dev"],
                "grant": {"role": "dev", "permission": "repo:*", "pattern": True},
            },
        }
        assert await auth.explain_user_permission("lena", "rep:push") == {"has_permission": False}
        with pytest.raises(RefusedError) as err:
            await auth.user_has_permission("lena", "repo:*")
        assert err.value.status == 400
        assert (await auth.remove_permission("dev", "repo:*"))["removed"] is True
        assert await auth.explain_user_permission("lena", "repo:push") == {"has_permission": False}
