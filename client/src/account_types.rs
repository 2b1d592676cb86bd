//! The `data` shapes of the users, access-check, single-use token, session, JWT and audit endpoints, and the
//! bodies sent to them.
//!
//! Answers are `#[non_exhaustive]` (a server adding a field is not a breaking change); bodies have public fields
//! and `Default` or constructors.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A user's `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserStatus {
    /// May pass access checks (when enabled).
    Allowed,
    /// Every access check is denied.
    Denied,
}

/// Request quotas: `None` is no quota.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Quotas {
    /// Access checks allowed per rolling hour.
    pub requests_per_hour: Option<i64>,
    /// Access checks allowed per rolling day.
    pub requests_per_day: Option<i64>,
    /// A random shift of a limit's end, in minutes.
    #[serde(default)]
    pub random_shift_minutes: i64,
}

impl Quotas {
    /// Quotas per hour and per day, without a random shift.
    pub fn new(requests_per_hour: Option<i64>, requests_per_day: Option<i64>) -> Self {
        Self {
            requests_per_hour,
            requests_per_day,
            random_shift_minutes: 0,
        }
    }
}

/// The body of `PUT /api/users/{user}`: the whole user (absent fields take their defaults).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserSpec {
    /// `allowed` or `denied`.
    pub status: UserStatus,
    /// Defaults to `true` on the server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// A JSON object of at most 16 KiB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<Value>,
    /// No quotas when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quotas: Option<Quotas>,
}

impl UserSpec {
    /// An allowed, enabled user without profile or quotas.
    pub fn allowed() -> Self {
        Self {
            status: UserStatus::Allowed,
            enabled: None,
            profile: None,
            quotas: None,
        }
    }

    /// A denied user.
    pub fn denied() -> Self {
        Self {
            status: UserStatus::Denied,
            ..Self::allowed()
        }
    }
}

/// A user as Warden holds it. Times are RFC 3339 UTC strings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct UserInfo {
    /// The user's name.
    pub user_id: String,
    /// A public UUID.
    pub uuid: String,
    /// `allowed` or `denied`.
    pub status: UserStatus,
    /// Whether the user is enabled.
    pub enabled: bool,
    /// The profile object.
    pub profile: Value,
    /// The user's quotas.
    pub quotas: Quotas,
    /// The user's roles (from memberships); only [`crate::Client::get_user`] reports them.
    #[serde(default)]
    pub roles: Option<Vec<String>>,
    /// The end of the request limit in force, if one is.
    #[serde(default)]
    pub rate_limits: Option<String>,
    /// When the user was created.
    pub created_at: String,
    /// When the user was last replaced.
    pub updated_at: String,
    /// The last access check.
    #[serde(default)]
    pub last_seen_at: Option<String>,
    /// When an activation code was used.
    #[serde(default)]
    pub activated_at: Option<String>,
    /// The last sensitive change (tokens and sessions issued before it are void).
    pub sensitive_changed_at: String,
}

/// The answer of `PUT /api/users/{user}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct UserSaved {
    /// Whether the user is new.
    pub created: bool,
    /// The user as stored.
    pub user: UserInfo,
}

/// One page of a listing; pass `next_cursor` to get the next one (`None` on the last page).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Page<T> {
    /// This page's items.
    pub items: Vec<T>,
    /// The cursor of the next page.
    pub next_cursor: Option<String>,
}

/// The body of `POST /api/access/check`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AccessRequest {
    /// The user asking.
    pub user_id: String,
    /// With a role, `permissions` says whether the user is a member.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_id: Option<String>,
    /// Free text, recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_id: Option<String>,
    /// Free text, recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
}

impl AccessRequest {
    /// A check of `user` without a role.
    pub fn user(user: impl Into<String>) -> Self {
        Self {
            user_id: user.into(),
            ..Self::default()
        }
    }
}

/// The answer of an access check.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct AccessDecision {
    /// `allowed` or `denied`.
    pub access: String,
    /// With a role: `allowed` when access is allowed and the user is in the role.
    #[serde(default)]
    pub permissions: Option<String>,
    /// The end of the quota limit in force, if one is.
    #[serde(default)]
    pub rate_limits: Option<String>,
}

impl AccessDecision {
    /// Whether access is allowed.
    pub fn is_allowed(&self) -> bool {
        self.access == "allowed"
    }
}

/// One recorded access check.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct AccessRecord {
    /// The record's id.
    pub id: i64,
    /// As sent.
    pub chat_id: Option<String>,
    /// As sent.
    pub message_id: Option<String>,
    /// As sent.
    pub role_id: Option<String>,
    /// The outcome.
    pub access: String,
    /// The role outcome, if a role was asked about.
    pub permissions: Option<String>,
    /// The limit in force, if any.
    pub rate_limits: Option<String>,
    /// When.
    pub created_at: String,
}

