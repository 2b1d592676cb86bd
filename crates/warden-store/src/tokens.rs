//! Refresh-token families and their rotation. Tokens are stored only as keyed hashes.
//!
//! A family is revoked (with every access token that names it) by reuse of a rotated token, on demand, and — in
//! the transaction of the change — by whatever takes the user's right to tokens away: a sensitive change, `denied`,
//! `enabled: false`, deletion (`revoke_user_families!`, used by `store::users`) and the loss of the last role
//! (`revoke_if_roleless!`, used by `store::rbac`). A rotation keeps the pair it returned, sealed by the service,
//! beside the rotated token for the reuse grace only, so that a retried refresh gets the same pair on any instance.
//!
//! Each write takes its audit entry and writes it in its transaction when that commits (see `store::users`); a
//! rotation that loses its race, or a revocation of a family already revoked, rolls back and leaves none.

use super::audit::{changed_or_not, commit_audited, AuditDraft};
use super::BeginWrite;
use super::{with_reader, with_writer, Store, StoreError};
use warden_core::domain::TenantId;

/// A refresh token to store: its hash and what it stands for.
#[derive(Debug, Clone)]
pub struct NewRefreshToken<'a> {
    pub hash: &'a str,
    pub family: &'a str,
    pub user: &'a str,
    pub issued_at: i64,
    pub expires_at: i64,
}

/// A stored refresh token, as found by its hash.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RefreshTokenRow {
    pub family: String,
    pub user_name: String,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub family_revoked_at: Option<i64>,
    /// When the family started (its absolute lifetime runs from here).
    pub family_created_at: i64,
    /// The sealed pair this token was rotated into, while the reuse grace lasts.
    pub successor: Option<String>,
}

/// Revokes every live family of a user (named as `users` stores it) inside the transaction `$tx`; evaluates to the
/// number revoked. Indexed by `token_families_by_user`.
macro_rules! revoke_user_families {
    ($tx:expr, $tenant:expr, $user:expr, $now:expr) => {
        sqlx::query(
            "UPDATE token_families SET revoked_at = $1 WHERE tenant = $2 AND user_name = $3 AND revoked_at IS NULL",
        )
        .bind($now)
        .bind($tenant)
        .bind($user)
        .execute(&mut *$tx)
        .await?
        .rows_affected()
    };
}
pub(crate) use revoke_user_families;

/// Revokes the live families of a user (named as memberships store it: `$member`) who holds no role any more,
/// inside the RBAC transaction `$tx` that just removed a membership. Indexed by `token_families_by_member` and the
/// memberships' reverse index.
macro_rules! revoke_if_roleless {
    ($tx:expr, $tenant:expr, $member:expr, $now:expr) => {
        sqlx::query(
            "UPDATE token_families SET revoked_at = $1 WHERE tenant = $2 AND member = $3 AND revoked_at IS NULL \
             AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.tenant = $2 AND m.user_name = $3)",
        )
        .bind($now)
        .bind($tenant)
        .bind($member)
        .execute(&mut *$tx)
        .await?
    };
}
pub(crate) use revoke_if_roleless;

/// Before a role's memberships are deleted inside the RBAC transaction `$tx`: revokes the live families of its
/// members who hold no other role. One statement, bounded by the role's members.
macro_rules! revoke_members_left_roleless {
    ($tx:expr, $tenant:expr, $role:expr, $now:expr) => {
        sqlx::query(
            "UPDATE token_families SET revoked_at = $1 WHERE tenant = $2 AND revoked_at IS NULL \
             AND member IN (SELECT user_name FROM memberships WHERE tenant = $2 AND role = $3) \
             AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.tenant = $2 \
                             AND m.user_name = token_families.member AND m.role <> $3)",
        )
        .bind($now)
        .bind($tenant)
        .bind($role)
        .execute(&mut *$tx)
        .await?
    };
}
pub(crate) use revoke_members_left_roleless;

