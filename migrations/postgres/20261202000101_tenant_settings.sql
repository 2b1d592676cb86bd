-- Per-tenant settings (`GET|PUT /api/settings`). A missing row, or a NULL field, means the default.
-- `jwt_audience`: the `aud` claim of the tenant's access tokens (default: the tenant id).
CREATE TABLE tenant_settings (
    tenant       TEXT PRIMARY KEY NOT NULL,
    jwt_audience TEXT,
    updated_at   BIGINT NOT NULL
);
