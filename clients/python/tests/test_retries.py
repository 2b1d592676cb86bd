"""Retry, circuit-breaker, secret-hiding and envelope logic, on an httpx MockTransport (no server needed)."""

from __future__ import annotations

import json
import time
from typing import Any, Callable

import httpx
import pytest

from warden_client import (
    AsyncWardenClient,
    CircuitBreaker,
    CircuitOpenError,
    WardenClient,
    RateLimitedError,
    RefusedError,
    RetryPolicy,
    ServerError,
    TransportError,
)

KEY = "0f0e6d7c-1111-4222-8333-444455556666"


def ok(data: Any, **extra: Any) -> httpx.Response:
    return httpx.Response(200, json={"success": True, "code": 200, "message": "ok", "data": data,
                                     "timestamp": "t", **extra})


def refused(status: int, error: str = "nope", headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, headers=headers, json={"success": False, "code": status, "message": "Refused",
                                                        "error": error, "timestamp": "t"})


class Script:
    """Answers requests from a list of responses (or exceptions) and records what was sent."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            return answer(request)  # type: ignore[no-any-return]
        return answer  # type: ignore[no-any-return]


def sync_client(script: Script, **kwargs: Any) -> WardenClient:
    kwargs.setdefault("retry", RetryPolicy(max_retries=3, backoff_factor=0.01, max_backoff=0.5))
    return WardenClient(KEY, "http://warden.test", transport=httpx.MockTransport(script), **kwargs)


def async_client(script: Script, **kwargs: Any) -> AsyncWardenClient:
    kwargs.setdefault("retry", RetryPolicy(max_retries=3, backoff_factor=0.01, max_backoff=0.5))
    return AsyncWardenClient(KEY, "http://warden.test", transport=httpx.MockTransport(script), **kwargs)


def test_503_retried_honouring_retry_after() -> None:
    script = Script(refused(503, headers={"Retry-After": "0.2"}), refused(429, headers={"Retry-After": "0.1"}),
                    ok({"has_permission": True}))
    client = sync_client(script)
    start = time.monotonic()
    assert client.user_has_permission("u", "p") is True
    assert time.monotonic() - start >= 0.3
    assert len(script.requests) == 3


async def test_async_503_retried_honouring_retry_after() -> None:
    script = Script(refused(503, headers={"Retry-After": "0.2"}), ok([{"role": "a", "description": None}]))
    client = async_client(script)
    start = time.monotonic()
    assert await client.list_roles() == [{"role": "a", "description": None}]
    assert time.monotonic() - start >= 0.2
    assert len(script.requests) == 2
    await client.close()


def test_retry_after_is_capped() -> None:
    script = Script(refused(429, headers={"Retry-After": "3600"}), ok({"is_member": False}))
    client = sync_client(script, retry=RetryPolicy(max_retries=2, max_backoff=0.05))
    start = time.monotonic()
    assert client.has_membership("u", "r") is False
    assert time.monotonic() - start < 1


def test_attempts_are_bounded() -> None:
    script = Script(refused(503, headers={"Retry-After": "0"}))
    client = sync_client(script, retry=RetryPolicy(max_retries=2))
    with pytest.raises(ServerError) as err:
        client.list_roles()
    assert err.value.status == 503 and len(script.requests) == 3
    script = Script(refused(429, headers={"Retry-After": "0"}))
    with pytest.raises(RateLimitedError) as rl:
        sync_client(script, retry=RetryPolicy(max_retries=1)).list_roles()
    assert rl.value.status == 429 and len(script.requests) == 2


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.check_access("u"),
        lambda c: c.create_api_key("u", label="ci"),
        lambda c: c.issue_jwt("u"),
        lambda c: c.refresh_jwt("r"),
        lambda c: c.create_session("u", ["p"]),
        lambda c: c.validate_single_use_token("u.s"),
        lambda c: c.rotate_key(),
        lambda c: c.get_rotate_key(),
        lambda c: c.login("u", "pw"),
    ],
)
def test_non_idempotent_posts_are_not_retried(call: Callable[[Any], Any]) -> None:
    script = Script(refused(503, headers={"Retry-After": "0"}))
    with pytest.raises(ServerError):
        call(sync_client(script))
    assert len(script.requests) == 1


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.validate_api_key("rak_x"),
        lambda c: c.check_api_key_permission("rak_x", "p"),
        lambda c: c.verify_jwt("t"),
        lambda c: c.check_session("s", ["p"]),
        lambda c: c.add_permission("r", "p"),
        lambda c: c.delete_role("r"),
        lambda c: c.put_user("u"),
    ],
)
def test_idempotent_calls_are_retried(call: Callable[[Any], Any]) -> None:
    script = Script(refused(503, headers={"Retry-After": "0"}), ok({"valid": True, "p": True}))
    call(sync_client(script))
    assert len(script.requests) == 2


def test_4xx_never_retried_and_never_opens_the_breaker() -> None:
    script = Script(refused(404, "role `ghost` not found"))
    client = sync_client(script, circuit_breaker=CircuitBreaker(failure_threshold=2, recovery_timeout=60))
    for _ in range(5):
        with pytest.raises(RefusedError) as err:
            client.get_role_members("ghost")
        assert err.value.status == 404 and err.value.error == "role `ghost` not found"
    assert len(script.requests) == 5


def test_connection_errors_retried_then_breaker_opens() -> None:
    script = Script(httpx.ConnectError("refused"))
    client = sync_client(script, retry=RetryPolicy(max_retries=1, backoff_factor=0.001),
                         circuit_breaker=CircuitBreaker(failure_threshold=2, recovery_timeout=60))
    for _ in range(2):
        with pytest.raises(TransportError) as err:
            client.list_roles()
        assert err.value.status is None
    assert len(script.requests) == 4
    with pytest.raises(CircuitOpenError):
        client.list_roles()
    assert len(script.requests) == 4  # nothing sent while open


def test_connection_error_then_success() -> None:
    script = Script(httpx.ConnectError("refused"), ok({"has_permission": False}))
    assert sync_client(script).has_permission("r", "p") is False
    assert len(script.requests) == 2


async def test_async_breaker_half_open_recovers() -> None:
    script = Script(refused(500), ok([]))
    client = async_client(script, retry=RetryPolicy(max_retries=0),
                          circuit_breaker=CircuitBreaker(failure_threshold=1, recovery_timeout=0.05))
    with pytest.raises(ServerError):
        await client.list_roles()
    with pytest.raises(CircuitOpenError):
        await client.list_roles()
    time.sleep(0.06)
    assert await client.list_roles() == []
    await client.close()


def test_breaker_can_be_disabled() -> None:
    script = Script(refused(500))
    client = sync_client(script, circuit_breaker_enabled=False, retry=RetryPolicy(max_retries=0),
                         circuit_breaker=CircuitBreaker(failure_threshold=1))
    for _ in range(3):
        with pytest.raises(ServerError):
            client.list_roles()


def test_listing_follows_next_cursor_and_sends_min_revision() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        assert request.url.params.get("min_revision") == "7"
        if cursor is None:
            return ok([{"user": "a"}], next_cursor="c1")
        return ok([{"user": "b"}], next_cursor=None)

    script = Script(answer)
    client = sync_client(script).at_least(7)
    assert client.get_role_members("r") == [{"user": "a"}, {"user": "b"}]
    assert [r.url.path for r in script.requests] == ["/api/members/r", "/api/members/r"]


def test_names_are_percent_encoded() -> None:
    script = Script(ok({"has_permission": True}))
    sync_client(script).user_has_permission("a/b c@x.com", "docs:read")
    assert script.requests[0].url.raw_path == b"/api/has_permission/a%2Fb%20c%40x.com/docs%3Aread"


def test_rotate_key_switches_the_client_and_recover_sends_no_bearer() -> None:
    new_key = "9a9b9c9d-1111-4222-8333-444455556666"
    script = Script(ok({"new_key": new_key, "migrated": 3}), ok([]))
    client = sync_client(script)
    assert client.rotate_key()["new_key"] == new_key
    client.list_roles()
    assert script.requests[0].headers["Authorization"] == f"Bearer {KEY}"
    assert script.requests[1].headers["Authorization"] == f"Bearer {new_key}"
    assert client.api_key == new_key and new_key not in repr(client)

    recovered = "7a7b7c7d-1111-4222-8333-444455556666"
    script = Script(ok({"client_key": recovered, "rotate_key": "rrk_new"}))
    client = sync_client(script)
    client.recover_key("rrk_old")
    assert "Authorization" not in script.requests[0].headers
    assert json.loads(script.requests[0].content) == {"rotate_key": "rrk_old"}
    assert client.api_key == recovered


def test_body_and_listing_shapes() -> None:
    """What is sent and how listings are unwrapped (the live answers are in test_live_accounts.py)."""
    script = Script(
        ok({"api_key": "rak_secret", "key_id": "k", "user": "u", "label": "ci", "key_prefix": "rak_se"}),
        ok({"count": 1, "keys": [{"key_id": "k", "is_active": True}]}),
        ok({"count": 1, "members": ["u"]}, next_cursor=None),
        ok({"has_permission": True}),
        ok({"strict_users": True}),
    )
    client = sync_client(script)
    assert client.create_api_key("u", "ci", "2030-01-01T00:00:00Z")["api_key"] == "rak_secret"
    assert json.loads(script.requests[0].content) == {"label": "ci", "expires_at": "2030-01-01T00:00:00Z"}
    assert client.list_api_keys("u") == [{"key_id": "k", "is_active": True}]
    assert client.get_users_for_workflow("deploy") == ["u"]
    assert client.check_user_workflow_permission("u", "deploy") is True
    assert client.set_strict_users(True) == {"strict_users": True}
    assert json.loads(script.requests[4].content) == {"strict_users": True}
    assert [r.url.path for r in script.requests] == [
        "/api/apikeys/user/u", "/api/apikeys/user/u", "/api/workflow/users/deploy",
        "/api/workflow/user/u/can_run/deploy", "/api/settings",
    ]


def test_health_reports_unhealthy_without_raising() -> None:
    script = Script(httpx.Response(503, json={"success": False, "code": 503, "message": "Service Unavailable",
                                              "error": "database unreachable", "timestamp": "t"}))
    client = sync_client(script)
    assert client.health()["status"] == "unhealthy"
    assert client.is_healthy() is False
    assert len(script.requests) == 2  # one per call: not retried
    down = sync_client(Script(httpx.ConnectError("refused")))
    assert down.is_healthy() is False


def test_secrets_never_in_exceptions() -> None:
    script = Script(refused(401, "invalid token"))
    client = sync_client(script)
    for call in (lambda: client.validate_api_key("rak_topsecret"), lambda: client.login("u", "hunter2"),
                 lambda: client.get_session("sess-secret-id")):
        with pytest.raises(RefusedError) as err:
            call()
        text = str(err.value) + repr(err.value)
        for secret in ("rak_topsecret", "hunter2", "sess-secret-id", KEY):
            assert secret not in text
    assert KEY not in repr(client) and KEY not in str(client)


def test_non_json_answer_is_a_decode_error() -> None:
    from warden_client import DecodeError

    script = Script(httpx.Response(200, text="<html>"))
    with pytest.raises(DecodeError):
        sync_client(script).list_roles()


def test_sync_clients_are_generated_from_async() -> None:
    import pathlib
    import subprocess
    import sys

    tool = pathlib.Path(__file__).resolve().parents[1] / "tools" / "unasync.py"
    assert tool.exists(), "the tests run from the source tree"
    assert subprocess.run([sys.executable, str(tool), "--check"]).returncode == 0
