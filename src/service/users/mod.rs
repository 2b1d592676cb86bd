//! Users: their rows, listings, deletion and sensitive changes, and what the other user features share (the
//! service, its error, input limits). Access checks with quotas, activation codes, single-use tokens and password
//! credentials each have their own file.
//!
//! The rules live here; each request's reads and writes happen in one store transaction, with its audit entry.
//! Access checks and refused credentials (a token or activation code that does not match) write no change: they
//! are decisions, queued for the trail when decision logging is on.

mod access_checks;
mod activation;
mod api_keys;
mod passwords;
mod single_use_tokens;

pub use access_checks::{AccessInput, RequestListing};
pub use api_keys::{
    auth_digest_of, imported_key_digest, is_key_shaped, key_hasher, ApiKeyInfo, KeyRefusal,
    MAX_ACTIVE_KEYS,
};
pub use single_use_tokens::TokenOwner;

use serde_json::Value;

use warden_core::crypto::KeyedHasher;
use warden_core::domain::UserStatus;
use warden_core::domain::{actions, Name, RequestContext, TenantId};
use warden_store::{Store, StoreError, UserRecord, UserWrite};

use super::{AuditLog, ServiceError, Tenants, UserDirectory};

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
    /// The user holds the most active API keys allowed (409).
    #[error("user `{0}` holds {max} active API keys, the most allowed; revoke one first", max = api_keys::MAX_ACTIVE_KEYS)]
    TooManyKeys(Name),
    /// A key id the user does not have (also another user's or tenant's).
    #[error("API key not found")]
    ApiKeyNotFound,
    /// A wrong password, a user without one, or an unknown user: one answer for all (401).
    #[error("invalid user name or password")]
    InvalidCredentials,
    /// Too many failed logins of this user: try again after the wait (429 with `Retry-After`).
    #[error("too many failed logins, try again in {} s", .0.as_secs().max(1))]
    LoginBackoff(std::time::Duration),
    /// The tenant requires activation and the user has not been activated (403).
    #[error("user `{0}` is not activated")]
    NotActivated(Name),
    /// A caller-chosen session id that a live session of the tenant already has.
    #[error("a live session already has this session id")]
    SessionIdTaken,
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

/// A page of results and the cursor for the next one.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

#[derive(Clone, Debug)]
pub struct UsersService {
    store: Store,
    tokens: KeyedHasher,
    codes: KeyedHasher,
    api_keys: KeyedHasher,
    tenants: Tenants,
    /// Where status, roles and quotas come from (the database unless `AUTH_USER_CONFIG_SOURCE=vault`).
    directory: UserDirectory,
    audit: AuditLog,
    /// Recent password-login failures, for the per-user back-off.
    logins: passwords::LoginThrottle,
}

/// Parses a status by exact match; anything else is refused (never a substring or case-folded match).
pub fn parse_status(raw: &str) -> Result<UserStatus, UsersError> {
    UserStatus::parse(raw).ok_or_else(|| {
        invalid(format!(
            "status `{}` must be `allowed` or `denied`",
            printable(raw)
        ))
    })
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

pub(super) fn page_limit(limit: Option<i64>) -> Result<i64, UsersError> {
    match limit.unwrap_or(50) {
        n if (1..=500).contains(&n) => Ok(n),
        _ => Err(invalid("`limit` must be a whole number from 1 to 500")),
    }
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
            api_keys: api_keys::key_hasher(tenants),
            tenants: tenants.clone(),
            directory: UserDirectory::Database,
            audit,
            logins: passwords::LoginThrottle::default(),
        }
    }

    /// The entry a write about `user` records in its transaction; `None` when change logging is off.
    fn user_draft(
        &self,
        action: &str,
        tenant: &TenantId,
        user: &Name,
        context: &RequestContext,
    ) -> Option<warden_store::AuditDraft> {
        let target = self.audit.user_target(tenant, user.as_str());
        self.audit.draft(action, target, context)
    }

    /// How the tenant stores user names in memberships.
    async fn codec(
        &self,
        tenant: &TenantId,
    ) -> Result<warden_core::crypto::FieldCodec, UsersError> {
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
        let status = status.map(parse_status).transpose()?;
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
}
