//! Per-tenant settings (`GET|PUT /api/settings`): one row per tenant that changed one; no row, or a NULL field,
//! means the default: the `aud` claim of the tenant's access tokens, whether an access check registers users
//! the tenant does not know, whether password logins need activation, and strict users (which the in-memory
//! model holds, so turning it on or off makes every instance reload the tenant's model).

use super::audit::{commit_audited, AuditDraft};
use super::change_log::{log_changes, RELOAD, STRICT_USERS};
use super::BeginWrite;
use super::{with_reader, with_writer, Store, StoreError};
use warden_core::domain::TenantId;

/// A tenant's stored settings; `None` fields take their defaults.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct TenantSettingsRow {
    pub jwt_audience: Option<String>,
    /// Off by default.
    pub auto_register_users: bool,
    /// A password login needs an activated user; off by default.
    pub require_activation: bool,
    /// Users need an active API key to hold roles and pass checks; off by default.
    pub strict_users: bool,
}

impl Store {
    /// The tenant's settings (all defaults when it never stored any).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn tenant_settings(
        &self,
        tenant: &TenantId,
    ) -> Result<TenantSettingsRow, StoreError> {
        let row: Option<TenantSettingsRow> = with_reader!(self, |pool| {
            sqlx::query_as(
                "SELECT jwt_audience, auto_register_users, require_activation, strict_users FROM tenant_settings \
                 WHERE tenant = $1",
            )
            .bind(tenant.as_str())
            .fetch_optional(pool)
            .await?
        });
        Ok(row.unwrap_or_default())
    }

    /// Replaces the tenant's settings with `settings`, in one transaction with its audit entry (outcome
    /// `changed`); returns what is stored.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn put_tenant_settings(
        &self,
        tenant: &TenantId,
        settings: &TenantSettingsRow,
        now: i64,
        audit: Option<AuditDraft>,
    ) -> Result<TenantSettingsRow, StoreError> {
        let postgres = self.is_postgres();
        with_writer!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let was_strict: Option<(bool,)> = sqlx::query_as(STRICT_USERS)
                .bind(tenant.as_str())
                .fetch_optional(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO tenant_settings (tenant, jwt_audience, auto_register_users, require_activation, \
                   strict_users, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (tenant) DO UPDATE SET jwt_audience = excluded.jwt_audience, \
                 auto_register_users = excluded.auto_register_users, \
                 require_activation = excluded.require_activation, strict_users = excluded.strict_users, \
                 updated_at = excluded.updated_at",
            )
            .bind(tenant.as_str())
            .bind(settings.jwt_audience.as_deref())
            .bind(settings.auto_register_users)
            .bind(settings.require_activation)
            .bind(settings.strict_users)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if was_strict.is_some_and(|(on,)| on) != settings.strict_users {
                // The model holds the setting: every instance reloads the tenant's.
                log_changes!(tx, tenant.as_str(), &[RELOAD], now, postgres);
            }
            let audit = audit.map(|draft| draft.with_outcome("changed"));
            commit_audited!(tx, tenant.as_str(), audit, now);
        });
        Ok(settings.clone())
    }
}