/// What became of an attempt to rotate a refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The old token was marked used and the new one stored, in one transaction.
    Rotated,
    /// The old token had already been used (or its family revoked): nothing was stored.
    AlreadyUsed,
}

impl Store {
    /// Starts a family with its first refresh token, in one transaction, if the user may have one: they hold a
    /// role (`member` is their name as memberships store it) and have no `users` row that is denied or disabled.
    /// `false` (nothing written) otherwise. The audit outcome is `created`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_token_family(
        &self,
        tenant: &TenantId,
        token: &NewRefreshToken<'_>,
        member: &str,
        audit: Option<AuditDraft>,
    ) -> Result<bool, StoreError> {
        with_writer!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let created = sqlx::query(
                "INSERT INTO token_families (tenant, family, user_name, member, created_at) \
                 SELECT $1, $2, $3, $4, $5 \
                 WHERE EXISTS (SELECT 1 FROM memberships WHERE tenant = $1 AND user_name = $4) \
                 AND NOT EXISTS (SELECT 1 FROM users WHERE tenant = $1 AND user_name = $3 \
                                 AND (status <> 'allowed' OR enabled = FALSE))",
            )
            .bind(tenant.as_str())
            .bind(token.family)
            .bind(token.user)
            .bind(member)
            .bind(token.issued_at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if created == 0 {
                tx.rollback().await?;
                return Ok(false);
            }
            sqlx::query(INSERT_REFRESH)
                .bind(token.hash)
                .bind(tenant.as_str())
                .bind(token.family)
                .bind(token.user)
                .bind(token.issued_at)
                .bind(token.expires_at)
                .execute(&mut *tx)
                .await?;
            let audit = audit.map(|draft| draft.with_outcome("created"));
            commit_audited!(tx, tenant.as_str(), audit, token.issued_at);
            Ok(true)
        })
    }

    /// Finds a refresh token of `tenant` by its hash, with its family's revocation.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn find_refresh_token(
        &self,
        tenant: &TenantId,
        hash: &str,
    ) -> Result<Option<RefreshTokenRow>, StoreError> {
        // Read from the writer: a rotation just acknowledged must be visible to the next refresh.
        let row = with_writer!(self, |pool| {
            sqlx::query_as::<_, RefreshTokenRow>(
                "SELECT r.family, r.user_name, r.expires_at, r.used_at, f.revoked_at AS family_revoked_at, \
                 f.created_at AS family_created_at, r.successor \
                 FROM refresh_tokens r JOIN token_families f ON f.tenant = r.tenant AND f.family = r.family \
                 WHERE r.token_hash = $1 AND r.tenant = $2",
            )
            .bind(hash)
            .bind(tenant.as_str())
            .fetch_optional(pool)
            .await?
        });
        Ok(row)
    }

    /// Marks `old_hash` used, keeps `sealed_pair` (the pair returned for it) beside it for the reuse grace, and
    /// stores its successor, atomically: of two concurrent rotations of one token the conditional UPDATE lets
    /// exactly one through. Successors sealed in this family before `grace_cutoff` are cleared on the way. The
    /// audit outcome is `allowed`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn rotate_refresh_token(
        &self,
        tenant: &TenantId,
        old_hash: &str,
        next: &NewRefreshToken<'_>,
        sealed_pair: Option<&str>,
        grace_cutoff: i64,
        audit: Option<AuditDraft>,
    ) -> Result<Rotation, StoreError> {
        let rotation = with_writer!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let marked = sqlx::query(
                "UPDATE refresh_tokens SET used_at = $1, successor = $4 \
                 WHERE token_hash = $2 AND tenant = $3 AND used_at IS NULL \
                 AND EXISTS (SELECT 1 FROM token_families f WHERE f.tenant = $3 AND f.family = refresh_tokens.family \
                 AND f.revoked_at IS NULL)",
            )
            .bind(next.issued_at)
            .bind(old_hash)
            .bind(tenant.as_str())
            .bind(sealed_pair)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if marked == 1 {
                sqlx::query(
                    "UPDATE refresh_tokens SET successor = NULL WHERE tenant = $1 AND family = $2 \
                     AND successor IS NOT NULL AND used_at < $3",
                )
                .bind(tenant.as_str())
                .bind(next.family)
                .bind(grace_cutoff)
                .execute(&mut *tx)
                .await?;
                sqlx::query(INSERT_REFRESH)
                    .bind(next.hash)
                    .bind(tenant.as_str())
                    .bind(next.family)
                    .bind(next.user)
                    .bind(next.issued_at)
                    .bind(next.expires_at)
                    .execute(&mut *tx)
                    .await?;
                let audit = audit.map(|draft| draft.with_outcome("allowed"));
                commit_audited!(tx, tenant.as_str(), audit, next.issued_at);
                Rotation::Rotated
            } else {
                tx.rollback().await?;
                Rotation::AlreadyUsed
            }
        });
        Ok(rotation)
    }

    /// Revokes a family (and so every token issued from it); `false` if it was already revoked. The audit outcome
    /// is `changed`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn revoke_token_family(
        &self,
        tenant: &TenantId,
        family: &str,
        at: i64,
        audit: Option<AuditDraft>,
    ) -> Result<bool, StoreError> {
        with_writer!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let affected = sqlx::query(
                "UPDATE token_families SET revoked_at = $1 WHERE tenant = $2 AND family = $3 AND revoked_at IS NULL",
            )
            .bind(at)
            .bind(tenant.as_str())
            .bind(family)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if affected == 0 {
                return Ok(false);
            }
            let audit = audit.map(|draft| draft.with_outcome("changed"));
            commit_audited!(tx, tenant.as_str(), audit, at);
            Ok(true)
        })
    }

    /// Revokes every live family of `user` (`DELETE /api/users/{user}/jwt`); returns how many. The audit outcome is
    /// `changed`, or `unchanged` when there was none.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn revoke_user_token_families(
        &self,
        tenant: &TenantId,
        user: &str,
        at: i64,
        audit: Option<AuditDraft>,
    ) -> Result<u64, StoreError> {
        with_writer!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let revoked = revoke_user_families!(tx, tenant.as_str(), user, at);
            let audit = audit.map(|draft| draft.with_outcome(changed_or_not(revoked)));
            commit_audited!(tx, tenant.as_str(), audit, at);
            Ok(revoked)
        })
    }

    /// Background maintenance over every tenant: forgets the sealed successor pairs of rotations made before
    /// `grace_cutoff` (their reuse grace is over). Returns how many.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn clear_refresh_successors(&self, grace_cutoff: i64) -> Result<u64, StoreError> {
        Ok(with_writer!(self, |pool| {
            sqlx::query(
                "UPDATE refresh_tokens SET successor = NULL WHERE successor IS NOT NULL AND used_at < $1",
            )
            .bind(grace_cutoff)
            .execute(pool)
            .await?
            .rows_affected()
        }))
    }

    /// Whether a family is revoked (an unknown family counts as revoked: no token may name one).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn token_family_revoked(
        &self,
        tenant: &TenantId,
        family: &str,
    ) -> Result<bool, StoreError> {
        let row: Option<(Option<i64>,)> = with_reader!(self, |pool| {
            sqlx::query_as(
                "SELECT revoked_at FROM token_families WHERE tenant = $1 AND family = $2",
            )
            .bind(tenant.as_str())
            .bind(family)
            .fetch_optional(pool)
            .await?
        });
        Ok(!matches!(row, Some((None,))))
    }
}

const INSERT_REFRESH: &str =
    "INSERT INTO refresh_tokens (token_hash, tenant, family, user_name, issued_at, expires_at) \
     VALUES ($1, $2, $3, $4, $5, $6)";
