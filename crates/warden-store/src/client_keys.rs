//! Client-key rotation and recovery (`client_key_aliases`, `recovery_keys`).
//!
//! A tenant keeps the id it was created with, so a rotation moves no data: it retires the fingerprints of the old
//! client key(s), maps the new key's fingerprint to the tenant and, in registered mode, moves the registration —
//! one transaction with its audit entry. A request with the old key therefore sees all of the tenant's state until
//! the commit and 401 after it; there is no moment at which part of the namespace answers to one key and part to
//! the other.

use super::audit::{audit_in_tx, AuditDraft};
use super::BeginWrite;
use super::{now_millis, with_reader, with_writer, Store, StoreError};
use warden_core::domain::TenantId;

/// What stands behind a fingerprint that has a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyAlias {
    pub tenant: TenantId,
    /// Set once the key was rotated away (or recovered from): it is refused.
    pub retired_at: Option<i64>,
}

/// A rotation or recovery: the tenant's new client key fingerprint, and which keys it replaces.
#[derive(Debug, Clone, Copy)]
pub struct KeyMove<'a> {
    pub tenant: &'a TenantId,
    /// A rotation's authenticating fingerprint, which must still be active at the commit (so two rotations with
    /// one key cannot both succeed). `None` (a recovery) retires every active key of the tenant.
    pub from: Option<&'a TenantId>,
    pub to: &'a TenantId,
}

/// How much of the namespace now answers to the new key (everything the tenant holds; nothing is copied).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NamespaceCounts {
    pub roles: u64,
    /// Grants, as `auth` 3.7.1 names them.
    pub permissions: u64,
    pub memberships: u64,
    pub users: u64,
    pub api_keys: u64,
    pub settings: u64,
    pub sessions: u64,
    pub tokens: u64,
    pub audit_entries: u64,
}

/// Tables beside the data tables whose rows say a fingerprint already names a tenant, so a recovery may not take
/// it over.
const NAMESPACE_TABLES: [&str; 5] = [
    "tenant_keys",
    "tenant_settings",
    "tenant_heads",
    "recovery_keys",
    "token_families",
];

const COUNTS: &str = "SELECT \
     (SELECT COUNT(*) FROM roles WHERE tenant = $1), \
     (SELECT COUNT(*) FROM role_permissions WHERE tenant = $1), \
     (SELECT COUNT(*) FROM memberships WHERE tenant = $1), \
     (SELECT COUNT(*) FROM users WHERE tenant = $1), \
     (SELECT COUNT(*) FROM api_keys WHERE tenant = $1), \
     (SELECT COUNT(*) FROM tenant_settings WHERE tenant = $1), \
     (SELECT COUNT(*) FROM sessions WHERE tenant = $1), \
     (SELECT COUNT(*) FROM user_tokens WHERE tenant = $1), \
     (SELECT COUNT(*) FROM audit_log WHERE tenant = $1)";

/// Records the tenant's original fingerprint (until now implicit) so it can be retired like any other.
const RECORD_ORIGINAL: &str = "INSERT INTO client_key_aliases (fingerprint, tenant, created_at) \
     VALUES ($1, $1, $2) ON CONFLICT (fingerprint) DO NOTHING";
const RETIRE_ONE: &str = "UPDATE client_key_aliases SET retired_at = $1 \
     WHERE fingerprint = $2 AND tenant = $3 AND retired_at IS NULL";
const RETIRE_ALL: &str =
    "UPDATE client_key_aliases SET retired_at = $1 WHERE tenant = $2 AND retired_at IS NULL";
const ADD_ALIAS: &str =
    "INSERT INTO client_key_aliases (fingerprint, tenant, created_at) VALUES ($1, $2, $3)";
/// Whether one of the tenant's keys holds an unrevoked registration (registered mode).
const REGISTERED: &str =
    "SELECT EXISTS (SELECT 1 FROM tenants WHERE revoked_at IS NULL AND (tenant = $1 \
     OR tenant IN (SELECT fingerprint FROM client_key_aliases WHERE tenant = $1)))";
/// Registered mode: the new key is registered when a key of the tenant is, and the retired ones are revoked.
const REGISTER_NEW: &str = "INSERT INTO tenants (tenant, created_at) SELECT $1, $2 WHERE EXISTS \
     (SELECT 1 FROM tenants WHERE revoked_at IS NULL \
      AND tenant IN (SELECT fingerprint FROM client_key_aliases WHERE tenant = $3))";
