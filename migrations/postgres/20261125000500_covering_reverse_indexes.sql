-- The reverse indexes also end in the remaining key column, so that a look-up of one exact grant or membership is
-- an exact index probe whichever index the planner picks. Without it, PostgreSQL with stale statistics (a table
-- that grew since its last ANALYZE) chose the role index and scanned all of a role's members on every removal.
DROP INDEX memberships_by_role;
CREATE INDEX memberships_by_role ON memberships (tenant, role, user_name);
DROP INDEX role_permissions_by_permission;
CREATE INDEX role_permissions_by_permission ON role_permissions (tenant, permission, role);
