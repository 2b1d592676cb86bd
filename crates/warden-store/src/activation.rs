//! Activation codes (websauna's accounts): one code per user, stored as its keyed hash, used once.
//!
//! Every request's writes happen in one transaction inside one method, together with its audit entry when one is
//! given: the entry is written exactly when the transaction commits, with the outcome found inside it. A write
//! that finds nothing to do and rolls back leaves no entry; the callers record refused credentials as decisions
//! instead. Where a write depends on a user's current state, the transaction first "touches" the user row with an
//! `UPDATE` (`SET status = status`): on PostgreSQL that takes the row lock, so concurrent requests about one user
//! run one after the other; on SQLite the single writer connection already serialises them.

use super::audit::{commit_audited, AuditDraft};
use super::BeginWrite;
use super::{with_writer, Store, StoreError};
use warden_core::domain::{Name, TenantId};

impl Store {
    /// Stores a user's activation code hash, replacing any earlier code; `false` for an unknown user. The audit
    /// outcome is `created`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn set_activation_code(
        &self,
        tenant: &TenantId,
        user: &Name,
        hash: &str,
        now: i64,
        expires_at: i64,
        audit: Option<AuditDraft>,
    ) -> Result<bool, StoreError> {
        with_writer!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let affected = sqlx::query(
                "INSERT INTO user_activation_codes (tenant, user_name, hash, created_at, expires_at) \
                 SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM users WHERE tenant = $1 AND user_name = $2) \
                 ON CONFLICT (tenant, user_name) DO UPDATE \
                   SET hash = excluded.hash, created_at = excluded.created_at, expires_at = excluded.expires_at",
            )
            .bind(tenant.as_str())
            .bind(user.as_str())
            .bind(hash)
            .bind(now)
            .bind(expires_at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if affected == 0 {
                return Ok(false);
            }
            let audit = audit.map(|draft| draft.with_outcome("created"));
            commit_audited!(tx, tenant.as_str(), audit, now);
            Ok(true)
        })
    }

    /// Consumes a matching, unexpired activation code and marks the user activated, in one transaction; `None`
    /// when no code matched. The `DELETE` is the single-use guarantee: only one caller can delete the row. The
    /// audit entry (outcome `allowed`) is written only when the code matched.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn activate_user(
        &self,
        tenant: &TenantId,
        user: &Name,
        hash: &str,
        now: i64,
        audit: Option<AuditDraft>,
    ) -> Result<Option<i64>, StoreError> {
        with_writer!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let consumed = sqlx::query(
                "DELETE FROM user_activation_codes \
                 WHERE tenant = $1 AND user_name = $2 AND hash = $3 AND expires_at > $4",
            )
            .bind(tenant.as_str())
            .bind(user.as_str())
            .bind(hash)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if consumed == 0 {
                return Ok(None);
            }
            sqlx::query(
                "UPDATE users SET activated_at = $1, updated_at = $1 WHERE tenant = $2 AND user_name = $3",
            )
            .bind(now)
            .bind(tenant.as_str())
            .bind(user.as_str())
            .execute(&mut *tx)
            .await?;
            let audit = audit.map(|draft| draft.with_outcome("allowed"));
            commit_audited!(tx, tenant.as_str(), audit, now);
            Ok(Some(now))
        })
    }
}
