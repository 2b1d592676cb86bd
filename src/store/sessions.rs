//! Sessions with permission sets, per tenant, found by the keyed hash of their id.
//!
//! A session is live while it has not expired and was created no earlier than its user's last sensitive change;
//! every read and update below asks for both in its `WHERE`, so a dead session is indistinguishable from an unknown
//! one.

use super::users::{lock_user_gate, UserGate};
use super::{with_reader, with_writer, Store, StoreError};
use crate::domain::{Name, TenantId};

/// A session as stored (its id is never stored, only its hash).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRecord {
    pub session_ref: String,
    pub user_name: String,
    /// JSON array of strings.
    pub permissions: String,
    /// JSON object, or `NULL`.
    pub metadata: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
}

/// A new session to store.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    pub id_hash: &'a str,
    pub session_ref: &'a str,
    pub user: &'a Name,
    pub permissions: &'a str,
    pub metadata: Option<&'a str>,
    pub now: i64,
    pub expires_at: i64,
    /// The user's status was checked by the caller (user configuration from Vault): no `users` row is needed.
    pub gate_checked_elsewhere: bool,
}

const SESSION_COLUMNS: &str =
    "s.session_ref, s.user_name, s.permissions, s.metadata, s.created_at, s.expires_at";

/// The same, unqualified: SQLite's `RETURNING` cannot name the table's alias.
const RETURNED_COLUMNS: &str =
    "session_ref, user_name, permissions, metadata, created_at, expires_at";

/// The liveness condition on a session aliased `s`, given the placeholder holding the current time. (SQLite numbers
/// `$N` placeholders by first appearance, so each query must name them in ascending order.)
fn live(now: &str) -> String {
    format!(
        "s.expires_at > {now} AND s.created_at >= COALESCE((SELECT u.sensitive_changed_at FROM users u \
         WHERE u.tenant = s.tenant AND u.user_name = s.user_name), 0)"
    )
}

impl Store {
    /// Stores a session for an allowed, enabled user.
    pub async fn create_session(
        &self,
        tenant: &TenantId,
        session: &NewSession<'_>,
    ) -> Result<UserGate, StoreError> {
        with_writer!(self, |pool| {
            let mut tx = pool.begin().await?;
            if !session.gate_checked_elsewhere {
                let gate = lock_user_gate!(tx, tenant, session.user);
                if gate != UserGate::Open {
                    return Ok(gate);
                }
            }
            sqlx::query(
                "INSERT INTO sessions (id_hash, tenant, session_ref, user_name, permissions, metadata, created_at, \
                   expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(session.id_hash)
            .bind(tenant.as_str())
            .bind(session.session_ref)
            .bind(session.user.as_str())
            .bind(session.permissions)
            .bind(session.metadata)
            .bind(session.now)
            .bind(session.expires_at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(UserGate::Open)
        })
    }

    /// The live session with this id hash.
    pub async fn live_session(
        &self,
        tenant: &TenantId,
        id_hash: &str,
        now: i64,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions s WHERE s.tenant = $1 AND s.id_hash = $2 AND {live}",
            live = live("$3")
        );
        Ok(with_reader!(self, |pool| {
            sqlx::query_as(&sql)
                .bind(tenant.as_str())
                .bind(id_hash)
                .bind(now)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// Sets a live session's expiry and/or permissions (`None` keeps the stored value); returns the session after
    /// the change, or `None` when no live session has this id.
    pub async fn update_session(
        &self,
        tenant: &TenantId,
        id_hash: &str,
        now: i64,
        expires_at: Option<i64>,
        permissions: Option<&str>,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let sql = format!(
            "UPDATE sessions AS s SET expires_at = COALESCE($1, s.expires_at), \
               permissions = COALESCE($2, s.permissions) \
             WHERE s.tenant = $3 AND s.id_hash = $4 AND {live} RETURNING {RETURNED_COLUMNS}",
            live = live("$5")
        );
        Ok(with_writer!(self, |pool| {
            sqlx::query_as(&sql)
                .bind(expires_at)
                .bind(permissions)
                .bind(tenant.as_str())
                .bind(id_hash)
                .bind(now)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// Deletes a live session; `false` when no live session has this id.
    pub async fn delete_session(
        &self,
        tenant: &TenantId,
        id_hash: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let sql = format!(
            "DELETE FROM sessions AS s WHERE s.tenant = $1 AND s.id_hash = $2 AND {}",
            live("$3")
        );
        Ok(with_writer!(self, |pool| {
            sqlx::query(&sql)
                .bind(tenant.as_str())
                .bind(id_hash)
                .bind(now)
                .execute(pool)
                .await?
                .rows_affected()
                > 0
        }))
    }

    /// A user's live sessions, oldest first.
    pub async fn user_sessions(
        &self,
        tenant: &TenantId,
        user: &Name,
        now: i64,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions s WHERE s.tenant = $1 AND s.user_name = $2 AND {live} \
             ORDER BY s.created_at, s.session_ref",
            live = live("$3")
        );
        Ok(with_reader!(self, |pool| {
            sqlx::query_as(&sql)
                .bind(tenant.as_str())
                .bind(user.as_str())
                .bind(now)
                .fetch_all(pool)
                .await?
        }))
    }

    /// Deletes every session of a user, live or not, in one statement; returns how many.
    pub async fn delete_user_sessions(
        &self,
        tenant: &TenantId,
        user: &Name,
    ) -> Result<u64, StoreError> {
        Ok(with_writer!(self, |pool| {
            sqlx::query("DELETE FROM sessions WHERE tenant = $1 AND user_name = $2")
                .bind(tenant.as_str())
                .bind(user.as_str())
                .execute(pool)
                .await?
                .rows_affected()
        }))
    }

    /// Deletes this tenant's dead sessions (expired, or older than their user's sensitive change, or of a user
    /// that no longer exists); returns how many.
    pub async fn cleanup_sessions(&self, tenant: &TenantId, now: i64) -> Result<u64, StoreError> {
        Ok(with_writer!(self, |pool| {
            sqlx::query(
                "DELETE FROM sessions AS s WHERE s.tenant = $1 AND NOT (s.expires_at > $2 AND COALESCE( \
                   s.created_at >= (SELECT u.sensitive_changed_at FROM users u \
                                    WHERE u.tenant = s.tenant AND u.user_name = s.user_name), FALSE))",
            )
            .bind(tenant.as_str())
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
        }))
    }
}
