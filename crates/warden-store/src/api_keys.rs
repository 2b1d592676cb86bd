//! Per-user API keys: only keyed hashes are stored; a key is found by its hash (a unique index), so a key of
//! another tenant, whose hash differs, is simply unknown.
//!
//! Creating a key counts the user's active keys in the same transaction as the insert; concurrent creations for
//! one user are serialised by a transaction-scoped advisory lock on PostgreSQL (SQLite's single writer already
//! serialises them), so the cap holds across instances.

use super::audit::{commit_audited, AuditDraft};
use super::change_log::log_key_backing;
use super::BeginWrite;
use super::{with_reader, with_writer, Store, StoreError};
use warden_core::domain::{Name, TenantId};

/// Revokes every unrevoked API key of a user inside the transaction `$tx` (a sensitive change or the user's
/// deletion).
macro_rules! revoke_user_keys {
    ($tx:expr, $tenant:expr, $user:expr, $now:expr) => {{
        sqlx::query(
            "UPDATE api_keys SET revoked_at = $1 WHERE tenant = $2 AND user_name = $3 AND revoked_at IS NULL",
        )
        .bind($now)
        .bind($tenant.as_str())
        .bind($user.as_str())
        .execute(&mut *$tx)
        .await?;
    }};
}

pub(crate) use revoke_user_keys;

/// An API key as stored (never its hash).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiKeyRecord {
    pub key_id: String,
    pub user_name: String,
    pub key_prefix: String,
    /// Sealed when field encryption is on.
    pub label: Option<String>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

/// A key to store.
#[derive(Debug, Clone)]
pub struct NewApiKey<'a> {
    pub key_id: &'a str,
    pub user: &'a Name,
    pub hash: &'a str,
    pub prefix: &'a str,
    pub label: Option<&'a str>,
    pub now: i64,
    pub expires_at: Option<i64>,
}

