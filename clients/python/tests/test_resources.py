"""Resources and scoped memberships against the real server, for the sync and the async clients (and natively
async): ``put_resource`` / ``get_resource`` / ``delete_resource`` / ``list_resources`` with their answers and
refusals (404 ``resource_not_found``, 409 ``resource_cycle`` / ``resource_too_deep`` / ``resource_has_children``,
413, 400), memberships scoped with ``resource=`` granting at the resource and everything below it, the checks and
listings asked ``at`` a resource, ``explain_user_permission`` naming the deciding membership's scope,
``get_user_resources``, paging (the ``resource`` and ``type`` parameters travel with the cursor) and what goes on the
wire."""

from __future__ import annotations

import inspect
import uuid
from typing import Any, Callable

import httpx
import pytest

from warden_client import AsyncWardenClient, RefusedError, WardenClient

RESOURCE = "/api/resources/{type}/{id}"
MEMBERSHIP = "/api/membership/{user}/{role}"


def refused(call: Callable[..., Any], *args: Any, **kwargs: Any) -> RefusedError:
    """The RefusedError the call raises (fails the test when it answers)."""
    with pytest.raises(RefusedError) as err:
        call(*args, **kwargs)
    return err.value


@pytest.fixture
def tree(api: Any) -> Any:
    """org:1 › folder:7 › folder:8 › folder:9 › document:42, and document:43 directly under org:1; ``editor``
    grants ``docs:edit``; alice is in editor scoped to folder:7."""
    api.put_resource("org", "1", properties={"name": "Acme"})
    api.put_resource("folder", "7", parent="org:1")
    api.put_resource("folder", "8", parent="folder:7")
    api.put_resource("folder", "9", parent="folder:8")
    api.put_resource("document", "42", parent="folder:9", properties={"title": "Q3 report", "pages": 12})
    api.put_resource("document", "43", parent="org:1")
    api.create_role("editor", "Editors")
    api.add_permission("editor", "docs:edit")
    added = api.add_membership("alice", "editor", resource="folder:7")
    assert added["created"] is True and isinstance(added["revision"], int)
    return api


# ---------------------------------------------------------------- resources


def test_put_resource_answers_created_changed_and_revision(api: Any) -> None:
    created = api.put_resource("org", "1")
    assert created == {"created": True, "changed": True, "revision": created["revision"]}
    assert isinstance(created["revision"], int)
    same = api.put_resource("org", "1")
    assert same == {"created": False, "changed": False, "revision": created["revision"]}
    changed = api.put_resource("org", "1", properties={"plan": "gold"})
    assert changed["created"] is False and changed["changed"] is True
    assert changed["revision"] > created["revision"]
    child = api.put_resource("folder", "7", "org:1")  # parent positionally
    assert child["created"] is True and child["revision"] > changed["revision"]


def test_get_resource_returns_parent_and_properties(tree: Any) -> None:
    doc = tree.get_resource("document", "42")
    assert set(doc) == {"resource", "type", "id", "parent", "properties", "created_at", "updated_at"}
    assert doc["resource"] == "document:42"
    assert doc["type"] == "document" and doc["id"] == "42"
    assert doc["parent"] == "folder:9"
    assert doc["properties"] == {"title": "Q3 report", "pages": 12}
    assert doc["created_at"].endswith("Z") and doc["updated_at"] >= doc["created_at"]
    root = tree.get_resource("org", "1")
    assert root["parent"] is None and root["properties"] == {"name": "Acme"}
    assert tree.get_resource("document", "43")["properties"] == {}


