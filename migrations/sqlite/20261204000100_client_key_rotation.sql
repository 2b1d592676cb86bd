-- Client-key rotation and recovery. A tenant keeps the id it was created with (the fingerprint of its first
-- client key), so every keyed hash, JWT key, audit chain and sealed value stays as it is; what changes is which
-- client keys stand for it. A fingerprint with no row here stands for the tenant of the same id; a row maps a
-- rotated-in key's fingerprint to its tenant, or (with `retired_at`) refuses a key that was rotated away.
CREATE TABLE client_key_aliases (
    fingerprint TEXT PRIMARY KEY NOT NULL,
    tenant      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    retired_at  BIGINT
);
CREATE INDEX client_key_aliases_by_tenant ON client_key_aliases (tenant);
-- Instances poll for aliases created or retired since their last look.
CREATE INDEX client_key_aliases_by_creation ON client_key_aliases (created_at);
CREATE INDEX client_key_aliases_by_retirement ON client_key_aliases (retired_at);

-- One outstanding recovery key (`rrk_` + 43 base62, shown once) per tenant, as a keyed hash; a recovery consumes
-- it and stores the next one in the same transaction.
CREATE TABLE recovery_keys (
    tenant    TEXT PRIMARY KEY NOT NULL,
    key_hash  TEXT NOT NULL UNIQUE,
    issued_at BIGINT NOT NULL
);
