//! RBAC writes. Each write is one transaction that changes the data, advances the tenant's revision, records the
//! change for other instances, appends the audit entry and (on PostgreSQL) notifies the other instances.
//!
//! Sensitive fields (permission names, user names, role descriptions) are sealed with the tenant's codec before
//! they reach SQL, so equality look-ups compare ciphertexts.

use super::audit::{audit_in_tx, AuditDraft};
use super::{now_millis, with_writer, Store, StoreError};
use crate::domain::{Change, TenantScope};

/// The outcome of a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleWrite {
    /// A row was inserted or deleted.
    Changed,
    /// The row was already there (insert) or already gone (delete).
    Unchanged,
    /// The role does not exist; nothing was written.
    RoleMissing,
}

/// A committed write: what it did and the tenant's revision afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    pub outcome: RoleWrite,
    pub revision: i64,
}

const CREATE_ROLE: &str =
    "INSERT INTO roles (tenant, name, description, created_at) VALUES ($1, $2, $3, $4) \
                           ON CONFLICT DO NOTHING";
const GRANT: &str = "INSERT INTO role_permissions (tenant, role, permission, created_at) \
                     SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM roles WHERE tenant = $1 AND name = $2) \
                     ON CONFLICT DO NOTHING";
const ADD_MEMBER: &str = "INSERT INTO memberships (tenant, role, user_name, created_at) \
                          SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM roles WHERE tenant = $1 AND name = $2) \
                          ON CONFLICT DO NOTHING";
const REVOKE: &str =
    "DELETE FROM role_permissions WHERE tenant = $1 AND role = $2 AND permission = $3";
const REMOVE_MEMBER: &str =
    "DELETE FROM memberships WHERE tenant = $1 AND role = $2 AND user_name = $3";
const DELETE_ROLE: [&str; 3] = [
    "DELETE FROM memberships WHERE tenant = $1 AND role = $2",
    "DELETE FROM role_permissions WHERE tenant = $1 AND role = $2",
    "DELETE FROM roles WHERE tenant = $1 AND name = $2",
];
const ROLE_EXISTS: &str = "SELECT 1 FROM roles WHERE tenant = $1 AND name = $2";
/// Advances the revision by `$2` (creating the tenant's head row on first use); returns the new revision.
pub(super) const BUMP_REVISION: &str =
    "INSERT INTO tenant_heads (tenant, revision, audit_seq, audit_hash) VALUES ($1, $2, 0, $3) \
     ON CONFLICT (tenant) DO UPDATE SET revision = tenant_heads.revision + $2 RETURNING revision";
const READ_REVISION: &str = "SELECT revision FROM tenant_heads WHERE tenant = $1";
pub(super) const RECORD_CHANGE: &str =
    "INSERT INTO model_changes (tenant, revision, op, role, item, created_at) VALUES ($1, $2, $3, $4, $5, $6)";
/// PostgreSQL only: wakes the other instances once the transaction commits.
pub(super) const NOTIFY: &str = "SELECT pg_notify('warden_changes', $1)";

