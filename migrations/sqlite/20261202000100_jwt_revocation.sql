-- Revocation that reaches every JWT credential (issue 12).

-- `member`: the family's user name as memberships store it (sealed under the tenant's codec when field encryption
-- is on), so the RBAC write that removes a user's last role can revoke that user's families in its transaction.
-- Families created before this column existed have none; their refreshes still re-check the user's roles.
ALTER TABLE token_families ADD COLUMN member TEXT;
CREATE INDEX token_families_by_user ON token_families (tenant, user_name);
CREATE INDEX token_families_by_member ON token_families (tenant, member);

-- `successor`: the pair a rotation returned, sealed under a server sub-key, kept only for the reuse grace so that
-- a retried refresh (on any instance) gets the same pair; cleared once the grace has passed.
ALTER TABLE refresh_tokens ADD COLUMN successor TEXT;
CREATE INDEX refresh_tokens_with_successor ON refresh_tokens (used_at) WHERE successor IS NOT NULL;