def test_a_put_states_the_resource_whole(tree: Any) -> None:
    # Omitted fields are cleared: no properties, no parent.
    answer = tree.put_resource("document", "42", parent="folder:9")
    assert answer["created"] is False and answer["changed"] is True
    doc = tree.get_resource("document", "42")
    assert doc["parent"] == "folder:9" and doc["properties"] == {}
    # Moving it out from under folder:7 takes away alice's scoped grant on it.
    assert tree.user_has_permission("alice", "docs:edit", resource="document:42") is True
    tree.put_resource("document", "42", properties={"title": "moved"})
    doc = tree.get_resource("document", "42")
    assert doc["parent"] is None and doc["properties"] == {"title": "moved"}
    assert tree.user_has_permission("alice", "docs:edit", resource="document:42") is False
    tree.put_resource("document", "42", parent="folder:8")
    assert tree.user_has_permission("alice", "docs:edit", resource="document:42") is True


def test_missing_resources_are_404_resource_not_found(tree: Any) -> None:
    for call, args, kwargs, route in [
        (tree.put_resource, ("document", "44"), {"parent": "folder:999"}, RESOURCE),
        (tree.get_resource, ("document", "999"), {}, RESOURCE),
        (tree.add_membership, ("bob", "editor"), {"resource": "folder:999"}, MEMBERSHIP),
    ]:
        err = refused(call, *args, **kwargs)
        assert err.status == 404, (call, args, err)
        assert err.reason == "resource_not_found", (call, args, err)
        assert err.route == route
    # Nothing was written.
    assert tree.list_resources("document") == ["document:42", "document:43"]
    assert tree.get_user_roles("bob") == []
    # Asking at a missing resource is no refusal: nothing is scoped there, global memberships still count.
    assert tree.user_has_permission("alice", "docs:edit", resource="document:999") is False
    assert tree.has_membership("alice", "editor", resource="folder:999") is False
    assert tree.remove_membership("alice", "editor", resource="folder:999")["removed"] is False
    # Removing is idempotent, as for roles: an absent resource is `removed: False`, so a retry is harmless.
    assert tree.delete_resource("document", "999")["removed"] is False
    tree.add_membership("carl", "editor")
    assert tree.user_has_permission("carl", "docs:edit", resource="document:999") is True


def test_cycles_depth_size_and_bad_names_are_refused(tree: Any) -> None:
    err = refused(tree.put_resource, "folder", "7", parent="folder:9")
    assert err.status == 409 and err.reason == "resource_cycle"
    err = refused(tree.put_resource, "folder", "7", parent="folder:7")
    assert err.status == 409 and err.reason == "resource_cycle"
    assert tree.get_resource("folder", "7")["parent"] == "org:1"
    # A path of 32 resources is the deepest allowed.
    parent = None
    for level in range(32):
        tree.put_resource("deep", str(level), parent=parent)
        parent = f"deep:{level}"
    err = refused(tree.put_resource, "deep", "32", parent=parent)
    assert err.status == 409 and err.reason == "resource_too_deep"
    # Properties over 16 KiB as JSON.
    err = refused(tree.put_resource, "document", "44", properties={"blob": "x" * (16 * 1024)})
    assert err.status == 413
    # A type holding `:`; a resource reference that is not `type:id`.
    err = refused(tree.put_resource, "a:b", "1")
    assert err.status == 400 and err.reason is None
    err = refused(tree.user_has_permission, "alice", "docs:edit", resource="folder")
    assert err.status == 400
    assert tree.list_resources("document") == ["document:42", "document:43"]


def test_deleting_a_resource_with_children_is_409(tree: Any) -> None:
    err = refused(tree.delete_resource, "folder", "9")
    assert err.status == 409
    assert err.reason == "resource_has_children"
    assert err.route == RESOURCE
    assert tree.get_resource("folder", "9")["parent"] == "folder:8"
    removed = tree.delete_resource("document", "42")
    assert removed["removed"] is True and isinstance(removed["revision"], int)
    assert tree.delete_resource("folder", "9")["removed"] is True
    assert tree.list_resources("folder") == ["folder:7", "folder:8"]
    assert refused(tree.get_resource, "folder", "9").reason == "resource_not_found"


