//! Registered tenants (`AUTH_TENANT_MODE=registered`): fingerprints of issued client keys.

use super::{now_millis, with_reader, with_writer, Store, StoreError};
use warden_core::domain::TenantId;

impl Store {
    /// Records a newly issued key's tenant; `false` if it was already there.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn register_tenant(&self, tenant: &TenantId) -> Result<bool, StoreError> {
        let affected = with_writer!(self, |pool| {
            sqlx::query(
                "INSERT INTO tenants (tenant, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(tenant.as_str())
            .bind(now_millis())
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(affected == 1)
    }

    /// Marks a registered tenant revoked; `false` when it is unknown or already revoked.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn revoke_tenant(&self, tenant: &TenantId) -> Result<bool, StoreError> {
        let affected = with_writer!(self, |pool| {
            sqlx::query(
                "UPDATE tenants SET revoked_at = $1 WHERE tenant = $2 AND revoked_at IS NULL",
            )
            .bind(now_millis())
            .bind(tenant.as_str())
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(affected == 1)
    }

    /// Whether the tenant is registered and not revoked: one primary-key read.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn tenant_is_active(&self, tenant: &TenantId) -> Result<bool, StoreError> {
        let row: Option<(i32,)> = with_reader!(self, |pool| {
            sqlx::query_as("SELECT 1 FROM tenants WHERE tenant = $1 AND revoked_at IS NULL")
                .bind(tenant.as_str())
                .fetch_optional(pool)
                .await?
        });
        Ok(row.is_some())
    }
}
