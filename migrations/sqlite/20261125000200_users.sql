-- Users, their access-check history, single-use tokens, activation codes and sessions, each scoped to a tenant.
-- Times are Unix milliseconds (UTC). Secrets (tokens, activation codes, session ids) are stored only as keyed
-- HMAC-SHA256 hashes, so a copy of the database hands out nothing that works.

CREATE TABLE users (
    tenant               TEXT NOT NULL,
    user_name            TEXT NOT NULL,
    -- Public id, safe to show to anyone.
    uuid                 TEXT NOT NULL,
    -- Exact values only; the service never matches statuses by substring.
    status               TEXT NOT NULL CHECK (status IN ('allowed', 'denied')),
    enabled              INTEGER NOT NULL,
    -- A JSON object, at most 16 KiB.
    profile              TEXT NOT NULL,
    -- NULL: no quota.
    requests_per_hour    INTEGER,
    requests_per_day     INTEGER,
    random_shift_minutes INTEGER NOT NULL,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    last_seen_at         INTEGER,
    activated_at         INTEGER,
    -- Tokens and sessions issued before this time are void.
    sensitive_changed_at INTEGER NOT NULL,
    -- End of the active request limit. Set only while no limit is active, so it never slides forward.
    rate_limited_until   INTEGER,
    PRIMARY KEY (tenant, user_name)
);
CREATE UNIQUE INDEX users_by_uuid ON users (uuid);

CREATE TABLE user_requests (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant             TEXT NOT NULL,
    user_name          TEXT NOT NULL,
    chat_id            TEXT,
    message_id         TEXT,
    role_id            TEXT,
    access             TEXT NOT NULL,
    permissions        TEXT,
    rate_limited_until INTEGER,
    created_at         INTEGER NOT NULL
);
-- Quota counts and history pages both walk one user's requests by time.
CREATE INDEX user_requests_by_user ON user_requests (tenant, user_name, created_at);
CREATE INDEX user_requests_by_time ON user_requests (created_at);

CREATE TABLE user_tokens (
    hash       TEXT PRIMARY KEY NOT NULL,
    tenant     TEXT NOT NULL,
    user_name  TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    revoked_at INTEGER
);
CREATE INDEX user_tokens_by_user ON user_tokens (tenant, user_name);
CREATE INDEX user_tokens_by_expiry ON user_tokens (expires_at);

-- At most one pending code per user: a new one replaces the old.
CREATE TABLE user_activation_codes (
    tenant     TEXT NOT NULL,
    user_name  TEXT NOT NULL,
    hash       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (tenant, user_name)
);

CREATE TABLE sessions (
    id_hash     TEXT PRIMARY KEY NOT NULL,
    tenant      TEXT NOT NULL,
    -- Public handle for listings: lets a caller tell sessions apart without seeing their ids.
    session_ref TEXT NOT NULL,
    user_name   TEXT NOT NULL,
    -- JSON array of strings; metadata a JSON object or NULL.
    permissions TEXT NOT NULL,
    metadata    TEXT,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX sessions_by_ref ON sessions (tenant, session_ref);
CREATE INDEX sessions_by_user ON sessions (tenant, user_name);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
