"""Strict users (the seed's SPEC 0008, auth 3.7.1) against the real server, for the sync and the async clients: off
by default; while on, decisions about a user without an active API key are negative with ``reason:
"user_not_key_backed"`` and adding such a user to a role is refused 409; a key makes the user count, revoking it
undoes that, turning strict users off restores everything.

``test_seed_client_and_ours_answer_alike`` runs one scenario through the seed itself — auth 3.7.1's server (its
Flask app on a throwaway SQLite file, started from the installed ``auth`` package) and its ``auth.client`` — and
through our ``EnhancedAuthClient`` against Warden, and compares every answer and every refusal."""

from __future__ import annotations

import os
import pathlib
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable, Iterator

import httpx
import pytest

from warden_client import AuthRefused, RefusedError

REASON = "user_not_key_backed"
HINT = (
    "strict_users is enabled and user '{0}' has no API key. Either create one with POST /api/apikeys/user/{0}, "
    'or opt this namespace out with PUT /api/settings {{"strict_users": false}}.'
)


def envelope(resp: Any, message: str) -> Any:
    assert isinstance(resp, dict) and set(resp) == {"success", "code", "message", "data", "timestamp"}, resp
    assert resp["success"] is True and resp["code"] == 200 and resp["message"] == message, resp
    return resp["data"]


@pytest.fixture
def docs(api: Any) -> Any:
    """Role editor granting docs:read, holding bob (added while strict users was off)."""
    api.create_role("editor")
    api.add_permission("editor", "docs:read")
    api.add_membership("bob", "editor")
    return api


# ---------------------------------------------------------------- WardenClient (answers are `data`)


def test_strict_users_is_off_by_default(api: Any) -> None:
    assert api.get_settings()["strict_users"] is False


def test_set_strict_users_answers_the_settings(api: Any) -> None:
    before = api.get_settings()
    on = api.set_strict_users(True)
    assert on == {**before, "strict_users": True}
    assert api.get_settings() == on
    assert api.set_strict_users(False)["strict_users"] is False
    assert api.set_strict_users(True)["strict_users"] is True
    assert api.set_strict_users(None) == before  # null: back to the default, off
    assert api.update_settings(strict_users=True)["strict_users"] is True
    with pytest.raises(RefusedError) as err:
        api.update_settings(strict_users="yes")
    assert err.value.status == 422 and err.value.reason is None


def test_strict_users_lifecycle(docs: Any) -> None:
    api = docs
    assert api.user_has_permission("bob", "docs:read") is True
    assert api.check_user_workflow_permission("bob", "docs:read") is True
    assert api.get_user_permissions("bob") == [{"name": "docs:read"}]

    api.set_strict_users(True)
    # bob holds no API key: every decision about him is negative, his permissions list empty.
    assert api.user_has_permission("bob", "docs:read") is False
    assert api.check_user_workflow_permission("bob", "docs:read") is False
    assert api.get_user_permissions("bob") == []
    # A membership check is a decision too (negative, as in the seed); the listing of his roles is unchanged.
    assert api.has_membership("bob", "editor") is False
    assert api.get_user_roles("bob") == [{"role": "editor", "description": None}]

    with pytest.raises(RefusedError) as err:
        api.add_membership("ann", "editor")
    refused = err.value
    assert isinstance(refused, AuthRefused)
    assert refused.status == 409 and refused.code == 409 and refused.reason == REASON
    assert refused.envelope is not None and refused.envelope["reason"] == REASON
    assert refused.envelope["success"] is False and refused.error is not None
    assert "POST /api/apikeys/user/ann" in refused.error
    assert REASON in repr(refused)
    assert api.has_membership("ann", "editor") is False
    # A removal is never blocked.
    assert api.remove_membership("bob", "editor")["removed"] is True
    with pytest.raises(RefusedError) as err:
        api.add_membership("bob", "editor")
    assert err.value.status == 409 and err.value.reason == REASON

    # A key makes the user count.
    bob_key = api.create_api_key("bob", "ci")
    assert api.add_membership("bob", "editor")["created"] is True
    ann_key = api.create_api_key("ann")
    assert api.add_membership("ann", "editor")["created"] is True
    for user in ("bob", "ann"):
        assert api.user_has_permission(user, "docs:read") is True
        assert api.check_user_workflow_permission(user, "docs:read") is True
        assert api.get_user_permissions(user) == [{"name": "docs:read"}]
    assert api.user_has_permission("bob", "docs:edit") is False

    # Revoking the only key makes the decisions negative again; the key holder's own check is unaffected.
    api.revoke_api_key("bob", bob_key["key_id"])
    assert api.user_has_permission("bob", "docs:read") is False
    assert api.check_user_workflow_permission("bob", "docs:read") is False
    assert api.get_user_permissions("bob") == []
    assert api.check_api_key_permission(ann_key["api_key"], "docs:read") == {
        "valid": True, "user": "ann", "key_id": ann_key["key_id"], "has_permission": True}
    assert api.check_api_key_permission(bob_key["api_key"], "docs:read") == {"valid": False, "reason": "revoked"}

    # Turning strict users off restores every answer.
    assert api.set_strict_users(False)["strict_users"] is False
    assert api.user_has_permission("bob", "docs:read") is True
    assert api.check_user_workflow_permission("bob", "docs:read") is True
    assert api.get_user_permissions("bob") == [{"name": "docs:read"}]
    assert api.add_membership("carol", "editor")["created"] is True


