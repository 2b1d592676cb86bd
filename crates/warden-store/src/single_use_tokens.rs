//! Single-use tokens: only their keyed hashes are stored; using one is one conditional `UPDATE`, so exactly one of
//! any number of concurrent uses succeeds.
//!
//! Every request's writes happen in one transaction inside one method, together with its audit entry when one is
//! given: the entry is written exactly when the transaction commits, with the outcome found inside it. A write
//! that finds nothing to do and rolls back leaves no entry; the callers record refused credentials as decisions
//! instead. Where a write depends on a user's current state, the transaction first "touches" the user row with an
//! `UPDATE` (`SET status = status`): on PostgreSQL that takes the row lock, so concurrent requests about one user
//! run one after the other; on SQLite the single writer connection already serialises them.

use super::audit::{changed_or_not, commit_audited, AuditDraft};
use super::users::{lock_user_gate, UserGate};
use super::BeginWrite;
use super::{with_reader, with_writer, Store, StoreError};
use warden_core::crypto::FieldCodec;
use warden_core::domain::{Name, TenantId, UserStatus};

/// A single-use token to store: only its keyed hash, and when it was issued and expires.
#[derive(Debug, Clone)]
pub struct IssuedToken<'a> {
    pub hash: &'a str,
    pub now: i64,
    pub expires_at: i64,
    /// The user's status was checked by the caller (user configuration from Vault): no `users` row is needed.
    pub gate_checked_elsewhere: bool,
}

/// Where a user's tokens are void before: their row's sensitive-change time, or never for a user without a row.
const TOKEN_NOT_VOIDED: &str =
    "created_at >= COALESCE((SELECT u.sensitive_changed_at FROM users u \
     WHERE u.tenant = user_tokens.tenant AND u.user_name = user_tokens.user_name), 0)";

impl Store {
    /// Stores a token hash for an allowed, enabled user, revoking their earlier unused tokens, in one transaction.
    /// With `gate_checked_elsewhere` (user configuration from Vault) the caller has found the user allowed and no
    /// `users` row is consulted. The audit outcome is `created`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn issue_token(
        &self,
        tenant: &TenantId,
        user: &Name,
        token: &IssuedToken<'_>,
        audit: Option<AuditDraft>,
    ) -> Result<UserGate, StoreError> {
        let (now, hash) = (token.now, token.hash);
        with_writer!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            if !token.gate_checked_elsewhere {
                let gate = lock_user_gate!(tx, tenant, user);
                if gate != UserGate::Open {
                    return Ok(gate);
                }
            }
            sqlx::query(
                "UPDATE user_tokens SET revoked_at = $1 \
                 WHERE tenant = $2 AND user_name = $3 AND used_at IS NULL AND revoked_at IS NULL",
            )
            .bind(now)
            .bind(tenant.as_str())
            .bind(user.as_str())
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO user_tokens (hash, tenant, user_name, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(hash)
            .bind(tenant.as_str())
            .bind(user.as_str())
            .bind(now)
            .bind(token.expires_at)
            .execute(&mut *tx)
            .await?;
            let audit = audit.map(|draft| draft.with_outcome("created"));
            commit_audited!(tx, tenant.as_str(), audit, now);
            Ok(UserGate::Open)
        })
    }

    /// Uses a token: one conditional `UPDATE`, so of any number of concurrent attempts exactly one matches. A token
    /// matches only if it is unused, unrevoked, unexpired, of this tenant, and issued no earlier than its user's
    /// last sensitive change. Returns the user's name, status and role names. The audit entry (outcome `allowed`)
    /// is written only when the token matched.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn consume_token(
        &self,
        tenant: &TenantId,
        hash: &str,
        now: i64,
        codec: &FieldCodec,
        audit: Option<AuditDraft>,
    ) -> Result<Option<(String, UserStatus, Vec<String>)>, StoreError> {
        with_writer!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let row: Option<(String,)> = sqlx::query_as(
                "UPDATE user_tokens SET used_at = $1 \
                 WHERE hash = $2 AND tenant = $3 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $1 \
                   AND created_at >= (SELECT u.sensitive_changed_at FROM users u \
                                      WHERE u.tenant = user_tokens.tenant AND u.user_name = user_tokens.user_name) \
                 RETURNING user_name",
            )
            .bind(now)
            .bind(hash)
            .bind(tenant.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            let Some((user_name,)) = row else {
                return Ok(None);
            };
            let (status,): (String,) =
                sqlx::query_as("SELECT status FROM users WHERE tenant = $1 AND user_name = $2")
                    .bind(tenant.as_str())
                    .bind(&user_name)
                    .fetch_one(&mut *tx)
                    .await?;
            let roles: Vec<(String,)> =
                sqlx::query_as("SELECT role FROM memberships WHERE tenant = $1 AND user_name = $2")
                    .bind(tenant.as_str())
                    .bind(codec.seal(&user_name).as_ref())
                    .fetch_all(&mut *tx)
                    .await?;
            let audit = audit.map(|draft| draft.with_outcome("allowed"));
            commit_audited!(tx, tenant.as_str(), audit, now);
            Ok(Some((
                user_name,
                UserStatus::from_stored(&status),
                roles.into_iter().map(|(r,)| r).collect(),
            )))
        })
    }

    /// Revokes every unused token of a user; returns how many. The audit entry notes the count (`revoked=N`).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn revoke_tokens(
        &self,
        tenant: &TenantId,
        user: &Name,
        now: i64,
        audit: Option<AuditDraft>,
    ) -> Result<u64, StoreError> {
        with_writer!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let revoked = sqlx::query(
                "UPDATE user_tokens SET revoked_at = $1 \
                 WHERE tenant = $2 AND user_name = $3 AND used_at IS NULL AND revoked_at IS NULL",
            )
            .bind(now)
            .bind(tenant.as_str())
            .bind(user.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            let audit = audit.map(|draft| {
                draft
                    .noting("revoked", revoked)
                    .with_outcome(changed_or_not(revoked))
            });
            commit_audited!(tx, tenant.as_str(), audit, now);
            Ok(revoked)
        })
    }
}

