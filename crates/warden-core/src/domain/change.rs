//! A change to a tenant's RBAC model: what a write does, what the change log records, and what other instances
//! replay to bring their in-memory model up to date.

use super::{Description, Name, Resource};

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
        /// The resource it applies to (with everything below it); `None` for everywhere.
        scope: Option<Resource>,
    },
    RemoveMember {
        user: Name,
        role: Name,
        scope: Option<Resource>,
    },
    /// Removes a membership that expired at or before `at` (Unix ms); one extended meanwhile stays.
    ExpireMember {
        user: Name,
        role: Name,
        at: i64,
        scope: Option<Resource>,
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
    /// Creates the resource or replaces its parent and properties.
    PutResource {
        resource: Resource,
        parent: Option<Resource>,
        /// A JSON object as text; kept by the store only (the model has no use for it).
        properties: Option<String>,
    },
    /// Removes a resource without children, with the memberships scoped to it.
    DeleteResource {
        resource: Resource,
    },
}

impl Change {
    /// The name the change log files the change under: the role it is about, or a resource's type.
    pub fn role(&self) -> &Name {
        match self {
            Self::PutResource { resource, .. } | Self::DeleteResource { resource } => {
                resource.kind()
            }
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

    /// The resource a membership change is scoped to, or the resource a resource change is about.
    pub fn scope(&self) -> Option<&Resource> {
        match self {
            Self::AddMember { scope, .. }
            | Self::RemoveMember { scope, .. }
            | Self::ExpireMember { scope, .. } => scope.as_ref(),
            Self::PutResource { resource, .. } | Self::DeleteResource { resource } => {
                Some(resource)
            }
            _ => None,
        }
    }

    /// Whether the change is about a resource rather than a role.
    pub fn is_resource_change(&self) -> bool {
        matches!(self, Self::PutResource { .. } | Self::DeleteResource { .. })
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
            Self::PutResource { .. } => "resource.put",
            Self::DeleteResource { .. } => "resource.delete",
        }
    }
}
