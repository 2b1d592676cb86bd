"""Every public method of the seed's ``auth.client.EnhancedAuthClient`` (auth 3.7.1) exists on both clients with
the same parameters in the same order and the same defaults, so a switch is one import. The seed's signatures
are recorded here (taken from auth 3.7.1 with ``inspect``); when ``auth`` is installed they are also read live."""

from __future__ import annotations

import inspect
from typing import Any, Optional

import pytest

from warden_client import AsyncEnhancedAuthClient, AuthRefused, AuthTransportError, Client, EnhancedAuthClient

SEED: dict[str, list[tuple[str, Optional[str]]]] = {
    "add_membership": [("user", None), ("group", None)],
    "add_permission": [("group", None), ("name", None)],
    "check_api_key_permission": [("api_key", None), ("permission", None)],
    "check_user_workflow_permission": [("user", None), ("workflow_name", None)],
    "close": [],
    "create_api_key": [("user", None), ("label", "None"), ("expires_at", "None")],
    "create_role": [("role", None)],
    "delete_role": [("role", None)],
    "get_role_members": [("role", None)],
    "get_role_permissions": [("role", None)],
    "get_settings": [],
    "get_user_permissions": [("user", None)],
    "get_user_roles": [("user", None)],
    "get_users_for_workflow": [("workflow_name", None)],
    "has_membership": [("user", None), ("group", None)],
    "has_permission": [("group", None), ("name", None)],
    "list_api_keys": [("user", None)],
    "list_roles": [],
    "ping": [],
    "remove_membership": [("user", None), ("group", None)],
    "remove_permission": [("group", None), ("name", None)],
    "revoke_api_key": [("user", None), ("key_id", None)],
    "rotate_key": [],
    "set_api_key_expiry": [("user", None), ("key_id", None), ("expires_at", None)],
    "set_strict_users": [("enabled", None)],
    "user_has_permission": [("user", None), ("name", None)],
    "validate_api_key": [("api_key", None)],
    "which_roles_can": [("name", None)],
    "which_users_can": [("name", None)],
}
SEED_INIT = [
    ("api_key", None), ("service_url", None), ("max_retries", "3"), ("pool_connections", "10"),
    ("pool_maxsize", "64"), ("timeout", "30"), ("circuit_breaker_enabled", "True"), ("raise_on_error", "None"),
]


def params(fn: Any) -> list[tuple[str, Optional[str]]]:
    values = list(inspect.signature(fn).parameters.values())[1:]
    return [(p.name, None if p.default is inspect.Parameter.empty else repr(p.default)) for p in values]


def live_seed() -> dict[str, list[tuple[str, Optional[str]]]]:
    seed = pytest.importorskip("auth.client")
    return {name: params(fn) for name, fn in inspect.getmembers(seed.EnhancedAuthClient, inspect.isfunction)
            if not name.startswith("_")}


@pytest.mark.parametrize("cls", [EnhancedAuthClient, AsyncEnhancedAuthClient, Client])
def test_seed_methods_and_arguments(cls: type) -> None:
    for name, expected in SEED.items():
        method = getattr(cls, name, None)
        assert method is not None, f"{cls.__name__} lacks the seed's {name}"
        got = params(method)
        # Same leading parameters and defaults; extra parameters only after them and only with defaults.
        assert got[: len(expected)] == expected, name
        assert all(default is not None for _, default in got[len(expected):]), name
    init = params(cls.__init__)
    assert init[: len(SEED_INIT)] == SEED_INIT


def test_seed_exception_names() -> None:
    assert issubclass(AuthRefused, AuthTransportError)


def test_against_installed_seed() -> None:
    assert live_seed() == SEED
