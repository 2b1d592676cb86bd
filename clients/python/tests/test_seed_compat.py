"""The seed's ``auth.client`` (auth 3.7.1, a test dependency) read live: every public method of its
``EnhancedAuthClient`` exists on both of ours with the same parameters in the same order and the same defaults, the
constructor too, and its exceptions have counterparts under the same names that ``except`` alike. What each method
answers is checked against the real server in ``test_seed_answers.py``."""

from __future__ import annotations

import inspect
from typing import Any, Optional

import auth.client as seed_client
import pytest

import warden_client
from warden_client import AsyncEnhancedAuthClient, AsyncWardenClient, Client, EnhancedAuthClient, WardenClient

Params = list[tuple[str, Optional[str]]]


def params(fn: Any) -> Params:
    values = list(inspect.signature(fn).parameters.values())[1:]
    return [(p.name, None if p.default is inspect.Parameter.empty else repr(p.default)) for p in values]


SEED_METHODS: dict[str, Params] = {
    name: params(fn)
    for name, fn in inspect.getmembers(seed_client.EnhancedAuthClient, inspect.isfunction)
    if not name.startswith("_")
}

#: The seed's methods as auth 3.7.1 has them, so a change of the installed seed is noticed.
RECORDED: dict[str, Params] = {
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


def test_installed_seed_is_3_7_1() -> None:
    from importlib.metadata import version

    assert version("auth") == "3.7.1"
    assert SEED_METHODS == RECORDED


@pytest.mark.parametrize("cls", [EnhancedAuthClient, AsyncEnhancedAuthClient, Client, WardenClient, AsyncWardenClient])
@pytest.mark.parametrize("name", sorted(SEED_METHODS))
def test_seed_method_and_arguments(cls: type, name: str) -> None:
    method = getattr(cls, name, None)
    assert method is not None, f"{cls.__name__} lacks the seed's {name}"
    expected = SEED_METHODS[name]
    got = params(method)
    # Same parameters, order and defaults; extra parameters only after them and only with defaults.
    assert got[: len(expected)] == expected
    assert all(default is not None for _, default in got[len(expected):])
    # Async where ours is async, plain where ours is sync.
    assert inspect.iscoroutinefunction(method) == cls.__name__.startswith("Async") or name == "close"


@pytest.mark.parametrize("cls", [EnhancedAuthClient, AsyncEnhancedAuthClient, Client, WardenClient, AsyncWardenClient])
def test_seed_constructor(cls: type) -> None:
    expected = params(seed_client.EnhancedAuthClient.__init__)
    assert params(cls.__init__)[: len(expected)] == expected
    client = cls(api_key="3f6b9a52-8d1e-4c27-9b0a-1e2d3c4b5a69", service_url="http://warden.test")
    assert client.api_key == "3f6b9a52-8d1e-4c27-9b0a-1e2d3c4b5a69"
    assert client.service_url == "http://warden.test"
    assert client.timeout == 30 and client.circuit_breaker_enabled is True


def test_seed_client_names() -> None:
    assert issubclass(Client, EnhancedAuthClient)
    for name in ("EnhancedAuthClient", "Client", "AuthRefused", "AuthTransportError"):
        assert hasattr(seed_client, name) and hasattr(warden_client, name), name


def test_seed_exceptions() -> None:
    """Raised, built and caught like the seed's: ``AuthRefused(message, status, payload=None)`` with ``.status``
    and ``.payload``, a subclass of ``AuthTransportError``; our typed errors are the same classes."""
    assert issubclass(seed_client.AuthRefused, seed_client.AuthTransportError)
    assert issubclass(warden_client.AuthRefused, warden_client.AuthTransportError)
    ours = warden_client.AuthRefused("auth refused the request: HTTP 404", 404, {"success": False})
    theirs = seed_client.AuthRefused("auth refused the request: HTTP 404", 404, {"success": False})
    assert (ours.status, ours.payload) == (theirs.status, theirs.payload)
    assert warden_client.AuthRefused is warden_client.RefusedError
    assert warden_client.AuthTransportError is warden_client.WardenError
    for cls in (warden_client.TransportError, warden_client.ServerError, warden_client.CircuitOpenError,
                warden_client.DecodeError, warden_client.RefusedError):
        assert issubclass(cls, warden_client.AuthTransportError)
    with pytest.raises(warden_client.AuthTransportError):
        raise warden_client.AuthTransportError("no answer")
