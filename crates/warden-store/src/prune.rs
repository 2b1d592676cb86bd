//! Pruning what no reader needs any more: finished refresh tokens and families, past rate windows, and the key
//! rows of idle tenants. Each is one statement keyed on stored timestamps (or on the absence of data), so a pass is
//! safe beside live traffic and on several instances at once. Run by the maintenance task.

use super::{with_writer, Store, StoreError};

/// Every tenant-scoped table but `tenant_keys` and `tenants` (a registration is not data): a tenant with a row in
/// none of them is idle.
pub(crate) const TENANT_DATA_TABLES: [&str; 18] = [
    "roles",
    "role_permissions",
    "role_inherits",
    "memberships",
    // Sealed ids and properties.
    "resources",
    "scoped_memberships",
    "model_changes",
    "audit_log",
    "users",
    "user_requests",
    "user_tokens",
    "user_activation_codes",
    "sessions",
    "token_families",
    "refresh_tokens",
    "tenant_retired_keys",
    // Sealed labels.
    "api_keys",
    // A rotated tenant's key material is no longer the derivation from the key that presents itself.
    "client_key_aliases",
];

impl Store {
    /// Deletes refresh tokens that have expired and whose sibling access token (issued with them) has too
    /// (`issued_at <= access_cutoff`). A family left without tokens therefore has no live token of either kind.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn prune_refresh_tokens(
        &self,
        now: i64,
        access_cutoff: i64,
    ) -> Result<u64, StoreError> {
        Ok(with_writer!(self, |pool| {
            sqlx::query("DELETE FROM refresh_tokens WHERE expires_at <= $1 AND issued_at <= $2")
                .bind(now)
                .bind(access_cutoff)
                .execute(pool)
                .await?
                .rows_affected()
        }))
    }

    /// Deletes families revoked at or before `access_cutoff` (every access token issued before the revocation has
    /// expired, and an unknown family counts as revoked anyway), and families older than that with no refresh token
    /// left (see [`Store::prune_refresh_tokens`]). Their refresh tokens go with them (`ON DELETE CASCADE`).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn prune_token_families(&self, access_cutoff: i64) -> Result<u64, StoreError> {
        Ok(with_writer!(self, |pool| {
            sqlx::query(
                "DELETE FROM token_families WHERE (revoked_at IS NOT NULL AND revoked_at <= $1) \
                 OR (created_at <= $1 AND NOT EXISTS (SELECT 1 FROM refresh_tokens r \
                 WHERE r.tenant = token_families.tenant AND r.family = token_families.family))",
            )
            .bind(access_cutoff)
            .execute(pool)
            .await?
            .rows_affected()
        }))
    }

    /// Deletes rate windows that started before `before_second` (Unix seconds): only the current window is read.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn prune_rate_windows(&self, before_second: i64) -> Result<u64, StoreError> {
        Ok(with_writer!(self, |pool| {
            sqlx::query("DELETE FROM rate_windows WHERE window_start < $1")
                .bind(before_second)
                .execute(pool)
                .await?
                .rows_affected()
        }))
    }

    /// Deletes the key rows, written before `created_before`, of idle tenants (no row in any data table) whose
    /// material is the derivation from their client key: nothing is sealed under it, and the tenant's next use
    /// derives the same key again (an instance serving the tenant from memory writes the row back within minutes,
    /// see `service::encryption`). Random key material is never pruned: an instance may still hold it in memory and
    /// seal new data with it. The age bound keeps a new tenant's row, written just before its first data.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn prune_idle_tenant_keys(&self, created_before: i64) -> Result<u64, StoreError> {
        let mut sql =
            String::from("DELETE FROM tenant_keys WHERE derived = TRUE AND created_at < $1");
        for table in TENANT_DATA_TABLES {
            sql.push_str(&format!(
                " AND NOT EXISTS (SELECT 1 FROM {table} d WHERE d.tenant = tenant_keys.tenant)"
            ));
        }
        Ok(with_writer!(self, |pool| {
            sqlx::query(&sql)
                .bind(created_before)
                .execute(pool)
                .await?
                .rows_affected()
        }))
    }
}
