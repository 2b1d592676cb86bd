"""Client-key rotation and recovery against the real server, for the sync and the async clients (and natively
async): ``rotate_key`` moves the tenant to a new client key and the client follows it, the old key is refused;
``get_rotate_key`` hands out the tenant's ``rrk_`` recovery key once; ``recover_key`` (no bearer) moves the tenant
to a new client key with it, answers a fresh rotate key, and refuses a wrong, spent or conflicting one."""

from __future__ import annotations

import re
import secrets
import string
import uuid
from typing import Any, Callable

import pytest

from warden_client import AsyncWardenClient, RefusedError

RRK = re.compile(r"^rrk_[0-9A-Za-z]{43}$")
MIGRATED = {"roles", "permissions", "memberships", "users", "api_keys", "settings", "sessions", "tokens",
            "audit_entries"}


def is_uuid4(value: Any) -> bool:
    try:
        return isinstance(value, str) and uuid.UUID(value).version == 4 and str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


def refused(call: Callable[..., Any], *args: Any, **kwargs: Any) -> RefusedError:
    """The RefusedError the call raises (fails the test when it answers)."""
    with pytest.raises(RefusedError) as err:
        call(*args, **kwargs)
    return err.value


def sees_tenant_data(client: Any) -> None:
    """The data :func:`tenant` wrote, read through ``client`` (a WardenClient)."""
    assert [r["role"] for r in client.list_roles()] == ["editor"]
    assert client.has_permission("editor", "docs:read") is True
    assert client.user_has_permission("bob", "docs:read") is True
    assert client.user_has_permission("bob", "docs:write") is False
    assert client.get_user_roles("bob") == [{"role": "editor", "description": None}]


@pytest.fixture
def tenant(api: Any) -> Any:
    """A tenant with role editor granting docs:read, held by bob."""
    api.create_role("editor")
    api.add_permission("editor", "docs:read")
    api.add_membership("bob", "editor")
    return api


# ---------------------------------------------------------------- rotate_key


def test_rotate_key_switches_the_client_to_the_new_key(tenant: Any) -> None:
    old = tenant.api_key
    out = tenant.rotate_key()
    new = out["new_key"]
    assert is_uuid4(new) and new != old
    assert tenant.api_key == new
    migrated = out["migrated"]
    assert set(migrated) == MIGRATED
    assert all(isinstance(n, int) and n >= 0 for n in migrated.values()), migrated
    assert migrated["roles"] == 1 and migrated["permissions"] == 1 and migrated["memberships"] == 1
    sees_tenant_data(tenant)
    # The tenant keeps working under the new key: writes land and rotating again works.
    tenant.add_membership("ann", "editor")
    assert tenant.user_has_permission("ann", "docs:read") is True
    again = tenant.rotate_key()["new_key"]
    assert is_uuid4(again) and again not in (old, new) and tenant.api_key == again
    sees_tenant_data(tenant)


def test_old_key_is_refused_after_rotation(tenant: Any, factory: Any) -> None:
    old = tenant.api_key
    stale = factory(old)
    sees_tenant_data(stale)  # same key, same tenant, before the rotation
    new = tenant.rotate_key()["new_key"]
    for call, args in ((stale.list_roles, ()), (stale.user_has_permission, ("bob", "docs:read")),
                       (stale.create_role, ("intruder",)), (stale.rotate_key, ()), (stale.get_rotate_key, ())):
        err = refused(call, *args)
        assert err.status == 401, (call, err)
    assert stale.api_key == old  # a refused rotation does not switch the client
    # A separate client given the new key sees everything; nothing the stale client tried landed.
    fresh = factory(new)
    sees_tenant_data(fresh)


def test_seed_client_rotate_key(tenant: Any, factory: Any) -> None:
    old = tenant.api_key
    seed = factory(old, seed=True)
    answer = seed.rotate_key()
    assert answer["success"] is True and answer["code"] == 200, answer
    new = answer["data"]["new_key"]
    assert is_uuid4(new) and new != old
    assert set(answer["data"]["migrated"]) == MIGRATED
    assert seed.api_key == new
    assert seed.list_roles() == {"result": [{"role": "editor", "description": None}]}
    assert seed.has_permission("editor", "docs:read") == {"result": True}
    assert seed.user_has_permission("bob", "docs:read")["data"]["has_permission"] is True
    assert seed.user_has_permission("bob", "docs:write")["data"]["has_permission"] is False
    # The Warden client that created the tenant still holds the old key: refused.
    err = refused(tenant.list_roles)
    assert err.status == 401
    assert refused(factory(old, seed=True).list_roles).status == 401
    sees_tenant_data(factory(new))


# ---------------------------------------------------------------- get_rotate_key


def test_get_rotate_key_is_shown_once(tenant: Any) -> None:
    rotate_key = tenant.get_rotate_key()["rotate_key"]
    assert RRK.match(rotate_key), rotate_key
    err = refused(tenant.get_rotate_key)
    assert err.status == 409 and err.reason == "rotate_key_already_issued"
    assert err.envelope is not None and err.envelope["reason"] == "rotate_key_already_issued"
    assert err.envelope["success"] is False
    sees_tenant_data(tenant)  # the refusal changed nothing


