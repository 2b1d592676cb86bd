//! Users per tenant: their rows, deletion with everything issued to them, and sensitive changes.
//!
//! Every request's writes happen in one transaction inside one method, together with its audit entry when one is
//! given: the entry is written exactly when the transaction commits, with the outcome found inside it. A write
//! that finds nothing to do and rolls back leaves no entry; the callers record refused credentials as decisions
//! instead. Where a write depends on a user's current state, the transaction first "touches" the user row with an
//! `UPDATE` (`SET status = status`): on PostgreSQL that takes the row lock, so concurrent requests about one user
//! run one after the other; on SQLite the single writer connection already serialises them.

use super::audit::{changed_or_not, commit_audited, AuditDraft};
use super::change_log::{log_changes, log_key_backing, LoggedChange};
use super::BeginWrite;
use super::{with_reader, with_writer, Store, StoreError};
use warden_core::crypto::FieldCodec;
use warden_core::domain::{Name, TenantId, UserStatus};

const USER_COLUMNS: &str = "user_name, uuid, status, enabled, profile, requests_per_hour, requests_per_day, \
     random_shift_minutes, created_at, updated_at, last_seen_at, activated_at, sensitive_changed_at, \
     rate_limited_until, password_hash IS NOT NULL AS has_password, last_login_at, last_login_ip";

/// A user as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRecord {
    pub user_name: String,
    pub uuid: String,
    #[sqlx(try_from = "String")]
    pub status: UserStatus,
    pub enabled: bool,
    pub profile: String,
    pub requests_per_hour: Option<i64>,
    pub requests_per_day: Option<i64>,
    pub random_shift_minutes: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_seen_at: Option<i64>,
    pub activated_at: Option<i64>,
    pub sensitive_changed_at: i64,
    pub rate_limited_until: Option<i64>,
    /// Whether a password is set (the hash itself is read only by [`Store::login_facts`]).
    pub has_password: bool,
    pub last_login_at: Option<i64>,
    pub last_login_ip: Option<String>,
}

/// What a password login needs to know about a user.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LoginFacts {
    /// The Argon2id PHC string, if a password is set.
    pub password_hash: Option<String>,
    #[sqlx(try_from = "String")]
    pub status: UserStatus,
    pub enabled: bool,
    pub activated_at: Option<i64>,
}

/// The fields a `PUT` sets.
#[derive(Debug, Clone)]
pub struct UserWrite {
    pub status: UserStatus,
    pub enabled: bool,
    pub profile: String,
    pub requests_per_hour: Option<i64>,
    pub requests_per_day: Option<i64>,
    pub random_shift_minutes: i64,
}

/// Why a token could not be issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserGate {
    Open,
    UserMissing,
    /// The user is denied or disabled.
    Closed,
}

/// Locks the user row for the rest of the transaction (PostgreSQL) and reads whether it may get credentials.
macro_rules! lock_user_gate {
    ($tx:expr, $tenant:expr, $user:expr) => {{
        let row: Option<(String, bool)> = sqlx::query_as(
            "UPDATE users SET status = status WHERE tenant = $1 AND user_name = $2 RETURNING status, enabled",
        )
        .bind($tenant.as_str())
        .bind($user.as_str())
        .fetch_optional(&mut *$tx)
        .await?;
        match row {
            None => UserGate::UserMissing,
            Some((status, enabled))
                if warden_core::domain::UserStatus::from_stored(&status)
                    == warden_core::domain::UserStatus::Allowed
                    && enabled =>
            {
                UserGate::Open
            }
            Some(_) => UserGate::Closed,
        }
    }};
}

pub(crate) use lock_user_gate;

/// Voids everything issued to a user so far: revokes their unused tokens, API keys and JWT families and deletes
/// their sessions.
macro_rules! void_credentials {
    ($tx:expr, $tenant:expr, $user:expr, $now:expr) => {{
        super::api_keys::revoke_user_keys!($tx, $tenant, $user, $now);
        sqlx::query(
            "UPDATE user_tokens SET revoked_at = $1 \
             WHERE tenant = $2 AND user_name = $3 AND used_at IS NULL AND revoked_at IS NULL",
        )
        .bind($now)
        .bind($tenant.as_str())
        .bind($user.as_str())
        .execute(&mut *$tx)
        .await?;
        sqlx::query("DELETE FROM sessions WHERE tenant = $1 AND user_name = $2")
            .bind($tenant.as_str())
            .bind($user.as_str())
            .execute(&mut *$tx)
            .await?;
        // Every JWT refresh family, and with it every access token issued so far.
        super::tokens::revoke_user_families!($tx, $tenant.as_str(), $user.as_str(), $now);
    }};
}

