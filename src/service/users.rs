//! Users, access checks with request quotas, single-use tokens and activation codes.
//!
//! The rules live here; each request's reads and writes happen in one store transaction, with its audit entry.
//! Access checks and refused credentials (a token or activation code that does not match) write no change: they
//! are decisions, queued for the trail when decision logging is on.

use rand::Rng;
use serde_json::Value;

use crate::crypto::{random_secret, KeyedHasher};
use crate::domain::{actions, Name, NameKind, RequestContext, TenantId};
use crate::store::{
    AccessDecision, AccessFacts, AccessOutcome, AccessRequest, ExternalUser, IssuedToken,
    RateLimit, RequestRecord, Store, StoreError, UserGate, UserRecord, UserWrite,
};

use super::{AuditLog, ServiceError, Tenants, UserDirectory};

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 60 * MINUTE_MS;
const DAY_MS: i64 = 24 * HOUR_MS;

/// The largest profile, as compact JSON.
pub const MAX_PROFILE_BYTES: usize = 16 * 1024;
/// The longest chat or message id, in characters.
pub const MAX_CONTEXT_CHARS: usize = 255;
/// Largest quota value; far above any real need, small enough for every integer column.
pub const MAX_QUOTA: i64 = 1_000_000_000;
pub const MAX_RANDOM_SHIFT_MINUTES: i64 = 1440;
pub const DEFAULT_TOKEN_TTL_MINUTES: i64 = 10;
pub const MAX_TOKEN_TTL_MINUTES: i64 = 1440;
pub const DEFAULT_ACTIVATION_TTL_MINUTES: i64 = 24 * 60;
pub const MAX_ACTIVATION_TTL_MINUTES: i64 = 30 * 24 * 60;