def test_deleting_a_resource_removes_the_memberships_scoped_to_it(tree: Any) -> None:
    tree.add_membership("bob", "editor", resource="folder:9")
    assert tree.has_membership("bob", "editor", resource="folder:9") is True
    tree.delete_resource("document", "42")
    tree.delete_resource("folder", "9")
    # Put back under the same name, it starts without them.
    tree.put_resource("folder", "9")
    assert tree.has_membership("bob", "editor", resource="folder:9") is False
    assert tree.user_has_permission("bob", "docs:edit", resource="folder:9") is False
    assert tree.get_role_members("editor", resource="folder:9") == []


# ---------------------------------------------------------------- scoped memberships


def test_a_scoped_membership_grants_at_the_resource_and_below(tree: Any) -> None:
    assert tree.user_has_permission("alice", "docs:edit", resource="document:42") is True
    assert tree.user_has_permission("alice", "docs:edit", resource="folder:7") is True
    assert tree.user_has_permission("alice", "docs:edit", resource="document:43") is False
    assert tree.user_has_permission("alice", "docs:edit", resource="org:1") is False
    assert tree.user_has_permission("alice", "docs:edit") is False
    assert tree.user_has_permission("alice", "docs:delete", resource="document:42") is False


def test_explanation_names_the_scope(tree: Any) -> None:
    answer = tree.explain_user_permission("alice", "docs:edit", resource="document:42")
    assert answer == {
        "has_permission": True,
        "explanation": {
            "membership": {"role": "editor", "scope": "folder:7", "expires_at": None},
            "inheritance": ["editor"],
            "grant": {"role": "editor", "permission": "docs:edit", "pattern": False},
        },
    }
    assert tree.explain_user_permission("alice", "docs:edit", resource="document:43") == {"has_permission": False}
    assert tree.explain_user_permission("alice", "docs:edit") == {"has_permission": False}


def test_user_resources(tree: Any) -> None:
    assert tree.get_user_resources("alice", "docs:edit", "document") == ["document:42"]
    assert tree.get_user_resources("alice", "docs:edit", "folder") == ["folder:7", "folder:8", "folder:9"]
    assert tree.get_user_resources("alice", "docs:edit", "org") == []
    assert tree.get_user_resources("alice", "docs:delete", "document") == []
    assert tree.get_user_resources("nobody", "docs:edit", "document") == []
    # A global membership reaches every resource of the type.
    tree.add_membership("carl", "editor")
    assert tree.get_user_resources("carl", "docs:edit", "document") == ["document:42", "document:43"]


def test_listings_and_checks_at_a_resource(tree: Any) -> None:
    assert tree.which_users_can("docs:edit", resource="document:42") == [{"user": "alice"}]
    assert tree.which_users_can("docs:edit", resource="document:43") == []
    assert tree.which_users_can("docs:edit") == []
    assert tree.get_user_permissions("alice", resource="document:42") == [{"name": "docs:edit"}]
    assert tree.get_user_permissions("alice") == []
    assert tree.get_user_roles("alice", resource="folder:8") == [{"role": "editor", "description": "Editors"}]
    assert tree.get_user_roles("alice") == []
    assert tree.get_role_members("editor", resource="document:42") == [{"user": "alice"}]
    assert tree.get_role_members("editor", resource="document:43") == []
    assert tree.get_role_members("editor") == []
    # Exactly there, or applying there.
    assert tree.has_membership("alice", "editor", resource="folder:7") is True
    assert tree.has_membership("alice", "editor", resource="document:42") is False
    assert tree.has_membership("alice", "editor") is False
    assert tree.has_effective_membership("alice", "editor", resource="document:42") is True
    assert tree.has_effective_membership("alice", "editor", resource="document:43") is False
    assert tree.has_effective_membership("alice", "editor") is False
    # Global members count everywhere.
    tree.add_membership("carl", "editor")
    assert tree.which_users_can("docs:edit", resource="document:42") == [{"user": "alice"}, {"user": "carl"}]
    assert tree.which_users_can("docs:edit") == [{"user": "carl"}]
    assert tree.get_role_members("editor", resource="document:43") == [{"user": "carl"}]


