//! Building a model from rows as they arrive: a store streams a tenant's rows into a [`ModelSink`], either a
//! [`ModelSnapshot`] (which keeps them) or a [`ModelBuilder`] (which interns each row at once, so a load never
//! holds a million rows of strings at the same time).
//!
//! Rows come kind by kind: roles first, then grants, memberships, inheritance edges, resources and scoped
//! memberships; a row naming a role or resource not seen yet is skipped, as a write under a missing role is.

use super::ids::{Id, IdSet};
use super::tenant_model::slot;
use super::{ModelSnapshot, TenantModel};

/// Where a store puts a tenant's rows, in the order of the module doc.
pub trait ModelSink {
    fn revision(&mut self, revision: i64);
    fn strict_users(&mut self, on: bool);
    fn role(&mut self, role: String, description: Option<String>);
    fn grant(&mut self, role: &str, permission: &str);
    /// A membership, expiring at `expires_at` (Unix ms) when given.
    fn member(&mut self, role: &str, user: &str, expires_at: Option<i64>);
    fn inherit(&mut self, role: &str, parent: &str);
    /// A resource (`type:id`) and its parent; parents may come after their children.
    fn resource(&mut self, resource: &str, parent: Option<&str>);
    fn scoped_member(&mut self, role: &str, user: &str, resource: &str, expires_at: Option<i64>);
    /// Under strict users: a user with an active API key, and when their last one expires.
    fn key_backed(&mut self, user: String, until: i64);
}

impl ModelSink for ModelSnapshot {
    fn revision(&mut self, revision: i64) {
        self.revision = revision;
    }
    fn strict_users(&mut self, on: bool) {
        self.strict_users = on;
    }
    fn role(&mut self, role: String, description: Option<String>) {
        self.roles.push((role, description));
    }
    fn grant(&mut self, role: &str, permission: &str) {
        self.grants.push((role.to_owned(), permission.to_owned()));
    }
    fn member(&mut self, role: &str, user: &str, expires_at: Option<i64>) {
        self.members
            .push((role.to_owned(), user.to_owned(), expires_at));
    }
    fn inherit(&mut self, role: &str, parent: &str) {
        self.inherits.push((role.to_owned(), parent.to_owned()));
    }
    fn resource(&mut self, resource: &str, parent: Option<&str>) {
        self.resources
            .push((resource.to_owned(), parent.map(str::to_owned)));
    }
    fn scoped_member(&mut self, role: &str, user: &str, resource: &str, expires_at: Option<i64>) {
        self.scoped_members.push((
            role.to_owned(),
            user.to_owned(),
            resource.to_owned(),
            expires_at,
        ));
    }
    fn key_backed(&mut self, user: String, until: i64) {
        self.key_backed.push((user, until));
    }
}

/// Builds a [`TenantModel`] row by row: each name is interned as it arrives and each edge kept as ids, collected
/// unsorted and sorted once in [`ModelBuilder::finish`].
#[derive(Debug, Default)]
pub struct ModelBuilder {
    model: TenantModel,
    /// By role id: its permanent members, and its grants.
    members: Vec<Vec<Id>>,
    granted: Vec<Vec<Id>>,
    /// By user id: their permanent roles.
    user_roles: Vec<Vec<Id>>,
    /// (user, role, expiry)
    timed: Vec<(Id, Id, i64)>,
    inherits: Vec<(Id, Id)>,
    /// (resource, its parent's name): linked once every resource is known.
    parents: Vec<(Id, Box<str>)>,
    /// (user, role, resource, expiry): added once the tree is linked.
    scoped: Vec<(Id, Id, Id, Option<i64>)>,
}

impl ModelBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// The model, every set sorted once and every index derived.
    pub fn finish(self) -> TenantModel {
        let Self {
            mut model,
            mut members,
            mut granted,
            user_roles,
            timed,
            inherits,
            parents,
            scoped,
        } = self;
        for (role, node) in model.roles.iter_mut().enumerate() {
            if let Some(node) = node {
                node.members = IdSet::from_unsorted(
                    members
                        .get_mut(role)
                        .map(std::mem::take)
                        .unwrap_or_default(),
                );
                node.permissions = IdSet::from_unsorted(
                    granted
                        .get_mut(role)
                        .map(std::mem::take)
                        .unwrap_or_default(),
                );
            }
        }
        let users = model.user_names.capacity();
        let mut user_roles = user_roles;
        user_roles.resize_with(users.max(user_roles.len()), Vec::new);
        model.users = user_roles.into_iter().map(IdSet::from_unsorted).collect();
        model.memberships = model.users.iter().map(IdSet::len).sum();
        for (user, role, at) in timed {
            model.add_timed(user, role, at);
        }
        model.recount_grants();
        for (role, parent) in inherits {
            model.link(role, parent);
        }
        for (resource, parent) in parents {
            if let Some(parent) = model.resource_names.get(&parent) {
                model.set_parent(resource, Some(parent));
            }
        }
        for (user, role, resource, expires_at) in scoped {
            model.add_scoped_ids(user, role, resource, expires_at);
        }
        model.rebuild_holders();
        model
    }
}

impl ModelSink for ModelBuilder {
    fn revision(&mut self, revision: i64) {
        self.model.set_revision(revision);
    }
    fn strict_users(&mut self, on: bool) {
        self.model.set_strict_users(on);
    }
    fn role(&mut self, role: String, description: Option<String>) {
        self.model
            .create_role(&role, description.map(String::into_boxed_str));
    }
    fn grant(&mut self, role: &str, permission: &str) {
        if let Some(role) = self.model.role_id(role) {
            let permission = self.model.permission_names.intern(permission);
            slot(&mut self.granted, role).push(permission);
        }
    }
    fn member(&mut self, role: &str, user: &str, expires_at: Option<i64>) {
        let Some(role) = self.model.role_id(role) else {
            return;
        };
        let user = self.model.user_names.intern(user);
        match expires_at {
            None => {
                slot(&mut self.members, role).push(user);
                slot(&mut self.user_roles, user).push(role);
            }
            Some(at) => self.timed.push((user, role, at)),
        }
    }
    fn inherit(&mut self, role: &str, parent: &str) {
        if let (Some(role), Some(parent)) = (self.model.role_id(role), self.model.role_id(parent)) {
            self.inherits.push((role, parent));
        }
    }
    fn resource(&mut self, resource: &str, parent: Option<&str>) {
        self.model.put_resource(resource, None);
        if let (Some(id), Some(parent)) = (self.model.resource_names.get(resource), parent) {
            self.parents.push((id, parent.into()));
        }
    }
    fn scoped_member(&mut self, role: &str, user: &str, resource: &str, expires_at: Option<i64>) {
        let (Some(role), Some(resource)) = (
            self.model.role_id(role),
            self.model.resource_names.get(resource),
        ) else {
            return;
        };
        let user = self.model.user_names.intern(user);
        self.scoped.push((user, role, resource, expires_at));
    }
    fn key_backed(&mut self, user: String, until: i64) {
        self.model.add_key_backed(user, until);
    }
}
