-- One row per tenant that has ever changed: its model revision and the head of its audit hash chain. Every
-- write's transaction updates this row, which also serialises a tenant's writes so revisions and chain links
-- are gap-free and in commit order.
CREATE TABLE tenant_heads (
    tenant     TEXT PRIMARY KEY NOT NULL,
    revision   BIGINT NOT NULL,
    audit_seq  BIGINT NOT NULL,
    audit_hash TEXT NOT NULL
);

-- The changes behind each revision, so other instances can bring their in-memory model up to date without
-- reloading it. Pruned after a while; an instance that falls further behind reloads the tenant.
CREATE TABLE model_changes (
    tenant     TEXT NOT NULL,
    revision   BIGINT NOT NULL,
    op         TEXT NOT NULL,
    role       TEXT NOT NULL,
    item       TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, revision)
);
CREATE INDEX model_changes_by_time ON model_changes (created_at);

-- The audit trail: each entry carries the hash of the previous one in its tenant's chain, so an edited or
-- deleted row is detectable. User names are stored as fingerprints, never in plain text.
CREATE TABLE audit_log (
    tenant     TEXT NOT NULL,
    seq        BIGINT NOT NULL,
    at         BIGINT NOT NULL,
    action     TEXT NOT NULL,
    target     TEXT NOT NULL,
    outcome    TEXT NOT NULL,
    request_id TEXT,
    client_ip  TEXT,
    user_agent TEXT,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL,
    PRIMARY KEY (tenant, seq)
);
CREATE INDEX audit_log_by_action ON audit_log (tenant, action, seq);
