"""Role inheritance against the real server, for the sync and the async clients (and natively async): adding and
removing edges (``created``/``removed`` and the revision), the 409s for a cycle or a chain longer than 16 edges
with their ``reason``, 404 for a missing role, direct and transitive listings of inherited roles, each
``effective`` read next to its direct counterpart (also across pages: the flag must travel with the cursor), and
decisions that follow an edge and stop following it once it is removed."""

from __future__ import annotations

import uuid
from typing import Any, Callable

import httpx
import pytest

from warden_client import AsyncWardenClient, RefusedError


def refused(call: Callable[..., Any], *args: Any) -> RefusedError:
    """The RefusedError the call raises (fails the test when it answers)."""
    with pytest.raises(RefusedError) as err:
        call(*args)
    return err.value


def names(items: list[Any], key: str) -> list[str]:
    return [item[key] for item in items]


@pytest.fixture
def tenant(api: Any) -> Any:
    """admin (users:manage, held by alice), editor (docs:write, bob) and viewer (docs:read, carl); no edges yet."""
    api.create_role("admin", "Administrators")
    api.create_role("editor")
    api.create_role("viewer", "Read-only")
    api.add_permission("admin", "users:manage")
    api.add_permission("editor", "docs:write")
    api.add_permission("viewer", "docs:read")
    api.add_membership("alice", "admin")
    api.add_membership("bob", "editor")
    api.add_membership("carl", "viewer")
    return api


@pytest.fixture
def chain(tenant: Any) -> Any:
    """The tenant with admin -> editor -> viewer."""
    tenant.add_inheritance("admin", "editor")
    tenant.add_inheritance("editor", "viewer")
    return tenant


# ---------------------------------------------------------------- edges


def test_add_inheritance_answers_created_and_revision(tenant: Any) -> None:
    before = tenant.add_permission("viewer", "docs:list")["revision"]
    added = tenant.add_inheritance("admin", "editor")
    assert added["created"] is True
    assert isinstance(added["revision"], int) and added["revision"] > before
    again = tenant.add_inheritance("admin", "editor")
    assert again["created"] is False
    assert again["revision"] == added["revision"]
    assert tenant.add_inheritance("editor", "viewer")["created"] is True
    # A diamond is not a cycle: admin reaches viewer directly as well as through editor.
    assert tenant.add_inheritance("admin", "viewer")["created"] is True


def test_cycle_is_refused_with_409_and_its_reason(chain: Any) -> None:
    err = refused(chain.add_inheritance, "viewer", "admin")
    assert err.status == 409
    assert err.reason == "inheritance_cycle"
    assert err.route == "/api/role/{role}/inherits/{other}"
    err = refused(chain.add_inheritance, "editor", "editor")
    assert err.status == 409 and err.reason == "inheritance_cycle"
    # Nothing was added: viewer still inherits nothing and grants only its own permission.
    assert chain.get_inherited_roles("viewer") == []
    assert chain.role_has_effective_permission("viewer", "users:manage") is False
    assert chain.user_has_permission("carl", "docs:write") is False


def test_chain_longer_than_16_edges_is_refused(api: Any) -> None:
    roles = [f"r{i:02d}" for i in range(18)]
    for role in roles:
        api.create_role(role)
    api.add_permission(roles[16], "deep")
    for upper, lower in zip(roles[:16], roles[1:17]):  # r00 -> … -> r16: 16 edges, the longest allowed
        assert api.add_inheritance(upper, lower)["created"] is True
    assert api.role_has_effective_permission(roles[0], "deep") is True
    err = refused(api.add_inheritance, roles[16], roles[17])
    assert err.status == 409 and err.reason == "inheritance_too_deep"
    err = refused(api.add_inheritance, roles[17], roles[0])
    assert err.status == 409 and err.reason == "inheritance_too_deep"
    assert api.get_inherited_roles(roles[17]) == []


