//! The JSON shapes of `data`, as the seed's clients read them.

use serde::Serialize;

use crate::service::{RoleInfo, Written};

#[derive(Serialize, utoipa::ToSchema)]
pub struct RoleView {
    pub role: String,
    pub description: Option<String>,
}

impl From<RoleInfo> for RoleView {
    fn from(row: RoleInfo) -> Self {
        Self {
            role: row.name,
            description: row.description,
        }
    }
}

pub fn roles(rows: Vec<RoleInfo>) -> Vec<RoleView> {
    rows.into_iter().map(RoleView::from).collect()
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = UserName)]
pub struct UserView {
    pub user: String,
}

pub fn users(names: Vec<String>) -> Vec<UserView> {
    names.into_iter().map(|user| UserView { user }).collect()
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PermissionView {
    pub name: String,
}

pub fn permissions(names: Vec<String>) -> Vec<PermissionView> {
    names
        .into_iter()
        .map(|name| PermissionView { name })
        .collect()
}

/// A create's answer; `revision` is the tenant's revision after it, for `?min_revision=` reads elsewhere.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Created {
    pub created: bool,
    pub revision: i64,
}

impl From<Written> for Created {
    fn from(written: Written) -> Self {
        Self {
            created: written.changed,
            revision: written.revision,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Removed {
    pub removed: bool,
    pub revision: i64,
}

impl From<Written> for Removed {
    fn from(written: Written) -> Self {
        Self {
            removed: written.changed,
            revision: written.revision,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct HasPermission {
    pub has_permission: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct IsMember {
    pub is_member: bool,
}
