-- `auto_register_users` (`PUT /api/settings`): an access check of a user the tenant does not know registers them
-- (status `allowed`, no quotas) instead of answering `denied`. Off by default, as users-package behaves.
ALTER TABLE tenant_settings ADD COLUMN auto_register_users BOOLEAN NOT NULL DEFAULT FALSE;