def test_scoped_memberships_through_inheritance(tree: Any) -> None:
    tree.create_role("lead")
    tree.add_inheritance("lead", "editor")
    tree.add_membership("lena", "lead", resource="folder:8")
    assert tree.user_has_permission("lena", "docs:edit", resource="document:42") is True
    assert tree.user_has_permission("lena", "docs:edit", resource="folder:7") is False
    assert tree.has_effective_membership("lena", "editor", resource="document:42") is True
    assert tree.has_effective_membership("lena", "editor", resource="folder:7") is False
    assert tree.get_effective_user_roles("lena", resource="folder:9") == [
        {"role": "editor", "description": "Editors"}, {"role": "lead", "description": None}
    ]
    assert tree.get_effective_role_members("editor", resource="document:42") == [{"user": "alice"}, {"user": "lena"}]
    why = tree.explain_user_permission("lena", "docs:edit", resource="document:42")["explanation"]
    assert why["membership"]["scope"] == "folder:8" and why["inheritance"] == ["lead", "editor"]


def test_scoped_and_global_memberships_are_separate(tree: Any) -> None:
    again = tree.add_membership("alice", "editor", resource="folder:7")
    assert again["created"] is False
    # The global membership is another one.
    assert tree.add_membership("alice", "editor")["created"] is True
    assert tree.user_has_permission("alice", "docs:edit", resource="document:43") is True
    assert tree.remove_membership("alice", "editor")["removed"] is True
    assert tree.user_has_permission("alice", "docs:edit", resource="document:43") is False
    assert tree.user_has_permission("alice", "docs:edit", resource="document:42") is True
    # Removing the scoped one removes only it.
    assert tree.remove_membership("alice", "editor", resource="folder:8")["removed"] is False
    removed = tree.remove_membership("alice", "editor", resource="folder:7")
    assert removed["removed"] is True and isinstance(removed["revision"], int)
    assert tree.remove_membership("alice", "editor", resource="folder:7")["removed"] is False
    assert tree.user_has_permission("alice", "docs:edit", resource="document:42") is False
    assert tree.get_user_resources("alice", "docs:edit", "document") == []


def test_a_scoped_membership_can_expire(tree: Any) -> None:
    added = tree.add_membership("erin", "editor", resource="folder:9", ttl_seconds=3600)
    assert added["created"] is True and added["expires_at"].endswith("Z")
    assert tree.user_has_permission("erin", "docs:edit", resource="document:42") is True
    why = tree.explain_user_permission("erin", "docs:edit", resource="document:42")["explanation"]
    assert why["membership"] == {"role": "editor", "scope": "folder:9", "expires_at": added["expires_at"]}


def test_the_seed_client_reaches_them_through_warden(seed: Any, tree: Any) -> None:
    warden = seed.warden
    assert warden.get_resource("document", "42")["parent"] == "folder:9"
    assert warden.user_has_permission("alice", "docs:edit", resource="document:42") is True
    assert warden.put_resource("document", "50", parent="folder:7")["created"] is True
    assert warden.list_resources("document") == ["document:42", "document:43", "document:50"]
    # The seed's own methods keep the seed's signatures and answers.
    assert seed.user_has_permission("alice", "docs:edit")["data"]["has_permission"] is False


# ---------------------------------------------------------------- paging and the wire


