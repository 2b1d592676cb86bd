//! The core RBAC endpoints: roles, permissions, memberships, checks and reverse look-ups.
//!
//! Every method here is one route of the README's API table. To add an endpoint, write a method that builds its
//! path with [`segment`] for each name, picks [`Request::get`], [`Request::post`] or [`Request::delete`] (adding
//! `.not_idempotent()` when repeating the call would do something twice) and returns the `data` type. Reads carry
//! the client's `min_revision` ([`Client::at_least`]): checks through [`Client::read_query`], listings through
//! [`Client::send_listing`], which also follows `next_cursor` to the last page.

use warden_api::{NewMembership, NewRole};

use crate::client::{segment, with_flag, Request};
use crate::{Client, Created, Error, HasPermission, IsMember, Permission, Removed, Role, UserName};

impl Client {
    /// `GET /api/roles`: every role of this tenant, sorted by name.
    pub async fn list_roles(&self) -> Result<Vec<Role>, Error> {
        self.send_listing("/api/roles".into()).await
    }

    /// `POST /api/role/{role}`: creates a role, with an optional description. `created` is `false` when the role
    /// already existed (its description is then left as it was).
    pub async fn create_role(
        &self,
        role: &str,
        description: Option<&str>,
    ) -> Result<Created, Error> {
        let mut request = Request::post(format!("/api/role/{}", segment(role)?));
        if let Some(description) = description {
            request = request.json(crate::accounts::to_json(&NewRole {
                description: Some(description.to_owned()),
            })?);
        }
        self.send(request).await
    }

    /// `DELETE /api/role/{role}`: deletes a role with its grants and memberships. `removed` is `false` when there
    /// was no such role.
    pub async fn delete_role(&self, role: &str) -> Result<Removed, Error> {
        self.send(Request::delete(format!("/api/role/{}", segment(role)?)))
            .await
    }

    /// `GET /api/permission/{role}/{permission}`: does the role grant the permission? An unknown role is
    /// [`Error::Refused`] with status 404.
    pub async fn role_has_permission(
        &self,
        role: &str,
        permission: &str,
    ) -> Result<HasPermission, Error> {
        let path = permission_path(role, permission)?;
        self.send(Request::get(format!("{path}{}", self.read_query()?)))
            .await
    }

    /// `POST /api/permission/{role}/{permission}`: grants a permission to a role (404 when the role does not
    /// exist).
    pub async fn add_permission(&self, role: &str, permission: &str) -> Result<Created, Error> {
        self.send(Request::post(permission_path(role, permission)?))
            .await
    }

    /// `DELETE /api/permission/{role}/{permission}`: revokes a permission from a role.
    pub async fn remove_permission(&self, role: &str, permission: &str) -> Result<Removed, Error> {
        self.send(Request::delete(permission_path(role, permission)?))
            .await
    }

    /// `GET /api/membership/{user}/{role}`: is the user in the role? An unknown role is [`Error::Refused`] with
    /// status 404.
    pub async fn has_membership(&self, user: &str, role: &str) -> Result<IsMember, Error> {
        let path = membership_path(user, role)?;
        self.send(Request::get(format!("{path}{}", self.read_query()?)))
            .await
    }

    /// `POST /api/membership/{user}/{role}`: adds the user to the role for good (404 when the role does not
    /// exist). An existing membership that expires becomes permanent.
    pub async fn add_membership(&self, user: &str, role: &str) -> Result<Created, Error> {
        self.send(Request::post(membership_path(user, role)?)).await
    }

    /// `POST /api/membership/{user}/{role}` with an expiry: the membership grants nothing from `expiry` on (an
    /// RFC 3339 instant or seconds from now), and is then removed by the server. Posting again restates it:
    /// `created` is `false` for an existing membership, whose expiry becomes the one given.
    pub async fn add_expiring_membership(
        &self,
        user: &str,
        role: &str,
        expiry: Expiry,
    ) -> Result<Created, Error> {
        let body = match expiry {
            Expiry::At(at) => NewMembership {
                expires_at: Some(at),
                ttl_seconds: None,
            },
            Expiry::After(seconds) => NewMembership {
                expires_at: None,
                ttl_seconds: Some(i64::try_from(seconds).unwrap_or(i64::MAX)),
            },
        };
        let request =
            Request::post(membership_path(user, role)?).json(crate::accounts::to_json(&body)?);
        self.send(request).await
    }

    /// `DELETE /api/membership/{user}/{role}`: removes the user from the role.
    pub async fn remove_membership(&self, user: &str, role: &str) -> Result<Removed, Error> {
        self.send(Request::delete(membership_path(user, role)?))
            .await
    }

    /// `GET /api/has_permission/{user}/{permission}`: does any of the user's roles grant the permission?
    /// An unknown user simply has no permissions.
    pub async fn user_has_permission(
        &self,
        user: &str,
        permission: &str,
    ) -> Result<HasPermission, Error> {
        let path = format!(
            "/api/has_permission/{}/{}{}",
            segment(user)?,
            segment(permission)?,
            self.read_query()?
        );
        self.send(Request::get(path)).await
    }

    /// `GET /api/has_permission/{user}/{permission}?explain=true`: the decision, and on a positive one
    /// `explanation`: the membership, inheritance chain and grant that decided it.
    pub async fn explain_user_permission(
        &self,
        user: &str,
        permission: &str,
    ) -> Result<HasPermission, Error> {
        let path = format!(
            "/api/has_permission/{}/{}{}",
            segment(user)?,
            segment(permission)?,
            with_flag(self.read_query()?, Some("explain=true"))
        );
        self.send(Request::get(path)).await
    }

