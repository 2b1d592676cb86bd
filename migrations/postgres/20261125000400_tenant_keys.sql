-- Per-tenant field-encryption key material, sealed under a key derived from AUTH_ENCRYPTION_KEY. Keys first
-- derived at request time follow the seed's scheme (from the client key); tenants converted offline by
-- `warden encrypt` / `warden rotate-encryption-key` get random key material. Either way the stored copy lets
-- offline tools work without client keys, which Warden never stores.
CREATE TABLE tenant_keys (
    tenant     TEXT PRIMARY KEY NOT NULL,
    wrapped    TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
