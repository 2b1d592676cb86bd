//! Per-user API keys (as `auth` 3.7.1 has them): `POST|GET /api/apikeys/user/{user}`,
//! `PATCH|DELETE /api/apikeys/user/{user}/{key_id}`, `POST /api/apikeys/validate` and
//! `POST /api/apikeys/check_permission`, with the seed's field names.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The optional body of `POST /api/apikeys/user/{user}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiKey {
    /// 1 to 64 letters, digits, spaces, `_`, `.` or `-`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[A-Za-z0-9 _.-]{1,64}$")]
    pub label: Option<String>,
    /// RFC 3339 (or ISO 8601 without an offset, read as UTC), in the future and at most 365 days ahead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
}

/// The answer of `POST /api/apikeys/user/{user}`: the key, shown only now, and its metadata.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ApiKeyCreated {
    /// `rak_` and 43 base62 characters; store it now, it cannot be read again.
    pub api_key: String,
    /// The key's public id (UUID4).
    pub key_id: String,
    pub user: String,
    pub label: Option<String>,
    /// The key's first 12 characters, to recognise it.
    pub key_prefix: String,
    /// RFC 3339 UTC.
    pub created: String,
    pub expires_at: Option<String>,
}

impl std::fmt::Debug for ApiKeyCreated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeyCreated")
            .field("api_key", &"********")
            .field("key_id", &self.key_id)
            .field("key_prefix", &self.key_prefix)
            .finish_non_exhaustive()
    }
}

/// A key's metadata (never the key or its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ApiKeyMeta {
    pub key_id: String,
    pub key_prefix: String,
    pub label: Option<String>,
    /// Not revoked (an expired key stays `is_active` until revoked, as in the seed; see `expires_at`).
    pub is_active: bool,
    /// RFC 3339 UTC.
    pub created: String,
    pub revoked_at: Option<String>,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
}

/// The answer of `GET /api/apikeys/user/{user}`: every key of the user, revoked ones included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ApiKeyList {
    pub count: usize,
    pub keys: Vec<ApiKeyMeta>,
}

/// The body of `PATCH /api/apikeys/user/{user}/{key_id}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyExpiry {
    /// Earlier than the key's current expiry, in the future, at most 365 days ahead.
    #[schema(format = DateTime)]
    pub expires_at: String,
}

/// The answer of `DELETE /api/apikeys/user/{user}/{key_id}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ApiKeyRevoked {
    /// Always `true`.
    pub revoked: bool,
    /// The key had been revoked before (nothing changed).
    pub already_revoked: bool,
}

/// The body of `POST /api/apikeys/validate`.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyToCheck {
    #[schema(pattern = "^rak_[0-9A-Za-z]{43}$")]
    pub api_key: String,
}

/// The body of `POST /api/apikeys/check_permission`.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyPermission {
    #[schema(pattern = "^rak_[0-9A-Za-z]{43}$")]
    pub api_key: String,
    #[schema(value_type = crate::Name)]
    pub permission: String,
}

macro_rules! redacted_debug {
    ($type:ident) => {
        impl std::fmt::Debug for $type {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($type))
                    .field("api_key", &"********")
                    .finish_non_exhaustive()
            }
        }
    };
}
redacted_debug!(ApiKeyToCheck);
redacted_debug!(ApiKeyPermission);

/// Whether a key is valid in the caller's tenant; with `check_permission`, whether its user holds the permission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ApiKeyValidity {
    pub valid: bool,
    /// When not valid: `revoked`, `expired` or `unknown_key` (also a key of another tenant).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When valid: the key's user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// `validate` only, when valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// `validate` only, when valid (`null` for a key that does not expire).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Option<String>>,
    /// `check_permission` only, when valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_permission: Option<bool>,
}
