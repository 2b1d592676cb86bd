//! Resources and scoped memberships in the model: the resource tree (each resource knows its parent and children)
//! and, per user, the memberships that apply at one resource and everything below it.
//!
//! A scoped decision asks the global question first, then walks the resource's ancestors (at most
//! [`MAX_RESOURCE_DEPTH`](crate::rules::resources::MAX_RESOURCE_DEPTH)) against the user's scoped memberships
//! whose role holds the permission: no I/O, and nothing at all for a user without scoped memberships.

use super::ids::{Id, IdSet};
use super::tenant_model::slot;
use super::TenantModel;
use crate::rules::resources::MAX_RESOURCE_DEPTH;

/// A resource in the tree.
#[derive(Debug, Default)]
pub(super) struct ResourceNode {
    pub(super) parent: Option<Id>,
    pub(super) children: IdSet,
}

/// A membership that applies at `resource` and below, until `until` (Unix ms; `i64::MAX` for never).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ScopedMembership {
    pub(super) role: Id,
    pub(super) resource: Id,
    pub(super) until: i64,
}

/// The expiry of a membership that never expires.
pub(super) const NEVER: i64 = i64::MAX;

impl TenantModel {
    pub(super) fn resource_node(&self, resource: Id) -> Option<&ResourceNode> {
        self.resources
            .get(resource as usize)
            .and_then(Option::as_ref)
    }

    /// Whether the resource exists.
    pub fn has_resource(&self, resource: &str) -> bool {
        self.resource_names
            .get(resource)
            .is_some_and(|id| self.resource_node(id).is_some())
    }

    /// Creates the resource or moves it under `parent` (a missing parent leaves it a root).
    pub(super) fn put_resource(&mut self, resource: &str, parent: Option<&str>) {
        let id = self.resource_names.intern(resource);
        let parent = parent.and_then(|p| self.resource_names.get(p));
        if slot(&mut self.resources, id).is_none() {
            self.resources[id as usize] = Some(ResourceNode::default());
            let kind = resource.split_once(':').map_or(resource, |(kind, _)| kind);
            self.resource_types
                .entry(kind.into())
                .or_default()
                .insert(id);
        }
        self.set_parent(id, parent);
    }

    /// Moves an existing resource under `parent` (or to the roots).
    pub(super) fn set_parent(&mut self, id: Id, parent: Option<Id>) {
        let old = self.resource_node(id).and_then(|n| n.parent);
        if old == parent || parent == Some(id) {
            return;
        }
        if let Some(old) = old {
            if let Some(Some(node)) = self.resources.get_mut(old as usize) {
                node.children.remove(id);
            }
        }
        if let Some(parent) = parent {
            if let Some(Some(node)) = self.resources.get_mut(parent as usize) {
                node.children.insert(id);
            }
        }
        if let Some(Some(node)) = self.resources.get_mut(id as usize) {
            node.parent = parent;
        }
    }

    /// Removes the resource with the memberships scoped to it; its children (the store refuses to delete a
    /// resource that has any) become roots.
    pub(super) fn delete_resource(&mut self, resource: &str) {
        let Some(id) = self.resource_names.get(resource) else {
            return;
        };
        let Some(node) = self.resources.get_mut(id as usize).and_then(Option::take) else {
            return;
        };
        for child in node.children.iter() {
            if let Some(Some(child)) = self.resources.get_mut(child as usize) {
                child.parent = None;
            }
        }
        if let Some(parent) = node.parent {
            if let Some(Some(parent)) = self.resources.get_mut(parent as usize) {
                parent.children.remove(id);
            }
        }
        for (user, role) in self.scoped_at.remove(&id).unwrap_or_default() {
            self.drop_scoped(user, role, id);
        }
        let kind = resource.split_once(':').map_or(resource, |(kind, _)| kind);
        if let Some(ids) = self.resource_types.get_mut(kind) {
            ids.remove(id);
            if ids.is_empty() {
                self.resource_types.remove(kind);
            }
        }
        self.resource_names.release(id);
    }

    /// Adds the scoped membership as stated, replacing the expiry of one already there.
    pub(super) fn add_scoped(
        &mut self,
        user: &str,
        role: &str,
        resource: &str,
        expires_at: Option<i64>,
    ) {
        let (Some(role), Some(resource)) = (self.role_id(role), self.resource_names.get(resource))
        else {
            return;
        };
        let user = self.user_names.intern(user);
        self.add_scoped_ids(user, role, resource, expires_at);
    }

    /// [`Self::add_scoped`] by ids (the user's interned already).
    pub(super) fn add_scoped_ids(
        &mut self,
        user: Id,
        role: Id,
        resource: Id,
        expires_at: Option<i64>,
    ) {
        if self.resource_node(resource).is_none() || self.node(role).is_none() {
            self.release_user_if_unused(user);
            return;
        }
        let until = expires_at.unwrap_or(NEVER);
        let list = self.scoped.entry(user).or_default();
        if let Some(known) = list
            .iter_mut()
            .find(|s| s.role == role && s.resource == resource)
        {
            let old = std::mem::replace(&mut known.until, until);
            if old != NEVER {
                self.expiries.remove(&(old, user, role, resource));
            }
        } else {
            list.push(ScopedMembership {
                role,
                resource,
                until,
            });
            self.scoped_at
                .entry(resource)
                .or_default()
                .push((user, role));
            self.memberships += 1;
        }
        if until != NEVER {
            self.expiries.insert((until, user, role, resource));
        }
    }