    /// `GET /api/user_permissions/{user}`: the user's permissions through all their roles, sorted, each once.
    pub async fn get_user_permissions(&self, user: &str) -> Result<Vec<Permission>, Error> {
        let path = format!("/api/user_permissions/{}", segment(user)?);
        self.send_listing(path).await
    }

    /// `GET /api/user_roles/{user}`: the roles the user is in, sorted.
    pub async fn get_user_roles(&self, user: &str) -> Result<Vec<Role>, Error> {
        let path = format!("/api/user_roles/{}", segment(user)?);
        self.send_listing(path).await
    }

    /// `GET /api/role_permissions/{role}`: the permissions granted to the role (404 when it does not exist).
    pub async fn get_role_permissions(&self, role: &str) -> Result<Vec<Permission>, Error> {
        let path = format!("/api/role_permissions/{}", segment(role)?);
        self.send_listing(path).await
    }

    /// `GET /api/members/{role}`: the role's members (404 when it does not exist).
    pub async fn get_role_members(&self, role: &str) -> Result<Vec<UserName>, Error> {
        let path = format!("/api/members/{}", segment(role)?);
        self.send_listing(path).await
    }

    /// `GET /api/which_roles_can/{permission}`: the roles that grant the permission.
    pub async fn which_roles_can(&self, permission: &str) -> Result<Vec<Role>, Error> {
        let path = format!("/api/which_roles_can/{}", segment(permission)?);
        self.send_listing(path).await
    }

    /// `GET /api/which_users_can/{permission}`: the users who hold the permission through any of their roles.
    pub async fn which_users_can(&self, permission: &str) -> Result<Vec<UserName>, Error> {
        let path = format!("/api/which_users_can/{}", segment(permission)?);
        self.send_listing(path).await
    }
}

/// Role hierarchy, and the reads that follow it.
impl Client {
    /// `POST /api/role/{role}/inherits/{other}`: `role` gains everything `other` grants. 404 when either role does
    /// not exist; 409 when the edge would form a cycle (`reason` `inheritance_cycle`) or a chain of more than 16
    /// edges (`inheritance_too_deep`). `created` is `false` when the edge exists.
    pub async fn add_inheritance(&self, role: &str, other: &str) -> Result<Created, Error> {
        self.send(Request::post(inheritance_path(role, other)?))
            .await
    }

    /// `DELETE /api/role/{role}/inherits/{other}`: removes the edge; `removed` is `false` when there was none.
    pub async fn remove_inheritance(&self, role: &str, other: &str) -> Result<Removed, Error> {
        self.send(Request::delete(inheritance_path(role, other)?))
            .await
    }

    /// `GET /api/role/{role}/inherits`: the roles `role` inherits, sorted: its own edges, or with `transitive`
    /// every role reached through them (404 when the role does not exist).
    pub async fn get_inherited_roles(
        &self,
        role: &str,
        transitive: bool,
    ) -> Result<Vec<Role>, Error> {
        let path = format!("/api/role/{}/inherits", segment(role)?);
        self.send_listing_with(path, transitive.then_some("transitive=true"))
            .await
    }

    /// `GET /api/role_permissions/{role}?effective=true`: what the role grants with everything it inherits.
    pub async fn get_effective_role_permissions(
        &self,
        role: &str,
    ) -> Result<Vec<Permission>, Error> {
        let path = format!("/api/role_permissions/{}", segment(role)?);
        self.send_listing_with(path, Some(EFFECTIVE)).await
    }

    /// `GET /api/members/{role}?effective=true`: the role's members with those of every role inheriting it.
    pub async fn get_effective_role_members(&self, role: &str) -> Result<Vec<UserName>, Error> {
        let path = format!("/api/members/{}", segment(role)?);
        self.send_listing_with(path, Some(EFFECTIVE)).await
    }

    /// `GET /api/user_roles/{user}?effective=true`: the user's roles with every role those inherit.
    pub async fn get_effective_user_roles(&self, user: &str) -> Result<Vec<Role>, Error> {
        let path = format!("/api/user_roles/{}", segment(user)?);
        self.send_listing_with(path, Some(EFFECTIVE)).await
    }

    /// `GET /api/membership/{user}/{role}?effective=true`: is the user in the role or in a role inheriting it?
    pub async fn has_effective_membership(
        &self,
        user: &str,
        role: &str,
    ) -> Result<IsMember, Error> {
        let path = membership_path(user, role)?;
        let query = with_flag(self.read_query()?, Some(EFFECTIVE));
        self.send(Request::get(format!("{path}{query}"))).await
    }

    /// `GET /api/permission/{role}/{permission}?effective=true`: does the role grant the permission itself or
    /// through a role it inherits?
    pub async fn role_has_effective_permission(
        &self,
        role: &str,
        permission: &str,
    ) -> Result<HasPermission, Error> {
        let path = permission_path(role, permission)?;
        let query = with_flag(self.read_query()?, Some(EFFECTIVE));
        self.send(Request::get(format!("{path}{query}"))).await
    }
}

const EFFECTIVE: &str = "effective=true";

/// When an expiring membership ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expiry {
    /// At this RFC 3339 instant (in the future).
    At(String),
    /// This many seconds from now (1 to 3 153 600 000).
    After(u64),
}

fn inheritance_path(role: &str, other: &str) -> Result<String, Error> {
    Ok(format!(
        "/api/role/{}/inherits/{}",
        segment(role)?,
        segment(other)?
    ))
}

fn permission_path(role: &str, permission: &str) -> Result<String, Error> {
    Ok(format!(
        "/api/permission/{}/{}",
        segment(role)?,
        segment(permission)?
    ))
}

pub(crate) fn membership_path(user: &str, role: &str) -> Result<String, Error> {
    Ok(format!(
        "/api/membership/{}/{}",
        segment(user)?,
        segment(role)?
    ))
}
