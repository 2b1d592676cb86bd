//! The JSON shapes of `data`, as the seed's clients read them.

use serde::Serialize;

use crate::store::RoleRow;

#[derive(Serialize)]
pub struct RoleView {
    pub role: String,
    pub description: Option<String>,
}

impl From<RoleRow> for RoleView {
    fn from(row: RoleRow) -> Self {
        Self {
            role: row.name,
            description: row.description,
        }
    }
}

pub fn roles(rows: Vec<RoleRow>) -> Vec<RoleView> {
    rows.into_iter().map(RoleView::from).collect()
}

#[derive(Serialize)]
pub struct UserView {
    pub user: String,
}

pub fn users(names: Vec<String>) -> Vec<UserView> {
    names.into_iter().map(|user| UserView { user }).collect()
}

#[derive(Serialize)]
pub struct PermissionView {
    pub name: String,
}

pub fn permissions(names: Vec<String>) -> Vec<PermissionView> {
    names
        .into_iter()
        .map(|name| PermissionView { name })
        .collect()
}

#[derive(Serialize)]
pub struct Created {
    pub created: bool,
}

#[derive(Serialize)]
pub struct Removed {
    pub removed: bool,
}

#[derive(Serialize)]
pub struct HasPermission {
    pub has_permission: bool,
}

#[derive(Serialize)]
pub struct IsMember {
    pub is_member: bool,
}
