//! Single-use tokens: issued by `POST /api/users/{user}/tokens`, revoked by `DELETE` on the same path, used by
//! `POST /api/tokens/validate`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::numbers::optional_whole;
use crate::UserStatus;

/// The optional body of `POST /api/users/{user}/tokens`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenTtl {
    /// How long the token lives: 1 to 1440 minutes; 10 when absent.
    #[serde(
        default,
        deserialize_with = "optional_whole",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(minimum = 1, maximum = 1440)]
    pub ttl_minutes: Option<i64>,
}

/// A single-use token `<user>.<secret>`, shown only once, and when it expires (RFC 3339).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TokenIssued {
    pub token: String,
    pub expires_at: String,
}

/// The body of `POST /api/tokens/validate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenToUse {
    /// The token as issued; every failure is the same 401.
    pub token: String,
}

/// The owner of a valid single-use token, which is now used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TokenOwner {
    /// The user the token was issued to.
    pub user_id: String,
    pub status: UserStatus,
    /// The user's roles.
    pub roles: Vec<String>,
}

/// How many tokens (or JWT families) were revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Revoked {
    pub revoked: u64,
}