def test_missing_role_is_404(tenant: Any) -> None:
    for call, args in [
        (tenant.add_inheritance, ("admin", "ghost")),
        (tenant.add_inheritance, ("ghost", "admin")),
        (tenant.remove_inheritance, ("admin", "ghost")),
        (tenant.remove_inheritance, ("ghost", "admin")),
        (tenant.get_inherited_roles, ("ghost",)),
        (tenant.get_inherited_roles, ("ghost", True)),
        (tenant.get_effective_role_permissions, ("ghost",)),
        (tenant.get_effective_role_members, ("ghost",)),
        (tenant.has_effective_membership, ("alice", "ghost")),
        (tenant.role_has_effective_permission, ("ghost", "docs:read")),
    ]:
        err = refused(call, *args)
        assert err.status == 404, (call, args, err)
        assert err.reason is None
    assert tenant.get_inherited_roles("admin") == []


# ---------------------------------------------------------------- listings and effective reads


def test_direct_and_transitive_inherited_roles(chain: Any) -> None:
    assert chain.get_inherited_roles("admin") == [{"role": "editor", "description": None}]
    assert chain.get_inherited_roles("admin", transitive=True) == [
        {"role": "editor", "description": None},
        {"role": "viewer", "description": "Read-only"},
    ]
    assert chain.get_inherited_roles("admin", False) == chain.get_inherited_roles("admin")
    assert names(chain.get_inherited_roles("editor", transitive=True), "role") == ["viewer"]
    assert chain.get_inherited_roles("viewer") == []
    assert chain.get_inherited_roles("viewer", transitive=True) == []


def test_effective_reads_follow_inheritance_and_direct_ones_do_not(chain: Any) -> None:
    # Permissions of a role.
    assert chain.get_role_permissions("admin") == [{"name": "users:manage"}]
    assert chain.get_effective_role_permissions("admin") == [
        {"name": "docs:read"}, {"name": "docs:write"}, {"name": "users:manage"}
    ]
    assert chain.get_effective_role_permissions("viewer") == chain.get_role_permissions("viewer")
    # Members of a role: those of every role inheriting it.
    assert chain.get_role_members("viewer") == [{"user": "carl"}]
    assert chain.get_effective_role_members("viewer") == [{"user": "alice"}, {"user": "bob"}, {"user": "carl"}]
    assert chain.get_effective_role_members("admin") == [{"user": "alice"}]
    # Roles of a user.
    assert chain.get_user_roles("alice") == [{"role": "admin", "description": "Administrators"}]
    assert chain.get_effective_user_roles("alice") == [
        {"role": "admin", "description": "Administrators"},
        {"role": "editor", "description": None},
        {"role": "viewer", "description": "Read-only"},
    ]
    assert names(chain.get_effective_user_roles("carl"), "role") == ["viewer"]
    assert chain.get_effective_user_roles("nobody") == []
    # Membership.
    assert chain.has_membership("alice", "viewer") is False
    assert chain.has_effective_membership("alice", "viewer") is True
    assert chain.has_effective_membership("carl", "admin") is False
    assert chain.has_effective_membership("nobody", "viewer") is False
    # A role's permission.
    assert chain.has_permission("admin", "docs:read") is False
    assert chain.role_has_permission("admin", "docs:read") is False
    assert chain.role_has_effective_permission("admin", "docs:read") is True
    assert chain.role_has_effective_permission("viewer", "docs:write") is False
    assert chain.role_has_effective_permission("admin", "docs:delete") is False
    # Decisions were already effective.
    assert chain.user_has_permission("alice", "docs:read") is True
    assert chain.user_has_permission("carl", "users:manage") is False
    assert chain.get_user_permissions("bob") == [{"name": "docs:read"}, {"name": "docs:write"}]
    assert chain.which_users_can("docs:read") == [{"user": "alice"}, {"user": "bob"}, {"user": "carl"}]
    assert names(chain.which_roles_can("docs:read"), "role") == ["admin", "editor", "viewer"]


