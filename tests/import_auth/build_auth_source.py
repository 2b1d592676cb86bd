"""Writes the dataset of ``dataset.py`` into an `auth` 3.7.1 database through auth's own services, the way an
embedded consumer or the auth server would, and prints a JSON description of what it made (client keys are given
on the command line; the raw ``rak_…`` API keys auth returns once are printed so the tests can present them).

Run in its own process, with auth's configuration (``AUTH_DATABASE_URL``, ``AUTH_DATABASE_SCHEMA``,
``AUTH_ENABLE_ENCRYPTION``, ``AUTH_ENCRYPTION_KEY``) in the environment before ``auth`` is imported: auth reads its
settings once and keeps one engine per process.

    python build_auth_source.py '{"A": "<uuid4>", "B": "<uuid4>", "canary": true, "rotate_key": false}'
"""

from __future__ import annotations

import json
import sys

from dataset import TENANTS, key_name


def main() -> None:
    spec = json.loads(sys.argv[1])
    clients = {name: spec[name] for name in TENANTS}

    from sqlalchemy import select

    from auth.config import get_settings
    from auth.database import SessionLocal, create_tables, engine
    from auth.models.sql import AuthApiKey, AuthGroup, AuthMembership, AuthPermission, AuthTenantSettings
    from auth.services.service import AuthorizationService

    settings = get_settings()
    create_tables(raise_on_error=True)

    db = SessionLocal()
    if spec.get("canary"):
        # What the auth server does at every boot (auth.main.create_app): store / check the encryption canary.
        from auth.keycheck import verify_encryption_key

        state = verify_encryption_key(db)
        assert state == "ok", state

    made: dict = {"api_keys": {}, "auth_view": {}, "stored": {}}
    for name, t in TENANTS.items():
        svc = AuthorizationService(db, clients[name])
        if t["strict_users"] is not None:
            svc.set_strict_users(t["strict_users"])
        keys = {}
        for user, label, _revoked in t["keys"]:
            created = svc.create_api_key(user, label)
            assert created and created["api_key"].startswith("rak_"), created
            keys[key_name(user, label)] = {
                "api_key": created["api_key"],
                "key_id": created["key_id"],
                "key_prefix": created["key_prefix"],
                "user": user,
                "label": label,
            }
        for role, description in t["roles"].items():
            assert svc.add_role(role, description)
        for role, perms in t["grants"].items():
            for perm in perms:
                assert svc.add_permission(role, perm), (role, perm)
        for user, roles in t["members"].items():
            for role in roles:
                assert svc.add_membership(user, role), (user, role)
        for role, (description, perms, users) in t["deleted_roles"].items():
            assert svc.add_role(role, description)
            for perm in perms:
                assert svc.add_permission(role, perm)
            for user in users:
                assert svc.add_membership(user, role)
            assert svc.del_role(role)
        for user, label, revoked in t["keys"]:
            if revoked:
                assert svc.revoke_api_key(user, keys[key_name(user, label)]["key_id"]) == "revoked"
        made["api_keys"][name] = keys
    if spec.get("rotate_key"):
        # Tenant A's recovery key, issued as POST /api/keys/get_rotate_key issues it (shown once, hash stored).
        made["rotate_key"] = AuthorizationService(db, clients["A"]).issue_rotate_key()
        assert made["rotate_key"] and made["rotate_key"].startswith("rrk_"), made["rotate_key"]

    # auth's own view of what it stored (a fresh session and service per tenant).
    for name in TENANTS:
        fresh = SessionLocal()
        svc = AuthorizationService(fresh, clients[name])
        made["auth_view"][name] = {
            "roles": sorted(r["role"] for r in svc.get_roles()),
            "strict_users": svc.get_settings()["strict_users"],
            "validate": {
                k: svc.validate_api_key(v["api_key"]).get("valid")
                for k, v in made["api_keys"][name].items()
            },
        }
        fresh.close()

    # The raw cells, to show the source really is (or is not) encrypted.
    with engine.connect() as conn:
        def column(table, col):
            return [r[0] for r in conn.execute(select(table.c[col])).fetchall()]

        made["stored"] = {
            "users": column(AuthMembership.__table__, "user"),
            "permissions": column(AuthPermission.__table__, "name"),
            "descriptions": [d for d in column(AuthGroup.__table__, "description") if d],
            "key_labels": [d for d in column(AuthApiKey.__table__, "label") if d],
            "settings_creators": column(AuthTenantSettings.__table__, "creator"),
            "canary": [c for c in column(AuthTenantSettings.__table__, "canary") if c],
            "inactive_roles": [
                r[0]
                for r in conn.execute(
                    select(AuthGroup.__table__.c.role).where(AuthGroup.__table__.c.is_active.is_(False))
                ).fetchall()
            ],
        }
    made["settings"] = {
        "encryption": settings.enable_encryption,
        "schema": settings.database_schema,
        "database_type": settings.database_type.value,
    }
    db.close()
    engine.dispose()
    print(json.dumps(made))


if __name__ == "__main__":
    main()
