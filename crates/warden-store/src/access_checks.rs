//! Access checks with quotas (seed 000): each check is recorded in the user's request history, and the quota
//! rules of `warden_core::rules::access` decide inside the check's transaction, so concurrent checks count exactly.
//!
//! Every request's writes happen in one transaction inside one method, together with its audit entry when one is
//! given: the entry is written exactly when the transaction commits, with the outcome found inside it. A write
//! that finds nothing to do and rolls back leaves no entry; the callers record refused credentials as decisions
//! instead. Where a write depends on a user's current state, the transaction first "touches" the user row with an
//! `UPDATE` (`SET status = status`): on PostgreSQL that takes the row lock, so concurrent requests about one user
//! run one after the other; on SQLite the single writer connection already serialises them.

use super::BeginWrite;
use super::{with_reader, with_writer, Store, StoreError};
use warden_core::crypto::FieldCodec;
use warden_core::domain::{Name, TenantId, UserStatus};
use warden_core::rules::access::{AccessDecision, AccessFacts, AccessOutcome, RateLimit};

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

/// Whether user `$2` holds role `$3` at `$4`: is a member of it or of a role that inherits it, directly or not,
/// by a membership that has not expired. `UNION` (not `UNION ALL`) ends the walk even on a cyclic graph, which
/// writers never store anyway.
const HOLDS_ROLE: &str = "WITH RECURSIVE holders (role) AS ( \
         SELECT CAST($3 AS TEXT) \
         UNION SELECT i.role FROM role_inherits i JOIN holders h ON i.parent = h.role WHERE i.tenant = $1) \
     SELECT EXISTS (SELECT 1 FROM memberships m JOIN holders h ON m.role = h.role \
                    WHERE m.tenant = $1 AND m.user_name = $2 \
                      AND (m.expires_at IS NULL OR m.expires_at > $4))";

/// The quota windows, in milliseconds.
const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 86_400_000;

fn outcome_label(allowed: bool) -> &'static str {
    if allowed {
        "allowed"
    } else {
        "denied"
    }
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

/// A user described by an outside directory (Vault) rather than by a `users` row: what an access check needs.
#[derive(Debug, Clone)]
pub struct ExternalUser {
    pub status: UserStatus,
    pub requests_per_hour: Option<i64>,
    pub requests_per_day: Option<i64>,
    pub random_shift_minutes: i64,
    /// Whether the directory lists the requested role (`None` when no role was asked about).
    pub is_member: Option<bool>,
}

/// The longest a limit can run: 24 h (day quota) or 1 h plus at most 1440 minutes of shift (hour quota), with
/// room to spare. Recorded checks older than this cannot hold a limit still in force.
const LONGEST_LIMIT_MS: i64 = 26 * 3_600_000;

impl Store {
    /// Runs one access check in one transaction: locks the user row, counts the earlier checks, lets `decide`
    /// apply the rules, starts a limit only if none is in force, and records the check. `None` for an unknown user
    /// (nothing is recorded: there is no user to attach it to).
    #[tracing::instrument(level = "debug", skip_all)]
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
            for (slot, window) in counts.iter_mut().zip([HOUR_MS, DAY_MS]) {
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
                    let (member,): (bool,) = sqlx::query_as(HOLDS_ROLE)
                        .bind(tenant.as_str())
                        .bind(request.codec.seal(request.user.as_str()).as_ref())
                        .bind(role.as_str())
                        .bind(now)
                        .fetch_one(&mut *tx)
                        .await?;
                    Some(member)
                }
            };
            let facts = AccessFacts {
                status: UserStatus::from_stored(&status),
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

    /// One page of a user's request history: newest first with ids below `cursor` (`i64::MAX` for the first
    /// page), or with `oldest_first` oldest first with ids above it (0 for the first page).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn list_requests(
        &self,
        tenant: &TenantId,
        user: &Name,
        cursor: i64,
        oldest_first: bool,
        limit: i64,
    ) -> Result<Vec<RequestRecord>, StoreError> {
        let (beyond, order) = if oldest_first {
            (">", "ASC")
        } else {
            ("<", "DESC")
        };
        let sql = format!(
            "SELECT id, chat_id, message_id, role_id, access, permissions, rate_limited_until, created_at \
             FROM user_requests WHERE tenant = $1 AND user_name = $2 AND id {beyond} $3 ORDER BY id {order} LIMIT $4"
        );
        Ok(with_reader!(self, |pool| {
            sqlx::query_as(&sql)
                .bind(tenant.as_str())
                .bind(user.as_str())
                .bind(cursor)
                .bind(limit)
                .fetch_all(pool)
                .await?
        }))
    }

    /// How many access checks of the user were recorded in the hour and in the day before `now` (the windows the
    /// quotas count in).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn request_counters(
        &self,
        tenant: &TenantId,
        user: &Name,
        now: i64,
    ) -> Result<(i64, i64), StoreError> {
        let (hour, day): (i64, i64) = with_reader!(self, |pool| {
            sqlx::query_as(
                "SELECT COALESCE(SUM(CASE WHEN created_at > $1 THEN 1 ELSE 0 END), 0), COUNT(*) \
                 FROM user_requests WHERE tenant = $2 AND user_name = $3 AND created_at > $4",
            )
            .bind(now - HOUR_MS)
            .bind(tenant.as_str())
            .bind(user.as_str())
            .bind(now - DAY_MS)
            .fetch_one(pool)
            .await?
        });
        Ok((hour, day))
    }
}

/// Users whose configuration lives outside the database (`AUTH_USER_CONFIG_SOURCE=vault`): their status, roles
/// and quotas come from the caller, while their request history, limits and tokens stay here. No `users` row is
/// needed; the limit in force is the latest one recorded in the history.
impl Store {
    /// [`Store::record_access_check`] for an external user. Concurrent checks of one user are serialised by a
    /// transaction-scoped advisory lock on PostgreSQL (SQLite's single writer already serialises them), so they are
    /// counted exactly across instances. Always records the check.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn record_external_access_check(
        &self,
        tenant: &TenantId,
        request: &AccessRequest<'_>,
        user: &ExternalUser,
        decide: impl FnOnce(&AccessFacts) -> AccessDecision,
    ) -> Result<AccessOutcome, StoreError> {
        let now = request.now;
        let postgres = self.is_postgres();
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
            for (slot, window) in counts.iter_mut().zip([HOUR_MS, DAY_MS]) {
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
                status: user.status,
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
}