def test_removing_an_edge_stops_the_inheritance(chain: Any) -> None:
    assert chain.user_has_permission("alice", "docs:read") is True
    assert chain.role_has_effective_permission("editor", "docs:read") is True
    removed = chain.remove_inheritance("editor", "viewer")
    assert removed["removed"] is True and isinstance(removed["revision"], int)
    again = chain.remove_inheritance("editor", "viewer")
    assert again["removed"] is False and again["revision"] == removed["revision"]
    assert chain.user_has_permission("alice", "docs:read") is False
    assert chain.user_has_permission("bob", "docs:read") is False
    assert chain.user_has_permission("alice", "docs:write") is True  # admin -> editor stays
    assert chain.role_has_effective_permission("editor", "docs:read") is False
    assert chain.has_effective_membership("alice", "viewer") is False
    assert chain.get_inherited_roles("admin", transitive=True) == [{"role": "editor", "description": None}]
    assert chain.get_effective_role_members("viewer") == [{"user": "carl"}]
    assert chain.get_effective_role_permissions("admin") == [{"name": "docs:write"}, {"name": "users:manage"}]
    # The edge can be added back.
    assert chain.add_inheritance("editor", "viewer")["created"] is True
    assert chain.user_has_permission("alice", "docs:read") is True


# ---------------------------------------------------------------- paging


LISTINGS = ("/api/role_permissions/", "/api/members/", "/api/user_roles/", "/api/role/")


def one_per_page(request: httpx.Request, seen: list[httpx.URL]) -> None:
    """Asks the listings for pages of one item (so every listing has several pages) and records their URLs."""
    if request.method == "GET" and request.url.path.startswith(LISTINGS):
        request.url = request.url.copy_merge_params({"limit": "1"})
        seen.append(request.url)


class OnePerPage(httpx.BaseTransport):
    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.seen: list[httpx.URL] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        one_per_page(request, self.seen)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


class AsyncOnePerPage(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.seen: list[httpx.URL] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        one_per_page(request, self.seen)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_every_page_keeps_the_flag(chain: Any, factory: Any, kind: str) -> None:
    transport: Any = OnePerPage() if kind == "sync" else AsyncOnePerPage()
    paged = factory(chain.api_key, transport=transport)
    for call, args, key, expected in [
        (paged.get_effective_role_permissions, ("admin",), "effective", ["docs:read", "docs:write", "users:manage"]),
        (paged.get_effective_role_members, ("viewer",), "effective", ["alice", "bob", "carl"]),
        (paged.get_effective_user_roles, ("alice",), "effective", ["admin", "editor", "viewer"]),
        (paged.get_inherited_roles, ("admin", True), "transitive", ["editor", "viewer"]),
    ]:
        transport.seen.clear()
        got = call(*args)
        assert [next(iter(item.values())) for item in got] == expected, (call, got)
        # One request per item plus the last, empty-cursor page at most; each after the first sends a cursor.
        assert len(transport.seen) >= len(expected), transport.seen
        assert all(url.params.get(key) == "true" for url in transport.seen), transport.seen
        assert all("cursor" in url.params for url in transport.seen[1:]), transport.seen
        assert "cursor" not in transport.seen[0].params
    # The direct listings, paged the same way, send no flag and stay direct.
    transport.seen.clear()
    assert paged.get_role_permissions("admin") == [{"name": "users:manage"}]
    assert paged.get_inherited_roles("admin") == [{"role": "editor", "description": None}]
    assert all("effective" not in url.params and "transitive" not in url.params for url in transport.seen)


# ---------------------------------------------------------------- natively async


async def test_native_async_inheritance(server_url: str) -> None:
    async with AsyncWardenClient(api_key=str(uuid.uuid4()), service_url=server_url,
                                 read_your_writes=True) as auth:
        await auth.create_role("lead")
        await auth.create_role("dev")
        await auth.add_permission("dev", "repo:push")
        await auth.add_membership("lena", "lead")
        assert await auth.user_has_permission("lena", "repo:push") is False
        added = await auth.add_inheritance("lead", "dev")
        assert added["created"] is True and auth.revision == added["revision"]
        assert await auth.user_has_permission("lena", "repo:push") is True
        assert await auth.has_effective_membership("lena", "dev") is True
        assert await auth.has_membership("lena", "dev") is False
        assert await auth.get_inherited_roles("lead") == [{"role": "dev", "description": None}]
        with pytest.raises(RefusedError) as err:
            await auth.add_inheritance("dev", "lead")
        assert err.value.status == 409 and err.value.reason == "inheritance_cycle"
        removed = await auth.remove_inheritance("lead", "dev")
        assert removed["removed"] is True and auth.revision == removed["revision"]
        assert await auth.user_has_permission("lena", "repo:push") is False
        assert await auth.get_effective_role_permissions("lead") == []
