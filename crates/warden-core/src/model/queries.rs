//! The model's answers: decisions, which are look-ups in sorted id sets, and listings, which pick one page of
//! names without sorting the rest.

use super::ids::{Id, IdSet};
use super::listing::{owned, page_of, Listed, PageRequest};
use super::TenantModel;

/// A role as listed: its name and optional description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleInfo {
    pub name: String,
    pub description: Option<String>,
}

/// Why a user holds a permission: the path that decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// The role the user is a member of, and when that membership expires (Unix ms).
    pub member_of: String,
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
        self.decide(user, permission, unix_millis)
    }

    /// [`Self::user_has_permission`] as of `now` (Unix ms).
    pub fn user_has_permission_at(&self, user: &str, permission: &str, now: i64) -> bool {
        self.decide(user, permission, || now)
    }

    fn decide(&self, user: &str, permission: &str, now: impl FnOnce() -> i64) -> bool {
        let Some(user) = self.user_names.get(user) else {
            return false;
        };
        let mut clock = Some(now);
        let mut read_once = None;
        let mut now = || *read_once.get_or_insert_with(|| clock.take().map_or(0, |read| read()));
        self.holder_sets(permission)
            .any(|holders| self.holds_any(user, holders, &mut now))
    }

    /// Whether the user is a member, at `now`, of one of `holders`.
    fn holds_any(&self, user: Id, holders: &IdSet, now: &mut impl FnMut() -> i64) -> bool {
        if self
            .users
            .get(user as usize)
            .is_some_and(|roles| roles.intersects(holders))
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
    ) -> impl Iterator<Item = &'m IdSet> + 'm {
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
    pub fn explain(&self, user: &str, permission: &str, now: i64) -> Option<Explanation> {
        let user_id = self.user_names.get(user)?;
        let mut mine = self.own_roles(user_id, now);
        mine.sort_by(|a, b| self.role_names.name(*a).cmp(self.role_names.name(*b)));
        let mut best: Option<(Vec<Id>, Id)> = None;
        for start in mine {
            let Some((chain, granted)) = self.shortest_grant(start, permission) else {
                continue;
            };
            if best
                .as_ref()
                .is_none_or(|(known, _)| chain.len() < known.len())
            {
                best = Some((chain, granted));
            }
        }
        let (chain, granted) = best?;
        let member_of = chain[0];
        let granted = self.permission_names.name(granted).to_owned();
        Some(Explanation {
            member_of: self.role_names.name(member_of).to_owned(),
            expires_at: self.timed_expiry(user_id, member_of),
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
    pub fn membership_expiry(&self, user: &str, role: &str) -> Option<i64> {
        self.timed_expiry(self.user_names.get(user)?, self.role_id(role)?)
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
    pub fn is_member(&self, user: &str, role: &str, reach: Reach) -> Option<bool> {
        let role = self.role_id(role)?;
        self.node(role)?;
        let Some(user) = self.user_names.get(user) else {
            return Some(false);
        };
        let mine = self.own_roles(user, unix_millis());
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
    fn roles_of_user(&self, user: &str, reach: Reach) -> Vec<Id> {
        let Some(user) = self.user_names.get(user) else {
            return Vec::new();
        };
        let direct = self.own_roles(user, unix_millis());
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
        self.user_roles_page(user, Reach::Direct, PageRequest::ALL)
            .items
    }

    pub fn user_roles_page(
        &self,
        user: &str,
        reach: Reach,
        page: PageRequest<'_>,
    ) -> Listed<RoleInfo> {
        self.role_infos(self.roles_of_user(user, reach).into_iter(), page)
    }

    /// Everything the user may do, through every role they hold and every role those inherit.
    pub fn user_permissions(&self, user: &str) -> Vec<String> {
        self.user_permissions_page(user, PageRequest::ALL).items
    }

    pub fn user_permissions_page(&self, user: &str, page: PageRequest<'_>) -> Listed<String> {
        let roles = self.roles_of_user(user, Reach::Effective);
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
        self.role_members_page(role, Reach::Direct, PageRequest::ALL)
            .map(|page| page.items)
    }

    /// `None` when the role does not exist. Effective members include the members of every role inheriting it.
    pub fn role_members_page(
        &self,
        role: &str,
        reach: Reach,
        page: PageRequest<'_>,
    ) -> Option<Listed<String>> {
        let id = self.role_id(role)?;
        let roles = match reach {
            Reach::Direct => vec![id],
            Reach::Effective => self.self_and_descendants(id),
        };
        let now = unix_millis();
        let users = roles
            .into_iter()
            .filter_map(|role| self.node(role).map(|node| (role, node)))
            .flat_map(|(role, node)| self.own_members(role, node, now))
            .map(|user| self.user_names.name(user));
        Some(owned(page_of(users, page)))
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
        self.which_users_can_page(permission, PageRequest::ALL)
            .items
    }

    pub fn which_users_can_page(&self, permission: &str, page: PageRequest<'_>) -> Listed<String> {
        let now = unix_millis();
        let users = self
            .holder_sets(permission)
            .flat_map(|h| h.iter())
            .filter_map(|role| self.node(role).map(|node| (role, node)))
            .flat_map(|(role, node)| self.own_members(role, node, now))
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
