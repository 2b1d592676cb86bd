//! Users: the body of `PUT /api/users/{user}`, the user as Warden answers it, and sensitive changes.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::numbers::optional_whole;

/// A user's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum UserStatus {
    /// May pass access checks (when enabled).
    Allowed,
    /// Every access check is denied.
    Denied,
}

impl UserStatus {
    /// `allowed` or `denied`, as on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allowed => "allowed",
            Self::Denied => "denied",
        }
    }
}

/// Request quotas: `null` (or absent) is no quota.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Quotas {
    /// Access checks allowed per rolling hour.
    #[serde(default, deserialize_with = "optional_whole")]
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    pub requests_per_hour: Option<i64>,
    /// Access checks allowed per rolling day.
    #[serde(default, deserialize_with = "optional_whole")]
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    pub requests_per_day: Option<i64>,
    /// A random shift of a limit's end, in minutes; `null` or absent is 0.
    #[serde(default, deserialize_with = "whole_or_zero")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 1440)]
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

/// Reads an optional object only from a JSON object (serde would also fill a struct from an array).
fn object<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Quotas>, D::Error> {
    let Some(map) = Option::<serde_json::Map<String, Value>>::deserialize(deserializer)? else {
        return Ok(None);
    };
    Quotas::deserialize(Value::Object(map))
        .map(Some)
        .map_err(serde::de::Error::custom)
}

fn whole_or_zero<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    optional_whole(deserializer).map(Option::unwrap_or_default)
}

/// The body of `PUT /api/users/{user}`: the whole user (absent fields take their defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserBody {
    /// `allowed` or `denied` (any other text is 400).
    #[schema(value_type = UserStatus)]
    pub status: String,
    /// `true` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// A JSON object of at most 16 KiB; `{}` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub profile: Option<Value>,
    /// No quotas when absent.
    #[serde(
        default,
        deserialize_with = "object",
        skip_serializing_if = "Option::is_none"
    )]
    pub quotas: Option<Quotas>,
}

impl UserBody {
    /// An enabled user with this status, without profile or quotas.
    pub fn new(status: UserStatus) -> Self {
        Self {
            status: status.as_str().to_owned(),
            enabled: None,
            profile: None,
            quotas: None,
        }
    }

    /// An allowed, enabled user without profile or quotas.
    pub fn allowed() -> Self {
        Self::new(UserStatus::Allowed)
    }

    /// A denied user.
    pub fn denied() -> Self {
        Self::new(UserStatus::Denied)
    }
}

/// A user as Warden holds it. Times are RFC 3339 UTC with milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct User {
    /// The user's name.
    pub user_id: String,
    /// A public UUID.
    pub uuid: String,
    pub status: UserStatus,
    /// Whether the user is enabled.
    pub enabled: bool,
    /// The profile object.
    #[schema(value_type = Object)]
    pub profile: Value,
    /// The user's quotas.
    pub quotas: Quotas,
    /// The user's roles (from memberships); only `GET /api/users/{user}` reports them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
    /// Whether a password is set (`PUT /api/users/{user}/password`).
    #[serde(default)]
    pub has_password: bool,
    /// The last successful password login.
    #[serde(default)]
    pub last_login_at: Option<String>,
    /// The client address of the last successful password login.
    #[serde(default)]
    pub last_login_ip: Option<String>,
}

/// The body of `PUT /api/users/{user}/password`.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPassword {
    /// 8 to 1024 characters.
    #[schema(min_length = 8, max_length = 1024)]
    pub password: String,
}

/// The body of `POST /api/users/{user}/login`.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    /// The user's password (at most 1024 characters).
    #[schema(max_length = 1024)]
    pub password: String,
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewPassword")
            .field("password", &"********")
            .finish()
    }
}

impl std::fmt::Debug for LoginBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginBody")
            .field("password", &"********")
            .finish()
    }
}

/// The answer of `PUT /api/users/{user}/password`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PasswordSet {
    /// Always `true`.
    pub password_set: bool,
    /// The sensitive change the new password is (tokens, sessions and JWTs issued before it are void).
    pub sensitive_changed_at: String,
}

/// The answer of `PUT /api/users/{user}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UserSaved {
    /// Whether the user is new.
    pub created: bool,
    /// The user as stored.
    pub user: User,
}

/// The answer of `POST /api/users/{user}/sensitive-change`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SensitiveChanged {
    /// Every token and session issued before this time is void.
    pub sensitive_changed_at: String,
}
