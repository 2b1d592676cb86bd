-- Resources and scoped memberships. A resource is `type:id`; its id (like a user name) is sealed under field
-- encryption, its type is not. Parents form a tree (writers refuse cycles and paths deeper than
-- MAX_RESOURCE_DEPTH, see warden_core::rules::resources); a resource with children cannot be deleted, and deleting
-- one removes the memberships scoped to it. `properties` is a JSON object as text, sealed like the id. Re-sealing
-- a resource's id (a key rotation) carries over to its children and scoped memberships by ON UPDATE CASCADE.
CREATE TABLE resources (
    tenant        TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    parent_type   TEXT,
    parent_id     TEXT,
    properties    TEXT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (tenant, resource_type, resource_id),
    FOREIGN KEY (tenant, parent_type, parent_id) REFERENCES resources (tenant, resource_type, resource_id)
        ON UPDATE CASCADE
);
-- The children of a resource (the delete check, the subtree walks).
CREATE INDEX resources_by_parent ON resources (tenant, parent_type, parent_id);

-- A membership that applies at one resource and everything below it.
CREATE TABLE scoped_memberships (
    tenant        TEXT NOT NULL,
    user_name     TEXT NOT NULL,
    role          TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    expires_at    BIGINT,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (tenant, user_name, role, resource_type, resource_id),
    FOREIGN KEY (tenant, role) REFERENCES roles (tenant, name) ON DELETE CASCADE,
    FOREIGN KEY (tenant, resource_type, resource_id)
        REFERENCES resources (tenant, resource_type, resource_id) ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX scoped_memberships_by_resource ON scoped_memberships (tenant, resource_type, resource_id);
CREATE INDEX scoped_memberships_by_role ON scoped_memberships (tenant, role);

-- The scope of a membership change, or the parent of a resource change (id sealed like the item).
ALTER TABLE model_changes ADD COLUMN scope_type TEXT;
ALTER TABLE model_changes ADD COLUMN scope_id TEXT;
