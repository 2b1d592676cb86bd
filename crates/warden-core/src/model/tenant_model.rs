//! One tenant's RBAC model in memory, indexed both ways so every question is a few hash look-ups.

use std::sync::Arc;

use super::ModelSnapshot;
use crate::domain::Change;

/// The model's maps and sets: foldhash is several times faster than SipHash on short names, and its per-process
/// random seed still keeps attacker-chosen names from forcing collisions.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
type HashSet<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;

/// A role as listed: its name and optional description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleInfo {
    pub name: String,
    pub description: Option<String>,
}

#[derive(Debug, Default)]
struct RoleNode {
    description: Option<String>,
    permissions: HashSet<Arc<str>>,
    members: HashSet<Arc<str>>,
}

/// Roles with their grants and members, plus the reverse indexes user → roles and permission → roles.
#[derive(Debug, Default)]
pub struct TenantModel {
    revision: i64,
    roles: HashMap<Arc<str>, RoleNode>,
    user_roles: HashMap<Arc<str>, HashSet<Arc<str>>>,
    permission_roles: HashMap<Arc<str>, HashSet<Arc<str>>>,
    /// Kept as the model changes, so the memory estimate and the quotas cost O(1).
    grants: usize,
    memberships: usize,
    /// Strict users: decisions about a user without an active API key are negative.
    strict_users: bool,
    /// Under `strict_users`: user → when their last active API key expires (Unix ms).
    key_backed: HashMap<Box<str>, i64>,
}

/// How many rows of each kind a model holds (for the per-tenant quotas).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ModelCounts {
    pub roles: usize,
    pub grants: usize,
    pub memberships: usize,
}

/// Rough bytes per stored name, including hash-table overhead; used only for the memory budget.
const ENTRY_OVERHEAD: usize = 96;

/// Returns the shared copy of `name` held as a key of `index`, or a new one, so each name is allocated once.
fn interned<V>(index: &HashMap<Arc<str>, V>, name: &str) -> Arc<str> {
    index
        .get_key_value(name)
        .map_or_else(|| Arc::from(name), |(key, _)| key.clone())
}

/// Which part of a sorted listing to answer: the names after `after` (exclusive), at most `limit` of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest<'a> {
    pub after: Option<&'a str>,
    pub limit: usize,
}

impl PageRequest<'_> {
    /// The whole listing.
    pub const ALL: PageRequest<'static> = PageRequest {
        after: None,
        limit: usize::MAX,
    };
}

/// One page of a sorted listing (a "page": `Page` is the users service's); `more` says whether names follow its last one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed<T> {
    pub items: Vec<T>,
    pub more: bool,
}

/// The page's names: the `limit` smallest distinct names after the cursor, sorted, and whether more follow. It keeps
/// only a bounded ordered set of borrowed names (`limit + 1` of them, O(n log limit) in all), so a page never
/// costs a sorted copy of the whole listing under the model's lock.
fn page_of<'m>(
    names: impl Iterator<Item = &'m Arc<str>>,
    page: PageRequest<'_>,
) -> Listed<&'m str> {
    let keep = page.limit.saturating_add(1);
    let mut smallest: std::collections::BTreeSet<&'m str> = std::collections::BTreeSet::new();
    for name in names {
        let name: &'m str = name;
        if page.after.is_some_and(|after| name <= after) {
            continue;
        }
        if smallest.len() == keep && smallest.last().is_some_and(|&last| name >= last) {
            continue;
        }
        smallest.insert(name);
        if smallest.len() > keep {
            smallest.pop_last();
        }
    }
    let more = smallest.len() > page.limit;
    Listed {
        items: smallest.into_iter().take(page.limit).collect(),
        more,
    }
}

fn owned(page: Listed<&str>) -> Listed<String> {
    Listed {
        items: page.items.into_iter().map(str::to_owned).collect(),
        more: page.more,
    }
}

impl TenantModel {
    pub fn from_snapshot(snapshot: ModelSnapshot) -> Self {
        let mut model = Self {
            revision: snapshot.revision,
            strict_users: snapshot.strict_users,
            ..Self::default()
        };
        model.key_backed.extend(
            snapshot
                .key_backed
                .into_iter()
                .map(|(user, until)| (user.into_boxed_str(), until)),
        );
        for (role, description) in snapshot.roles {
            model.create_role(&role, description);
        }
        for (role, permission) in snapshot.grants {
            model.grant(&role, &permission);
        }
        for (role, user) in snapshot.members {
            model.add_member(&user, &role);
        }
        model
    }

    pub fn revision(&self) -> i64 {
        self.revision
    }

