//! Role-based access control: writes go to the database (with their audit entry), reads come from the tenant's
//! in-memory model.

use crate::domain::{Change, Name, RequestContext, TenantScope};
use crate::store::{PendingChange, RoleWrite};

use super::audit::AuditLog;
use super::group_commit::GroupCommit;
use super::model::{ModelRef, Models, RoleInfo};
use super::ServiceError;

/// What a write did, and the tenant's revision after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub changed: bool,
    pub revision: i64,
}

/// Answers and changes tenants' RBAC models. Cheap to clone.
#[derive(Clone, Debug)]
pub struct RbacService {
    models: Models,
    audit: AuditLog,
    commits: GroupCommit,
}

impl RbacService {
    pub fn new(models: Models, audit: AuditLog) -> Self {
        let commits = GroupCommit::new(models.clone());
        Self {
            models,
            audit,
            commits,
        }
    }

    /// Bounds each tenant's writes waiting to commit (`AUTH_WRITE_QUEUE_PER_TENANT`).
    pub fn with_write_queue_limit(mut self, limit: usize) -> Self {
        self.commits = self.commits.with_queue_limit(limit);
        self
    }

    /// Commits a change (grouped with concurrent writes to the tenant), then applies it to this instance's model.
    /// A change under a missing role is refused (and audited as such) without writing anything else.
    pub async fn write(
        &self,
        scope: &TenantScope,
        context: &RequestContext,
        change: Change,
    ) -> Result<Written, ServiceError> {
        let audit = self.audit.change_draft(scope, &change, context);
        let applied = self
            .commits
            .submit(
                scope,
                PendingChange {
                    change: change.clone(),
                    audit,
                },
            )
            .await?;
        match applied.outcome {
            RoleWrite::RoleMissing => Err(ServiceError::RoleNotFound(change.role().clone())),
            RoleWrite::Unchanged => Ok(Written {
                changed: false,
                revision: applied.revision,
            }),
            RoleWrite::Changed => Ok(Written {
                changed: true,
                revision: applied.revision,
            }),
        }
    }

    /// Brings this instance's model of `tenant` up to `revision` after a write made outside this service (e.g.
    /// a user deletion that removed memberships); a failure only delays it to the next sweep.
    pub async fn observed(&self, tenant: &crate::domain::TenantId, revision: i64) {
        if let Err(err) = self.models.observed(tenant, revision).await {
            tracing::warn!(error = %err, "model catch-up after a user deletion failed");
        }
    }

    /// The tenant's model, no older than `min_revision` when given.
    pub async fn model(
        &self,
        scope: &TenantScope,
        min_revision: Option<i64>,
    ) -> Result<ModelRef, ServiceError> {
        Ok(self.models.get(scope, min_revision).await?)
    }

    pub async fn roles(
        &self,
        scope: &TenantScope,
        min_revision: Option<i64>,
    ) -> Result<Vec<RoleInfo>, ServiceError> {
        Ok(self.model(scope, min_revision).await?.read(|m| m.roles()))
    }

    /// Whether any of the user's roles grants the permission; an unknown user simply has none.
    pub async fn user_has_permission(
        &self,
        scope: &TenantScope,
        context: &RequestContext,
        user: &Name,
        permission: &Name,
        min_revision: Option<i64>,
    ) -> Result<bool, ServiceError> {
        let model = self.model(scope, min_revision).await?;
        let allowed = model.read(|m| m.user_has_permission(user.as_str(), permission.as_str()));
        self.audit.decision(
            &scope.id,
            "check.user_permission",
            || {
                format!(
                    "user={} permission={}",
                    self.audit.user_ref(&scope.id, user),
                    self.audit.permission_ref(scope, permission)
                )
            },
            allowed,
            context,
        );
        Ok(allowed)
    }

    pub async fn role_has_permission(
        &self,
        scope: &TenantScope,
        context: &RequestContext,
        role: &Name,
        permission: &Name,
        min_revision: Option<i64>,
    ) -> Result<bool, ServiceError> {
        let model = self.model(scope, min_revision).await?;
        let allowed = model
            .read(|m| m.role_has_permission(role.as_str(), permission.as_str()))
            .ok_or_else(|| ServiceError::RoleNotFound(role.clone()))?;
        self.audit.decision(
            &scope.id,
            "check.role_permission",
            || {
                format!(
                    "role={role} permission={}",
                    self.audit.permission_ref(scope, permission)
                )
            },
            allowed,
            context,
        );
        Ok(allowed)
    }

    pub async fn is_member(
        &self,
        scope: &TenantScope,
        context: &RequestContext,
        user: &Name,
        role: &Name,
        min_revision: Option<i64>,
    ) -> Result<bool, ServiceError> {
        let model = self.model(scope, min_revision).await?;
        let member = model
            .read(|m| m.is_member(user.as_str(), role.as_str()))
            .ok_or_else(|| ServiceError::RoleNotFound(role.clone()))?;
        self.audit.decision(
            &scope.id,
            "check.membership",
            || format!("role={role} user={}", self.audit.user_ref(&scope.id, user)),
            member,
            context,
        );
        Ok(member)
    }

    pub async fn user_permissions(
        &self,
        scope: &TenantScope,
        user: &Name,
        min_revision: Option<i64>,
    ) -> Result<Vec<String>, ServiceError> {
        let model = self.model(scope, min_revision).await?;
        Ok(model.read(|m| m.user_permissions(user.as_str())))
    }

    pub async fn user_roles(
        &self,
        scope: &TenantScope,
        user: &Name,
        min_revision: Option<i64>,
    ) -> Result<Vec<RoleInfo>, ServiceError> {
        let model = self.model(scope, min_revision).await?;
        Ok(model.read(|m| m.user_roles(user.as_str())))
    }

    pub async fn role_permissions(
        &self,
        scope: &TenantScope,
        role: &Name,
        min_revision: Option<i64>,
    ) -> Result<Vec<String>, ServiceError> {
        let model = self.model(scope, min_revision).await?;
        model
            .read(|m| m.role_permissions(role.as_str()))
            .ok_or_else(|| ServiceError::RoleNotFound(role.clone()))
    }

    pub async fn role_members(
        &self,
        scope: &TenantScope,
        role: &Name,
        min_revision: Option<i64>,
    ) -> Result<Vec<String>, ServiceError> {
        let model = self.model(scope, min_revision).await?;
        model
            .read(|m| m.role_members(role.as_str()))
            .ok_or_else(|| ServiceError::RoleNotFound(role.clone()))
    }

    pub async fn which_roles_can(
        &self,
        scope: &TenantScope,
        permission: &Name,
        min_revision: Option<i64>,
    ) -> Result<Vec<RoleInfo>, ServiceError> {
        let model = self.model(scope, min_revision).await?;
        Ok(model.read(|m| m.which_roles_can(permission.as_str())))
    }

    pub async fn which_users_can(
        &self,
        scope: &TenantScope,
        permission: &Name,
        min_revision: Option<i64>,
    ) -> Result<Vec<String>, ServiceError> {
        let model = self.model(scope, min_revision).await?;
        Ok(model.read(|m| m.which_users_can(permission.as_str())))
    }
}
