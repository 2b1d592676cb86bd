//! Refresh-token families and their rotation. Tokens are stored only as keyed hashes.
//!
//! Each write takes its audit entry and writes it in its transaction when that commits (see `store::users`); a
//! rotation that loses its race, or a revocation of a family already revoked, rolls back and leaves none.

use super::audit::{audit_in_tx, AuditDraft};
use super::{with_reader, with_writer, Store, StoreError};
use crate::domain::TenantId;

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
}

/// What became of an attempt to rotate a refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The old token was marked used and the new one stored, in one transaction.
    Rotated,
    /// The old token had already been used (or its family revoked): nothing was stored.
    AlreadyUsed,
}

impl Store {
    /// Starts a family with its first refresh token, in one transaction. The audit outcome is `created`.
    pub async fn create_token_family(
        &self,
        tenant: &TenantId,
        token: &NewRefreshToken<'_>,
        audit: Option<AuditDraft>,
    ) -> Result<(), StoreError> {
        with_writer!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO token_families (tenant, family, user_name, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(tenant.as_str())
            .bind(token.family)
            .bind(token.user)
            .bind(token.issued_at)
            .execute(&mut *tx)
            .await?;
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
            audit_in_tx!(tx, tenant.as_str(), audit, token.issued_at);
            tx.commit().await?;
        });
        Ok(())
    }

    /// Finds a refresh token of `tenant` by its hash, with its family's revocation.
    pub async fn find_refresh_token(
        &self,
        tenant: &TenantId,
        hash: &str,
    ) -> Result<Option<RefreshTokenRow>, StoreError> {
        // Read from the writer: a rotation just acknowledged must be visible to the next refresh.
        let row = with_writer!(self, |pool| {
            sqlx::query_as::<_, RefreshTokenRow>(
                "SELECT r.family, r.user_name, r.expires_at, r.used_at, f.revoked_at AS family_revoked_at \
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

    /// Marks `old_hash` used and stores its successor, atomically: of two concurrent rotations of one token the
    /// conditional UPDATE lets exactly one through. The audit outcome is `allowed`.
    pub async fn rotate_refresh_token(
        &self,
        tenant: &TenantId,
        old_hash: &str,
        next: &NewRefreshToken<'_>,
        audit: Option<AuditDraft>,
    ) -> Result<Rotation, StoreError> {
        let rotation = with_writer!(self, |pool| {
            let mut tx = pool.begin().await?;
            let marked = sqlx::query(
                "UPDATE refresh_tokens SET used_at = $1 WHERE token_hash = $2 AND tenant = $3 AND used_at IS NULL \
                 AND EXISTS (SELECT 1 FROM token_families f WHERE f.tenant = $3 AND f.family = refresh_tokens.family \
                 AND f.revoked_at IS NULL)",
            )
            .bind(next.issued_at)
            .bind(old_hash)
            .bind(tenant.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if marked == 1 {
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
                audit_in_tx!(tx, tenant.as_str(), audit, next.issued_at);
                tx.commit().await?;
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
    pub async fn revoke_token_family(
        &self,
        tenant: &TenantId,
        family: &str,
        at: i64,
        audit: Option<AuditDraft>,
    ) -> Result<bool, StoreError> {
        with_writer!(self, |pool| {
            let mut tx = pool.begin().await?;
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
            audit_in_tx!(tx, tenant.as_str(), audit, at);
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Whether a family is revoked (an unknown family counts as revoked: no token may name one).
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