    /// An estimate of the memory this model holds, for the cache's budget; O(1), so it is recomputed after every
    /// applied change. Each grant is held twice (role → permissions, permission → roles), each membership too.
    pub fn approx_bytes(&self) -> usize {
        let names = self.roles.len()
            + self.user_roles.len()
            + self.permission_roles.len()
            + 2 * self.grants
            + 2 * self.memberships
            + self.key_backed.len();
        names * ENTRY_OVERHEAD
    }

    pub fn counts(&self) -> ModelCounts {
        ModelCounts {
            roles: self.roles.len(),
            grants: self.grants,
            memberships: self.memberships,
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
        self.roles.contains_key(role)
    }

    /// Applies the change committed as `revision`, the tenant's next one.
    pub fn apply_at(&mut self, revision: i64, change: &Change) {
        self.apply(change);
        self.revision = revision;
    }

    /// Applies a committed change.
    pub fn apply(&mut self, change: &Change) {
        match change {
            Change::CreateRole { role, description } => self.create_role(
                role.as_str(),
                description.as_ref().map(|d| d.as_str().to_owned()),
            ),
            Change::DeleteRole { role } => self.delete_role(role.as_str()),
            Change::Grant { role, permission } => self.grant(role.as_str(), permission.as_str()),
            Change::Revoke { role, permission } => self.revoke(role.as_str(), permission.as_str()),
            Change::AddMember { user, role } => self.add_member(user.as_str(), role.as_str()),
            Change::RemoveMember { user, role } => self.remove_member(user.as_str(), role.as_str()),
        }
    }

    fn create_role(&mut self, role: &str, description: Option<String>) {
        self.roles
            .entry(Arc::from(role))
            .or_insert_with(|| RoleNode {
                description,
                ..RoleNode::default()
            });
    }

    fn delete_role(&mut self, role: &str) {
        let Some(node) = self.roles.remove(role) else {
            return;
        };
        self.grants -= node.permissions.len();
        self.memberships -= node.members.len();
        for user in node.members {
            detach(&mut self.user_roles, &user, role);
        }
        for permission in node.permissions {
            detach(&mut self.permission_roles, &permission, role);
        }
    }

    fn grant(&mut self, role: &str, permission: &str) {
        let Some((role_key, node)) = self.roles.get_key_value(role) else {
            return;
        };
        let role_key = role_key.clone();
        let permission = interned(&self.permission_roles, permission);
        if node.permissions.contains(&permission) {
            return;
        }
        if let Some(node) = self.roles.get_mut(role) {
            node.permissions.insert(permission.clone());
            self.grants += 1;
        }
        self.permission_roles
            .entry(permission)
            .or_default()
            .insert(role_key);
    }

    fn revoke(&mut self, role: &str, permission: &str) {
        if let Some(node) = self.roles.get_mut(role) {
            if node.permissions.remove(permission) {
                self.grants -= 1;
                detach(&mut self.permission_roles, permission, role);
            }
        }
    }

    fn add_member(&mut self, user: &str, role: &str) {
        let Some((role_key, _)) = self.roles.get_key_value(role) else {
            return;
        };
        let role_key = role_key.clone();
        let user = interned(&self.user_roles, user);
        if let Some(node) = self.roles.get_mut(role) {
            if !node.members.insert(user.clone()) {
                return;
            }
            self.memberships += 1;
        }
        self.user_roles.entry(user).or_default().insert(role_key);
    }

    fn remove_member(&mut self, user: &str, role: &str) {
        if let Some(node) = self.roles.get_mut(role) {
            if node.members.remove(user) {
                self.memberships -= 1;
                detach(&mut self.user_roles, user, role);
            }
        }
    }

    /// Whether any of the user's roles grants the permission: walks the smaller of the two role sets.
    pub fn user_has_permission(&self, user: &str, permission: &str) -> bool {
        let (Some(mine), Some(granting)) = (
            self.user_roles.get(user),
            self.permission_roles.get(permission),
        ) else {
            return false;
        };
        let (small, large) = if mine.len() <= granting.len() {
            (mine, granting)
        } else {
            (granting, mine)
        };
        small.iter().any(|role| large.contains(role))
    }

    /// `None` when the role does not exist.
    pub fn role_has_permission(&self, role: &str, permission: &str) -> Option<bool> {
        self.roles
            .get(role)
            .map(|node| node.permissions.contains(permission))
    }

    /// `None` when the role does not exist.
    pub fn is_member(&self, user: &str, role: &str) -> Option<bool> {
        self.roles.get(role).map(|node| node.members.contains(user))
    }

    fn role_infos<'a>(
        &'a self,
        names: impl Iterator<Item = &'a Arc<str>>,
        page: PageRequest<'_>,
    ) -> Listed<RoleInfo> {
        let names = page_of(names, page);
        Listed {
            items: names
                .items
                .into_iter()
                .map(|name| RoleInfo {
                    name: name.to_owned(),
                    description: self.roles.get(name).and_then(|n| n.description.clone()),
                })
                .collect(),
            more: names.more,
        }
    }