const REVOKE_RETIRED: &str =
    "UPDATE tenants SET revoked_at = $1 WHERE revoked_at IS NULL AND tenant IN \
     (SELECT fingerprint FROM client_key_aliases WHERE tenant = $2 AND retired_at IS NOT NULL)";

type CountsRow = (i64, i64, i64, i64, i64, i64, i64, i64, i64);

fn counts(
    (roles, permissions, memberships, users, api_keys, settings, sessions, tokens, audit): CountsRow,
) -> NamespaceCounts {
    let n = |v: i64| u64::try_from(v).unwrap_or(0);
    NamespaceCounts {
        roles: n(roles),
        permissions: n(permissions),
        memberships: n(memberships),
        users: n(users),
        api_keys: n(api_keys),
        settings: n(settings),
        sessions: n(sessions),
        tokens: n(tokens),
        audit_entries: n(audit),
    }
}

/// Moves tenant `$move`'s client key in transaction `$tx` (see [`KeyMove`]); evaluates to `Err(NotFound)` when a
/// rotation's key is no longer active and `Err(Conflict)` when the new fingerprint is taken. A macro so one text
/// serves both backends' transactions.
macro_rules! move_key {
    ($tx:ident, $move:expr, $now:expr) => {{
        let key_move: KeyMove<'_> = $move;
        let tenant = key_move.tenant.as_str();
        let to = key_move.to.as_str();
        let mut taken: bool = sqlx::query_as::<_, (i64,)>(
            "SELECT COUNT(*) FROM client_key_aliases WHERE fingerprint = $1",
        )
        .bind(to)
        .fetch_one(&mut *$tx)
        .await?
        .0 > 0;
        for table in crate::prune::TENANT_DATA_TABLES
            .iter()
            .chain(&NAMESPACE_TABLES)
        {
            if taken {
                break;
            }
            let row: Option<(i32,)> =
                sqlx::query_as(&format!("SELECT 1 FROM {table} WHERE tenant = $1 LIMIT 1"))
                    .bind(to)
                    .fetch_optional(&mut *$tx)
                    .await?;
            taken = row.is_some();
        }
        if taken || to == tenant {
            Err(StoreError::Conflict)
        } else {
            sqlx::query(RECORD_ORIGINAL)
                .bind(tenant)
                .bind($now)
                .execute(&mut *$tx)
                .await?;
            let retired = match key_move.from {
                Some(from) => sqlx::query(RETIRE_ONE)
                    .bind($now)
                    .bind(from.as_str())
                    .bind(tenant)
                    .execute(&mut *$tx)
                    .await?
                    .rows_affected(),
                None => sqlx::query(RETIRE_ALL)
                    .bind($now)
                    .bind(tenant)
                    .execute(&mut *$tx)
                    .await?
                    .rows_affected(),
            };
            if retired == 0 {
                Err(StoreError::NotFound)
            } else {
                sqlx::query(ADD_ALIAS)
                    .bind(to)
                    .bind(tenant)
                    .bind($now)
                    .execute(&mut *$tx)
                    .await?;
                sqlx::query(REGISTER_NEW)
                    .bind(to)
                    .bind($now)
                    .bind(tenant)
                    .execute(&mut *$tx)
                    .await?;
                sqlx::query(REVOKE_RETIRED)
                    .bind($now)
                    .bind(tenant)
                    .execute(&mut *$tx)
                    .await?;
                let row: CountsRow = sqlx::query_as(COUNTS)
                    .bind(tenant)
                    .fetch_one(&mut *$tx)
                    .await?;
                Ok(counts(row))
            }
        }
    }};
}

impl Store {
    /// The alias row of a client key's fingerprint, if it has one (one primary-key read).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn key_alias(&self, fingerprint: &TenantId) -> Result<Option<KeyAlias>, StoreError> {
        let row: Option<(String, Option<i64>)> = with_reader!(self, |pool| {
            sqlx::query_as(
                "SELECT tenant, retired_at FROM client_key_aliases WHERE fingerprint = $1",
            )
            .bind(fingerprint.as_str())
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(|(tenant, retired_at)| KeyAlias {
            tenant: TenantId::from_stored(tenant),
            retired_at,
        }))
    }

