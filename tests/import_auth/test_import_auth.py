"""End-to-end tests of `warden import-auth`: databases written by the real `auth` 3.7.1 package (its own services,
in its own process and environment) are imported by the real warden binary (``$WARDEN_BIN``, default
target/debug/warden), then served, and the SAME client keys must get the same answers from Warden's REST API.

Nothing here is skipped: a missing binary, command, package or PostgreSQL server fails the run."""

from __future__ import annotations

import hashlib
import pathlib
from typing import Any

import pytest

from dataset import TENANTS, counts, key_name, total
from helpers import Api, Postgres, Report, Warden, build_source, new_key, strong_secret

SOFT_DELETED = "role `old`"


# --------------------------------------------------------------------------------------------------------------
# Sources (built once per module; the importer only reads them)


@pytest.fixture(scope="module")
def plain_source(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("auth-plain")
    path = work / "auth.sqlite3"
    made = build_source(work, f"sqlite:///{path}", {"A": new_key(), "B": new_key()})
    made["path"] = str(path)
    return made


@pytest.fixture(scope="module")
def sealed_source(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Encryption on, canary stored (as the auth server does at boot)."""
    work = tmp_path_factory.mktemp("auth-sealed")
    path = work / "auth.sqlite3"
    key = strong_secret()
    made = build_source(work, f"sqlite:///{path}", {"A": new_key(), "B": new_key()}, encryption_key=key)
    made["path"] = str(path)
    made["auth_key"] = key
    return made


# --------------------------------------------------------------------------------------------------------------
# Checks shared by the scenarios


def _roles(api: Api, key: str, path: str = "/api/roles") -> dict[str, str | None]:
    data = api.get(path, key)
    return {r["role"]: (r.get("description") or None) for r in data}


def _names(data: list[dict[str, str]], field: str = "name") -> list[str]:
    return sorted(item[field] for item in data)


def check_answers(api: Api, made: dict[str, Any], *, b_strict: bool = True, open_mode: bool = True) -> dict[str, str]:
    """Everything the auth tenants had, asked of Warden with the same client keys. Returns the tenants'
    fingerprints (Warden's default JWT audience is the tenant id)."""
    a, b = made["clients"]["A"], made["clients"]["B"]
    keys_a, keys_b = made["api_keys"]["A"], made["api_keys"]["B"]

    # Active roles, with their descriptions; the soft-deleted one is absent.
    assert _roles(api, a) == {"editor": "Edits documents", "viewer": None}
    assert _roles(api, b) == {"admin": "Administrators", "editor": "B-side editors"}

    # Grants.
    for name, key in (("A", a), ("B", b)):
        for role, perms in TENANTS[name]["grants"].items():
            assert _names(api.get(f"/api/role_permissions/{role}", key)) == sorted(perms), (name, role)
            for perm in perms:
                assert api.get(f"/api/permission/{role}/{perm}", key)["has_permission"] is True, (role, perm)
    assert api.get("/api/permission/viewer/docs:write", a)["has_permission"] is False

    # Memberships.
    assert _roles(api, a, "/api/user_roles/alice@example.com") == {"editor": "Edits documents", "viewer": None}
    assert _roles(api, a, "/api/user_roles/bob") == {"viewer": None}
    assert _names(api.get("/api/members/viewer", a), "user") == ["alice@example.com", "bob"]
    assert _names(api.get("/api/members/editor", a), "user") == ["alice@example.com"]
    assert _names(api.get("/api/members/admin", b), "user") == ["carol"]
    assert _names(api.get("/api/members/editor", b), "user") == []
    assert api.get("/api/membership/alice@example.com/editor", a)["is_member"] is True
    assert api.get("/api/membership/bob/editor", a)["is_member"] is False

    # Checks through roles (tenant A is not strict: bob, whose only key is revoked, still gets his answers).
    assert api.get("/api/has_permission/alice@example.com/docs:write", a)["has_permission"] is True
    assert api.get("/api/has_permission/bob/docs:read", a)["has_permission"] is True
    assert api.get("/api/has_permission/bob/docs:write", a)["has_permission"] is False
    assert api.get("/api/has_permission/carol/admin:all", b)["has_permission"] is True
    assert _names(api.get("/api/user_permissions/alice@example.com", a)) == ["docs:read", "docs:write"]
    assert _names(api.get("/api/which_users_can/docs:read", a), "user") == ["alice@example.com", "bob"]
    assert _names(api.get("/api/which_roles_can/docs:write", b), "role") == ["admin", "editor"]

    # The soft-deleted role, its purged grant and member are nowhere.
    api.get("/api/role_permissions/old", a, expect=404)
    api.get("/api/members/old", a, expect=404)
    assert api.get("/api/which_roles_can/legacy:perm", a) == []
    assert api.get("/api/has_permission/alice@example.com/legacy:perm", a)["has_permission"] is False

    # Tenant isolation: A's key sees none of B's roles, users or keys, and the other way round.
    api.get("/api/members/admin", a, expect=404)
    api.get("/api/role_permissions/admin", a, expect=404)
    assert api.get("/api/which_roles_can/admin:all", a) == []
    assert api.get("/api/user_roles/carol", a) == []
    assert api.get("/api/user_roles/alice@example.com", b) == []
    assert _names(api.get("/api/role_permissions/editor", b)) == ["docs:write"]  # B's own `editor`, not A's
    if open_mode:
        assert api.get("/api/roles", new_key()) == []

    # API keys: the raw keys auth handed out still validate, with their user and label.
    alice = keys_a[key_name("alice@example.com", "laptop")]
    bob = keys_a[key_name("bob", "ci")]
    carol = keys_b[key_name("carol", "server")]
    answer = api.post("/api/apikeys/validate", a, {"api_key": alice["api_key"]})
    assert answer["valid"] is True, answer
    assert answer["user"] == "alice@example.com"
    assert answer["label"] == "laptop"
    assert answer["key_id"] == alice["key_id"]
    assert answer.get("expires_at") is None
    answer = api.post("/api/apikeys/validate", a, {"api_key": bob["api_key"]})
    assert answer["valid"] is False and answer["reason"] == "revoked", answer
    answer = api.post("/api/apikeys/validate", b, {"api_key": carol["api_key"]})
    assert (answer["valid"], answer["user"], answer["label"]) == (True, "carol", "server"), answer
    # Keys are per tenant.
    for key, raw in ((a, carol["api_key"]), (b, alice["api_key"])):
        answer = api.post("/api/apikeys/validate", key, {"api_key": raw})
        assert (answer["valid"], answer.get("reason"), answer.get("user")) == (False, "unknown_key", None), answer
    # A key auth never issued.
    forged = "rak_" + alice["api_key"][4:-1] + ("A" if alice["api_key"][-1] != "A" else "B")
    assert api.post("/api/apikeys/validate", a, {"api_key": forged})["valid"] is False
    answer = api.post("/api/apikeys/check_permission", a, {"api_key": alice["api_key"], "permission": "docs:write"})
    assert (answer["valid"], answer["user"], answer["has_permission"]) == (True, "alice@example.com", True), answer
    listing = api.get("/api/apikeys/user/alice@example.com", a)
    assert listing["count"] == 1, listing
    (row,) = listing["keys"]
    assert (row["key_id"], row["key_prefix"], row["label"], row["is_active"], row["revoked_at"]) == (
        alice["key_id"], alice["key_prefix"], "laptop", True, None), row
    (row,) = api.get("/api/apikeys/user/bob", a)["keys"]
    assert row["key_id"] == bob["key_id"] and row["is_active"] is False and row["revoked_at"], row
    assert api.get("/api/apikeys/user/alice@example.com", b)["count"] == 0

    # Settings: strict_users as auth had it (A: explicit false row; B: no row, the importer's default).
    fingerprints = {}
    for name, key, strict in (("A", a, False), ("B", b, b_strict)):
        settings = api.get("/api/settings", key)
        assert settings["strict_users"] is strict, (name, settings)
        assert settings["jwt_audience_is_default"] is True, settings
        fingerprints[name] = settings["jwt_audience"]
    assert fingerprints["A"] != fingerprints["B"]
    return fingerprints


def check_report(report: Report, fps: dict[str, str], *, first: bool, dry_run: bool = False,
                 exact_skips: bool = False) -> None:
    """The report of an import of the dataset: per tenant, skipped lines, summary."""
    verb = "would add" if dry_run else "added"
    assert report.verb == verb, report.stdout
    assert set(report.tenants) == {fps["A"], fps["B"]}, report.stdout
    for name in TENANTS:
        offered = counts(name)
        added = offered if first else dict.fromkeys(offered, 0)
        assert report.tenants[fps[name]] == {"added": added, "offered": offered}, (name, report.stdout)
    soft = [s for s in report.skipped if s[0] == fps["A"] and s[1] == SOFT_DELETED]
    assert len(soft) == 1 and "soft-deleted" in soft[0][2], report.stdout
    if exact_skips:
        # Only the soft-deleted role is left out: auth's bookkeeping rows (the encryption canary, the 3.0
        # grandfathering marker in auth_tenant_settings) are not tenants and not "skipped" data.
        assert report.skipped == soft, report.stdout
    s = report.summary
    assert (s["tenants"], s["dry_run"], s["verb"]) == (2, dry_run, verb), report.stdout
    offered_total = {k: total(k) for k in ("roles", "grants", "memberships", "api_keys")}
    assert s["offered"] == offered_total, report.stdout
    expected_added = dict(offered_total, settings=2) if first else dict.fromkeys(s["added"], 0)
    assert s["added"] == expected_added, report.stdout
    assert s["skipped"] == len(report.skipped), report.stdout


def check_stored(warden: Warden, *, sealed: bool, source: dict[str, Any]) -> None:
    """What Warden wrote: sealed (`v2:`) when its encryption is on, plaintext when off; never auth's key hashes."""
    stored = warden.stored()
    assert len(stored["descriptions"]) == 3, stored  # editor (A), admin and editor (B)
    assert len(stored["permissions"]) == total("grants"), stored
    assert len(stored["users"]) == total("memberships"), stored
    values = stored["descriptions"] + stored["permissions"] + stored["users"]
    if sealed:
        assert all(v.startswith("v2:") for v in values), stored
        for plain in ("alice@example.com", "docs:write", "Edits documents"):
            assert plain not in values, stored
    else:
        assert sorted(set(stored["permissions"])) == ["admin:all", "docs:read", "docs:write"], stored
        assert sorted(set(stored["users"])) == ["alice@example.com", "bob", "carol"], stored
        assert sorted(stored["descriptions"]) == ["Administrators", "B-side editors", "Edits documents"], stored
    # auth's stored sha256 of each key must not be what Warden keeps (it keeps a keyed HMAC).
    sha = {hashlib.sha256(k["api_key"].encode()).hexdigest()
           for keys in source["api_keys"].values() for k in keys.values()}
    assert len(stored["key_hashes"]) == total("api_keys"), stored
    assert not sha & set(stored["key_hashes"]), stored


RBAC_TABLES = ("roles", "role_permissions", "memberships", "api_keys", "tenant_settings", "tenants",
               "tenant_keys", "tenant_heads", "model_changes", "audit_log")


def assert_nothing_imported(warden: Warden) -> None:
    rows = warden.table_rows()
    written = {t: n for t, n in rows.items() if n}
    assert not written, f"the target was written to: {written}"
    for table in ("roles", "role_permissions", "memberships", "api_keys"):
        assert table in rows, f"table {table} missing from the target: {sorted(rows)}"


# --------------------------------------------------------------------------------------------------------------
# Scenarios


def test_sqlite_source_answers_the_same_with_the_same_client_keys(
    plain_source: dict[str, Any], warden_bin: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    warden = Warden.sqlite(warden_bin, tmp_path / "warden")
    # auth's own spelling of its database URL (SQLAlchemy, four slashes for an absolute path).
    report = warden.import_auth(plain_source["url"])
    with warden.serve() as api:
        fps = check_answers(api, plain_source)
    check_stored(warden, sealed=False, source=plain_source)
    check_report(report, fps, first=True, exact_skips=True)


def test_rerun_adds_nothing_and_dry_run_writes_nothing(
    plain_source: dict[str, Any], warden_bin: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    warden = Warden.sqlite(warden_bin, tmp_path / "warden")
    source = plain_source["path"]  # a plain path to the SQLite file
    first = warden.import_auth(source)
    with warden.serve() as api:
        fps = check_answers(api, plain_source)
    check_report(first, fps, first=True)

    second = warden.import_auth(source)
    check_report(second, fps, first=False)
    again_dry = warden.import_auth(source, "--dry-run")
    check_report(again_dry, fps, first=False, dry_run=True)

    rows = warden.table_rows()
    assert (rows["roles"], rows["role_permissions"], rows["memberships"], rows["api_keys"]) == (
        total("roles"), total("grants"), total("memberships"), total("api_keys")), rows
    with warden.serve() as api:
        assert check_answers(api, plain_source) == fps

    # A dry run on a fresh target (same tenant secret, so the same fingerprints) counts everything, writes nothing.
    fresh = Warden.sqlite(warden_bin, tmp_path / "fresh", AUTH_TENANT_SECRET=warden.env["AUTH_TENANT_SECRET"])
    dry = fresh.import_auth(source, "--dry-run")
    check_report(dry, fps, first=True, dry_run=True)
    assert "(dry run, nothing written)" in dry.stdout.splitlines()[-1]
    assert_nothing_imported(fresh)
    with fresh.serve() as api:
        assert api.get("/api/roles", plain_source["clients"]["A"]) == []
        assert api.post("/api/apikeys/validate", plain_source["clients"]["A"], {
            "api_key": plain_source["api_keys"]["A"][key_name("alice@example.com", "laptop")]["api_key"]
        })["valid"] is False


def test_strict_users_default_comes_from_the_importers_environment(
    plain_source: dict[str, Any], warden_bin: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    # Tenant B has no auth_tenant_settings row: with AUTH_STRICT_USERS_DEFAULT=false auth treated it as not strict.
    warden = Warden.sqlite(warden_bin, tmp_path / "warden")
    warden.import_auth(plain_source["path"], env={"AUTH_STRICT_USERS_DEFAULT": "false"})
    with warden.serve() as api:
        for name, strict in (("A", False), ("B", False)):
            assert api.get("/api/settings", plain_source["clients"][name])["strict_users"] is strict, name
        assert _roles(api, plain_source["clients"]["B"]) == {"admin": "Administrators", "editor": "B-side editors"}


def test_encrypted_source_into_encrypted_warden_with_another_key(
    sealed_source: dict[str, Any], warden_bin: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    warden_key = strong_secret()
    assert warden_key != sealed_source["auth_key"]
    warden = Warden.sqlite(warden_bin, tmp_path / "warden",
                           AUTH_ENABLE_ENCRYPTION="true", AUTH_ENCRYPTION_KEY=warden_key)
    report = warden.import_auth(sealed_source["path"],
                                env={"AUTH_IMPORT_ENCRYPTION_KEY": sealed_source["auth_key"]})
    with warden.serve() as api:
        fps = check_answers(api, sealed_source)
    check_stored(warden, sealed=True, source=sealed_source)
    # Re-sealed under Warden's key: none of auth's ciphertexts is kept as is.
    stored = warden.stored()
    auth_cipher = set(sealed_source["stored"]["users"] + sealed_source["stored"]["permissions"]
                      + sealed_source["stored"]["descriptions"])
    assert not auth_cipher & set(stored["users"] + stored["permissions"] + stored["descriptions"]), stored
    check_report(report, fps, first=True)
    # Idempotent with encryption too.
    check_report(warden.import_auth(sealed_source["path"],
                                    env={"AUTH_IMPORT_ENCRYPTION_KEY": sealed_source["auth_key"]}),
                 fps, first=False)


def test_encrypted_source_into_plain_warden(
    sealed_source: dict[str, Any], warden_bin: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    warden = Warden.sqlite(warden_bin, tmp_path / "warden")
    report = warden.import_auth(sealed_source["url"],
                                env={"AUTH_IMPORT_ENCRYPTION_KEY": sealed_source["auth_key"]})
    with warden.serve() as api:
        fps = check_answers(api, sealed_source)
    check_stored(warden, sealed=False, source=sealed_source)
    check_report(report, fps, first=True)


def test_encrypted_source_without_the_right_key_fails_and_writes_nothing(
    sealed_source: dict[str, Any], warden_bin: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    # No key at all.
    plain = Warden.sqlite(warden_bin, tmp_path / "no-key")
    proc = plain.import_fails(sealed_source["path"])
    assert "AUTH_IMPORT_ENCRYPTION_KEY" in proc.stderr, proc.stderr
    assert sealed_source["auth_key"] not in proc.stderr + proc.stdout
    assert_nothing_imported(plain)

    # A wrong key in AUTH_IMPORT_ENCRYPTION_KEY.
    wrong = Warden.sqlite(warden_bin, tmp_path / "wrong-key")
    wrong_key = strong_secret()
    proc = wrong.import_fails(sealed_source["path"], env={"AUTH_IMPORT_ENCRYPTION_KEY": wrong_key})
    assert "is not the one the auth database was encrypted with" in proc.stderr, proc.stderr
    assert wrong_key not in proc.stderr + proc.stdout
    assert_nothing_imported(wrong)

    # No import key, and Warden's own (different) key is the fallback: wrong too.
    own = Warden.sqlite(warden_bin, tmp_path / "own-key",
                        AUTH_ENABLE_ENCRYPTION="true", AUTH_ENCRYPTION_KEY=strong_secret())
    proc = own.import_fails(sealed_source["path"])
    assert "is not the one the auth database was encrypted with" in proc.stderr, proc.stderr
    assert_nothing_imported(own)

    # A wrong key, even in a dry run.
    proc = wrong.import_fails(sealed_source["path"], "--dry-run", env={"AUTH_IMPORT_ENCRYPTION_KEY": wrong_key})
    assert "is not the one the auth database was encrypted with" in proc.stderr, proc.stderr


def test_wrong_key_fails_on_an_embedded_source_without_canary(
    warden_bin: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    """auth used as a library (create_tables + services, never its server) stores no encryption canary: a wrong
    key must still be refused, not produce a partial import."""
    path = tmp_path / "auth.sqlite3"
    auth_key = strong_secret()
    build_source(tmp_path / "src", f"sqlite:///{path}", {"A": new_key(), "B": new_key()},
                 encryption_key=auth_key, canary=False)
    warden = Warden.sqlite(warden_bin, tmp_path / "warden")
    proc = warden.import_fails(str(path), env={"AUTH_IMPORT_ENCRYPTION_KEY": strong_secret()})
    assert proc.stderr.strip(), "no error message on stderr"
    assert_nothing_imported(warden)
    # ... and the right key imports it.
    warden.import_auth(str(path), env={"AUTH_IMPORT_ENCRYPTION_KEY": auth_key})


def test_postgres_source_in_auth_rbac_into_postgres_warden(
    pg_databases: Postgres, warden_bin: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    source_db = pg_databases.create("auth_src")
    target_db = pg_databases.create("warden_dst")
    auth_key = strong_secret()
    made = build_source(tmp_path / "src", pg_databases.url_for(source_db, "postgresql"),
                        {"A": new_key(), "B": new_key()}, encryption_key=auth_key, schema="auth_rbac")
    assert made["settings"]["schema"] == "auth_rbac"
    # Warden encrypts with the same key as auth and no AUTH_IMPORT_ENCRYPTION_KEY: the fallback is its own key.
    warden = Warden(warden_bin, tmp_path / "warden", pg_databases.url_for(target_db),
                    AUTH_ENABLE_ENCRYPTION="true", AUTH_ENCRYPTION_KEY=auth_key)

    # The tables are in auth_rbac, not public.
    proc = warden.import_fails(pg_databases.url_for(source_db, "postgresql"), "--schema", "public")
    assert proc.stderr.strip(), proc
    dry = warden.import_auth(pg_databases.url_for(source_db, "postgresql"), "--schema", "auth_rbac", "--dry-run")
    assert_nothing_imported(warden)

    # auth's own AUTH_DATABASE_URL spelling; the schema found by itself.
    report = warden.import_auth(pg_databases.url_for(source_db, "postgresql+psycopg"))
    with warden.serve() as api:
        fps = check_answers(api, made)
    check_stored(warden, sealed=True, source=made)
    check_report(dry, fps, first=True, dry_run=True)
    check_report(report, fps, first=True)
    check_report(warden.import_auth(pg_databases.url_for(source_db)), fps, first=False)


def test_registered_tenant_mode_registers_the_imported_tenants(
    plain_source: dict[str, Any], warden_bin: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    # Also: a plaintext source into a Warden with encryption on (values sealed on the way in).
    warden = Warden.sqlite(warden_bin, tmp_path / "warden", AUTH_TENANT_MODE="registered",
                           AUTH_ENABLE_ENCRYPTION="true", AUTH_ENCRYPTION_KEY=strong_secret())
    report = warden.import_auth(plain_source["path"])
    with warden.serve() as api:
        a, b = plain_source["clients"]["A"], plain_source["clients"]["B"]
        assert api.status("/api/roles", a) == 200
        assert api.status("/api/roles", b) == 200
        stranger = new_key()
        assert api.status("/api/roles", stranger) == 401
        assert api.status("/api/settings", stranger) == 401
        fps = check_answers(api, plain_source, open_mode=False)
    check_stored(warden, sealed=True, source=plain_source)
    check_report(report, fps, first=True)


def test_warden_started_on_the_auth_file_itself_refuses_and_names_the_import(
    plain_source: dict[str, Any], warden_bin: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    """auth's default database is the same ~/.auth.sqlite3 Warden uses: started on it, Warden does not ignore the
    auth tables (nor fail half-way through its migrations, as their table names overlap): it refuses to start,
    names the import command, and leaves the file as it was; the import into a new database then works."""
    import shutil
    import sqlite3

    shared = tmp_path / "auth.sqlite3"
    shutil.copyfile(plain_source["path"], shared)
    def tables() -> list[str]:
        with sqlite3.connect(shared) as db:
            return sorted(r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))
    before = tables()
    on_auth_file = Warden(warden_bin, tmp_path / "on-auth", f"sqlite://{shared}")
    for command in ("serve", "migrate"):
        proc = on_auth_file.run(command, timeout=60)
        assert proc.returncode != 0, proc
        assert "warden import-auth" in proc.stderr and "auth service database" in proc.stderr, proc.stderr
    assert tables() == before, "Warden wrote into the auth database"

    warden = Warden.sqlite(warden_bin, tmp_path / "warden")
    report = warden.import_auth(f"sqlite:///{shared}")
    assert report.summary["tenants"] == 2, report.stdout
    with warden.serve() as api:
        roles = _roles(api, plain_source["clients"]["A"])
        assert sorted(roles) == ["editor", "viewer"], roles


def test_an_outstanding_recovery_key_recovers_the_tenant_in_warden(
    warden_bin: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    """auth kept only the SHA-256 of a recovery key; the holder's key still recovers the tenant after the move."""
    clients = {"A": new_key(), "B": new_key()}
    made = build_source(tmp_path / "auth", f"sqlite:///{tmp_path / 'auth' / 'auth.sqlite3'}", clients, rotate_key=True)
    warden = Warden.sqlite(warden_bin, tmp_path / "warden")
    report = warden.import_auth(made["url"])
    assert not any("recovery" in s[1] for s in report.skipped), report.stdout
    with warden.serve() as api:
        before = _roles(api, clients["A"])
        assert before, before
        # A's recovery key is outstanding in Warden: issuing another is refused until it is used.
        api.post("/api/keys/get_rotate_key", clients["A"], expect=409)
        api.post("/api/keys/get_rotate_key", clients["B"])
        # Sent without a client key (the one recovery replaces may be lost).
        response = api.client.post("/api/keys/recover", json={"rotate_key": made["rotate_key"]})
        assert response.status_code == 200, response.text
        recovered = response.json()["data"]
        new_client = recovered["client_key"]
        assert recovered["rotate_key"].startswith("rrk_") and recovered["rotate_key"] != made["rotate_key"]
        assert _roles(api, new_client) == before
        assert api.status("/api/roles", clients["A"]) == 401
        # Spent: the imported key recovers once.
        again = api.client.post("/api/keys/recover", json={"rotate_key": made["rotate_key"]})
        assert again.status_code == 401, again.text
