//! Users, their access-check history, single-use tokens and activation codes, per tenant.
//!
//! Every request's writes happen in one transaction inside one method, together with its audit entry when one is
//! given: the entry is written exactly when the transaction commits, with the outcome found inside it. A write
//! that finds nothing to do and rolls back (an unknown user, a token or code that does not match) leaves no entry;
//! the callers record refused credentials as decisions instead. Where a write depends on a user's current state, the transaction first "touches" the user row with an `UPDATE`
//! (`SET status = status`): on PostgreSQL that takes the row lock, so concurrent requests about one user run one
//! after the other; on SQLite the single writer connection already serialises them.

use super::audit::{audit_in_tx, changed_or_not, AuditDraft};
use super::BeginWrite;
use super::{with_reader, with_writer, Store, StoreError};
use crate::crypto::FieldCodec;
use crate::domain::{Name, TenantId};

const USER_COLUMNS: &str = "user_name, uuid, status, enabled, profile, requests_per_hour, requests_per_day, \
     random_shift_minutes, created_at, updated_at, last_seen_at, activated_at, sensitive_changed_at, \
     rate_limited_until";

/// A user as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRecord {
    pub user_name: String,
    pub uuid: String,
    pub status: String,
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
}

/// The fields a `PUT` sets.
#[derive(Debug, Clone)]
pub struct UserWrite {
    pub status: &'static str,
    pub enabled: bool,
    pub profile: String,
    pub requests_per_hour: Option<i64>,
    pub requests_per_day: Option<i64>,
    pub random_shift_minutes: i64,
}

/// One recorded access check.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RequestRecord {
    pub id: i64,
    pub chat_id: Option<String>,
    pub message_id: Option<String>,
    pub role_id: Option<String>,
    pub access: String,
    pub permissions: Option<String>,
    pub rate_limited_until: Option<i64>,
    pub created_at: i64,
}

/// An access check to record.
#[derive(Debug, Clone)]
pub struct AccessRequest<'a> {
    pub user: &'a Name,
    /// How the tenant stores user names in memberships (sealed when field encryption is on).
    pub codec: &'a FieldCodec,
    pub role: Option<&'a Name>,
    pub chat_id: Option<&'a str>,
    pub message_id: Option<&'a str>,
    pub now: i64,
}

/// What the rules need to know to answer an access check, read inside its transaction.
#[derive(Debug, Clone)]
pub struct AccessFacts {
    pub status: String,
    pub enabled: bool,
    pub requests_per_hour: Option<i64>,
    pub requests_per_day: Option<i64>,
    pub random_shift_minutes: i64,
    /// The user's recorded checks in the last hour and the last 24 hours, not counting this one.
    pub last_hour: i64,
    pub last_day: i64,
    /// The end of the limit in force, if one is.
    pub active_limit: Option<i64>,
    /// Whether the user is a member of the requested role (`None` when no role was asked about).
    pub is_member: Option<bool>,
}

/// The rate-limit part of an access check's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateLimit {
    None,
    /// The limit already in force; nothing to write.
    Active(i64),
    /// Start a limit ending at this time (only if none is in force when the write happens).
    Start(i64),
}

/// The rules' answer to an access check.
#[derive(Debug, Clone, Copy)]
pub struct AccessDecision {
    pub access: bool,
    pub permissions: Option<bool>,
    pub rate_limit: RateLimit,
}

/// The recorded outcome: the decision with the limit end that is actually in force.
#[derive(Debug, Clone, Copy)]
pub struct AccessOutcome {
    pub access: bool,
    pub permissions: Option<bool>,
    pub rate_limited_until: Option<i64>,
}

/// Why a token could not be issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserGate {
    Open,
    UserMissing,
    /// The user is denied or disabled.
    Closed,
}

