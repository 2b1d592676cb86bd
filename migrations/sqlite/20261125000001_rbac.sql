-- Roles, grants and memberships, each scoped to a tenant (the HMAC fingerprint of a client key, never the key).
-- Times are Unix milliseconds in both backends so one SQL text serves SQLite and PostgreSQL.

CREATE TABLE warden_meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

CREATE TABLE roles (
    tenant      TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant, name)
);

-- The foreign keys make an orphan grant or membership impossible even if a write races a role deletion.
CREATE TABLE role_permissions (
    tenant     TEXT NOT NULL,
    role       TEXT NOT NULL,
    permission TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant, role, permission),
    FOREIGN KEY (tenant, role) REFERENCES roles (tenant, name) ON DELETE CASCADE
);
-- Reverse look-ups (which roles / users can P) start from the permission.
CREATE INDEX role_permissions_by_permission ON role_permissions (tenant, permission);

CREATE TABLE memberships (
    tenant     TEXT NOT NULL,
    user_name  TEXT NOT NULL,
    role       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant, user_name, role),
    FOREIGN KEY (tenant, role) REFERENCES roles (tenant, name) ON DELETE CASCADE
);
-- Members of a role, and the role side of the which_users_can join.
CREATE INDEX memberships_by_role ON memberships (tenant, role);
