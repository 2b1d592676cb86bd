"""Starts the real Warden binary once per session on a free port with a throwaway SQLite file.

The binary is ``$WARDEN_BIN`` (default ``target/debug/warden`` under the repository root).
"""

from __future__ import annotations

import asyncio
import inspect
import os
import pathlib
import socket
import subprocess
import tempfile
import time
import uuid
from typing import Any, Iterator

import httpx
import pytest

from warden_client import AsyncEnhancedAuthClient, AsyncWardenClient, EnhancedAuthClient, WardenClient

REPO = pathlib.Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    binary = pathlib.Path(os.environ.get("WARDEN_BIN", REPO / "target" / "debug" / "warden"))
    if not binary.is_absolute():
        binary = REPO / binary
    if not binary.exists():
        pytest.fail(f"Warden binary not found at {binary} (set WARDEN_BIN)")
    work = tempfile.mkdtemp(prefix="warden-pyclient-")
    port = _free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": work,
        "AUTH_DATABASE_URL": f"sqlite://{work}/test.sqlite3",
        "AUTH_SERVER_HOST": "127.0.0.1",
        "AUTH_SERVER_PORT": str(port),
    }
    log = open(os.path.join(work, "server.log"), "wb")
    proc = subprocess.Popen([str(binary), "serve"], cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                log.flush()
                pytest.fail("warden exited before it was ready:\n" + pathlib.Path(work, "server.log").read_text())
            try:
                if httpx.get(f"{url}/livez", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("warden did not become live")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture
def key() -> str:
    return str(uuid.uuid4())


class Blocking:
    """Runs an async client's coroutines on a private loop, so one test body covers the sync and async clients."""

    def __init__(self, client: AsyncWardenClient | AsyncEnhancedAuthClient, loop: asyncio.AbstractEventLoop) -> None:
        self._client = client
        self._loop = loop

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if inspect.iscoroutinefunction(attr):
            def call(*args: Any, **kwargs: Any) -> Any:
                return self._loop.run_until_complete(attr(*args, **kwargs))
            return call
        if name == "at_least":
            return lambda revision: Blocking(attr(revision), self._loop)
        if name == "warden":
            return Blocking(attr, self._loop)
        return attr

    def __repr__(self) -> str:
        return repr(self._client)


def make_client(kind: str, url: str, key: str, seed: bool = False, **kwargs: Any) -> Any:
    """A Warden client (``seed=False``) or a seed-compatible one of the given kind."""
    if kind == "sync":
        return (EnhancedAuthClient if seed else WardenClient)(api_key=key, service_url=url, **kwargs)
    loop = asyncio.new_event_loop()
    client = (AsyncEnhancedAuthClient if seed else AsyncWardenClient)(api_key=key, service_url=url, **kwargs)
    wrapped = Blocking(client, loop)
    wrapped._closer = lambda: (loop.run_until_complete(client.close()), loop.close())  # type: ignore[attr-defined]
    return wrapped


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def factory(kind: str, server_url: str) -> Iterator[Any]:
    """``factory(key=None, seed=False, **kwargs)``: a client of the given kind on the test server (closed
    afterwards); ``seed=True`` gives the seed-compatible ``EnhancedAuthClient``."""
    made: list[Any] = []

    def make(key: str | None = None, seed: bool = False, **kwargs: Any) -> Any:
        client = make_client(kind, server_url, key or str(uuid.uuid4()), seed, **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        if isinstance(client, Blocking):
            client._closer()  # type: ignore[attr-defined]
        else:
            client.close()


@pytest.fixture
def api(factory: Any, key: str) -> Any:
    """A Warden client (answers are ``data``)."""
    return factory(key)


@pytest.fixture
def seed(factory: Any, key: str) -> Any:
    """A seed-compatible client on the same tenant as ``api``."""
    return factory(key, seed=True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """No test may be skipped or xfailed here: a skip would hide a comparison that must always run."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    stats = getattr(reporter, "stats", {}) if reporter is not None else {}
    if stats.get("skipped") or stats.get("xfailed") or stats.get("xpassed"):
        reporter.write_line("FAILED: tests were skipped or xfailed, which is not allowed here", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
