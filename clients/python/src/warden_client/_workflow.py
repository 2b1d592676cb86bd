"""The seed's periodic workflow check as a helper: call back with the users who may run a workflow every N
seconds. Errors (of the call or of the callback) are logged and never end the loop."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any, Awaitable, Callable, Optional, Union

from ._async_client import AsyncWardenClient
from ._async_seed import AsyncEnhancedAuthClient
from ._sync_client import WardenClient
from ._sync_seed import EnhancedAuthClient

logger = logging.getLogger("warden_client.workflow")

Users = list[str]


class WorkflowWatcher:
    """A daemon thread calling ``callback(users)`` every ``interval_seconds`` (first call at once).

    ``stop()`` ends it (waiting for the current round, up to ``timeout``); it is also a context manager.
    """

    def __init__(
        self,
        client: Union[EnhancedAuthClient, WardenClient],
        workflow_name: str,
        callback: Callable[[Users], Any],
        interval_seconds: float = 300,
    ) -> None:
        if interval_seconds <= 0:
            raise ValueError("interval_seconds must be positive")
        # Warden's answer (the user names), whichever client was given.
        self._client = client.warden if isinstance(client, EnhancedAuthClient) else client
        self.workflow_name = workflow_name
        self._callback = callback
        self.interval_seconds = interval_seconds
        self._stop = threading.Event()
        self.runs = 0
        self.errors = 0
        self._thread = threading.Thread(
            target=self._run, name=f"warden-workflow-{workflow_name}", daemon=True
        )

    def start(self) -> "WorkflowWatcher":
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                users = self._client.get_users_for_workflow(self.workflow_name)
                self._callback(users)
            except Exception:
                self.errors += 1
                logger.exception("workflow check of %r failed", self.workflow_name)
            finally:
                self.runs += 1
            self._stop.wait(self.interval_seconds)

    def stop(self, timeout: Optional[float] = None) -> None:
        self._stop.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def __enter__(self) -> "WorkflowWatcher":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class AsyncWorkflowWatcher:
    """An asyncio task calling ``callback(users)`` (plain or async) every ``interval_seconds``."""

    def __init__(
        self,
        client: Union[AsyncEnhancedAuthClient, AsyncWardenClient],
        workflow_name: str,
        callback: Callable[[Users], Union[Any, Awaitable[Any]]],
        interval_seconds: float = 300,
    ) -> None:
        if interval_seconds <= 0:
            raise ValueError("interval_seconds must be positive")
        # Warden's answer (the user names), whichever client was given.
        self._client = client.warden if isinstance(client, AsyncEnhancedAuthClient) else client
        self.workflow_name = workflow_name
        self._callback = callback
        self.interval_seconds = interval_seconds
        self.runs = 0
        self.errors = 0
        self._task: Optional[asyncio.Task[None]] = None

    def start(self) -> "AsyncWorkflowWatcher":
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def _run(self) -> None:
        while True:
            try:
                users = await self._client.get_users_for_workflow(self.workflow_name)
                result = self._callback(users)
                if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
                    await result
            except asyncio.CancelledError:
                raise
            except Exception:
                self.errors += 1
                logger.exception("workflow check of %r failed", self.workflow_name)
            finally:
                self.runs += 1
            await asyncio.sleep(self.interval_seconds)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def __aenter__(self) -> "AsyncWorkflowWatcher":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


def watch_workflow(
    client: Union[EnhancedAuthClient, WardenClient],
    workflow_name: str,
    callback: Callable[[Users], Any],
    interval_seconds: float = 300,
) -> WorkflowWatcher:
    """Start a :class:`WorkflowWatcher` (the seed's ``add_workflow_permission_check_job``)."""
    return WorkflowWatcher(client, workflow_name, callback, interval_seconds).start()


def watch_workflow_async(
    client: Union[AsyncEnhancedAuthClient, AsyncWardenClient],
    workflow_name: str,
    callback: Callable[[Users], Union[Any, Awaitable[Any]]],
    interval_seconds: float = 300,
) -> AsyncWorkflowWatcher:
    """Start an :class:`AsyncWorkflowWatcher` on the running loop."""
    return AsyncWorkflowWatcher(client, workflow_name, callback, interval_seconds).start()