    /// Alias rows created or retired at or after `since` (milliseconds), by fingerprint: what other instances'
    /// caches must learn.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn key_aliases_changed_since(
        &self,
        since: i64,
    ) -> Result<Vec<(TenantId, KeyAlias)>, StoreError> {
        let rows: Vec<(String, String, Option<i64>)> = with_reader!(self, |pool| {
            sqlx::query_as(
                "SELECT fingerprint, tenant, retired_at FROM client_key_aliases \
                 WHERE created_at >= $1 OR retired_at >= $1",
            )
            .bind(since)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(fp, tenant, retired_at)| {
                (
                    TenantId::from_stored(fp),
                    KeyAlias {
                        tenant: TenantId::from_stored(tenant),
                        retired_at,
                    },
                )
            })
            .collect())
    }

    /// Rotates the tenant's client key (see [`KeyMove`]), with its audit entry, in one
    /// transaction. `NotFound`: the authenticating key was retired meanwhile; `Conflict`: the new one is taken.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn rotate_client_key(
        &self,
        key_move: KeyMove<'_>,
        audit: Option<AuditDraft>,
    ) -> Result<NamespaceCounts, StoreError> {
        let now = now_millis();
        with_writer!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let moved = move_key!(tx, key_move, now)?;
            let audit = audit.map(|draft| draft.with_outcome("changed"));
            audit_in_tx!(tx, key_move.tenant.as_str(), audit, now);
            tx.commit().await?;
            Ok(moved)
        })
    }

    /// Stores the tenant's recovery key hash unless one is outstanding (`false` then), with its audit entry.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn issue_recovery_key(
        &self,
        tenant: &TenantId,
        key_hash: &str,
        audit: Option<AuditDraft>,
    ) -> Result<bool, StoreError> {
        let now = now_millis();
        with_writer!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let added = sqlx::query(
                "INSERT INTO recovery_keys (tenant, key_hash, issued_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (tenant) DO NOTHING",
            )
            .bind(tenant.as_str())
            .bind(key_hash)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if added == 0 {
                tx.rollback().await?;
                return Ok(false);
            }
            let audit = audit.map(|draft| draft.with_outcome("changed"));
            audit_in_tx!(tx, tenant.as_str(), audit, now);
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Whether a recovery key with this hash is outstanding (a read, so wrong keys never take the write lock).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn recovery_key_exists(&self, key_hashes: &[String; 2]) -> Result<bool, StoreError> {
        let row: Option<(i32,)> = with_reader!(self, |pool| {
            sqlx::query_as("SELECT 1 FROM recovery_keys WHERE key_hash IN ($1, $2)")
                .bind(&key_hashes[0])
                .bind(&key_hashes[1])
                .fetch_optional(pool)
                .await?
        });
        Ok(row.is_some())
    }

    /// Recovery: consumes the recovery key stored under either of `used_hashes` (the forms a presented key may be
    /// stored under), moves its tenant to fingerprint `to`
    /// (retiring every key it had), stores `next_hash` as the tenant's next recovery key and writes the audit
    /// entry, in one transaction. `Ok(None)`: no such recovery key, or (when `registered`, registered mode) a
    /// tenant none of whose keys is registered any more, since an operator revoked it (nothing changed).
    /// `Conflict`: `to` is taken.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn recover_tenant(
        &self,
        used_hashes: &[String; 2],
        to: &TenantId,
        next_hash: &str,
        registered: bool,
        audit: Option<AuditDraft>,
    ) -> Result<Option<(TenantId, NamespaceCounts)>, StoreError> {
        let now = now_millis();
        with_writer!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            // Deleting first makes the key single-use under concurrency: one recovery gets the row.
            let row: Option<(String,)> = sqlx::query_as(
                "DELETE FROM recovery_keys WHERE key_hash IN ($1, $2) RETURNING tenant",
            )
            .bind(&used_hashes[0])
            .bind(&used_hashes[1])
            .fetch_optional(&mut *tx)
            .await?;
            let Some((tenant,)) = row else {
                tx.rollback().await?;
                return Ok(None);
            };
            if registered {
                let (active,): (bool,) = sqlx::query_as(REGISTERED)
                    .bind(&tenant)
                    .fetch_one(&mut *tx)
                    .await?;
                if !active {
                    tx.rollback().await?;
                    return Ok(None);
                }
            }
            let tenant = TenantId::from_stored(tenant);
            let key_move = KeyMove {
                tenant: &tenant,
                from: None,
                to,
            };
            let moved = move_key!(tx, key_move, now)?;
            sqlx::query(
                "INSERT INTO recovery_keys (tenant, key_hash, issued_at) VALUES ($1, $2, $3)",
            )
            .bind(tenant.as_str())
            .bind(next_hash)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let audit = audit.map(|draft| draft.with_outcome("changed"));
            audit_in_tx!(tx, tenant.as_str(), audit, now);
            tx.commit().await?;
            Ok(Some((tenant, moved)))
        })
    }
}
