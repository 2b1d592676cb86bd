//! The change log: the one path by which every writer that changes a tenant's RBAC model (role, grant and
//! membership writes; a user's deletion, which removes their memberships) advances the tenant's revision, records
//! each change under its own revision and, on PostgreSQL, announces the new head to the other instances.
//!
//! It runs inside the writer's transaction, after its data statements, so the head row is locked last (no
//! deadlock between batches) and held through the commit: revision order is commit order.

/// Advances the revision by `$2` (creating the tenant's head row on first use); returns the new revision.
pub(crate) const BUMP_REVISION: &str =
    "INSERT INTO tenant_heads (tenant, revision, audit_seq, audit_hash) VALUES ($1, $2, 0, $3) \
     ON CONFLICT (tenant) DO UPDATE SET revision = tenant_heads.revision + $2 RETURNING revision";
pub(crate) const READ_REVISION: &str = "SELECT revision FROM tenant_heads WHERE tenant = $1";
pub(crate) const RECORD_CHANGE: &str =
    "INSERT INTO model_changes (tenant, revision, op, role, item, created_at, expires_at, scope_type, scope_id) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
/// PostgreSQL only: wakes the other instances once the transaction commits.
pub(crate) const NOTIFY: &str = "SELECT pg_notify('warden_changes', $1)";

/// One committed change as the log stores it: the operation (`Change::op`), the role, the sealed item
/// (permission, member or description; the parent role of an edge; none for a role deletion) and a membership's
/// expiry (or, for an expiry's removal, the instant it was removed as of). A resource change files under the
/// resource's type with its sealed id as the item; `scope` is a membership's resource or a resource's parent
/// (type, sealed id).
#[derive(Debug, Clone, Copy)]
pub(crate) struct LoggedChange<'a> {
    pub op: &'a str,
    pub role: &'a str,
    pub item: Option<&'a str>,
    pub expires_at: Option<i64>,
    pub scope: Option<(&'a str, &'a str)>,
}

/// Logs `$changes` (a slice of [`LoggedChange`]) in transaction `$tx` as tenant `$tenant`'s next revisions, in
/// order, and announces the last one when `$postgres`; evaluates to the tenant's revision afterwards (unchanged,
/// and no head row created, when the slice is empty). A macro so one text serves both backends' transactions.
macro_rules! log_changes {
    ($tx:ident, $tenant:expr, $changes:expr, $now:expr, $postgres:expr) => {{
        let tenant: &str = $tenant;
        let changes: &[$crate::change_log::LoggedChange<'_>] = $changes;
        let count = changes.len() as i64;
        let last: i64 = if count > 0 {
            let (revision,): (i64,) = sqlx::query_as($crate::change_log::BUMP_REVISION)
                .bind(tenant)
                .bind(count)
                .bind(warden_core::domain::GENESIS_HASH)
                .fetch_one(&mut *$tx)
                .await?;
            revision
        } else {
            let row: Option<(i64,)> = sqlx::query_as($crate::change_log::READ_REVISION)
                .bind(tenant)
                .fetch_optional(&mut *$tx)
                .await?;
            row.map_or(0, |(r,)| r)
        };
        let first = last - count + 1;
        for (i, change) in changes.iter().enumerate() {
            sqlx::query($crate::change_log::RECORD_CHANGE)
                .bind(tenant)
                .bind(first + i as i64)
                .bind(change.op)
                .bind(change.role)
                .bind(change.item)
                .bind($now)
                .bind(change.expires_at)
                .bind(change.scope.map(|(kind, _)| kind))
                .bind(change.scope.map(|(_, id)| id))
                .execute(&mut *$tx)
                .await?;
        }
        if $postgres && count > 0 {
            sqlx::query($crate::change_log::NOTIFY)
                .bind(format!("{tenant}:{last}"))
                .execute(&mut *$tx)
                .await?;
        }
        last
    }};
}
pub(crate) use log_changes;

/// The entry of a write the model cannot replay (an API key or the `strict_users` setting changed): instances
/// reload the tenant's model when they reach it.
pub(crate) const RELOAD: LoggedChange<'static> = LoggedChange {
    op: crate::model::RELOAD_OP,
    role: "",
    item: None,
    expires_at: None,
    scope: None,
};

/// Reads whether tenant `$tenant` has `strict_users` on, in transaction `$tx`.
pub(crate) const STRICT_USERS: &str = "SELECT strict_users FROM tenant_settings WHERE tenant = $1";

/// After a write that changes who holds an active API key: when the tenant has `strict_users` on, logs a
/// [`RELOAD`] entry so every instance reloads the tenant's model (which knows, under strict
/// users, who is key-backed). Runs after the write's data statements, like [`log_changes`]; evaluates to the new
/// revision when it logged one.
macro_rules! log_key_backing {
    ($tx:ident, $tenant:expr, $now:expr, $postgres:expr) => {{
        let tenant: &str = $tenant;
        let strict: Option<(bool,)> = sqlx::query_as($crate::change_log::STRICT_USERS)
            .bind(tenant)
            .fetch_optional(&mut *$tx)
            .await?;
        if strict.is_some_and(|(on,)| on) {
            let reload = [$crate::change_log::RELOAD];
            Some($crate::change_log::log_changes!(
                $tx, tenant, &reload, $now, $postgres
            ))
        } else {
            None
        }
    }};
}
pub(crate) use log_key_backing;
