//! One tenant's RBAC model in memory: roles with their grants, members and inheritance edges, indexed both ways so
//! every decision is a few look-ups.
//!
//! Names are interned (see [`super::ids`]): every edge is a pair of `u32`s in sorted vectors. For each permission
//! the model keeps its *holders*, the roles that grant it directly or through inheritance, so a decision costs the
//! same with a hierarchy as without: are any of the user's roles among the permission's holders. Inheritance
//! edges and grants keep the holders up to date when they change (a write walks the few roles it affects).

use std::collections::{BTreeSet, HashMap};

use super::builder::{ModelBuilder, ModelSink};
use super::holders::HolderSet;
use super::ids::{Id, IdSet, Interner};
use super::resources::{ResourceNode, ScopedMembership};
use super::ModelSnapshot;
use crate::domain::Change;

#[derive(Debug, Default)]
pub(super) struct RoleNode {
    pub(super) description: Option<Box<str>>,
    /// Permissions granted to this role itself.
    pub(super) permissions: IdSet,
    /// Users who are members of this role itself, for good.
    pub(super) members: IdSet,
    /// Users whose membership of this role itself expires (see [`TenantModel::timed`]).
    pub(super) timed_members: IdSet,
    /// Roles this one inherits.
    pub(super) parents: IdSet,
    /// Roles inheriting this one.
    pub(super) children: IdSet,
}

/// Roles with their grants, members and inheritance, plus the reverse indexes user → roles and permission →
/// holders.
#[derive(Debug, Default)]
pub struct TenantModel {
    revision: i64,
    pub(super) role_names: Interner,
    /// By role id; `None` for a freed id.
    pub(super) roles: Vec<Option<RoleNode>>,
    pub(super) user_names: Interner,
    /// By user id: the roles the user is a member of for good.
    pub(super) users: Vec<IdSet>,
    /// Users with memberships that expire: (role, expiry in Unix ms). Kept apart so that a decision about a user
    /// without any reads no clock, and an expired membership grants nothing from its expiry on, whether or not
    /// it was removed yet.
    pub(super) timed: HashMap<Id, Vec<(Id, i64)>, foldhash::fast::RandomState>,
    /// Every expiring membership by expiry, for the background removal: (expiry, user, role, the resource it is
    /// scoped to or [`GLOBAL`]).
    pub(super) expiries: BTreeSet<(i64, Id, Id, Id)>,
    pub(super) resource_names: Interner,
    /// By resource id; `None` for a freed id.
    pub(super) resources: Vec<Option<ResourceNode>>,
    /// Resource type → its resources, for listings.
    pub(super) resource_types: HashMap<Box<str>, IdSet, foldhash::fast::RandomState>,
    /// User → their scoped memberships (few per user).
    pub(super) scoped: HashMap<Id, Vec<ScopedMembership>, foldhash::fast::RandomState>,
    /// Resource → the (user, role) memberships scoped to it, for reverse look-ups and the resource's deletion.
    pub(super) scoped_at: HashMap<Id, Vec<(Id, Id)>, foldhash::fast::RandomState>,
    pub(super) permission_names: Interner,
    /// By permission id: the roles that grant it, directly or through inheritance.
    pub(super) holders: Vec<HolderSet>,
    /// The granted permissions that are patterns (hold `*`): a decision about any permission also looks at
    /// those that match it, so a tenant without patterns pays nothing for them.
    pub(super) patterns: IdSet,
    /// Kept as the model changes, so the memory estimate and the quotas cost O(1).
    grants: usize,
    pub(super) memberships: usize,
    edges: usize,
    holdings: usize,
    /// Strict users: decisions about a user without an active API key are negative.
    strict_users: bool,
    /// Under `strict_users`: user → when their last active API key expires (Unix ms).
    key_backed: HashMap<Box<str>, i64, foldhash::fast::RandomState>,
}

/// How many rows of each kind a model holds (for the per-tenant quotas).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ModelCounts {
    pub roles: usize,
    pub grants: usize,
    pub memberships: usize,
    pub inheritance_edges: usize,
    pub resources: usize,
}

