-- Per-user API keys (as auth 3.7.1 has them): `rak_` + 43 base62 characters, shown once; only a keyed hash of
-- the key (HMAC-SHA256 under a key derived from the tenant secret, with the tenant) is stored. `label` is
-- sealed like other names when field encryption is on.
CREATE TABLE api_keys (
    key_id       TEXT PRIMARY KEY NOT NULL,
    tenant       TEXT NOT NULL,
    user_name    TEXT NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,
    key_prefix   TEXT NOT NULL,
    label        TEXT,
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER,
    expires_at   INTEGER,
    last_used_at INTEGER
);
CREATE INDEX api_keys_by_user ON api_keys (tenant, user_name);
