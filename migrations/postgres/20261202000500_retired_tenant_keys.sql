-- Tenant key material retired by `warden rotate-encryption-key`, sealed like tenant_keys under the current
-- AUTH_ENCRYPTION_KEY. Rotation re-seals every field except audit targets: the audit chain hashes the stored target,
-- so entries sealed before a rotation keep their old ciphertext and are opened with these keys.
CREATE TABLE tenant_retired_keys (
    tenant     TEXT NOT NULL,
    wrapped    TEXT NOT NULL,
    retired_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, wrapped)
);