/// The scope of a global membership in [`TenantModel::expiries`].
pub(super) const GLOBAL: Id = Id::MAX;

/// An expired membership awaiting removal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueExpiry {
    pub user: String,
    pub role: String,
    /// The resource it is scoped to (`type:id`); `None` for a global one.
    pub scope: Option<String>,
    /// Its expiry (Unix ms).
    pub at: i64,
}

/// Rough bytes per interned name (the name, its slot and its index entry, its per-id table entry).
const NAME_OVERHEAD: usize = 72;
/// Bytes per element of a sorted id set.
const EDGE_BYTES: usize = std::mem::size_of::<Id>();

/// Grows `table` so that `id` indexes it.
pub(super) fn slot<T: Default>(table: &mut Vec<T>, id: Id) -> &mut T {
    let at = id as usize;
    if table.len() <= at {
        table.resize_with(at + 1, T::default);
    }
    &mut table[at]
}

impl TenantModel {
    /// Builds the model in bulk (see [`ModelBuilder`]).
    pub fn from_snapshot(snapshot: ModelSnapshot) -> Self {
        let mut builder = ModelBuilder::new();
        builder.revision(snapshot.revision);
        builder.strict_users(snapshot.strict_users);
        for (user, until) in snapshot.key_backed {
            builder.key_backed(user, until);
        }
        for (role, description) in snapshot.roles {
            builder.role(role, description);
        }
        for (role, permission) in &snapshot.grants {
            builder.grant(role, permission);
        }
        for (role, user, expires_at) in &snapshot.members {
            builder.member(role, user, *expires_at);
        }
        for (role, parent) in &snapshot.inherits {
            builder.inherit(role, parent);
        }
        for (resource, parent) in &snapshot.resources {
            builder.resource(resource, parent.as_deref());
        }
        for (role, user, resource, expires_at) in &snapshot.scoped_members {
            builder.scoped_member(role, user, resource, *expires_at);
        }
        builder.finish()
    }

    pub(super) fn set_revision(&mut self, revision: i64) {
        self.revision = revision;
    }

    pub(super) fn set_strict_users(&mut self, on: bool) {
        self.strict_users = on;
    }

    pub(super) fn add_key_backed(&mut self, user: String, until: i64) {
        self.key_backed.insert(user.into_boxed_str(), until);
    }

    /// Counts the grants afresh (after a bulk build).
    pub(super) fn recount_grants(&mut self) {
        self.grants = self.live_roles().map(|(_, n)| n.permissions.len()).sum();
    }

    /// Every permission's holders from scratch: each grant reaches its role and the role's descendants.
    pub(super) fn rebuild_holders(&mut self) {
        let mut holders: Vec<Vec<Id>> = vec![Vec::new(); self.permission_names.capacity()];
        for (role, node) in self.live_roles() {
            if node.permissions.is_empty() {
                continue;
            }
            let reached = self.self_and_descendants(role);
            for permission in node.permissions.iter() {
                holders[permission as usize].extend_from_slice(&reached);
            }
        }
        self.holders = holders.into_iter().map(HolderSet::from_unsorted).collect();
        self.holdings = self.holders.iter().map(HolderSet::len).sum();
        self.patterns = IdSet::from_unsorted(
            (0..self.holders.len() as Id)
                .filter(|&p| {
                    !self.holders[p as usize].is_empty()
                        && self.permission_names.name(p).contains('*')
                })
                .collect(),
        );
    }

    pub(super) fn live_roles(&self) -> impl Iterator<Item = (Id, &RoleNode)> {
        self.roles
            .iter()
            .enumerate()
            .filter_map(|(id, node)| node.as_ref().map(|node| (id as Id, node)))
    }

    pub(super) fn node(&self, role: Id) -> Option<&RoleNode> {
        self.roles.get(role as usize).and_then(Option::as_ref)
    }

    fn node_mut(&mut self, role: Id) -> Option<&mut RoleNode> {
        self.roles.get_mut(role as usize).and_then(Option::as_mut)
    }

    /// The id of an existing role.
    pub(super) fn role_id(&self, role: &str) -> Option<Id> {
        self.role_names.get(role)
    }