    pub fn roles(&self) -> Vec<RoleInfo> {
        self.roles_page(PageRequest::ALL).items
    }

    pub fn roles_page(&self, page: PageRequest<'_>) -> Listed<RoleInfo> {
        self.role_infos(self.roles.keys(), page)
    }

    pub fn user_roles(&self, user: &str) -> Vec<RoleInfo> {
        self.user_roles_page(user, PageRequest::ALL).items
    }

    pub fn user_roles_page(&self, user: &str, page: PageRequest<'_>) -> Listed<RoleInfo> {
        let roles = self.user_roles.get(user).into_iter().flatten();
        self.role_infos(roles, page)
    }

    pub fn user_permissions(&self, user: &str) -> Vec<String> {
        self.user_permissions_page(user, PageRequest::ALL).items
    }

    pub fn user_permissions_page(&self, user: &str, page: PageRequest<'_>) -> Listed<String> {
        let permissions = self
            .user_roles
            .get(user)
            .into_iter()
            .flatten()
            .filter_map(|role| self.roles.get(role))
            .flat_map(|node| node.permissions.iter());
        owned(page_of(permissions, page))
    }

    pub fn role_permissions(&self, role: &str) -> Option<Vec<String>> {
        self.role_permissions_page(role, PageRequest::ALL)
            .map(|page| page.items)
    }

    /// `None` when the role does not exist.
    pub fn role_permissions_page(
        &self,
        role: &str,
        page: PageRequest<'_>,
    ) -> Option<Listed<String>> {
        self.roles
            .get(role)
            .map(|node| owned(page_of(node.permissions.iter(), page)))
    }

    pub fn role_members(&self, role: &str) -> Option<Vec<String>> {
        self.role_members_page(role, PageRequest::ALL)
            .map(|page| page.items)
    }

    /// `None` when the role does not exist.
    pub fn role_members_page(&self, role: &str, page: PageRequest<'_>) -> Option<Listed<String>> {
        self.roles
            .get(role)
            .map(|node| owned(page_of(node.members.iter(), page)))
    }

    pub fn which_roles_can(&self, permission: &str) -> Vec<RoleInfo> {
        self.which_roles_can_page(permission, PageRequest::ALL)
            .items
    }

    pub fn which_roles_can_page(
        &self,
        permission: &str,
        page: PageRequest<'_>,
    ) -> Listed<RoleInfo> {
        let roles = self.permission_roles.get(permission).into_iter().flatten();
        self.role_infos(roles, page)
    }

    pub fn which_users_can(&self, permission: &str) -> Vec<String> {
        self.which_users_can_page(permission, PageRequest::ALL)
            .items
    }

    pub fn which_users_can_page(&self, permission: &str, page: PageRequest<'_>) -> Listed<String> {
        let users = self
            .permission_roles
            .get(permission)
            .into_iter()
            .flatten()
            .filter_map(|role| self.roles.get(role))
            .flat_map(|node| node.members.iter());
        owned(page_of(users, page))
    }
}