/// A single-use token to store: only its keyed hash, and when it was issued and expires.
#[derive(Debug, Clone)]
pub struct IssuedToken<'a> {
    pub hash: &'a str,
    pub now: i64,
    pub expires_at: i64,
    /// The user's status was checked by the caller (user configuration from Vault): no `users` row is needed.
    pub gate_checked_elsewhere: bool,
}

fn outcome_label(allowed: bool) -> &'static str {
    if allowed {
        "allowed"
    } else {
        "denied"
    }
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
            Some((status, enabled)) if status == "allowed" && enabled => UserGate::Open,
            Some(_) => UserGate::Closed,
        }
    }};
}
pub(crate) use lock_user_gate;

/// Voids everything issued to a user so far: revokes their unused tokens and JWT families and deletes their
/// sessions.
macro_rules! void_credentials {
    ($tx:expr, $tenant:expr, $user:expr, $now:expr) => {{
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

/// Appends one access check to the user's request history inside the check's transaction `$tx` (a macro so one
/// text serves both backends' transaction types).
macro_rules! record_request {
    ($tx:ident, $tenant:expr, $request:expr, $decision:expr, $rate_limited_until:expr, $now:expr) => {
        sqlx::query(
            "INSERT INTO user_requests (tenant, user_name, chat_id, message_id, role_id, access, permissions, \
               rate_limited_until, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind($tenant.as_str())
        .bind($request.user.as_str())
        .bind($request.chat_id)
        .bind($request.message_id)
        .bind($request.role.map(Name::as_str))
        .bind(outcome_label($decision.access))
        .bind($decision.permissions.map(outcome_label))
        .bind($rate_limited_until)
        .bind($now)
        .execute(&mut *$tx)
        .await?
    };
}

impl Store {
    /// Creates or replaces a user; returns whether it was created, and the stored row. Changing the status or
    /// `enabled` moves the sensitive-change time to `now` and voids the user's tokens and sessions, in the same
    /// transaction. The audit outcome is `created`, `changed` or `credentials_voided`.
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
            let inserted = sqlx::query(
                "INSERT INTO users (tenant, user_name, uuid, status, enabled, profile, requests_per_hour, \
                   requests_per_day, random_shift_minutes, created_at, updated_at, sensitive_changed_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $10) ON CONFLICT DO NOTHING",
            )
            .bind(tenant.as_str())
            .bind(user.as_str())
            .bind(new_uuid)
            .bind(write.status)
            .bind(write.enabled)
            .bind(&write.profile)
            .bind(write.requests_per_hour)
            .bind(write.requests_per_day)
            .bind(write.random_shift_minutes)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
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
                .bind(write.status)
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
            let audit = audit.map(|draft| draft.with_outcome(outcome));
            audit_in_tx!(tx, tenant.as_str(), audit, now);
            tx.commit().await?;
            Ok((inserted, record))
        })
    }

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

    /// Users whose names sort after `after` (byte order), optionally with one status (`""` for any).
    pub async fn list_users(
        &self,
        tenant: &TenantId,
        after: &str,
        status: &str,
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
                .bind(status)
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
    pub async fn delete_user(
        &self,
        tenant: &TenantId,
        user: &Name,
        codec: &FieldCodec,
        audit: Option<AuditDraft>,
    ) -> Result<(bool, i64), StoreError> {
        let member = codec.seal(user.as_str());
        let notify = self.is_postgres().then_some(super::rbac::NOTIFY);
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
            // Every JWT refresh family, and with it every access token issued so far (before the head row lock).
            super::tokens::revoke_user_families!(tx, tenant.as_str(), user.as_str(), now);
            let affected = sqlx::query("DELETE FROM users WHERE tenant = $1 AND user_name = $2")
                .bind(tenant.as_str())
                .bind(user.as_str())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let (revision,): (i64,) = sqlx::query_as(super::rbac::BUMP_REVISION)
                .bind(tenant.as_str())
                .bind(roles.len() as i64)
                .bind(crate::domain::GENESIS_HASH)
                .fetch_one(&mut *tx)
                .await?;
            let first = revision - roles.len() as i64 + 1;
            for (i, (role,)) in roles.iter().enumerate() {
                sqlx::query(super::rbac::RECORD_CHANGE)
                    .bind(tenant.as_str())
                    .bind(first + i as i64)
                    .bind("membership.remove")
                    .bind(role)
                    .bind(member.as_ref())
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            if let (Some(notify), false) = (notify, roles.is_empty()) {
                sqlx::query(notify)
                    .bind(format!("{}:{revision}", tenant.as_str()))
                    .execute(&mut *tx)
                    .await?;
            }
            let audit = audit.map(|draft| draft.with_outcome(changed_or_not(affected)));
            audit_in_tx!(tx, tenant.as_str(), audit, now);
            tx.commit().await?;
            Ok((affected > 0, revision))
        })
    }

    /// The roles a user is a member of.
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
            let audit = audit.map(|draft| draft.with_outcome("credentials_voided"));
            audit_in_tx!(tx, tenant.as_str(), audit, now);
            tx.commit().await?;
            Ok(Some(now))
        })
    }

    /// Runs one access check in one transaction: locks the user row, counts the earlier checks, lets `decide`
    /// apply the rules, starts a limit only if none is in force, and records the check. `None` for an unknown user
    /// (nothing is recorded: there is no user to attach it to).
    pub async fn record_access_check(
        &self,
        tenant: &TenantId,
        request: &AccessRequest<'_>,
        decide: impl FnOnce(&AccessFacts) -> AccessDecision,
    ) -> Result<Option<AccessOutcome>, StoreError> {
        let now = request.now;
        with_writer!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            type Row = (String, bool, Option<i64>, Option<i64>, i64, Option<i64>);
            let row: Option<Row> = sqlx::query_as(
                "UPDATE users SET last_seen_at = $1 WHERE tenant = $2 AND user_name = $3 \
                 RETURNING status, enabled, requests_per_hour, requests_per_day, random_shift_minutes, \
                   rate_limited_until",
            )
            .bind(now)
            .bind(tenant.as_str())
            .bind(request.user.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            let Some((status, enabled, per_hour, per_day, shift, limit_end)) = row else {
                return Ok(None);
            };
            let mut counts = [0i64; 2];
            for (slot, window) in counts.iter_mut().zip([3_600_000i64, 86_400_000]) {
                let (count,): (i64,) = sqlx::query_as(
                    "SELECT COUNT(*) FROM user_requests WHERE tenant = $1 AND user_name = $2 AND created_at > $3",
                )
                .bind(tenant.as_str())
                .bind(request.user.as_str())
                .bind(now - window)
                .fetch_one(&mut *tx)
                .await?;
                *slot = count;
            }
            let is_member = match request.role {
                None => None,
                Some(role) => {
                    let (member,): (bool,) = sqlx::query_as(
                        "SELECT EXISTS (SELECT 1 FROM memberships \
                           WHERE tenant = $1 AND user_name = $2 AND role = $3)",
                    )
                    .bind(tenant.as_str())
                    .bind(request.codec.seal(request.user.as_str()).as_ref())
                    .bind(role.as_str())
                    .fetch_one(&mut *tx)
                    .await?;
                    Some(member)
                }
            };
            let facts = AccessFacts {
                status,
                enabled,
                requests_per_hour: per_hour,
                requests_per_day: per_day,
                random_shift_minutes: shift,
                last_hour: counts[0],
                last_day: counts[1],
                active_limit: limit_end.filter(|&end| end > now),
                is_member,
            };
            let decision = decide(&facts);
            let rate_limited_until = match decision.rate_limit {
                RateLimit::None => None,
                RateLimit::Active(end) => Some(end),
                RateLimit::Start(end) => {
                    // Only when no limit is in force, so a running limit's end never moves.
                    let started = sqlx::query(
                        "UPDATE users SET rate_limited_until = $1 WHERE tenant = $2 AND user_name = $3 \
                           AND (rate_limited_until IS NULL OR rate_limited_until <= $4)",
                    )
                    .bind(end)
                    .bind(tenant.as_str())
                    .bind(request.user.as_str())
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if started == 1 {
                        Some(end)
                    } else {
                        let (current,): (Option<i64>,) = sqlx::query_as(
                            "SELECT rate_limited_until FROM users WHERE tenant = $1 AND user_name = $2",
                        )
                        .bind(tenant.as_str())
                        .bind(request.user.as_str())
                        .fetch_one(&mut *tx)
                        .await?;
                        current
                    }
                }
            };
            record_request!(tx, tenant, request, decision, rate_limited_until, now);
            tx.commit().await?;
            Ok(Some(AccessOutcome {
                access: decision.access,
                permissions: decision.permissions,
                rate_limited_until,
            }))
        })
    }

    /// One page of a user's request history, newest first, with ids below `before`.
    pub async fn list_requests(
        &self,
        tenant: &TenantId,
        user: &Name,
        before: i64,
        limit: i64,
    ) -> Result<Vec<RequestRecord>, StoreError> {
        Ok(with_reader!(self, |pool| {
            sqlx::query_as(
                "SELECT id, chat_id, message_id, role_id, access, permissions, rate_limited_until, created_at \
                 FROM user_requests WHERE tenant = $1 AND user_name = $2 AND id < $3 ORDER BY id DESC LIMIT $4",
            )
            .bind(tenant.as_str())
            .bind(user.as_str())
            .bind(before)
            .bind(limit)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Stores a token hash for an allowed, enabled user, revoking their earlier unused tokens, in one transaction.
    /// With `gate_checked_elsewhere` (user configuration from Vault) the caller has found the user allowed and no
    /// `users` row is consulted. The audit outcome is `created`.
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
            audit_in_tx!(tx, tenant.as_str(), audit, now);
            tx.commit().await?;
            Ok(UserGate::Open)
        })
    }

    /// Uses a token: one conditional `UPDATE`, so of any number of concurrent attempts exactly one matches. A token
    /// matches only if it is unused, unrevoked, unexpired, of this tenant, and issued no earlier than its user's
    /// last sensitive change. Returns the user's name, status and role names. The audit entry (outcome `allowed`)
    /// is written only when the token matched.
    pub async fn consume_token(
        &self,
        tenant: &TenantId,
        hash: &str,
        now: i64,
        codec: &FieldCodec,
        audit: Option<AuditDraft>,
    ) -> Result<Option<(String, String, Vec<String>)>, StoreError> {
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
            audit_in_tx!(tx, tenant.as_str(), audit, now);
            tx.commit().await?;
            Ok(Some((
                user_name,
                status,
                roles.into_iter().map(|(r,)| r).collect(),
            )))
        })
    }

    /// Revokes every unused token of a user; returns how many. The audit entry notes the count (`revoked=N`).
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
            audit_in_tx!(tx, tenant.as_str(), audit, now);
            tx.commit().await?;
            Ok(revoked)
        })
    }

    /// Stores a user's activation code hash, replacing any earlier code; `false` for an unknown user. The audit
    /// outcome is `created`.
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
            audit_in_tx!(tx, tenant.as_str(), audit, now);
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Consumes a matching, unexpired activation code and marks the user activated, in one transaction; `None`
    /// when no code matched. The `DELETE` is the single-use guarantee: only one caller can delete the row. The
    /// audit entry (outcome `allowed`) is written only when the code matched.
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
            audit_in_tx!(tx, tenant.as_str(), audit, now);
            tx.commit().await?;
            Ok(Some(now))
        })
    }

    /// Background maintenance over every tenant: removes expired sessions, tokens and activation codes, and
    /// request history recorded before `history_cutoff`. Returns the number of rows removed.
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