# ---------------------------------------------------------------- recover_key


def test_recover_with_a_wrong_rotate_key_is_refused(tenant: Any, factory: Any) -> None:
    old = tenant.api_key
    tenant.get_rotate_key()
    rescuer = factory()
    before = rescuer.api_key
    wrong = "rrk_" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(43))
    for bad in (wrong, "rrk_short", "not-a-rotate-key", ""):
        err = refused(rescuer.recover_key, bad)
        assert err.status == 401 and err.error == "Invalid rotate key", (bad, err)
    assert rescuer.api_key == before
    assert tenant.api_key == old
    sees_tenant_data(tenant)  # nothing moved


def test_recover_moves_the_tenant_to_a_new_key(tenant: Any, factory: Any) -> None:
    old = tenant.api_key
    rotate_key = tenant.get_rotate_key()["rotate_key"]
    rescuer = factory()  # lost the client key: any key will do, recover sends no bearer
    out = rescuer.recover_key(rotate_key)
    client_key, next_rotate_key = out["client_key"], out["rotate_key"]
    assert is_uuid4(client_key) and client_key != old
    assert RRK.match(next_rotate_key) and next_rotate_key != rotate_key
    assert set(out["migrated"]) == MIGRATED and out["migrated"]["roles"] == 1
    assert rescuer.api_key == client_key
    sees_tenant_data(rescuer)

    # The old key is refused, and the spent rotate key cannot be used again.
    err = refused(tenant.list_roles)
    assert err.status == 401
    err = refused(factory().recover_key, rotate_key)
    assert err.status == 401 and err.error == "Invalid rotate key"
    assert rescuer.api_key == client_key
    sees_tenant_data(rescuer)

    # The rotate key answered by the recovery works once, and is spent in turn.
    second = factory()
    out2 = second.recover_key(next_rotate_key)
    assert out2["client_key"] not in (old, client_key) and second.api_key == out2["client_key"]
    sees_tenant_data(second)
    assert refused(rescuer.list_roles).status == 401
    assert refused(factory().recover_key, next_rotate_key).status == 401


def test_recover_onto_a_chosen_client_key(tenant: Any, factory: Any) -> None:
    old = tenant.api_key
    rotate_key = tenant.get_rotate_key()["rotate_key"]
    chosen = str(uuid.uuid4())
    rescuer = factory()
    out = rescuer.recover_key(rotate_key, new_client_key=chosen)
    assert out["client_key"] == chosen and rescuer.api_key == chosen
    sees_tenant_data(factory(chosen))
    assert refused(factory(old).list_roles).status == 401


def test_recover_onto_a_tenant_with_data_is_refused(tenant: Any, factory: Any) -> None:
    old = tenant.api_key
    rotate_key = tenant.get_rotate_key()["rotate_key"]
    other = factory()
    other.create_role("other-role")
    rescuer = factory()
    before = rescuer.api_key
    err = refused(rescuer.recover_key, rotate_key, new_client_key=other.api_key)
    assert err.status == 409 and err.reason == "client_key_in_use"
    err = refused(rescuer.recover_key, rotate_key, new_client_key="not-a-uuid")
    assert err.status == 400
    assert rescuer.api_key == before
    # Nothing moved: each tenant keeps its key and its own data.
    sees_tenant_data(tenant)
    assert tenant.api_key == old
    assert [r["role"] for r in other.list_roles()] == ["other-role"]
    assert other.user_has_permission("bob", "docs:read") is False


# ---------------------------------------------------------------- the async client, natively


async def test_async_client_rotates_and_recovers(server_url: str) -> None:
    async with AsyncWardenClient(api_key=str(uuid.uuid4()), service_url=server_url) as auth:
        old = auth.api_key
        await auth.create_role("ops")
        await auth.add_permission("ops", "backup")
        await auth.add_membership("olga", "ops")
        rotated = (await auth.rotate_key())["new_key"]
        assert auth.api_key == rotated != old
        assert await auth.user_has_permission("olga", "backup") is True
        rotate_key = (await auth.get_rotate_key())["rotate_key"]
        assert RRK.match(rotate_key)
        with pytest.raises(RefusedError) as err:
            await auth.get_rotate_key()
        assert err.value.status == 409 and err.value.reason == "rotate_key_already_issued"
        async with AsyncWardenClient(api_key=rotated, service_url=server_url) as rescuer:
            recovered = await rescuer.recover_key(rotate_key)
            assert rescuer.api_key == recovered["client_key"] not in (old, rotated)
            assert await rescuer.user_has_permission("olga", "backup") is True
            assert [r["role"] for r in await rescuer.list_roles()] == ["ops"]
        with pytest.raises(RefusedError) as err:
            await auth.list_roles()
        assert err.value.status == 401
        with pytest.raises(RefusedError) as err:
            await auth.recover_key(rotate_key)
        assert err.value.status == 401 and err.value.error == "Invalid rotate key"