    pub fn revision(&self) -> i64 {
        self.revision
    }

    /// An estimate of the memory this model holds, for the cache's budget; O(1), so it is recomputed after every
    /// applied change.
    pub fn approx_bytes(&self) -> usize {
        let names = self.role_names.len()
            + self.user_names.len()
            + self.permission_names.len()
            + self.resource_names.len();
        let edges = self.grants
            + self.holdings
            + 2 * self.memberships
            + 2 * self.edges
            + 3 * self.resource_names.len();
        names * NAME_OVERHEAD + edges * EDGE_BYTES + self.key_backed.len() * NAME_OVERHEAD
    }

    /// The bytes the model holds on the heap, counted set by set: O(size), for benchmarks and diagnostics.
    pub fn heap_bytes(&self) -> usize {
        let roles: usize = self
            .live_roles()
            .map(|(_, n)| {
                n.permissions.heap_bytes()
                    + n.members.heap_bytes()
                    + n.timed_members.heap_bytes()
                    + n.parents.heap_bytes()
                    + n.children.heap_bytes()
                    + n.description.as_ref().map_or(0, |d| d.len())
            })
            .sum();
        let sets = |table: &Vec<IdSet>| -> usize {
            table.capacity() * std::mem::size_of::<IdSet>()
                + table.iter().map(IdSet::heap_bytes).sum::<usize>()
        };
        roles
            + self.roles.capacity() * std::mem::size_of::<Option<RoleNode>>()
            + sets(&self.users)
            + self.holders.capacity() * std::mem::size_of::<HolderSet>()
            + self
                .holders
                .iter()
                .map(HolderSet::heap_bytes)
                .sum::<usize>()
            + self.role_names.heap_bytes()
            + self.user_names.heap_bytes()
            + self.permission_names.heap_bytes()
            + self.key_backed.capacity() * (std::mem::size_of::<(Box<str>, i64)>() + 1)
            + self.key_backed.keys().map(|k| k.len()).sum::<usize>()
            + self
                .timed
                .values()
                .map(|list| list.capacity() * std::mem::size_of::<(Id, i64)>() + 32)
                .sum::<usize>()
            + self.expiries.len() * 2 * std::mem::size_of::<(i64, Id, Id, Id)>()
            + self.scoped_heap_bytes()
    }

    pub fn counts(&self) -> ModelCounts {
        ModelCounts {
            roles: self.role_names.len(),
            grants: self.grants,
            memberships: self.memberships,
            inheritance_edges: self.edges,
            resources: self.resource_names.len(),
        }
    }

    /// Whether strict users is on: users need an active API key.
    pub fn strict_users(&self) -> bool {
        self.strict_users
    }

    /// Whether strict users refuses decisions about `user` at `now` (Unix ms): strict is on and the user holds no
    /// API key that is active then.
    pub fn not_key_backed(&self, user: &str, now: i64) -> bool {
        self.strict_users && self.key_backed.get(user).is_none_or(|&until| until <= now)
    }

    /// Whether the role exists (a write under a missing role adds nothing).
    pub fn has_role(&self, role: &str) -> bool {
        self.role_names.get(role).is_some()
    }

    /// Applies the change committed as `revision`, the tenant's next one.
    pub fn apply_at(&mut self, revision: i64, change: &Change) {
        self.apply(change);
        self.revision = revision;
    }

