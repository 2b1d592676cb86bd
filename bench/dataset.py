#!/usr/bin/env python3
"""Writes a benchmark dataset for one tenant straight into a Warden database (schema already migrated).

The rows are those the API would have written (roles, role_permissions, memberships and the tenant's head at
revision 1), inserted by COPY (PostgreSQL, through psql) or one executemany transaction (SQLite), so the large
dataset loads in seconds instead of a million HTTP calls. The tenant id is what Warden derives from the client
key: hex HMAC-SHA256 of the lower-case key under AUTH_TENANT_SECRET (see src/domain/tenant.rs).

The shapes (the same formulas are used by benches/decision.rs):
  role r grants perm((r*G + j) % P) for j < G;  user u is a member of role((u*M + k) % R) for k < M.
  small: R=3 roles, P=5 permissions, G=3, U=10 users, M=1        ->     9 grants,        10 memberships
  large: R=10 000, P=1 000, G=11, U=100 000, M=10                -> 110 000 grants, 1 000 000 memberships
  full:  large, plus role 11c+k inheriting role 11c+k+1 (k < 10: chains ten edges deep, 9 090 edges), 100 000
         resources in a tree (100 org › 1 000 folder › 10 000 folder:s › 88 900 document) and 100 000 scoped
         memberships (user u holds role 7u mod 10 000 at folder:s<u mod 10 000>, or for odd u at folder:<u mod 1 000>)

Usage: dataset.py small|large DATABASE_URL CLIENT_KEY TENANT_SECRET
"""

import hashlib
import hmac
import io
import sqlite3
import subprocess
import sys
import time

SIZES = {
    "small": dict(R=3, P=5, G=3, U=10, M=1),
    "large": dict(R=10_000, P=1_000, G=11, U=100_000, M=10),
    "full": dict(R=10_000, P=1_000, G=11, U=100_000, M=10),
}
ORGS, FOLDERS, SUBFOLDERS, DOCUMENTS = 100, 1_000, 10_000, 88_900
GENESIS = "0" * 64
NOW_MS = int(time.time() * 1000)


def rows(size):
    s = SIZES[size]
    roles = [(f"role{r}",) for r in range(s["R"])]
    grants = [
        (f"role{r}", f"perm{(r * s['G'] + j) % s['P']}")
        for r in range(s["R"])
        for j in range(s["G"])
    ]
    members = [
        (f"user{u}", f"role{(u * s['M'] + k) % s['R']}")
        for u in range(s["U"])
        for k in range(s["M"])
    ]
    return roles, grants, members


