//! Role-based access control: roles, grants, memberships and the questions asked of them.

use crate::domain::{Description, Name, TenantId};
use crate::store::{RoleRow, RoleWrite, Store};

use super::ServiceError;

/// Answers and changes a tenant's RBAC model. Every listing comes back sorted and without duplicates.
#[derive(Clone, Debug)]
pub struct RbacService {
    store: Store,
}

fn sorted_roles(mut roles: Vec<RoleRow>) -> Vec<RoleRow> {
    roles.sort_by(|a, b| a.name.cmp(&b.name));
    roles.dedup_by(|a, b| a.name == b.name);
    roles
}

fn sorted(mut names: Vec<String>) -> Vec<String> {
    names.sort();
    names.dedup();
    names
}

/// Maps a role-dependent write to "did it change anything", or the missing role.
fn changed(outcome: RoleWrite, role: &Name) -> Result<bool, ServiceError> {
    match outcome {
        RoleWrite::Changed => Ok(true),
        RoleWrite::Unchanged => Ok(false),
        RoleWrite::RoleMissing => Err(ServiceError::RoleNotFound(role.clone())),
    }
}

impl RbacService {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    pub async fn roles(&self, tenant: &TenantId) -> Result<Vec<RoleRow>, ServiceError> {
        Ok(sorted_roles(self.store.list_roles(tenant).await?))
    }

    /// Creates a role; `false` when it already existed (its description is left as it was).
    pub async fn create_role(
        &self,
        tenant: &TenantId,
        role: &Name,
        description: Option<&Description>,
    ) -> Result<bool, ServiceError> {
        Ok(self.store.create_role(tenant, role, description).await?)
    }

    /// Deletes a role with its grants and memberships; `false` when there was no such role.
    pub async fn delete_role(&self, tenant: &TenantId, role: &Name) -> Result<bool, ServiceError> {
        Ok(self.store.delete_role(tenant, role).await?)
    }

    pub async fn grant(
        &self,
        tenant: &TenantId,
        role: &Name,
        permission: &Name,
    ) -> Result<bool, ServiceError> {
        changed(self.store.add_grant(tenant, role, permission).await?, role)
    }

    pub async fn revoke(
        &self,
        tenant: &TenantId,
        role: &Name,
        permission: &Name,
    ) -> Result<bool, ServiceError> {
        changed(
            self.store.remove_grant(tenant, role, permission).await?,
            role,
        )
    }

    pub async fn role_has_permission(
        &self,
        tenant: &TenantId,
        role: &Name,
        permission: &Name,
    ) -> Result<bool, ServiceError> {
        self.store
            .role_has_permission(tenant, role, permission)
            .await?
            .ok_or_else(|| ServiceError::RoleNotFound(role.clone()))
    }

    pub async fn add_member(
        &self,
        tenant: &TenantId,
        user: &Name,
        role: &Name,
    ) -> Result<bool, ServiceError> {
        changed(self.store.add_membership(tenant, user, role).await?, role)
    }

    pub async fn remove_member(
        &self,
        tenant: &TenantId,
        user: &Name,
        role: &Name,
    ) -> Result<bool, ServiceError> {
        changed(
            self.store.remove_membership(tenant, user, role).await?,
            role,
        )
    }

    pub async fn is_member(
        &self,
        tenant: &TenantId,
        user: &Name,
        role: &Name,
    ) -> Result<bool, ServiceError> {
        self.store
            .is_member(tenant, user, role)
            .await?
            .ok_or_else(|| ServiceError::RoleNotFound(role.clone()))
    }

    /// Whether any of the user's roles grants the permission; an unknown user simply has none.
    pub async fn user_has_permission(
        &self,
        tenant: &TenantId,
        user: &Name,
        permission: &Name,
    ) -> Result<bool, ServiceError> {
        Ok(self
            .store
            .user_has_permission(tenant, user, permission)
            .await?)
    }

    pub async fn user_permissions(
        &self,
        tenant: &TenantId,
        user: &Name,
    ) -> Result<Vec<String>, ServiceError> {
        Ok(sorted(self.store.user_permissions(tenant, user).await?))
    }

    pub async fn user_roles(
        &self,
        tenant: &TenantId,
        user: &Name,
    ) -> Result<Vec<RoleRow>, ServiceError> {
        Ok(sorted_roles(self.store.user_roles(tenant, user).await?))
    }

    pub async fn role_permissions(
        &self,
        tenant: &TenantId,
        role: &Name,
    ) -> Result<Vec<String>, ServiceError> {
        let permissions = self.store.role_permissions(tenant, role).await?;
        permissions
            .map(sorted)
            .ok_or_else(|| ServiceError::RoleNotFound(role.clone()))
    }

    pub async fn role_members(
        &self,
        tenant: &TenantId,
        role: &Name,
    ) -> Result<Vec<String>, ServiceError> {
        let members = self.store.role_members(tenant, role).await?;
        members
            .map(sorted)
            .ok_or_else(|| ServiceError::RoleNotFound(role.clone()))
    }

    pub async fn which_roles_can(
        &self,
        tenant: &TenantId,
        permission: &Name,
    ) -> Result<Vec<RoleRow>, ServiceError> {
        Ok(sorted_roles(
            self.store.roles_with_permission(tenant, permission).await?,
        ))
    }

    pub async fn which_users_can(
        &self,
        tenant: &TenantId,
        permission: &Name,
    ) -> Result<Vec<String>, ServiceError> {
        Ok(sorted(
            self.store.users_with_permission(tenant, permission).await?,
        ))
    }
}
