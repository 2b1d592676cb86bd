"""The data every test writes into an `auth` 3.7.1 database (through auth's own services) and expects Warden to
answer after `warden import-auth`. Shared by the source builder (run under auth's environment) and the tests."""

from __future__ import annotations

# Tenant A has an explicit `strict_users = false` settings row; tenant B has none (so it gets
# AUTH_STRICT_USERS_DEFAULT, true unless the importer's environment says otherwise).
TENANTS: dict[str, dict] = {
    "A": {
        "strict_users": False,
        "roles": {"editor": "Edits documents", "viewer": None},
        "grants": {"editor": ["docs:read", "docs:write"], "viewer": ["docs:read"]},
        "members": {"alice@example.com": ["editor", "viewer"], "bob": ["viewer"]},
        # Created with a grant and a member, then deleted with auth's del_role (soft delete, links purged).
        "deleted_roles": {"old": ("Retired role", ["legacy:perm"], ["alice@example.com"])},
        # (user, label, revoked?)
        "keys": [("alice@example.com", "laptop", False), ("bob", "ci", True)],
    },
    "B": {
        "strict_users": None,
        "roles": {"admin": "Administrators", "editor": "B-side editors"},
        "grants": {"admin": ["admin:all", "docs:write"], "editor": ["docs:write"]},
        "members": {"carol": ["admin"]},
        "deleted_roles": {},
        "keys": [("carol", "server", False)],
    },
}


def counts(tenant: str) -> dict[str, int]:
    """What `warden import-auth` should offer (and add on a first run) for one tenant."""
    t = TENANTS[tenant]
    return {
        "roles": len(t["roles"]),
        "grants": sum(len(p) for p in t["grants"].values()),
        "memberships": sum(len(r) for r in t["members"].values()),
        "api_keys": len(t["keys"]),
        "settings": 1,
    }


def total(what: str) -> int:
    return sum(counts(t)[what] for t in TENANTS)


def key_name(user: str, label: str) -> str:
    return f"{user}/{label}"