/// Inserts the user unless the tenant has them, inside the transaction `$tx`; `true` when this inserted the row.
macro_rules! insert_user {
    ($tx:expr, $tenant:expr, $user:expr, $write:expr, $uuid:expr, $now:expr) => {
        sqlx::query(
            "INSERT INTO users (tenant, user_name, uuid, status, enabled, profile, requests_per_hour, \
               requests_per_day, random_shift_minutes, created_at, updated_at, sensitive_changed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $10) ON CONFLICT DO NOTHING",
        )
        .bind($tenant.as_str())
        .bind($user.as_str())
        .bind($uuid)
        .bind($write.status.as_str())
        .bind($write.enabled)
        .bind(&$write.profile)
        .bind($write.requests_per_hour)
        .bind($write.requests_per_day)
        .bind($write.random_shift_minutes)
        .bind($now)
        .execute(&mut *$tx)
        .await?
        .rows_affected()
            == 1
    };
}

impl Store {
    /// Creates the user with `write` unless the tenant already has them (nothing changes then); `true` when this
    /// call created them. The audit entry (outcome `created`) is written only with the row.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn register_user(
        &self,
        tenant: &TenantId,
        user: &Name,
        write: &UserWrite,
        new_uuid: &str,
        now: i64,
        audit: Option<AuditDraft>,
    ) -> Result<bool, StoreError> {
        with_writer!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let inserted = insert_user!(tx, tenant, user, write, new_uuid, now);
            if !inserted {
                return Ok(false);
            }
            let audit = audit.map(|draft| draft.with_outcome("created"));
            commit_audited!(tx, tenant.as_str(), audit, now);
            Ok(true)
        })
    }

    /// Creates or replaces a user; returns whether it was created, and the stored row. Changing the status or
    /// `enabled` moves the sensitive-change time to `now` and voids the user's tokens and sessions, in the same
    /// transaction. The audit outcome is `created`, `changed` or `credentials_voided`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn put_user(
        &self,
        tenant: &TenantId,
        user: &Name,
        write: &UserWrite,
        new_uuid: &str,
        now: i64,
        audit: Option<AuditDraft>,
    ) -> Result<(bool, UserRecord), StoreError> {
        let select =
            format!("SELECT {USER_COLUMNS} FROM users WHERE tenant = $1 AND user_name = $2");
        with_writer!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let inserted = insert_user!(tx, tenant, user, write, new_uuid, now);
            let mut outcome = "created";
            if !inserted {
                outcome = "changed";
                // The CASE compares with the row as it is now (locked by this UPDATE), so concurrent writers agree.
                let (changed_at,): (i64,) = sqlx::query_as(
                    "UPDATE users SET \
                       sensitive_changed_at = CASE WHEN status <> $1 OR enabled <> $2 THEN $3 \
                                              ELSE sensitive_changed_at END, \
                       status = $1, enabled = $2, profile = $4, requests_per_hour = $5, requests_per_day = $6, \
                       random_shift_minutes = $7, updated_at = $3 \
                     WHERE tenant = $8 AND user_name = $9 RETURNING sensitive_changed_at",
                )
                .bind(write.status.as_str())
                .bind(write.enabled)
                .bind(now)
                .bind(&write.profile)
                .bind(write.requests_per_hour)
                .bind(write.requests_per_day)
                .bind(write.random_shift_minutes)
                .bind(tenant.as_str())
                .bind(user.as_str())
                .fetch_one(&mut *tx)
                .await?;
                if changed_at == now {
                    void_credentials!(tx, tenant, user, now);
                    outcome = "credentials_voided";
                }
            }
            let record: UserRecord = sqlx::query_as(&select)
                .bind(tenant.as_str())
                .bind(user.as_str())
                .fetch_one(&mut *tx)
                .await?;
            if outcome == "credentials_voided" {
                log_key_backing!(tx, tenant.as_str(), now, self.is_postgres());
            }
            let audit = audit.map(|draft| draft.with_outcome(outcome));
            commit_audited!(tx, tenant.as_str(), audit, now);
            Ok((inserted, record))
        })
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn get_user(
        &self,
        tenant: &TenantId,
        user: &Name,
    ) -> Result<Option<UserRecord>, StoreError> {
        let select =
            format!("SELECT {USER_COLUMNS} FROM users WHERE tenant = $1 AND user_name = $2");
        Ok(with_reader!(self, |pool| {
            sqlx::query_as(&select)
                .bind(tenant.as_str())
                .bind(user.as_str())
                .fetch_optional(pool)
                .await?
        }))
    }

    /// Users whose names sort after `after` (byte order), optionally with one status only.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn list_users(
        &self,
        tenant: &TenantId,
        after: &str,
        status: Option<UserStatus>,
        limit: i64,
    ) -> Result<Vec<UserRecord>, StoreError> {
        let select = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE tenant = $1 AND user_name > $2 AND ($3 = '' OR status = $3) \
             ORDER BY user_name LIMIT $4"
        );
        Ok(with_reader!(self, |pool| {
            sqlx::query_as(&select)
                .bind(tenant.as_str())
                .bind(after)
                .bind(status.map_or("", UserStatus::as_str))
                .bind(limit)
                .fetch_all(pool)
                .await?
        }))
    }

    /// Deletes a user with their memberships, tokens, activation code, sessions and request history, in one
    /// transaction; returns whether the user existed and the tenant's revision afterwards. The memberships it
    /// removes are recorded in the change log (and announced to other instances) like any membership removal, so
    /// every instance's in-memory model drops them. The audit outcome is `changed`, or `unchanged` for an unknown
    /// user.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn delete_user(
        &self,
        tenant: &TenantId,
        user: &Name,
        codec: &FieldCodec,
        audit: Option<AuditDraft>,
    ) -> Result<(bool, i64), StoreError> {
        let member = codec.seal(user.as_str());
        let postgres = self.is_postgres();
        let now = super::now_millis();
        with_writer!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            // One statement deletes and names the removed memberships: a membership committed by another
            // transaction between a `SELECT` and a `DELETE` would be deleted without a change-log row, and stay
            // granted in every instance's model.
            let roles: Vec<(String,)> = sqlx::query_as(
                "DELETE FROM memberships WHERE tenant = $1 AND user_name = $2 RETURNING role",
            )
            .bind(tenant.as_str())
            .bind(member.as_ref())
            .fetch_all(&mut *tx)
            .await?;
            let scoped: Vec<(String, String, String)> = sqlx::query_as(
                "DELETE FROM scoped_memberships WHERE tenant = $1 AND user_name = $2 \
                 RETURNING role, resource_type, resource_id",
            )
            .bind(tenant.as_str())
            .bind(member.as_ref())
            .fetch_all(&mut *tx)
            .await?;
            for sql in [
                "DELETE FROM user_tokens WHERE tenant = $1 AND user_name = $2",
                "DELETE FROM user_activation_codes WHERE tenant = $1 AND user_name = $2",
                "DELETE FROM sessions WHERE tenant = $1 AND user_name = $2",
                "DELETE FROM user_requests WHERE tenant = $1 AND user_name = $2",
            ] {
                sqlx::query(sql)
                    .bind(tenant.as_str())
                    .bind(user.as_str())
                    .execute(&mut *tx)
                    .await?;
            }
            super::api_keys::revoke_user_keys!(tx, tenant, user, now);
            // Every JWT refresh family, and with it every access token issued so far (before the head row lock).
            super::tokens::revoke_user_families!(tx, tenant.as_str(), user.as_str(), now);
            let affected = sqlx::query("DELETE FROM users WHERE tenant = $1 AND user_name = $2")
                .bind(tenant.as_str())
                .bind(user.as_str())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let logged: Vec<LoggedChange<'_>> = roles
                .iter()
                .map(|(role,)| LoggedChange {
                    op: "membership.remove",
                    role,
                    item: Some(member.as_ref()),
                    expires_at: None,
                    scope: None,
                })
                .chain(scoped.iter().map(|(role, kind, id)| LoggedChange {
                    op: "membership.remove",
                    role,
                    item: Some(member.as_ref()),
                    expires_at: None,
                    scope: Some((kind.as_str(), id.as_str())),
                }))
                .collect();
            let revision = log_changes!(tx, tenant.as_str(), &logged, now, postgres);
            // The user's keys were revoked above: under strict users, instances reload.
            let revision = log_key_backing!(tx, tenant.as_str(), now, postgres).unwrap_or(revision);
            let audit = audit.map(|draft| draft.with_outcome(changed_or_not(affected)));
            commit_audited!(tx, tenant.as_str(), audit, now);
            Ok((affected > 0, revision))
        })
    }

    /// The roles a user is a member of.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn member_roles(
        &self,
        tenant: &TenantId,
        user: &str,
        codec: &FieldCodec,
    ) -> Result<Vec<String>, StoreError> {
        let member = codec.seal(user);
        let rows: Vec<(String,)> = super::with_reader!(self, |pool| {
            sqlx::query_as("SELECT role FROM memberships WHERE tenant = $1 AND user_name = $2")
                .bind(tenant.as_str())
                .bind(member.as_ref())
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().map(|(r,)| r).collect())
    }

    /// Records a sensitive change at `now` and voids the user's tokens and sessions; `None` for an unknown user.
    /// The audit outcome is `credentials_voided`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn record_sensitive_change(
        &self,
        tenant: &TenantId,
        user: &Name,
        now: i64,
        audit: Option<AuditDraft>,
    ) -> Result<Option<i64>, StoreError> {
        with_writer!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let affected = sqlx::query(
                "UPDATE users SET sensitive_changed_at = $1, updated_at = $1 WHERE tenant = $2 AND user_name = $3",
            )
            .bind(now)
            .bind(tenant.as_str())
            .bind(user.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if affected == 0 {
                return Ok(None);
            }
            void_credentials!(tx, tenant, user, now);
            log_key_backing!(tx, tenant.as_str(), now, self.is_postgres());
            let audit = audit.map(|draft| draft.with_outcome("credentials_voided"));
            commit_audited!(tx, tenant.as_str(), audit, now);
            Ok(Some(now))
        })
    }

    /// Sets (or with `None` removes) a user's password hash: a sensitive change, so the user's tokens, sessions
    /// and JWTs issued so far are void, in the same transaction. `false` when the user does not exist. The audit
    /// outcome is `credentials_voided`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn set_password(
        &self,
        tenant: &TenantId,
        user: &Name,
        password_hash: Option<&str>,
        now: i64,
        audit: Option<AuditDraft>,
    ) -> Result<bool, StoreError> {
        with_writer!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let affected = sqlx::query(
                "UPDATE users SET password_hash = $1, sensitive_changed_at = $2, updated_at = $2 \
                 WHERE tenant = $3 AND user_name = $4",
            )
            .bind(password_hash)
            .bind(now)
            .bind(tenant.as_str())
            .bind(user.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if affected == 0 {
                return Ok(false);
            }
            void_credentials!(tx, tenant, user, now);
            log_key_backing!(tx, tenant.as_str(), now, self.is_postgres());
            let audit = audit.map(|draft| draft.with_outcome("credentials_voided"));
            commit_audited!(tx, tenant.as_str(), audit, now);
            Ok(true)
        })
    }

    /// The user's password hash and gate, for a login.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn login_facts(
        &self,
        tenant: &TenantId,
        user: &Name,
    ) -> Result<Option<LoginFacts>, StoreError> {
        Ok(with_reader!(self, |pool| {
            sqlx::query_as(
                "SELECT password_hash, status, enabled, activated_at FROM users \
                 WHERE tenant = $1 AND user_name = $2",
            )
            .bind(tenant.as_str())
            .bind(user.as_str())
            .fetch_optional(pool)
            .await?
        }))
    }

    /// Records a successful login, with the audit entry (outcome `allowed`).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn record_login(
        &self,
        tenant: &TenantId,
        user: &Name,
        ip: Option<&str>,
        now: i64,
        audit: Option<AuditDraft>,
    ) -> Result<(), StoreError> {
        with_writer!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "UPDATE users SET last_login_at = $1, last_login_ip = $2 WHERE tenant = $3 AND user_name = $4",
            )
            .bind(now)
            .bind(ip)
            .bind(tenant.as_str())
            .bind(user.as_str())
            .execute(&mut *tx)
            .await?;
            let audit = audit.map(|draft| draft.with_outcome("allowed"));
            commit_audited!(tx, tenant.as_str(), audit, now);
            Ok(())
        })
    }

    /// Background maintenance over every tenant: removes expired sessions, tokens and activation codes, and
    /// request history recorded before `history_cutoff`. Returns the number of rows removed.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn prune_expired(&self, now: i64, history_cutoff: i64) -> Result<u64, StoreError> {
        let mut removed = 0;
        for (sql, at) in [
            ("DELETE FROM sessions WHERE expires_at <= $1", now),
            ("DELETE FROM user_tokens WHERE expires_at <= $1", now),
            (
                "DELETE FROM user_activation_codes WHERE expires_at <= $1",
                now,
            ),
            (
                "DELETE FROM user_requests WHERE created_at < $1",
                history_cutoff,
            ),
        ] {
            removed += with_writer!(self, |pool| {
                sqlx::query(sql)
                    .bind(at)
                    .execute(pool)
                    .await?
                    .rows_affected()
            });
        }
        Ok(removed)
    }
}
