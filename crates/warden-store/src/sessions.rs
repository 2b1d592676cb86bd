//! Sessions with permission sets, per tenant, found by the keyed hash of their id.
//!
//! A session is live while it has not expired and was created no earlier than its user's last sensitive change;
//! every read and update below asks for both in its `WHERE`, so a dead session is indistinguishable from an unknown
//! one.
//!
//! Each write takes its audit entry and writes it in its transaction when that commits (see `store::users`). A
//! write that finds no live session rolls back and leaves no entry. The caller knows a session only by its id, a
//! secret, so the store names it in the entry by its public `session_ref`.

use super::audit::{changed_or_not, commit_audited, AuditDraft};
use super::users::{lock_user_gate, UserGate};
use super::BeginWrite;
use super::{with_reader, with_writer, Store, StoreError};
use warden_core::domain::{Name, TenantId};

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
    /// The caller chose the id: a dead session that had it gives it up, and a live one makes the insert fail
    /// with [`StoreError::Conflict`].
    pub chosen_id: bool,
}

/// What a session update sets; `None` keeps the stored value.
#[derive(Debug, Clone, Copy, Default)]
pub struct SessionUpdate<'a> {
    pub expires_at: Option<i64>,
    /// JSON array of strings.
    pub permissions: Option<&'a str>,
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
    /// Stores a session for an allowed, enabled user. The audit outcome is `created`. A chosen id that a live
    /// session of the tenant holds is [`StoreError::Conflict`] (the unique key refuses it, also between
    /// concurrent requests); one held by a dead session is taken over.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_session(
        &self,
        tenant: &TenantId,
        session: &NewSession<'_>,
        audit: Option<AuditDraft>,
    ) -> Result<UserGate, StoreError> {
        with_writer!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            if !session.gate_checked_elsewhere {
                let gate = lock_user_gate!(tx, tenant, session.user);
                if gate != UserGate::Open {
                    return Ok(gate);
                }
            }
            if session.chosen_id {
                let sql = format!(
                    "DELETE FROM sessions AS s WHERE s.tenant = $1 AND s.id_hash = $2 AND NOT ({})",
                    live("$3")
                );
                sqlx::query(&sql)
                    .bind(tenant.as_str())
                    .bind(session.id_hash)
                    .bind(session.now)
                    .execute(&mut *tx)
                    .await?;
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
            let audit = audit.map(|draft| draft.with_outcome("created"));
            commit_audited!(tx, tenant.as_str(), audit, session.now);
            Ok(UserGate::Open)
        })
    }

    /// The live session with this id hash.
    #[tracing::instrument(level = "debug", skip_all)]
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
    /// the change, or `None` when no live session has this id. The audit outcome is `changed`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn update_session(
        &self,
        tenant: &TenantId,
        id_hash: &str,
        now: i64,
        update: SessionUpdate<'_>,
        audit: Option<AuditDraft>,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let sql = format!(
            "UPDATE sessions AS s SET expires_at = COALESCE($1, s.expires_at), \
               permissions = COALESCE($2, s.permissions) \
             WHERE s.tenant = $3 AND s.id_hash = $4 AND {live} RETURNING {RETURNED_COLUMNS}",
            live = live("$5")
        );
        with_writer!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let record: Option<SessionRecord> = sqlx::query_as(&sql)
                .bind(update.expires_at)
                .bind(update.permissions)
                .bind(tenant.as_str())
                .bind(id_hash)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(record) = record else {
                return Ok(None);
            };
            let audit = audit.map(|draft| {
                draft
                    .noting("session", &record.session_ref)
                    .with_outcome("changed")
            });
            commit_audited!(tx, tenant.as_str(), audit, now);
            Ok(Some(record))
        })
    }

    /// Deletes a live session; `false` when no live session has this id. The audit outcome is `changed`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn delete_session(
        &self,
        tenant: &TenantId,
        id_hash: &str,
        now: i64,
        audit: Option<AuditDraft>,
    ) -> Result<bool, StoreError> {
        let sql = format!(
            "DELETE FROM sessions AS s WHERE s.tenant = $1 AND s.id_hash = $2 AND {} RETURNING session_ref",
            live("$3")
        );
        with_writer!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let deleted: Option<(String,)> = sqlx::query_as(&sql)
                .bind(tenant.as_str())
                .bind(id_hash)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
            let Some((session_ref,)) = deleted else {
                return Ok(false);
            };
            let audit =
                audit.map(|draft| draft.noting("session", session_ref).with_outcome("changed"));
            commit_audited!(tx, tenant.as_str(), audit, now);
            Ok(true)
        })
    }

    /// Deletes a user's live session by its public `session_ref` (as listings show it); `false` when the user has
    /// no live session with that ref. The audit outcome is `changed`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn delete_session_by_ref(
        &self,
        tenant: &TenantId,
        user: &Name,
        session_ref: &str,
        now: i64,
        audit: Option<AuditDraft>,
    ) -> Result<bool, StoreError> {
        let sql = format!(
            "DELETE FROM sessions AS s WHERE s.tenant = $1 AND s.user_name = $2 AND s.session_ref = $3 AND {} \
             RETURNING session_ref",
            live("$4")
        );
        with_writer!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let deleted: Option<(String,)> = sqlx::query_as(&sql)
                .bind(tenant.as_str())
                .bind(user.as_str())
                .bind(session_ref)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
            let Some((session_ref,)) = deleted else {
                return Ok(false);
            };
            let audit =
                audit.map(|draft| draft.noting("session", session_ref).with_outcome("changed"));
            commit_audited!(tx, tenant.as_str(), audit, now);
            Ok(true)
        })
    }

    /// A user's live sessions, oldest first.
    #[tracing::instrument(level = "debug", skip_all)]
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

    /// Deletes every session of a user, live or not, in one statement; returns how many. The audit entry notes
    /// the count (`removed=N`).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn delete_user_sessions(
        &self,
        tenant: &TenantId,
        user: &Name,
        now: i64,
        audit: Option<AuditDraft>,
    ) -> Result<u64, StoreError> {
        with_writer!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let removed = sqlx::query("DELETE FROM sessions WHERE tenant = $1 AND user_name = $2")
                .bind(tenant.as_str())
                .bind(user.as_str())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let audit = audit.map(|draft| {
                draft
                    .noting("removed", removed)
                    .with_outcome(changed_or_not(removed))
            });
            commit_audited!(tx, tenant.as_str(), audit, now);
            Ok(removed)
        })
    }

    /// Deletes this tenant's dead sessions (expired, or older than their user's sensitive change), exactly those
    /// every read treats as dead; returns how many. The audit entry notes the count (`removed=N`).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn cleanup_sessions(
        &self,
        tenant: &TenantId,
        now: i64,
        audit: Option<AuditDraft>,
    ) -> Result<u64, StoreError> {
        with_writer!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            // Exactly the sessions reads treat as dead: the same predicate, negated. (A session whose user has
            // no `users` row, as every session is with Vault as the directory, is live until it expires.)
            let sql = format!(
                "DELETE FROM sessions AS s WHERE s.tenant = $1 AND NOT ({live})",
                live = live("$2")
            );
            let removed = sqlx::query(&sql)
                .bind(tenant.as_str())
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let audit = audit.map(|draft| {
                draft
                    .noting("removed", removed)
                    .with_outcome(changed_or_not(removed))
            });
            commit_audited!(tx, tenant.as_str(), audit, now);
            Ok(removed)
        })
    }
}