def test_strict_users_is_per_tenant(docs: Any, factory: Any) -> None:
    docs.set_strict_users(True)
    other = factory()
    other.create_role("editor")
    other.add_permission("editor", "docs:read")
    other.add_membership("bob", "editor")
    assert other.get_settings()["strict_users"] is False
    assert other.user_has_permission("bob", "docs:read") is True
    assert docs.user_has_permission("bob", "docs:read") is False


# ---------------------------------------------------------------- EnhancedAuthClient (the seed's answers)


def test_seed_answers_under_strict_users(seed: Any, docs: Any) -> None:
    assert envelope(seed.get_settings(), "Tenant settings")["strict_users"] is False
    assert envelope(seed.set_strict_users(True), "Tenant settings updated") == {"strict_users": True}
    assert envelope(seed.get_settings(), "Tenant settings") == {**docs.get_settings(), "strict_users": True}

    checked = "Permission check for user 'bob' and permission 'docs:read' completed"
    can_run = "Workflow permission check for user 'bob' and workflow 'docs:read' completed"
    listed = "Retrieved permissions for user 'bob'"
    negative = {"has_permission": False, "reason": REASON}
    assert envelope(seed.user_has_permission("bob", "docs:read"), checked) == negative
    assert envelope(seed.check_user_workflow_permission("bob", "docs:read"), can_run) == negative
    assert envelope(seed.get_user_permissions("bob"), listed) == {"count": 0, "permissions": [], "reason": REASON}

    with pytest.raises(AuthRefused) as err:
        seed.add_membership("ann", "editor")
    assert err.value.status == 409 and err.value.reason == REASON
    assert err.value.payload == {"result": False, "reason": REASON, "hint": HINT.format("ann")}
    assert isinstance(err.value.__cause__, RefusedError) and err.value.__cause__.envelope is not None
    assert err.value.__cause__.envelope["reason"] == REASON
    with pytest.raises(AuthRefused) as err:
        seed.add_membership("ann", "ghost")  # the strict refusal comes first, as in the seed
    assert err.value.payload == {"result": False, "reason": REASON, "hint": HINT.format("ann")}

    created = "API key created for user 'bob'. The api_key value is shown only once \u2014 store it now."
    key = envelope(seed.create_api_key("bob"), created)
    seed.create_api_key("carol")
    assert envelope(seed.user_has_permission("bob", "docs:read"), checked) == {"has_permission": True}
    assert envelope(seed.check_user_workflow_permission("bob", "docs:read"), can_run) == {"has_permission": True}
    assert envelope(seed.get_user_permissions("bob"), listed) == {"count": 1, "permissions": [{"name": "docs:read"}]}
    # A key-backed user's negative answers carry no reason.
    assert envelope(seed.user_has_permission("bob", "docs:edit"),
                    "Permission check for user 'bob' and permission 'docs:edit' completed") == {
        "has_permission": False}
    assert envelope(seed.get_user_permissions("carol"), "Retrieved permissions for user 'carol'") == {
        "count": 0, "permissions": []}
    assert seed.add_membership("carol", "editor") == {"result": True}

    seed.revoke_api_key("bob", key["key_id"])
    assert envelope(seed.user_has_permission("bob", "docs:read"), checked) == negative
    assert envelope(seed.get_user_permissions("bob"), listed) == {"count": 0, "permissions": [], "reason": REASON}

    assert envelope(seed.set_strict_users(False), "Tenant settings updated") == {"strict_users": False}
    assert envelope(seed.user_has_permission("bob", "docs:read"), checked) == {"has_permission": True}
    assert envelope(seed.get_user_permissions("nobody"), "Retrieved permissions for user 'nobody'") == {
        "count": 0, "permissions": []}
    assert envelope(seed.check_user_workflow_permission("nobody", "docs:read"),
                    "Workflow permission check for user 'nobody' and workflow 'docs:read' completed") == {
        "has_permission": False}


def test_seed_has_membership_is_negative_with_the_reason(seed: Any, docs: Any) -> None:
    """As the seed: under strict users a keyless member's membership check is ``False`` with the reason."""
    seed.set_strict_users(True)
    message = "Membership check for user 'bob' and group 'editor' completed"
    assert envelope(seed.has_membership("bob", "editor"), message) == {
        "has_permission": False, "reason": REASON}


# ---------------------------------------------------------------- the seed itself: auth 3.7.1's server and client