/// A key brought over by `warden import-auth`, with its history (Unix milliseconds).
#[derive(Debug, Clone)]
pub struct ImportedApiKey {
    pub key_id: String,
    pub user: Name,
    /// The keyed hash of `auth`'s own SHA-256 digest of the key (see the service's key hashing).
    pub hash: String,
    pub prefix: String,
    /// Sealed when field encryption is on.
    pub label: Option<String>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

const KEY_COLUMNS: &str =
    "key_id, user_name, key_prefix, label, created_at, revoked_at, expires_at, last_used_at";

/// Unrevoked and unexpired at `$N`.
fn active(now: &str) -> String {
    format!("revoked_at IS NULL AND (expires_at IS NULL OR expires_at > {now})")
}

impl Store {
    /// Stores a key unless the user already holds `cap` active ones (`false` then). The audit outcome is
    /// `created`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_api_key(
        &self,
        tenant: &TenantId,
        key: &NewApiKey<'_>,
        cap: i64,
        audit: Option<AuditDraft>,
    ) -> Result<bool, StoreError> {
        let postgres = self.is_postgres();
        let lock_key = format!("api-keys|{}|{}", tenant.as_str(), key.user.as_str());
        let count = format!(
            "SELECT COUNT(*) FROM api_keys WHERE tenant = $1 AND user_name = $2 AND {}",
            active("$3")
        );
        with_writer!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            if postgres {
                sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                    .bind(&lock_key)
                    .execute(&mut *tx)
                    .await?;
            }
            let (held,): (i64,) = sqlx::query_as(&count)
                .bind(tenant.as_str())
                .bind(key.user.as_str())
                .bind(key.now)
                .fetch_one(&mut *tx)
                .await?;
            if held >= cap {
                return Ok(false);
            }
            sqlx::query(
                "INSERT INTO api_keys (key_id, tenant, user_name, key_hash, key_prefix, label, created_at, \
                   expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(key.key_id)
            .bind(tenant.as_str())
            .bind(key.user.as_str())
            .bind(key.hash)
            .bind(key.prefix)
            .bind(key.label)
            .bind(key.now)
            .bind(key.expires_at)
            .execute(&mut *tx)
            .await?;
            log_key_backing!(tx, tenant.as_str(), key.now, postgres);
            let audit = audit.map(|draft| draft.noting("key", key.key_id).with_outcome("created"));
            commit_audited!(tx, tenant.as_str(), audit, key.now);
            Ok(true)
        })
    }

    /// A user's keys, revoked and expired ones included, oldest first.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn user_api_keys(
        &self,
        tenant: &TenantId,
        user: &Name,
    ) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let sql = format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE tenant = $1 AND user_name = $2 ORDER BY created_at, key_id"
        );
        Ok(with_reader!(self, |pool| {
            sqlx::query_as(&sql)
                .bind(tenant.as_str())
                .bind(user.as_str())
                .fetch_all(pool)
                .await?
        }))
    }

    /// Revokes one of the user's keys. `None` when the user has no such key; `Some(false)` when it was revoked
    /// already (nothing changes, no entry), `Some(true)` when this call revoked it (audit outcome `changed`).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn revoke_api_key(
        &self,
        tenant: &TenantId,
        user: &Name,
        key_id: &str,
        now: i64,
        audit: Option<AuditDraft>,
    ) -> Result<Option<bool>, StoreError> {
        let postgres = self.is_postgres();
        with_writer!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let row: Option<(Option<i64>,)> = sqlx::query_as(
                "SELECT revoked_at FROM api_keys WHERE key_id = $1 AND tenant = $2 AND user_name = $3",
            )
            .bind(key_id)
            .bind(tenant.as_str())
            .bind(user.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            let Some((revoked_at,)) = row else {
                return Ok(None);
            };
            if revoked_at.is_some() {
                return Ok(Some(false));
            }
            let changed = sqlx::query(
                "UPDATE api_keys SET revoked_at = $1 WHERE key_id = $2 AND tenant = $3 AND revoked_at IS NULL",
            )
            .bind(now)
            .bind(key_id)
            .bind(tenant.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if !changed {
                return Ok(Some(false));
            }
            log_key_backing!(tx, tenant.as_str(), now, postgres);
            let audit = audit.map(|draft| draft.noting("key", key_id).with_outcome("changed"));
            commit_audited!(tx, tenant.as_str(), audit, now);
            Ok(Some(true))
        })
    }

    /// Moves an unrevoked key's expiry earlier: `shorten` gets the current expiry and answers the new one or why
    /// not. `None` when the user has no such key. The audit outcome is `changed`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn set_api_key_expiry<E>(
        &self,
        tenant: &TenantId,
        user: &Name,
        key_id: &str,
        now: i64,
        shorten: impl FnOnce(Option<i64>, Option<i64>) -> Result<i64, E>,
        audit: Option<AuditDraft>,
    ) -> Result<Option<Result<ApiKeyRecord, E>>, StoreError> {
        let select = format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE key_id = $1 AND tenant = $2 AND user_name = $3"
        );
        let postgres = self.is_postgres();
        with_writer!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let row: Option<ApiKeyRecord> = sqlx::query_as(&select)
                .bind(key_id)
                .bind(tenant.as_str())
                .bind(user.as_str())
                .fetch_optional(&mut *tx)
                .await?;
            let Some(mut record) = row else {
                return Ok(None);
            };
            let expires_at = match shorten(record.expires_at, record.revoked_at) {
                Ok(at) => at,
                Err(refusal) => return Ok(Some(Err(refusal))),
            };
            sqlx::query("UPDATE api_keys SET expires_at = $1 WHERE key_id = $2 AND tenant = $3")
                .bind(expires_at)
                .bind(key_id)
                .bind(tenant.as_str())
                .execute(&mut *tx)
                .await?;
            record.expires_at = Some(expires_at);
            log_key_backing!(tx, tenant.as_str(), now, postgres);
            let audit = audit.map(|draft| draft.noting("key", key_id).with_outcome("changed"));
            commit_audited!(tx, tenant.as_str(), audit, now);
            Ok(Some(Ok(record)))
        })
    }

    /// The key with either hash (a key made here, or one imported from `auth`) in the tenant, whatever its state, touching `last_used_at` when it is active (at
    /// most once per `touch_every` ms, so validation does not write at every call).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn find_api_key(
        &self,
        tenant: &TenantId,
        hashes: [&str; 2],
        now: i64,
        touch_every: i64,
    ) -> Result<Option<ApiKeyRecord>, StoreError> {
        let select = format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE key_hash IN ($1, $2) AND tenant = $3"
        );
        let record: Option<ApiKeyRecord> = with_reader!(self, |pool| {
            sqlx::query_as(&select)
                .bind(hashes[0])
                .bind(hashes[1])
                .bind(tenant.as_str())
                .fetch_optional(pool)
                .await?
        });
        let Some(mut record) = record else {
            return Ok(None);
        };
        let is_active = record.revoked_at.is_none() && record.expires_at.is_none_or(|at| at > now);
        let stale = record.last_used_at.is_none_or(|at| now - at >= touch_every);
        if is_active && stale {
            with_writer!(self, |pool| {
                sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE key_id = $2")
                    .bind(now)
                    .bind(&record.key_id)
                    .execute(pool)
                    .await?;
            });
            record.last_used_at = Some(now);
        }
        Ok(Some(record))
    }
}
