//! Access checks with request quotas (seed 000) and the user's request history. Checks write no change: they
//! are decisions, queued for the trail when decision logging is on.

use rand::Rng;
use warden_core::domain::{actions, Name, RequestContext, TenantId};
use warden_core::rules::access::{decide, AccessFacts, AccessOutcome, MINUTE_MS};
use warden_store::{AccessRequest, ExternalUser, RequestRecord};

use super::*;

/// An access check, before validation of its free-text fields.
#[derive(Debug, Clone)]
pub struct AccessInput {
    pub user: Name,
    pub role: Option<Name>,
    pub chat_id: Option<String>,
    pub message_id: Option<String>,
}

/// A cursor is the opaque text we handed out; anything else is refused.
fn parse_id_cursor(cursor: Option<&str>) -> Result<i64, UsersError> {
    match cursor {
        None => Ok(i64::MAX),
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| invalid("`cursor` is not a cursor this listing returned")),
    }
}

/// 1..=`minutes` whole minutes at random, in milliseconds; 0 when `minutes` is 0.
fn random_shift(minutes: i64) -> i64 {
    if minutes <= 0 {
        return 0;
    }
    rand::thread_rng().gen_range(1..=minutes) * MINUTE_MS
}

impl UsersService {
    /// The seed's `user_access_check`, recorded and counted atomically; a decision for the trail.
    pub async fn access_check(
        &self,
        tenant: &TenantId,
        context: &RequestContext,
        input: AccessInput,
    ) -> Result<AccessOutcome, UsersError> {
        let chat_id = context_field("chat_id", input.chat_id)?;
        let message_id = context_field("message_id", input.message_id)?;
        let now = now_millis();
        let codec = self.codec(tenant).await?;
        let request = AccessRequest {
            user: &input.user,
            codec: &codec,
            role: input.role.as_ref(),
            chat_id: chat_id.as_deref(),
            message_id: message_id.as_deref(),
            now,
        };
        let outcome = if self.directory.is_vault() {
            match self.directory.lookup(tenant, &input.user).await? {
                None => None,
                Some(user) => {
                    let external = ExternalUser {
                        status: user.status(),
                        requests_per_hour: user.requests_per_hour,
                        requests_per_day: user.requests_per_day,
                        random_shift_minutes: user.random_shift_minutes,
                        is_member: input.role.as_ref().map(|r| user.has_role(r.as_str())),
                    };
                    Some(
                        self.store
                            .record_external_access_check(tenant, &request, &external, |facts| {
                                decide(facts, now, random_shift)
                            })
                            .await?,
                    )
                }
            }
        } else {
            let decide = |facts: &AccessFacts| decide(facts, now, random_shift);
            match self
                .store
                .record_access_check(tenant, &request, decide)
                .await?
            {
                None if self.registers_unknown_users(tenant).await? => {
                    self.register(tenant, context, &input.user, now).await?;
                    self.store
                        .record_access_check(tenant, &request, decide)
                        .await?
                }
                outcome => outcome,
            }
        };
        let outcome = outcome.unwrap_or(AccessOutcome {
            access: false,
            permissions: input.role.as_ref().map(|_| false),
            rate_limited_until: None,
        });
        // With a role asked about, the answer that matters is the role's permission (which implies access).
        let allowed = outcome.permissions.unwrap_or(outcome.access);
        let target = || {
            let mut target = self.audit.user_target(tenant, input.user.as_str());
            if let Some(role) = &input.role {
                target.push_str(&format!(" role={role}"));
            }
            target
        };
        self.audit
            .decision(tenant, actions::CHECK_ACCESS, target, allowed, context);
        Ok(outcome)
    }

    /// A page of a user's access-check history, newest first.
    pub async fn requests(
        &self,
        tenant: &TenantId,
        user: &Name,
        listing: RequestListing<'_>,
    ) -> Result<Page<RequestRecord>, UsersError> {
        let limit = page_limit(listing.limit)?;
        let cursor = match listing.cursor {
            Some(_) => parse_id_cursor(listing.cursor)?,
            None if listing.oldest_first => 0,
            None => i64::MAX,
        };
        self.known_user(tenant, user).await?;
        let items = self
            .store
            .list_requests(tenant, user, cursor, listing.oldest_first, limit)
            .await?;
        let next_cursor = (items.len() as i64 == limit)
            .then(|| items.last().map(|r| r.id.to_string()))
            .flatten();
        Ok(Page { items, next_cursor })
    }

    /// The user's recorded access checks in the last hour and the last day: `(per_hour, per_day)`.
    pub async fn request_counters(
        &self,
        tenant: &TenantId,
        user: &Name,
    ) -> Result<(i64, i64), UsersError> {
        self.known_user(tenant, user).await?;
        Ok(self
            .store
            .request_counters(tenant, user, now_millis())
            .await?)
    }

    /// Whether the tenant turned on `auto_register_users` (read only when a check finds no user).
    async fn registers_unknown_users(&self, tenant: &TenantId) -> Result<bool, UsersError> {
        Ok(self
            .store
            .tenant_settings(tenant)
            .await?
            .auto_register_users)
    }

    /// Registers a user an access check found unknown: status `allowed`, enabled, no quotas, no profile. A user
    /// created meanwhile by someone else is left as they are.
    async fn register(
        &self,
        tenant: &TenantId,
        context: &RequestContext,
        user: &Name,
        now: i64,
    ) -> Result<(), UsersError> {
        let write = UserWrite {
            status: UserStatus::Allowed,
            enabled: true,
            profile: "{}".to_owned(),
            requests_per_hour: None,
            requests_per_day: None,
            random_shift_minutes: 0,
        };
        let uuid = uuid::Uuid::new_v4().to_string();
        let audit = self.user_draft(actions::USER_PUT, tenant, user, context);
        self.store
            .register_user(tenant, user, &write, &uuid, now, audit)
            .await?;
        Ok(())
    }

    /// `UserNotFound` unless the user has a row or the directory knows them.
    async fn known_user(&self, tenant: &TenantId, user: &Name) -> Result<(), UsersError> {
        if self.store.get_user(tenant, user).await?.is_none()
            && self.directory.lookup(tenant, user).await?.is_none()
        {
            return Err(UsersError::UserNotFound(user.clone()));
        }
        Ok(())
    }
}

/// Which page of a user's request history to list.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestListing<'a> {
    pub limit: Option<i64>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<&'a str>,
    /// Oldest first (`?order=asc`) instead of newest first.
    pub oldest_first: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_shift_stays_within_one_to_n_minutes() {
        assert_eq!(random_shift(0), 0);
        for _ in 0..200 {
            let s = random_shift(3);
            assert!((MINUTE_MS..=3 * MINUTE_MS).contains(&s) && s % MINUTE_MS == 0);
        }
    }
}