/// Users whose configuration lives outside the database (`AUTH_USER_CONFIG_SOURCE=vault`): their status, roles
/// and quotas come from the caller, while their request history, limits and tokens stay here. No `users` row is
/// needed; the limit in force is the latest one recorded in the history.
impl Store {
    /// The owner of a usable token (unused, unrevoked, unexpired, of this tenant, not voided), without using it.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn external_token_owner(
        &self,
        tenant: &TenantId,
        hash: &str,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        let sql = format!(
            "SELECT user_name FROM user_tokens WHERE hash = $1 AND tenant = $2 AND used_at IS NULL \
               AND revoked_at IS NULL AND expires_at > $3 AND {TOKEN_NOT_VOIDED}"
        );
        let row: Option<(String,)> = with_reader!(self, |pool| {
            sqlx::query_as(&sql)
                .bind(hash)
                .bind(tenant.as_str())
                .bind(now)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(|(user,)| user))
    }

    /// Uses a token of an external user: one conditional `UPDATE`, as [`Store::consume_token`]; returns its owner.
    /// The audit entry, whose outcome the caller sets (the directory decided it), is written only when the token
    /// matched.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn consume_external_token(
        &self,
        tenant: &TenantId,
        hash: &str,
        now: i64,
        audit: Option<AuditDraft>,
    ) -> Result<Option<String>, StoreError> {
        let sql = format!(
            "UPDATE user_tokens SET used_at = $1 WHERE hash = $2 AND tenant = $3 AND used_at IS NULL \
               AND revoked_at IS NULL AND expires_at > $1 AND {TOKEN_NOT_VOIDED} RETURNING user_name"
        );
        with_writer!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let row: Option<(String,)> = sqlx::query_as(&sql)
                .bind(now)
                .bind(hash)
                .bind(tenant.as_str())
                .fetch_optional(&mut *tx)
                .await?;
            let Some((owner,)) = row else {
                return Ok(None);
            };
            commit_audited!(tx, tenant.as_str(), audit, now);
            Ok(Some(owner))
        })
    }
}
