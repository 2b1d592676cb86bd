//! Sessions with permission sets: `POST /api/sessions`, `GET|DELETE /api/sessions/{id}`, `…/check`, `…/ttl`,
//! `…/permissions`, `POST /api/sessions/cleanup`, and a user's sessions under `/api/users/{user}/sessions`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::numbers::optional_whole;

/// The body of `POST /api/sessions`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSession {
    /// The session's user (who must exist and be allowed).
    #[schema(value_type = crate::Name)]
    pub user_id: String,
    /// Granted permissions, at least one; `*` matches any run of characters. Duplicates are dropped.
    #[schema(value_type = Vec<SessionPermission>, min_items = 1, max_items = 1000)]
    pub permissions: Vec<String>,
    /// The caller's own session id (as permission-storage-manager's callers bring one), 1 to 255 characters
    /// without control characters; stored only as a keyed hash; 409 while a live session has it. Without it
    /// Warden picks a random 256-bit id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<SessionPermission>)]
    pub session_id: Option<String>,
    /// 1 to 31 536 000 (a year); 3600 when absent.
    #[serde(
        default,
        deserialize_with = "optional_whole",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(minimum = 1, maximum = 31_536_000)]
    pub ttl_seconds: Option<i64>,
    /// A JSON object of at most 16 KiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
}

/// One permission of a session, or one asked about: 1 to 255 characters without control characters.
#[derive(Debug, ToSchema)]
#[schema(pattern = "^[^\\x00-\\x1F\\x7F-\\x9F]{1,255}$")]
pub struct SessionPermission(pub String);

/// The body of `PUT /api/sessions/{id}/permissions` and `POST /api/sessions/{id}/check`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionPermissions {
    /// At most 1000; a check may ask about at most 100 000 (permission, grant) pairs in all.
    #[schema(value_type = Vec<SessionPermission>, max_items = 1000)]
    pub permissions: Vec<String>,
}

/// The body of `PUT /api/sessions/{id}/ttl`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionTtl {
    /// 1 to 31 536 000 seconds from now (required).
    #[serde(default, deserialize_with = "optional_whole")]
    #[schema(value_type = i64, required = true, minimum = 1, maximum = 31_536_000)]
    pub ttl_seconds: Option<i64>,
}

/// A session as shown: never its id, only its public `session_ref`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Session {
    /// A public reference.
    pub session_ref: String,
    /// The session's user.
    pub user_id: String,
    /// Its permissions, as given.
    pub permissions: Vec<String>,
    /// Its metadata.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// RFC 3339 UTC.
    pub expires_at: String,
    /// Whole seconds left, rounded down.
    pub ttl_remaining: i64,
}

/// The answer of `POST /api/sessions`: the secret id (shown only here) and the session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SessionCreated {
    /// The id for `/api/sessions/{id}`; listings never show it.
    pub session_id: String,
    /// The session.
    #[serde(flatten)]
    pub session: Session,
}

/// The answer of `DELETE /api/sessions/{id}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SessionEnded {
    /// Always `true` (an unknown session is 404).
    pub removed: bool,
}

/// How many sessions were removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RemovedCount {
    pub removed: u64,
}

/// Each permission asked about and whether the session grants it, e.g. `{"read": true, "delete": false}`.
pub type PermissionAnswers = BTreeMap<String, bool>;
