//! Resources (`type:id` in a tree) and the memberships, checks and look-ups scoped to one.

use warden_api::{NewMembership, NewResource, ResourceQuery, ResourceTypeQuery};

use crate::client::{encode_query, segment, with_flag, Request};
use crate::rbac::{membership_path, Expiry};
use crate::{
    Client, Created, Error, HasPermission, IsMember, Permission, Removed, ResourceView,
    ResourceWritten, Role, UserName,
};

impl Client {
    /// `PUT /api/resources/{type}/{id}`: creates the resource or replaces its parent and properties (a PUT
    /// states it whole). 404 (`reason` `resource_not_found`) when the parent does not exist; 409 when it would
    /// form a cycle (`resource_cycle`) or a path deeper than 32 levels (`resource_too_deep`).
    pub async fn put_resource(
        &self,
        kind: &str,
        id: &str,
        resource: &NewResource,
    ) -> Result<ResourceWritten, Error> {
        let request =
            Request::put(resource_path(kind, id)?).json(crate::accounts::to_json(resource)?);
        self.send(request).await
    }

    /// `GET /api/resources/{type}/{id}`: the resource with its parent and properties (404 when absent).
    pub async fn get_resource(&self, kind: &str, id: &str) -> Result<ResourceView, Error> {
        self.send(Request::get(resource_path(kind, id)?)).await
    }

    /// `DELETE /api/resources/{type}/{id}`: removes a resource without children, with the memberships scoped
    /// to it (409 `resource_has_children` while it has any; 404 when absent).
    pub async fn delete_resource(&self, kind: &str, id: &str) -> Result<Removed, Error> {
        self.send(Request::delete(resource_path(kind, id)?)).await
    }

    /// `GET /api/resources/{type}`: every resource of the type (`type:id`), by id.
    pub async fn list_resources(&self, kind: &str) -> Result<Vec<String>, Error> {
        self.send_listing(format!("/api/resources/{}", segment(kind)?))
            .await
    }

    /// `POST /api/membership/{user}/{role}?resource=`: a membership that applies at `resource` (`type:id`) and
    /// everything below it, for good or until `expiry`. 404 when the role or the resource does not exist.
    pub async fn add_scoped_membership(
        &self,
        user: &str,
        role: &str,
        resource: &str,
        expiry: Option<Expiry>,
    ) -> Result<Created, Error> {
        let path = format!("{}?{}", membership_path(user, role)?, scope(resource)?);
        let body = match expiry {
            None => NewMembership::default(),
            Some(Expiry::At(at)) => NewMembership {
                expires_at: Some(at),
                ttl_seconds: None,
            },
            Some(Expiry::After(seconds)) => NewMembership {
                expires_at: None,
                ttl_seconds: Some(i64::try_from(seconds).unwrap_or(i64::MAX)),
            },
        };
        self.send(Request::post(path).json(crate::accounts::to_json(&body)?))
            .await
    }

    /// `DELETE /api/membership/{user}/{role}?resource=`: removes the membership scoped to `resource`.
    pub async fn remove_scoped_membership(
        &self,
        user: &str,
        role: &str,
        resource: &str,
    ) -> Result<Removed, Error> {
        let path = format!("{}?{}", membership_path(user, role)?, scope(resource)?);
        self.send(Request::delete(path)).await
    }

    /// `GET /api/membership/{user}/{role}?resource=`: is there a membership scoped to exactly `resource`? With
    /// `effective`, does one apply there (global, or scoped to it or an ancestor, through inheritance)?
    pub async fn has_scoped_membership(
        &self,
        user: &str,
        role: &str,
        resource: &str,
        effective: bool,
    ) -> Result<IsMember, Error> {
        let mut query = with_flag(self.read_query()?, Some(&scope(resource)?));
        if effective {
            query = with_flag(query, Some("effective=true"));
        }
        self.send(Request::get(format!(
            "{}{query}",
            membership_path(user, role)?
        )))
        .await
    }

