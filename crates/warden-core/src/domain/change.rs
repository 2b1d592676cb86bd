//! A change to a tenant's RBAC model: what a write does, what the change log records, and what other instances
//! replay to bring their in-memory model up to date.

use super::{Description, Name};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    CreateRole {
        role: Name,
        description: Option<Description>,
    },
    DeleteRole {
        role: Name,
    },
    Grant {
        role: Name,
        permission: Name,
    },
    Revoke {
        role: Name,
        permission: Name,
    },
    /// Adds the membership, or replaces its expiry when it exists: the membership ends up as the change states it.
    AddMember {
        user: Name,
        role: Name,
        /// When it stops granting anything (Unix ms); `None` for never.
        expires_at: Option<i64>,
    },
    RemoveMember {
        user: Name,
        role: Name,
    },
    /// Removes a membership that expired at or before `at` (Unix ms); one extended meanwhile stays.
    ExpireMember {
        user: Name,
        role: Name,
        at: i64,
    },
    /// `role` gains everything `parent` grants.
    Inherit {
        role: Name,
        parent: Name,
    },
    Disinherit {
        role: Name,
        parent: Name,
    },
}

impl Change {
    /// The role every change is about.
    pub fn role(&self) -> &Name {
        match self {
            Self::CreateRole { role, .. }
            | Self::DeleteRole { role }
            | Self::Grant { role, .. }
            | Self::Revoke { role, .. }
            | Self::AddMember { role, .. }
            | Self::RemoveMember { role, .. }
            | Self::ExpireMember { role, .. }
            | Self::Inherit { role, .. }
            | Self::Disinherit { role, .. } => role,
        }
    }

    /// The short name recorded in the change log and (prefixed) in the audit trail.
    pub fn op(&self) -> &'static str {
        match self {
            Self::CreateRole { .. } => "role.create",
            Self::DeleteRole { .. } => "role.delete",
            Self::Grant { .. } => "permission.grant",
            Self::Revoke { .. } => "permission.revoke",
            Self::AddMember { .. } => "membership.add",
            Self::RemoveMember { .. } => "membership.remove",
            Self::ExpireMember { .. } => "membership.expired",
            Self::Inherit { .. } => "inheritance.add",
            Self::Disinherit { .. } => "inheritance.remove",
        }
    }
}