    /// Applies a committed change. A change naming a missing role does nothing, as its write did.
    pub fn apply(&mut self, change: &Change) {
        match change {
            Change::CreateRole { role, description } => self.create_role(
                role.as_str(),
                description.as_ref().map(|d| d.as_str().into()),
            ),
            Change::DeleteRole { role } => self.delete_role(role.as_str()),
            Change::Grant { role, permission } => self.grant(role.as_str(), permission.as_str()),
            Change::Revoke { role, permission } => self.revoke(role.as_str(), permission.as_str()),
            Change::AddMember {
                user,
                role,
                expires_at,
                scope: None,
            } => self.add_member(user.as_str(), role.as_str(), *expires_at),
            Change::AddMember {
                user,
                role,
                expires_at,
                scope: Some(scope),
            } => self.add_scoped(
                user.as_str(),
                role.as_str(),
                &scope.to_string(),
                *expires_at,
            ),
            Change::RemoveMember {
                user,
                role,
                scope: None,
            } => self.remove_member(user.as_str(), role.as_str()),
            Change::RemoveMember {
                user,
                role,
                scope: Some(scope),
            } => self.remove_scoped(user.as_str(), role.as_str(), &scope.to_string()),
            Change::ExpireMember {
                user,
                role,
                at,
                scope: None,
            } => {
                self.expire_member(user.as_str(), role.as_str(), *at);
            }
            Change::ExpireMember {
                user,
                role,
                at,
                scope: Some(scope),
            } => self.expire_scoped(user.as_str(), role.as_str(), &scope.to_string(), *at),
            Change::PutResource {
                resource, parent, ..
            } => self.put_resource(
                &resource.to_string(),
                parent.as_ref().map(ToString::to_string).as_deref(),
            ),
            Change::DeleteResource { resource } => self.delete_resource(&resource.to_string()),
            Change::Inherit { role, parent } => self.inherit(role.as_str(), parent.as_str()),
            Change::Disinherit { role, parent } => self.disinherit(role.as_str(), parent.as_str()),
        }
    }

    pub(super) fn create_role(&mut self, role: &str, description: Option<Box<str>>) {
        let id = self.role_names.intern(role);
        let node = slot(&mut self.roles, id);
        if node.is_none() {
            *node = Some(RoleNode {
                description,
                ..RoleNode::default()
            });
        }
    }

    /// Removes the role with its edges, grants and members, keeping every index consistent.
    fn delete_role(&mut self, role: &str) {
        let Some(id) = self.role_id(role) else {
            return;
        };
        let Some(node) = self.node(id) else {
            return;
        };
        let (parents, children) = (node.parents.clone(), node.children.clone());
        for parent in parents.iter() {
            self.unlink(id, parent);
        }
        for child in children.iter() {
            self.unlink(child, id);
        }
        let permissions = self
            .node(id)
            .map(|n| n.permissions.clone())
            .unwrap_or_default();
        for permission in permissions.iter() {
            self.revoke_ids(id, permission);
        }
        let (members, timed) = self
            .node(id)
            .map(|n| (n.members.clone(), n.timed_members.clone()))
            .unwrap_or_default();
        for user in members.iter().chain(timed.iter()) {
            self.remove_member_ids(user, id);
        }
        self.drop_scoped_of_role(id);
        self.roles[id as usize] = None;
        self.role_names.release(id);
    }

    fn grant(&mut self, role: &str, permission: &str) {
        let Some(role) = self.role_id(role) else {
            return;
        };
        let is_pattern = permission.contains('*');
        let permission = self.permission_names.intern(permission);
        slot(&mut self.holders, permission);
        if is_pattern {
            self.patterns.insert(permission);
        }
        let added = self
            .node_mut(role)
            .is_some_and(|node| node.permissions.insert(permission));
        if !added {
            self.release_permission_if_unused(permission);
            return;
        }
        self.grants += 1;
        for holder in self.self_and_descendants(role) {
            if self.holders[permission as usize].insert(holder) {
                self.holdings += 1;
            }
        }
    }

    fn revoke(&mut self, role: &str, permission: &str) {
        if let (Some(role), Some(permission)) =
            (self.role_id(role), self.permission_names.get(permission))
        {
            self.revoke_ids(role, permission);
        }
    }

    fn revoke_ids(&mut self, role: Id, permission: Id) {
        let removed = self
            .node_mut(role)
            .is_some_and(|node| node.permissions.remove(permission));
        if !removed {
            return;
        }
        self.grants -= 1;
        for holder in self.self_and_descendants(role) {
            self.recheck_holder(holder, permission);
        }
        self.release_permission_if_unused(permission);
    }

    /// Drops `role` from the permission's holders unless it or one of its ancestors still grants it.
    fn recheck_holder(&mut self, role: Id, permission: Id) {
        let still = self.self_and_ancestors(role).into_iter().any(|a| {
            self.node(a)
                .is_some_and(|n| n.permissions.contains(permission))
        });
        if !still && self.holders[permission as usize].remove(role) {
            self.holdings -= 1;
        }
    }