def extras(size):
    """The full dataset's inheritance edges, resources (type, id, parent type, parent id) and scoped
    memberships (user, role, type, id); nothing for the other sizes."""
    if size != "full":
        return [], [], []
    s = SIZES[size]
    edges = [
        (f"role{11 * c + k}", f"role{11 * c + k + 1}")
        for c in range(s["R"] // 11)
        for k in range(10)
    ]
    resources = [("org", str(o), None, None) for o in range(ORGS)]
    resources += [("folder", str(f), "org", str(f % ORGS)) for f in range(FOLDERS)]
    resources += [("folder", f"s{x}", "folder", str(x % FOLDERS)) for x in range(SUBFOLDERS)]
    resources += [("document", str(d), "folder", f"s{d % SUBFOLDERS}") for d in range(DOCUMENTS)]
    scoped = [
        (
            f"user{u}",
            f"role{(7 * u) % s['R']}",
            "folder",
            f"s{u % SUBFOLDERS}" if u % 2 == 0 else str(u % FOLDERS),
        )
        for u in range(s["U"])
    ]
    return edges, resources, scoped


def load_sqlite(path, tenant, roles, grants, members, edges, resources, scoped):
    db = sqlite3.connect(path)
    db.execute("PRAGMA foreign_keys = ON")
    with db:
        db.executemany(
            "INSERT INTO roles (tenant, name, description, created_at) VALUES (?, ?, NULL, ?)",
            ((tenant, r, NOW_MS) for (r,) in roles),
        )
        db.executemany(
            "INSERT INTO role_permissions (tenant, role, permission, created_at) VALUES (?, ?, ?, ?)",
            ((tenant, r, p, NOW_MS) for (r, p) in grants),
        )
        db.executemany(
            "INSERT INTO memberships (tenant, user_name, role, created_at) VALUES (?, ?, ?, ?)",
            ((tenant, u, r, NOW_MS) for (u, r) in members),
        )
        db.executemany(
            "INSERT INTO role_inherits (tenant, role, parent, created_at) VALUES (?, ?, ?, ?)",
            ((tenant, r, p, NOW_MS) for (r, p) in edges),
        )
        # Parents come before their children, so the foreign key holds row by row.
        db.executemany(
            "INSERT INTO resources (tenant, resource_type, resource_id, parent_type, parent_id, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            ((tenant, t, i, pt, pi, NOW_MS, NOW_MS) for (t, i, pt, pi) in resources),
        )
        db.executemany(
            "INSERT INTO scoped_memberships (tenant, user_name, role, resource_type, resource_id, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            ((tenant, u, r, t, i, NOW_MS) for (u, r, t, i) in scoped),
        )
        db.execute(
            "INSERT INTO tenant_heads (tenant, revision, audit_seq, audit_hash) VALUES (?, 1, 0, ?)",
            (tenant, GENESIS),
        )
    db.close()


def load_postgres(url, tenant, roles, grants, members, edges, resources, scoped):
    script = io.StringIO()
    script.write("\\set ON_ERROR_STOP on\nBEGIN;\n")

    def copy(table, columns, values):
        script.write(f"COPY {table} ({columns}) FROM STDIN;\n")
        for v in values:
            script.write("\t".join("\\N" if x is None else x for x in v))
            script.write("\n")
        script.write("\\.\n")

    now = str(NOW_MS)
    copy("roles", "tenant, name, created_at", ((tenant, r, now) for (r,) in roles))
    copy(
        "role_permissions",
        "tenant, role, permission, created_at",
        ((tenant, r, p, now) for (r, p) in grants),
    )
    copy(
        "memberships",
        "tenant, user_name, role, created_at",
        ((tenant, u, r, now) for (u, r) in members),
    )
    copy("role_inherits", "tenant, role, parent, created_at", ((tenant, r, p, now) for (r, p) in edges))
    copy(
        "resources",
        "tenant, resource_type, resource_id, parent_type, parent_id, created_at, updated_at",
        ((tenant, t, i, pt, pi, now, now) for (t, i, pt, pi) in resources),
    )
    copy(
        "scoped_memberships",
        "tenant, user_name, role, resource_type, resource_id, created_at",
        ((tenant, u, r, t, i, now) for (u, r, t, i) in scoped),
    )
    script.write(
        "INSERT INTO tenant_heads (tenant, revision, audit_seq, audit_hash) "
        f"VALUES ('{tenant}', 1, 0, '{GENESIS}');\nCOMMIT;\nANALYZE;\n"
    )
    subprocess.run(
        ["psql", "-q", "-X", url], input=script.getvalue(), text=True, check=True,
        stdout=subprocess.DEVNULL,
    )


def main():
    size, url, key, secret = sys.argv[1:5]
    tenant = hmac.new(secret.encode(), key.lower().encode(), hashlib.sha256).hexdigest()
    started = time.monotonic()
    roles, grants, members = rows(size)
    edges, resources, scoped = extras(size)
    if url.startswith("sqlite://"):
        load_sqlite(url[len("sqlite://"):], tenant, roles, grants, members, edges, resources, scoped)
    else:
        load_postgres(url, tenant, roles, grants, members, edges, resources, scoped)
    print(
        f"loaded {size}: {len(roles)} roles, {len(grants)} grants, {len(members)} memberships, "
        f"{len(edges)} edges, {len(resources)} resources, {len(scoped)} scoped memberships "
        f"in {time.monotonic() - started:.1f} s"
    )


if __name__ == "__main__":
    main()
