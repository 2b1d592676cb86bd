//! The `data` shapes of Warden's answers, one struct per shape in the README's API table.
//!
//! They are `#[non_exhaustive]` so that a server adding a field is not a breaking change for callers; read them
//! by field (`answer.created`), not by constructing them.

use serde::Deserialize;

/// `{"status": "ok", "database": …}`: the answer of `/ping`, `/livez` and `/readyz`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Health {
    /// `ok` while healthy.
    pub status: String,
    /// The database backend (`sqlite` or `postgresql`); only `/readyz` reports it.
    #[serde(default)]
    pub database: Option<String>,
}

/// `{"created": bool}`: `false` when the thing already existed (creating is idempotent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Created {
    /// Whether this call created it.
    pub created: bool,
}

/// `{"removed": bool}`: `false` when there was nothing to remove (removing is idempotent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Removed {
    /// Whether this call removed it.
    pub removed: bool,
}

/// `{"has_permission": bool}`: the answer of a permission check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct HasPermission {
    /// Whether the role (or one of the user's roles) grants the permission.
    pub has_permission: bool,
}

/// `{"is_member": bool}`: the answer of a membership check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct IsMember {
    /// Whether the user is in the role.
    pub is_member: bool,
}

/// `{"role": …, "description": …}`: one role in a listing.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Role {
    /// The role's name.
    pub role: String,
    /// The description given when the role was created, if any.
    #[serde(default)]
    pub description: Option<String>,
}

/// `{"user": …}`: one user in a listing.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct User {
    /// The user's name, as given in memberships.
    pub user: String,
}

/// `{"name": …}`: one permission in a listing.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Permission {
    /// The permission's name.
    pub name: String,
}
