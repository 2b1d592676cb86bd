-- Registered tenants, per-tenant request counts, and refresh-token families. Times are Unix milliseconds.

-- AUTH_TENANT_MODE=registered accepts only client keys whose fingerprint is here and not revoked. The key itself
-- is printed once by `warden tenant create` and never stored.
CREATE TABLE tenants (
    tenant     TEXT PRIMARY KEY NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

-- One row per tenant and one-second window; an upsert counts a request atomically, so every instance sharing the
-- database sees one count. Old windows are pruned as new ones start.
CREATE TABLE rate_windows (
    tenant       TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    count        INTEGER NOT NULL,
    PRIMARY KEY (tenant, window_start)
);

-- A family is the chain of refresh tokens that descend from one issue. Revoking it (on reuse of a rotated
-- refresh token) also invalidates every access token issued from it: their `fam` claim is checked here.
CREATE TABLE token_families (
    tenant     TEXT NOT NULL,
    family     TEXT NOT NULL,
    user_name  TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER,
    PRIMARY KEY (tenant, family)
);

-- Refresh tokens are stored only as a keyed hash (HMAC-SHA256 under a server sub-key). `used_at` is set when the
-- token is rotated; a second use finds it set and revokes the family.
CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    tenant     TEXT NOT NULL,
    family     TEXT NOT NULL,
    user_name  TEXT NOT NULL,
    issued_at  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    FOREIGN KEY (tenant, family) REFERENCES token_families (tenant, family) ON DELETE CASCADE
);
CREATE INDEX refresh_tokens_by_family ON refresh_tokens (tenant, family);
