"""Helpers for the `warden import-auth` end-to-end tests: building `auth` 3.7.1 sources (in their own process,
under auth's environment), running the warden binary (under Warden's environment only), parsing its report,
serving the imported database and per-test PostgreSQL databases."""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import re
import secrets
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from typing import Any, Iterator

import httpx
import pytest

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[1]


def strong_secret() -> str:
    """A strong key/secret: 64 hex digits (random)."""
    return secrets.token_hex(32)


def new_key() -> str:
    return str(uuid.uuid4())


# --------------------------------------------------------------------------------------------------------------
# auth 3.7.1 sources


def build_source(
    workdir: pathlib.Path,
    url: str,
    clients: dict[str, str],
    *,
    encryption_key: str | None = None,
    schema: str | None = None,
    canary: bool = True,
    rotate_key: bool = False,
) -> dict[str, Any]:
    """Writes the dataset into the auth database at ``url`` with auth's own services, in a child process whose
    environment holds auth's settings only. Returns what build_auth_source.py printed."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(workdir),
        "AUTH_DATABASE_URL": url,
        "AUTH_ENABLE_ENCRYPTION": "true" if encryption_key else "false",
        "AUTH_JWT_SECRET_KEY": strong_secret(),
        "AUTH_AUDIT_PEPPER": strong_secret(),
    }
    if encryption_key:
        env["AUTH_ENCRYPTION_KEY"] = encryption_key
    if schema:
        env["AUTH_DATABASE_SCHEMA"] = schema
    spec = dict(clients, canary=canary, rotate_key=rotate_key)
    proc = subprocess.run(
        [sys.executable, str(HERE / "build_auth_source.py"), json.dumps(spec)],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode != 0:
        pytest.fail(f"building the auth source failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    made = json.loads(proc.stdout.strip().splitlines()[-1])
    # auth itself must answer what we meant to store, or the test data is wrong (not Warden).
    assert made["auth_view"]["A"]["roles"] == ["editor", "viewer"], made["auth_view"]
    assert made["auth_view"]["B"]["roles"] == ["admin", "editor"], made["auth_view"]
    assert made["auth_view"]["A"]["strict_users"] is False
    assert made["auth_view"]["B"]["strict_users"] is True
    assert made["auth_view"]["A"]["validate"] == {"alice@example.com/laptop": True, "bob/ci": False}
    assert made["stored"]["inactive_roles"] == ["old"]
    sealed = [v.startswith("v2:") for k in ("users", "permissions", "descriptions", "key_labels")
              for v in made["stored"][k]]
    if encryption_key:
        assert sealed and all(sealed), made["stored"]
    else:
        assert not any(sealed), made["stored"]
    assert bool(made["stored"]["canary"]) == bool(encryption_key and canary), made["stored"]
    made["clients"] = clients
    made["url"] = url
    return made


# --------------------------------------------------------------------------------------------------------------
# The report of `warden import-auth`

_COUNTS = r"(\d+)/(\d+) roles, (\d+)/(\d+) grants, (\d+)/(\d+) memberships, (\d+)/(\d+) API keys, (\d+)/(\d+) settings"
TENANT_LINE = re.compile(r"^tenant ([0-9a-f]{64}): (added|would add) " + _COUNTS + r"$")
SKIP_LINE = re.compile(r"^skipped in tenant ([0-9a-f]{64}): (.+?): (.+)$")
SKIP_UNSCOPED_LINE = re.compile(r"^skipped: (.+?): (.+)$")
SUMMARY_LINE = re.compile(
    r"^(\d+) tenants( \(dry run, nothing written\))?: (added|would add) (\d+) roles, (\d+) grants, "
    r"(\d+) memberships, (\d+) API keys, (\d+) settings \(of (\d+) roles, (\d+) grants, (\d+) memberships, "
    r"(\d+) API keys importable\); (\d+) skipped$"
)
KINDS = ("roles", "grants", "memberships", "api_keys", "settings")


@dataclass
class Report:
    stdout: str
    verb: str = ""
    # fingerprint -> {"added": {...}, "offered": {...}}
    tenants: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    # (fingerprint or None, what, why)
    skipped: list[tuple[str | None, str, str]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, stdout: str) -> "Report":
        report = cls(stdout)
        lines = [line for line in stdout.splitlines() if line.strip()]
        assert lines, "import-auth printed nothing on stdout"
        for line in lines[:-1]:
            if m := TENANT_LINE.match(line):
                fp, verb, *nums = m.groups()
                n = list(map(int, nums))
                assert fp not in report.tenants, f"tenant listed twice: {line}"
                report.tenants[fp] = {
                    "added": dict(zip(KINDS, n[0::2])),
                    "offered": dict(zip(KINDS, n[1::2])),
                }
                assert not report.verb or report.verb == verb, stdout
                report.verb = verb
            elif m := SKIP_LINE.match(line):
                report.skipped.append((m.group(1), m.group(2), m.group(3)))
            elif m := SKIP_UNSCOPED_LINE.match(line):
                report.skipped.append((None, m.group(1), m.group(2)))
            else:
                raise AssertionError(f"unexpected line in the import report: {line!r}\n--- stdout:\n{stdout}")
        m = SUMMARY_LINE.match(lines[-1])
        assert m, f"the last line is not the summary: {lines[-1]!r}\n--- stdout:\n{stdout}"
        g = m.groups()
        report.summary = {
            "tenants": int(g[0]),
            "dry_run": g[1] is not None,
            "verb": g[2],
            "added": dict(zip(KINDS, map(int, g[3:8]))),
            "offered": dict(zip(KINDS[:4], map(int, g[8:12]))),
            "skipped": int(g[12]),
        }
        return report


# --------------------------------------------------------------------------------------------------------------
# The warden binary


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Warden:
    """One Warden database (SQLite file or PostgreSQL URL) and the environment Warden runs with. Nothing of the
    test process's own environment but PATH reaches the binary."""

    def __init__(self, binary: pathlib.Path, workdir: pathlib.Path, database_url: str, **env: str) -> None:
        self.binary = binary
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.database_url = database_url
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(workdir),
            "AUTH_DATABASE_URL": database_url,
            "AUTH_TENANT_SECRET": "hex:" + strong_secret(),
            "AUTH_JWT_SECRET_KEY": "hex:" + strong_secret(),
            "AUTH_SERVER_HOST": "127.0.0.1",
            "AUTH_LOG_LEVEL": "warn",
        }
        self.env.update(env)

    @classmethod
    def sqlite(cls, binary: pathlib.Path, workdir: pathlib.Path, **env: str) -> "Warden":
        workdir.mkdir(parents=True, exist_ok=True)
        return cls(binary, workdir, f"sqlite://{workdir / 'warden.sqlite3'}", **env)

    @property
    def sqlite_path(self) -> pathlib.Path | None:
        if self.database_url.startswith("sqlite://"):
            return pathlib.Path(self.database_url[len("sqlite://"):].split("?")[0])
        return None

    def run(self, *args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
        full = dict(self.env)
        full.update(env or {})
        return subprocess.run(
            [str(self.binary), *args], cwd=self.workdir, env=full, capture_output=True, text=True, timeout=timeout
        )

    def import_auth(self, source: str, *flags: str, env: dict[str, str] | None = None) -> Report:
        """Runs `warden import-auth`, which must succeed, and parses its report."""
        proc = self.run("import-auth", source, *flags, env=env)
        assert proc.returncode == 0, (
            f"warden import-auth {source} {' '.join(flags)} exited {proc.returncode}\n"
            f"--- stdout:\n{proc.stdout}\n--- stderr:\n{proc.stderr}"
        )
        return Report.parse(proc.stdout)

    def import_fails(self, source: str, *flags: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        proc = self.run("import-auth", source, *flags, env=env)
        assert proc.returncode != 0, (
            f"warden import-auth {source} {' '.join(flags)} was expected to fail but exited 0\n"
            f"--- stdout:\n{proc.stdout}\n--- stderr:\n{proc.stderr}"
        )
        return proc

    @contextlib.contextmanager
    def serve(self, env: dict[str, str] | None = None) -> Iterator["Api"]:
        port = _free_port()
        full = dict(self.env)
        full.update(env or {})
        full["AUTH_SERVER_PORT"] = str(port)
        log_path = self.workdir / f"server-{port}.log"
        self.last_log = log_path
        log = open(log_path, "wb")
        proc = subprocess.Popen(
            [str(self.binary), "serve"], cwd=self.workdir, env=full, stdout=log, stderr=subprocess.STDOUT
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while True:
                if proc.poll() is not None:
                    log.flush()
                    pytest.fail("warden serve exited before it was ready:\n" + log_path.read_text())
                try:
                    if httpx.get(f"{url}/livez", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail("warden serve did not become live:\n" + log_path.read_text())
                time.sleep(0.1)
            with httpx.Client(base_url=url, timeout=30) as client:
                yield Api(client)
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()

    # ---- looking into the target database directly

    def _query(self, sql: str) -> list[tuple]:
        if (path := self.sqlite_path) is not None:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                return conn.execute(sql).fetchall()
            finally:
                conn.close()
        import psycopg

        with psycopg.connect(self.database_url) as conn:
            return conn.execute(sql).fetchall()

    def table_rows(self) -> dict[str, int]:
        """Rows per table of the target (Warden's own bookkeeping tables excluded)."""
        if self.sqlite_path is not None:
            tables = [r[0] for r in self._query("SELECT name FROM sqlite_master WHERE type = 'table'")]
        else:
            tables = [
                r[0]
                for r in self._query(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
                )
            ]
        skip = {"warden_meta", "_sqlx_migrations", "sqlite_sequence"}
        return {t: self._query(f'SELECT COUNT(*) FROM "{t}"')[0][0] for t in tables if t not in skip}

    def stored(self) -> dict[str, list[str]]:
        """Stored cells of the RBAC tables that hold sealed values when Warden's encryption is on."""
        return {
            "descriptions": [r[0] for r in self._query("SELECT description FROM roles WHERE description IS NOT NULL")],
            "permissions": [r[0] for r in self._query("SELECT permission FROM role_permissions")],
            "users": [r[0] for r in self._query("SELECT user_name FROM memberships")],
            "key_hashes": [r[0] for r in self._query("SELECT key_hash FROM api_keys")],
        }


class Api:
    """Warden's REST API, envelope unwrapped."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def call(self, method: str, path: str, key: str, body: Any = None, expect: int = 200) -> Any:
        response = self.client.request(
            method, path, headers={"Authorization": f"Bearer {key}"}, json=body
        )
        assert response.status_code == expect, (
            f"{method} {path} answered {response.status_code}, expected {expect}: {response.text}"
        )
        envelope = response.json()
        assert envelope["success"] is (expect < 400), envelope
        assert envelope["code"] == expect, envelope
        return envelope.get("data")

    def get(self, path: str, key: str, expect: int = 200) -> Any:
        return self.call("GET", path, key, expect=expect)

    def post(self, path: str, key: str, body: Any = None, expect: int = 200) -> Any:
        return self.call("POST", path, key, body, expect=expect)

    def status(self, path: str, key: str) -> int:
        return self.client.get(path, headers={"Authorization": f"Bearer {key}"}).status_code


# --------------------------------------------------------------------------------------------------------------
# PostgreSQL


class Postgres:
    """Creates and drops databases on the server named by TEST_POSTGRES_URL (admin = the same URL, database
    `postgres`)."""

    def __init__(self, url: str) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("postgres", "postgresql"):
            pytest.fail(f"TEST_POSTGRES_URL must be a postgres:// URL, got {url!r}")
        self.parts = parts
        self.admin_url = self.url_for("postgres")
        self.created: list[str] = []
        import psycopg

        try:
            with psycopg.connect(self.admin_url, connect_timeout=10) as conn:
                conn.execute("SELECT 1")
        except Exception as exc:  # a missing server is a failure, never a skip
            pytest.fail(f"PostgreSQL is not reachable at {self.admin_url}: {exc}")

    def url_for(self, database: str, scheme: str = "postgres") -> str:
        return urllib.parse.urlunsplit((scheme, self.parts.netloc, "/" + database, self.parts.query, ""))

    def create(self, prefix: str) -> str:
        import psycopg

        name = f"{prefix}_{secrets.token_hex(6)}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return name

    def drop_all(self) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            for name in self.created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.clear()
