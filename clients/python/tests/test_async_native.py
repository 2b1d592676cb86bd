"""The async client used natively (pytest-asyncio) against the real server, and the workflow helpers on it."""

from __future__ import annotations

import asyncio
import threading
import uuid
from typing import Any

import pytest

from warden_client import (
    AsyncWardenClient,
    WardenClient,
    RefusedError,
    watch_workflow,
    watch_workflow_async,
)


async def test_concurrent_checks(server_url: str) -> None:
    async with AsyncWardenClient(api_key=str(uuid.uuid4()), service_url=server_url,
                                       read_your_writes=True) as auth:
        await auth.create_role("reader")
        await asyncio.gather(*(auth.add_permission("reader", f"doc:{i}") for i in range(20)))
        await auth.add_membership("ann", "reader")
        answers = await asyncio.gather(*(auth.user_has_permission("ann", f"doc:{i}") for i in range(25)))
        assert answers == [True] * 20 + [False] * 5
        assert auth.revision is not None
        with pytest.raises(RefusedError) as err:
            await auth.add_membership("ann", "ghost")
        assert err.value.status == 404


async def test_async_watcher_on_server(server_url: str) -> None:
    async with AsyncWardenClient(api_key=str(uuid.uuid4()), service_url=server_url) as auth:
        await auth.create_role("ops")
        await auth.add_permission("ops", "backup")
        await auth.add_membership("olga", "ops")
        seen: list[list[str]] = []
        watcher = watch_workflow_async(auth, "backup", seen.append, interval_seconds=0.05)
        for _ in range(100):
            if len(seen) >= 2:
                break
            await asyncio.sleep(0.02)
        await watcher.stop()
        assert seen[0] == ["olga"] and len(seen) >= 2


def test_thread_watcher_on_server(server_url: str) -> None:
    with WardenClient(api_key=str(uuid.uuid4()), service_url=server_url) as auth:
        auth.create_role("ops")
        auth.add_permission("ops", "backup")
        auth.add_membership("olga", "ops")
        seen: list[Any] = []
        got = threading.Event()

        def callback(users: list[str]) -> None:
            seen.append(users)
            got.set()

        with watch_workflow(auth, "backup", callback, interval_seconds=60) as watcher:
            assert got.wait(10)
        assert not watcher.running
        assert seen == [["olga"]]