def test_list_resources_page_walks_every_item(tree: Any) -> None:
    for i in range(3):
        tree.put_resource("folder", f"1{i}")
    expected = tree.list_resources("folder")
    assert expected == ["folder:10", "folder:11", "folder:12", "folder:7", "folder:8", "folder:9"]  # by id
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = tree.list_resources_page("folder", limit=1, cursor=cursor)
        assert set(page) == {"items", "next_cursor"}
        assert len(page["items"]) <= 1
        seen.extend(page["items"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected
    assert pages >= len(expected)
    first = tree.list_resources_page("folder", 2)
    assert first["items"] == expected[:2] and isinstance(first["next_cursor"], str)
    assert tree.list_resources_page("nothing") == {"items": [], "next_cursor": None}


PAGED = ("/api/resources/", "/api/user_resources/", "/api/which_users_can/", "/api/members/", "/api/user_roles/",
         "/api/user_permissions/")


def one_per_page(request: httpx.Request, seen: list[httpx.URL]) -> None:
    """Asks the listings for pages of one item and records every request's URL."""
    path = request.url.path
    if request.method == "GET" and path.startswith(PAGED) and path.count("/") <= 4:
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


def test_every_page_keeps_the_resource_and_the_type(tree: Any, factory: Any, kind: str) -> None:
    tree.put_resource("document", "44", parent="folder:7")
    tree.add_membership("bob", "editor", resource="folder:8")
    tree.create_role("viewer")
    tree.add_permission("viewer", "docs:edit")
    tree.add_membership("alice", "viewer", resource="org:1")
    transport: Any = OnePerPage() if kind == "sync" else AsyncOnePerPage()
    paged = factory(tree.api_key, transport=transport)
    for call, args, kwargs, param, expected in [
        (paged.list_resources, ("document",), {}, None, ["document:42", "document:43", "document:44"]),
        (paged.get_user_resources, ("alice", "docs:edit", "document"), {}, ("type", "document"),
         ["document:42", "document:43", "document:44"]),
        (paged.get_user_resources, ("bob", "docs:edit", "folder"), {}, ("type", "folder"), ["folder:8", "folder:9"]),
        (paged.which_users_can, ("docs:edit",), {"resource": "document:42"}, ("resource", "document:42"),
         [{"user": "alice"}, {"user": "bob"}]),
        (paged.get_user_roles, ("alice",), {"resource": "document:42"}, ("resource", "document:42"),
         [{"role": "editor", "description": "Editors"}, {"role": "viewer", "description": None}]),
        (paged.get_role_members, ("editor",), {"resource": "folder:9"}, ("resource", "folder:9"),
         [{"user": "alice"}, {"user": "bob"}]),
    ]:
        transport.seen.clear()
        assert call(*args, **kwargs) == expected, (call, args)
        assert len(transport.seen) >= len(expected), transport.seen
        assert all(url.params.get("limit") == "1" for url in transport.seen), transport.seen
        if param is not None:
            assert all(url.params.get(param[0]) == param[1] for url in transport.seen), transport.seen
        assert "cursor" not in transport.seen[0].params
        assert all("cursor" in url.params for url in transport.seen[1:]), transport.seen


def test_what_goes_on_the_wire(factory: Any, kind: str) -> None:
    transport: Any = OnePerPage() if kind == "sync" else AsyncOnePerPage()
    api = factory(transport=transport, read_your_writes=True)
    api.put_resource("folder", "team.a@x")
    api.create_role("editor")
    api.add_permission("editor", "docs:edit")
    transport.seen.clear()
    written = api.put_resource("document", "a:1", parent="folder:team.a@x", properties={"k": "v"})
    api.get_resource("document", "a:1")
    api.add_membership("bob@x", "editor", resource="folder:team.a@x", ttl_seconds=60)
    assert api.user_has_permission("bob@x", "docs:edit", resource="document:a:1") is True
    api.explain_user_permission("bob@x", "docs:edit", resource="document:a:1")
    api.has_effective_membership("bob@x", "editor", resource="document:a:1")
    api.remove_membership("bob@x", "editor", resource="folder:team.a@x")
    api.delete_resource("document", "a:1")
    urls = transport.seen
    paths = [url.raw_path.decode().split("?")[0] for url in urls]
    assert paths == [
        "/api/resources/document/a%3A1",
        "/api/resources/document/a%3A1",
        "/api/membership/bob%40x/editor",
        "/api/has_permission/bob%40x/docs%3Aedit",
        "/api/has_permission/bob%40x/docs%3Aedit",
        "/api/membership/bob%40x/editor",
        "/api/membership/bob%40x/editor",
        "/api/resources/document/a%3A1",
    ]
    assert [url.params.get("resource") for url in urls] == [
        None, None, "folder:team.a@x", "document:a:1", "document:a:1", "document:a:1", "folder:team.a@x", None
    ]
    assert urls[4].params.get("explain") == "true" and urls[5].params.get("effective") == "true"
    # Reads are RBAC reads: they send the revision this client wrote.
    assert int(urls[1].params["min_revision"]) >= written["revision"]
    assert int(urls[3].params["min_revision"]) >= written["revision"]


def test_resource_arguments_are_keyword_only() -> None:
    for cls in (WardenClient, AsyncWardenClient):
        for method in ("add_membership", "remove_membership", "has_membership", "has_effective_membership",
                       "user_has_permission", "explain_user_permission", "get_user_permissions", "get_user_roles",
                       "get_role_members", "which_users_can", "get_effective_user_roles",
                       "get_effective_role_members"):
            parameter = inspect.signature(getattr(cls, method)).parameters["resource"]
            assert parameter.kind is inspect.Parameter.KEYWORD_ONLY, (cls, method)
            assert parameter.default is None, (cls, method)
        assert list(inspect.signature(cls.put_resource).parameters) == ["self", "type", "id", "parent", "properties"]
        assert list(inspect.signature(cls.get_user_resources).parameters) == ["self", "user", "name", "type"]


def test_an_empty_resource_is_refused_before_sending(api: Any) -> None:
    with pytest.raises(ValueError):
        api.user_has_permission("alice", "docs:edit", resource="")
    with pytest.raises(ValueError):
        api.get_resource("document", "")


# ---------------------------------------------------------------- natively async


async def test_native_async_scoped_membership(server_url: str) -> None:
    async with AsyncWardenClient(api_key=str(uuid.uuid4()), service_url=server_url,
                                 read_your_writes=True) as auth:
        assert (await auth.put_resource("org", "1"))["created"] is True
        await auth.put_resource("folder", "7", parent="org:1")
        await auth.put_resource("document", "42", parent="folder:7", properties={"title": "plan"})
        await auth.put_resource("document", "43", parent="org:1")
        await auth.create_role("editor")
        await auth.add_permission("editor", "docs:edit")
        added = await auth.add_membership("alice", "editor", resource="folder:7")
        assert added["created"] is True and auth.revision == added["revision"]
        assert await auth.user_has_permission("alice", "docs:edit", resource="document:42") is True
        assert await auth.user_has_permission("alice", "docs:edit", resource="document:43") is False
        assert await auth.user_has_permission("alice", "docs:edit") is False
        why = await auth.explain_user_permission("alice", "docs:edit", resource="document:42")
        assert why["explanation"]["membership"]["scope"] == "folder:7"
        assert await auth.get_user_resources("alice", "docs:edit", "document") == ["document:42"]
        assert await auth.which_users_can("docs:edit", resource="document:42") == [{"user": "alice"}]
        assert await auth.list_resources("document") == ["document:42", "document:43"]
        assert (await auth.get_resource("document", "42"))["properties"] == {"title": "plan"}
        with pytest.raises(RefusedError) as err:
            await auth.delete_resource("folder", "7")
        assert err.value.status == 409 and err.value.reason == "resource_has_children"
        removed = await auth.remove_membership("alice", "editor", resource="folder:7")
        assert removed["removed"] is True and auth.revision == removed["revision"]
        assert await auth.user_has_permission("alice", "docs:edit", resource="document:42") is False