SEED_SERVER = """
import logging, sys
logging.disable(logging.CRITICAL)
from auth.database import create_tables
create_tables(raise_on_error=True)
from auth.main import app
from werkzeug.serving import make_server
make_server("127.0.0.1", int(sys.argv[1]), app, threaded=True).serve_forever()
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def seed_server_url() -> Iterator[str]:
    """auth 3.7.1's own server (the installed ``auth`` package), strict users off by default as in Warden."""
    work = tempfile.mkdtemp(prefix="auth371-")
    port = _free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": work,
        "AUTH_DATABASE_TYPE": "sqlite",
        "AUTH_SQLITE_PATH": f"{work}/auth.sqlite3",
        "AUTH_STRICT_USERS_DEFAULT": "false",
        "AUTH_JWT_SECRET_KEY": secrets.token_hex(32),
        "AUTH_AUDIT_PEPPER": secrets.token_hex(32),
    }
    log = open(os.path.join(work, "server.log"), "wb")
    proc = subprocess.Popen([sys.executable, "-c", SEED_SERVER, str(port)], cwd=work, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                log.flush()
                pytest.fail("auth 3.7.1 exited before it was ready:\n" + pathlib.Path(work, "server.log").read_text())
            try:
                if httpx.get(f"{url}/ping", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("auth 3.7.1 did not become live")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def scenario(client: Any, refused: type[BaseException]) -> list[Any]:
    """Every answer (or refusal) of the seed-named calls through a strict-users lifecycle, with what differs by
    nature (timestamps, key ids and secrets, Warden's extra settings) taken out."""
    keys: dict[str, str] = {}

    def norm(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: norm(v) for k, v in value.items() if k not in ("timestamp", "created", "key_prefix")}
        if isinstance(value, list):
            return [norm(v) for v in value]
        if isinstance(value, str):
            for name, secret in keys.items():
                value = value.replace(secret, f"<{name}>")
        return value

    def call(fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return norm(fn(*args))
        except refused as exc:
            return {"refused": getattr(exc, "status", None), "payload": norm(getattr(exc, "payload", None))}

    def key(user: str) -> Any:
        data = client.create_api_key(user)["data"]
        keys[f"{user}_id"], keys[f"{user}_secret"] = data["key_id"], data["api_key"]
        return norm(data)

    out: list[Any] = []
    settings = client.get_settings()
    out.append({"message": settings["message"], "strict_users": settings["data"]["strict_users"]})
    out.append(call(client.set_strict_users, True))
    out += [call(client.create_role, "editor"), call(client.add_permission, "editor", "docs_read")]
    out += [call(client.add_membership, "ann", "editor"), call(client.add_membership, "ann", "ghost")]
    out += [call(client.user_has_permission, "ann", "docs_read"),
            call(client.check_user_workflow_permission, "ann", "docs_read"),
            call(client.get_user_permissions, "ann")]
    out.append(key("ann"))
    out += [call(client.add_membership, "ann", "editor"),
            call(client.user_has_permission, "ann", "docs_read"),
            call(client.user_has_permission, "ann", "docs_write"),
            call(client.check_user_workflow_permission, "ann", "docs_read"),
            call(client.get_user_permissions, "ann"),
            call(client.get_user_permissions, "nobody"),
            call(client.check_api_key_permission, keys["ann_secret"], "docs_read")]
    out.append(call(client.revoke_api_key, "ann", keys["ann_id"]))
    out += [call(client.user_has_permission, "ann", "docs_read"),
            call(client.user_has_permission, "ann", "docs_write"),
            call(client.check_user_workflow_permission, "ann", "docs_read"),
            call(client.get_user_permissions, "ann"),
            call(client.has_membership, "ann", "editor"),
            call(client.check_api_key_permission, keys["ann_secret"], "docs_read")]
    out.append(key("bob"))
    out += [call(client.add_membership, "bob", "editor"),
            call(client.check_api_key_permission, keys["bob_secret"], "docs_read"),
            call(client.set_strict_users, False),
            call(client.user_has_permission, "ann", "docs_read"),
            call(client.check_user_workflow_permission, "ann", "docs_read"),
            call(client.get_user_permissions, "ann"),
            call(client.add_membership, "carol", "editor")]
    settings = client.get_settings()
    out.append({"message": settings["message"], "strict_users": settings["data"]["strict_users"]})
    return out


@pytest.fixture(scope="session")
def seed_scenario(seed_server_url: str) -> list[Any]:
    import uuid

    from auth.client import AuthRefused as SeedRefused
    from auth.client import EnhancedAuthClient as SeedClient

    client = SeedClient(str(uuid.uuid4()), seed_server_url, max_retries=0)
    try:
        return scenario(client, SeedRefused)
    finally:
        client.close()


def test_seed_client_and_ours_answer_alike(seed: Any, seed_scenario: list[Any]) -> None:
    ours = scenario(seed, AuthRefused)
    assert len(ours) == len(seed_scenario)
    for step, (got, expected) in enumerate(zip(ours, seed_scenario)):
        assert got == expected, f"step {step}"
    # The scenario did meet strict users: a refusal and a reason each.
    assert {"refused": 409, "payload": {"result": False, "reason": REASON, "hint": HINT.format("ann")}} in ours
    assert any(isinstance(a, dict) and isinstance(a.get("data"), dict) and a["data"].get("reason") == REASON
               for a in ours)
