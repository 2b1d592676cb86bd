//! The model's answers: decisions, which are look-ups in sorted id sets, and listings, which pick one page of
//! names without sorting the rest.

use super::ids::Id;
use super::listing::{owned, page_of, Listed, PageRequest};
use super::TenantModel;

/// A role as listed: its name and optional description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleInfo {
    pub name: String,
    pub description: Option<String>,
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
    /// each name and an intersection of two sorted sets.
    pub fn user_has_permission(&self, user: &str, permission: &str) -> bool {
        let (Some(user), Some(permission)) = (
            self.user_names.get(user),
            self.permission_names.get(permission),
        ) else {
            return false;
        };
        self.users[user as usize].intersects(&self.holders[permission as usize])
    }

    /// `None` when the role does not exist.
    pub fn role_has_permission(&self, role: &str, permission: &str, reach: Reach) -> Option<bool> {
        let id = self.role_id(role)?;
        let node = self.node(id)?;
        let Some(permission) = self.permission_names.get(permission) else {
            return Some(false);
        };
        Some(match reach {
            Reach::Direct => node.permissions.contains(permission),
            Reach::Effective => self.holders[permission as usize].contains(id),
        })
    }

    /// `None` when the role does not exist. Effective membership is membership of the role or of a role that
    /// inherits it.
    pub fn is_member(&self, user: &str, role: &str, reach: Reach) -> Option<bool> {
        let role = self.role_id(role)?;
        let node = self.node(role)?;
        let Some(user) = self.user_names.get(user) else {
            return Some(false);
        };
        Some(match reach {
            Reach::Direct => node.members.contains(user),
            Reach::Effective => self.users[user as usize]
                .iter()
                .any(|mine| self.self_and_ancestors(mine).contains(&role)),
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
        let direct = &self.users[user as usize];
        match reach {
            Reach::Direct => direct.iter().collect(),
            Reach::Effective => {
                let mut all: Vec<Id> = direct
                    .iter()
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
        let users = roles
            .into_iter()
            .filter_map(|role| self.node(role))
            .flat_map(|node| node.members.iter())
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
        let holders = self
            .permission_names
            .get(permission)
            .map(|p| &self.holders[p as usize]);
        self.role_infos(holders.into_iter().flat_map(|h| h.iter()), page)
    }

    /// The users holding the permission through any role, each once.
    pub fn which_users_can(&self, permission: &str) -> Vec<String> {
        self.which_users_can_page(permission, PageRequest::ALL)
            .items
    }

    pub fn which_users_can_page(&self, permission: &str, page: PageRequest<'_>) -> Listed<String> {
        let holders = self
            .permission_names
            .get(permission)
            .map(|p| &self.holders[p as usize]);
        let users = holders
            .into_iter()
            .flat_map(|h| h.iter())
            .filter_map(|role| self.node(role))
            .flat_map(|node| node.members.iter())
            .map(|user| self.user_names.name(user));
        owned(page_of(users, page))
    }
}