    fn release_permission_if_unused(&mut self, permission: Id) {
        if self.holders[permission as usize].is_empty() {
            self.holders[permission as usize] = HolderSet::default();
            self.patterns.remove(permission);
            self.permission_names.release(permission);
        }
    }

    /// Adds the membership as stated: for good, or until `expires_at`, replacing what was there.
    fn add_member(&mut self, user: &str, role: &str, expires_at: Option<i64>) {
        let Some(role) = self.role_id(role) else {
            return;
        };
        let user = self.user_names.intern(user);
        slot(&mut self.users, user);
        if self.timed_expiry(user, role).is_some() {
            self.drop_timed(user, role);
        }
        match expires_at {
            None => {
                if self.users[user as usize].insert(role) {
                    self.memberships += 1;
                    if let Some(node) = self.node_mut(role) {
                        node.members.insert(user);
                    }
                }
            }
            Some(at) => {
                if self.users[user as usize].remove(role) {
                    self.memberships -= 1;
                    if let Some(node) = self.node_mut(role) {
                        node.members.remove(user);
                    }
                }
                self.add_timed(user, role, at);
            }
        }
    }

    pub(super) fn add_timed(&mut self, user: Id, role: Id, at: i64) {
        self.timed.entry(user).or_default().push((role, at));
        self.expiries.insert((at, user, role, GLOBAL));
        self.memberships += 1;
        if let Some(node) = self.node_mut(role) {
            node.timed_members.insert(user);
        }
    }

    /// Removes a timed membership (which must exist), keeping the user's id.
    fn drop_timed(&mut self, user: Id, role: Id) {
        let Some(list) = self.timed.get_mut(&user) else {
            return;
        };
        let Some(at) = list.iter().position(|&(r, _)| r == role) else {
            return;
        };
        let (_, expiry) = list.swap_remove(at);
        if list.is_empty() {
            self.timed.remove(&user);
        }
        self.expiries.remove(&(expiry, user, role, GLOBAL));
        self.memberships -= 1;
        if let Some(node) = self.node_mut(role) {
            node.timed_members.remove(user);
        }
    }

    /// When the user's membership of the role itself expires; `None` when it is for good or absent.
    pub(super) fn timed_expiry(&self, user: Id, role: Id) -> Option<i64> {
        self.timed
            .get(&user)
            .and_then(|list| list.iter().find(|&&(r, _)| r == role))
            .map(|&(_, at)| at)
    }

    fn remove_member(&mut self, user: &str, role: &str) {
        if let (Some(user), Some(role)) = (self.user_names.get(user), self.role_id(role)) {
            self.remove_member_ids(user, role);
        }
    }

    fn expire_member(&mut self, user: &str, role: &str, at: i64) {
        if let (Some(user), Some(role)) = (self.user_names.get(user), self.role_id(role)) {
            if self
                .timed_expiry(user, role)
                .is_some_and(|expiry| expiry <= at)
            {
                self.remove_member_ids(user, role);
            }
        }
    }

    fn remove_member_ids(&mut self, user: Id, role: Id) {
        if self.timed_expiry(user, role).is_some() {
            self.drop_timed(user, role);
        }
        if let Some(node) = self.node_mut(role) {
            node.members.remove(user);
        }
        // A user loaded with only expiring memberships has no slot in `users`.
        let roles = slot(&mut self.users, user);
        if roles.remove(role) {
            self.memberships -= 1;
        }
        self.release_user_if_unused(user);
    }

    /// Forgets the user's name once no membership of any kind holds it.
    pub(super) fn release_user_if_unused(&mut self, user: Id) {
        let global = self.users.get(user as usize).is_some_and(|r| !r.is_empty());
        if !global && !self.timed.contains_key(&user) && !self.scoped.contains_key(&user) {
            if let Some(roles) = self.users.get_mut(user as usize) {
                *roles = IdSet::default();
            }
            self.user_names.release(user);
        }
    }