/// A single-use token or an activation code, and when it expires.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct IssuedSecret {
    /// The token (`<user>.<secret>`) or code; shown only once.
    #[serde(alias = "code")]
    pub token: String,
    /// RFC 3339 UTC.
    pub expires_at: String,
}

/// The owner of a valid single-use token.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct TokenOwner {
    /// The user the token was issued to.
    pub user_id: String,
    /// `allowed` or `denied`.
    pub status: UserStatus,
    /// The user's roles.
    pub roles: Vec<String>,
}

/// `{"revoked": n}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Revoked {
    /// How many tokens were revoked.
    pub revoked: u64,
}

/// `{"removed": n}`: how many sessions were removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct RemovedCount {
    /// How many were removed.
    pub removed: u64,
}

/// The body of `POST /api/sessions`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NewSession {
    /// The session's user (who must exist and be allowed).
    pub user_id: String,
    /// Granted permissions; `*` matches any run of characters.
    pub permissions: Vec<String>,
    /// 1 to 31 536 000; 3600 when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl_seconds: Option<i64>,
    /// A JSON object of at most 16 KiB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
}

/// A session (never with its secret id, except in [`CreatedSession`]).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Session {
    /// A public reference.
    pub session_ref: String,
    /// The session's user.
    pub user_id: String,
    /// Its permissions, as given.
    pub permissions: Vec<String>,
    /// Its metadata.
    #[serde(default)]
    pub metadata: Option<Value>,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// RFC 3339 UTC.
    pub expires_at: String,
    /// Whole seconds left.
    pub ttl_remaining: i64,
}

/// The answer of `POST /api/sessions`: the secret id and the session.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct CreatedSession {
    /// The id for `/api/sessions/{id}`; shown only here.
    pub session_id: String,
    /// The session.
    #[serde(flatten)]
    pub session: Session,
}

/// Each permission asked about and whether the session grants it.
pub type PermissionAnswers = BTreeMap<String, bool>;

/// An access JWT and its refresh token.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct TokenPair {
    /// The JWT.
    pub access_token: String,
    /// `Bearer`.
    pub token_type: String,
    /// Seconds.
    pub expires_in: u64,
    /// Single use: refreshing rotates it.
    pub refresh_token: String,
    /// Seconds.
    pub refresh_expires_in: u64,
}

/// An access token's claims.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Claims {
    /// The user.
    pub sub: String,
    /// The tenant's fingerprint.
    pub tid: String,
    /// The user's roles at issue time.
    pub roles: Vec<String>,
    /// The user's permissions at issue time.
    pub permissions: Vec<String>,
    /// The issuer (`AUTH_JWT_ISSUER`); a verifier pins it.
    #[serde(default)]
    pub iss: String,
    /// The tenant's audience (its id unless set with `PUT /api/settings`); a verifier pins it.
    #[serde(default)]
    pub aud: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
    /// The token's id.
    pub jti: String,
    /// Its refresh family.
    pub fam: String,
}

/// The answer of a successful verification (a failed one is [`crate::Error::Refused`] with status 401).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Verified {
    /// Always `true`.
    pub valid: bool,
    /// The token's claims.
    pub claims: Claims,
}

/// Filters and paging of `GET /api/audit`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// 1 to 500; 50 when absent.
    pub limit: Option<u32>,
    /// A `next_cursor` from an earlier page.
    pub cursor: Option<String>,
    /// An action such as `role.create`.
    pub action: Option<String>,
    /// RFC 3339: entries at or after it.
    pub since: Option<String>,
}

/// One audit entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct AuditEntry {
    /// Its place in the tenant's chain.
    pub seq: i64,
    /// RFC 3339 UTC.
    pub at: String,
    /// E.g. `role.create`.
    pub action: String,
    /// What it acted on.
    pub target: String,
    /// The outcome.
    pub outcome: String,
    /// The request's id.
    #[serde(default)]
    pub request_id: Option<String>,
    /// The caller's address.
    #[serde(default)]
    pub client_ip: Option<String>,
    /// The caller's user agent.
    #[serde(default)]
    pub user_agent: Option<String>,
    /// The previous entry's hash.
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

/// A page of audit entries, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct AuditPage {
    /// The entries.
    pub entries: Vec<AuditEntry>,
    /// The cursor of the next (older) page.
    pub next_cursor: Option<String>,
}
