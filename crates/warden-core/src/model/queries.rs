//! The model's answers: decisions, which are look-ups in sorted id sets, and listings, which pick one page of
//! names without sorting the rest.

use super::holders::HolderSet;
use super::ids::Id;
use super::listing::{owned, page_of, Listed, PageRequest};
use super::TenantModel;
use crate::rules::resources::MAX_RESOURCE_DEPTH;

/// A role as listed: its name and optional description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleInfo {
    pub name: String,
    pub description: Option<String>,
}

/// Why a user holds a permission: the path that decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// The role the user is a member of, the resource that membership is scoped to (`None` for everywhere),
    /// and when it expires (Unix ms).
    pub member_of: String,
    pub scope: Option<String>,
    pub expires_at: Option<i64>,
    /// From the member role to the granting role, each inheriting the next (one role when it grants directly).
    pub chain: Vec<String>,
    /// The grant as written: the permission itself, or the pattern that matched it.
    pub granted: String,
    pub pattern: bool,
}

/// Whether a structural read answers the stored rows alone or follows inheritance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reach {
    /// The rows as written: a role's own grants and members, a user's own memberships.
    #[default]
    Direct,
    /// Through inheritance: what a role grants with everything it inherits, who holds a role through a role that
    /// inherits it.
    Effective,
}

impl TenantModel {
    /// Whether any of the user's roles grants the permission, directly or through inheritance: one look-up of
    /// each name and an intersection of two sorted sets. The clock is read only for a user with expiring
    /// memberships.
    pub fn user_has_permission(&self, user: &str, permission: &str) -> bool {
        self.decide(user, permission, None, unix_millis)
    }

    /// [`Self::user_has_permission`] as of `now` (Unix ms).
    pub fn user_has_permission_at(&self, user: &str, permission: &str, now: i64) -> bool {
        self.decide(user, permission, None, || now)
    }

    /// Whether the user holds the permission at `resource` (`type:id`): through a global membership, or one
    /// scoped to the resource or any of its ancestors. Without a resource, global memberships alone count.
    pub fn user_has_permission_on(
        &self,
        user: &str,
        permission: &str,
        resource: Option<&str>,
    ) -> bool {
        self.decide(user, permission, resource, unix_millis)
    }

    /// [`Self::user_has_permission_on`] as of `now` (Unix ms).
    pub fn user_has_permission_on_at(
        &self,
        user: &str,
        permission: &str,
        resource: Option<&str>,
        now: i64,
    ) -> bool {
        self.decide(user, permission, resource, || now)
    }

    fn decide(
        &self,
        user: &str,
        permission: &str,
        resource: Option<&str>,
        now: impl FnOnce() -> i64,
    ) -> bool {
        let Some(user) = self.user_names.get(user) else {
            return false;
        };
        let mut clock = Some(now);
        let mut read_once = None;
        let mut now = || *read_once.get_or_insert_with(|| clock.take().map_or(0, |read| read()));
        if self
            .holder_sets(permission)
            .any(|holders| self.holds_any(user, holders, &mut now))
        {
            return true;
        }
        let (Some(resource), Some(scoped)) = (resource, self.scoped.get(&user)) else {
            return false;
        };
        let Some(resource) = self.resource_names.get(resource) else {
            return false;
        };
        let mut path = [0; MAX_RESOURCE_DEPTH];
        let depth = self.fill_path(resource, &mut path);
        let path = &path[..depth];
        self.holder_sets(permission).any(|holders| {
            scoped
                .iter()
                .any(|s| holders.contains(s.role) && path.contains(&s.resource) && s.until > now())
        })
    }

    /// Whether the user is a member, at `now`, of one of `holders`.
    fn holds_any(&self, user: Id, holders: &HolderSet, now: &mut impl FnMut() -> i64) -> bool {
        if self
            .users
            .get(user as usize)
            .is_some_and(|roles| holders.contains_any(roles))
        {
            return true;
        }
        let Some(timed) = self.timed.get(&user) else {
            return false;
        };
        let now = now();
        timed
            .iter()
            .any(|&(role, until)| until > now && holders.contains(role))
    }

