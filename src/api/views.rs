//! Shaping service results into the `warden-api` answer types the seed's clients read.

use crate::service::{RoleInfo, Written};
use warden_api::{Created, Permission, Removed, Role, UserName};

pub fn roles(rows: Vec<RoleInfo>) -> Vec<Role> {
    rows.into_iter()
        .map(|row| Role {
            role: row.name,
            description: row.description,
            expires_at: None,
        })
        .collect()
}

pub fn users(names: Vec<String>) -> Vec<UserName> {
    names
        .into_iter()
        .map(|user| UserName {
            user,
            expires_at: None,
        })
        .collect()
}

pub fn permissions(names: Vec<String>) -> Vec<Permission> {
    names.into_iter().map(|name| Permission { name }).collect()
}

pub fn created(written: Written) -> Created {
    Created {
        created: written.changed,
        revision: written.revision,
        expires_at: None,
    }
}

pub fn removed(written: Written) -> Removed {
    Removed {
        removed: written.changed,
        revision: written.revision,
    }
}
