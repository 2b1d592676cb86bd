-- Expiring memberships: a membership with `expires_at` (Unix ms) grants nothing from that instant on, on every
-- instance (decided by the clock at check time); a background pass then removes it with a change-log row and an
-- audit entry. The change log carries the expiry so other instances replay it exactly.
ALTER TABLE memberships ADD COLUMN expires_at INTEGER;
ALTER TABLE model_changes ADD COLUMN expires_at INTEGER;
