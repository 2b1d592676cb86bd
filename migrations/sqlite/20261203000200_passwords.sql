-- Optional password credentials (websauna accounts): an Argon2id PHC string, and the last successful login.
ALTER TABLE users ADD COLUMN password_hash TEXT;
ALTER TABLE users ADD COLUMN last_login_at INTEGER;
ALTER TABLE users ADD COLUMN last_login_ip TEXT;
-- `require_activation` (`PUT /api/settings`): a login needs an activated user. Off by default.
ALTER TABLE tenant_settings ADD COLUMN require_activation BOOLEAN NOT NULL DEFAULT FALSE;