    /// The holder sets that answer for `permission`: its own (when granted anywhere) and those of the granted
    /// patterns that match it. Without patterns in the tenant this is one look-up.
    pub(super) fn holder_sets<'m>(
        &'m self,
        permission: &'m str,
    ) -> impl Iterator<Item = &'m HolderSet> + 'm {
        let exact = self
            .permission_names
            .get(permission)
            .map(|p| &self.holders[p as usize]);
        let patterns = self
            .patterns
            .iter()
            .filter(move |&q| {
                !permission.contains('*')
                    && crate::rules::wildcard::permission_matches(
                        self.permission_names.name(q),
                        permission,
                    )
            })
            .map(|q| &self.holders[q as usize]);
        exact.into_iter().chain(patterns)
    }

    /// The path that makes the user hold the permission at `now`, or `None` when nothing does: the shortest
    /// inheritance chain from one of the user's memberships to a grant (ties go to the first member role by name).
    /// Off the decision path: it walks every role the user reaches.
    /// With a resource, memberships scoped to it or an ancestor count too (a global one wins a tie, then the
    /// nearest scope).
    pub fn explain(
        &self,
        user: &str,
        permission: &str,
        resource: Option<&str>,
        now: i64,
    ) -> Option<Explanation> {
        let user_id = self.user_names.get(user)?;
        let mut mine: Vec<(Id, Option<Id>)> = self
            .own_roles(user_id, now)
            .into_iter()
            .map(|role| (role, None))
            .collect();
        mine.sort_by(|a, b| self.role_names.name(a.0).cmp(self.role_names.name(b.0)));
        let path = self.path_of(resource);
        let mut scoped = self.scoped_roles_on(user_id, &path, now);
        scoped.sort_by_key(|&(role, scope)| {
            (
                path.iter().position(|&p| p == scope),
                self.role_names.name(role),
            )
        });
        mine.extend(scoped.into_iter().map(|(role, scope)| (role, Some(scope))));
        let mut best: Option<(Vec<Id>, Id, Option<Id>)> = None;
        for (start, scope) in mine {
            let Some((chain, granted)) = self.shortest_grant(start, permission) else {
                continue;
            };
            if best
                .as_ref()
                .is_none_or(|(known, ..)| chain.len() < known.len())
            {
                best = Some((chain, granted, scope));
            }
        }
        let (chain, granted, scope) = best?;
        let member_of = chain[0];
        let granted = self.permission_names.name(granted).to_owned();
        Some(Explanation {
            member_of: self.role_names.name(member_of).to_owned(),
            scope: scope.map(|s| self.resource_names.name(s).to_owned()),
            expires_at: match scope {
                None => self.timed_expiry(user_id, member_of),
                Some(scope) => self
                    .scoped_membership(user_id, member_of, scope, now)
                    .flatten(),
            },
            chain: chain
                .iter()
                .map(|&role| self.role_names.name(role).to_owned())
                .collect(),
            pattern: granted.contains('*') && granted != permission,
            granted,
        })
    }

    /// Breadth-first up from `start`: the first role found granting `permission` (exactly, else by a pattern)
    /// with the chain that reached it, and the grant's permission id.
    fn shortest_grant(&self, start: Id, permission: &str) -> Option<(Vec<Id>, Id)> {
        let exact = self.permission_names.get(permission);
        let mut came_from: Vec<(Id, Option<usize>)> = vec![(start, None)];
        let mut at = 0;
        while at < came_from.len() {
            let (role, _) = came_from[at];
            if let Some(node) = self.node(role) {
                let granted = exact.filter(|&p| node.permissions.contains(p)).or_else(|| {
                    self.patterns.iter().find(|&q| {
                        node.permissions.contains(q)
                            && !permission.contains('*')
                            && crate::rules::wildcard::permission_matches(
                                self.permission_names.name(q),
                                permission,
                            )
                    })
                });
                if let Some(granted) = granted {
                    let mut chain = vec![role];
                    let mut back = came_from[at].1;
                    while let Some(previous) = back {
                        chain.push(came_from[previous].0);
                        back = came_from[previous].1;
                    }
                    chain.reverse();
                    return Some((chain, granted));
                }
                for parent in node.parents.iter() {
                    if !came_from.iter().any(|&(seen, _)| seen == parent) {
                        came_from.push((parent, Some(at)));
                    }
                }
            }
            at += 1;
        }
        None
    }

    /// When the user's own membership of the role expires (Unix ms); `None` when it is for good or absent.
    /// With a resource, [`Reach::Direct`] asks about the membership scoped to exactly that resource, and
    /// [`Reach::Effective`] about the memberships of the role that apply there (global, or scoped to it or an
    /// ancestor): the one that lasts longest, `None` when one is for good.
    pub fn membership_expiry(
        &self,
        user: &str,
        role: &str,
        resource: Option<&str>,
        reach: Reach,
    ) -> Option<i64> {
        let (user, role) = (self.user_names.get(user)?, self.role_id(role)?);
        let now = unix_millis();
        match (resource, reach) {
            (None, _) => self.timed_expiry(user, role),
            (Some(resource), Reach::Direct) => self
                .scoped_membership(user, role, self.resource_names.get(resource)?, now)
                .flatten(),
            (Some(resource), Reach::Effective) => {
                if self
                    .users
                    .get(user as usize)
                    .is_some_and(|roles| roles.contains(role))
                {
                    return None;
                }
                let path = self.path_of(Some(resource));
                let scoped = self
                    .scoped_roles_on(user, &path, now)
                    .into_iter()
                    .filter(|&(r, _)| r == role)
                    .filter_map(|(_, scope)| self.scoped_membership(user, role, scope, now));
                let global = self
                    .timed_expiry(user, role)
                    .filter(|&at| at > now)
                    .map(Some);
                let all: Vec<Option<i64>> = scoped.chain(global).collect();
                if all.contains(&None) {
                    None
                } else {
                    all.into_iter().flatten().max()
                }
            }
        }
    }

    /// The resource and its ancestors, nearest first; empty for none or an unknown resource.
    fn path_of(&self, resource: Option<&str>) -> Vec<Id> {
        resource
            .and_then(|r| self.resource_names.get(r))
            .map(|r| self.resource_path(r))
            .unwrap_or_default()
    }

    /// Fills `path` with the resource and its ancestors, nearest first; returns how many.
    fn fill_path(&self, resource: Id, path: &mut [Id; MAX_RESOURCE_DEPTH]) -> usize {
        let mut depth = 0;
        let mut at = Some(resource);
        while let Some(id) = at {
            let Some(node) = self.resource_node(id) else {
                break;
            };
            if depth == MAX_RESOURCE_DEPTH {
                break;
            }
            path[depth] = id;
            depth += 1;
            at = node.parent;
        }
        depth
    }

    /// The roles the user holds at `path` (a resource and its ancestors) at `now`: their global ones and those
    /// scoped to a resource on the path.
    fn roles_at(&self, user: Id, path: &[Id], now: i64) -> Vec<Id> {
        let mut roles = self.own_roles(user, now);
        roles.extend(
            self.scoped_roles_on(user, path, now)
                .into_iter()
                .map(|(role, _)| role),
        );
        roles.sort_unstable();
        roles.dedup();
        roles
    }

    /// The roles the user is a member of at `now`: for good, or until later than `now`.
    fn own_roles(&self, user: Id, now: i64) -> Vec<Id> {
        let mut roles: Vec<Id> = self
            .users
            .get(user as usize)
            .map(|set| set.iter().collect())
            .unwrap_or_default();
        if let Some(timed) = self.timed.get(&user) {
            roles.extend(
                timed
                    .iter()
                    .filter(|&&(_, until)| until > now)
                    .map(|&(role, _)| role),
            );
        }
        roles
    }

    /// The members of the role itself at `now`.
    fn own_members<'m>(
        &'m self,
        role: Id,
        node: &'m super::tenant_model::RoleNode,
        now: i64,
    ) -> impl Iterator<Item = Id> + 'm {
        node.members
            .iter()
            .chain(node.timed_members.iter().filter(move |&user| {
                self.timed_expiry(user, role)
                    .is_some_and(|until| until > now)
            }))
    }

    /// `None` when the role does not exist. [`Reach::Direct`]: the role's own grant of exactly this name (a
    /// pattern is asked about by its own name); [`Reach::Effective`]: itself or through a role it inherits,
    /// exactly or by a pattern.
    pub fn role_has_permission(&self, role: &str, permission: &str, reach: Reach) -> Option<bool> {
        let id = self.role_id(role)?;
        let node = self.node(id)?;
        Some(match reach {
            Reach::Direct => self
                .permission_names
                .get(permission)
                .is_some_and(|p| node.permissions.contains(p)),
            Reach::Effective => self
                .holder_sets(permission)
                .any(|holders| holders.contains(id)),
        })
    }

    /// `None` when the role does not exist. Effective membership is membership of the role or of a role that
    /// inherits it.
    /// With a resource, [`Reach::Direct`] asks about the membership scoped to exactly that resource, and
    /// [`Reach::Effective`] whether a membership applies there (global or scoped to it or an ancestor).
    pub fn is_member(
        &self,
        user: &str,
        role: &str,
        reach: Reach,
        resource: Option<&str>,
    ) -> Option<bool> {
        let role = self.role_id(role)?;
        self.node(role)?;
        let Some(user) = self.user_names.get(user) else {
            return Some(false);
        };
        let now = unix_millis();
        if let (Some(resource), Reach::Direct) = (resource, reach) {
            return Some(
                self.resource_names
                    .get(resource)
                    .is_some_and(|scope| self.scoped_membership(user, role, scope, now).is_some()),
            );
        }
        let mine = self.roles_at(user, &self.path_of(resource), now);
        Some(match reach {
            Reach::Direct => mine.contains(&role),
            Reach::Effective => mine
                .into_iter()
                .any(|held| self.self_and_ancestors(held).contains(&role)),
        })
    }

    fn role_infos(
        &self,
        roles: impl Iterator<Item = Id>,
        page: PageRequest<'_>,
    ) -> Listed<RoleInfo> {
        let names = page_of(roles.map(|id| self.role_names.name(id)), page);
        Listed {
            items: names
                .items
                .into_iter()
                .map(|name| RoleInfo {
                    name: name.to_owned(),
                    description: self
                        .role_id(name)
                        .and_then(|id| self.node(id))
                        .and_then(|n| n.description.as_deref().map(str::to_owned)),
                })
                .collect(),
            more: names.more,
        }
    }

    /// The user's roles, and with [`Reach::Effective`] every role those inherit.
    /// With a resource, the roles scoped to it or an ancestor count too.
    fn roles_of_user(&self, user: &str, reach: Reach, resource: Option<&str>) -> Vec<Id> {
        let Some(user) = self.user_names.get(user) else {
            return Vec::new();
        };
        let direct = self.roles_at(user, &self.path_of(resource), unix_millis());
        match reach {
            Reach::Direct => direct,
            Reach::Effective => {
                let mut all: Vec<Id> = direct
                    .into_iter()
                    .flat_map(|role| self.self_and_ancestors(role))
                    .collect();
                all.sort_unstable();
                all.dedup();
                all
            }
        }
    }

    pub fn roles(&self) -> Vec<RoleInfo> {
        self.roles_page(PageRequest::ALL).items
    }

    pub fn roles_page(&self, page: PageRequest<'_>) -> Listed<RoleInfo> {
        self.role_infos(self.live_roles().map(|(id, _)| id), page)
    }

    /// The user's own roles.
    pub fn user_roles(&self, user: &str) -> Vec<RoleInfo> {
        self.user_roles_page(user, Reach::Direct, None, PageRequest::ALL)
            .items
    }

    pub fn user_roles_page(
        &self,
        user: &str,
        reach: Reach,
        resource: Option<&str>,
        page: PageRequest<'_>,
    ) -> Listed<RoleInfo> {
        self.role_infos(self.roles_of_user(user, reach, resource).into_iter(), page)
    }

    /// Everything the user may do, through every role they hold and every role those inherit.
    pub fn user_permissions(&self, user: &str) -> Vec<String> {
        self.user_permissions_page(user, None, PageRequest::ALL)
            .items
    }

    /// With a resource: what the user may do there.
    pub fn user_permissions_page(
        &self,
        user: &str,
        resource: Option<&str>,
        page: PageRequest<'_>,
    ) -> Listed<String> {
        let roles = self.roles_of_user(user, Reach::Effective, resource);
        let permissions = roles
            .into_iter()
            .filter_map(|role| self.node(role))
            .flat_map(|node| node.permissions.iter())
            .map(|permission| self.permission_names.name(permission));
        owned(page_of(permissions, page))
    }

    /// The role's own grants; `None` when it does not exist.
    pub fn role_permissions(&self, role: &str) -> Option<Vec<String>> {
        self.role_permissions_page(role, Reach::Direct, PageRequest::ALL)
            .map(|page| page.items)
    }

    /// `None` when the role does not exist.
    pub fn role_permissions_page(
        &self,
        role: &str,
        reach: Reach,
        page: PageRequest<'_>,
    ) -> Option<Listed<String>> {
        let id = self.role_id(role)?;
        let roles = match reach {
            Reach::Direct => vec![id],
            Reach::Effective => self.self_and_ancestors(id),
        };
        let permissions = roles
            .into_iter()
            .filter_map(|role| self.node(role))
            .flat_map(|node| node.permissions.iter())
            .map(|permission| self.permission_names.name(permission));
        Some(owned(page_of(permissions, page)))
    }

    /// The role's own members; `None` when it does not exist.
    pub fn role_members(&self, role: &str) -> Option<Vec<String>> {
        self.role_members_page(role, Reach::Direct, None, PageRequest::ALL)
            .map(|page| page.items)
    }

    /// `None` when the role does not exist. Effective members include the members of every role inheriting it.
    /// With a resource, members by a membership scoped to it or an ancestor count too.
    pub fn role_members_page(
        &self,
        role: &str,
        reach: Reach,
        resource: Option<&str>,
        page: PageRequest<'_>,
    ) -> Option<Listed<String>> {
        let id = self.role_id(role)?;
        let roles = match reach {
            Reach::Direct => vec![id],
            Reach::Effective => self.self_and_descendants(id),
        };
        let now = unix_millis();
        let scoped =
            self.scoped_members_on(&self.path_of(resource), now, |role| roles.contains(&role));
        let users = roles
            .iter()
            .filter_map(|&role| self.node(role).map(|node| (role, node)))
            .flat_map(|(role, node)| self.own_members(role, node, now))
            .chain(scoped)
            .map(|user| self.user_names.name(user));
        Some(owned(page_of(users, page)))
    }

    /// The users with a membership scoped to a resource on `path`, active at `now`, of a role `counts`.
    fn scoped_members_on(
        &self,
        path: &[Id],
        now: i64,
        counts: impl Fn(Id) -> bool + Copy,
    ) -> Vec<Id> {
        let mut users: Vec<Id> = path
            .iter()
            .filter_map(|scope| self.scoped_at.get(scope).map(|list| (*scope, list)))
            .flat_map(|(scope, list)| {
                list.iter()
                    .filter(move |&&(user, role)| {
                        counts(role) && self.scoped_membership(user, role, scope, now).is_some()
                    })
                    .map(|&(user, _)| user)
            })
            .collect();
        users.sort_unstable();
        users.dedup();
        users
    }

    /// The resources of `kind` the user may act on with the permission: all of them when a global membership
    /// grants it, else those at or below a resource a scoped membership grants it at. Paged by id (the cursor is
    /// an id); the items are `type:id`.
    pub fn user_resources_page(
        &self,
        user: &str,
        permission: &str,
        kind: &str,
        page: PageRequest<'_>,
    ) -> Listed<String> {
        let Some(user_id) = self.user_names.get(user) else {
            return Listed {
                items: Vec::new(),
                more: false,
            };
        };
        let now = unix_millis();
        if self.decide(user, permission, None, || now) {
            return self.resources_page(kind, page);
        }
        let holders: Vec<&HolderSet> = self.holder_sets(permission).collect();
        let mut found: Vec<Id> = self
            .scoped
            .get(&user_id)
            .into_iter()
            .flatten()
            .filter(|s| s.until > now && holders.iter().any(|h| h.contains(s.role)))
            .flat_map(|s| self.resource_subtree(s.resource))
            .collect();
        found.sort_unstable();
        found.dedup();
        self.resource_ids_page(kind, found.into_iter(), page)
    }

    /// The page of `ids` of type `kind`, ordered by id.
    fn resource_ids_page(
        &self,
        kind: &str,
        ids: impl Iterator<Item = Id>,
        page: PageRequest<'_>,
    ) -> Listed<String> {
        let of_kind = ids.filter_map(|id| {
            self.resource_names
                .name(id)
                .split_once(':')
                .filter(|(k, _)| *k == kind)
                .map(|(_, id)| id)
        });
        let ids = page_of(of_kind, page);
        Listed {
            items: ids
                .items
                .into_iter()
                .map(|id| format!("{kind}:{id}"))
                .collect(),
            more: ids.more,
        }
    }

    /// The resources of one type, paged by id; the items are `type:id`.
    pub fn resources_page(&self, kind: &str, page: PageRequest<'_>) -> Listed<String> {
        let ids = self
            .resource_types
            .get(kind)
            .into_iter()
            .flat_map(|ids| ids.iter());
        self.resource_ids_page(kind, ids, page)
    }

    /// The roles this role inherits: its own edges, or with [`Reach::Effective`] every role reached through them.
    /// `None` when the role does not exist.
    pub fn inherited_page(
        &self,
        role: &str,
        reach: Reach,
        page: PageRequest<'_>,
    ) -> Option<Listed<RoleInfo>> {
        let id = self.role_id(role)?;
        let node = self.node(id)?;
        let roles: Vec<Id> = match reach {
            Reach::Direct => node.parents.iter().collect(),
            Reach::Effective => self.self_and_ancestors(id).into_iter().skip(1).collect(),
        };
        Some(self.role_infos(roles.into_iter(), page))
    }

    /// The roles granting the permission, directly or through inheritance.
    pub fn which_roles_can(&self, permission: &str) -> Vec<RoleInfo> {
        self.which_roles_can_page(permission, PageRequest::ALL)
            .items
    }

    pub fn which_roles_can_page(
        &self,
        permission: &str,
        page: PageRequest<'_>,
    ) -> Listed<RoleInfo> {
        self.role_infos(self.holder_sets(permission).flat_map(|h| h.iter()), page)
    }

    /// The users holding the permission through any role, each once.
    pub fn which_users_can(&self, permission: &str) -> Vec<String> {
        self.which_users_can_page(permission, None, PageRequest::ALL)
            .items
    }

    /// With a resource, users holding it by a membership scoped to the resource or an ancestor count too.
    pub fn which_users_can_page(
        &self,
        permission: &str,
        resource: Option<&str>,
        page: PageRequest<'_>,
    ) -> Listed<String> {
        let now = unix_millis();
        let holders: Vec<&HolderSet> = self.holder_sets(permission).collect();
        let scoped = self.scoped_members_on(&self.path_of(resource), now, |role| {
            holders.iter().any(|h| h.contains(role))
        });
        let users = holders
            .iter()
            .flat_map(|h| h.iter())
            .filter_map(|role| self.node(role).map(|node| (role, node)))
            .flat_map(|(role, node)| self.own_members(role, node, now))
            .chain(scoped)
            .map(|user| self.user_names.name(user));
        owned(page_of(users, page))
    }
}

/// The wall clock in Unix milliseconds: what an expiry is compared with.
pub(super) fn unix_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
}