/// Failures of the user, token and session endpoints, each with its own HTTP meaning.
#[derive(Debug, thiserror::Error)]
pub enum UsersError {
    /// A value in the request is not acceptable (400).
    #[error("{0}")]
    Invalid(String),
    #[error("user `{0}` not found")]
    UserNotFound(Name),
    #[error("user `{0}` is denied or disabled")]
    UserNotAllowed(Name),
    /// Every token failure (unknown, used, expired, revoked, of another tenant, voided by a sensitive change)
    /// gives this one answer.
    #[error("invalid token")]
    InvalidToken,
    /// Every activation failure (wrong, expired, used, unknown user) gives this one answer.
    #[error("invalid activation code")]
    InvalidActivationCode,
    /// Unknown, expired, deleted and voided sessions alike.
    #[error("session not found")]
    SessionNotFound,
    /// `AUTH_USER_CONFIG_SOURCE=vault` and Vault did not answer (503).
    #[error("user configuration is unavailable, try again shortly")]
    UserConfigUnavailable,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<StoreError> for UsersError {
    fn from(err: StoreError) -> Self {
        Self::Service(err.into())
    }
}

pub(super) fn invalid(message: impl Into<String>) -> UsersError {
    UsersError::Invalid(message.into())
}

/// A user's quotas as given; `None` means "no quota".
#[derive(Debug, Clone, Default)]
pub struct QuotasInput {
    pub requests_per_hour: Option<i64>,
    pub requests_per_day: Option<i64>,
    pub random_shift_minutes: Option<i64>,
}

/// The body of `PUT /api/users/{user}`, before validation.
#[derive(Debug, Clone)]
pub struct UserInput {
    pub status: String,
    pub enabled: Option<bool>,
    pub profile: Option<Value>,
    pub quotas: Option<QuotasInput>,
}

/// An access check, before validation of its free-text fields.
#[derive(Debug, Clone)]
pub struct AccessInput {
    pub user: Name,
    pub role: Option<Name>,
    pub chat_id: Option<String>,
    pub message_id: Option<String>,
}

/// A page of results and the cursor for the next one.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// A validated token's owner.
#[derive(Debug, Clone)]
pub struct TokenOwner {
    pub user: String,
    pub status: String,
    pub roles: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct UsersService {
    store: Store,
    tokens: KeyedHasher,
    codes: KeyedHasher,
    tenants: Tenants,
    /// Where status, roles and quotas come from (the database unless `AUTH_USER_CONFIG_SOURCE=vault`).
    directory: UserDirectory,
    audit: AuditLog,
}

/// Parses a status by exact match; anything else is refused (never a substring or case-folded match).
pub fn parse_status(raw: &str) -> Result<&'static str, UsersError> {
    match raw {
        "allowed" => Ok("allowed"),
        "denied" => Ok("denied"),
        other => Err(invalid(format!(
            "status `{}` must be `allowed` or `denied`",
            printable(other)
        ))),
    }
}

/// Shows at most 64 printable characters of user input in an error message.
pub(super) fn printable(raw: &str) -> String {
    raw.chars()
        .take(64)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

fn quota(name: &str, value: Option<i64>, max: i64) -> Result<Option<i64>, UsersError> {
    match value {
        Some(n) if !(0..=max).contains(&n) => Err(invalid(format!(
            "`{name}` must be a whole number from 0 to {max}"
        ))),
        other => Ok(other),
    }
}

/// A free-text context field: at most [`MAX_CONTEXT_CHARS`] characters, no control characters (PostgreSQL cannot
/// store NUL, and the others only serve to forge log lines). Anything else, quotes and SQL included, is kept
/// verbatim.
fn context_field(name: &str, value: Option<String>) -> Result<Option<String>, UsersError> {
    let Some(value) = value else { return Ok(None) };
    if value.chars().count() > MAX_CONTEXT_CHARS {
        return Err(invalid(format!(
            "`{name}` is longer than {MAX_CONTEXT_CHARS} characters"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(format!(
            "`{name}` must not contain control characters"
        )));
    }
    Ok(Some(value))
}

/// A TTL in minutes within `1..=max`, `default` when absent.
pub(super) fn ttl_minutes(value: Option<i64>, default: i64, max: i64) -> Result<i64, UsersError> {
    match value.unwrap_or(default) {
        n if (1..=max).contains(&n) => Ok(n),
        _ => Err(invalid(format!(
            "`ttl_minutes` must be a whole number from 1 to {max}"
        ))),
    }
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

pub(super) fn page_limit(limit: Option<i64>) -> Result<i64, UsersError> {
    match limit.unwrap_or(50) {
        n if (1..=500).contains(&n) => Ok(n),
        _ => Err(invalid("`limit` must be a whole number from 1 to 500")),
    }
}

/// The quota rules of an access check. Access is allowed only to an `allowed`, enabled user; the role
/// permission only to a member. For an allowed user: a limit in force is reported unchanged; otherwise a full day
/// window starts a 24 h limit, else a full hour window a 1 h limit plus a random shift of 1..=shift minutes.
pub fn decide(facts: &AccessFacts, now: i64, shift_ms: impl FnOnce(i64) -> i64) -> AccessDecision {
    let access = facts.status == "allowed" && facts.enabled;
    let permissions = facts.is_member.map(|member| access && member);
    let rate_limit = if !access {
        RateLimit::None
    } else if let Some(end) = facts.active_limit {
        RateLimit::Active(end)
    } else if facts.requests_per_day.is_some_and(|n| facts.last_day >= n) {
        RateLimit::Start(now + DAY_MS)
    } else if facts
        .requests_per_hour
        .is_some_and(|n| facts.last_hour >= n)
    {
        RateLimit::Start(now + HOUR_MS + shift_ms(facts.random_shift_minutes))
    } else {
        RateLimit::None
    };
    AccessDecision {
        access,
        permissions,
        rate_limit,
    }
}

/// 1..=`minutes` whole minutes at random, in milliseconds; 0 when `minutes` is 0.
fn random_shift(minutes: i64) -> i64 {
    if minutes <= 0 {
        return 0;
    }
    rand::thread_rng().gen_range(1..=minutes) * MINUTE_MS
}

fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl UsersService {
    pub fn new(store: Store, tenants: &Tenants, audit: AuditLog) -> Self {
        Self {
            store,
            tokens: KeyedHasher::new(tenants.derive_key("single-use-tokens")),
            codes: KeyedHasher::new(tenants.derive_key("activation-codes")),
            tenants: tenants.clone(),
            directory: UserDirectory::Database,
            audit,
        }
    }

    /// The entry a write about `user` records in its transaction; `None` when change logging is off.
    fn user_draft(
        &self,
        action: &str,
        tenant: &TenantId,
        user: &Name,
        context: &RequestContext,
    ) -> Option<crate::store::AuditDraft> {
        let target = self.audit.user_target(tenant, user.as_str());
        self.audit.draft(action, target, context)
    }

    /// How the tenant stores user names in memberships.
    async fn codec(&self, tenant: &TenantId) -> Result<crate::crypto::FieldCodec, UsersError> {
        Ok(self.tenants.field_codec(tenant).await?)
    }

    /// Reads users' status, roles and quotas from `directory` instead of the database.
    pub fn with_directory(mut self, directory: UserDirectory) -> Self {
        self.directory = directory;
        self
    }

    /// Creates or replaces a user (a full replacement: absent fields take their defaults).
    pub async fn put_user(
        &self,
        tenant: &TenantId,
        context: &RequestContext,
        user: &Name,
        input: UserInput,
    ) -> Result<(bool, UserRecord), UsersError> {
        let status = parse_status(&input.status)?;
        let profile = match input.profile {
            None | Some(Value::Null) => "{}".to_owned(),
            Some(value @ Value::Object(_)) => {
                let text = value.to_string();
                if text.len() > MAX_PROFILE_BYTES {
                    return Err(invalid(format!(
                        "`profile` is larger than {} KiB",
                        MAX_PROFILE_BYTES / 1024
                    )));
                }
                text
            }
            Some(_) => return Err(invalid("`profile` must be a JSON object")),
        };
        let quotas = input.quotas.unwrap_or_default();
        let write = UserWrite {
            status,
            enabled: input.enabled.unwrap_or(true),
            profile,
            requests_per_hour: quota("requests_per_hour", quotas.requests_per_hour, MAX_QUOTA)?,
            requests_per_day: quota("requests_per_day", quotas.requests_per_day, MAX_QUOTA)?,
            random_shift_minutes: quota(
                "random_shift_minutes",
                quotas.random_shift_minutes,
                MAX_RANDOM_SHIFT_MINUTES,
            )?
            .unwrap_or(0),
        };
        let uuid = uuid::Uuid::new_v4().to_string();
        let audit = self.user_draft(actions::USER_PUT, tenant, user, context);
        Ok(self
            .store
            .put_user(tenant, user, &write, &uuid, now_millis(), audit)
            .await?)
    }

    /// A user with their role names (sorted).
    pub async fn get_user(
        &self,
        tenant: &TenantId,
        user: &Name,
    ) -> Result<(UserRecord, Vec<String>), UsersError> {
        let record = self
            .store
            .get_user(tenant, user)
            .await?
            .ok_or_else(|| UsersError::UserNotFound(user.clone()))?;
        let mut roles: Vec<String> = self
            .store
            .member_roles(tenant, user.as_str(), &self.codec(tenant).await?)
            .await?;
        roles.sort();
        Ok((record, roles))
    }

    /// Users in name (byte) order; the cursor is the last name of the previous page.
    pub async fn list_users(
        &self,
        tenant: &TenantId,
        status: Option<&str>,
        limit: Option<i64>,
        cursor: Option<&str>,
    ) -> Result<Page<UserRecord>, UsersError> {
        let status = status.map(parse_status).transpose()?.unwrap_or("");
        let limit = page_limit(limit)?;
        let items = self
            .store
            .list_users(tenant, cursor.unwrap_or(""), status, limit)
            .await?;
        let next_cursor = (items.len() as i64 == limit)
            .then(|| items.last().map(|u| u.user_name.clone()))
            .flatten();
        Ok(Page { items, next_cursor })
    }

    /// Returns whether the user existed and the tenant's revision afterwards.
    pub async fn delete_user(
        &self,
        tenant: &TenantId,
        context: &RequestContext,
        user: &Name,
    ) -> Result<(bool, i64), UsersError> {
        let audit = self.user_draft(actions::USER_DELETE, tenant, user, context);
        Ok(self
            .store
            .delete_user(tenant, user, &self.codec(tenant).await?, audit)
            .await?)
    }

    /// Voids every token and session issued to the user so far; returns the new sensitive-change time.
    pub async fn sensitive_change(
        &self,
        tenant: &TenantId,
        context: &RequestContext,
        user: &Name,
    ) -> Result<i64, UsersError> {
        let audit = self.user_draft(actions::USER_SENSITIVE_CHANGE, tenant, user, context);
        self.store
            .record_sensitive_change(tenant, user, now_millis(), audit)
            .await?
            .ok_or_else(|| UsersError::UserNotFound(user.clone()))
    }

    /// Issues a one-time activation code (256 random bits), replacing any earlier one; returns it with its expiry.
    pub async fn issue_activation_code(
        &self,
        tenant: &TenantId,
        context: &RequestContext,
        user: &Name,
        ttl: Option<i64>,
    ) -> Result<(String, i64), UsersError> {
        let ttl = ttl_minutes(
            ttl,
            DEFAULT_ACTIVATION_TTL_MINUTES,
            MAX_ACTIVATION_TTL_MINUTES,
        )?;
        let code = random_secret();
        let now = now_millis();
        let expires_at = now + ttl * MINUTE_MS;
        let hash = self.code_hash(tenant, user, &code);
        let audit = self.user_draft(actions::USER_ACTIVATION_CODE, tenant, user, context);
        if !self
            .store
            .set_activation_code(tenant, user, &hash, now, expires_at, audit)
            .await?
        {
            return Err(UsersError::UserNotFound(user.clone()));
        }
        Ok((code, expires_at))
    }

    /// Activates a user with their code; every failure is [`UsersError::InvalidActivationCode`], a decision
    /// `denied` for the trail.
    pub async fn activate(
        &self,
        tenant: &TenantId,
        context: &RequestContext,
        user: &Name,
        code: &str,
    ) -> Result<i64, UsersError> {
        let hash = self.code_hash(tenant, user, code);
        let audit = self.user_draft(actions::USER_ACTIVATE, tenant, user, context);
        let activated = self
            .store
            .activate_user(tenant, user, &hash, now_millis(), audit)
            .await?;
        if activated.is_none() {
            self.audit.decision(
                tenant,
                actions::USER_ACTIVATE,
                || self.audit.user_target(tenant, user.as_str()),
                false,
                context,
            );
        }
        activated.ok_or(UsersError::InvalidActivationCode)
    }

    fn code_hash(&self, tenant: &TenantId, user: &Name, code: &str) -> String {
        self.codes
            .hash(tenant, &format!("{}\n{code}", user.as_str()))
    }

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
            self.store
                .record_access_check(tenant, &request, |facts| decide(facts, now, random_shift))
                .await?
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
        limit: Option<i64>,
        cursor: Option<&str>,
    ) -> Result<Page<RequestRecord>, UsersError> {
        let limit = page_limit(limit)?;
        let before = parse_id_cursor(cursor)?;
        if self.store.get_user(tenant, user).await?.is_none()
            && self.directory.lookup(tenant, user).await?.is_none()
        {
            return Err(UsersError::UserNotFound(user.clone()));
        }
        let items = self
            .store
            .list_requests(tenant, user, before, limit)
            .await?;
        let next_cursor = (items.len() as i64 == limit)
            .then(|| items.last().map(|r| r.id.to_string()))
            .flatten();
        Ok(Page { items, next_cursor })
    }

    /// Issues a single-use token `<user>.<secret>` (256-bit secret), revoking the user's earlier unused ones.
    pub async fn issue_token(
        &self,
        tenant: &TenantId,
        context: &RequestContext,
        user: &Name,
        ttl: Option<i64>,
    ) -> Result<(String, i64), UsersError> {
        let ttl = ttl_minutes(ttl, DEFAULT_TOKEN_TTL_MINUTES, MAX_TOKEN_TTL_MINUTES)?;
        let token = format!("{}.{}", user.as_str(), random_secret());
        let now = now_millis();
        let expires_at = now + ttl * MINUTE_MS;
        let hash = self.tokens.hash(tenant, &token);
        // With Vault as the directory, Vault's answer gates the token and no `users` row is needed.
        let gate_checked_elsewhere = self.directory.is_vault();
        if gate_checked_elsewhere {
            match self.directory.lookup(tenant, user).await? {
                None => return Err(UsersError::UserNotFound(user.clone())),
                Some(found) if !found.allowed => {
                    return Err(UsersError::UserNotAllowed(user.clone()))
                }
                Some(_) => {}
            }
        }
        let issued = IssuedToken {
            hash: &hash,
            now,
            expires_at,
            gate_checked_elsewhere,
        };
        let audit = self.user_draft(actions::USER_TOKEN_ISSUE, tenant, user, context);
        match self.store.issue_token(tenant, user, &issued, audit).await? {
            UserGate::Open => Ok((token, expires_at)),
            UserGate::UserMissing => Err(UsersError::UserNotFound(user.clone())),
            UserGate::Closed => Err(UsersError::UserNotAllowed(user.clone())),
        }
    }

    /// Uses a token. Whatever is wrong with it, the answer is [`UsersError::InvalidToken`] after the same work:
    /// one keyed hash of the text as given and one conditional `UPDATE`. A token that matched is audited with its
    /// use; one that did not is a decision `denied`.
    pub async fn validate_token(
        &self,
        tenant: &TenantId,
        context: &RequestContext,
        token: &str,
    ) -> Result<TokenOwner, UsersError> {
        let hash = self.tokens.hash(tenant, token);
        let target = self.token_target(tenant, token);
        if self.directory.is_vault() {
            return self
                .validate_external_token(tenant, context, &hash, target)
                .await;
        }
        let audit = self
            .audit
            .draft(actions::USER_TOKEN_USE, target.clone(), context);
        let consumed = self
            .store
            .consume_token(
                tenant,
                &hash,
                now_millis(),
                &self.codec(tenant).await?,
                audit,
            )
            .await?;
        let Some((user, status, mut roles)) = consumed else {
            return Err(self.token_refused(tenant, context, target));
        };
        roles.sort();
        Ok(TokenOwner {
            user,
            status,
            roles,
        })
    }

    /// With Vault as the directory: finds the token's owner without using it, asks Vault about them (so a Vault
    /// outage answers 503 and leaves the token usable), then uses it with the same conditional `UPDATE`. A token of
    /// a user Vault no longer knows or now denies is used up and refused.
    async fn validate_external_token(
        &self,
        tenant: &TenantId,
        context: &RequestContext,
        hash: &str,
        target: String,
    ) -> Result<TokenOwner, UsersError> {
        let now = now_millis();
        let Some(owner) = self.store.external_token_owner(tenant, hash, now).await? else {
            return Err(self.token_refused(tenant, context, target));
        };
        // The owner's name was valid when the token was issued.
        let name = Name::parse(NameKind::User, &owner).map_err(|_| UsersError::InvalidToken)?;
        let found = self.directory.lookup(tenant, &name).await?;
        // Vault has decided before the token is used, so its use is audited with that answer.
        let allowed = found.as_ref().is_some_and(|found| found.allowed);
        let audit = self
            .audit
            .draft(actions::USER_TOKEN_USE, target.clone(), context)
            .map(|mut draft| {
                draft.outcome = if allowed { "allowed" } else { "denied" }.to_owned();
                draft
            });
        let Some(user) = self
            .store
            .consume_external_token(tenant, hash, now, audit)
            .await?
        else {
            return Err(self.token_refused(tenant, context, target));
        };
        match found {
            Some(found) if found.allowed => {
                let status = found.status().to_owned();
                let mut roles = found.roles;
                roles.sort();
                Ok(TokenOwner {
                    user,
                    status,
                    roles,
                })
            }
            _ => Err(UsersError::InvalidToken),
        }
    }

    pub async fn revoke_tokens(
        &self,
        tenant: &TenantId,
        context: &RequestContext,
        user: &Name,
    ) -> Result<u64, UsersError> {
        let audit = self.user_draft(actions::USER_TOKENS_REVOKE, tenant, user, context);
        Ok(self
            .store
            .revoke_tokens(tenant, user, now_millis(), audit)
            .await?)
    }

    /// The audit target of a presented token: the user it names. Tokens are issued as `<user>.<secret>` and the
    /// secret (URL-safe base64) holds no `.`, so a token that matches its hash names its owner. `user=unknown` for
    /// text that cannot be a token.
    fn token_target(&self, tenant: &TenantId, token: &str) -> String {
        match token
            .rsplit_once('.')
            .and_then(|(user, _)| Name::parse(NameKind::User, user).ok())
        {
            Some(user) => self.audit.user_target(tenant, user.as_str()),
            None => "user=unknown".to_owned(),
        }
    }

    /// A token that matched nothing: nothing was written, so its refusal is a decision for the trail.
    fn token_refused(
        &self,
        tenant: &TenantId,
        context: &RequestContext,
        target: String,
    ) -> UsersError {
        self.audit
            .decision(tenant, actions::USER_TOKEN_USE, || target, false, context);
        UsersError::InvalidToken
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(hour: i64, day: i64) -> AccessFacts {
        AccessFacts {
            status: "allowed".into(),
            enabled: true,
            requests_per_hour: Some(3),
            requests_per_day: Some(10),
            random_shift_minutes: 5,
            last_hour: hour,
            last_day: day,
            active_limit: None,
            is_member: None,
        }
    }

    #[test]
    fn quota_boundaries_day_wins_and_active_limits_stay() {
        let now = 1_000_000;
        assert_eq!(decide(&facts(2, 2), now, |_| 0).rate_limit, RateLimit::None);
        assert_eq!(
            decide(&facts(3, 3), now, |m| m * MINUTE_MS).rate_limit,
            RateLimit::Start(now + HOUR_MS + 5 * MINUTE_MS)
        );
        assert_eq!(
            decide(&facts(3, 10), now, |_| 0).rate_limit,
            RateLimit::Start(now + DAY_MS)
        );
        let mut active = facts(9, 10);
        active.active_limit = Some(now + 5);
        assert_eq!(
            decide(&active, now, |_| 0).rate_limit,
            RateLimit::Active(now + 5)
        );
    }

    #[test]
    fn only_exactly_allowed_enabled_users_get_access() {
        let mut f = facts(0, 0);
        f.is_member = Some(true);
        assert!(decide(&f, 0, |_| 0).access);
        for status in ["Allowed", "allowed ", "not allowed", "denied"] {
            f.status = status.into();
            let d = decide(&f, 0, |_| 0);
            assert!(!d.access && d.permissions == Some(false), "{status}");
        }
        f.status = "allowed".into();
        f.enabled = false;
        assert!(!decide(&f, 0, |_| 0).access);
        assert!(parse_status("allowed ").is_err() && parse_status("xallowed").is_err());
    }

    #[test]
    fn random_shift_stays_within_one_to_n_minutes() {
        assert_eq!(random_shift(0), 0);
        for _ in 0..200 {
            let s = random_shift(3);
            assert!((MINUTE_MS..=3 * MINUTE_MS).contains(&s) && s % MINUTE_MS == 0);
        }
    }
}
