//! Roles, grants and memberships: the listing items, the write answers and the check answers.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `{"role": …, "description": …}`: one role in a listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Role {
    /// The role's name.
    pub role: String,
    /// The description given when the role was created, if any.
    #[serde(default)]
    pub description: Option<String>,
    /// In a user's roles: when that membership expires (RFC 3339); absent when it does not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

/// `{"user": …}`: one user in a listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UserName {
    /// The user's name, as given in memberships.
    pub user: String,
    /// In a role's members: when that membership expires (RFC 3339); absent when it does not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

/// `{"name": …}`: one permission in a listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Permission {
    /// The permission's name.
    pub name: String,
}

/// The optional body of `POST /api/role/{role}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NewRole {
    /// At most 1024 characters, without control characters other than tab and line breaks.
    #[schema(
        max_length = 1024,
        pattern = "^[^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F-\\x9F]*$"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A create's answer: `false` when the thing already existed (creating is idempotent). `revision` is the
/// tenant's revision after the write, for `?min_revision=` reads elsewhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Created {
    /// Whether this call created it.
    pub created: bool,
    /// The tenant's revision after the write.
    pub revision: i64,
    /// A membership's expiry as written (RFC 3339); absent when it does not expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

/// A removal's answer: `false` when there was nothing to remove (removing is idempotent). `revision` is the
/// tenant's revision after the write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Removed {
    /// Whether this call removed it.
    pub removed: bool,
    /// The tenant's revision after the write.
    pub revision: i64,
}

/// The answer of a permission check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HasPermission {
    /// Whether the role (or one of the user's roles) grants the permission.
    pub has_permission: bool,
    /// Only on a negative answer about a user that is negative whatever their roles: `user_not_key_backed`
    /// (strict users is on and the user holds no active API key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// With `?explain=true`, on a positive answer: the path that decided it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<DecisionPath>,
}

/// Why a user holds a permission: their membership, the inheritance chain from it, and the grant at its end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DecisionPath {
    pub membership: PathMembership,
    /// The roles from the membership's role to the granting role, each inheriting the next; one role when that
    /// role grants it itself.
    pub inheritance: Vec<String>,
    pub grant: PathGrant,
}

/// The membership a decision went through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PathMembership {
    pub role: String,
    /// The resource the membership is scoped to; `null` for a global membership.
    pub scope: Option<String>,
    /// When the membership expires (RFC 3339); `null` when it does not.
    pub expires_at: Option<String>,
}

/// The grant a decision ended at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PathGrant {
    pub role: String,
    /// As granted: the permission asked about, or the pattern that matched it.
    pub permission: String,
    /// Whether the grant is a pattern (`*`).
    pub pattern: bool,
}

/// The answer of a membership check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IsMember {
    /// Whether the user is in the role (under strict users, `false` for a user without an active API key).
    pub is_member: bool,
    /// Only on a negative answer made so by strict users: `user_not_key_backed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When the user's own membership of the role expires (RFC 3339); absent when it does not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

/// The optional body of `POST /api/membership/{user}/{role}`: the membership ends at `expires_at`, or
/// `ttl_seconds` from now; without either it does not expire. Posting again states the expiry anew.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NewMembership {
    /// RFC 3339, in the future.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
    /// Seconds from now, 1 to 3 153 600 000 (a hundred years).
    #[serde(
        default,
        deserialize_with = "crate::numbers::optional_whole",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(minimum = 1, maximum = 3_153_600_000_i64)]
    pub ttl_seconds: Option<i64>,
}