    /// `GET /api/has_permission/{user}/{permission}?resource=`: does a global membership, or one scoped to
    /// `resource` or any of its ancestors, grant the permission?
    pub async fn user_has_permission_on(
        &self,
        user: &str,
        permission: &str,
        resource: &str,
    ) -> Result<HasPermission, Error> {
        self.check_on(user, permission, resource, false).await
    }

    /// [`Client::user_has_permission_on`] with `explain=true`: a positive answer says which membership (and its
    /// scope), inheritance chain and grant decided it.
    pub async fn explain_user_permission_on(
        &self,
        user: &str,
        permission: &str,
        resource: &str,
    ) -> Result<HasPermission, Error> {
        self.check_on(user, permission, resource, true).await
    }

    async fn check_on(
        &self,
        user: &str,
        permission: &str,
        resource: &str,
        explain: bool,
    ) -> Result<HasPermission, Error> {
        let mut query = with_flag(self.read_query()?, Some(&scope(resource)?));
        if explain {
            query = with_flag(query, Some("explain=true"));
        }
        let path = format!(
            "/api/has_permission/{}/{}{query}",
            segment(user)?,
            segment(permission)?
        );
        self.send(Request::get(path)).await
    }

    /// `GET /api/user_permissions/{user}?resource=`: what the user may do at `resource`.
    pub async fn get_user_permissions_on(
        &self,
        user: &str,
        resource: &str,
    ) -> Result<Vec<Permission>, Error> {
        let path = format!("/api/user_permissions/{}", segment(user)?);
        self.send_listing_with(path, Some(&scope(resource)?)).await
    }

    /// `GET /api/user_roles/{user}?resource=`: the roles the user holds at `resource`.
    pub async fn get_user_roles_on(&self, user: &str, resource: &str) -> Result<Vec<Role>, Error> {
        let path = format!("/api/user_roles/{}", segment(user)?);
        self.send_listing_with(path, Some(&scope(resource)?)).await
    }

    /// `GET /api/members/{role}?resource=`: the role's members at `resource`.
    pub async fn get_role_members_on(
        &self,
        role: &str,
        resource: &str,
    ) -> Result<Vec<UserName>, Error> {
        let path = format!("/api/members/{}", segment(role)?);
        self.send_listing_with(path, Some(&scope(resource)?)).await
    }

    /// `GET /api/which_users_can/{permission}?resource=`: the users holding the permission at `resource`.
    pub async fn which_users_can_on(
        &self,
        permission: &str,
        resource: &str,
    ) -> Result<Vec<UserName>, Error> {
        let path = format!("/api/which_users_can/{}", segment(permission)?);
        self.send_listing_with(path, Some(&scope(resource)?)).await
    }

    /// `GET /api/user_resources/{user}/{permission}?type=`: the resources of `kind` (`type:id`) the user may act
    /// on with the permission, by id.
    pub async fn get_user_resources(
        &self,
        user: &str,
        permission: &str,
        kind: &str,
    ) -> Result<Vec<String>, Error> {
        let path = format!(
            "/api/user_resources/{}/{}",
            segment(user)?,
            segment(permission)?
        );
        let kind = encode_query(&ResourceTypeQuery {
            kind: kind.to_owned(),
        })?;
        self.send_listing_with(path, Some(kind.trim_start_matches('?')))
            .await
    }
}

fn resource_path(kind: &str, id: &str) -> Result<String, Error> {
    Ok(format!(
        "/api/resources/{}/{}",
        segment(kind)?,
        segment(id)?
    ))
}

/// `resource=…`, encoded.
fn scope(resource: &str) -> Result<String, Error> {
    let query = encode_query(&ResourceQuery {
        resource: Some(resource.to_owned()),
    })?;
    Ok(query.trim_start_matches('?').to_owned())
}