    pub(super) fn remove_scoped(&mut self, user: &str, role: &str, resource: &str) {
        if let (Some(user), Some(role), Some(resource)) = (
            self.user_names.get(user),
            self.role_id(role),
            self.resource_names.get(resource),
        ) {
            if let Some(list) = self.scoped_at.get_mut(&resource) {
                list.retain(|&(u, r)| !(u == user && r == role));
                if list.is_empty() {
                    self.scoped_at.remove(&resource);
                }
            }
            self.drop_scoped(user, role, resource);
        }
    }

    /// Removes the scoped membership when it expired at or before `at`.
    pub(super) fn expire_scoped(&mut self, user: &str, role: &str, resource: &str, at: i64) {
        let expired = self
            .user_names
            .get(user)
            .and_then(|user| self.scoped.get(&user))
            .zip(self.role_id(role))
            .zip(self.resource_names.get(resource))
            .is_some_and(|((list, role), resource)| {
                list.iter()
                    .any(|s| s.role == role && s.resource == resource && s.until <= at)
            });
        if expired {
            self.remove_scoped(user, role, resource);
        }
    }

    /// Removes the user's membership from the per-user list and the expiries (the caller keeps `scoped_at`),
    /// releasing the user's name when nothing else holds it.
    pub(super) fn drop_scoped(&mut self, user: Id, role: Id, resource: Id) {
        let Some(list) = self.scoped.get_mut(&user) else {
            return;
        };
        let Some(at) = list
            .iter()
            .position(|s| s.role == role && s.resource == resource)
        else {
            return;
        };
        let gone = list.swap_remove(at);
        if list.is_empty() {
            self.scoped.remove(&user);
        }
        if gone.until != NEVER {
            self.expiries.remove(&(gone.until, user, role, resource));
        }
        self.memberships -= 1;
        self.release_user_if_unused(user);
    }

    /// The scoped memberships of a role, for its deletion.
    pub(super) fn drop_scoped_of_role(&mut self, role: Id) {
        let doomed: Vec<(Id, Id)> = self
            .scoped
            .iter()
            .flat_map(|(&user, list)| {
                list.iter()
                    .filter(|s| s.role == role)
                    .map(move |s| (user, s.resource))
            })
            .collect();
        for (user, resource) in doomed {
            if let Some(list) = self.scoped_at.get_mut(&resource) {
                list.retain(|&(u, r)| !(u == user && r == role));
                if list.is_empty() {
                    self.scoped_at.remove(&resource);
                }
            }
            self.drop_scoped(user, role, resource);
        }
    }

    /// The resource and its ancestors, nearest first (at most [`MAX_RESOURCE_DEPTH`]).
    pub(super) fn resource_path(&self, resource: Id) -> Vec<Id> {
        let mut path = Vec::with_capacity(8);
        let mut at = Some(resource);
        while let Some(id) = at {
            if path.len() == MAX_RESOURCE_DEPTH || self.resource_node(id).is_none() {
                break;
            }
            path.push(id);
            at = self.resource_node(id).and_then(|n| n.parent);
        }
        path
    }

    /// The resource and everything below it.
    pub(super) fn resource_subtree(&self, resource: Id) -> Vec<Id> {
        let mut found = vec![resource];
        let mut at = 0;
        while at < found.len() {
            if let Some(node) = self.resource_node(found[at]) {
                found.extend(node.children.iter());
            }
            at += 1;
        }
        found
    }

    /// The user's scoped memberships that apply at `path` (a resource and its ancestors) at `now`, as (role,
    /// the resource it is scoped to).
    pub(super) fn scoped_roles_on(&self, user: Id, path: &[Id], now: i64) -> Vec<(Id, Id)> {
        self.scoped
            .get(&user)
            .map(|list| {
                list.iter()
                    .filter(|s| s.until > now && path.contains(&s.resource))
                    .map(|s| (s.role, s.resource))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// When the user's membership of the role scoped to the resource expires: `Some(None)` for never, `None`
    /// when there is none (or it expired at `now`).
    pub(super) fn scoped_membership(
        &self,
        user: Id,
        role: Id,
        resource: Id,
        now: i64,
    ) -> Option<Option<i64>> {
        self.scoped
            .get(&user)?
            .iter()
            .find(|s| s.role == role && s.resource == resource && s.until > now)
            .map(|s| (s.until != NEVER).then_some(s.until))
    }

    pub(super) fn scoped_heap_bytes(&self) -> usize {
        let nodes: usize = self
            .resources
            .iter()
            .flatten()
            .map(|n| n.children.heap_bytes())
            .sum();
        nodes
            + self.resources.capacity() * std::mem::size_of::<Option<ResourceNode>>()
            + self.resource_names.heap_bytes()
            + self
                .resource_types
                .iter()
                .map(|(k, v)| k.len() + v.heap_bytes() + 48)
                .sum::<usize>()
            + self
                .scoped
                .values()
                .map(|l| l.capacity() * std::mem::size_of::<ScopedMembership>() + 32)
                .sum::<usize>()
            + self
                .scoped_at
                .values()
                .map(|l| l.capacity() * std::mem::size_of::<(Id, Id)>() + 32)
                .sum::<usize>()
    }
}

#[cfg(test)]
#[path = "resources_tests.rs"]
mod tests;
