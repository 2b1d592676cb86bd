-- `strict_users` (`PUT /api/settings`, as auth 3.7.1 has it): when on, a user without an active API key cannot
-- be given a role (409 `user_not_key_backed`) and checks about them answer false. Off by default.
ALTER TABLE tenant_settings ADD COLUMN strict_users BOOLEAN NOT NULL DEFAULT FALSE;