impl Store {
    /// Applies one change in one transaction (see the module doc). `audit` is filled in with the outcome and
    /// appended to the tenant's chain when given.
    pub async fn apply_change(
        &self,
        scope: &TenantScope,
        change: &Change,
        audit: Option<AuditDraft>,
    ) -> Result<Applied, StoreError> {
        let tenant = scope.id.as_str();
        let role = change.role().as_str();
        // The sealed item (permission or user) or description; `None` for a role deletion.
        let sealed = match change {
            Change::CreateRole { description, .. } => {
                description.as_ref().map(|d| scope.codec.seal(d.as_str()))
            }
            Change::Grant { permission, .. } | Change::Revoke { permission, .. } => {
                Some(scope.codec.seal(permission.as_str()))
            }
            Change::AddMember { user, .. } | Change::RemoveMember { user, .. } => {
                Some(scope.codec.seal(user.as_str()))
            }
            Change::DeleteRole { .. } => None,
        };
        let sealed = sealed.as_deref();
        let now = now_millis();
        let notify = self.is_postgres().then_some(NOTIFY);

        let result: Result<Applied, StoreError> = with_writer!(self, |pool| {
            async {
                let mut tx = pool.begin().await?;
                let affected = match change {
                    Change::CreateRole { .. } | Change::Grant { .. } | Change::AddMember { .. } => {
                        let sql = match change {
                            Change::CreateRole { .. } => CREATE_ROLE,
                            Change::Grant { .. } => GRANT,
                            _ => ADD_MEMBER,
                        };
                        sqlx::query(sql)
                            .bind(tenant)
                            .bind(role)
                            .bind(sealed)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?
                            .rows_affected()
                    }
                    Change::Revoke { .. } | Change::RemoveMember { .. } => {
                        let sql = if matches!(change, Change::Revoke { .. }) {
                            REVOKE
                        } else {
                            REMOVE_MEMBER
                        };
                        sqlx::query(sql)
                            .bind(tenant)
                            .bind(role)
                            .bind(sealed)
                            .execute(&mut *tx)
                            .await?
                            .rows_affected()
                    }
                    Change::DeleteRole { .. } => {
                        let mut affected = 0;
                        for sql in DELETE_ROLE {
                            affected = sqlx::query(sql)
                                .bind(tenant)
                                .bind(role)
                                .execute(&mut *tx)
                                .await?
                                .rows_affected();
                        }
                        affected
                    }
                };
                let outcome = if affected > 0 {
                    RoleWrite::Changed
                } else if matches!(
                    change,
                    Change::CreateRole { .. } | Change::DeleteRole { .. }
                ) {
                    RoleWrite::Unchanged
                } else {
                    let exists: Option<(i32,)> = sqlx::query_as(ROLE_EXISTS)
                        .bind(tenant)
                        .bind(role)
                        .fetch_optional(&mut *tx)
                        .await?;
                    if exists.is_some() {
                        RoleWrite::Unchanged
                    } else {
                        RoleWrite::RoleMissing
                    }
                };
                let changed = outcome == RoleWrite::Changed;

                let revision = if changed {
                    let (revision,): (i64,) = sqlx::query_as(BUMP_REVISION)
                        .bind(tenant)
                        .bind(1_i64)
                        .bind(crate::domain::GENESIS_HASH)
                        .fetch_one(&mut *tx)
                        .await?;
                    revision
                } else {
                    let row: Option<(i64,)> = sqlx::query_as(READ_REVISION)
                        .bind(tenant)
                        .fetch_optional(&mut *tx)
                        .await?;
                    row.map_or(0, |(r,)| r)
                };

                let audit = audit.map(|draft| draft.with_outcome(outcome_name(outcome)));
                audit_in_tx!(tx, tenant, audit, now);
                if changed {
                    sqlx::query(RECORD_CHANGE)
                        .bind(tenant)
                        .bind(revision)
                        .bind(change.op())
                        .bind(role)
                        .bind(sealed)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    if let Some(notify) = notify {
                        sqlx::query(notify)
                            .bind(format!("{tenant}:{revision}"))
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                tx.commit().await?;
                Ok(Applied { outcome, revision })
            }
            .await
        });
        match result {
            // The role was deleted between the existence check and the insert: the foreign key refused the row
            // and the transaction was rolled back.
            Err(StoreError::Conflict) => Ok(Applied {
                outcome: RoleWrite::RoleMissing,
                revision: self.revision(scope).await?,
            }),
            other => other,
        }
    }
}

/// How the audit trail names a write's outcome.
pub fn outcome_name(outcome: RoleWrite) -> &'static str {
    match outcome {
        RoleWrite::Changed => "changed",
        RoleWrite::Unchanged => "unchanged",
        RoleWrite::RoleMissing => "role_not_found",
    }
}
