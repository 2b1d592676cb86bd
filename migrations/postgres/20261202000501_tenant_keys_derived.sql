-- Whether a tenant's stored key material is the derivation from its client key (written at first use), which can
-- be derived again, or random (`warden encrypt`, `warden rotate-encryption-key`), which cannot. Maintenance prunes
-- the key rows of idle tenants only when derived: an instance still holding the key in memory then agrees with the
-- key derived again at the tenant's next use. Rows written before this column existed count as random.
ALTER TABLE tenant_keys ADD COLUMN derived BOOLEAN NOT NULL DEFAULT FALSE;