/// Removes `role` from `index[key]`, dropping the entry when it empties.
fn detach(index: &mut HashMap<Arc<str>, HashSet<Arc<str>>>, key: &str, role: &str) {
    if let Some(roles) = index.get_mut(key) {
        roles.remove(role);
        if roles.is_empty() {
            index.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Name, NameKind};

    fn name(kind: NameKind, s: &str) -> Name {
        Name::parse(kind, s).unwrap()
    }

    fn model() -> TenantModel {
        let mut m = TenantModel::default();
        for (role, perms, users) in [
            ("admin", vec!["manage", "edit", "view"], vec!["alice"]),
            ("editor", vec!["edit", "view"], vec!["bob", "alice"]),
        ] {
            m.apply(&Change::CreateRole {
                role: name(NameKind::Role, role),
                description: None,
            });
            for p in perms {
                m.apply(&Change::Grant {
                    role: name(NameKind::Role, role),
                    permission: name(NameKind::Permission, p),
                });
            }
            for u in users {
                m.apply(&Change::AddMember {
                    user: name(NameKind::User, u),
                    role: name(NameKind::Role, role),
                });
            }
        }
        m
    }

    #[test]
    fn answers_checks_and_listings_from_both_indexes() {
        let m = model();
        assert!(m.user_has_permission("alice", "manage"));
        assert!(m.user_has_permission("bob", "edit"));
        assert!(!m.user_has_permission("bob", "manage"));
        assert!(!m.user_has_permission("nobody", "edit"));
        assert_eq!(m.user_permissions("alice"), ["edit", "manage", "view"]);
        assert_eq!(m.which_users_can("edit"), ["alice", "bob"]);
        assert_eq!(m.which_roles_can("view").len(), 2);
        assert_eq!(m.role_members("ghost"), None);
        assert_eq!(m.is_member("bob", "editor"), Some(true));
    }

    #[test]
    fn deleting_a_role_cleans_both_indexes() {
        let mut m = model();
        m.apply(&Change::DeleteRole {
            role: name(NameKind::Role, "editor"),
        });
        assert!(!m.user_has_permission("bob", "edit"));
        assert!(m.user_roles("bob").is_empty());
        assert_eq!(m.which_roles_can("edit").len(), 1);
        assert!(m.user_has_permission("alice", "edit"));
        assert_eq!(
            m.counts(),
            ModelCounts {
                roles: 1,
                grants: 3,
                memberships: 1
            }
        );
    }

    #[test]
    fn counts_follow_every_change_and_repeats_count_once() {
        let mut m = model();
        assert_eq!(
            m.counts(),
            ModelCounts {
                roles: 2,
                grants: 5,
                memberships: 3
            }
        );
        let before = m.approx_bytes();
        m.apply(&Change::Grant {
            role: name(NameKind::Role, "admin"),
            permission: name(NameKind::Permission, "manage"),
        });
        assert_eq!(m.counts().grants, 5);
        m.apply(&Change::AddMember {
            user: name(NameKind::User, "carol"),
            role: name(NameKind::Role, "admin"),
        });
        assert_eq!(m.counts().memberships, 4);
        assert!(m.approx_bytes() > before);
        m.apply(&Change::RemoveMember {
            user: name(NameKind::User, "carol"),
            role: name(NameKind::Role, "admin"),
        });
        m.apply(&Change::Revoke {
            role: name(NameKind::Role, "admin"),
            permission: name(NameKind::Permission, "manage"),
        });
        assert_eq!(m.counts().grants, 4);
        assert_eq!(m.counts().memberships, 3);
    }

    #[test]
    fn pages_walk_a_listing_without_duplicates_or_gaps() {
        let m = model();
        let mut after: Option<String> = None;
        let mut seen = Vec::new();
        loop {
            let page = m.user_permissions_page(
                "alice",
                PageRequest {
                    after: after.as_deref(),
                    limit: 2,
                },
            );
            seen.extend(page.items.iter().cloned());
            if !page.more {
                break;
            }
            after = page.items.last().cloned();
        }
        assert_eq!(seen, ["edit", "manage", "view"]);
        let last = m.role_members_page(
            "editor",
            PageRequest {
                after: Some("alice"),
                limit: 5,
            },
        );
        assert_eq!(
            last,
            Some(Listed {
                items: vec!["bob".to_owned()],
                more: false
            })
        );
    }

    #[test]
    fn changes_under_a_missing_role_are_ignored() {
        let mut m = model();
        m.apply(&Change::AddMember {
            user: name(NameKind::User, "eve"),
            role: name(NameKind::Role, "ghost"),
        });
        assert!(m.user_roles("eve").is_empty());
        assert!(m.which_users_can("edit").iter().all(|u| u != "eve"));
    }
}

#[cfg(test)]
mod strict_users_tests {
    use super::*;

    fn model(strict_users: bool, key_backed: &[(&str, i64)]) -> TenantModel {
        TenantModel::from_snapshot(ModelSnapshot {
            revision: 1,
            roles: vec![("editor".to_owned(), None)],
            grants: vec![("editor".to_owned(), "edit".to_owned())],
            members: vec![("editor".to_owned(), "ann".to_owned())],
            strict_users,
            key_backed: key_backed
                .iter()
                .map(|(user, until)| ((*user).to_owned(), *until))
                .collect(),
        })
    }

    #[test]
    fn strict_users_refuses_only_users_without_a_key_active_at_the_moment_asked() {
        let now = 1_000;
        // Off: nobody is refused, key or not.
        assert!(!model(false, &[]).not_key_backed("ann", now));
        let strict = model(true, &[("ann", now + 1), ("bob", i64::MAX), ("old", now)]);
        assert!(strict.strict_users());
        assert!(
            !strict.not_key_backed("ann", now),
            "a key valid a little longer"
        );
        assert!(
            strict.not_key_backed("ann", now + 1),
            "its expiry is the end"
        );
        assert!(
            !strict.not_key_backed("bob", i64::MAX - 1),
            "a key without expiry"
        );
        assert!(
            strict.not_key_backed("old", now),
            "expired at this very moment"
        );
        assert!(strict.not_key_backed("carol", now), "never had a key");
        // The roles are untouched: the refusal is the caller's to combine with them.
        assert!(strict.user_has_permission("ann", "edit"));
    }
}
