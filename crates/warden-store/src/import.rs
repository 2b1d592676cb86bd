//! `warden import-auth`'s write: one tenant's roles, grants, memberships and API keys in one transaction, with
//! its change-log rows (so running instances pick the model up) and one audit entry. Every insert is `ON
//! CONFLICT DO NOTHING`, which makes a second import of the same data a no-op; a dry run rolls the
//! transaction back, so its counts are exact.

use super::api_keys::ImportedApiKey;
use super::audit::{audit_in_tx, AuditDraft};
use super::change_log::{log_changes, LoggedChange, RELOAD};
use super::rbac::{sealed_item, ADD_MEMBER, CREATE_ROLE, GRANT};
use super::BeginWrite;
use super::{now_millis, with_writer, Store, StoreError};
use warden_core::domain::{Change, TenantScope};

/// What one tenant's import brings.
#[derive(Debug, Clone, Default)]
pub struct TenantImport {
    /// Role creations, then grants and memberships (only those three kinds).
    pub changes: Vec<Change>,
    pub api_keys: Vec<ImportedApiKey>,
    /// The tenant's `strict_users` setting, when the source had one.
    pub strict_users: Option<bool>,
    /// The keyed hash under which the tenant's outstanding recovery key is found (see
    /// `service::client_keys`), when the source had one.
    pub recovery_key_hash: Option<String>,
}

/// How many rows an import added (rows already there are not counted).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCounts {
    pub roles: u64,
    pub grants: u64,
    pub memberships: u64,
    pub api_keys: u64,
    /// The `strict_users` setting and an outstanding recovery key (both from auth's settings row).
    pub settings: u64,
}

const INSERT_API_KEY: &str = "INSERT INTO api_keys (key_id, tenant, user_name, key_hash, key_prefix, label, \
       created_at, revoked_at, expires_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
     ON CONFLICT DO NOTHING";
/// A tenant that already has a recovery key keeps it.
const INSERT_RECOVERY_KEY: &str =
    "INSERT INTO recovery_keys (tenant, key_hash, issued_at) VALUES ($1, $2, $3) \
     ON CONFLICT DO NOTHING";
const UPSERT_STRICT_USERS: &str =
    "INSERT INTO tenant_settings (tenant, strict_users, updated_at) VALUES ($1, $2, $3) \
     ON CONFLICT (tenant) DO UPDATE SET strict_users = excluded.strict_users, updated_at = excluded.updated_at \
     WHERE tenant_settings.strict_users IS DISTINCT FROM excluded.strict_users";

impl Store {
    /// Imports one tenant (see the module doc); commits only when `commit`. The audit draft's target gets the
    /// counts.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn import_tenant(
        &self,
        scope: &TenantScope,
        import: &TenantImport,
        audit: Option<AuditDraft>,
        commit: bool,
    ) -> Result<ImportCounts, StoreError> {
        let tenant = scope.id.as_str();
        let now = now_millis();
        let postgres = self.is_postgres();
        let sealed: Vec<_> = import
            .changes
            .iter()
            .map(|change| sealed_item(scope, change))
            .collect();
        with_writer!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let mut counts = ImportCounts::default();
            let mut logged = Vec::new();
            for (change, sealed) in import.changes.iter().zip(&sealed) {
                let (sql, count) = match change {
                    Change::CreateRole { .. } => (CREATE_ROLE, &mut counts.roles),
                    Change::Grant { .. } => (GRANT, &mut counts.grants),
                    Change::AddMember { .. } => (ADD_MEMBER, &mut counts.memberships),
                    _ => return Err(anyhow::anyhow!("an import holds only additions").into()),
                };
                let affected = sqlx::query(sql)
                    .bind(tenant)
                    .bind(change.role().as_str())
                    .bind(sealed.as_deref())
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if affected > 0 {
                    *count += 1;
                    logged.push(LoggedChange {
                        op: change.op(),
                        role: change.role().as_str(),
                        item: sealed.as_deref(),
                        expires_at: None,
                        scope: None,
                    });
                }
            }
            for key in &import.api_keys {
                counts.api_keys += sqlx::query(INSERT_API_KEY)
                    .bind(&key.key_id)
                    .bind(tenant)
                    .bind(key.user.as_str())
                    .bind(&key.hash)
                    .bind(&key.prefix)
                    .bind(key.label.as_deref())
                    .bind(key.created_at)
                    .bind(key.revoked_at)
                    .bind(key.expires_at)
                    .bind(key.last_used_at)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
            if let Some(strict) = import.strict_users {
                counts.settings += sqlx::query(UPSERT_STRICT_USERS)
                    .bind(tenant)
                    .bind(strict)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
            if let Some(hash) = &import.recovery_key_hash {
                counts.settings += sqlx::query(INSERT_RECOVERY_KEY)
                    .bind(tenant)
                    .bind(hash)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
            if counts.api_keys + counts.settings > 0 {
                // Strict users and who holds a key live in the model: instances reload it.
                logged.push(RELOAD);
            }
            log_changes!(tx, tenant, &logged, now, postgres);
            let audit = audit.map(|draft| {
                draft
                    .noting("roles", counts.roles)
                    .noting("grants", counts.grants)
                    .noting("memberships", counts.memberships)
                    .noting("api_keys", counts.api_keys)
                    .noting("settings", counts.settings)
                    .with_outcome(if counts == ImportCounts::default() {
                        "unchanged"
                    } else {
                        "changed"
                    })
            });
            audit_in_tx!(tx, tenant, audit, now);
            if commit {
                tx.commit().await?;
            } else {
                tx.rollback().await?;
            }
            Ok(counts)
        })
    }
}