/// A user described by an outside directory (Vault) rather than by a `users` row: what an access check needs.
#[derive(Debug, Clone)]
pub struct ExternalUser {
    pub status: &'static str,
    pub requests_per_hour: Option<i64>,
    pub requests_per_day: Option<i64>,
    pub random_shift_minutes: i64,
    /// Whether the directory lists the requested role (`None` when no role was asked about).
    pub is_member: Option<bool>,
}

/// The longest a limit can run: 24 h (day quota) or 1 h plus at most 1440 minutes of shift (hour quota), with
/// room to spare. Recorded checks older than this cannot hold a limit still in force.
const LONGEST_LIMIT_MS: i64 = 26 * 3_600_000;

/// Where a user's tokens are void before: their row's sensitive-change time, or never for a user without a row.
const TOKEN_NOT_VOIDED: &str =
    "created_at >= COALESCE((SELECT u.sensitive_changed_at FROM users u \
     WHERE u.tenant = user_tokens.tenant AND u.user_name = user_tokens.user_name), 0)";

/// Users whose configuration lives outside the database (`AUTH_USER_CONFIG_SOURCE=vault`): their status, roles
/// and quotas come from the caller, while their request history, limits and tokens stay here. No `users` row is
/// needed; the limit in force is the latest one recorded in the history.
impl Store {
    /// [`Store::record_access_check`] for an external user. Concurrent checks of one user are serialised by a
    /// transaction-scoped advisory lock on PostgreSQL (SQLite's single writer already serialises them), so they are
    /// counted exactly across instances. Always records the check.
    pub async fn record_external_access_check(
        &self,
        tenant: &TenantId,
        request: &AccessRequest<'_>,
        user: &ExternalUser,
        decide: impl FnOnce(&AccessFacts) -> AccessDecision,
    ) -> Result<AccessOutcome, StoreError> {
        let now = request.now;
        let postgres = matches!(self, Store::Postgres(_));
        let lock_key = format!(
            "warden-user\n{}\n{}",
            tenant.as_str(),
            request.user.as_str()
        );
        with_writer!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            if postgres {
                sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                    .bind(&lock_key)
                    .execute(&mut *tx)
                    .await?;
            }
            let mut counts = [0i64; 2];
            for (slot, window) in counts.iter_mut().zip([3_600_000i64, 86_400_000]) {
                let (count,): (i64,) = sqlx::query_as(
                    "SELECT COUNT(*) FROM user_requests WHERE tenant = $1 AND user_name = $2 AND created_at > $3",
                )
                .bind(tenant.as_str())
                .bind(request.user.as_str())
                .bind(now - window)
                .fetch_one(&mut *tx)
                .await?;
                *slot = count;
            }
            let (active_limit,): (Option<i64>,) = sqlx::query_as(
                "SELECT MAX(rate_limited_until) FROM user_requests \
                 WHERE tenant = $1 AND user_name = $2 AND created_at > $3 AND rate_limited_until > $4",
            )
            .bind(tenant.as_str())
            .bind(request.user.as_str())
            .bind(now - LONGEST_LIMIT_MS)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            let facts = AccessFacts {
                status: user.status.to_owned(),
                enabled: true,
                requests_per_hour: user.requests_per_hour,
                requests_per_day: user.requests_per_day,
                random_shift_minutes: user.random_shift_minutes,
                last_hour: counts[0],
                last_day: counts[1],
                active_limit,
                is_member: user.is_member,
            };
            let decision = decide(&facts);
            let rate_limited_until = match decision.rate_limit {
                RateLimit::None => None,
                RateLimit::Active(end) | RateLimit::Start(end) => Some(end),
            };
            record_request!(tx, tenant, request, decision, rate_limited_until, now);
            tx.commit().await?;
            Ok(AccessOutcome {
                access: decision.access,
                permissions: decision.permissions,
                rate_limited_until,
            })
        })
    }

    /// The owner of a usable token (unused, unrevoked, unexpired, of this tenant, not voided), without using it.
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
            audit_in_tx!(tx, tenant.as_str(), audit, now);
            tx.commit().await?;
            Ok(Some(owner))
        })
    }
}