    /// The timed memberships expired at `now` (Unix ms), oldest first, at most `limit`.
    pub fn due_expiries(&self, now: i64, limit: usize) -> Vec<DueExpiry> {
        self.expiries
            .iter()
            .take_while(|&&(at, ..)| at <= now)
            .take(limit)
            .map(|&(at, user, role, scope)| DueExpiry {
                user: self.user_names.name(user).to_owned(),
                role: self.role_names.name(role).to_owned(),
                scope: (scope != GLOBAL).then(|| self.resource_names.name(scope).to_owned()),
                at,
            })
            .collect()
    }

    /// The earliest expiry of any membership, expired or not.
    pub fn next_expiry(&self) -> Option<i64> {
        self.expiries.first().map(|&(at, ..)| at)
    }

    fn inherit(&mut self, role: &str, parent: &str) {
        let (Some(role), Some(parent)) = (self.role_id(role), self.role_id(parent)) else {
            return;
        };
        // The store refuses cycles; a replayed log cannot hold one, but the model's walks must end regardless.
        if role == parent || self.self_and_ancestors(parent).contains(&role) {
            return;
        }
        if !self.link(role, parent) {
            return;
        }
        let granted: Vec<Id> = self
            .self_and_ancestors(parent)
            .into_iter()
            .filter_map(|a| self.node(a))
            .flat_map(|n| n.permissions.iter())
            .collect();
        for holder in self.self_and_descendants(role) {
            for &permission in &granted {
                if self.holders[permission as usize].insert(holder) {
                    self.holdings += 1;
                }
            }
        }
    }

    fn disinherit(&mut self, role: &str, parent: &str) {
        if let (Some(role), Some(parent)) = (self.role_id(role), self.role_id(parent)) {
            self.unlink(role, parent);
        }
    }

    /// Adds the edge to both roles' lists; `false` when it was there.
    pub(super) fn link(&mut self, role: Id, parent: Id) -> bool {
        let added = self
            .node_mut(role)
            .is_some_and(|node| node.parents.insert(parent));
        if added {
            if let Some(node) = self.node_mut(parent) {
                node.children.insert(role);
            }
            self.edges += 1;
        }
        added
    }

    /// Removes the edge, then takes from `role` and its descendants whatever they held only through it.
    fn unlink(&mut self, role: Id, parent: Id) {
        let removed = self
            .node_mut(role)
            .is_some_and(|node| node.parents.remove(parent));
        if !removed {
            return;
        }
        if let Some(node) = self.node_mut(parent) {
            node.children.remove(role);
        }
        self.edges -= 1;
        let mut lost: Vec<Id> = self
            .self_and_ancestors(parent)
            .into_iter()
            .filter_map(|a| self.node(a))
            .flat_map(|n| n.permissions.iter())
            .collect();
        lost.sort_unstable();
        lost.dedup();
        for holder in self.self_and_descendants(role) {
            for &permission in &lost {
                if self.holders[permission as usize].contains(holder) {
                    self.recheck_holder(holder, permission);
                }
            }
        }
    }

    /// `role` and every role it inherits, directly or not, each once.
    pub(super) fn self_and_ancestors(&self, role: Id) -> Vec<Id> {
        self.reach(role, |node| &node.parents)
    }

    /// `role` and every role inheriting it, directly or not, each once.
    pub(super) fn self_and_descendants(&self, role: Id) -> Vec<Id> {
        self.reach(role, |node| &node.children)
    }

    /// Breadth-first from `role` along `next`; the graph is acyclic and shallow, and `seen` ends any walk anyway.
    fn reach(&self, role: Id, next: impl Fn(&RoleNode) -> &IdSet) -> Vec<Id> {
        let mut found = vec![role];
        let mut seen: std::collections::HashSet<Id, foldhash::fast::RandomState> =
            std::collections::HashSet::default();
        seen.insert(role);
        let mut at = 0;
        while at < found.len() {
            if let Some(node) = self.node(found[at]) {
                for step in next(node).iter() {
                    if seen.insert(step) {
                        found.push(step);
                    }
                }
            }
            at += 1;
        }
        found
    }
}

#[cfg(test)]
#[path = "tenant_model_tests.rs"]
mod tests;
