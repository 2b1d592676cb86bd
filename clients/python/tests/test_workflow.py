"""The periodic workflow helper (the seed's workflow check), sync thread and async task."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import httpx

from warden_client import (
    AsyncWardenClient,
    WardenClient,
    watch_workflow,
    watch_workflow_async,
)

KEY = "0f0e6d7c-1111-4222-8333-444455556666"


def users_answer(request: httpx.Request) -> httpx.Response:
    assert request.url.path == "/api/workflow/users/deploy"
    return httpx.Response(200, json={"success": True, "code": 200, "message": "ok", "timestamp": "t",
                                     "data": {"count": 1, "members": ["alice"]}, "next_cursor": None})


def test_thread_watcher_survives_callback_errors_and_stops() -> None:
    client = WardenClient(KEY, "http://warden.test", transport=httpx.MockTransport(users_answer))
    seen: list[Any] = []
    done = threading.Event()

    def callback(users: list[str]) -> None:
        seen.append(users)
        if len(seen) == 1:
            raise RuntimeError("callback failure")
        if len(seen) == 3:
            done.set()

    watcher = watch_workflow(client, "deploy", callback, interval_seconds=0.02)
    assert done.wait(5)
    watcher.stop(timeout=5)
    assert not watcher.running
    assert seen[0] == ["alice"]
    assert watcher.errors == 1 and watcher.runs >= 3
    runs = watcher.runs
    time.sleep(0.1)
    assert watcher.runs == runs  # stopped


def test_thread_watcher_survives_server_errors() -> None:
    calls = []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            return httpx.Response(404, json={"success": False, "code": 404, "message": "Not Found",
                                             "error": "x", "timestamp": "t"})
        return users_answer(request)

    client = WardenClient(KEY, "http://warden.test", transport=httpx.MockTransport(flaky))
    got = threading.Event()
    with watch_workflow(client, "deploy", lambda users: got.set(), interval_seconds=0.02) as watcher:
        assert got.wait(5)
    assert watcher.errors == 1 and not watcher.running


async def test_async_watcher_with_async_callback() -> None:
    client = AsyncWardenClient(KEY, "http://warden.test", transport=httpx.MockTransport(users_answer))
    seen: list[Any] = []

    async def callback(users: list[str]) -> None:
        seen.append(users)
        if len(seen) == 2:
            raise ValueError("boom")

    watcher = watch_workflow_async(client, "deploy", callback, interval_seconds=0.01)
    for _ in range(200):
        if len(seen) >= 4:
            break
        await asyncio.sleep(0.01)
    assert watcher.running
    await watcher.stop()
    assert not watcher.running
    assert watcher.errors == 1 and seen[0] == ["alice"] and len(seen) >= 4
    await client.close()
