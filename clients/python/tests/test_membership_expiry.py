"""Expiring memberships against the real server, for the sync and the async clients (and natively async):
``add_membership(..., ttl_seconds=)`` grants until its instant and nothing after it; ``expires_at`` shows in the
write's answer, in ``get_role_members``, ``get_user_roles`` and the membership check, and is absent for a permanent
membership; posting again restates the membership (a new expiry, or none: permanent); a past date, both arguments
at once, ``ttl_seconds=0`` are 400 and an ill-typed ``ttl_seconds`` is 422, raised as :class:`RefusedError`. The
body itself (none without an expiry; a datetime sent as RFC 3339 UTC, a naive one taken as UTC) is checked on a
mock transport."""

from __future__ import annotations

import asyncio
import inspect
import json
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Optional

import httpx
import pytest

from warden_client import AsyncWardenClient, RefusedError, WardenClient

#: Past a one-second TTL, with margin for the server's clock and the round trips.
PAST_ONE_SECOND = 1.3


def when(text: str) -> datetime:
    """An RFC 3339 answer as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def in_days(days: int) -> datetime:
    """A future UTC instant on a whole second (the server answers with milliseconds)."""
    return (datetime.now(timezone.utc) + timedelta(days=days)).replace(microsecond=0)


def refused(call: Callable[..., Any], *args: Any, **kwargs: Any) -> RefusedError:
    """The RefusedError the call raises (fails the test when it answers)."""
    with pytest.raises(RefusedError) as err:
        call(*args, **kwargs)
    return err.value


def membership_check(url: str, key: str, user: str, role: str) -> dict[str, Any]:
    """The ``data`` of ``GET /api/membership/{user}/{role}`` (the clients' ``has_membership`` gives only the
    flag)."""
    answer = httpx.get(f"{url}/api/membership/{user}/{role}", headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    assert isinstance(data, dict)
    return data


@pytest.fixture
def tenant(api: Any) -> Any:
    """editor (Editors; docs:write), bob a permanent member."""
    api.create_role("editor", "Editors")
    api.add_permission("editor", "docs:write")
    api.add_membership("bob", "editor")
    return api


# ---------------------------------------------------------------- expiry takes effect


def test_ttl_membership_grants_until_it_expires(tenant: Any) -> None:
    before = datetime.now(timezone.utc)
    added = tenant.add_membership("ann", "editor", ttl_seconds=1)
    after = datetime.now(timezone.utc)
    assert added["created"] is True and isinstance(added["revision"], int)
    expires = when(added["expires_at"])
    slack = timedelta(milliseconds=500)  # the server's clock against this one
    assert before + timedelta(seconds=1) - slack <= expires <= after + timedelta(seconds=1) + slack
    assert tenant.user_has_permission("ann", "docs:write") is True
    assert tenant.has_membership("ann", "editor") is True
    time.sleep(PAST_ONE_SECOND)
    assert tenant.user_has_permission("ann", "docs:write") is False
    assert tenant.has_membership("ann", "editor") is False
    assert tenant.get_user_permissions("ann") == []
    assert tenant.get_user_roles("ann") == []
    assert tenant.get_role_members("editor") == [{"user": "bob"}]
    assert tenant.which_users_can("docs:write") == [{"user": "bob"}]
    # The permanent member is untouched.
    assert tenant.user_has_permission("bob", "docs:write") is True


def test_expires_at_shows_in_the_answer_and_every_listing(tenant: Any, server_url: str) -> None:
    at = in_days(30)
    added = tenant.add_membership("ann", "editor", expires_at=at)
    assert added["created"] is True
    assert when(added["expires_at"]) == at
    stamp = added["expires_at"]
    assert tenant.get_role_members("editor") == [{"user": "ann", "expires_at": stamp}, {"user": "bob"}]
    assert tenant.get_user_roles("ann") == [{"role": "editor", "description": "Editors", "expires_at": stamp}]
    assert tenant.get_user_roles("bob") == [{"role": "editor", "description": "Editors"}]
    assert membership_check(server_url, tenant.api_key, "ann", "editor") == {"is_member": True, "expires_at": stamp}
    assert membership_check(server_url, tenant.api_key, "bob", "editor") == {"is_member": True}
    assert tenant.user_has_permission("ann", "docs:write") is True


def test_expires_at_as_string_and_naive_datetime(tenant: Any) -> None:
    at = in_days(7)
    # An RFC 3339 string with an offset passes through: the same instant comes back (in UTC).
    as_text = at.astimezone(timezone(timedelta(hours=2))).isoformat()
    assert as_text.endswith("+02:00")
    assert when(tenant.add_membership("ann", "editor", expires_at=as_text)["expires_at"]) == at
    # A naive datetime is taken as UTC.
    naive = in_days(9).replace(tzinfo=None)
    answer = tenant.add_membership("cid", "editor", expires_at=naive)
    assert when(answer["expires_at"]) == naive.replace(tzinfo=timezone.utc)
    # An aware one in another zone is converted, not relabelled.
    eastern = in_days(11).astimezone(timezone(timedelta(hours=-5)))
    answer = tenant.add_membership("dee", "editor", expires_at=eastern)
    assert when(answer["expires_at"]) == eastern
    assert answer["expires_at"].endswith("Z")


# ---------------------------------------------------------------- restating a membership


def test_reposting_restates_the_expiry(tenant: Any, server_url: str) -> None:
    at = in_days(30)
    first = tenant.add_membership("ann", "editor", expires_at=at)
    assert first["created"] is True
    # Same expiry: nothing changes.
    same = tenant.add_membership("ann", "editor", expires_at=at)
    assert same["created"] is False
    assert same["revision"] == first["revision"]
    assert same["expires_at"] == first["expires_at"]
    # Another expiry: updated, a new revision.
    later = in_days(60)
    moved = tenant.add_membership("ann", "editor", expires_at=later)
    assert moved["created"] is False and moved["revision"] > first["revision"]
    assert when(moved["expires_at"]) == later
    assert tenant.get_user_roles("ann") == [
        {"role": "editor", "description": "Editors", "expires_at": moved["expires_at"]}
    ]
    # No expiry: permanent, the field gone everywhere.
    permanent = tenant.add_membership("ann", "editor")
    assert permanent["created"] is False and permanent["revision"] > moved["revision"]
    assert "expires_at" not in permanent
    assert tenant.get_role_members("editor") == [{"user": "ann"}, {"user": "bob"}]
    assert tenant.get_user_roles("ann") == [{"role": "editor", "description": "Editors"}]
    assert membership_check(server_url, tenant.api_key, "ann", "editor") == {"is_member": True}
    # And again without: nothing to change.
    assert tenant.add_membership("ann", "editor")["revision"] == permanent["revision"]


def test_reposting_without_expiry_keeps_a_ttl_membership(tenant: Any) -> None:
    added = tenant.add_membership("ann", "editor", ttl_seconds=1)
    assert "expires_at" in added
    restated = tenant.add_membership("ann", "editor")
    assert restated["created"] is False and "expires_at" not in restated
    time.sleep(PAST_ONE_SECOND)
    assert tenant.user_has_permission("ann", "docs:write") is True
    assert tenant.has_membership("ann", "editor") is True
    assert tenant.get_role_members("editor") == [{"user": "ann"}, {"user": "bob"}]


def test_a_permanent_membership_can_be_given_an_expiry(tenant: Any) -> None:
    restated = tenant.add_membership("bob", "editor", ttl_seconds=1)
    assert restated["created"] is False and "expires_at" in restated
    assert tenant.user_has_permission("bob", "docs:write") is True
    time.sleep(PAST_ONE_SECOND)
    assert tenant.user_has_permission("bob", "docs:write") is False
    assert tenant.get_role_members("editor") == []


# ---------------------------------------------------------------- refusals


def test_bad_expiries_are_refused(tenant: Any) -> None:
    past = datetime.now(timezone.utc) - timedelta(minutes=5)
    for kwargs, status in [
        ({"expires_at": past}, 400),
        ({"expires_at": "2000-01-01T00:00:00Z"}, 400),
        ({"expires_at": in_days(3), "ttl_seconds": 60}, 400),
        ({"ttl_seconds": 0}, 400),
        ({"ttl_seconds": 3_153_600_001}, 400),
        ({"expires_at": "tomorrow"}, 400),
        ({"ttl_seconds": -5}, 400),
        ({"ttl_seconds": 1.5}, 422),
        ({"ttl_seconds": "60"}, 422),
    ]:
        err = refused(tenant.add_membership, "ann", "editor", **kwargs)
        assert err.status == status, (kwargs, err)
        assert err.route == "/api/membership/{user}/{role}"
    # Nothing was added, and a refused restatement leaves an existing membership as it was.
    assert tenant.has_membership("ann", "editor") is False
    assert refused(tenant.add_membership, "bob", "editor", ttl_seconds=0).status == 400
    assert tenant.get_role_members("editor") == [{"user": "bob"}]
    # The longest TTL is accepted.
    assert "expires_at" in tenant.add_membership("ann", "editor", ttl_seconds=3_153_600_000)


# ---------------------------------------------------------------- the body sent


def recorder(sent: list[httpx.Request]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"success": True, "code": 200, "message": "membership added",
                                         "data": {"created": True, "revision": 1}})
    return httpx.MockTransport(handle)


def body(request: httpx.Request) -> Optional[Any]:
    return json.loads(request.content) if request.content else None


def test_body_is_sent_only_with_an_expiry(factory: Any) -> None:
    sent: list[httpx.Request] = []
    client = factory(transport=recorder(sent))
    client.add_membership("ann", "editor")
    client.add_membership("ann", "editor", ttl_seconds=90)
    client.add_membership("ann", "editor", expires_at=datetime(2030, 5, 6, 7, 8, 9))
    client.add_membership("ann", "editor", expires_at=datetime(2030, 5, 6, 9, 8, 9, 500000,
                                                                tzinfo=timezone(timedelta(hours=2))))
    client.add_membership("ann", "editor", expires_at="2030-05-06T07:08:09+02:00")
    client.add_membership("ann", "editor", expires_at=None, ttl_seconds=None)
    assert [(r.method, r.url.path) for r in sent] == [("POST", "/api/membership/ann/editor")] * 6
    assert [body(r) for r in sent] == [
        None,
        {"ttl_seconds": 90},
        {"expires_at": "2030-05-06T07:08:09Z"},
        {"expires_at": "2030-05-06T07:08:09.500000Z"},
        {"expires_at": "2030-05-06T07:08:09+02:00"},
        None,
    ]
    assert sent[0].content == b"" and sent[1].headers["content-type"] == "application/json"


def test_expiry_arguments_are_keyword_only() -> None:
    for cls in (WardenClient, AsyncWardenClient):
        parameters = inspect.signature(cls.add_membership).parameters
        assert list(parameters)[:3] == ["self", "user", "group"]
        for name in ("expires_at", "ttl_seconds"):
            assert parameters[name].kind is inspect.Parameter.KEYWORD_ONLY, (cls, name)
            assert parameters[name].default is None, (cls, name)


# ---------------------------------------------------------------- natively async


async def test_native_async_expiry(server_url: str) -> None:
    async with AsyncWardenClient(api_key=str(uuid.uuid4()), service_url=server_url,
                                 read_your_writes=True) as auth:
        await auth.create_role("lead")
        await auth.add_permission("lead", "repo:push")
        added = await auth.add_membership("lena", "lead", ttl_seconds=1)
        assert added["created"] is True and auth.revision == added["revision"]
        assert await auth.get_role_members("lead") == [{"user": "lena", "expires_at": added["expires_at"]}]
        assert await auth.user_has_permission("lena", "repo:push") is True
        await asyncio.sleep(PAST_ONE_SECOND)
        assert await auth.user_has_permission("lena", "repo:push") is False
        assert await auth.has_membership("lena", "lead") is False
        with pytest.raises(RefusedError) as err:
            await auth.add_membership("lena", "lead", expires_at=in_days(1), ttl_seconds=5)
        assert err.value.status == 400
