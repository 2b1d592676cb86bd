-- Role inheritance: `role` gains everything `parent` grants. Role names are not sealed, so neither are these.
-- The foreign keys remove a deleted role's edges with it; writers keep the graph acyclic and at most
-- MAX_INHERITANCE_DEPTH edges deep (see warden_core::rules::inheritance).
CREATE TABLE role_inherits (
    tenant     TEXT NOT NULL,
    role       TEXT NOT NULL,
    parent     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant, role, parent),
    FOREIGN KEY (tenant, role) REFERENCES roles (tenant, name) ON DELETE CASCADE,
    FOREIGN KEY (tenant, parent) REFERENCES roles (tenant, name) ON DELETE CASCADE
);
-- The cascade from a deleted parent, and the roles inheriting a role.
CREATE INDEX role_inherits_by_parent ON role_inherits (tenant, parent);
