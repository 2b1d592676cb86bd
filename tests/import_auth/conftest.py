"""Fixtures for the `warden import-auth` end-to-end tests. No test may be skipped: a missing binary, command,
package or PostgreSQL server is a failure."""

from __future__ import annotations

import os
import pathlib
import subprocess
from typing import Iterator

import pytest

from helpers import REPO, Postgres


@pytest.fixture(scope="session")
def warden_bin() -> pathlib.Path:
    binary = pathlib.Path(os.environ.get("WARDEN_BIN", REPO / "target" / "debug" / "warden"))
    if not binary.is_absolute():
        binary = REPO / binary
    if not binary.exists():
        pytest.fail(f"Warden binary not found at {binary} (set WARDEN_BIN)")
    help_text = subprocess.run([str(binary), "--help"], capture_output=True, text=True, timeout=60).stdout
    if "import-auth" not in help_text:
        pytest.fail(f"{binary} has no `import-auth` command:\n{help_text}")
    return binary


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    pg = Postgres(os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test"))
    yield pg


@pytest.fixture
def pg_databases(postgres: Postgres) -> Iterator[Postgres]:
    """The PostgreSQL helper; every database a test creates through it is dropped afterwards."""
    try:
        yield postgres
    finally:
        postgres.drop_all()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A skipped or xfailed test fails the run: each one hides a check that must always run."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    stats = getattr(reporter, "stats", {}) if reporter is not None else {}
    if stats.get("skipped") or stats.get("xfailed") or stats.get("xpassed"):
        reporter.write_line("FAILED: tests were skipped or xfailed, which is not allowed here", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
